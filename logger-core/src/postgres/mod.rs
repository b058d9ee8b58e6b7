//! Replicating readings, meters and events into a central PostgreSQL database that many
//! appliances share (schema in [`schema`]; TimescaleDB hypertable when available).
//!
//! The read path only wakes the replicator's thread ([`crate::fleet::SinkHandle::hook`]). The
//! thread reads from the store what lies after its durable cursor (`postgres.cursor.json` in
//! the data directory: the newest reading replicated per meter, the newest event) and sends
//! it in transactions of at most `batch_readings` readings; the cursor moves only after the
//! commit. Every insert is idempotent (`ON CONFLICT DO NOTHING` on the natural key
//! appliance, meter, time; events are upserted by appliance and event id), so a batch sent
//! again after a lost reply, a database restart or a `kill -9` between commit and cursor
//! save creates no duplicate. A meter the cursor does not know yet is replicated from its
//! first stored reading: the whole history is backfilled on the first connect, in bounded
//! batches.
//!
//! An unreachable database is retried with exponential backoff; one event per incident
//! (it goes when replication works again); the state is saved to `postgres-status.json`.

pub mod schema;

use crate::clock::Clock;
use crate::config::{appliance_id, Config, ConfigStore, Postgres};
use crate::events::{self, EventCode, EventNotice};
use crate::export::MeterDescriptor;
use crate::fleet::{load_json, note_failure, save_json, wait, SinkHandle, SinkStatus};
use crate::storage::{MeterId, Reading, StorageError, Store, DATABASE_FILE_NAME};
use crate::upload::tls::CertCheck;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The key of this sink's status file and metrics.
pub const KEY: &str = "postgres";

/// Timing of the replicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicatorOptions {
    /// Wait after the first failure; doubled after each further failure.
    pub backoff_first: Duration,
    /// The longest wait between two attempts.
    pub backoff_cap: Duration,
    /// How often to look for new events and configuration changes without a wake-up.
    pub idle: Duration,
    /// Timeout of the connection; also how long an unanswered statement may take before
    /// the connection counts as broken.
    pub timeout: Duration,
}

