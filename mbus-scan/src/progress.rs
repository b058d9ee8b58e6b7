//! Progress events and cancellation, for progress bars, web UIs and stop buttons.

use core::time::Duration;
use mbus_proto::address::{BaudRate, SecondaryMask};
use serde::{Serialize, Serializer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a scan is probing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A primary address.
    Primary(u8),
    /// A secondary select mask; `depth` is the number of nibbles that are not wildcards.
    Secondary {
        /// The mask just probed.
        mask: SecondaryMask,
        /// How many of its 16 nibbles are fixed (or known to be `F`).
        depth: u8,
    },
}

impl Serialize for Probe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Probe::Primary(a) => s.serialize_str(&format!("primary {a}")),
            Probe::Secondary { mask, .. } => s.serialize_str(&format!("mask {mask}")),
        }
    }
}

/// One progress event, sent after every probe and every meter found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Progress {
    /// The baud rate being scanned.
    #[serde(serialize_with = "bps")]
    pub baud: BaudRate,
    /// The last probe.
    pub probe: Probe,
    /// Requests sent so far (selects and data requests).
    pub probes: u64,
    /// Meters found so far.
    pub found: usize,
    /// Bus time so far.
    #[serde(serialize_with = "seconds")]
    pub bus_time: Duration,
    /// Estimated part of the whole scan done, 0.0…1.0.
    pub fraction: f64,
}

fn bps<S: Serializer>(b: &BaudRate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u32(b.bps())
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// A shared flag that stops a running scan between two probes.
///
/// ```
/// use mbus_scan::CancelToken;
/// let token = CancelToken::new();
/// let for_the_stop_button = token.clone();
/// for_the_stop_button.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Asks every scan holding a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
