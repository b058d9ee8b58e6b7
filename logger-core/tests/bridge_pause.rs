//! Scheduled reads while the level-converter bridge has the bus, on virtual time: they pause,
//! the slots that pass are counted as missed, and reads resume when the bus is given back.

use chrono::{DateTime, Duration, TimeZone, Utc};
use logger_core::bus::Purpose;
use logger_core::config::ReadCycle;
use logger_core::engine::Logger;
use logger_core::events::EventCode;
use logger_core::simulation::SimInstallation;
use logger_core::status::{LoggerState, StatusBoard};
use logger_core::storage::MeterId;
use mbus_proto::address::BaudRate;

mod support;

fn reading_counts(logger: &Logger<SimInstallation>) -> Vec<u64> {
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
