//! S0 pulse inputs (EN 62053-31): debouncing with bounce-storm detection, and pulse totals that
//! survive restarts and power loss.
//!
//! # Debouncing
//!
//! An S0 pulse lasts at least 30 ms with at least 30 ms between pulses, so a contact rarely
//! gives more than 16 pulses a second. [`Debouncer`] counts a rising edge only when the
//! previous counted edge is at least the debounce time back; edges closer together are bounce.
//! When more raw edges than [`STORM_EDGES`] arrive within [`STORM_WINDOW`], the input is in a
//! *bounce storm* (a loose wire, interference): counting goes on with the debounce rule, and the
//! status says so until a whole window passes calmly.
//!
//! # Totals across restarts
//!
//! Hardware counters start at zero with the process. [`Ledger`] keeps, per input, the total at
//! the last sync (persisted atomically in `s0-counters.json`) and the hardware count at that
//! moment; the total is always `persisted + (hardware now − hardware at sync)`. After a restart
//! the hardware mark is zero again, so no pulse is counted twice, and a power cut loses at most
//! the pulses since the last sync.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Raw edges within [`STORM_WINDOW`] above which an input is in a bounce storm.
pub const STORM_EDGES: usize = 50;
/// The window of the bounce-storm rule.
pub const STORM_WINDOW: Duration = Duration::from_secs(1);

/// What one raw edge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Counted as a pulse.
    Counted,
    /// Ignored as bounce.
    Bounce,
}

/// Debounces one input's rising edges (times on any monotonic clock).
#[derive(Debug, Clone)]
pub struct Debouncer {
    debounce: Duration,
    last: Option<Duration>,
    recent: VecDeque<Duration>,
    pulses: u64,
    bounced: u64,
    storm: bool,
}

impl Debouncer {
    /// A debouncer that counts edges at least `debounce` apart.
    pub fn new(debounce: Duration) -> Debouncer {
        Debouncer {
            debounce,
            last: None,
            recent: VecDeque::new(),
            pulses: 0,
            bounced: 0,
            storm: false,
        }
    }

    /// Takes a rising edge at `at` (edges arrive in time order).
    pub fn edge(&mut self, at: Duration) -> Edge {
        self.recent.push_back(at);
        self.calm_down(at);
        if self.recent.len() > STORM_EDGES {
            self.storm = true;
        }
        match self.last {
            Some(last) if at.saturating_sub(last) < self.debounce => {
                self.bounced += 1;
                Edge::Bounce
            }
            _ => {
                self.last = Some(at);
                self.pulses += 1;
                Edge::Counted
            }
        }
    }

    /// Lets time pass without edges: a storm ends once a whole window was calm.
    pub fn calm_down(&mut self, now: Duration) {
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_sub(*t) > STORM_WINDOW)
        {
            self.recent.pop_front();
        }
        if self.storm && self.recent.len() <= 1 {
            self.storm = false;
        }
    }

    /// Pulses counted so far.
    pub fn pulses(&self) -> u64 {
        self.pulses
    }

    /// Edges ignored as bounce so far.
    pub fn bounced(&self) -> u64 {
        self.bounced
    }

    /// Whether the input is in a bounce storm.
    pub fn in_storm(&self) -> bool {
        self.storm
    }
}

/// Name of the S0 totals file in the data directory.
pub const LEDGER_FILE: &str = "s0-counters.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Persisted {
    totals: Vec<u64>,
}

/// Pulse totals per input that survive restarts (see the module documentation).
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    synced: Vec<u64>,
    marks: Vec<u64>,
    latest: Vec<u64>,
}

