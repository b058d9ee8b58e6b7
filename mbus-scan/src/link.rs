//! [`ScanBus`] for `mbus-link`'s blocking [`Master`] over any [`Transport`]: serial, TCP
//! gateway or the simulated bus.
//!
//! Each request is sent exactly once (the scanner decides about retries); the master's own
//! configuration is left as it was after every request. A response timeout set in the master's
//! [`LinkConfig`] is kept for [`Listen::Gap`] and [`Listen::Window`].

use crate::bus::{Listen, ReadReply, ScanBus, SelectReply};
use core::time::Duration;
use mbus_link::config::{char_times, garbled_drain_limit};
use mbus_link::{LinkConfig, LinkError, ListenAfterFrame, Master, RetryPolicy, Transport};
use mbus_proto::address::{BaudRate, LinkAddress, SecondaryMask};
use mbus_proto::frame::MAX_FRAME_LEN;
use mbus_proto::request;

impl<T: Transport> ScanBus for Master<T> {
    type Error = LinkError;

    fn baud(&self) -> BaudRate {
        Master::baud(self)
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        Master::set_baud(self, baud)
    }

    fn select(&mut self, mask: &SecondaryMask, listen: Listen) -> Result<SelectReply, LinkError> {
        let start = self.transport().now();
        let outcome = once(self, listen, |m| m.select(mask))?;
        let reply = match outcome {
            mbus_link::SelectOutcome::Selected => SelectReply::Ack,
            mbus_link::SelectOutcome::NoReply => return Ok(SelectReply::Silent),
            mbus_link::SelectOutcome::Garbled => SelectReply::Garbled,
        };
        let request_len = request::select_secondary(mask).len();
        settle(
            self,
            listen,
            reply == SelectReply::Garbled,
            start,
            (request_len, 1),
        )
        .map(|extra| if extra { SelectReply::Garbled } else { reply })
    }

    fn read(
        &mut self,
        address: LinkAddress,
        fcb: bool,
        listen: Listen,
    ) -> Result<ReadReply, LinkError> {
        let start = self.transport().now();
        let reply = match once(self, listen, |m| m.request_ud2(address, fcb)) {
            Ok(telegram) => ReadReply::Telegram(telegram),
            Err(LinkError::NoReply { .. }) => return Ok(ReadReply::Silent),
            // A stray `E5` or a master frame instead of RSP_UD: another sender on the line.
            Err(LinkError::Garbled { .. } | LinkError::UnexpectedFrame { .. }) => {
                ReadReply::Garbled
            }
            Err(e) => return Err(e),
        };
        let request_len = request::req_ud2(address.byte(), fcb).len();
        let garbled = reply == ReadReply::Garbled;
        settle(self, listen, garbled, start, (request_len, MAX_FRAME_LEN)).map(|extra| {
            if extra {
                ReadReply::Garbled
            } else {
                reply
            }
        })
    }

    fn elapsed(&self) -> Duration {
        self.transport().now()
    }

    /// The request (and its echo), the response window, then whichever is longer: garbage
    /// drained up to the master's limit, or the longest frame with every character just inside
    /// the inter-character timeout; plus the character that crosses the limit.
    fn longest_exchange(&self, baud: BaudRate) -> Duration {
        let latency = self.transport().latency();
        let config = self.config();
        let request = char_times(request::select_secondary(&SecondaryMask::ALL).len(), baud);
        let char_time = char_times(1, baud);
        let slow_frame =
            (char_time + config.inter_char_timeout_at(baud, latency)) * MAX_FRAME_LEN as u32;
        request * 2
            + config.response_timeout_at(baud, latency)
            + garbled_drain_limit().max(slow_frame)
            + char_time
    }
}

/// Runs `f` with a configuration for one attempt and the given listening, then restores the
/// master's configuration.
fn once<T: Transport, R>(
    master: &mut Master<T>,
    listen: Listen,
    f: impl FnOnce(&mut Master<T>) -> Result<R, LinkError>,
) -> Result<R, LinkError> {
    let saved = master.config().clone();
    let (response_timeout, listen_after_frame) = match listen {
        Listen::Gap => (saved.response_timeout, ListenAfterFrame::Gap),
        Listen::Window => (saved.response_timeout, ListenAfterFrame::Window),
        Listen::Linger(timeout) => (Some(timeout), ListenAfterFrame::Return),
    };
    master.set_config(LinkConfig {
        response_timeout,
        listen_after_frame,
        retries: RetryPolicy {
            on_silence: 0,
            on_garbled: 0,
        },
        ..saved.clone()
    });
    let result = f(master);
    master.set_config(saved);
    result
}

/// After a reply: with [`Listen::Linger`], keep receiving until the line stays quiet for the
/// linger time (libmbus's purge). After garbage, receive until every reply that may still be
/// on its way has ended, so late or long replies of other meters cannot spill into the next
/// request. True if more bytes arrived (only counted for [`Listen::Linger`]).
fn settle<T: Transport>(
    master: &mut Master<T>,
    listen: Listen,
    garbled: bool,
    start: Duration,
    (request_len, reply_chars): (usize, usize),
) -> Result<bool, LinkError> {
    let transport_latency = master.transport().latency();
    let baud = Master::baud(master);
    let mut buf = [0u8; MAX_FRAME_LEN];
    match listen {
        Listen::Linger(quiet) => {
            let mut extra = false;
            loop {
                let deadline = master.transport().now() + quiet;
                let got = master.transport_mut().receive(&mut buf, deadline)?;
                if got.len == 0 {
                    return Ok(extra);
                }
                extra = true;
            }
        }
        Listen::Gap | Listen::Window if garbled => {
            // Every reply starts within the response window and lasts at most `reply_chars`
            // characters; colliding replies AND into breaks of any length, so only the end of
            // the longest possible reply is sure to leave a quiet line. Short replies (`E5`) end
            // one character after the window.
            let config = master.config();
            let window = config.response_timeout_at(baud, transport_latency);
            let hard_end = start + char_times(request_len + reply_chars, baud) + window;
            while master.transport().now() < hard_end {
                if master.transport_mut().receive(&mut buf, hard_end)?.len == 0 {
                    break;
                }
            }
            Ok(false)
        }
        Listen::Gap | Listen::Window => Ok(false),
    }
}
