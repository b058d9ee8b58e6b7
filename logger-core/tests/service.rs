//! The logger on its own thread, driven through its handle on the simulated bus and a
//! virtual clock.

use chrono::{Duration, TimeZone, Utc};
use logger_core::clock::ManualClock;
use logger_core::engine::{Logger, LoggerError, ScanKind, Turn};
use logger_core::service::{Service, ServiceError, ServiceHandle, ServiceOptions, Update};
use logger_core::simulation::SimInstallation;
use logger_core::status::{LoggerState, ReadStatus};
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use mbus_proto::address::BaudRate;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

fn start(
    meters: usize,
) -> (
    Service<SimInstallation>,
    Arc<ManualClock>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap(),
    ));
    let bus = SimInstallation::new(meters, 7, BaudRate::B2400, &[]);
    let logger = Logger::open(dir.path(), bus, clock.clone()).unwrap();
    (
        Service::start(logger, ServiceOptions::default()),
        clock,
        dir,
    )
}

/// The next update that `pick` accepts (a bounded wait for the logger thread, not a sleep).
fn next<T>(updates: &Receiver<Update>, mut pick: impl FnMut(&Update) -> Option<T>) -> T {
    loop {
        let update = updates
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("an update from the logger thread");
        if let Some(found) = pick(&update) {
            return found;
        }
    }
}

fn secondary() -> ScanKind {
    ScanKind::Secondary(Default::default())
}

#[test]
fn a_scan_through_the_handle_reports_progress_adds_meters_and_shows_them_in_the_snapshot() {
    let (service, _clock, _dir) = start(3);
    let handle = service.handle();
    let updates = handle.subscribe();
    handle.start_scan(secondary()).unwrap();
    let mut seen = Vec::new();
    let done = next(&updates, |u| {
        seen.push(u.clone());
        match u {
            Update::Scan(s) if !s.running => Some(s.clone()),
            _ => None,
        }
    });
    assert!(seen.contains(&Update::State {
        state: LoggerState::Scan
    }));
    assert!(seen.contains(&Update::Config), "{seen:?}");
    assert!(seen
        .iter()
        .any(|u| matches!(u, Update::Scan(s) if s.running && s.fraction > 0.0)));
    assert_eq!(done.found, 3);
    assert_eq!(done.added, vec![1, 2, 3]);
    assert_eq!(done.fraction, 1.0);
    assert!(done.bus_seconds > 0.0);
    assert_eq!(done.reads.unwrap().read, 3);
    // When the end is announced, the snapshot already shows what the scan did.
    let snapshot = handle.snapshot();
    assert_eq!(snapshot.config.meters.len(), 3);
    assert_eq!(snapshot.status.meter(2).status, ReadStatus::Ok);
    assert_eq!(snapshot.state, LoggerState::Idle);
    assert!(snapshot.next_due.is_some());
    assert_eq!(snapshot.scan.unwrap().added, vec![1, 2, 3]);
    service.stop().unwrap();
}

#[test]
fn new_readings_reach_subscribers_and_a_separate_store_connection() {
    let (service, clock, dir) = start(2);
    let handle = service.handle();
    handle.scan(secondary()).unwrap();
    let updates = handle.subscribe();
    let slot = handle.snapshot().next_due.unwrap();
    clock.set(slot);
    // The logger thread may take its turn before ours: either way the readings arrive.
    let turn = handle.turn().unwrap();
    assert!(matches!(turn, Turn::Cycle(_) | Turn::Wait(_)), "{turn:?}");
    let readings = next(&updates, |u| match u {
        Update::Readings { readings } => Some(readings.clone()),
        _ => None,
    });
    assert_eq!(readings, vec![(1, slot.timestamp()), (2, slot.timestamp())]);
    let cycle = next(&updates, |u| match u {
        Update::Cycle(c) => Some(c.clone()),
        _ => None,
    });
    assert_eq!((cycle.read, cycle.failed, cycle.stored), (2, 0, 2));
    // Announced with the snapshot already past the slot.
    assert!(handle.snapshot().next_due.unwrap() > slot);
    let store = Store::open_existing(dir.path().join(DATABASE_FILE_NAME)).unwrap();
    let last = store.last_reading(MeterId(2)).unwrap().unwrap();
    assert_eq!(last.time, slot.timestamp());
    assert!(handle.snapshot().next_due.unwrap() > slot);
    service.stop().unwrap();
}

