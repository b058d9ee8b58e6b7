//! Link-layer frames of EN 13757-2 (the FT1.2 format): single character, short, control and long.
//!
//! Parsing works on a borrowed byte slice and never copies: a long frame's user data is a
//! sub-slice of the input. The parser is streaming-friendly: it tells a complete frame (and how
//! many bytes it consumed) apart from a frame that needs more bytes and from bytes that can never
//! become a valid frame.
//!
//! ```
//! use mbus_proto::frame::{Frame, Parsed};
//!
//! let bytes = [0x10, 0x5B, 0x01, 0x5C, 0x16, 0xE5];
//! let Parsed::Complete { frame, consumed } = Frame::parse(&bytes)? else { unreachable!() };
//! assert_eq!(consumed, 5);
//! assert!(matches!(frame, Frame::Short { address: 1, .. }));
//! assert_eq!(Frame::parse(&bytes[..3])?, Parsed::Incomplete { needed: 2 });
//! # Ok::<(), mbus_proto::frame::FrameError>(())
//! ```

use core::fmt;
use core::ops::Deref;

/// The single-character acknowledgement `E5`.
pub const ACK: u8 = 0xE5;
/// Start byte of a short frame.
pub const START_SHORT: u8 = 0x10;
/// Start byte (both copies) of a control or long frame.
pub const START_LONG: u8 = 0x68;
/// Stop byte of short, control and long frames.
pub const STOP: u8 = 0x16;
/// Length of the longest frame on the wire: `68 L L 68` + 255 bytes + checksum + stop.
pub const MAX_FRAME_LEN: usize = 4 + 255 + 2;
/// The most user-data bytes a long frame can carry (L = 255 minus C, A and CI).
pub const MAX_DATA_LEN: usize = 255 - 3;

/// The C (control) field of a frame.
///
/// Master-to-slave frames have the PRM bit (0x40) set; FCB (0x20) and FCV (0x10) drive the frame
/// count mechanism. In slave-to-master frames the same bits are ACD (0x20) and DFC (0x10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Control(pub u8);

impl Control {
    /// SND_NKE: link reset (also deselects a selected slave when sent to address 253).
    pub const SND_NKE: Control = Control(0x40);
    /// SND_UD without FCB: send user data to a slave.
    pub const SND_UD: Control = Control(0x53);
    /// REQ_UD1 without FCB: request class 1 (alarm) data.
    pub const REQ_UD1: Control = Control(0x5A);
    /// REQ_UD2 without FCB: request class 2 (meter) data.
    pub const REQ_UD2: Control = Control(0x5B);
    /// RSP_UD: the slave's data response.
    pub const RSP_UD: Control = Control(0x08);

    const PRM: u8 = 0x40;
    const FCB: u8 = 0x20;
    const FCV: u8 = 0x10;

    /// True for frames sent by the master (PRM bit set).
    pub fn is_from_master(self) -> bool {
        self.0 & Self::PRM != 0
    }

    /// The frame count bit of a master frame (ACD in a slave frame).
    pub fn fcb(self) -> bool {
        self.0 & Self::FCB != 0
    }

    /// The frame count valid bit of a master frame (DFC in a slave frame).
    pub fn fcv(self) -> bool {
        self.0 & Self::FCV != 0
    }

    /// The function code (low nibble), e.g. 0x0B for REQ_UD2 or 0x08 for RSP_UD.
    pub fn function(self) -> u8 {
        self.0 & 0x0F
    }

    /// This control field with FCB set or cleared.
    pub fn with_fcb(self, fcb: bool) -> Control {
        if fcb {
            Control(self.0 | Self::FCB)
        } else {
            Control(self.0 & !Self::FCB)
        }
    }
}

/// One link-layer frame, borrowing its user data from the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frame<'a> {
    /// The single character `E5`.
    Ack,
    /// `10 C A CS 16`.
    Short {
        /// C field.
        control: Control,
        /// Primary address (A field).
        address: u8,
    },
    /// `68 03 03 68 C A CI CS 16`: a long frame without user data.
    Control {
        /// C field.
        control: Control,
        /// Primary address (A field).
        address: u8,
        /// Control information field.
        ci: u8,
    },
    /// `68 L L 68 C A CI data… CS 16` with at least one byte of user data.
    Long {
        /// C field.
        control: Control,
        /// Primary address (A field).
        address: u8,
        /// Control information field.
        ci: u8,
        /// User data after the CI field (1…252 bytes).
        data: &'a [u8],
    },
}

