//! The engine on the simulated bus, on virtual time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use logger_core::bus::{MeterBus, Purpose};
use logger_core::clock::{Clock, ManualClock};
use logger_core::config::ReadCycle;
use logger_core::engine::{Logger, ScanKind};
use logger_core::events::{EventCode, Kind};
use logger_core::simulation::SimInstallation;
use logger_core::status::{LoggerState, ReadStatus};
use logger_core::storage::{MeterId, Reading};
use mbus_proto::address::{BaudRate, PrimaryAddress};
use std::sync::Arc;

#[path = "support/corpus.rs"]
mod corpus;
mod support;
use corpus::{corpus_template, with_configuration};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn logger(
    dir: &std::path::Path,
    meters: usize,
    cycle: ReadCycle,
    start: DateTime<Utc>,
) -> (Logger<SimInstallation>, Arc<ManualClock>) {
    logger_at(dir, meters, BaudRate::B9600, cycle, start)
}

fn logger_at(
    dir: &std::path::Path,
    meters: usize,
    baud: BaudRate,
    cycle: ReadCycle,
    start: DateTime<Utc>,
) -> (Logger<SimInstallation>, Arc<ManualClock>) {
    let sim = SimInstallation::new(meters, 7, baud, &[]);
    let (logger, clock, summary) = support::scanned_logger(dir, sim, start, |config| {
        config.general.default_cycle = cycle;
        config.general.timezone = "Europe/Berlin".into();
    });
    assert_eq!(
        (summary.found, summary.added.len(), summary.conflicts),
        (meters, meters, 0)
    );
    // The scan read every meter completely: one reading each, stamped with its time.
    assert_eq!(
        (
            summary.reads.read,
            summary.reads.failed,
            summary.reads.stored
        ),
        (meters, 0, meters)
    );
    assert!(summary.reads.values >= meters);
    for m in &logger.config().meters {
        let rs = readings(&logger, m.id);
        assert_eq!(rs.len(), 1, "meter {}", m.id);
        assert!((start.timestamp()..=clock.now().timestamp()).contains(&rs[0].time));
        let status = logger.status().meter(m.id);
        assert_eq!(status.status, ReadStatus::Ok);
        assert_eq!(status.last_success.map(|t| t.timestamp()), Some(rs[0].time));
    }
    (logger, clock)
}

fn readings(logger: &Logger<SimInstallation>, id: u32) -> Vec<Reading> {
    logger
        .store()
        .readings(MeterId(id), 0, i64::MAX)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The readings of the read slots: all but the first, which the scan stored (checked in
/// [`logger_at`]).
fn slot_readings(logger: &Logger<SimInstallation>, id: u32) -> Vec<Reading> {
    readings(logger, id).split_off(1)
}

#[test]
fn twenty_meters_every_ten_seconds_are_stored_exactly_on_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 3);
    let (mut logger, clock) = logger(dir.path(), 20, ReadCycle::S10, start);
    // Templates were applied: the simulated heat meters log energy in kWh.
    let m = &logger.config().meters[0];
    assert_eq!(m.registers[0].unit, "kWh");
    assert_eq!(m.registers[0].divisor, 1000.0);
    assert!(m.name.starts_with("SIM heat "), "{}", m.name);
    logger.run_until(start + Duration::minutes(10)).unwrap();
    assert!(clock.now() >= start + Duration::minutes(10));
    let mut total = 0;
    for meter in &logger.config().meters {
        let rs = slot_readings(&logger, meter.id);
        assert!(
            rs.len() >= 55,
            "meter {} has {} readings",
            meter.id,
            rs.len()
        );
        for r in &rs {
            assert_eq!(r.time % 10, 0, "off grid: {}", r.time);
        }
        for w in rs.windows(2) {
            assert_eq!(w[1].time - w[0].time, 10, "gap in meter {}", meter.id);
            // Energy (register 0) is a counter: it never falls.
            assert!(w[1].values[0].unwrap().to_f64() >= w[0].values[0].unwrap().to_f64());
        }
        // Register 0 holds kWh with the digits of the meter's Wh value divided by 1000.
        let energy = rs[0].values[0].unwrap();
        assert!(energy.exponent <= 0, "{energy}");
        total += rs.len();
        assert_eq!(logger.status().meter(meter.id).status, ReadStatus::Ok);
    }
    assert!(total >= 20 * 55);
    assert_eq!(logger.state(), LoggerState::Idle);
    assert_eq!(logger.status().overruns, 0, "20 meters fit in 10 s");
    // The meters are read by secondary address; after a cycle none is left selected.
    let arbiter = logger.arbiter();
    let mut bus = arbiter.acquire(Purpose::Manual);
    let meters = bus.master().transport().meters();
    assert!(meters.iter().all(|m| !m.is_selected()));
}

