//! The fleet sinks with nothing to talk to: readings wait in the MQTT offline queue on disk,
//! bounded, oldest cycles dropped with an event; both sinks report one failure event per
//! outage and save their state; reading and storing are never held up.

use chrono::{TimeZone, Utc};
use logger_core::clock::ManualClock;
use logger_core::config::ConfigStore;
use logger_core::engine::{CommitHook, Committed};
use logger_core::events::{EventCode, EventNotice};
use logger_core::fleet::SinkStatus;
use logger_core::storage::{Decimal, MeterId, Reading, Store, DATABASE_FILE_NAME};
use logger_core::upload::spool::Spool;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// A port nothing listens on.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn meter_config(dir: &std::path::Path, configure: impl FnOnce(&mut logger_core::config::Config)) {
    let store = ConfigStore::new(dir);
    let mut config = store.load_or_default().unwrap();
    config.meters = serde_json::from_str(
        r#"[{"id": 1, "name": "Heat 1", "addressing": "secondary",
             "secondary": "068558172D2C0104", "category": "heat", "registers": [
             {"index": 0, "name": "Energy", "description": "", "meter_unit": "Wh", "unit": "kWh",
              "phase": 0, "divisor": 1000.0, "storage": 0, "tariff": 0, "off": false}]}]"#,
    )
    .unwrap();
    configure(&mut config);
    store.save(&config).unwrap();
}

fn store_reading(dir: &std::path::Path, time: i64, hook: &mut CommitHook) {
    let mut store = Store::open(dir.join(DATABASE_FILE_NAME)).unwrap();
    store
        .append(&Reading {
            meter: MeterId(1),
            time,
            status: 0,
            values: vec![Some(Decimal::new(time.into(), -3))],
        })
        .unwrap();
    let started = Instant::now();
    hook(&Committed {
        readings: vec![(MeterId(1), time)],
    });
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "the hook waited"
    );
}

#[test]
fn mqtt_queues_cycles_on_disk_bounded_while_the_broker_is_away() {
    let dir = tempfile::tempdir().unwrap();
    let port = dead_port();
    meter_config(dir.path(), |c| {
        c.mqtt.enabled = true;
        c.mqtt.host = "127.0.0.1".into();
        c.mqtt.port = port;
        c.mqtt.queue_max_cycles = 3;
    });
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap(),
    ));
    let (events, inbox) = mpsc::channel();
    let handle = logger_core::mqtt::start(dir.path(), clock, events, Default::default());
    let mut hook = handle.hook();
    let queue = logger_core::mqtt::queue_dir(dir.path());
    // Looked at without opening the spool (which would clear a file being written).
    let files = || -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(&queue)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|p| !p.to_string_lossy().contains(".tmp-"));
        files.sort();
        files
    };
    let queued = || files().len();
    let newest = || {
        files()
            .pop()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_default()
    };
    for (n, time) in (1_777_881_600..).step_by(900).take(5).enumerate() {
        store_reading(dir.path(), time, &mut hook);
        let value = Decimal::new(time.into(), -3).to_string();
        wait_until("the cycle queued", || newest().contains(&value));
        assert_eq!(queued(), (n + 1).min(3));
    }
    wait_until("the state saved", || {
        SinkStatus::load(dir.path(), "mqtt").is_some_and(|s| s.dropped == 2 && s.errors >= 1)
    });
    handle.stop();
    let notices: Vec<EventNotice> = inbox.try_iter().collect();
    let codes: Vec<EventCode> = notices
        .iter()
        .filter_map(|n| match n {
            EventNotice::Came { code, .. } => Some(*code),
            EventNotice::Went { .. } => None,
        })
        .collect();
    // One failure event for the whole outage; the full queue is reported.
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == EventCode::MqttFailed)
            .count(),
        1
    );
    assert!(codes.contains(&EventCode::MqttQueueFull));
    // The newest three cycles wait, oldest first, with the stored values.
    let spool = Spool::open(&queue, 100).unwrap();
    let texts: Vec<String> = spool
        .pending()
        .unwrap()
        .iter()
        .map(|e| std::fs::read_to_string(&e.path).unwrap())
        .collect();
    assert_eq!(texts.len(), 3);
    assert!(texts[0].contains("1777883.400"), "{}", texts[0]);
    assert!(texts[2].contains("1777885.200"), "{}", texts[2]);
    // A restart picks the queue up again rather than starting over.
    drop(spool);
    let (events, _inbox) = mpsc::channel();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap(),
    ));
    let handle = logger_core::mqtt::start(dir.path(), clock, events, Default::default());
    std::thread::sleep(Duration::from_millis(200));
    handle.stop();
    assert_eq!(queued(), 3);
}

#[test]
fn postgres_reports_an_unreachable_database_once_and_counts_what_waits() {
    let dir = tempfile::tempdir().unwrap();
    let port = dead_port();
    meter_config(dir.path(), |c| {
        c.postgres.enabled = true;
        c.postgres.host = "127.0.0.1".into();
        c.postgres.port = port;
        c.postgres.username = "mbus".into();
    });
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap(),
    ));
    let (events, inbox) = mpsc::channel();
    let options = logger_core::postgres::ReplicatorOptions {
        backoff_first: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(50),
        ..Default::default()
    };
    let handle = logger_core::postgres::start(dir.path(), clock, events, options);
    let mut hook = handle.hook();
    for time in (1_777_881_600..).step_by(900).take(4) {
        store_reading(dir.path(), time, &mut hook);
    }
    wait_until("several failed attempts", || {
        SinkStatus::load(dir.path(), "postgres").is_some_and(|s| s.errors >= 3 && s.pending == 4)
    });
    handle.stop();
    let status = SinkStatus::load(dir.path(), "postgres").unwrap();
    assert!(!status.connected);
    assert!(status.last_error.unwrap().contains(&port.to_string()));
    let failures = inbox
        .try_iter()
        .filter(|n| {
            matches!(
                n,
                EventNotice::Came {
                    code: EventCode::PostgresFailed,
                    ..
                }
            )
        })
        .count();
    assert_eq!(failures, 1);
}
