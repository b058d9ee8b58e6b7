//! Owned replies: a [`ReplyFrame`] keeps the bytes of one received frame.

use core::fmt;
use mbus_proto::address::SecondaryAddress;
use mbus_proto::app::{self, DecodeError};
use mbus_proto::frame::{Control, Frame, FrameError};
use mbus_proto::hex::HexBytes;

/// DIF of the special function "more records follow in the next telegram".
pub const DIF_MORE_RECORDS_FOLLOW: u8 = 0x1F;

/// One received frame, owned. Validated on construction, so [`ReplyFrame::frame`] cannot fail.
///
/// ```
/// use mbus_link::ReplyFrame;
/// let t = ReplyFrame::new(vec![0x68, 0x04, 0x04, 0x68, 0x08, 0x05, 0x72, 0x1F, 0x9E, 0x16])?;
/// assert_eq!(t.address(), Some(5));
/// assert_eq!(t.ci(), Some(0x72));
/// assert!(t.more_records_follow());
/// # Ok::<(), mbus_proto::frame::FrameError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReplyFrame {
    bytes: Vec<u8>,
}

impl ReplyFrame {
    /// Takes the bytes of exactly one frame; fails if they are not one valid frame.
    pub fn new(bytes: Vec<u8>) -> Result<ReplyFrame, FrameError> {
        Frame::parse_exact(&bytes)?;
        Ok(ReplyFrame { bytes })
    }

    /// The frame bytes as received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives the bytes back.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// A borrowed view of the frame.
    pub fn frame(&self) -> Frame<'_> {
        // The layout was validated by `Frame::parse_exact` in `new`; the length decides the kind.
        match *self.bytes.as_slice() {
            [_, control, address, _, _] => Frame::Short {
                control: Control(control),
                address,
            },
            [_, _, _, _, control, address, ci, _, _] => Frame::Control {
                control: Control(control),
                address,
                ci,
            },
            [_, _, _, _, control, address, ci, ref data @ .., _, _] => Frame::Long {
                control: Control(control),
                address,
                ci,
                data,
            },
            _ => Frame::Ack,
        }
    }

    /// The A field, if the frame has one.
    pub fn address(&self) -> Option<u8> {
        self.frame().address()
    }

    /// The C field, if the frame has one.
    pub fn control(&self) -> Option<Control> {
        self.frame().control()
    }

    /// The CI field of a control or long frame.
    pub fn ci(&self) -> Option<u8> {
        match self.frame() {
            Frame::Control { ci, .. } | Frame::Long { ci, .. } => Some(ci),
            _ => None,
        }
    }

    /// The user data after the CI field (empty for frames without any).
    pub fn data(&self) -> &[u8] {
        match self.frame() {
            Frame::Long { data, .. } => data,
            _ => &[],
        }
    }

    /// The secondary address in the long data header (CI 0x72 / 0x76), if there is one.
    pub fn secondary_address(&self) -> Option<SecondaryAddress> {
        match self.ci() {
            Some(0x72 | 0x76) => {
                let head: [u8; 8] = self.data().get(..8)?.try_into().ok()?;
                SecondaryAddress::from_bytes(head).ok()
            }
            _ => None,
        }
    }

    /// The decoded application layer (header and records), by `mbus_proto::app`.
    pub fn decode(&self) -> Result<app::Telegram<'_>, DecodeError> {
        app::Telegram::from_frame(&self.frame())
    }

    /// True when the records end with DIF 0x1F: the slave has another telegram.
    ///
    /// The records are walked with `mbus_proto`'s record iterator; when they cannot be decoded,
    /// the last user-data byte (the position the standard gives that DIF) decides.
    pub fn more_records_follow(&self) -> bool {
        let last_byte = self.data().last() == Some(&DIF_MORE_RECORDS_FOLLOW);
        match self.decode() {
            Ok(app::Telegram::Variable(v)) => v.more_records_follow().unwrap_or(last_byte),
            Ok(_) => false,
            Err(_) => last_byte,
        }
    }
}

impl fmt::Debug for ReplyFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReplyFrame[{self}]")
    }
}

/// Hex bytes separated by spaces.
impl fmt::Display for ReplyFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", HexBytes::spaced(&self.bytes))
    }
}

/// What a slave sent back to a raw request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The single character `E5`.
    Ack,
    /// A frame (short, control or long).
    Frame(ReplyFrame),
}

/// The outcome of a secondary-address select: clean acknowledgement, silence, or collision/noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectOutcome {
    /// Exactly one clean `E5` came back (one or more meters match; identical `E5`s overlap exactly).
    Selected,
    /// No meter answered: none matches the mask.
    NoReply,
    /// Something arrived that is not a clean `E5`: several meters answered (collision) or noise.
    Garbled,
}
