//! The bus: one master at a time. Scans, scheduled reads, the level-converter
//! bridge and manual requests all queue at the [`BusArbiter`] and get the bus in the order
//! they asked for it; the arbiter also tells the logger state (idle/scan/read/rs/err).
//!
//! [`MeterBus`] is what the engine reads meters through: a `mbus-link` [`Master`] over any
//! transport (serial, TCP gateway, simulated bus), optionally with a hook that runs before
//! each read cycle (the simulation uses it to let meter values move on).

use crate::config::{Addressing, Meter, ResetMode};
use crate::status::LoggerState;
use chrono::{DateTime, Utc};
use mbus_link::{LinkConfig, LinkError, Master, Transport};
use mbus_proto::address::{LinkAddress, PrimaryAddress, SecondaryAddress, SecondaryMask};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Why someone holds the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Meter search.
    Scan,
    /// Scheduled reads.
    Read,
    /// Level-converter bridge (state `rs`).
    Bridge,
    /// A single request on a user's behalf.
    Manual,
}

#[derive(Debug, Default)]
struct Queue {
    next_ticket: u64,
    serving: u64,
    holder: Option<Purpose>,
    /// Bridge sessions waiting for their turn.
    bridges_waiting: u32,
}

impl Queue {
    fn bridged(&self) -> bool {
        self.holder == Some(Purpose::Bridge) || self.bridges_waiting > 0
    }
}

/// Gives the bus to one user at a time, first come first served.
///
/// ```
/// use logger_core::bus::{BusArbiter, Purpose};
/// use logger_core::status::LoggerState;
/// let arbiter = BusArbiter::new(Vec::<u8>::new());
/// {
///     let mut bus = arbiter.acquire(Purpose::Scan);
///     bus.push(1);
///     assert_eq!(arbiter.state(), LoggerState::Scan);
/// }
/// assert_eq!(arbiter.state(), LoggerState::Idle);
/// ```
#[derive(Debug)]
pub struct BusArbiter<B> {
    queue: Mutex<Queue>,
    turn: Condvar,
    fault: AtomicBool,
    bus: Mutex<B>,
}

impl<B> BusArbiter<B> {
    /// An arbiter for `bus`.
    pub fn new(bus: B) -> BusArbiter<B> {
        BusArbiter {
            queue: Mutex::new(Queue::default()),
            turn: Condvar::new(),
            fault: AtomicBool::new(false),
            bus: Mutex::new(bus),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the bus (behind everyone who asked earlier) and holds it until the guard is
    /// dropped.
    pub fn acquire(&self, purpose: Purpose) -> BusGuard<'_, B> {
        let q = self.queue();
        self.wait_turn(q, purpose)
    }

    /// [`BusArbiter::acquire`] unless the level-converter bridge holds the bus or waits for it:
    /// then `None` at once (scheduled reads pause while a PC program is the master).
    pub fn acquire_unless_bridged(&self, purpose: Purpose) -> Option<BusGuard<'_, B>> {
        let q = self.queue();
        if q.bridged() {
            return None;
        }
        Some(self.wait_turn(q, purpose))
    }