#[test]
fn overrunning_cycles_are_reported_not_silently_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    // 40 meters at 2400 baud need far more than 10 s.
    let (mut logger, _clock) = logger_at(dir.path(), 40, BaudRate::B2400, ReadCycle::S10, start);
    logger.run_until(start + Duration::minutes(2)).unwrap();
    assert!(logger.status().overruns > 0);
    let overruns: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::CycleOverrun)
        .collect();
    assert!(!overruns.is_empty());
    assert!(overruns.iter().all(|e| e.kind == Kind::W));
    assert!(
        overruns.iter().any(|e| e.message.contains("passed unread")),
        "skipped slots are counted"
    );
    let skipped: u64 = logger
        .status()
        .meters
        .values()
        .map(|m| m.skipped_slots)
        .sum();
    assert!(skipped > 0);
    // Late reads are still stamped on the grid.
    for meter in &logger.config().meters {
        for r in slot_readings(&logger, meter.id) {
            assert_eq!(r.time % 10, 0);
        }
    }
}

fn local_times(logger: &Logger<SimInstallation>, id: u32) -> Vec<String> {
    let tz = logger.config().tz();
    slot_readings(logger, id)
        .iter()
        .map(|r| {
            Utc.timestamp_opt(r.time, 0)
                .unwrap()
                .with_timezone(&tz)
                .format("%m-%d %H:%M %Z")
                .to_string()
        })
        .collect()
}

#[test]
fn hourly_reads_across_spring_and_autumn_dst_in_berlin() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 3, 28, 22, 30, 0); // 23:30 CET
    let (mut logger, clock) = logger(dir.path(), 2, ReadCycle::M60, start);
    logger.run_until(utc(2026, 3, 29, 3, 30, 0)).unwrap();
    assert_eq!(
        local_times(&logger, 1),
        [
            "03-29 00:00 CET",
            "03-29 01:00 CET",
            "03-29 03:00 CEST",
            "03-29 04:00 CEST",
            "03-29 05:00 CEST"
        ]
    );
    clock.set(utc(2026, 10, 24, 23, 30, 0)); // 01:30 CEST
    let mut config = logger.config().clone();
    config.general.default_cycle = ReadCycle::M30;
    logger.set_config(config).unwrap();
    logger.run_until(utc(2026, 10, 25, 2, 10, 0)).unwrap();
    let autumn: Vec<String> = local_times(&logger, 1).into_iter().skip(5).collect();
    assert_eq!(
        autumn,
        [
            "10-25 01:30 CEST",
            "10-25 02:00 CEST",
            "10-25 02:30 CEST",
            "10-25 02:00 CET",
            "10-25 02:30 CET",
            "10-25 03:00 CET"
        ]
    );
}