#[test]
fn commands_report_field_errors_and_unknown_meters_and_change_nothing_then() {
    let (service, _clock, _dir) = start(2);
    let handle: ServiceHandle = service.handle();
    handle.scan(secondary()).unwrap();
    let before = handle.snapshot().config;
    let mut bad = (*before).clone();
    bad.general.read_timeout_ms = 5;
    bad.meters[1].registers[0].divisor = 0.0;
    let Err(ServiceError::Logger(LoggerError::Config(e))) = handle.set_config(bad) else {
        panic!("an invalid configuration must be refused");
    };
    let fields: Vec<String> = e.problems().into_iter().map(|p| p.path).collect();
    assert!(
        fields.contains(&"general.read_timeout_ms".to_string()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"meters[1].registers[0].divisor".to_string()),
        "{fields:?}"
    );
    assert_eq!(handle.snapshot().config, before);
    assert!(matches!(
        handle.delete_meter(99),
        Err(ServiceError::Logger(LoggerError::UnknownMeter(99)))
    ));
    assert!(matches!(
        handle.read_now(42),
        Err(ServiceError::Logger(LoggerError::UnknownMeter(42)))
    ));
    let Err(ServiceError::Logger(LoggerError::Config(_))) =
        handle.restore("{\"version\":2,".into())
    else {
        panic!("a broken backup must be refused");
    };
    assert_eq!(handle.snapshot().config, before);

    let mut renamed = (*before).clone();
    renamed.general.name = "Heizraum".into();
    handle.set_config(renamed).unwrap();
    assert_eq!(handle.snapshot().config.general.name, "Heizraum");
    let data = handle.read_now(1).unwrap();
    assert!(!data.records.is_empty());
    assert!(handle.apply_template(1).unwrap().is_some());
    handle.delete_meter(1).unwrap();
    let ids: Vec<u32> = handle
        .snapshot()
        .config
        .meters
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, vec![2]);
    service.stop().unwrap();
}

#[test]
fn a_running_scan_refuses_a_second_one_and_can_be_cancelled() {
    let (service, _clock, _dir) = start(40);
    let handle = service.handle();
    let updates = handle.subscribe();
    handle.start_scan(secondary()).unwrap();
    assert!(matches!(
        handle.start_scan(secondary()),
        Err(ServiceError::ScanRunning)
    ));
    // Cancel at the first progress report.
    next(&updates, |u| match u {
        Update::Scan(s) if s.running && s.fraction > 0.0 => Some(()),
        _ => None,
    });
    assert!(handle.cancel_scan());
    let done = next(&updates, |u| match u {
        Update::Scan(s) if !s.running => Some(s.clone()),
        _ => None,
    });
    assert!(done.cancelled, "{done:?}");
    assert!(done.found < 40, "{done:?}");
    assert!(!handle.cancel_scan(), "nothing runs any more");
    // A new scan may start now.
    handle
        .start_scan(ScanKind::Primary(Default::default()))
        .unwrap();
    let again = next(&updates, |u| match u {
        Update::Scan(s) if !s.running => Some(s.clone()),
        _ => None,
    });
    assert_eq!(again.kind, "primary");
    service.stop().unwrap();
}

#[test]
fn a_stopped_service_gives_the_engine_back_and_refuses_commands() {
    let (service, clock, _dir) = start(1);
    let handle = service.handle();
    handle.scan(secondary()).unwrap();
    let logger = service.stop().unwrap();
    assert_eq!(logger.config().meters.len(), 1);
    assert!(matches!(handle.turn(), Err(ServiceError::Stopped)));
    assert!(matches!(
        handle.start_scan(secondary()),
        Err(ServiceError::Stopped)
    ));
    clock.advance(Duration::hours(1));
}

#[test]
fn an_edit_of_the_configuration_runs_on_the_logger_thread_and_changes_nothing_on_error() {
    let (service, _clock, _dir) = start(2);
    let handle = service.handle();
    handle.scan(secondary()).unwrap();
    let renamed = handle
        .edit_config(|config| {
            let meter = config
                .meters
                .iter_mut()
                .find(|m| m.id == 2)
                .ok_or(LoggerError::UnknownMeter(2))?;
            meter.name = "Keller".into();
            Ok(meter.id)
        })
        .unwrap();
    assert_eq!(renamed, 2);
    assert_eq!(handle.snapshot().config.meter(2).unwrap().name, "Keller");
    // The edit's own error and a validation error leave the configuration as it was.
    let before = handle.snapshot().config;
    let err = handle
        .edit_config(|_| Err::<(), _>(LoggerError::UnknownMeter(9)))
        .unwrap_err();
    assert!(matches!(
        err,
        ServiceError::Logger(LoggerError::UnknownMeter(9))
    ));
    let err = handle
        .edit_config(|config| {
            config.meters[0].registers[0].divisor = 0.0;
            Ok(())
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("meters[0].registers[0].divisor"),
        "{err}"
    );
    assert_eq!(handle.snapshot().config, before);
    service.stop().unwrap();
}

#[test]
fn a_settings_section_edit_queued_behind_a_scan_keeps_the_meters_it_added() {
    let (service, _clock, _dir) = start(3);
    let handle = service.handle();
    let before = handle.snapshot().config;
    assert!(before.meters.is_empty());
    // The edit is queued behind the scan: it sees the meters the scan added.
    handle.start_scan(secondary()).unwrap();
    handle
        .edit_config(|config| {
            *config = config.with_section("general", serde_json::json!({"name": "Boiler room"}))?;
            Ok(())
        })
        .unwrap();
    let config = handle.snapshot().config;
    assert_eq!(config.general.name, "Boiler room");
    assert_eq!(config.meters.len(), 3);
    let refused = handle.edit_config(|config| {
        *config = config.with_section("bacnet", serde_json::json!({"port": 0}))?;
        Ok(())
    });
    match refused {
        Err(ServiceError::Logger(LoggerError::Config(e))) => {
            assert_eq!(e.problems()[0].path, "bacnet.port")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(handle.snapshot().config, config);
    service.stop().unwrap();
}