    fn wait_turn(&self, mut q: MutexGuard<'_, Queue>, purpose: Purpose) -> BusGuard<'_, B> {
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        let bridge = purpose == Purpose::Bridge;
        q.bridges_waiting += u32::from(bridge);
        while q.serving != ticket {
            q = self.turn.wait(q).unwrap_or_else(|e| e.into_inner());
        }
        q.bridges_waiting -= u32::from(bridge);
        q.holder = Some(purpose);
        drop(q);
        BusGuard {
            arbiter: self,
            bus: self.bus.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Whether the level-converter bridge holds the bus or waits for it: a read cycle ends
    /// after the meter it is reading, so the bridge gets the bus after one transaction.
    pub fn bridged(&self) -> bool {
        self.queue().bridged()
    }

    /// Users waiting for the bus, the holder included.
    pub fn queued(&self) -> u64 {
        let q = self.queue();
        q.next_ticket - q.serving
    }

    /// Marks the bus as faulty (short circuit) or healthy again.
    pub fn set_fault(&self, fault: bool) {
        self.fault.store(fault, Ordering::SeqCst);
    }

    /// The logger state: `err` while the bus is faulty, else what the holder does, `idle`
    /// when nobody holds the bus.
    pub fn state(&self) -> LoggerState {
        if self.fault.load(Ordering::SeqCst) {
            return LoggerState::Err;
        }
        match self.queue().holder {
            None => LoggerState::Idle,
            Some(Purpose::Scan) => LoggerState::Scan,
            Some(Purpose::Read) | Some(Purpose::Manual) => LoggerState::Read,
            Some(Purpose::Bridge) => LoggerState::Rs,
        }
    }
}

/// Exclusive use of the bus; dropping it hands the bus to the next in line.
#[derive(Debug)]
pub struct BusGuard<'a, B> {
    arbiter: &'a BusArbiter<B>,
    bus: MutexGuard<'a, B>,
}

impl<B> Deref for BusGuard<'_, B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.bus
    }
}

impl<B> DerefMut for BusGuard<'_, B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.bus
    }
}

impl<B> Drop for BusGuard<'_, B> {
    fn drop(&mut self) {
        let mut q = self.arbiter.queue();
        q.serving += 1;
        q.holder = None;
        drop(q);
        self.arbiter.turn.notify_all();
    }
}

/// A bus the engine can read meters on.
pub trait MeterBus: Send {
    /// The transport under the master.
    type Transport: Transport;

    /// The link master.
    fn master(&mut self) -> &mut Master<Self::Transport>;

    /// Runs before each read cycle with the cycle's time (the simulation moves its meters'
    /// values on; a real bus does nothing).
    fn before_cycle(&mut self, _at: DateTime<Utc>) {}

    /// Time on the transport's clock (virtual on the simulated bus).
    fn bus_time(&mut self) -> Duration {
        self.master().transport().now()
    }
}

/// A plain `mbus-link` master as a [`MeterBus`].
pub struct LinkBus<T> {
    master: Master<T>,
}

impl<T> std::fmt::Debug for LinkBus<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkBus").finish_non_exhaustive()
    }
}

impl<T> LinkBus<T> {
    /// Wraps a master.
    pub fn new(master: Master<T>) -> LinkBus<T> {
        LinkBus { master }
    }
}

impl<T: Transport + Send> MeterBus for LinkBus<T> {
    type Transport = T;
    fn master(&mut self) -> &mut Master<T> {
        &mut self.master
    }
}

/// The secondary address a configured meter is read by, if it is read by secondary address.
pub fn read_by_secondary(meter: &Meter) -> Option<SecondaryAddress> {
    match (meter.addressing, meter.secondary) {
        (Addressing::Secondary, Some(s)) => Some(s),
        _ => None,
    }
}

/// Deselects the meter the last secondary read left selected, before the bus is handed on.
/// Within a batch every select replaces the previous selection, so one deselect at the end
/// suffices; a failure only means no meter was selected any more.
pub fn release_selection<T: Transport>(master: &mut Master<T>) {
    if let Err(e) = master.deselect() {
        tracing::debug!(error = %e, "deselect after secondary reads");
    }
}