#[test]
fn quarter_hours_across_the_year_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 12, 31, 22, 20, 0); // 23:20 CET
    let (mut logger, _clock) = logger(dir.path(), 3, ReadCycle::M15, start);
    logger.run_until(utc(2026, 12, 31, 23, 31, 0)).unwrap();
    let tz = logger.config().tz();
    let times: Vec<String> = slot_readings(&logger, 3)
        .iter()
        .map(|r| {
            Utc.timestamp_opt(r.time, 0)
                .unwrap()
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .collect();
    assert_eq!(
        times,
        [
            "2026-12-31 23:30",
            "2026-12-31 23:45",
            "2027-01-01 00:00",
            "2027-01-01 00:15",
            "2027-01-01 00:30"
        ]
    );
}

#[test]
fn short_circuit_fails_every_meter_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    let (mut logger, clock) = logger(dir.path(), 3, ReadCycle::M1, start);
    logger.run_until(start + Duration::seconds(90)).unwrap();
    assert_eq!(logger.status().meter(1).status, ReadStatus::Ok);
    logger
        .arbiter()
        .acquire(Purpose::Manual)
        .master()
        .transport_mut()
        .set_short_circuit(true);
    logger.run_until(start + Duration::seconds(150)).unwrap();
    assert_eq!(logger.state(), LoggerState::Err);
    for id in 1..=3 {
        assert_eq!(logger.status().meter(id).status, ReadStatus::Failed);
    }
    let overload: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::BusOverload)
        .collect();
    assert_eq!(overload.len(), 1, "one event per overload, not per meter");
    assert_eq!(overload[0].kind, Kind::E);
    let failed = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::MeterReadFailed)
        .count();
    assert_eq!(failed, 3);
    logger
        .arbiter()
        .acquire(Purpose::Manual)
        .master()
        .transport_mut()
        .set_short_circuit(false);
    logger
        .run_until(clock.now() + Duration::seconds(60))
        .unwrap();
    assert_eq!(logger.state(), LoggerState::Idle);
    assert_eq!(logger.status().meter(2).status, ReadStatus::Ok);
    assert!(logger
        .events()
        .entries()
        .filter(|e| e.code != EventCode::Start && e.code != EventCode::CycleOverrun)
        .all(|e| e.went.is_some()));
}

#[test]
fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    {
        let (mut logger, _clock) = logger(dir.path(), 4, ReadCycle::M1, start);
        logger.run_until(start + Duration::minutes(3)).unwrap();
    }
    let clock = Arc::new(ManualClock::new(start + Duration::minutes(10)));
    let mut again = Logger::open(
        dir.path(),
        SimInstallation::new(4, 7, BaudRate::B9600, &[]),
        clock.clone(),
    )
    .unwrap();
    assert_eq!(again.config().meters.len(), 4);
    assert_eq!(again.status().meter(1).status, ReadStatus::Ok);
    let starts = again
        .events()
        .entries()
        .filter(|e| e.code == EventCode::Start)
        .count();
    assert_eq!(starts, 2);
    let before = readings(&again, 1).len();
    again.run_until(clock.now() + Duration::minutes(2)).unwrap();
    assert_eq!(readings(&again, 1).len(), before + 2);
    let _ = again.arbiter().acquire(Purpose::Manual).bus_time();
}

#[test]
fn bad_restore_changes_nothing_and_delete_removes_history() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    let (mut logger, _clock) = logger(dir.path(), 2, ReadCycle::M1, start);
    logger.run_until(start + Duration::minutes(2)).unwrap();
    let before = logger.config().clone();
    let bad = before
        .to_json()
        .replace("\"divisor\": 1000.0", "\"divisor\": 0.0");
    let err = logger.restore(&bad).unwrap_err().to_string();
    assert!(
        err.contains("meters[0].registers[0].divisor: must be non-zero"),
        "{err}"
    );
    assert_eq!(logger.config(), &before);
    assert!(!readings(&logger, 2).is_empty());
    logger.delete_meter(2).unwrap();
    assert!(readings(&logger, 2).is_empty());
    assert!(logger.config().meter(2).is_none());
    assert!(logger.delete_meter(2).is_err());
}