/// The outcome of parsing the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A whole frame was found at the start of the buffer.
    Complete {
        /// The frame.
        frame: Frame<'a>,
        /// How many bytes of the buffer it occupied.
        consumed: usize,
    },
    /// The buffer holds a valid beginning of a frame; at least `needed` more bytes are required.
    Incomplete {
        /// The minimum number of bytes still missing.
        needed: usize,
    },
}

/// Why bytes are not a valid frame. Every variant names the byte offset it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The first byte is not `E5`, `10` or `68`.
    #[error("byte 0: 0x{0:02X} is not a frame start (expected E5, 10 or 68)")]
    BadStart(u8),
    /// The two length bytes of a long frame differ.
    #[error("byte 2: second length byte 0x{second:02X} differs from the first 0x{first:02X}")]
    LengthMismatch {
        /// First L byte.
        first: u8,
        /// Second L byte.
        second: u8,
    },
    /// The length field is below 3 (a long frame always holds C, A and CI).
    #[error("byte 1: length {0} is below the minimum of 3 (C, A and CI)")]
    LengthTooShort(u8),
    /// The fourth byte of a long frame is not the second `68`.
    #[error("byte 3: expected the second start byte 68, found 0x{0:02X}")]
    BadSecondStart(u8),
    /// The checksum byte does not match the sum of the checked bytes.
    #[error("byte {offset}: checksum 0x{found:02X} does not match the computed 0x{computed:02X}")]
    Checksum {
        /// Offset of the checksum byte.
        offset: usize,
        /// Checksum found in the frame.
        found: u8,
        /// Checksum computed over C, A, CI and data.
        computed: u8,
    },
    /// The last byte is not the stop byte `16`.
    #[error("byte {offset}: expected the stop byte 16, found 0x{found:02X}")]
    BadStop {
        /// Offset of the stop byte.
        offset: usize,
        /// Byte found there.
        found: u8,
    },
    /// The input ended inside a frame before its length was known (only from
    /// [`Frame::parse_exact`] and [`Frames`]).
    #[error("byte {offset}: input ends inside the frame, {needed} more byte(s) needed")]
    Truncated {
        /// Offset where the input ended.
        offset: usize,
        /// Minimum number of bytes missing.
        needed: usize,
    },
    /// The L field of a control or long frame promises more bytes than there are (only from
    /// [`Frame::parse_exact`] and [`Frames`]). Reported instead of the checksum or stop byte
    /// error the missing bytes would otherwise cause.
    #[error("byte {got}: truncated: L=0x{length:02X} needs {needed} bytes, got {got}")]
    TruncatedLong {
        /// The L field.
        length: u8,
        /// Bytes the whole frame occupies (L + 6).
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// Bytes follow a complete frame (only from [`Frame::parse_exact`]).
    #[error("byte {offset}: {count} trailing byte(s) after the end of the frame")]
    TrailingBytes {
        /// Offset of the first extra byte.
        offset: usize,
        /// How many extra bytes there are.
        count: usize,
    },
}

