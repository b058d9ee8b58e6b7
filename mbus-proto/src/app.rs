//! The EN 13757-3 application layer of a slave's reply: the CI field selects a [`Telegram`] kind
//! (variable data with long, short or no header; fixed data; application error; alarm) and
//! [`VariableData::records`] iterates over its data records lazily.
//!
//! Decoding borrows the frame's bytes and does not allocate.
//!
//! ```
//! use mbus_proto::app::{decode_frame, Telegram, Header};
//! use mbus_proto::record::Record;
//!
//! let frame = [
//!     0x68, 0x15, 0x15, 0x68, 0x08, 0x05, 0x72, // start, L, C, A, CI
//!     0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x04, 0x2A, 0x00, 0x00, 0x00, // header
//!     0x04, 0x06, 0x10, 0x27, 0x00, 0x00, // energy 10000 kWh
//!     0x00, 0x16, // checksum (filled in below), stop
//! ];
//! # let mut frame = frame;
//! # frame[25] = mbus_proto::frame::checksum(&frame[4..25]);
//! let telegram = decode_frame(&frame)?;
//! let Telegram::Variable(data) = telegram else { unreachable!() };
//! let Header::Long(h) = data.header else { unreachable!() };
//! assert_eq!(h.ident(), Some(12345678));
//! assert_eq!(&h.manufacturer_letters(), b"KAM");
//! for record in data.records() {
//!     let Record::Data(r) = record? else { continue };
//!     assert_eq!(r.decimal().map(|d| d.to_string()).as_deref(), Some("10000000"));
//! }
//! # Ok::<(), mbus_proto::app::DecodeError>(())
//! ```

use crate::address::{manufacturer_letters, AddressError, Manufacturer, SecondaryAddress};
use crate::frame::{Frame, FrameError};
use crate::record::{ByteOrder, Record, RecordError, Records};
use crate::value::{int_le, Bcd};

/// CI 0x70: application error reported by the slave.
pub const CI_ERROR: u8 = 0x70;
/// CI 0x71: alarm status.
pub const CI_ALARM: u8 = 0x71;
/// CI 0x72: variable data, long header, LSB first.
pub const CI_VARIABLE: u8 = 0x72;
/// CI 0x73: fixed data structure, LSB first.
pub const CI_FIXED: u8 = 0x73;
/// CI 0x76: variable data, long header, MSB first.
pub const CI_VARIABLE_MSB: u8 = 0x76;
/// CI 0x77: fixed data structure, MSB first.
pub const CI_FIXED_MSB: u8 = 0x77;
/// CI 0x78: variable data without header.
pub const CI_VARIABLE_NO_HEADER: u8 = 0x78;
/// CI 0x7A: variable data, short header.
pub const CI_VARIABLE_SHORT: u8 = 0x7A;

/// Length of the long header (CI 0x72 / 0x76).
pub const LONG_HEADER_LEN: usize = 12;
/// Length of the short header (CI 0x7A).
pub const SHORT_HEADER_LEN: usize = 4;
/// Length of the fixed data structure (CI 0x73 / 0x77).
pub const FIXED_DATA_LEN: usize = 16;

/// Offset of the first user-data byte (after CI) in a long frame.
const FRAME_DATA_OFFSET: usize = 7;

