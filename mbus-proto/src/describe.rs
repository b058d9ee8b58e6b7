//! What a link-layer frame means, for people and for tools: its kind, the meaning of the C field
//! (function, direction, FCB/FCV or ACD/DFC), the address and the CI field. The CLI, JSON and XML
//! all print this one description, so frames without application data (`E5`, short frames,
//! master requests) read the same everywhere.
//!
//! ```
//! use mbus_proto::describe::{describe, LinkFunction};
//! use mbus_proto::frame::Frame;
//!
//! let frame = Frame::parse_exact(&[0x10, 0x7B, 0x01, 0x7C, 0x16])?;
//! let d = describe(&frame);
//! assert_eq!(d.control.map(|c| c.function), Some(LinkFunction::ReqUd2));
//! assert_eq!(
//!     d.to_string(),
//!     "short frame, C=0x7B REQ_UD2 (master to slave, FCB=1, FCV=1), address 1"
//! );
//! # Ok::<(), mbus_proto::frame::FrameError>(())
//! ```

use crate::frame::{Control, Frame};
use core::fmt;

/// The four frame formats of EN 13757-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// The single character `E5`.
    Ack,
    /// `10 C A CS 16`.
    Short,
    /// `68 03 03 68 C A CI CS 16`.
    Control,
    /// `68 L L 68 C A CI data… CS 16`.
    Long,
}

impl FrameKind {
    /// Upper-case name as the XML `<Type>` element carries it (`ACK`, `SHORT`, `CONTROL`, `LONG`).
    pub fn name(self) -> &'static str {
        match self {
            FrameKind::Ack => "ACK",
            FrameKind::Short => "SHORT",
            FrameKind::Control => "CONTROL",
            FrameKind::Long => "LONG",
        }
    }
}

/// The link function named by the C field's function code and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkFunction {
    /// Master, code 0x0: link reset.
    SndNke,
    /// Master, code 0x3: send user data.
    SndUd,
    /// Master, code 0xA: request class 1 (alarm) data.
    ReqUd1,
    /// Master, code 0xB: request class 2 (meter) data.
    ReqUd2,
    /// Slave, code 0x8: user data response.
    RspUd,
    /// Any other function code (the low nibble of C).
    Other(u8),
}

impl LinkFunction {
    /// The usual name (`SND_NKE`, `REQ_UD2`, …); `None` for [`LinkFunction::Other`].
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkFunction::SndNke => "SND_NKE",
            LinkFunction::SndUd => "SND_UD",
            LinkFunction::ReqUd1 => "REQ_UD1",
            LinkFunction::ReqUd2 => "REQ_UD2",
            LinkFunction::RspUd => "RSP_UD",
            LinkFunction::Other(_) => return None,
        })
    }
}

impl fmt::Display for LinkFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self) {
            (Some(name), _) => f.write_str(name),
            (None, LinkFunction::Other(code)) => write!(f, "function 0x{code:X}"),
            (None, _) => Ok(()),
        }
    }
}

/// The meaning of a C field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlMeaning {
    /// The C field as sent.
    pub raw: u8,
    /// Sent by the master (PRM bit set).
    pub from_master: bool,
    /// The link function.
    pub function: LinkFunction,
    /// Bit 0x20: FCB (frame count bit) from a master, ACD (access demand) from a slave.
    pub fcb_or_acd: bool,
    /// Bit 0x10: FCV (frame count valid) from a master, DFC (data flow control) from a slave.
    pub fcv_or_dfc: bool,
}

impl ControlMeaning {
    /// Decodes a C field.
    pub fn of(control: Control) -> ControlMeaning {
        let from_master = control.is_from_master();
        let function = match (from_master, control.function()) {
            (true, 0x0) => LinkFunction::SndNke,
            (true, 0x3) => LinkFunction::SndUd,
            (true, 0xA) => LinkFunction::ReqUd1,
            (true, 0xB) => LinkFunction::ReqUd2,
            (false, 0x8) => LinkFunction::RspUd,
            (_, code) => LinkFunction::Other(code),
        };
        ControlMeaning {
            raw: control.0,
            from_master,
            function,
            fcb_or_acd: control.fcb(),
            fcv_or_dfc: control.fcv(),
        }
    }

    /// Names of the two flag bits in this direction: `("FCB", "FCV")` or `("ACD", "DFC")`.
    pub fn flag_names(&self) -> (&'static str, &'static str) {
        if self.from_master {
            ("FCB", "FCV")
        } else {
            ("ACD", "DFC")
        }
    }

    /// `"master to slave"` or `"slave to master"`.
    pub fn direction(&self) -> &'static str {
        if self.from_master {
            "master to slave"
        } else {
            "slave to master"
        }
    }
}

impl fmt::Display for ControlMeaning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = self.flag_names();
        write!(
            f,
            "C=0x{:02X} {} ({}, {a}={}, {b}={})",
            self.raw,
            self.function,
            self.direction(),
            u8::from(self.fcb_or_acd),
            u8::from(self.fcv_or_dfc)
        )
    }
}

/// What a primary address (A field) is used for, for the special values; `None` for an
/// ordinary slave address 1…250.
pub fn address_meaning(address: u8) -> Option<&'static str> {
    Some(match address {
        0 => "unconfigured slave",
        251 | 252 => "reserved",
        253 => "secondary addressing",
        254 => "broadcast, all slaves reply",
        255 => "broadcast, no reply",
        _ => return None,
    })
}

