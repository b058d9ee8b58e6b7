//! Errors of the link layer and the reasons a reply counts as garbled.

use core::fmt;
use mbus_proto::address::SecondaryAddress;
use mbus_proto::frame::FrameError;

/// The slave a request was meant for, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Addressee {
    /// A primary address (0…250, or 253/254/255).
    Primary(u8),
    /// A secondary address (selected, then addressed via 253).
    Secondary(SecondaryAddress),
    /// Raw bytes without a recognisable address field.
    Raw,
}

impl fmt::Display for Addressee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addressee::Primary(a) => write!(f, "primary address {a}"),
            Addressee::Secondary(s) => write!(f, "secondary address {s}"),
            Addressee::Raw => f.write_str("the raw request"),
        }
    }
}

/// A character-level error the receiving UART (or the level converter) reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum LineError {
    /// The parity bit did not give even parity.
    Parity,
    /// The stop bit was 0.
    Framing,
    /// The line was held at space for a whole character (all bits 0, stop bit 0).
    Break,
    /// The level converter reports over-current: the bus is short-circuited.
    Overload,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LineError::Parity => "parity error",
            LineError::Framing => "framing error (stop bit 0)",
            LineError::Break => "break (line held at space)",
            LineError::Overload => "bus overload (short circuit)",
        })
    }
}

/// Why received bytes were judged garbled: a collision of several senders or line noise.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GarbleReason {
    /// A character arrived with a parity, framing or break error.
    Line(LineError),
    /// The bytes are not a valid frame (bad start, length, checksum or stop byte).
    Frame(FrameError),
    /// More bytes followed a complete frame (a second sender, or noise).
    TrailingBytes {
        /// Number of extra bytes.
        count: usize,
    },
    /// The frame stopped in the middle: a gap longer than the inter-character timeout.
    Cut {
        /// Bytes received before the gap.
        received: usize,
        /// At least this many more bytes were expected.
        needed: usize,
    },
    /// The converter echo did not repeat the request exactly.
    EchoMismatch,
}

impl fmt::Display for GarbleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GarbleReason::Line(e) => write!(f, "{e}"),
            GarbleReason::Frame(e) => write!(f, "invalid frame: {e}"),
            GarbleReason::TrailingBytes { count } => {
                write!(f, "{count} extra byte(s) after a complete frame")
            }
            GarbleReason::Cut { received, needed } => write!(
                f,
                "frame cut after {received} byte(s), at least {needed} more expected"
            ),
            GarbleReason::EchoMismatch => {
                f.write_str("the converter echo differs from the request")
            }
        }
    }
}

/// Everything that can go wrong talking to a bus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Nothing arrived within the response timeout, after all retries.
    #[error("no reply from {address} (after {attempts} attempt(s))")]
    NoReply {
        /// Who was asked.
        address: Addressee,
        /// How many times the request was sent.
        attempts: u32,
    },
    /// Bytes arrived but do not form a valid reply: collision or noise.
    #[error("garbled reply from {address} (collision or noise): {reason}")]
    Garbled {
        /// Who was asked.
        address: Addressee,
        /// What was wrong with the bytes.
        reason: GarbleReason,
    },
    /// A valid frame arrived, but not the kind the request calls for.
    #[error("unexpected reply from {address}: expected {expected}, got {got}")]
    UnexpectedFrame {
        /// Who was asked.
        address: Addressee,
        /// What the request calls for.
        expected: &'static str,
        /// What arrived.
        got: String,
    },
    /// The level converter reports a bus overload (short circuit): nothing can be read.
    #[error("bus overload: the M-Bus is short-circuited or overloaded")]
    BusOverload,
    /// The request itself is invalid (e.g. too long, or an address a request cannot use).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// An address no request can use (for example a configured primary address above 250).
    #[error("invalid address: {0}")]
    Address(#[from] mbus_proto::address::AddressError),
    /// The device (serial port, TCP gateway) could not be opened.
    #[error("cannot open device {device}: {source}")]
    Device {
        /// The device as given (path or `tcp://host:port`).
        device: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The device needs a transport this build of `mbus-link` leaves out.
    #[error("cannot open device {device}: built without the `{feature}` feature of mbus-link")]
    NotBuilt {
        /// The device as given.
        device: String,
        /// The cargo feature that adds the transport.
        feature: &'static str,
    },
    /// The TCP gateway closed the connection.
    #[error("the gateway closed the connection")]
    Closed,
    /// A write or connect did not finish in time.
    #[error("timed out while {0}")]
    Timeout(&'static str),
    /// Input/output error on an open device.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl LinkError {
    /// An error from writing a request: a timed-out write becomes [`LinkError::Timeout`].
    #[cfg(any(feature = "serial", feature = "tcp"))]
    pub(crate) fn from_write(e: std::io::Error, what: &'static str) -> LinkError {
        match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                LinkError::Timeout(what)
            }
            _ => LinkError::Io(e),
        }
    }
}

#[cfg(feature = "serial")]
impl From<serialport::Error> for LinkError {
    fn from(e: serialport::Error) -> Self {
        LinkError::Io(std::io::Error::from(e))
    }
}
