//! Two simulated appliances replicate into one real PostgreSQL database (a throw-away cluster
//! on 127.0.0.1). Their history is backfilled in batches; the database is stopped like a
//! crash in the middle of a batch and one daemon is killed with SIGKILL in the middle of
//! another: afterwards every meter has exactly its stored readings in the database, by
//! count and checksum, and the outage is in the event log.

mod support;

use logger_core::config::ConfigStore;
use logger_core::events::EventCode;
use logger_core::postgres::values_literal;
use logger_core::storage::{MeterId, Reading, Store, SyntheticInstallation, DATABASE_FILE_NAME};
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::fleet::{wait_until, PgCluster, PG_DATABASE, PG_PASSWORD, PG_USER};
use support::Daemon;

const METERS: u32 = 3;
const HISTORY: u64 = 4000;

/// A data directory with `HISTORY` old readings for meters 1..=3 (the ids the daemon's
/// scan gives the simulated meters) and replication into the test cluster enabled.
fn appliance(root: &Path, name: &str, port: u16) -> PathBuf {
    let data = root.join(name);
    std::fs::create_dir_all(&data).unwrap();
    let site = SyntheticInstallation {
        meters: METERS,
        registers: 8,
        interval: 900,
        start: 1_735_689_600,
    };
    let mut store = Store::open(data.join(DATABASE_FILE_NAME)).unwrap();
    for m in 0..METERS {
        let readings: Vec<Reading> = (0..HISTORY)
            .map(|k| Reading {
                meter: MeterId(m + 1),
                ..site.reading(MeterId(m), k)
            })
            .collect();
        store.append_batch(&readings).unwrap();
    }
    drop(store);
    let config_store = ConfigStore::new(&data);
    let mut config = config_store.load_or_default().unwrap();
    let pg = &mut config.postgres;
    pg.enabled = true;
    pg.host = "127.0.0.1".into();
    pg.port = port;
    pg.database = PG_DATABASE.into();
    pg.username = PG_USER.into();
    pg.password = PG_PASSWORD.into();
    pg.appliance_id = name.into();
    pg.batch_readings = 50;
    config_store.save(&config).unwrap();
    data
}

fn daemon(data: &Path, seed: &str) -> Daemon {
    Daemon::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--simulate",
        &METERS.to_string(),
        "--seed",
        seed,
        "--cycle",
        "10s",
    ])
}

/// Readings of `appliance` in the database (0 while it is down).
fn replicated(cluster: &PgCluster, appliance: &str) -> i64 {
    let Ok(mut client) = std::panic::catch_unwind(|| cluster.client(PG_DATABASE)) else {
        return 0;
    };
    client
        .query_one(
            "SELECT count(*) FROM mbus_reading WHERE appliance_id = $1",
            &[&appliance],
        )
        .map(|row| row.get(0))
        .unwrap_or(0)
}

/// Per meter: number of readings up to `until` and the MD5 of their text
/// (`time:status:values` joined by `,`), from the store.
fn store_digest(data: &Path, until: i64) -> Vec<(i32, i64, String)> {
    let store = Store::open_existing(data.join(DATABASE_FILE_NAME)).unwrap();
    (1..=METERS)
        .map(|m| {
            let rows: Vec<String> = store
                .readings(MeterId(m), 0, until + 1)
                .unwrap()
                .map(|r| {
                    let r = r.unwrap();
                    format!("{}:{}:{}", r.time, r.status, values_literal(&r))
                })
                .collect();
            let digest = Md5::digest(rows.join(",").as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            (m as i32, rows.len() as i64, hex)
        })
        .collect()
}

/// The same from the database.
fn database_digest(cluster: &PgCluster, appliance: &str, until: i64) -> Vec<(i32, i64, String)> {
    let mut client = cluster.client(PG_DATABASE);
    client
        .query(
            "SELECT meter_id, count(*), md5(coalesce(string_agg(
                 extract(epoch FROM time)::bigint || ':' || status || ':' || vals::text, ','
                 ORDER BY time), ''))
             FROM mbus_reading WHERE appliance_id = $1 AND time <= to_timestamp($2::bigint)
             GROUP BY meter_id ORDER BY meter_id",
            &[&appliance, &until],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