impl FrameError {
    /// The byte offset (from the frame start) the error refers to.
    pub fn offset(&self) -> usize {
        match *self {
            FrameError::BadStart(_) => 0,
            FrameError::LengthTooShort(_) => 1,
            FrameError::LengthMismatch { .. } => 2,
            FrameError::BadSecondStart(_) => 3,
            FrameError::Checksum { offset, .. }
            | FrameError::BadStop { offset, .. }
            | FrameError::Truncated { offset, .. }
            | FrameError::TrailingBytes { offset, .. } => offset,
            FrameError::TruncatedLong { got, .. } => got,
        }
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A long frame's user data is longer than [`MAX_DATA_LEN`].
    #[error("user data of {len} bytes exceeds the maximum of 252")]
    DataTooLong {
        /// Length of the data that was given.
        len: usize,
    },
    /// The output buffer is too small.
    #[error("output buffer holds {available} bytes, the frame needs {needed}")]
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
}

/// The error for `buf`, a valid beginning of a frame that lacks `needed` more bytes: a long or
/// control frame whose L field is present names it.
fn truncated(buf: &[u8], needed: usize) -> FrameError {
    match *buf {
        [START_LONG, length, ..] => FrameError::TruncatedLong {
            length,
            needed: usize::from(length) + 6,
            got: buf.len(),
        },
        _ => FrameError::Truncated {
            offset: buf.len(),
            needed,
        },
    }
}

/// Why part of a byte stream is not a frame, from [`Frames`]. Decoding goes on after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The bytes at `offset` are not a valid frame; the next frame start found is `resume`.
    #[error("frame {number} at byte {offset}: {error}")]
    BadFrame {
        /// 1-based position of this frame in the stream (good and bad frames counted).
        number: usize,
        /// Offset of the frame's first byte in the stream.
        offset: usize,
        /// Offset where the next frame starts (the stream length if none follows).
        resume: usize,
        /// What is wrong; its offsets count from the frame's first byte.
        error: FrameError,
    },
    /// Bytes after the last good frame that start no frame at all.
    #[error("byte {offset}: {count} trailing byte(s) after frame {after} do not start a frame (0x{first:02X})")]
    TrailingBytes {
        /// Offset of the first trailing byte in the stream.
        offset: usize,
        /// How many trailing bytes there are.
        count: usize,
        /// 1-based number of the frame they follow.
        after: usize,
        /// The first trailing byte.
        first: u8,
    },
}

impl StreamError {
    /// Offset in the stream where the bad bytes start.
    pub fn offset(&self) -> usize {
        match *self {
            StreamError::BadFrame { offset, .. } | StreamError::TrailingBytes { offset, .. } => {
                offset
            }
        }
    }

    /// The 1-based number in the stream of the frame the bad bytes stand for: the bad frame
    /// itself, or for trailing bytes the frame they would have been after the last good one.
    pub fn number(&self) -> usize {
        match *self {
            StreamError::BadFrame { number, .. } => number,
            StreamError::TrailingBytes { after, .. } => after + 1,
        }
    }
}

/// A frame found by [`Frames`] with its place in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located<'a> {
    /// 1-based position of the frame in the stream (good and bad frames counted).
    pub number: usize,
    /// Offset of the frame's first byte in the stream.
    pub offset: usize,
    /// The frame.
    pub frame: Frame<'a>,
}

/// Iterator over the frames of a byte stream: a multi-telegram readout, a capture, frames back
/// to back. A bad frame yields a [`StreamError`] and iteration resynchronises at the next
/// position where a complete frame parses, so one bad frame does not hide the rest.
///
/// A corrupted frame whose L field fits is skipped as a whole; when a complete frame starts
/// before the L field says the bad one ends, the bad one is reported as truncated.
///
/// ```
/// use mbus_proto::frame::{Frame, FrameError, Frames, StreamError};
///
/// // ACK, a long frame cut after 8 bytes, then a short frame.
/// let bytes = [0xE5, 0x68, 0x04, 0x04, 0x68, 0x08, 0x01, 0x70, 0x10, 0x5B, 0x01, 0x5C, 0x16];
/// let items: Vec<_> = Frames::new(&bytes).collect();
/// assert!(matches!(items[0], Ok(ref f) if f.frame == Frame::Ack));
/// assert_eq!(
///     items[1],
///     Err(StreamError::BadFrame {
///         number: 2,
///         offset: 1,
///         resume: 8,
///         error: FrameError::TruncatedLong { length: 4, needed: 10, got: 7 },
///     })
/// );
/// assert!(matches!(items[2], Ok(ref f) if f.number == 3 && f.offset == 8));
/// ```
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    buf: &'a [u8],
    pos: usize,
    number: usize,
}

