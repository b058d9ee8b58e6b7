//! Throughput of the fleet sinks against real servers on 127.0.0.1, for the README's figures.
//! Not part of the normal run (they take a while and print numbers rather than check
//! behaviour); run them in release mode:
//!
//! ```text
//! cargo test --release -p mbus-centerd --test fleet_throughput -- --ignored --nocapture --test-threads 1
//! ```

mod support;

use chrono::{TimeZone, Utc};
use logger_core::clock::SystemClock;
use logger_core::config::{Config, ConfigStore, Meter};
use logger_core::fleet::SinkStatus;
use logger_core::storage::{MeterId, Reading, Store, SyntheticInstallation, DATABASE_FILE_NAME};
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use support::fleet::{
    wait_until, Mosquitto, PgCluster, MQTT_PASSWORD, MQTT_USER, PG_DATABASE, PG_PASSWORD, PG_USER,
};

const METERS: u32 = 250;
const REGISTERS: usize = 10;

/// A configuration with `METERS` meters of `REGISTERS` registers each (primary addresses).
fn installation(data: &Path, configure: impl FnOnce(&mut Config)) {
    std::fs::create_dir_all(data).unwrap();
    let meters = (1..=METERS)
        .map(|id| {
            let registers: Vec<String> = (0..REGISTERS)
                .map(|i| {
                    format!(
                        r#"{{"index": {i}, "name": "Value {i}", "description": "", "meter_unit": "Wh",
                            "unit": "kWh", "phase": 0, "divisor": 1000.0, "storage": 0, "tariff": 0,
                            "off": false}}"#
                    )
                })
                .collect();
            serde_json::from_str::<Meter>(&format!(
                r#"{{"id": {id}, "name": "Meter {id}", "addressing": "primary", "primary": {},
                    "registers": [{}]}}"#,
                id % 250 + 1,
                registers.join(",")
            ))
            .unwrap()
        })
        .collect();
    let mut config = Config {
        meters,
        ..Config::default()
    };
    configure(&mut config);
    ConfigStore::new(data).save(&config).unwrap();
}

/// Appends readings `first..first + count` of every meter.
fn store_history(data: &Path, first: u64, count: u64) {
    let site = SyntheticInstallation {
        meters: METERS,
        registers: REGISTERS,
        interval: 900,
        start: Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp(),
    };
    let mut store = Store::open(data.join(DATABASE_FILE_NAME)).unwrap();
    for m in 1..=METERS {
        let readings: Vec<Reading> = (first..first + count)
            .map(|k| Reading {
                meter: MeterId(m),
                ..site.reading(MeterId(m - 1), k)
            })
            .collect();
        store.append_batch(&readings).unwrap();
    }
}

fn delivered(data: &Path, key: &str) -> u64 {
    SinkStatus::load(data, key).map_or(0, |s| s.delivered)
}

#[test]
#[ignore = "measurement; run in release mode with --ignored --nocapture"]
fn postgres_readings_per_second() {
    let work = tempfile::tempdir().unwrap();
    let cluster = PgCluster::start(&work.path().join("pg"));
    // 250 meters × 96 readings (one day at 15 minutes) per run.
    let per_meter = 96;
    for (n, batch) in [100u32, 1000, 5000].into_iter().enumerate() {
        let data = work.path().join(format!("app-{batch}"));
        installation(&data, |c| {
            let pg = &mut c.postgres;
            pg.enabled = true;
            pg.host = "127.0.0.1".into();
            pg.port = cluster.port;
            pg.database = PG_DATABASE.into();
            pg.username = PG_USER.into();
            pg.password = PG_PASSWORD.into();
            pg.appliance_id = format!("app-{n}");
            pg.batch_readings = batch;
        });
        store_history(&data, 0, per_meter);
        let total = u64::from(METERS) * per_meter;
        let (events, _inbox) = mpsc::channel();
        let started = Instant::now();
        let handle =
            logger_core::postgres::start(&data, Arc::new(SystemClock), events, Default::default());
        wait_until("the backfill", Duration::from_secs(600), || {
            delivered(&data, "postgres") >= total
        });
        let seconds = started.elapsed().as_secs_f64();
        handle.stop();
        println!(
            "PostgreSQL, batches of {batch}: {total} readings ({} values) in {seconds:.2} s = {:.0} readings/s, {:.0} values/s",
            total * REGISTERS as u64,
            total as f64 / seconds,
            (total * REGISTERS as u64) as f64 / seconds
        );
    }
    let mut client = cluster.client(PG_DATABASE);
    let row = client
        .query_one(
            "SELECT pg_total_relation_size('mbus_reading')::float8 / count(*) FROM mbus_reading",
            &[],
        )
        .unwrap();
    let bytes: f64 = row.get(0);
    println!(
        "PostgreSQL: {bytes:.0} bytes per reading of {REGISTERS} values, table and key together"
    );
}

#[test]
#[ignore = "measurement; run in release mode with --ignored --nocapture"]
fn mqtt_messages_per_second() {
    let work = tempfile::tempdir().unwrap();
    let broker = Mosquitto::start(&work.path().join("broker"));
    let data = work.path().join("data");
    installation(&data, |c| {
        let mqtt = &mut c.mqtt;
        mqtt.enabled = true;
        mqtt.host = "127.0.0.1".into();
        mqtt.port = broker.port;
        mqtt.username = MQTT_USER.into();
        mqtt.password = MQTT_PASSWORD.into();
        mqtt.discovery = false;
    });
    store_history(&data, 0, 1);
    let (events, _inbox) = mpsc::channel();
    let handle = logger_core::mqtt::start(&data, Arc::new(SystemClock), events, Default::default());
    // The first reading of every meter: the cursor starts there.
    wait_until("the first states", Duration::from_secs(60), || {
        delivered(&data, "mqtt") > u64::from(METERS)
    });
    let before = delivered(&data, "mqtt");
    let per_meter = 40;
    store_history(&data, 1, per_meter);
    let started = Instant::now();
    handle.wake();
    let total = u64::from(METERS) * per_meter;
    wait_until("all states", Duration::from_secs(600), || {
        delivered(&data, "mqtt") >= before + total
    });
    let seconds = started.elapsed().as_secs_f64();
    handle.stop();
    println!(
        "MQTT: {total} state messages (QoS 1, retained, {REGISTERS} values each) in {seconds:.2} s = {:.0} messages/s",
        total as f64 / seconds
    );
}