impl Ledger {
    /// Opens the totals of `inputs` inputs in `data_dir`; a missing or unreadable file starts
    /// at zero (reported by the caller as an event if it matters).
    pub fn open(data_dir: &Path, inputs: usize) -> Ledger {
        let path = data_dir.join(LEDGER_FILE);
        let mut synced = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Persisted>(&bytes).ok())
            .map(|p| p.totals)
            .unwrap_or_default();
        synced.resize(inputs, 0);
        Ledger {
            path,
            latest: synced.clone(),
            synced,
            marks: vec![0; inputs],
        }
    }

    /// The total of `input` given the hardware count now. A hardware count lower than at the
    /// last sync means the counter restarted: it counts from zero again.
    pub fn observe(&mut self, input: usize, hardware: u64) -> u64 {
        let (Some(synced), Some(mark), Some(latest)) = (
            self.synced.get_mut(input),
            self.marks.get_mut(input),
            self.latest.get_mut(input),
        ) else {
            return 0;
        };
        if hardware < *mark {
            *synced = *latest;
            *mark = 0;
        }
        *latest = *synced + (hardware - *mark);
        *latest
    }

    /// Sets the total of `input` (an edited start value), taking `hardware` as the new mark.
    pub fn set_total(&mut self, input: usize, total: u64, hardware: u64) {
        if let (Some(s), Some(m), Some(l)) = (
            self.synced.get_mut(input),
            self.marks.get_mut(input),
            self.latest.get_mut(input),
        ) {
            (*s, *m, *l) = (total, hardware, total);
        }
    }

    /// Writes the latest totals to disk atomically; from now on they are the base.
    pub fn sync(&mut self) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(&Persisted {
            totals: self.latest.clone(),
        })
        .map_err(std::io::Error::other)?;
        crate::atomic::write(&self.path, &bytes)?;
        for (i, latest) in self.latest.iter().enumerate() {
            let moved = latest - self.synced[i];
            self.synced[i] = *latest;
            self.marks[i] += moved;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn bounces_within_the_debounce_time_are_not_counted() {
        let mut d = Debouncer::new(ms(20));
        // A pulse every 100 ms, each followed by two contact bounces 2 and 5 ms later.
        for p in 0..10 {
            let t = p * 100;
            assert_eq!(d.edge(ms(t)), Edge::Counted);
            assert_eq!(d.edge(ms(t + 2)), Edge::Bounce);
            assert_eq!(d.edge(ms(t + 5)), Edge::Bounce);
        }
        assert_eq!((d.pulses(), d.bounced()), (10, 20));
        assert!(!d.in_storm());
    }

    #[test]
    fn a_bounce_storm_is_flagged_and_ends_after_a_calm_window() {
        let mut d = Debouncer::new(ms(20));
        // 200 edges within one second (every 5 ms): a storm; only the debounced ones count.
        for i in 0..200 {
            d.edge(ms(i * 5));
        }
        assert!(d.in_storm());
        assert_eq!(d.pulses(), 50);
        d.calm_down(ms(995 + 500));
        assert!(d.in_storm(), "the window is not calm yet");
        d.calm_down(ms(995 + 1001));
        assert!(!d.in_storm());
        assert_eq!(d.edge(ms(3000)), Edge::Counted);
    }

    #[test]
    fn totals_survive_restarts_without_counting_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path(), 4);
        assert_eq!(ledger.observe(0, 120), 120);
        ledger.sync().unwrap();
        assert_eq!(ledger.observe(0, 150), 150);
        ledger.sync().unwrap();
        // 7 more pulses after the last sync, then power is lost: they are the only loss.
        assert_eq!(ledger.observe(0, 157), 157);
        drop(ledger);

        let mut ledger = Ledger::open(dir.path(), 4);
        // The hardware counts from zero after the restart.
        assert_eq!(ledger.observe(0, 0), 150);
        assert_eq!(ledger.observe(0, 10), 160);
        assert_eq!(ledger.observe(1, 3), 3);
        ledger.sync().unwrap();
        // Syncing again without new pulses changes nothing.
        ledger.sync().unwrap();
        assert_eq!(ledger.observe(0, 10), 160);
        // A backend restarted within the process counts from zero: no pulse is lost.
        assert_eq!(ledger.observe(0, 2), 162);
        ledger.set_total(2, 1_000_000, 5);
        assert_eq!(ledger.observe(2, 6), 1_000_001);
        ledger.sync().unwrap();
        drop(ledger);
        let mut ledger = Ledger::open(dir.path(), 4);
        assert_eq!(
            (0..4).map(|i| ledger.observe(i, 0)).collect::<Vec<_>>(),
            vec![162, 3, 1_000_001, 0]
        );
        // Unknown inputs count nothing rather than failing.
        assert_eq!(ledger.observe(9, 5), 0);
    }
}