/// Why a reply's application layer cannot be decoded. Offsets count from the frame start when
/// decoding a frame, else from the first byte after the CI field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not a valid frame.
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    /// The frame carries no application data (`E5` or a short frame).
    #[error("byte 0: the frame carries no application data")]
    NoApplicationData,
    /// The frame was sent by a master (control field 0x{control:02X}), not by a slave.
    #[error("byte 4: control field 0x{control:02X} is a master-to-slave frame, not a reply")]
    FromMaster {
        /// The control field.
        control: u8,
    },
    /// The CI field is not one of the slave reply codes this decoder knows.
    #[error("byte {offset}: unknown or unsupported CI field 0x{ci:02X}")]
    UnknownCi {
        /// Offset of the CI field.
        offset: usize,
        /// The CI field.
        ci: u8,
    },
    /// The CI field needs user data but the frame has none.
    #[error("byte {offset}: CI 0x{ci:02X} needs user data, the frame has none")]
    NoData {
        /// Offset where the data should start.
        offset: usize,
        /// The CI field.
        ci: u8,
    },
    /// The data is shorter than the header the CI field announces.
    #[error("byte {offset}: header of {needed} bytes expected, only {available} present")]
    HeaderTooShort {
        /// Offset of the header.
        offset: usize,
        /// Header length.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// A fixed data structure is not exactly 16 bytes long.
    #[error("byte {offset}: fixed data structure must be 16 bytes, found {len}")]
    FixedDataLength {
        /// Offset of the data.
        offset: usize,
        /// Bytes present.
        len: usize,
    },
    /// A data record is malformed.
    #[error("bad record: {0}")]
    Record(#[from] RecordError),
}

impl DecodeError {
    /// The byte offset the error refers to.
    pub fn offset(&self) -> usize {
        match *self {
            DecodeError::Frame(e) => e.offset(),
            DecodeError::NoApplicationData => 0,
            DecodeError::FromMaster { .. } => 4,
            DecodeError::UnknownCi { offset, .. }
            | DecodeError::NoData { offset, .. }
            | DecodeError::HeaderTooShort { offset, .. }
            | DecodeError::FixedDataLength { offset, .. } => offset,
            DecodeError::Record(e) => e.offset(),
        }
    }
}

/// The 12-byte long header (CI 0x72 / 0x76): the slave's secondary address plus access number,
/// status and signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LongHeader {
    /// Identification number, 8 BCD digits, wire order (LSB first).
    pub ident_bcd: [u8; 4],
    /// Packed manufacturer code.
    pub manufacturer: u16,
    /// Version (generation) of the meter.
    pub version: u8,
    /// Medium code.
    pub medium: u8,
    /// Access number (counts replies).
    pub access_number: u8,
    /// Status byte (application errors, power low, permanent/temporary error).
    pub status: u8,
    /// Signature (encryption info), 0 when unused.
    pub signature: u16,
}

impl LongHeader {
    fn parse(b: &[u8; LONG_HEADER_LEN], order: ByteOrder) -> LongHeader {
        let mut ident_bcd = [b[0], b[1], b[2], b[3]];
        let mut manufacturer = [b[4], b[5]];
        let mut signature = [b[10], b[11]];
        if order == ByteOrder::MsbFirst {
            ident_bcd.reverse();
            manufacturer.reverse();
            signature.reverse();
        }
        LongHeader {
            ident_bcd,
            manufacturer: u16::from_le_bytes(manufacturer),
            version: b[6],
            medium: b[7],
            access_number: b[8],
            status: b[9],
            signature: u16::from_le_bytes(signature),
        }
    }

    /// The identification number read as hex nibbles (what tools print; equals the decimal
    /// number when all nibbles are BCD digits).
    pub fn ident_raw(&self) -> u32 {
        u32::from_le_bytes(self.ident_bcd)
    }

    /// The identification number, or `None` if a nibble is not a decimal digit.
    pub fn ident(&self) -> Option<u32> {
        ident_from_bcd(self.ident_bcd)
    }

    /// The three manufacturer letters.
    pub fn manufacturer_letters(&self) -> [u8; 3] {
        manufacturer_letters(self.manufacturer)
    }

    /// The manufacturer, shown as its letters.
    pub fn manufacturer_id(&self) -> Manufacturer {
        Manufacturer(self.manufacturer)
    }

    /// The secondary address (fails if the ident is not BCD).
    pub fn secondary_address(&self) -> Result<SecondaryAddress, AddressError> {
        let m = self.manufacturer.to_le_bytes();
        SecondaryAddress::from_bytes([
            self.ident_bcd[0],
            self.ident_bcd[1],
            self.ident_bcd[2],
            self.ident_bcd[3],
            m[0],
            m[1],
            self.version,
            self.medium,
        ])
    }
}

/// The 4-byte short header (CI 0x7A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShortHeader {
    /// Access number.
    pub access_number: u8,
    /// Status byte.
    pub status: u8,
    /// Signature.
    pub signature: u16,
}

/// The header in front of the data records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    /// CI 0x72 / 0x76.
    Long(LongHeader),
    /// CI 0x7A.
    Short(ShortHeader),
    /// CI 0x78.
    None,
}

impl Header {
    /// Access number, if the header has one.
    pub fn access_number(&self) -> Option<u8> {
        match self {
            Header::Long(h) => Some(h.access_number),
            Header::Short(h) => Some(h.access_number),
            Header::None => None,
        }
    }

    /// Status byte, if the header has one.
    pub fn status(&self) -> Option<u8> {
        match self {
            Header::Long(h) => Some(h.status),
            Header::Short(h) => Some(h.status),
            Header::None => None,
        }
    }
}