#[test]
fn two_appliances_replicate_without_gap_or_duplicate_through_outage_and_kill() {
    let work = tempfile::tempdir().unwrap();
    let cluster = PgCluster::start(&work.path().join("pg"));
    let a = appliance(work.path(), "app-a", cluster.port);
    let b = appliance(work.path(), "app-b", cluster.port);
    let total = i64::from(METERS) * HISTORY as i64;

    let mut daemon_a = daemon(&a, "1");
    let mut daemon_b = daemon(&b, "2");
    // SIGKILL while a's backfill is half way.
    wait_until("a's backfill to start", Duration::from_secs(60), || {
        replicated(&cluster, "app-a") > 0
    });
    daemon_a.kill();
    let after_kill = replicated(&cluster, "app-a");
    assert!(
        after_kill < total,
        "the kill came too late to test anything"
    );
    // The database crashes while b is still backfilling.
    wait_until("b's backfill to start", Duration::from_secs(60), || {
        replicated(&cluster, "app-b") > 0
    });
    let before_crash = replicated(&cluster, "app-b");
    cluster.stop("immediate");
    assert!(
        before_crash < total,
        "the crash came too late to test anything"
    );
    eprintln!("killed a at {after_kill}, database crashed at b's {before_crash} of {total}");
    std::thread::sleep(Duration::from_secs(3));
    cluster.restart();
    let mut daemon_a = daemon(&a, "1");
    daemon_a.wait_for_cycles(1);
    daemon_b.wait_for_cycles(1);
    // Everything stored up to now must arrive, exactly once.
    let until = chrono::Utc::now().timestamp();
    wait_until(
        "both appliances replicated",
        Duration::from_secs(60),
        || {
            [("app-a", &a), ("app-b", &b)].iter().all(|(name, data)| {
                database_digest(&cluster, name, until) == store_digest(data, until)
            })
        },
    );
    assert!(daemon_a.terminate().success());
    assert!(daemon_b.terminate().success());
    for (name, data) in [("app-a", &a), ("app-b", &b)] {
        let digest = store_digest(data, until);
        assert_eq!(digest.len(), METERS as usize);
        assert!(
            digest.iter().all(|d| d.1 > HISTORY as i64),
            "{name}: {digest:?}"
        );
        assert_eq!(database_digest(&cluster, name, until), digest, "{name}");
    }

    let mut client = cluster.client(PG_DATABASE);
    for name in ["app-a", "app-b"] {
        let meters: i64 = client
            .query_one(
                "SELECT count(*) FROM mbus_meter WHERE appliance_id = $1",
                &[&name],
            )
            .unwrap()
            .get(0);
        assert_eq!(meters, i64::from(METERS), "{name}");
        let registers: i64 = client
            .query_one(
                "SELECT count(*) FROM mbus_register WHERE appliance_id = $1",
                &[&name],
            )
            .unwrap()
            .get(0);
        assert!(registers >= i64::from(METERS), "{name}");
        let starts: i64 = client
            .query_one(
                "SELECT count(*) FROM mbus_event WHERE appliance_id = $1 AND code = 'start'",
                &[&name],
            )
            .unwrap()
            .get(0);
        assert!(starts >= 1, "{name}: logger start events replicated");
    }
    // b saw the database go away: one event, closed when replication worked again.
    let events = logger_core::events::read(&b).unwrap();
    let outages: Vec<_> = events
        .iter()
        .filter(|e| e.code == EventCode::PostgresFailed)
        .collect();
    assert_eq!(outages.len(), 1, "{outages:?}");
    assert!(outages[0].went.is_some());
    // The hypertable path runs only where TimescaleDB is installed.
    let timescale = client
        .query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'",
            &[],
        )
        .unwrap()
        .is_some();
    assert_eq!(
        logger_core::postgres::is_hypertable(&mut client).unwrap(),
        timescale
    );
}
