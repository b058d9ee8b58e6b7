//! Builders for the frames a master sends, and for the replies a slave sends.
//!
//! Every builder returns a [`FrameBuf`]: the exact bytes to put on the wire, without heap allocation.
//!
//! ```
//! use mbus_proto::address::SecondaryMask;
//! use mbus_proto::request;
//!
//! assert_eq!(&*request::req_ud2(5, true), &[0x10, 0x7B, 0x05, 0x80, 0x16]);
//! let select = request::select_secondary(&"12345678FFFFFFFF".parse::<SecondaryMask>()?);
//! assert_eq!(select[6], 0x52);
//! # Ok::<(), mbus_proto::address::AddressError>(())
//! ```

use crate::address::{BaudRate, SecondaryMask, SELECTED_ADDRESS};
use crate::frame::{Control, EncodeError, Frame, FrameBuf};

/// CI field of SND_UD carrying data to the slave (EN 13757-3 mode 1, LSB first).
pub const CI_DATA_SEND: u8 = 0x51;
/// CI field of the secondary-address select command.
pub const CI_SELECT: u8 = 0x52;
/// CI field of the application reset command.
pub const CI_APPLICATION_RESET: u8 = 0x50;
/// VIF "bus address" used to write a new primary address.
pub const VIF_BUS_ADDRESS: u8 = 0x7A;

fn encode_known(frame: Frame<'_>) -> FrameBuf {
    // Every frame built in this module is at most 9 + 8 data bytes long, well inside the limits,
    // so encoding cannot fail.
    match frame.encode() {
        Ok(buf) => buf,
        Err(e) => unreachable!("fixed-size request frame failed to encode: {e}"),
    }
}

/// SND_NKE (link reset) to `address`; to 253 it deselects the selected slave.
pub fn snd_nke(address: u8) -> FrameBuf {
    encode_known(Frame::Short {
        control: Control::SND_NKE,
        address,
    })
}

/// REQ_UD2 (request class 2 data) with the frame count bit `fcb` (FCV always set).
pub fn req_ud2(address: u8, fcb: bool) -> FrameBuf {
    encode_known(Frame::Short {
        control: Control::REQ_UD2.with_fcb(fcb),
        address,
    })
}

/// REQ_UD1 (request class 1 / alarm data) with the frame count bit `fcb`.
pub fn req_ud1(address: u8, fcb: bool) -> FrameBuf {
    encode_known(Frame::Short {
        control: Control::REQ_UD1.with_fcb(fcb),
        address,
    })
}

/// SND_UD with any CI field and user data; fails only if `data` exceeds 252 bytes.
pub fn snd_ud(address: u8, fcb: bool, ci: u8, data: &[u8]) -> Result<FrameBuf, EncodeError> {
    Frame::with_user_data(Control::SND_UD.with_fcb(fcb), address, ci, data).encode()
}

/// Secondary-address select (SND_UD to 253, CI 0x52) with the given mask.
pub fn select_secondary(mask: &SecondaryMask) -> FrameBuf {
    encode_known(Frame::Long {
        control: Control::SND_UD,
        address: SELECTED_ADDRESS,
        ci: CI_SELECT,
        data: &mask.to_bytes(),
    })
}

/// Application reset (CI 0x50), optionally with a subcode byte.
pub fn application_reset(address: u8, subcode: Option<u8>) -> FrameBuf {
    encode_known(Frame::with_user_data(
        Control::SND_UD,
        address,
        CI_APPLICATION_RESET,
        subcode.as_slice(),
    ))
}

/// Baud-rate switch (control frame with CI 0xB8…0xBF). The slave acknowledges at its old rate.
pub fn switch_baud(address: u8, baud: BaudRate) -> FrameBuf {
    encode_known(Frame::Control {
        control: Control::SND_UD,
        address,
        ci: baud.switch_ci(),
    })
}

/// Writes a new primary address: SND_UD, CI 0x51, DIF 0x01, VIF 0x7A, new address.
pub fn set_primary_address(address: u8, new_address: u8) -> FrameBuf {
    encode_known(Frame::Long {
        control: Control::SND_UD,
        address,
        ci: CI_DATA_SEND,
        data: &[0x01, VIF_BUS_ADDRESS, new_address],
    })
}

/// The slave's single-character acknowledgement `E5`.
pub fn ack() -> FrameBuf {
    encode_known(Frame::Ack)
}

/// A slave's RSP_UD with CI and application data (e.g. CI 0x72 + header + records); without
/// data it is a control frame.
pub fn rsp_ud(address: u8, ci: u8, data: &[u8]) -> Result<FrameBuf, EncodeError> {
    Frame::with_user_data(Control::RSP_UD, address, ci, data).encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Parsed;

    fn parse(buf: &FrameBuf) -> Frame<'_> {
        match Frame::parse(buf).unwrap() {
            Parsed::Complete { frame, consumed } => {
                assert_eq!(consumed, buf.len());
                frame
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn known_byte_sequences() {
        assert_eq!(&*snd_nke(0xFD), &[0x10, 0x40, 0xFD, 0x3D, 0x16]);
        assert_eq!(&*req_ud2(1, false), &[0x10, 0x5B, 0x01, 0x5C, 0x16]);
        assert_eq!(&*req_ud1(1, true), &[0x10, 0x7A, 0x01, 0x7B, 0x16]);
        assert_eq!(
            &*switch_baud(1, BaudRate::B9600),
            &[0x68, 0x03, 0x03, 0x68, 0x53, 0x01, 0xBD, 0x11, 0x16]
        );
        assert_eq!(
            &*set_primary_address(0, 5),
            &[0x68, 0x06, 0x06, 0x68, 0x53, 0x00, 0x51, 0x01, 0x7A, 0x05, 0x24, 0x16]
        );
        let mask: SecondaryMask = "12345678FFFFFFFF".parse().unwrap();
        assert_eq!(
            &*select_secondary(&mask),
            &[
                0x68, 0x0B, 0x0B, 0x68, 0x53, 0xFD, 0x52, 0x78, 0x56, 0x34, 0x12, 0xFF, 0xFF, 0xFF,
                0xFF, 0xB2, 0x16
            ]
        );
        assert_eq!(&*ack(), &[0xE5]);
    }

    #[test]
    fn builders_parse_back() {
        assert!(matches!(
            parse(&application_reset(7, Some(0x10))),
            Frame::Long {
                ci: 0x50,
                address: 7,
                data: [0x10],
                ..
            }
        ));
        assert!(matches!(
            parse(&application_reset(7, None)),
            Frame::Control {
                ci: 0x50,
                address: 7,
                ..
            }
        ));
        let rsp = rsp_ud(3, 0x72, &[1, 2, 3]).unwrap();
        assert!(matches!(
            parse(&rsp),
            Frame::Long {
                ci: 0x72,
                address: 3,
                data: [1, 2, 3],
                ..
            }
        ));
        assert!(snd_ud(1, false, 0x51, &[0; 253]).is_err());
    }
}