/// A variable data structure: header plus data records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariableData<'a> {
    /// The CI field (0x72, 0x76, 0x78 or 0x7A).
    pub ci: u8,
    /// The header.
    pub header: Header,
    /// The record bytes after the header.
    pub record_bytes: &'a [u8],
    /// Offset of `record_bytes[0]` (for error messages).
    pub record_offset: usize,
    /// Byte order of multi-byte values.
    pub byte_order: ByteOrder,
}

impl<'a> VariableData<'a> {
    /// Lazy iterator over the data records.
    #[inline]
    pub fn records(&self) -> Records<'a> {
        Records::with_order(self.record_bytes, self.record_offset, self.byte_order)
    }

    /// True if the records end with DIF 0x1F (the meter has more for the next request).
    pub fn more_records_follow(&self) -> Result<bool, RecordError> {
        for r in self.records() {
            if let Record::Manufacturer(m) = r? {
                return Ok(m.more_records_follow());
            }
        }
        Ok(false)
    }
}

/// A variable data structure whose records are encrypted: the header is readable, the records
/// are ciphertext and are not parsed (decrypting needs the meter's key).
///
/// Recognised from the configuration field (the header's `signature`), EN 13757-7 Table 18/19:
/// bits 12–8 are the security mode. Modes that name an encryption (1 manufacturer specific,
/// 2–3 DES, 5 and 7 AES-CBC, 8 AES-CTR, 9 AES-GCM, 10 AES-CCM, 13 TLS) make a telegram
/// encrypted, except that
/// - a telegram without bytes after the header has nothing encrypted,
/// - modes 5 and 7 with zero encrypted blocks (bits 7–4) are plain, and
/// - data that starts with the decryption check bytes `2F 2F` is already plain (a gateway that
///   decrypted it and left the configuration field as it was).
///
/// Reserved and specific-usage modes (4, 6, 11, 12, 14–31) are taken as plain: older meters fill this field with
/// other things (the libmbus corpus has `27 B6` and `FF FF`), and their records decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptedData<'a> {
    /// The CI field (0x72, 0x76 or 0x7A).
    pub ci: u8,
    /// The header, with the configuration field in its `signature`.
    pub header: Header,
    /// The security mode (0–31).
    pub mode: u8,
    /// The encrypted bytes after the header.
    pub payload: &'a [u8],
    /// Offset of `payload[0]`.
    pub payload_offset: usize,
}

/// The security mode of a configuration field: bits 12–8 (EN 13757-7 Table 18).
pub const fn security_mode(configuration: u16) -> u8 {
    ((configuration >> 8) & 0x1F) as u8
}

/// The name of a security mode (EN 13757-7 Table 19).
pub const fn security_mode_name(mode: u8) -> &'static str {
    match mode {
        0 => "no encryption",
        1 => "manufacturer specific",
        2 => "DES-CBC, IV zero",
        3 => "DES-CBC, IV non-zero",
        4 | 13 | 15 => "specific usage",
        5 => "AES-128-CBC, IV non-zero",
        7 => "AES-128-CBC, IV zero, dynamic key",
        8 => "AES-128-CTR with CMAC",
        9 => "AES-128-GCM",
        10 => "AES-128-CCM",
        _ => "reserved",
    }
}

/// The security mode if `payload` behind a header with this configuration field is encrypted.
fn encryption(configuration: u16, payload: &[u8]) -> Option<u8> {
    let mode = security_mode(configuration);
    let encrypts = match mode {
        5 | 7 => (configuration >> 4) & 0x0F != 0,
        1..=3 | 8..=10 | 13 => true,
        _ => false,
    };
    (encrypts && !payload.is_empty() && !payload.starts_with(&[0x2F, 0x2F])).then_some(mode)
}

/// The fixed data structure (CI 0x73 / 0x77): identification, two counters with their medium and
/// unit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedData {
    /// The CI field (0x73 or 0x77).
    pub ci: u8,
    /// Identification number, 8 BCD digits, LSB first.
    pub ident_bcd: [u8; 4],
    /// Access (transmission) counter.
    pub access_number: u8,
    /// Status: bit 7 = counters are binary (else BCD), bit 6 = stored (else actual) values.
    pub status: u8,
    /// Medium/unit byte of each counter: bits 0–5 unit code, bits 6–7 two bits of the medium.
    pub medium_unit: [u8; 2],
    /// The two counters as sent (LSB first).
    pub counters: [[u8; 4]; 2],
}

