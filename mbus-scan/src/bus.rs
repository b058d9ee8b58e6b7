//! What a scanner needs from a bus: the [`ScanBus`] trait and the outcomes of its requests.
//!
//! The trait is deliberately small, so the search algorithms can be tested against any bus
//! model. [`crate::link`] implements it for `mbus-link`'s blocking [`Master`](mbus_link::Master)
//! over every transport, the simulated bus included.

use core::time::Duration;
use mbus_link::ReplyFrame;
use mbus_proto::address::{BaudRate, LinkAddress, SecondaryMask};

/// How long the master keeps listening after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// The standard response window (EN 13757-2: 330 bit times + 50 ms) for the first byte; after
    /// a complete frame, one inter-character gap. Fast; a meter answering much later than
    /// another is noticed by the next request, not by this one.
    Gap,
    /// As [`Listen::Gap`], but after a complete frame keep listening until the whole response
    /// window has passed, so every meter that answers at all is heard. Costs the window.
    Window,
    /// The classic libmbus receive loop: wait up to this long for a reply, and after a frame keep
    /// receiving until this long passes without a byte (anything more is a collision).
    Linger(Duration),
}

/// The outcome of a secondary-address select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectReply {
    /// Nothing came back: no meter matches (or a matching meter missed the request).
    Silent,
    /// One clean `E5`: at least one meter matches (identical `E5`s overlap exactly).
    Ack,
    /// Bytes that are not one clean `E5`: several meters answered, or noise.
    Garbled,
}

/// The outcome of a data request (REQ_UD2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadReply {
    /// A valid reply frame.
    Telegram(ReplyFrame),
    /// Nothing came back.
    Silent,
    /// Something arrived that is not one valid reply: several meters answered, or noise.
    Garbled,
}

/// A bus a scanner can probe: secondary selects, data requests, baud rate, bus time.
///
/// Retries are the scanner's business: an implementation sends every request exactly once.
pub trait ScanBus {
    /// Errors that end a scan (the device failed, the bus is short-circuited).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The baud rate the master talks at.
    fn baud(&self) -> BaudRate;

    /// Talks at `baud` from now on (without telling any meter).
    fn set_baud(&mut self, baud: BaudRate) -> Result<(), Self::Error>;

    /// Sends a secondary-address select with `mask` and classifies what came back.
    fn select(&mut self, mask: &SecondaryMask, listen: Listen) -> Result<SelectReply, Self::Error>;

    /// Sends REQ_UD2 to `address` (a meter's primary address, or [`LinkAddress::Selected`] for the
    /// selected meter) and classifies the reply.
    /// `fcb` is the frame count bit: repeating it asks a meter for the same telegram again.
    fn read(
        &mut self,
        address: LinkAddress,
        fcb: bool,
        listen: Listen,
    ) -> Result<ReadReply, Self::Error>;

    /// Bus time spent so far (virtual on a simulated bus, monotonic on a real one).
    fn elapsed(&self) -> Duration;

    /// The longest bus time one select or data request can take at `baud`, whatever comes
    /// back: request, echo, response window, the slowest valid reply and the draining of
    /// garbage included ([`Listen::Gap`] and [`Listen::Window`]; [`Listen::Linger`] listens
    /// without a bound).
    fn longest_exchange(&self, baud: BaudRate) -> Duration;
}

impl<B: ScanBus + ?Sized> ScanBus for &mut B {
    type Error = B::Error;

    fn baud(&self) -> BaudRate {
        (**self).baud()
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), Self::Error> {
        (**self).set_baud(baud)
    }

    fn select(&mut self, mask: &SecondaryMask, listen: Listen) -> Result<SelectReply, Self::Error> {
        (**self).select(mask, listen)
    }

    fn read(
        &mut self,
        address: LinkAddress,
        fcb: bool,
        listen: Listen,
    ) -> Result<ReadReply, Self::Error> {
        (**self).read(address, fcb, listen)
    }

    fn elapsed(&self) -> Duration {
        (**self).elapsed()
    }

    fn longest_exchange(&self, baud: BaudRate) -> Duration {
        (**self).longest_exchange(baud)
    }
}