impl Default for ReplicatorOptions {
    fn default() -> Self {
        ReplicatorOptions {
            backoff_first: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(60),
            idle: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why replication failed.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The database could not be reached, refused the login or a statement.
    #[error("database {address}: {reason}")]
    Database {
        /// Host, port and database.
        address: String,
        /// What the server or the connection said.
        reason: String,
    },
    /// The TLS settings cannot be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The readings could not be read from the store.
    #[error("readings: {0}")]
    Storage(#[from] StorageError),
    /// The event log could not be read.
    #[error("event log: {0}")]
    Events(std::io::Error),
    /// The cursor could not be saved.
    #[error("cursor {path}: {source}")]
    Cursor {
        /// The cursor file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
}

/// What has been replicated, saved after every committed batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct Progress {
    /// Meter id → time of the newest reading replicated.
    meters: BTreeMap<u32, i64>,
    /// The newest event replicated.
    events_after: Option<u64>,
    /// Events replicated while their condition was open: sent again once it went.
    open_events: Vec<u64>,
}

fn progress_path(data_dir: &Path) -> PathBuf {
    data_dir.join("postgres.cursor.json")
}

/// The first line of a database error with its detail (the driver's own text says only
/// "db error").
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// A reading's values as a PostgreSQL array literal: `{1234.567,NULL,12.50}`, the stored
/// digits exactly.
pub fn values_literal(reading: &Reading) -> String {
    let mut text = String::with_capacity(8 * reading.values.len() + 2);
    text.push('{');
    for (i, value) in reading.values.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        match value {
            Some(v) => text.push_str(&v.to_string()),
            None => text.push_str("NULL"),
        }
    }
    text.push('}');
    text
}

/// Starts the replicator for the logger in `data_dir`. It follows the configuration file
/// (enabling or changing `postgres` applies without a restart) and hands its events to
/// `events`.
pub fn start(
    data_dir: &Path,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<EventNotice>,
    options: ReplicatorOptions,
) -> SinkHandle {
    let data_dir = data_dir.to_path_buf();
    SinkHandle::spawn("postgres", move |inbox, stop| {
        let mut worker = Worker {
            status: SinkStatus::load(&data_dir, KEY).unwrap_or_else(|| SinkStatus {
                label: "PostgreSQL".into(),
                ..SinkStatus::default()
            }),
            data_dir,
            clock,
            events,
            options,
            settings: None,
            client: None,
            store: None,
            metadata_sent: None,
            failures: 0,
            retry_at: Instant::now(),
        };
        loop {
            worker.sync(&stop);
            let wait_for = if worker.failures > 0 {
                worker.retry_at.saturating_duration_since(Instant::now())
            } else {
                worker.options.idle
            };
            if !wait(&inbox, &stop, wait_for.max(Duration::from_millis(10))) {
                break;
            }
        }
    })
}

struct Worker {
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<EventNotice>,
    options: ReplicatorOptions,
    status: SinkStatus,
    settings: Option<Postgres>,
    client: Option<postgres::Client>,
    store: Option<Store>,
    /// The metadata (appliance, meters, registers) last written on this connection.
    metadata_sent: Option<String>,
    failures: u32,
    retry_at: Instant,
}

impl Worker {
    fn sync(&mut self, stop: &AtomicBool) {
        let config = match ConfigStore::new(&self.data_dir).load_or_default() {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(error = %e, "PostgreSQL: configuration not readable");
                return;
            }
        };
        let settings = config.postgres.enabled.then(|| config.postgres.clone());
        if settings != self.settings {
            self.client = None;
            self.metadata_sent = None;
            self.failures = 0;
            self.retry_at = Instant::now();
            self.settings = settings;
        }
        if self.settings.is_none() || Instant::now() < self.retry_at {
            return;
        }
        match self.replicate(&config, stop) {
            Ok(()) => {
                if self.failures > 0 {
                    self.failures = 0;
                    self.notify(EventNotice::Went {
                        code: EventCode::PostgresFailed,
                        at: self.clock.now(),
                    });
                }
                self.status.connected = true;
                self.status.last_success = Some(self.clock.now());
            }
            Err(e) => self.failed(&e),
        }
        self.status.pending = self.pending(&config);
        if let Err(e) = self.status.save(&self.data_dir, KEY) {
            tracing::error!(error = %e, "saving the PostgreSQL status failed");
        }
    }

    fn address(&self) -> String {
        self.settings
            .as_ref()
            .map(|s| format!("{}:{}/{}", s.host, s.port_or_default(), s.database))
            .unwrap_or_default()
    }

    fn db_err(&self, e: &postgres::Error) -> PostgresError {
        PostgresError::Database {
            address: self.address(),
            reason: describe(e),
        }
    }

    fn store(&mut self) -> Result<&Store, PostgresError> {
        let store = match self.store.take() {
            Some(store) => store,
            None => Store::open_existing(self.data_dir.join(DATABASE_FILE_NAME))?,
        };
        Ok(self.store.insert(store))
    }

    fn connect(&mut self) -> Result<postgres::Client, PostgresError> {
        let Some(settings) = self.settings.clone() else {
            return Err(PostgresError::Database {
                address: String::new(),
                reason: "not configured".into(),
            });
        };
        let mut pg = postgres::Config::new();
        pg.host(&settings.host)
            .port(settings.port_or_default())
            .dbname(&settings.database)
            .user(&settings.username)
            .password(&settings.password)
            .application_name("mbus-centerd")
            .connect_timeout(self.options.timeout)
            .tcp_user_timeout(self.options.timeout)
            .keepalives(true)
            .keepalives_idle(self.options.timeout);
        let client = if settings.tls {
            let check = CertCheck::from_settings(
                settings.ca_file.as_deref(),
                settings.accept_invalid_certs,
            );
            let tls = check
                .client_config()
                .map_err(|e| PostgresError::Tls(e.to_string()))?;
            pg.ssl_mode(postgres::config::SslMode::Require);
            pg.connect(tokio_postgres_rustls::MakeRustlsConnect::new(
                Arc::unwrap_or_clone(tls),
            ))
        } else {
            pg.connect(postgres::NoTls)
        };
        let mut client = client.map_err(|e| self.db_err(&e))?;
        migrate(&mut client, settings.timescale).map_err(|e| self.db_err(&e))?;
        tracing::info!(database = %self.address(), "PostgreSQL connected");
        Ok(client)
    }

    /// Sends metadata, then readings and events in batches until everything after the
    /// cursor is in the database (or a stop is asked).
    fn replicate(&mut self, config: &Config, stop: &AtomicBool) -> Result<(), PostgresError> {
        if self.client.is_none() {
            self.metadata_sent = None;
            self.client = Some(self.connect()?);
        }
        let appliance = appliance_id(&config.postgres.appliance_id, &config.general.name);
        let result = self.send_all(config, &appliance, stop);
        if result.is_err() {
            // A broken or unknown transaction state: start over on a new connection.
            self.client = None;
        }
        result
    }

    fn send_all(
        &mut self,
        config: &Config,
        appliance: &str,
        stop: &AtomicBool,
    ) -> Result<(), PostgresError> {
        let metadata = serde_json::to_string(&(
            &config.general.name,
            &config.general.location,
            &config.general.timezone,
            &config.meters,
        ))
        .unwrap_or_default();
        if self.metadata_sent.as_deref() != Some(metadata.as_str()) {
            self.send_metadata(config, appliance)?;
            self.metadata_sent = Some(metadata);
        }
        let path = progress_path(&self.data_dir);
        let limit = config.postgres.batch_readings.max(1) as usize;
        // The event log goes with the first batch of this round (it is read once per round).
        let mut events_sent = false;
        loop {
            let mut progress: Progress = load_json(&path);
            let readings = self.next_readings(config, &progress, limit)?;
            let (events, open) = if events_sent {
                (Vec::new(), progress.open_events.clone())
            } else {
                self.next_events(&progress)?
            };
            if readings.is_empty() && events.is_empty() {
                return Ok(());
            }
            self.send_batch(appliance, &readings, &events)?;
            events_sent = true;
            for r in &readings {
                progress.meters.insert(r.meter.0, r.time);
            }
            if let Some(newest) = events.iter().map(|e| e.id).max() {
                progress.events_after = progress.events_after.max(Some(newest));
            }
            progress.open_events = open;
            save_json(&path, &progress).map_err(|source| PostgresError::Cursor {
                path: path.clone(),
                source,
            })?;
            self.status.delivered += readings.len() as u64;
            if readings.len() < limit || stop.load(Ordering::SeqCst) {
                return Ok(());
            }
        }
    }

    fn send_metadata(&mut self, config: &Config, appliance: &str) -> Result<(), PostgresError> {
        let address = self.address();
        let err = |e: postgres::Error| PostgresError::Database {
            address: address.clone(),
            reason: describe(&e),
        };
        let Some(client) = &mut self.client else {
            return Ok(());
        };
        let mut tx = client.transaction().map_err(err)?;
        tx.execute(
            schema::UPSERT_APPLIANCE,
            &[
                &appliance,
                &config.general.name,
                &config.general.location,
                &config.general.timezone,
            ],
        )
        .map_err(err)?;
        let upsert_meter = tx.prepare(schema::UPSERT_METER).map_err(err)?;
        let delete_registers = tx.prepare(schema::DELETE_REGISTERS).map_err(err)?;
        let insert_register = tx.prepare(schema::INSERT_REGISTER).map_err(err)?;
        for meter in &config.meters {
            let d = MeterDescriptor::from_config(meter);
            let id = meter.id as i32;
            let category = serde_json::to_value(meter.category)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            tx.execute(
                &upsert_meter,
                &[
                    &appliance,
                    &id,
                    &d.name,
                    &d.secondary,
                    &d.manufacturer,
                    &d.medium,
                    &category,
                    &meter.location,
                ],
            )
            .map_err(err)?;
            tx.execute(&delete_registers, &[&appliance, &id])
                .map_err(err)?;
            for r in &d.registers {
                tx.execute(
                    &insert_register,
                    &[
                        &appliance,
                        &id,
                        &(r.index as i32),
                        &r.name,
                        &r.description,
                        &r.unit,
                        &i16::from(r.phase),
                        &(r.storage_number as i64),
                        &i64::from(r.tariff),
                    ],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// At most `limit` readings stored after the cursor, oldest first per meter.
    fn next_readings(
        &mut self,
        config: &Config,
        progress: &Progress,
        limit: usize,
    ) -> Result<Vec<Reading>, PostgresError> {
        let store = self.store()?;
        let mut out = Vec::new();
        for meter in &config.meters {
            if out.len() >= limit {
                break;
            }
            let after = progress.meters.get(&meter.id).copied().unwrap_or(-1);
            for reading in store
                .readings(MeterId(meter.id), after.saturating_add(1), i64::MAX)?
                .take(limit - out.len())
            {
                out.push(reading?);
            }
        }
        Ok(out)
    }

    /// Events newer than the cursor and those whose open condition went since; with the
    /// ids still open after this batch.
    fn next_events(
        &self,
        progress: &Progress,
    ) -> Result<(Vec<events::Event>, Vec<u64>), PostgresError> {
        let all = events::read(&self.data_dir).map_err(PostgresError::Events)?;
        let new = |id: u64| progress.events_after.is_none_or(|after| id > after);
        let mut open = Vec::new();
        let mut send = Vec::new();
        for event in all {
            let was_open = progress.open_events.contains(&event.id);
            if event.went.is_none() && event.kind != events::Kind::I && (new(event.id) || was_open)
            {
                open.push(event.id);
            }
            if new(event.id) || (was_open && event.went.is_some()) {
                send.push(event);
            }
        }
        Ok((send, open))
    }

    fn send_batch(
        &mut self,
        appliance: &str,
        readings: &[Reading],
        events: &[events::Event],
    ) -> Result<(), PostgresError> {
        let address = self.address();
        let err = |e: postgres::Error| PostgresError::Database {
            address: address.clone(),
            reason: describe(&e),
        };
        let Some(client) = &mut self.client else {
            return Ok(());
        };
        let mut tx = client.transaction().map_err(err)?;
        if !readings.is_empty() {
            let meters: Vec<i32> = readings.iter().map(|r| r.meter.0 as i32).collect();
            let times: Vec<i64> = readings.iter().map(|r| r.time).collect();
            let status: Vec<i64> = readings.iter().map(|r| i64::from(r.status)).collect();
            let values: Vec<String> = readings.iter().map(values_literal).collect();
            tx.execute(
                schema::INSERT_READINGS,
                &[&appliance, &meters, &times, &status, &values],
            )
            .map_err(err)?;
        }
        if !events.is_empty() {
            let ids: Vec<i64> = events.iter().map(|e| e.id as i64).collect();
            let codes: Vec<String> = events
                .iter()
                .map(|e| {
                    serde_json::to_value(e.code)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect();
            let numbers: Vec<i32> = events.iter().map(|e| i32::from(e.code.number())).collect();
            let kinds: Vec<String> = events.iter().map(|e| format!("{:?}", e.kind)).collect();
            let sources: Vec<String> = events.iter().map(|e| e.source.clone()).collect();
            let meters: Vec<Option<i32>> =
                events.iter().map(|e| e.meter.map(|m| m as i32)).collect();
            let came: Vec<i64> = events.iter().map(|e| e.came.timestamp()).collect();
            let went: Vec<Option<i64>> = events
                .iter()
                .map(|e| e.went.map(|w| w.timestamp()))
                .collect();
            let texts: Vec<String> = events.iter().map(|e| e.message.clone()).collect();
            tx.execute(
                schema::UPSERT_EVENTS,
                &[
                    &appliance, &ids, &codes, &numbers, &kinds, &sources, &meters, &came, &went,
                    &texts,
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Readings stored after the cursor (not replicated yet).
    fn pending(&mut self, config: &Config) -> u64 {
        let progress: Progress = load_json(&progress_path(&self.data_dir));
        let Ok(store) = self.store() else {
            return 0;
        };
        config
            .meters
            .iter()
            .map(|m| {
                let after = progress.meters.get(&m.id).copied().unwrap_or(-1);
                store
                    .readings(MeterId(m.id), after.saturating_add(1), i64::MAX)
                    .map(|r| r.count() as u64)
                    .unwrap_or(0)
            })
            .sum()
    }

    fn failed(&mut self, error: &PostgresError) {
        let now = self.clock.now();
        let came = note_failure(
            (&mut self.failures, &mut self.retry_at),
            (self.options.backoff_first, self.options.backoff_cap),
            &mut self.status,
            (EventCode::PostgresFailed, "PostgreSQL replication failed"),
            error,
            now,
        );
        if let Some(notice) = came {
            self.notify(notice);
        }
    }

    fn notify(&self, notice: EventNotice) {
        if self.events.send(notice).is_err() {
            tracing::warn!("the event log is gone; PostgreSQL event not recorded");
        }
    }
}

/// Brings the schema up to date under an advisory lock; makes the readings a compressed
/// hypertable when asked and TimescaleDB is available.
fn migrate(client: &mut postgres::Client, timescale: bool) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&schema::MIGRATION_LOCK],
    )?;
    tx.batch_execute(schema::VERSION_TABLE)?;
    let version: i32 = match tx.query_opt("SELECT version FROM mbus_schema", &[])? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO mbus_schema (version) VALUES (0)", &[])?;
            0
        }
    };
    let target = schema::MIGRATIONS.len() as i32;
    for (i, step) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(step)?;
        tracing::info!(version = i + 1, "PostgreSQL schema migrated");
    }
    if version < target {
        tx.execute("UPDATE mbus_schema SET version = $1", &[&target])?;
    }
    tx.commit()?;
    if timescale {
        make_hypertable(client)?;
    }
    Ok(())
}

/// Whether `mbus_reading` is a TimescaleDB hypertable.
pub fn is_hypertable(client: &mut postgres::Client) -> Result<bool, postgres::Error> {
    let installed = client
        .query_opt(
            "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'",
            &[],
        )?
        .is_some();
    if !installed {
        return Ok(false);
    }
    Ok(client
        .query_opt(
            "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'mbus_reading'",
            &[],
        )?
        .is_some())
}

fn make_hypertable(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    let available = client
        .query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'",
            &[],
        )?
        .is_some();
    if !available || is_hypertable(client)? {
        return Ok(());
    }
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&schema::MIGRATION_LOCK],
    )?;
    // The extension needs to be preloaded by the server; without it this fails and the
    // readings stay a plain table.
    if let Err(e) = tx.batch_execute("CREATE EXTENSION IF NOT EXISTS timescaledb") {
        tracing::warn!(error = %describe(&e), "TimescaleDB not usable; plain readings table");
        return Ok(());
    }
    for statement in schema::HYPERTABLE {
        tx.batch_execute(statement)?;
    }
    tx.commit()?;
    tracing::info!("PostgreSQL readings table is a compressed hypertable");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Decimal;

    #[test]
    fn values_keep_their_digits_and_gaps() {
        let reading = Reading {
            meter: MeterId(1),
            time: 0,
            status: 0,
            values: vec![
                Some(Decimal::new(1_234_567, -3)),
                None,
                Some(Decimal::new(1250, -2)),
                Some(Decimal::new(-7, -3)),
            ],
        };
        assert_eq!(values_literal(&reading), "{1234.567,NULL,12.50,-0.007}");
    }

    #[test]
    fn migrations_are_keyed_by_appliance() {
        for table in ["mbus_meter", "mbus_reading", "mbus_event", "mbus_register"] {
            let start = schema::MIGRATIONS[0]
                .find(&format!("CREATE TABLE {table}"))
                .unwrap();
            let body = &schema::MIGRATIONS[0][start..];
            let end = body.find(");").unwrap();
            assert!(
                body[..end].contains("PRIMARY KEY (appliance_id,"),
                "{table}"
            );
        }
    }
}
