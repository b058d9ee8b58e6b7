//! BACnet tags and primitive values (ASHRAE 135 clause 20.2): the tag octet with its
//! extended tag number and length forms, application-tagged values, context-tagged values
//! and opening/closing tags.
//!
//! ```
//! use logger_core::bacnet::tag::{Reader, Value};
//!
//! let mut out = Vec::new();
//! Value::Real(21.5).encode(&mut out);
//! Value::CharacterString("Heat 1".into()).encode_context(3, &mut out);
//! assert_eq!(&out[..5], &[0x44, 0x41, 0xAC, 0x00, 0x00]);
//! let mut r = Reader::new(&out);
//! assert_eq!(r.value()?, Value::Real(21.5));
//! assert_eq!(r.context_string(3)?, "Heat 1");
//! assert!(r.is_empty());
//! # Ok::<(), logger_core::bacnet::DecodeError>(())
//! ```

use super::DecodeError;

/// Object type `analog-input`.
pub const OBJECT_ANALOG_INPUT: u16 = 0;
/// Object type `device`.
pub const OBJECT_DEVICE: u16 = 8;
/// The wildcard device instance (a device answers to it as to its own instance).
pub const WILDCARD_INSTANCE: u32 = 4_194_303;

/// A BACnet object identifier: 10-bit object type and 22-bit instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// Object type (0 = analog-input, 8 = device, …).
    pub kind: u16,
    /// Instance number, 0…4 194 303.
    pub instance: u32,
}

impl ObjectId {
    /// The identifier of `kind` and `instance` (both cut to their field widths).
    pub const fn new(kind: u16, instance: u32) -> ObjectId {
        ObjectId {
            kind: kind & 0x3FF,
            instance: instance & 0x3F_FFFF,
        }
    }

    /// The identifier's 32-bit wire form.
    pub const fn to_u32(self) -> u32 {
        ((self.kind as u32) << 22) | self.instance
    }

    /// The identifier of a 32-bit wire form.
    pub const fn from_u32(raw: u32) -> ObjectId {
        ObjectId {
            kind: (raw >> 22) as u16,
            instance: raw & 0x3F_FFFF,
        }
    }
}

/// A tag as read from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// Application tag: `number` is the datatype; `len` is the content length, or the
    /// value itself for a boolean.
    Application {
        /// Datatype number (0 null … 12 object identifier).
        number: u8,
        /// Content length in bytes (the value for booleans).
        len: u32,
    },
    /// Context-specific tag with a content of `len` bytes.
    Context {
        /// Tag number.
        number: u8,
        /// Content length in bytes.
        len: u32,
    },
    /// Opening tag of a constructed context value.
    Opening(u8),
    /// Closing tag of a constructed context value.
    Closing(u8),
}

/// A primitive value with its application tag.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null (tag 0).
    Null,
    /// Boolean (tag 1).
    Boolean(bool),
    /// Unsigned integer (tag 2).
    Unsigned(u64),
    /// Signed integer (tag 3).
    Signed(i64),
    /// IEEE-754 single (tag 4).
    Real(f32),
    /// IEEE-754 double (tag 5).
    Double(f64),
    /// Octet string (tag 6).
    OctetString(Vec<u8>),
    /// Character string in UTF-8 (tag 7, character set 0).
    CharacterString(String),
    /// Bit string (tag 8), bit 0 first.
    BitString(Vec<bool>),
    /// Enumerated (tag 9).
    Enumerated(u32),
    /// Date (tag 10): year − 1900, month, day, weekday (255 = unspecified).
    Date([u8; 4]),
    /// Time (tag 11): hour, minute, second, hundredths (255 = unspecified).
    Time([u8; 4]),
    /// Object identifier (tag 12).
    ObjectId(ObjectId),
}