#[test]
fn a_meter_added_by_hand_gets_its_registers_at_the_first_read() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    let clock = Arc::new(ManualClock::new(start));
    let sim = SimInstallation::new(3, 7, BaudRate::B9600, &[]);
    let secondary = sim.secondaries()[1];
    let mut logger = Logger::open(dir.path(), sim, clock.clone()).unwrap();
    let mut config = logger.config().clone();
    config.general.default_cycle = ReadCycle::M1;
    let meter =
        logger_core::inventory::manual_meter(&config, 0, Some(secondary), Some(BaudRate::B9600));
    assert!(meter.registers.is_empty());
    config.meters.push(meter);
    logger.set_config(config).unwrap();
    logger.run_until(start + Duration::seconds(30)).unwrap();
    let m = &logger.config().meters[0];
    assert_eq!(
        m.registers[0].unit, "kWh",
        "the built-in template was applied"
    );
    assert_eq!(readings(&logger, m.id).len(), 1);
    // The registers were saved with the configuration.
    let saved = logger_core::config::ConfigStore::new(dir.path())
        .load_or_default()
        .unwrap();
    assert_eq!(saved.meters[0].registers, m.registers);
}

#[test]
fn a_primary_scan_finds_and_names_every_meter() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(utc(2026, 5, 4, 8, 0, 0)));
    let mut logger = Logger::open(
        dir.path(),
        SimInstallation::new(4, 9, BaudRate::B2400, &[]),
        clock,
    )
    .unwrap();
    let options = mbus_scan::PrimaryOptions {
        addresses: (0..=10).map(|a| PrimaryAddress::new(a).unwrap()).collect(),
        ..Default::default()
    };
    let mut probes = 0;
    let summary = logger
        .scan(
            &ScanKind::Primary(options),
            |_| probes += 1,
            Default::default(),
        )
        .unwrap();
    assert_eq!(summary.added.len(), 4);
    assert!(probes >= 11);
    let names: Vec<&str> = logger
        .config()
        .meters
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    for (i, name) in names.iter().enumerate() {
        assert!(name.starts_with(&format!("SIM heat {} ", i + 1)), "{name}");
    }
    // Scanning again adds nothing.
    let again = logger
        .scan(
            &ScanKind::Secondary(Default::default()),
            |_| {},
            Default::default(),
        )
        .unwrap();
    assert_eq!((again.found, again.added.len()), (4, 0));
    // Both scans read the meters they found: their readings are stored, a second apart at
    // least, as the scans took that long.
    assert_eq!((summary.reads.read, again.reads.read), (4, 4));
    for id in 1..=4 {
        let rs = readings(&logger, id);
        assert_eq!(rs.len(), 2, "meter {id}");
        assert!(rs[0].time < rs[1].time);
    }
}

#[test]
fn a_configuration_imported_while_running_is_taken_and_a_bad_one_reported() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    let (mut logger, _clock) = logger(dir.path(), 2, ReadCycle::M1, start);
    let store = logger_core::config::ConfigStore::new(dir.path());
    let mut changed = logger.config().clone();
    changed.general.name = "Imported".into();
    let touch = |secs: u64| {
        // A distinct modification time, however coarse the file system's clock.
        let file = std::fs::File::options()
            .append(true)
            .open(store.path())
            .unwrap();
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .unwrap();
    };
    assert!(!logger.reload_if_changed(), "nothing changed yet");
    store.save(&changed).unwrap();
    touch(1_000);
    assert!(logger.reload_if_changed());
    assert_eq!(logger.config().general.name, "Imported");
    std::fs::write(
        store.path(),
        r#"{"version":1,"general":{"read_timeout_ms":1}}"#,
    )
    .unwrap();
    touch(2_000);
    assert!(!logger.reload_if_changed());
    assert_eq!(logger.config().general.name, "Imported");
    let e = logger.events().entries().next().unwrap();
    assert_eq!(e.code, EventCode::ConfigRejected);
    assert!(
        e.message.contains("general.read_timeout_ms"),
        "{}",
        e.message
    );
}

#[test]
fn manual_reads_queue_at_the_bus_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    let (logger, _clock) = logger(dir.path(), 2, ReadCycle::M15, start);
    let stored = readings(&logger, 2);
    let data = logger.read_now(2).unwrap();
    assert_eq!(data.secondary, logger.config().meters[1].secondary);
    assert_eq!(readings(&logger, 2), stored);
    assert!(matches!(
        logger.read_now(99),
        Err(logger_core::engine::LoggerError::UnknownMeter(99))
    ));
}

