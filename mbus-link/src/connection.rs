//! What the real connections (serial ports and TCP gateways, blocking and async) share: the line
//! rate, a monotonic clock, and reading and writing against deadlines on that clock.

use crate::config::char_times;
use crate::error::LinkError;
use crate::transport::Received;
#[cfg(feature = "tokio")]
use core::future::Future;
use core::time::Duration;
use mbus_proto::address::BaudRate;
use std::io::ErrorKind;
use std::time::Instant;

/// The transport methods every real connection (blocking or async) answers from its
/// [`LineClock`] in a field `line`: `now`, `latency` (`latency:`), `adaptive_latency`
/// (`adaptive:`), `baud`, and `set_baud`, which first runs the `set_baud:` block (telling the
/// port, if it has one) with the connection as `$this` and the new rate as `$baud`.
macro_rules! line_clock_methods {
    (
        latency: $latency:expr,
        adaptive: $adaptive:expr,
        set_baud: |$this:ident, $baud:ident| $set:block
    ) => {
        fn now(&self) -> Duration {
            self.line.now()
        }

        fn latency(&self) -> Duration {
            $latency
        }

        fn adaptive_latency(&self) -> Option<$crate::config::LatencyBounds> {
            $adaptive
        }

        fn baud(&self) -> BaudRate {
            self.line.baud()
        }

        fn set_baud(&mut self, $baud: BaudRate) -> Result<(), LinkError> {
            let $this = &mut *self;
            $set
            $this.line.set_baud($baud);
            Ok(())
        }
    };
}
pub(crate) use line_clock_methods;

/// The line rate of a connection and its clock (time since it was opened).
#[derive(Debug)]
pub(crate) struct LineClock {
    baud: BaudRate,
    epoch: Instant,
}

impl LineClock {
    /// A clock starting now, for a line at `baud`.
    pub(crate) fn new(baud: BaudRate) -> LineClock {
        LineClock {
            baud,
            epoch: Instant::now(),
        }
    }

    /// Time since the connection was opened.
    pub(crate) fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The line rate.
    pub(crate) fn baud(&self) -> BaudRate {
        self.baud
    }

    /// Records a new line rate.
    pub(crate) fn set_baud(&mut self, baud: BaudRate) {
        self.baud = baud;
    }

    /// The result of a write of `len` bytes that just finished: when their last bit will have
    /// left the line, or the write error.
    pub(crate) fn written(
        &self,
        len: usize,
        result: std::io::Result<()>,
        what: &'static str,
    ) -> Result<Duration, LinkError> {
        result.map_err(|e| LinkError::from_write(e, what))?;
        Ok(self.now() + char_times(len, self.baud))
    }

    /// Writes with `write`, giving up after `limit`; see [`LineClock::written`].
    #[cfg(feature = "tokio")]
    pub(crate) async fn write_within(
        &self,
        len: usize,
        limit: Duration,
        what: &'static str,
        write: impl Future<Output = std::io::Result<()>>,
    ) -> Result<Duration, LinkError> {
        let result = tokio::time::timeout(limit, write)
            .await
            .map_err(|_| LinkError::Timeout(what))?;
        self.written(len, result, what)
    }

    /// One blocking read until `deadline`: `read` gets the time left and returns how many bytes
    /// it read (see [`bytes_read`]). Once the deadline has passed nothing is read.
    pub(crate) fn read_until(
        &self,
        deadline: Duration,
        read: impl FnOnce(Duration) -> Result<usize, LinkError>,
    ) -> Result<Received, LinkError> {
        let now = self.now();
        let len = match deadline.checked_sub(now).filter(|w| !w.is_zero()) {
            Some(wait) => read(wait)?,
            None => return Ok(nothing_at(now)),
        };
        Ok(self.received(len))
    }

    /// One async read that is abandoned at `deadline`.
    #[cfg(feature = "tokio")]
    pub(crate) async fn read_before(
        &self,
        deadline: Duration,
        read: impl Future<Output = Result<usize, LinkError>>,
    ) -> Result<Received, LinkError> {
        let at = tokio::time::Instant::from_std(self.epoch + deadline);
        let len = tokio::time::timeout_at(at, read).await.unwrap_or(Ok(0))?;
        Ok(self.received(len))
    }

    fn received(&self, len: usize) -> Received {
        Received {
            len,
            error: None,
            at: self.now(),
        }
    }
}

/// Nothing received by `at`.
fn nothing_at(at: Duration) -> Received {
    Received {
        len: 0,
        error: None,
        at,
    }
}

/// The outcome of a blocking read with a timeout: a timeout or an interruption read nothing.
pub(crate) fn bytes_read(result: std::io::Result<usize>) -> Result<usize, LinkError> {
    match result {
        Ok(n) => Ok(n),
        Err(e) => match e.kind() {
            ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted => Ok(0),
            _ => Err(e.into()),
        },
    }
}