impl<'a> Frames<'a> {
    /// Iterates over the frames in `buf`.
    pub fn new(buf: &'a [u8]) -> Frames<'a> {
        Frames {
            buf,
            pos: 0,
            number: 0,
        }
    }

    /// True if a complete frame starts at `at`. A lone `E5` counts only at the end of the stream
    /// or before another complete frame, so an `E5` inside garbage does not end the search.
    fn frame_starts_at(&self, at: usize) -> bool {
        let rest = self.buf.get(at..).unwrap_or_default();
        match Frame::parse(rest) {
            Ok(Parsed::Complete {
                frame: Frame::Ack, ..
            }) => match rest.get(1..) {
                Some([]) | None => true,
                Some(after) => matches!(Frame::parse(after), Ok(Parsed::Complete { .. })),
            },
            Ok(Parsed::Complete { .. }) => true,
            _ => false,
        }
    }

    /// Where to go on after a bad frame at `self.pos`: right after it if its L field fits and a
    /// frame (or the end) follows there, else the next position where a complete frame starts.
    fn resume_after_bad(&self, header_len: Option<usize>) -> usize {
        if let Some(total) = header_len {
            let end = self.pos + total;
            if end == self.buf.len() || (end < self.buf.len() && self.frame_starts_at(end)) {
                return end;
            }
        }
        (self.pos + 1..self.buf.len())
            .find(|&at| self.frame_starts_at(at))
            .unwrap_or(self.buf.len())
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Located<'a>, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..).filter(|r| !r.is_empty())?;
        self.number += 1;
        let offset = self.pos;
        let error = match Frame::parse(rest) {
            Ok(Parsed::Complete { frame, consumed }) => {
                self.pos += consumed;
                return Some(Ok(Located {
                    number: self.number,
                    offset,
                    frame,
                }));
            }
            Ok(Parsed::Incomplete { needed }) => truncated(rest, needed),
            Err(e) => e,
        };
        // The announced length of a control or long frame whose header is intact.
        let header = match *rest {
            [START_LONG, l, l2, START_LONG, ..] if l == l2 && l >= 3 => Some(l),
            _ => None,
        };
        let header_len = header.map(|l| usize::from(l) + 6);
        let resume = self.resume_after_bad(header_len);
        self.pos = resume;
        let got = resume - offset;
        let error = match (header, header_len) {
            (Some(length), Some(needed)) if got < needed => FrameError::TruncatedLong {
                length,
                needed,
                got,
            },
            _ => error,
        };
        if matches!(error, FrameError::BadStart(_)) && resume == self.buf.len() && self.number > 1 {
            return Some(Err(StreamError::TrailingBytes {
                offset,
                count: got,
                after: self.number - 1,
                first: rest.first().copied().unwrap_or_default(),
            }));
        }
        Some(Err(StreamError::BadFrame {
            number: self.number,
            offset,
            resume,
            error,
        }))
    }
}

/// The arithmetic sum modulo 256 that M-Bus uses as checksum.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}

impl<'a> Frame<'a> {
    /// Parses the frame at the start of `buf`.
    ///
    /// Returns [`Parsed::Incomplete`] while `buf` is a valid but unfinished prefix of a frame, and an
    /// error as soon as the bytes seen can no longer become a valid frame. Bytes after the frame
    /// are left alone; `consumed` tells where the next frame starts.
    pub fn parse(buf: &'a [u8]) -> Result<Parsed<'a>, FrameError> {
        let Some(&start) = buf.first() else {
            return Ok(Parsed::Incomplete { needed: 1 });
        };
        match start {
            ACK => Ok(Parsed::Complete {
                frame: Frame::Ack,
                consumed: 1,
            }),
            START_SHORT => Self::parse_short(buf),
            START_LONG => Self::parse_long(buf),
            other => Err(FrameError::BadStart(other)),
        }
    }

    /// Parses `buf` as exactly one frame: a truncated frame or trailing bytes are errors.
    pub fn parse_exact(buf: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        match Self::parse(buf)? {
            Parsed::Complete { frame, consumed } if consumed == buf.len() => Ok(frame),
            Parsed::Complete { consumed, .. } => Err(FrameError::TrailingBytes {
                offset: consumed,
                count: buf.len() - consumed,
            }),
            Parsed::Incomplete { needed } => Err(truncated(buf, needed)),
        }
    }

    fn parse_short(buf: &'a [u8]) -> Result<Parsed<'a>, FrameError> {
        const LEN: usize = 5;
        if let [_, control, address, found, ..] = *buf {
            let computed = checksum(&[control, address]);
            if found != computed {
                return Err(FrameError::Checksum {
                    offset: 3,
                    found,
                    computed,
                });
            }
        }
        let [_, control, address, _, stop, ..] = *buf else {
            return Ok(Parsed::Incomplete {
                needed: LEN.saturating_sub(buf.len()),
            });
        };
        if stop != STOP {
            return Err(FrameError::BadStop {
                offset: 4,
                found: stop,
            });
        }
        Ok(Parsed::Complete {
            frame: Frame::Short {
                control: Control(control),
                address,
            },
            consumed: LEN,
        })
    }

    fn parse_long(buf: &'a [u8]) -> Result<Parsed<'a>, FrameError> {
        // Check every header byte that is already present before asking for more.
        if let Some(&first) = buf.get(1) {
            if first < 3 {
                return Err(FrameError::LengthTooShort(first));
            }
        }
        if let (Some(&first), Some(&second)) = (buf.get(1), buf.get(2)) {
            if first != second {
                return Err(FrameError::LengthMismatch { first, second });
            }
        }
        if let Some(&second_start) = buf.get(3) {
            if second_start != START_LONG {
                return Err(FrameError::BadSecondStart(second_start));
            }
        }
        let Some(&l) = buf.get(1) else {
            return Ok(Parsed::Incomplete { needed: 3 });
        };
        let body_len = usize::from(l);
        let total = body_len + 6;
        let cs_at = 4 + body_len;
        let (Some(body), Some(&found)) = (buf.get(4..cs_at), buf.get(cs_at)) else {
            return Ok(Parsed::Incomplete {
                needed: total.saturating_sub(buf.len()),
            });
        };
        let computed = checksum(body);
        if found != computed {
            return Err(FrameError::Checksum {
                offset: cs_at,
                found,
                computed,
            });
        }
        let Some(&stop) = buf.get(cs_at + 1) else {
            return Ok(Parsed::Incomplete { needed: 1 });
        };
        if stop != STOP {
            return Err(FrameError::BadStop {
                offset: cs_at + 1,
                found: stop,
            });
        }
        // L >= 3 was checked above, so the body holds C, A and CI.
        let [control, address, ci, ref data @ ..] = *body else {
            return Err(FrameError::LengthTooShort(l));
        };
        let frame = Frame::with_user_data(Control(control), address, ci, data);
        Ok(Parsed::Complete {
            frame,
            consumed: total,
        })
    }

    /// A control frame when `data` is empty, else a long frame: the two shapes of `68 L L 68`.
    pub fn with_user_data(control: Control, address: u8, ci: u8, data: &'a [u8]) -> Frame<'a> {
        if data.is_empty() {
            Frame::Control {
                control,
                address,
                ci,
            }
        } else {
            Frame::Long {
                control,
                address,
                ci,
                data,
            }
        }
    }

    /// The number of bytes this frame occupies on the wire.
    pub fn encoded_len(&self) -> usize {
        match self {
            Frame::Ack => 1,
            Frame::Short { .. } => 5,
            Frame::Control { .. } => 9,
            Frame::Long { data, .. } => 9 + data.len(),
        }
    }

    /// Writes the frame into `out` and returns the number of bytes written.
    ///
    /// A `Long` frame with empty data has the wire form of a control frame (L = 3) and parses
    /// back as [`Frame::Control`]; [`Frame::with_user_data`] picks the right variant.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let needed = self.encoded_len();
        if let Frame::Long { data, .. } = self {
            if data.len() > MAX_DATA_LEN {
                return Err(EncodeError::DataTooLong { len: data.len() });
            }
        }
        let Some(out) = out.get_mut(..needed) else {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        };
        match *self {
            Frame::Ack => out.copy_from_slice(&[ACK]),
            Frame::Short { control, address } => {
                out.copy_from_slice(&[
                    START_SHORT,
                    control.0,
                    address,
                    control.0.wrapping_add(address),
                    STOP,
                ]);
            }
            Frame::Control {
                control,
                address,
                ci,
            } => write_long(out, control, address, ci, &[]),
            Frame::Long {
                control,
                address,
                ci,
                data,
            } => write_long(out, control, address, ci, data),
        }
        Ok(needed)
    }

    /// Encodes the frame into an owned, fixed-size buffer (no heap allocation).
    pub fn encode(&self) -> Result<FrameBuf, EncodeError> {
        let mut buf = FrameBuf::EMPTY;
        let len = self.encode_into(&mut buf.bytes)?;
        buf.len = len as u16;
        Ok(buf)
    }

    /// The C field, if the frame has one.
    pub fn control(&self) -> Option<Control> {
        match *self {
            Frame::Ack => None,
            Frame::Short { control, .. }
            | Frame::Control { control, .. }
            | Frame::Long { control, .. } => Some(control),
        }
    }

    /// The A (primary address) field, if the frame has one.
    pub fn address(&self) -> Option<u8> {
        match *self {
            Frame::Ack => None,
            Frame::Short { address, .. }
            | Frame::Control { address, .. }
            | Frame::Long { address, .. } => Some(address),
        }
    }
}

/// `out` is exactly `9 + data.len()` bytes long and `data` at most [`MAX_DATA_LEN`] bytes.
fn write_long(out: &mut [u8], control: Control, address: u8, ci: u8, data: &[u8]) {
    let l = (3 + data.len()) as u8;
    let (head, rest) = out.split_at_mut(7.min(out.len()));
    head.copy_from_slice(&[START_LONG, l, l, START_LONG, control.0, address, ci]);
    let (body, tail) = rest.split_at_mut(data.len().min(rest.len()));
    body.copy_from_slice(data);
    let sum = checksum(&[control.0, address, ci]).wrapping_add(checksum(data));
    tail.copy_from_slice(&[sum, STOP]);
}

/// An encoded frame in a fixed-size buffer: the bytes to put on the wire.
///
/// Dereferences to the encoded bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameBuf {
    bytes: [u8; MAX_FRAME_LEN],
    len: u16,
}

impl FrameBuf {
    const EMPTY: FrameBuf = FrameBuf {
        bytes: [0; MAX_FRAME_LEN],
        len: 0,
    };

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl Deref for FrameBuf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for FrameBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for FrameBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "FrameBuf[{}]",
            crate::hex::HexBytes::spaced(self.as_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_frame_round_trip() {
        let frame = Frame::Short {
            control: Control::REQ_UD2.with_fcb(true),
            address: 0xFD,
        };
        let buf = frame.encode().unwrap();
        assert_eq!(&*buf, &[0x10, 0x7B, 0xFD, 0x78, 0x16]);
        assert_eq!(
            Frame::parse(&buf).unwrap(),
            Parsed::Complete { frame, consumed: 5 }
        );
    }

    #[test]
    fn every_prefix_of_a_long_frame_is_incomplete() {
        let data = [1, 2, 3, 4];
        let frame = Frame::Long {
            control: Control::RSP_UD,
            address: 5,
            ci: 0x72,
            data: &data,
        };
        let buf = frame.encode().unwrap();
        for cut in 0..buf.len() {
            match Frame::parse(&buf[..cut]).unwrap() {
                Parsed::Incomplete { needed } => assert!(needed >= 1 && needed <= buf.len() - cut),
                other => panic!("prefix of {cut} bytes parsed as {other:?}"),
            }
        }
        assert_eq!(Frame::parse_exact(&buf).unwrap(), frame);
    }

    #[test]
    fn errors_name_the_offset() {
        assert_eq!(Frame::parse(&[0x11]), Err(FrameError::BadStart(0x11)));
        assert_eq!(
            Frame::parse(&[0x68, 0x05, 0x06]),
            Err(FrameError::LengthMismatch {
                first: 5,
                second: 6
            })
        );
        assert_eq!(
            Frame::parse(&[0x68, 0x00, 0x00, 0x68]),
            Err(FrameError::LengthTooShort(0))
        );
        let err = Frame::parse(&[0x10, 0x40, 0x01, 0x42, 0x16]).unwrap_err();
        assert_eq!(err.offset(), 3);
        let err = Frame::parse(&[0x10, 0x40, 0x01, 0x41, 0x17]).unwrap_err();
        assert_eq!(
            err,
            FrameError::BadStop {
                offset: 4,
                found: 0x17
            }
        );
        assert_eq!(
            Frame::parse_exact(&[0xE5, 0xE5]),
            Err(FrameError::TrailingBytes {
                offset: 1,
                count: 1
            })
        );
    }

    #[test]
    fn truncation_names_the_length_field() {
        let frame = [0x68, 0x04, 0x04, 0x68, 0x08, 0x01, 0x70, 0x08, 0x81, 0x16];
        let err = Frame::parse_exact(&frame[..7]).unwrap_err();
        assert_eq!(
            err,
            FrameError::TruncatedLong {
                length: 4,
                needed: 10,
                got: 7
            }
        );
        assert_eq!(
            err.to_string(),
            "byte 7: truncated: L=0x04 needs 10 bytes, got 7"
        );
        assert_eq!(
            Frame::parse_exact(&[0x10, 0x40]),
            Err(FrameError::Truncated {
                offset: 2,
                needed: 3
            })
        );
        assert_eq!(
            Frame::parse_exact(&[0xE5, 0xE5, 0xE5])
                .unwrap_err()
                .to_string(),
            "byte 1: 2 trailing byte(s) after the end of the frame"
        );
    }

    #[test]
    fn frames_resynchronise_after_a_bad_frame() {
        let good = [0x68, 0x04, 0x04, 0x68, 0x08, 0x01, 0x70, 0x08, 0x81, 0x16];
        let mut bad = good;
        bad[7] = 0x09; // data byte changed, checksum now wrong
        let mut stream = Vec::new();
        stream.extend_from_slice(&good);
        stream.extend_from_slice(&bad);
        stream.extend_from_slice(&[0x10, 0x5B, 0x01, 0x5C, 0x16]);
        let items: Vec<_> = Frames::new(&stream).collect();
        assert_eq!(items.len(), 3);
        assert!(matches!(
            items[0],
            Ok(Located {
                number: 1,
                offset: 0,
                ..
            })
        ));
        assert_eq!(
            items[1],
            Err(StreamError::BadFrame {
                number: 2,
                offset: 10,
                resume: 20,
                error: FrameError::Checksum {
                    offset: 8,
                    found: 0x81,
                    computed: 0x82
                }
            })
        );
        assert!(matches!(
            items[2],
            Ok(Located {
                number: 3,
                offset: 20,
                frame: Frame::Short { address: 1, .. }
            })
        ));
        // Garbage before a frame is one bad frame; garbage at the end is trailing bytes.
        let mut stream = vec![0x00, 0xE5, 0x42];
        stream.extend_from_slice(&good);
        stream.extend_from_slice(&[0xAA, 0xBB]);
        let items: Vec<_> = Frames::new(&stream).collect();
        assert_eq!(
            items[0],
            Err(StreamError::BadFrame {
                number: 1,
                offset: 0,
                resume: 3,
                error: FrameError::BadStart(0x00)
            })
        );
        assert!(matches!(items[1], Ok(Located { offset: 3, .. })));
        assert_eq!(
            items[2],
            Err(StreamError::TrailingBytes {
                offset: 13,
                count: 2,
                after: 2,
                first: 0xAA
            })
        );
        assert_eq!(items.len(), 3);
        let numbers: Vec<_> = items
            .iter()
            .filter_map(|i| i.err())
            .map(|e| e.number())
            .collect();
        assert_eq!(numbers, [1, 3]);
        assert_eq!(Frames::new(&[]).count(), 0);
    }

    #[test]
    fn long_data_is_rejected_when_encoding() {
        let data = [0u8; 253];
        let frame = Frame::Long {
            control: Control::RSP_UD,
            address: 1,
            ci: 0x72,
            data: &data,
        };
        assert_eq!(frame.encode(), Err(EncodeError::DataTooLong { len: 253 }));
    }
}