#[test]
fn meters_reporting_error_flags_are_ok_with_errors_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    // The Sensus PolluStat E reports status 0x10 (temporary error).
    let sim = SimInstallation::new(
        2,
        3,
        BaudRate::B2400,
        &[corpus_template("SEN_Sensus-PolluStat-E")],
    );
    let (mut logger, _clock, _) = support::scanned_logger(dir.path(), sim, start, |config| {
        config.general.default_cycle = ReadCycle::M1;
    });
    // The scan's reads already show the flags.
    for m in &logger.config().meters {
        assert_eq!(logger.status().meter(m.id).status, ReadStatus::OkWithErrors);
        assert_eq!(readings(&logger, m.id).len(), 1);
    }
    logger.run_until(start + Duration::minutes(3)).unwrap();
    for m in &logger.config().meters {
        let s = logger.status().meter(m.id);
        assert_eq!(s.status, ReadStatus::OkWithErrors);
        assert_eq!(s.error_flags, 0x10);
        assert!(m.name.starts_with("SEN heat "), "{}", m.name);
    }
    let flagged: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::MeterErrorFlags)
        .collect();
    assert_eq!(flagged.len(), 2, "one event per meter, not per read");
    assert!(
        flagged[0].message.ends_with("with error flags 00010000"),
        "{}",
        flagged[0].message
    );
    // Readings are stored all the same, with the flags.
    let rs = readings(&logger, 1);
    assert!(rs.len() >= 2);
    assert_eq!(rs[0].status, 0x10);
}

#[test]
fn save_as_template_then_apply_it_to_another_meter_of_the_type() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    let (mut logger, _clock) = logger(dir.path(), 12, ReadCycle::M15, start);
    let kind = logger.config().meters[0].meter_type().unwrap();
    let twin = logger
        .config()
        .meters
        .iter()
        .skip(1)
        .find(|m| m.meter_type().as_ref() == Some(&kind))
        .map(|m| m.id)
        .expect("two meters of one type");
    let mut config = logger.config().clone();
    config.meters[0].registers[0].name = "Wärmeenergie".into();
    config.meters[0].registers[0].unit = "MWh".into();
    config.meters[0].registers[0].divisor = 1_000_000.0;
    logger.set_config(config).unwrap();
    let t = logger.save_as_template(1, "Wohnungszähler").unwrap();
    assert_eq!(t.key(), kind);
    assert_eq!(logger.config().templates.len(), 1);
    assert_eq!(
        logger.apply_template(twin).unwrap().as_deref(),
        Some("Wohnungszähler")
    );
    let m = logger.config().meter(twin).unwrap();
    assert_eq!(
        (m.registers[0].name.as_str(), m.registers[0].unit.as_str()),
        ("Wärmeenergie", "MWh")
    );
    // Exported and imported again (e.g. on another logger): one template per type.
    let file = logger_core::template::export(&logger.config().templates);
    assert_eq!(logger.import_templates(&file).unwrap(), 1);
    assert_eq!(logger.config().templates.len(), 1);
    let broken = file.replace("\"divisor\": 1000000.0", "\"divisor\": 0.0");
    let err = logger.import_templates(&broken).unwrap_err().to_string();
    assert!(
        err.contains("templates[0].registers[0].divisor: must be non-zero"),
        "{err}"
    );
    // Saved again for the same type: replaced, still one template per type.
    logger.save_as_template(twin, "Wohnung").unwrap();
    assert_eq!(logger.config().templates.len(), 1);
    assert!(logger.save_as_template(999, "x").is_err());
}

