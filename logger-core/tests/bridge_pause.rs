//! Scheduled reads while the level-converter bridge has the bus, on virtual time: they pause,
//! the slots that pass are counted as missed, and reads resume when the bus is given back.

use chrono::{DateTime, Duration, TimeZone, Utc};
use logger_core::bus::{MeterBus, Purpose};
use logger_core::clock::ManualClock;
use logger_core::config::ReadCycle;
use logger_core::engine::{Logger, ScanKind};
use logger_core::events::EventCode;
use logger_core::simulation::SimInstallation;
use logger_core::status::{LoggerState, StatusBoard};
use logger_core::storage::MeterId;
use mbus_proto::address::BaudRate;
use std::sync::Arc;

mod support;

fn reading_counts<B: MeterBus>(logger: &Logger<B>) -> Vec<u64> {
    logger
        .config()
        .meters
        .iter()
        .map(|m| logger.store().reading_count(MeterId(m.id)).unwrap())
        .collect()
}

#[test]
fn reads_pause_while_the_bridge_has_the_bus_and_the_missed_slots_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let sim = SimInstallation::new(3, 7, BaudRate::B9600, &[]);
    let (mut logger, _clock, _) = support::scanned_logger(dir.path(), sim, start, |config| {
        config.general.default_cycle = ReadCycle::M1;
        config.general.timezone = "Europe/Berlin".into();
    });
    logger.run_until(start + Duration::minutes(5)).unwrap();
    let before = reading_counts(&logger);
    // The scan's reading (just after 08:00) and the slots 08:01 … 08:04.
    assert_eq!(before, vec![5, 5, 5]);

    let arbiter = logger.arbiter();
    let bridge = arbiter.acquire(Purpose::Bridge);
    logger.run_until(start + Duration::minutes(15)).unwrap();
    assert_eq!(reading_counts(&logger), before, "no reads while bridged");
    assert_eq!(logger.state(), LoggerState::Rs);
    assert_eq!(StatusBoard::load(dir.path()).state, LoggerState::Rs);
    assert!(logger
        .events()
        .entries()
        .all(|e| e.code != EventCode::ReadsResumed));

    drop(bridge);
    logger.run_until(start + Duration::minutes(20)).unwrap();
    // Slots 08:15 … 08:19 are read again; 08:05 … 08:14 (10 per meter) were missed.
    let after = reading_counts(&logger);
    assert_eq!(after, vec![10, 10, 10]);
    for m in &logger.config().meters {
        assert_eq!(
            logger.status().meter(m.id).skipped_slots,
            10,
            "meter {}",
            m.id
        );
    }
    let resumed: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::ReadsResumed)
        .collect();
    assert_eq!(resumed.len(), 1);
    assert!(
        resumed[0].message.contains(
            "(04.05.2026 10:05:00 to 04.05.2026 10:15:00): 30 read slot(s) of 3 meter(s) missed"
        ),
        "{}",
        resumed[0].message
    );
    assert_eq!(logger.state(), LoggerState::Idle);
    assert_eq!(StatusBoard::load(dir.path()).state, LoggerState::Idle);
}

/// A simulated installation that, after the first meter of a cycle, waits until a bridge
/// session has asked for the bus: the moment "a PC program connects mid-cycle", made exact.
struct Interrupted {
    sim: SimInstallation,
    calls: u32,
    armed: bool,
    reached: std::sync::mpsc::Sender<()>,
    go: std::sync::mpsc::Receiver<()>,
}

impl MeterBus for Interrupted {
    type Transport = <SimInstallation as MeterBus>::Transport;

    fn master(&mut self) -> &mut mbus_link::Master<Self::Transport> {
        self.sim.master()
    }

    fn before_cycle(&mut self, at: DateTime<Utc>) {
        self.sim.before_cycle(at);
    }

    fn bus_time(&mut self) -> std::time::Duration {
        self.calls += 1;
        // Calls 1 and 2 frame the first meter's read.
        if self.armed && self.calls == 2 {
            self.armed = false;
            self.reached.send(()).unwrap();
            self.go.recv().unwrap();
        }
        self.sim.bus_time()
    }
}

#[test]
fn a_cycle_hands_the_bus_over_after_the_meter_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 30).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let (reached_tx, reached) = std::sync::mpsc::channel();
    let (go, go_rx) = std::sync::mpsc::channel();
    let bus = Interrupted {
        sim: SimInstallation::new(4, 7, BaudRate::B9600, &[]),
        calls: 0,
        armed: false,
        reached: reached_tx,
        go: go_rx,
    };
    let mut logger = Logger::open(dir.path(), bus, clock.clone()).unwrap();
    let mut config = logger.config().clone();
    config.general.default_cycle = ReadCycle::M1;
    logger.set_config(config).unwrap();
    logger
        .scan(
            &ScanKind::Primary(Default::default()),
            |_| {},
            Default::default(),
        )
        .unwrap();
    assert_eq!(logger.config().meters.len(), 4);

    {
        let arbiter = logger.arbiter();
        let mut bus = arbiter.acquire(Purpose::Scan);
        bus.armed = true;
        bus.calls = 0;
    }
    let arbiter = logger.arbiter();
    let program = std::thread::spawn(move || {
        reached.recv().unwrap();
        let a = Arc::clone(&arbiter);
        let session = std::thread::spawn(move || {
            // Waits until the cycle has given the bus up, holds it, gives it back.
            let _bus = a.acquire(Purpose::Bridge);
        });
        while !arbiter.bridged() {
            std::thread::yield_now();
        }
        go.send(()).unwrap();
        session.join().unwrap();
    });
    let slot = logger.next_due().unwrap();
    clock.set(slot);
    let report = logger.run_due().unwrap();
    program.join().unwrap();
    assert_eq!((report.read, report.missed), (1, 3), "{report:?}");
    logger
        .run_until(slot + Duration::minutes(2) + Duration::seconds(1))
        .unwrap();
    let resumed: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::ReadsResumed)
        .collect();
    assert_eq!(resumed.len(), 1);
    assert!(
        resumed[0]
            .message
            .ends_with("3 read slot(s) of 3 meter(s) missed"),
        "{}",
        resumed[0].message
    );
    // The two slots after it were read by every meter.
    assert_eq!(
        reading_counts(&logger),
        vec![4, 3, 3, 3],
        "the scan, the interrupted slot (first meter only), the two after it"
    );
}