impl FixedData {
    fn parse(ci: u8, b: &[u8; FIXED_DATA_LEN]) -> FixedData {
        let mut f = FixedData {
            ci,
            ident_bcd: [b[0], b[1], b[2], b[3]],
            access_number: b[4],
            status: b[5],
            medium_unit: [b[6], b[7]],
            counters: [[b[8], b[9], b[10], b[11]], [b[12], b[13], b[14], b[15]]],
        };
        if ci == CI_FIXED_MSB {
            f.ident_bcd.reverse();
            f.counters[0].reverse();
            f.counters[1].reverse();
        }
        f
    }

    /// The identification number read as hex nibbles.
    pub fn ident_raw(&self) -> u32 {
        u32::from_le_bytes(self.ident_bcd)
    }

    /// The identification number, or `None` if not BCD.
    pub fn ident(&self) -> Option<u32> {
        ident_from_bcd(self.ident_bcd)
    }

    /// The 4-bit medium code formed from the top two bits of both medium/unit bytes.
    pub fn medium(&self) -> u8 {
        ((self.medium_unit[0] & 0xC0) >> 6) | ((self.medium_unit[1] & 0xC0) >> 4)
    }

    /// True if the counters are binary integers (status bit 7), else BCD.
    pub fn counters_binary(&self) -> bool {
        self.status & 0x80 != 0
    }

    /// True if the counters are stored values (status bit 6), else actual values.
    pub fn stored_values(&self) -> bool {
        self.status & 0x40 != 0
    }

    /// Counter `i` (0 or 1) as an integer; `None` if it is BCD with a non-digit nibble.
    pub fn counter(&self, i: usize) -> Option<i64> {
        let c = self.counters.get(i)?;
        if self.counters_binary() {
            Some(int_le(c))
        } else {
            Bcd::from_le(c).value()
        }
    }

    /// The 6-bit unit code of counter `i` (0 or 1).
    pub fn unit_code(&self, i: usize) -> u8 {
        self.medium_unit.get(i).map_or(0, |b| b & 0x3F)
    }
}

/// An application error reported with CI 0x70.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApplicationError {
    /// The error code (0 when the frame carries none).
    pub code: u8,
}

impl ApplicationError {
    /// Description of the code (EN 13757-3 general application errors).
    pub fn description(&self) -> Option<&'static str> {
        Some(match self.code {
            0 => "Unspecified error",
            1 => "Unimplemented CI-Field",
            2 => "Buffer too long, truncated",
            3 => "Too many records",
            4 => "Premature end of record",
            5 => "More than 10 DIFE´s",
            6 => "More than 10 VIFE´s",
            7 => "Reserved",
            8 => "Application busy",
            9 => "Too many readouts",
            _ => return None,
        })
    }
}