#[test]
fn a_scan_stores_what_it_read_before_the_first_slot() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 3);
    let (logger, clock) = logger(dir.path(), 4, ReadCycle::M15, start);
    let scan_end = clock.now();
    assert!(
        logger.next_due().unwrap() > scan_end,
        "no slot has come yet"
    );
    for (n, m) in logger.config().meters.iter().enumerate() {
        let rs = readings(&logger, m.id);
        // Each meter is stamped with the moment the scan read it: later meters later.
        assert_ne!(rs[0].time % 900, 0, "not a grid slot: {}", rs[0].time);
        if n > 0 {
            let before = readings(&logger, logger.config().meters[n - 1].id);
            assert!(rs[0].time >= before[0].time);
        }
        // The stored values are the meter's current ones, through its registers.
        let now = logger.read_now(m.id).unwrap().reading(m, rs[0].time);
        assert_eq!(rs[0], now);
        assert!(rs[0].values.iter().any(Option::is_some));
    }
    // Written to the data directory for the command-line tools.
    let status = logger_core::status::StatusBoard::load(dir.path());
    assert_eq!(status.meter(1).status, ReadStatus::Ok);
}

#[test]
fn every_read_cycle_is_reported_with_the_next_slot() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 3);
    let (mut logger, _clock) = logger(dir.path(), 3, ReadCycle::M1, start);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut seen = Vec::new();
    logger
        .run_reporting(&stop, |logger, report| {
            seen.push((report.clone(), logger.next_due().unwrap()));
            if seen.len() == 3 {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .unwrap();
    assert_eq!(seen.len(), 3);
    for (n, (report, next)) in seen.iter().enumerate() {
        assert_eq!((report.read, report.failed, report.stored), (3, 0, 3));
        // Every register value of the simulated meters is stored.
        let registers: usize = logger
            .config()
            .meters
            .iter()
            .map(|m| m.registers.iter().filter(|r| !r.off).count())
            .sum();
        assert_eq!(report.values, registers);
        assert_eq!(*next, utc(2026, 5, 4, 8, 2 + n as u32, 0));
        // Each meter's time on the bus, in read order, within the cycle's bus time.
        let ids: Vec<u32> = report.read_durations.iter().map(|d| d.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert!(report.read_durations.iter().all(|d| !d.1.is_zero()));
        let sum: std::time::Duration = report.read_durations.iter().map(|d| d.1).sum();
        assert!(sum <= report.bus_time && !report.bus_time.is_zero());
    }
}

/// A corpus telegram with its configuration field set to `configuration` (checksum fixed).
#[test]
fn encrypted_replies_store_nothing_and_are_reported_once_per_incident() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    // Security mode 5 (AES-128-CBC), 4 encrypted blocks.
    let sim = SimInstallation::new(
        1,
        3,
        BaudRate::B2400,
        &[with_configuration("kamstrup_multical_601", 0x0540)],
    );
    let (mut logger, _clock, summary) = support::scanned_logger(dir.path(), sim, start, |config| {
        config.general.default_cycle = ReadCycle::M1;
    });
    assert_eq!(summary.found, 1);
    assert_eq!((summary.reads.read, summary.reads.failed), (0, 1));
    logger.run_until(start + Duration::minutes(4)).unwrap();
    let id = logger.config().meters[0].id;
    let status = logger.status().meter(id);
    assert_eq!(status.status, ReadStatus::Encrypted);
    assert_eq!(status.status.to_string(), "encrypted — key needed");
    let reason = status.last_error.unwrap();
    assert!(reason.contains("security mode 5"), "{reason}");
    assert!(
        readings(&logger, id).is_empty(),
        "nothing decoded from ciphertext"
    );
    let events: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::MeterEncrypted)
        .collect();
    assert_eq!(events.len(), 1, "one event per incident, not per read");
    assert_eq!(events[0].kind, Kind::W);
    assert!(
        logger
            .events()
            .entries()
            .all(|e| e.code != EventCode::MeterReadFailed),
        "an encrypted reply is not a failed read"
    );
}

#[test]
fn reserved_security_modes_are_plain_and_decode() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 0);
    // Mode 0x16 is reserved; older meters fill the field with such values.
    let sim = SimInstallation::new(
        1,
        3,
        BaudRate::B2400,
        &[with_configuration("kamstrup_multical_601", 0xB627)],
    );
    let (logger, _clock, summary) = support::scanned_logger(dir.path(), sim, start, |_| {});
    assert_eq!((summary.reads.read, summary.reads.failed), (1, 0));
    let id = logger.config().meters[0].id;
    assert_eq!(logger.status().meter(id).status, ReadStatus::Ok);
    assert_eq!(readings(&logger, id).len(), 1);
}

