//! Time source of the engine: the system clock in production, a manual (virtual) clock in
//! tests and simulations, so schedules can be checked across days, DST changes and years
//! without waiting.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

/// Where the engine gets the current time and how it waits.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// Waits until `deadline` (returns at once if it has passed).
    fn sleep_until(&self, deadline: DateTime<Utc>);
    /// Lets `elapsed` pass, as time spent on the bus does. The system clock ignores it (real
    /// time passes by itself); a virtual clock advances.
    fn spend(&self, elapsed: std::time::Duration);
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) {
        if let Ok(wait) = (deadline - Utc::now()).to_std() {
            std::thread::sleep(wait);
        }
    }

    fn spend(&self, _elapsed: std::time::Duration) {}
}

/// A virtual clock that only moves when told to: sleeping jumps to the deadline.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use logger_core::clock::{Clock, ManualClock};
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).unwrap());
/// clock.sleep_until(Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock (also backwards, as a manual time change does).
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if deadline > *now {
            *now = deadline;
        }
    }

    fn spend(&self, elapsed: std::time::Duration) {
        if let Ok(d) = Duration::from_std(elapsed) {
            self.advance(d);
        }
    }
}
