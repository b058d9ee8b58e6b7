//! What a master needs from a bus connection, blocking and async.
//!
//! Implementations: [`serial`](crate::serial) (blocking `serialport` and async `tokio-serial`),
//! [`tcp`](crate::tcp) (transparent M-Bus-over-TCP gateways) and the simulated bus
//! [`SimBus`](crate::sim::SimBus).

use crate::config::LatencyBounds;
use crate::error::{LineError, LinkError};
use core::future::Future;
use core::time::Duration;
use mbus_proto::address::BaudRate;

/// What one receive call produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes written to the buffer (0 when the deadline passed first).
    pub len: usize,
    /// A character error reported for these bytes, if any.
    pub error: Option<LineError>,
    /// The transport's clock when the bytes were taken (or when waiting ended).
    pub at: Duration,
}

/// A blocking connection to a bus.
///
/// Time is the transport's own clock (see [`Transport::now`]): a monotonic clock for real
/// devices, the virtual bus clock for the simulator, so timeouts cost no real time there.
pub trait Transport {
    /// The transport's clock: time since an arbitrary fixed epoch.
    fn now(&self) -> Duration;
    /// How late bytes may arrive after they crossed the line (USB latency, network); added to
    /// the default timeouts.
    fn latency(&self) -> Duration;
    /// Bounds within which the master adapts the latency allowance to measured round trips,
    /// starting from [`Transport::latency`]; `None` (default) keeps it fixed.
    fn adaptive_latency(&self) -> Option<LatencyBounds> {
        None
    }
    /// The current line rate.
    fn baud(&self) -> BaudRate;
    /// Switches the line rate.
    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError>;
    /// Discards bytes received and not yet read.
    fn clear_input(&mut self) -> Result<(), LinkError>;
    /// Writes `bytes`; returns when their last bit will have left the line (transport clock).
    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError>;
    /// Waits until bytes are available or `deadline` passes; reads what is there into `buf`.
    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError>;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn latency(&self) -> Duration {
        (**self).latency()
    }
    fn adaptive_latency(&self) -> Option<LatencyBounds> {
        (**self).adaptive_latency()
    }
    fn baud(&self) -> BaudRate {
        (**self).baud()
    }
    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        (**self).set_baud(baud)
    }
    fn clear_input(&mut self) -> Result<(), LinkError> {
        (**self).clear_input()
    }
    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        (**self).send(bytes)
    }
    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        (**self).receive(buf, deadline)
    }
}

/// An async connection to a bus; the same contract as [`Transport`].
pub trait AsyncTransport {
    /// The transport's clock.
    fn now(&self) -> Duration;
    /// Extra arrival latency (see [`Transport::latency`]).
    fn latency(&self) -> Duration;
    /// Bounds of an adaptive latency allowance (see [`Transport::adaptive_latency`]).
    fn adaptive_latency(&self) -> Option<LatencyBounds> {
        None
    }
    /// The current line rate.
    fn baud(&self) -> BaudRate;
    /// Switches the line rate.
    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError>;
    /// Discards bytes received and not yet read.
    fn clear_input(&mut self) -> impl Future<Output = Result<(), LinkError>> + Send;
    /// Writes `bytes`; resolves to when their last bit will have left the line.
    fn send(&mut self, bytes: &[u8]) -> impl Future<Output = Result<Duration, LinkError>> + Send;
    /// Waits until bytes are available or `deadline` passes.
    fn receive(
        &mut self,
        buf: &mut [u8],
        deadline: Duration,
    ) -> impl Future<Output = Result<Received, LinkError>> + Send;
}