/// The version-1 text of a secondary address: the manufacturer as a 16-bit number, high byte
/// first.
fn version_1_text(a: &mbus_proto::address::SecondaryAddress) -> String {
    format!(
        "{:08}{:04X}{:02X}{:02X}",
        a.ident, a.manufacturer, a.version, a.medium
    )
}

#[test]
fn a_version_1_configuration_is_converted_saved_and_noted_once() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimInstallation::new(2, 7, BaudRate::B9600, &[]);
    let secondaries = sim.secondaries();
    let old: Vec<String> = secondaries.iter().map(version_1_text).collect();
    // The old form really differs from today's (the manufacturer bytes are swapped).
    assert_ne!(old[0], secondaries[0].to_string());
    let meters: Vec<serde_json::Value> = old
        .iter()
        .enumerate()
        .map(|(i, text)| {
            serde_json::json!({"id": i + 1, "name": format!("meter {}", i + 1),
                               "addressing": "secondary", "secondary": text, "baud": 9600})
        })
        .collect();
    let path = dir.path().join(logger_core::config::CONFIG_FILE);
    std::fs::write(
        &path,
        serde_json::json!({"version": 1, "meters": meters}).to_string(),
    )
    .unwrap();

    let clock = Arc::new(ManualClock::new(utc(2026, 5, 4, 8, 0, 0)));
    let logger = Logger::open(dir.path(), sim, clock.clone()).unwrap();
    let configured: Vec<_> = logger
        .config()
        .meters
        .iter()
        .map(|m| m.secondary.unwrap())
        .collect();
    assert_eq!(configured, secondaries);
    // Read by secondary address: the converted address selects the meter it named.
    let data = logger.read_now(1).unwrap();
    assert_eq!(data.secondary, Some(secondaries[0]));
    // Saved in the current version and text form.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved["version"], logger_core::config::CONFIG_VERSION);
    assert_eq!(saved["meters"][1]["secondary"], secondaries[1].to_string());
    let migrated = |logger: &Logger<SimInstallation>| {
        logger
            .events()
            .entries()
            .filter(|e| e.code == EventCode::ConfigMigrated)
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
    };
    let notes = migrated(&logger);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("from version 1 to 2: 2 secondary address(es)"),
        "{notes:?}"
    );
    drop(logger);

    // Opening again converts nothing and notes nothing new.
    let sim = SimInstallation::new(2, 7, BaudRate::B9600, &[]);
    let logger = Logger::open(dir.path(), sim, clock).unwrap();
    assert_eq!(logger.config().meters[0].secondary, Some(secondaries[0]));
    assert_eq!(migrated(&logger).len(), 1);
}

/// A read cycle reads each due meter once: the virtual clock moves on by exactly the cycle's
/// bus time (a second pass over the meters would spend it twice).
#[test]
fn a_read_cycle_reads_each_meter_once() {
    let dir = tempfile::tempdir().unwrap();
    let start = utc(2026, 5, 4, 8, 0, 3);
    let (mut logger, clock) = logger(dir.path(), 3, ReadCycle::M1, start);
    let slot = logger.next_due().unwrap();
    clock.set(slot);
    let report = logger.run_due().unwrap();
    assert_eq!((report.read, report.failed, report.stored), (3, 0, 3));
    assert_eq!(report.read_durations.len(), 3);
    let spent = (clock.now() - slot).to_std().unwrap();
    assert!(!report.bus_time.is_zero());
    assert_eq!(spent, report.bus_time);
}