/// The application layer of a slave's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Telegram<'a> {
    /// Variable data structure (CI 0x72, 0x76, 0x78, 0x7A).
    Variable(VariableData<'a>),
    /// Variable data structure with encrypted records (see [`EncryptedData`]).
    Encrypted(EncryptedData<'a>),
    /// Fixed data structure (CI 0x73, 0x77).
    Fixed(FixedData),
    /// Application error (CI 0x70).
    Error(ApplicationError),
    /// Alarm status (CI 0x71).
    Alarm(u8),
}

impl<'a> Telegram<'a> {
    /// Decodes the user data `data` (the bytes after the CI field) of a reply with CI `ci`.
    /// Offsets in errors count from `base` (use 0 for the data itself).
    ///
    /// Records are not checked here; iterate [`VariableData::records`] or call
    /// [`Telegram::validate`].
    pub fn parse(ci: u8, data: &'a [u8], base: usize) -> Result<Telegram<'a>, DecodeError> {
        match ci {
            CI_ERROR => Ok(Telegram::Error(ApplicationError {
                code: data.first().copied().unwrap_or(0),
            })),
            CI_ALARM => Ok(Telegram::Alarm(data.first().copied().unwrap_or(0))),
            CI_VARIABLE | CI_VARIABLE_MSB | CI_VARIABLE_SHORT | CI_VARIABLE_NO_HEADER => {
                let order = if ci == CI_VARIABLE_MSB {
                    ByteOrder::MsbFirst
                } else {
                    ByteOrder::LsbFirst
                };
                if data.is_empty() && ci != CI_VARIABLE_NO_HEADER {
                    return Err(DecodeError::NoData { offset: base, ci });
                }
                let need = match ci {
                    CI_VARIABLE_SHORT => SHORT_HEADER_LEN,
                    CI_VARIABLE_NO_HEADER => 0,
                    _ => LONG_HEADER_LEN,
                };
                let Some((head, rest)) = data.split_at_checked(need) else {
                    return Err(DecodeError::HeaderTooShort {
                        offset: base,
                        needed: need,
                        available: data.len(),
                    });
                };
                let header = match (ci, head) {
                    (CI_VARIABLE_SHORT, &[access_number, status, s0, s1]) => {
                        Header::Short(ShortHeader {
                            access_number,
                            status,
                            signature: u16::from_le_bytes([s0, s1]),
                        })
                    }
                    (CI_VARIABLE_NO_HEADER, _) => Header::None,
                    // `head` has exactly the length asked for above.
                    (_, head) => match <&[u8; LONG_HEADER_LEN]>::try_from(head) {
                        Ok(h) => Header::Long(LongHeader::parse(h, order)),
                        Err(_) => {
                            return Err(DecodeError::HeaderTooShort {
                                offset: base,
                                needed: need,
                                available: data.len(),
                            })
                        }
                    },
                };
                let configuration = match header {
                    Header::Long(h) => h.signature,
                    Header::Short(h) => h.signature,
                    Header::None => 0,
                };
                if let Some(mode) = encryption(configuration, rest) {
                    return Ok(Telegram::Encrypted(EncryptedData {
                        ci,
                        header,
                        mode,
                        payload: rest,
                        payload_offset: base + need,
                    }));
                }
                Ok(Telegram::Variable(VariableData {
                    ci,
                    header,
                    record_bytes: rest,
                    record_offset: base + need,
                    byte_order: order,
                }))
            }
            CI_FIXED | CI_FIXED_MSB => {
                if data.is_empty() {
                    return Err(DecodeError::NoData { offset: base, ci });
                }
                let Ok(b) = <&[u8; FIXED_DATA_LEN]>::try_from(data) else {
                    return Err(DecodeError::FixedDataLength {
                        offset: base,
                        len: data.len(),
                    });
                };
                Ok(Telegram::Fixed(FixedData::parse(ci, b)))
            }
            _ => Err(DecodeError::UnknownCi {
                offset: base.saturating_sub(1),
                ci,
            }),
        }
    }

    /// Decodes the application layer of a parsed frame (a slave's control or long frame).
    pub fn from_frame(frame: &Frame<'a>) -> Result<Telegram<'a>, DecodeError> {
        let (control, ci, data): (u8, u8, &'a [u8]) = match *frame {
            Frame::Ack | Frame::Short { .. } => return Err(DecodeError::NoApplicationData),
            Frame::Control { control, ci, .. } => (control.0, ci, &[]),
            Frame::Long {
                control, ci, data, ..
            } => (control.0, ci, data),
        };
        if control & 0x40 != 0 {
            return Err(DecodeError::FromMaster { control });
        }
        Telegram::parse(ci, data, FRAME_DATA_OFFSET)
    }

    /// The header of a variable data structure, plain or encrypted.
    pub fn header(&self) -> Option<&Header> {
        match self {
            Telegram::Variable(v) => Some(&v.header),
            Telegram::Encrypted(e) => Some(&e.header),
            Telegram::Fixed(_) | Telegram::Error(_) | Telegram::Alarm(_) => None,
        }
    }

    /// Checks every record, returning the first record error.
    pub fn validate(&self) -> Result<(), RecordError> {
        if let Telegram::Variable(v) = self {
            for r in v.records() {
                r?;
            }
        }
        Ok(())
    }
}

/// The 8-digit identification number from its 4 BCD bytes (least significant first), or `None`
/// if a nibble is not a decimal digit.
fn ident_from_bcd(bcd: [u8; 4]) -> Option<u32> {
    Bcd::from_le(&bcd)
        .value()
        .and_then(|v| u32::try_from(v).ok())
}

/// Parses `bytes` as exactly one frame and decodes its application layer, checking every record:
/// the full typed decode in one call.
///
/// This walks the records once to validate them; a caller that iterates anyway can skip that
/// pass with [`Frame::parse_exact`] + [`Telegram::from_frame`] and handle the `Err` the record
/// iterator yields.
pub fn decode_frame(bytes: &[u8]) -> Result<Telegram<'_>, DecodeError> {
    let frame = Frame::parse_exact(bytes)?;
    let telegram = Telegram::from_frame(&frame)?;
    telegram.validate()?;
    Ok(telegram)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let data = [
            0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x04, 0x2A, 0x10, 0x34, 0x12,
        ];
        let Telegram::Variable(v) = Telegram::parse(0x72, &data, 0).unwrap() else {
            panic!()
        };
        let Header::Long(h) = v.header else { panic!() };
        assert_eq!(h.ident_raw(), 0x12345678);
        assert_eq!(h.ident(), Some(12345678));
        assert_eq!(h.signature, 0x1234);
        assert_eq!(
            h.secondary_address().unwrap().to_string(),
            "123456782D2C0104"
        );
        let Telegram::Variable(v) = Telegram::parse(0x7A, &[1, 2, 3, 4], 0).unwrap() else {
            panic!()
        };
        assert_eq!(v.header.access_number(), Some(1));
        assert_eq!(
            Telegram::parse(0x72, &data[..5], 7),
            Err(DecodeError::HeaderTooShort {
                offset: 7,
                needed: 12,
                available: 5
            })
        );
        assert!(matches!(
            Telegram::parse(0x51, &data, 7),
            Err(DecodeError::UnknownCi { ci: 0x51, .. })
        ));
    }

    #[test]
    fn errors_and_fixed() {
        assert_eq!(
            Telegram::parse(0x70, &[8], 0),
            Ok(Telegram::Error(ApplicationError { code: 8 }))
        );
        let fixed = [
            0x93, 0x92, 0x91, 0x90, 0x10, 0x00, 0x05, 0x69, 0x31, 0x65, 0, 0, 0x69, 0, 0, 0,
        ];
        let Telegram::Fixed(f) = Telegram::parse(0x73, &fixed, 0).unwrap() else {
            panic!()
        };
        assert_eq!(f.ident(), Some(90919293));
        assert_eq!(f.medium(), 4);
        assert_eq!(f.counter(0), Some(6531));
        assert_eq!(f.unit_code(1), 0x29);
        assert!(matches!(
            Telegram::parse(0x73, &fixed[..15], 0),
            Err(DecodeError::FixedDataLength { len: 15, .. })
        ));
    }

    /// A long header with configuration field `configuration`, then `records`.
    fn with_configuration(configuration: u16, records: &[u8]) -> Vec<u8> {
        let mut data = vec![0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x04, 0x2A, 0x00];
        data.extend_from_slice(&configuration.to_le_bytes());
        data.extend_from_slice(records);
        data
    }

    #[test]
    fn encrypted_payloads_are_not_parsed_as_records() {
        let cipher = [0x93, 0x1A, 0x07, 0xC4, 0x55, 0xE0, 0x01, 0x7B];
        for (configuration, mode) in [(0x0510, 5), (0x0720, 7), (0x0800, 8), (0x0D00, 13)] {
            let data = with_configuration(configuration, &cipher);
            let Telegram::Encrypted(e) = Telegram::parse(0x72, &data, 7).unwrap() else {
                panic!("{configuration:04X} is encrypted")
            };
            assert_eq!(
                (e.mode, e.payload, e.payload_offset),
                (mode, &cipher[..], 19)
            );
            assert!(matches!(e.header, Header::Long(h) if h.ident_raw() == 0x12345678));
        }
        // The short header carries the configuration field too.
        let short = [0x2A, 0x00, 0x10, 0x05, 0x93, 0x1A];
        assert!(matches!(
            Telegram::parse(0x7A, &short, 0).unwrap(),
            Telegram::Encrypted(EncryptedData { mode: 5, .. })
        ));
        assert_eq!(security_mode_name(5), "AES-128-CBC, IV non-zero");
    }

    #[test]
    fn plain_configurations_decode_their_records() {
        let records = [0x04, 0x13, 0x39, 0x30, 0x00, 0x00];
        // No encryption; mode 5 with no encrypted blocks; reserved modes (old signatures);
        // mode 5 data that a gateway already decrypted (starts with 2F 2F).
        for (configuration, payload) in [
            (0x0000, &records[..]),
            (0x0500, &records[..]),
            (0xB627, &records[..]),
            (0xFFFF, &records[..]),
            (0x0600, &records[..]),
            (
                0x0520,
                &[0x2F, 0x2F, 0x04, 0x13, 0x39, 0x30, 0x00, 0x00][..],
            ),
        ] {
            let data = with_configuration(configuration, payload);
            let telegram = Telegram::parse(0x72, &data, 0).unwrap();
            let Telegram::Variable(v) = telegram else {
                panic!("{configuration:04X} is plain")
            };
            assert!(v.records().all(|r| r.is_ok()));
            assert!(telegram.header().is_some());
        }
    }
}