/// Reads all telegrams of a configured meter: switches to its baud rate, sends the configured
/// reset, then reads by primary or secondary address. `timeout` is the response timeout; it
/// is never shorter than the standard window at the meter's baud rate (330 bit times + 50 ms
/// + the transport's latency), so slow meters stay readable with a short setting.
pub fn read_meter<T: Transport>(
    master: &mut Master<T>,
    meter: &Meter,
    timeout: Duration,
) -> Result<Vec<Vec<u8>>, LinkError> {
    let baud = meter.baud_rate();
    if master.baud() != baud {
        master.set_baud(baud)?;
    }
    let standard = LinkConfig::default().response_timeout_at(baud, master.transport().latency());
    let timeout = timeout.max(standard);
    let mut config = master.config().clone();
    if config.response_timeout != Some(timeout) {
        config.response_timeout = Some(timeout);
        master.set_config(config);
    }
    let secondary = read_by_secondary(meter);
    if meter.reset != ResetMode::Off {
        let address = match secondary {
            Some(s) => {
                master.select(&SecondaryMask::exact(&s))?;
                LinkAddress::Selected
            }
            None => PrimaryAddress::new(meter.primary)?.into(),
        };
        match meter.reset {
            ResetMode::SndNke => master.snd_nke(address)?,
            ResetMode::ApplicationReset { subcode } => {
                master.application_reset(address, subcode)?
            }
            ResetMode::Off => {}
        }
    }
    let telegrams = match secondary {
        Some(s) => master.read_secondary(&s)?,
        None => master.read_primary(PrimaryAddress::new(meter.primary)?)?,
    };
    Ok(telegrams.into_iter().map(|t| t.into_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn users_get_the_bus_one_at_a_time_in_arrival_order() {
        let arbiter = Arc::new(BusArbiter::new(Vec::<usize>::new()));
        let first = arbiter.acquire(Purpose::Read);
        let mut handles = Vec::new();
        for i in 0..6 {
            let a = Arc::clone(&arbiter);
            handles.push(std::thread::spawn(move || {
                let purpose = if i % 2 == 0 {
                    Purpose::Manual
                } else {
                    Purpose::Scan
                };
                let mut bus = a.acquire(purpose);
                bus.push(i);
            }));
            // Wait until thread i has taken its ticket, so arrival order is known.
            while arbiter.queued() < i as u64 + 2 {
                std::thread::yield_now();
            }
        }
        assert_eq!(arbiter.state(), LoggerState::Read);
        drop(first);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*arbiter.acquire(Purpose::Read), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(arbiter.queued(), 0);
    }

    #[test]
    fn concurrent_users_never_overlap() {
        let arbiter = Arc::new(BusArbiter::new(0u32));
        let inside = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let a = Arc::clone(&arbiter);
                let inside = Arc::clone(&inside);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let mut bus = a.acquire(Purpose::Read);
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        *bus += 1;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*arbiter.acquire(Purpose::Read), 800);
    }

    #[test]
    fn state_follows_holder_and_fault() {
        let arbiter = BusArbiter::new(());
        assert_eq!(arbiter.state(), LoggerState::Idle);
        {
            let _g = arbiter.acquire(Purpose::Bridge);
            assert_eq!(arbiter.state(), LoggerState::Rs);
        }
        arbiter.set_fault(true);
        assert_eq!(arbiter.state(), LoggerState::Err);
        arbiter.set_fault(false);
        assert_eq!(arbiter.state(), LoggerState::Idle);
    }

    #[test]
    fn reads_step_aside_while_the_bridge_holds_or_awaits_the_bus() {
        let arbiter = Arc::new(BusArbiter::new(()));
        let read = arbiter.acquire(Purpose::Read);
        assert!(!arbiter.bridged());
        let waiting = {
            let a = Arc::clone(&arbiter);
            std::thread::spawn(move || {
                let _bridge = a.acquire(Purpose::Bridge);
                assert_eq!(a.state(), LoggerState::Rs);
            })
        };
        while !arbiter.bridged() {
            std::thread::yield_now();
        }
        // The bridge waits behind the read in progress; new reads do not queue up.
        assert_eq!(arbiter.state(), LoggerState::Read);
        drop(read);
        waiting.join().unwrap();
        assert!(!arbiter.bridged());
        let bridge = arbiter.acquire(Purpose::Bridge);
        assert!(arbiter.acquire_unless_bridged(Purpose::Read).is_none());
        drop(bridge);
        assert!(arbiter.acquire_unless_bridged(Purpose::Read).is_some());
        assert_eq!(arbiter.queued(), 0);
    }
}