/// What a CI field asks for or announces, for the values EN 13757-3 assigns on a wired bus;
/// `None` for others.
pub fn ci_meaning(ci: u8) -> Option<&'static str> {
    Some(match ci {
        0x50 => "application reset",
        0x51 => "data send",
        0x52 => "selection of slaves",
        0x5C => "synchronize action",
        0x70 => "application error",
        0x71 => "alarm status",
        0x72 => "variable data, long header",
        0x73 => "fixed data",
        0x76 => "variable data, long header, MSB first",
        0x77 => "fixed data, MSB first",
        0x78 => "variable data, no header",
        0x7A => "variable data, short header",
        0xB8 => "set baud rate 300",
        0xB9 => "set baud rate 600",
        0xBA => "set baud rate 1200",
        0xBB => "set baud rate 2400",
        0xBC => "set baud rate 4800",
        0xBD => "set baud rate 9600",
        0xBE => "set baud rate 19200",
        0xBF => "set baud rate 38400",
        _ => return None,
    })
}

/// The description of one frame, from [`describe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameDescription<'a> {
    /// The frame format.
    pub kind: FrameKind,
    /// The C field's meaning (`None` for `E5`).
    pub control: Option<ControlMeaning>,
    /// The A field (`None` for `E5`).
    pub address: Option<u8>,
    /// The CI field (control and long frames).
    pub ci: Option<u8>,
    /// User data after the CI field (empty unless long).
    pub data: &'a [u8],
}

impl FrameDescription<'_> {
    /// True for a slave's control or long frame: a reply whose application layer
    /// [`crate::app::Telegram::from_frame`] decodes. Everything else (`E5`, short frames, master
    /// requests) is fully described by this description.
    pub fn is_reply(&self) -> bool {
        self.ci.is_some() && self.control.is_some_and(|c| !c.from_master)
    }
}

/// Describes `frame`.
pub fn describe<'a>(frame: &Frame<'a>) -> FrameDescription<'a> {
    let (kind, ci, data) = match *frame {
        Frame::Ack => (FrameKind::Ack, None, &[][..]),
        Frame::Short { .. } => (FrameKind::Short, None, &[][..]),
        Frame::Control { ci, .. } => (FrameKind::Control, Some(ci), &[][..]),
        Frame::Long { ci, data, .. } => (FrameKind::Long, Some(ci), data),
    };
    FrameDescription {
        kind,
        control: frame.control().map(ControlMeaning::of),
        address: frame.address(),
        ci,
        data,
    }
}

impl fmt::Display for FrameDescription<'_> {
    /// One line: kind, C field meaning, address, CI meaning and data length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FrameKind::Ack => return f.write_str("ACK (E5): single-character acknowledgement"),
            FrameKind::Short => f.write_str("short frame")?,
            FrameKind::Control => f.write_str("control frame")?,
            FrameKind::Long => f.write_str("long frame")?,
        }
        if let Some(c) = self.control {
            write!(f, ", {c}")?;
        }
        if let Some(a) = self.address {
            write!(f, ", address {a}")?;
            if let Some(m) = address_meaning(a) {
                write!(f, " ({m})")?;
            }
        }
        if let Some(ci) = self.ci {
            write!(f, ", CI=0x{ci:02X}")?;
            if let Some(m) = ci_meaning(ci) {
                write!(f, " {m}")?;
            }
        }
        if self.kind == FrameKind::Long {
            let n = self.data.len();
            write!(f, ", {n} data byte{}", if n == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        describe(&Frame::parse_exact(bytes).unwrap()).to_string()
    }

    #[test]
    fn every_kind_reads_right() {
        assert_eq!(text(&[0xE5]), "ACK (E5): single-character acknowledgement");
        assert_eq!(
            text(&[0x10, 0x40, 0xFD, 0x3D, 0x16]),
            "short frame, C=0x40 SND_NKE (master to slave, FCB=0, FCV=0), address 253 \
             (secondary addressing)"
        );
        assert_eq!(
            text(&[0x68, 0x03, 0x03, 0x68, 0x53, 0xFE, 0x50, 0xA1, 0x16]),
            "control frame, C=0x53 SND_UD (master to slave, FCB=0, FCV=1), address 254 \
             (broadcast, all slaves reply), CI=0x50 application reset"
        );
        assert_eq!(
            text(&[0x68, 0x04, 0x04, 0x68, 0x38, 0x01, 0x70, 0x08, 0xB1, 0x16]),
            "long frame, C=0x38 RSP_UD (slave to master, ACD=1, DFC=1), address 1, \
             CI=0x70 application error, 1 data byte"
        );
        assert_eq!(
            text(&[0x10, 0x4C, 0x01, 0x4D, 0x16]),
            "short frame, C=0x4C function 0xC (master to slave, FCB=0, FCV=0), address 1"
        );
    }

    #[test]
    fn only_slave_frames_with_ci_are_replies() {
        let is_reply = |b: &[u8]| describe(&Frame::parse_exact(b).unwrap()).is_reply();
        assert!(!is_reply(&[0xE5]));
        assert!(!is_reply(&[0x10, 0x5B, 0x01, 0x5C, 0x16]));
        assert!(!is_reply(&[
            0x68, 0x03, 0x03, 0x68, 0x53, 0xFE, 0x50, 0xA1, 0x16
        ]));
        assert!(is_reply(&[
            0x68, 0x04, 0x04, 0x68, 0x08, 0x01, 0x70, 0x08, 0x81, 0x16
        ]));
    }
}