/// Writes a tag octet (and its extensions) for a tag `number` of the given class and
/// content length.
pub fn write_tag(out: &mut Vec<u8>, number: u8, context: bool, len: u32) {
    let class = if context { 0x08 } else { 0x00 };
    let (first, extended_number) = if number < 15 {
        ((number << 4) | class, None)
    } else {
        (0xF0 | class, Some(number))
    };
    let lvt = if len < 5 { len as u8 } else { 5 };
    out.push(first | lvt);
    if let Some(n) = extended_number {
        out.push(n);
    }
    if len >= 5 {
        if len < 254 {
            out.push(len as u8);
        } else if let Ok(short) = u16::try_from(len) {
            out.push(254);
            out.extend_from_slice(&short.to_be_bytes());
        } else {
            out.push(255);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

/// Writes an opening tag.
pub fn write_opening(out: &mut Vec<u8>, number: u8) {
    write_marker(out, number, 6);
}

/// Writes a closing tag.
pub fn write_closing(out: &mut Vec<u8>, number: u8) {
    write_marker(out, number, 7);
}

fn write_marker(out: &mut Vec<u8>, number: u8, lvt: u8) {
    if number < 15 {
        out.push((number << 4) | 0x08 | lvt);
    } else {
        out.push(0xF8 | lvt);
        out.push(number);
    }
}

fn unsigned_bytes(v: u64) -> ([u8; 8], usize) {
    let bytes = v.to_be_bytes();
    let len = (8 - (v.leading_zeros() / 8) as usize).max(1);
    (bytes, 8 - len)
}

fn signed_bytes(v: i64) -> ([u8; 8], usize) {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    // Drop leading bytes that only repeat the sign of the next one.
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xFF && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    (bytes, start)
}

impl Value {
    /// The application tag number of this value.
    pub fn tag_number(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Boolean(_) => 1,
            Value::Unsigned(_) => 2,
            Value::Signed(_) => 3,
            Value::Real(_) => 4,
            Value::Double(_) => 5,
            Value::OctetString(_) => 6,
            Value::CharacterString(_) => 7,
            Value::BitString(_) => 8,
            Value::Enumerated(_) => 9,
            Value::Date(_) => 10,
            Value::Time(_) => 11,
            Value::ObjectId(_) => 12,
        }
    }

    /// The content octets (without tag); for an application boolean the value lives in
    /// the tag, see [`Value::encode`].
    fn content(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => {}
            Value::Boolean(b) => out.push(u8::from(*b)),
            Value::Unsigned(v) => {
                let (bytes, start) = unsigned_bytes(*v);
                out.extend_from_slice(&bytes[start..]);
            }
            Value::Signed(v) => {
                let (bytes, start) = signed_bytes(*v);
                out.extend_from_slice(&bytes[start..]);
            }
            Value::Real(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Double(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::OctetString(b) => out.extend_from_slice(b),
            Value::CharacterString(s) => {
                out.push(0); // character set: ISO 10646 (UTF-8)
                out.extend_from_slice(s.as_bytes());
            }
            Value::BitString(bits) => {
                let unused = (8 - bits.len() % 8) % 8;
                out.push(unused as u8);
                for chunk in bits.chunks(8) {
                    let mut byte = 0u8;
                    for (i, bit) in chunk.iter().enumerate() {
                        if *bit {
                            byte |= 0x80 >> i;
                        }
                    }
                    out.push(byte);
                }
            }
            Value::Enumerated(v) => {
                let (bytes, start) = unsigned_bytes(u64::from(*v));
                out.extend_from_slice(&bytes[start..]);
            }
            Value::Date(d) | Value::Time(d) => out.extend_from_slice(d),
            Value::ObjectId(id) => out.extend_from_slice(&id.to_u32().to_be_bytes()),
        }
    }

    /// Appends the value with its application tag.
    pub fn encode(&self, out: &mut Vec<u8>) {
        if let Value::Boolean(b) = self {
            write_tag(out, 1, false, u32::from(*b));
            return;
        }
        let mut content = Vec::new();
        self.content(&mut content);
        write_tag(out, self.tag_number(), false, content.len() as u32);
        out.extend_from_slice(&content);
    }

    /// Appends the value with context tag `number`.
    pub fn encode_context(&self, number: u8, out: &mut Vec<u8>) {
        let mut content = Vec::new();
        self.content(&mut content);
        write_tag(out, number, true, content.len() as u32);
        out.extend_from_slice(&content);
    }

    /// Decodes the content of an application-tagged value of datatype `number`.
    fn from_content(number: u8, len: u32, content: &[u8], at: usize) -> Result<Value, DecodeError> {
        let invalid = |what| DecodeError::Invalid { offset: at, what };
        Ok(match number {
            0 if content.is_empty() => Value::Null,
            0 => return Err(invalid("null with content")),
            1 => match len {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => return Err(invalid("boolean value other than 0 or 1")),
            },
            2 => Value::Unsigned(unsigned(content, 8, at)?),
            3 => Value::Signed(signed(content, at)?),
            4 => Value::Real(f32::from_be_bytes(
                content
                    .try_into()
                    .map_err(|_| invalid("real not 4 bytes"))?,
            )),
            5 => Value::Double(f64::from_be_bytes(
                content
                    .try_into()
                    .map_err(|_| invalid("double not 8 bytes"))?,
            )),
            6 => Value::OctetString(content.to_vec()),
            7 => Value::CharacterString(character_string(content, at)?),
            8 => Value::BitString(bit_string(content, at)?),
            9 => Value::Enumerated(unsigned(content, 4, at)? as u32),
            10 => Value::Date(
                content
                    .try_into()
                    .map_err(|_| invalid("date not 4 bytes"))?,
            ),
            11 => Value::Time(
                content
                    .try_into()
                    .map_err(|_| invalid("time not 4 bytes"))?,
            ),
            12 => Value::ObjectId(ObjectId::from_u32(u32::from_be_bytes(
                content
                    .try_into()
                    .map_err(|_| invalid("object identifier not 4 bytes"))?,
            ))),
            _ => return Err(invalid("reserved application tag")),
        })
    }
}

fn unsigned(content: &[u8], max: usize, at: usize) -> Result<u64, DecodeError> {
    if content.is_empty() || content.len() > max {
        return Err(DecodeError::Invalid {
            offset: at,
            what: "unsigned of bad length",
        });
    }
    Ok(content.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
}

fn signed(content: &[u8], at: usize) -> Result<i64, DecodeError> {
    if content.is_empty() || content.len() > 8 {
        return Err(DecodeError::Invalid {
            offset: at,
            what: "signed of bad length",
        });
    }
    let fill = if content[0] & 0x80 != 0 { 0xFF } else { 0x00 };
    let mut bytes = [fill; 8];
    bytes[8 - content.len()..].copy_from_slice(content);
    Ok(i64::from_be_bytes(bytes))
}

fn character_string(content: &[u8], at: usize) -> Result<String, DecodeError> {
    match content.split_first() {
        Some((0, text)) => String::from_utf8(text.to_vec()).map_err(|_| DecodeError::Invalid {
            offset: at,
            what: "character string not UTF-8",
        }),
        Some(_) => Err(DecodeError::Invalid {
            offset: at,
            what: "character set other than UTF-8",
        }),
        None => Err(DecodeError::Invalid {
            offset: at,
            what: "character string without character set",
        }),
    }
}

fn bit_string(content: &[u8], at: usize) -> Result<Vec<bool>, DecodeError> {
    let Some((&unused, bytes)) = content.split_first() else {
        return Err(DecodeError::Invalid {
            offset: at,
            what: "bit string without unused-bits octet",
        });
    };
    if unused > 7 || (bytes.is_empty() && unused != 0) {
        return Err(DecodeError::Invalid {
            offset: at,
            what: "bit string with bad unused-bits count",
        });
    }
    let total = bytes.len() * 8 - usize::from(unused);
    Ok((0..total)
        .map(|i| bytes[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect())
}

/// Reads tags and values from a byte slice; every read checks bounds and reports the offset
/// of what is wrong.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The offset of the next byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.data.len())
            .ok_or(DecodeError::Truncated {
                offset: self.pos,
                what,
            })?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// Reads the next tag header.
    pub fn tag(&mut self) -> Result<Tag, DecodeError> {
        let first = self.byte("tag")?;
        let mut number = first >> 4;
        if number == 15 {
            number = self.byte("extended tag number")?;
        }
        let context = first & 0x08 != 0;
        let lvt = first & 0x07;
        let len = match lvt {
            6 if context => return Ok(Tag::Opening(number)),
            7 if context => return Ok(Tag::Closing(number)),
            5 => match self.byte("extended length")? {
                254 => {
                    let b = self.take(2, "16-bit length")?;
                    u32::from(u16::from_be_bytes([b[0], b[1]]))
                }
                255 => {
                    let b = self.take(4, "32-bit length")?;
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
                }
                short => u32::from(short),
            },
            6 | 7 => {
                return Err(DecodeError::Invalid {
                    offset: self.pos - 1,
                    what: "opening/closing mark on an application tag",
                })
            }
            small => u32::from(small),
        };
        Ok(if context {
            Tag::Context { number, len }
        } else {
            Tag::Application { number, len }
        })
    }

    /// The next tag without consuming it (`None` at the end).
    pub fn peek(&self) -> Result<Option<Tag>, DecodeError> {
        if self.is_empty() {
            return Ok(None);
        }
        self.clone().tag().map(Some)
    }

    /// Whether the next tag is context tag `number` (primitive).
    pub fn peek_context(&self, number: u8) -> bool {
        matches!(self.peek(), Ok(Some(Tag::Context { number: n, .. })) if n == number)
    }

    /// Whether the next tag is opening tag `number`.
    pub fn peek_opening(&self, number: u8) -> bool {
        matches!(self.peek(), Ok(Some(Tag::Opening(n))) if n == number)
    }

    /// Whether the next tag is closing tag `number`.
    pub fn peek_closing(&self, number: u8) -> bool {
        matches!(self.peek(), Ok(Some(Tag::Closing(n))) if n == number)
    }

    /// Reads an application-tagged value.
    pub fn value(&mut self) -> Result<Value, DecodeError> {
        let at = self.pos;
        match self.tag()? {
            Tag::Application { number: 1, len } => Value::from_content(1, len, &[], at),
            Tag::Application { number, len } => {
                let content = self.take(len as usize, "value content")?;
                Value::from_content(number, len, content, at)
            }
            _ => Err(DecodeError::Invalid {
                offset: at,
                what: "expected an application-tagged value",
            }),
        }
    }

    /// Reads the content of context tag `number`.
    pub fn context(&mut self, number: u8) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        match self.tag()? {
            Tag::Context { number: n, len } if n == number => {
                self.take(len as usize, "context content")
            }
            _ => Err(DecodeError::Invalid {
                offset: at,
                what: "expected another context tag",
            }),
        }
    }

    /// Reads an unsigned integer with context tag `number`.
    pub fn context_unsigned(&mut self, number: u8) -> Result<u64, DecodeError> {
        let at = self.pos;
        unsigned(self.context(number)?, 8, at)
    }

    /// Reads an enumerated value with context tag `number`.
    pub fn context_enumerated(&mut self, number: u8) -> Result<u32, DecodeError> {
        let at = self.pos;
        Ok(unsigned(self.context(number)?, 4, at)? as u32)
    }

    /// Reads a boolean with context tag `number`.
    pub fn context_boolean(&mut self, number: u8) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.context(number)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(DecodeError::Invalid {
                offset: at,
                what: "boolean content other than 0 or 1",
            }),
        }
    }

    /// Reads an object identifier with context tag `number`.
    pub fn context_object_id(&mut self, number: u8) -> Result<ObjectId, DecodeError> {
        let at = self.pos;
        let content: [u8; 4] =
            self.context(number)?
                .try_into()
                .map_err(|_| DecodeError::Invalid {
                    offset: at,
                    what: "object identifier not 4 bytes",
                })?;
        Ok(ObjectId::from_u32(u32::from_be_bytes(content)))
    }

    /// Reads a character string with context tag `number`.
    pub fn context_string(&mut self, number: u8) -> Result<String, DecodeError> {
        let at = self.pos;
        character_string(self.context(number)?, at)
    }

    /// Reads context tag `number` if it is next.
    pub fn optional_unsigned(&mut self, number: u8) -> Result<Option<u64>, DecodeError> {
        if self.peek_context(number) {
            self.context_unsigned(number).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads opening tag `number`.
    pub fn opening(&mut self, number: u8) -> Result<(), DecodeError> {
        let at = self.pos;
        match self.tag()? {
            Tag::Opening(n) if n == number => Ok(()),
            _ => Err(DecodeError::Invalid {
                offset: at,
                what: "expected an opening tag",
            }),
        }
    }

    /// Reads closing tag `number`.
    pub fn closing(&mut self, number: u8) -> Result<(), DecodeError> {
        let at = self.pos;
        match self.tag()? {
            Tag::Closing(n) if n == number => Ok(()),
            _ => Err(DecodeError::Invalid {
                offset: at,
                what: "expected a closing tag",
            }),
        }
    }

    /// Skips everything up to and including closing tag `number` (nested constructs
    /// included); the opening tag must have been read.
    pub fn skip_to_closing(&mut self, number: u8) -> Result<(), DecodeError> {
        let mut depth = 0usize;
        loop {
            match self.tag()? {
                Tag::Closing(n) if depth == 0 && n == number => return Ok(()),
                Tag::Closing(_) => {
                    depth = depth.checked_sub(1).ok_or(DecodeError::Invalid {
                        offset: self.pos - 1,
                        what: "unbalanced closing tag",
                    })?
                }
                Tag::Opening(_) => depth += 1,
                Tag::Application { number: 1, .. } => {}
                Tag::Application { len, .. } | Tag::Context { len, .. } => {
                    self.take(len as usize, "skipped content")?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(value: &Value) -> Value {
        let mut out = Vec::new();
        value.encode(&mut out);
        let mut r = Reader::new(&out);
        let back = r.value().unwrap();
        assert!(r.is_empty(), "{value:?} left bytes: {out:02X?}");
        back
    }

    #[test]
    fn known_encodings_from_the_standard_examples() {
        let cases: Vec<(Value, Vec<u8>)> = vec![
            (Value::Null, vec![0x00]),
            (Value::Boolean(false), vec![0x10]),
            (Value::Boolean(true), vec![0x11]),
            (Value::Unsigned(72), vec![0x21, 0x48]),
            (Value::Unsigned(0), vec![0x21, 0x00]),
            (Value::Unsigned(256), vec![0x22, 0x01, 0x00]),
            (Value::Signed(72), vec![0x31, 0x48]),
            (Value::Signed(-1), vec![0x31, 0xFF]),
            (Value::Signed(-129), vec![0x32, 0xFF, 0x7F]),
            (Value::Signed(128), vec![0x32, 0x00, 0x80]),
            (Value::Real(72.0), vec![0x44, 0x42, 0x90, 0x00, 0x00]),
            (
                Value::Double(72.0),
                vec![0x55, 0x08, 0x40, 0x52, 0, 0, 0, 0, 0, 0],
            ),
            (
                Value::OctetString(vec![0x12, 0x34, 0xFF]),
                vec![0x63, 0x12, 0x34, 0xFF],
            ),
            (
                Value::CharacterString("This is a BACnet string!".into()),
                [&[0x75, 0x19, 0x00][..], b"This is a BACnet string!"].concat(),
            ),
            (
                Value::BitString(vec![true, false, true, false, true]),
                vec![0x82, 0x03, 0xA8],
            ),
            (Value::Enumerated(0), vec![0x91, 0x00]),
            (
                Value::Date([91, 1, 24, 4]),
                vec![0xA4, 0x5B, 0x01, 0x18, 0x04],
            ),
            (
                Value::Time([17, 35, 45, 17]),
                vec![0xB4, 0x11, 0x23, 0x2D, 0x11],
            ),
            (
                Value::ObjectId(ObjectId::new(OBJECT_ANALOG_INPUT, 15)),
                vec![0xC4, 0x00, 0x00, 0x00, 0x0F],
            ),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            value.encode(&mut out);
            assert_eq!(out, bytes, "{value:?}");
            assert_eq!(roundtrip(&value), value);
        }
    }

    #[test]
    fn extended_lengths_and_tag_numbers() {
        for len in [4u32, 5, 253, 254, 65_535, 65_536] {
            let mut out = Vec::new();
            write_tag(&mut out, 3, true, len);
            out.resize(out.len() + len as usize, 0xAA);
            let mut r = Reader::new(&out);
            assert_eq!(r.tag().unwrap(), Tag::Context { number: 3, len });
        }
        let mut out = Vec::new();
        write_tag(&mut out, 200, true, 1);
        out.push(7);
        write_opening(&mut out, 33);
        write_closing(&mut out, 33);
        let mut r = Reader::new(&out);
        assert_eq!(r.context_unsigned(200).unwrap(), 7);
        r.opening(33).unwrap();
        r.closing(33).unwrap();
        assert!(r.is_empty());
    }

    #[test]
    fn context_values_and_skipping() {
        let mut out = Vec::new();
        Value::Unsigned(9).encode_context(0, &mut out);
        Value::Boolean(true).encode_context(1, &mut out);
        Value::ObjectId(ObjectId::new(OBJECT_DEVICE, 77)).encode_context(2, &mut out);
        write_opening(&mut out, 3);
        write_opening(&mut out, 0);
        Value::Real(1.0).encode(&mut out);
        Value::Boolean(true).encode(&mut out);
        write_closing(&mut out, 0);
        write_closing(&mut out, 3);
        Value::Enumerated(85).encode_context(4, &mut out);
        let mut r = Reader::new(&out);
        assert_eq!(r.optional_unsigned(0).unwrap(), Some(9));
        assert_eq!(r.optional_unsigned(0).unwrap(), None);
        assert!(r.context_boolean(1).unwrap());
        assert_eq!(
            r.context_object_id(2).unwrap(),
            ObjectId::new(OBJECT_DEVICE, 77)
        );
        r.opening(3).unwrap();
        r.skip_to_closing(3).unwrap();
        assert_eq!(r.context_enumerated(4).unwrap(), 85);
        assert!(r.is_empty());
    }

    #[test]
    fn malformed_input_is_an_error_with_its_offset() {
        let cases: &[(&[u8], DecodeError)] = &[
            (
                &[],
                DecodeError::Truncated {
                    offset: 0,
                    what: "tag",
                },
            ),
            (
                &[0x22, 0x01],
                DecodeError::Truncated {
                    offset: 1,
                    what: "value content",
                },
            ),
            (
                &[0x25],
                DecodeError::Truncated {
                    offset: 1,
                    what: "extended length",
                },
            ),
            (
                &[0x12],
                DecodeError::Invalid {
                    offset: 0,
                    what: "boolean value other than 0 or 1",
                },
            ),
            (
                &[0x20],
                DecodeError::Invalid {
                    offset: 0,
                    what: "unsigned of bad length",
                },
            ),
            (
                &[0x73, 0x01, 0x41, 0x42],
                DecodeError::Invalid {
                    offset: 0,
                    what: "character set other than UTF-8",
                },
            ),
            (
                &[0x82, 0x08, 0x00],
                DecodeError::Invalid {
                    offset: 0,
                    what: "bit string with bad unused-bits count",
                },
            ),
            (
                &[0xD0],
                DecodeError::Invalid {
                    offset: 0,
                    what: "reserved application tag",
                },
            ),
            (
                &[0x06],
                DecodeError::Invalid {
                    offset: 0,
                    what: "opening/closing mark on an application tag",
                },
            ),
            (
                &[0x09, 0x01],
                DecodeError::Invalid {
                    offset: 0,
                    what: "expected an application-tagged value",
                },
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                Reader::new(bytes).value().unwrap_err(),
                *expected,
                "{bytes:02X?}"
            );
        }
        let mut r = Reader::new(&[0x0F]);
        assert!(r.skip_to_closing(1).is_err());
    }

    fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Boolean),
            any::<u64>().prop_map(Value::Unsigned),
            any::<i64>().prop_map(Value::Signed),
            any::<f32>()
                .prop_filter("NaN is never equal", |v| !v.is_nan())
                .prop_map(Value::Real),
            any::<f64>()
                .prop_filter("NaN is never equal", |v| !v.is_nan())
                .prop_map(Value::Double),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(Value::OctetString),
            ".{0,80}".prop_map(Value::CharacterString),
            proptest::collection::vec(any::<bool>(), 0..70).prop_map(Value::BitString),
            any::<u32>().prop_map(Value::Enumerated),
            any::<[u8; 4]>().prop_map(Value::Date),
            any::<[u8; 4]>().prop_map(Value::Time),
            (0u16..1024, 0u32..=WILDCARD_INSTANCE)
                .prop_map(|(k, i)| Value::ObjectId(ObjectId::new(k, i))),
        ]
    }

    proptest! {
        #[test]
        fn every_value_round_trips(value in any_value(), number in 0u8..=254) {
            prop_assert_eq!(roundtrip(&value), value.clone());
            // The same content under a context tag reads back byte for byte.
            let mut out = Vec::new();
            value.encode_context(number, &mut out);
            let mut expected = Vec::new();
            value.content(&mut expected);
            let mut r = Reader::new(&out);
            prop_assert_eq!(r.context(number).unwrap(), &expected[..]);
            prop_assert!(r.is_empty());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut r = Reader::new(&bytes);
            while !r.is_empty() {
                if r.value().is_err() {
                    break;
                }
            }
            let _ = Reader::new(&bytes).skip_to_closing(0);
        }
    }
}
