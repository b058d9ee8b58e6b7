//! Prometheus metrics of a logger, in the OpenMetrics text exposition
//! (`application/openmetrics-text; version=1.0.0`), which Prometheus scrapes as is.
//!
//! [`Metrics`] counts what only the running engine sees (cycles, reads, read durations, bus
//! time, scans; fed by the daemon with the logger service's [`Update`]s);
//! [`Metrics::render`] adds, at every scrape, what the data directory holds: each meter's
//! last stored values and read status, the logger state, upload spools, e-mail queue and
//! fleet sinks.
//!
//! # Metric names
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `mbus_cycles_total` | counter | | read cycles run |
//! | `mbus_reads_total` | counter | `result` = `ok`/`failed` | meter reads |
//! | `mbus_readings_stored_total` | counter | | readings stored by read cycles |
//! | `mbus_read_duration_seconds` | histogram | | bus time of one meter's read |
//! | `mbus_cycle_bus_seconds` | histogram | | bus time of one read cycle |
//! | `mbus_scans_total` | counter | | scans run |
//! | `mbus_scan_meters_found` | gauge | | meters the last scan found |
//! | `mbus_logger_state` | gauge | `state` | 1 for the current state (idle, scan, read, rs, err) |
//! | `mbus_cycle_overruns_total` | counter | | cycles that ran past a meter's next slot |
//! | `mbus_meter_value` | gauge | `meter`, `name`, `position`, `register`, `unit` | a register's last stored value |
//! | `mbus_meter_last_reading_timestamp_seconds` | gauge | `meter`, `name` | time of the last stored reading |
//! | `mbus_meter_status` | gauge | `meter`, `name`, `status` | 1 for the meter's read status (ok, ok with error flags, failed, never read, encrypted) |
//! | `mbus_meter_consecutive_failures` | gauge | `meter`, `name` | failed reads in a row |
//! | `mbus_upload_pending_files` | gauge | `target` | files waiting in an upload spool |
//! | `mbus_upload_delivered_total` | counter | `target` | files uploaded |
//! | `mbus_upload_dropped_total` | counter | `target` | files dropped from a full spool |
//! | `mbus_upload_failing` | gauge | `target` | 1 while the last attempt failed |
//! | `mbus_email_queued` | gauge | | alarm mails waiting |
//! | `mbus_email_failed_attempts_total` | counter | | failed mail transfers |
//! | `mbus_sink_connected` | gauge | `sink` = `mqtt`/`postgres` | 1 while connected |
//! | `mbus_sink_pending` | gauge | `sink` | MQTT: read cycles queued; PostgreSQL: readings not replicated |
//! | `mbus_sink_delivered_total` | counter | `sink` | MQTT messages acknowledged, readings replicated |
//! | `mbus_sink_dropped_total` | counter | `sink` | items dropped from a full queue |
//! | `mbus_sink_errors_total` | counter | `sink` | failed connection or delivery attempts |
//!
//! Values are the stored decimals converted to the nearest `f64` (the exposition has no
//! other number type); the readings database keeps them exact.

use crate::config::{ConfigError, ConfigStore};
use crate::fleet::{SinkStatus, SINK_KEYS};
use crate::service::{CycleCounts, Update};
use crate::status::{ReadStatus, StatusBoard};
use crate::storage::{MeterId, StorageError, Store, DATABASE_FILE_NAME};
use crate::upload::UploadStatus;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::path::Path;
use std::sync::atomic::AtomicU64;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// Why the metrics could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The configuration could not be read.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The readings database could not be read.
    #[error("readings: {0}")]
    Storage(#[from] StorageError),
    /// Writing the text failed.
    #[error("encoding the metrics failed")]
    Encode,
}

/// The engine's counters; cheap to clone (clones share the counts).
#[derive(Debug, Clone)]
pub struct Metrics {
    cycles: Counter,
    reads: Family<Labels, Counter>,
    stored: Counter,
    read_duration: Histogram,
    cycle_bus: Histogram,
    scans: Counter,
    scan_found: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn status_name(status: ReadStatus) -> &'static str {
    match status {
        ReadStatus::NeverRead => "never_read",
        ReadStatus::Ok => "ok",
        ReadStatus::OkWithErrors => "ok_with_errors",
        ReadStatus::Failed => "failed",
        ReadStatus::Encrypted => "encrypted",
    }
}

const STATUSES: [ReadStatus; 5] = [
    ReadStatus::NeverRead,
    ReadStatus::Ok,
    ReadStatus::OkWithErrors,
    ReadStatus::Failed,
    ReadStatus::Encrypted,
];

impl Metrics {
    /// Zeroed counters.
    pub fn new() -> Metrics {
        Metrics {
            cycles: Counter::default(),
            reads: Family::default(),
            stored: Counter::default(),
            // 10 ms … ~80 s: one telegram at 9600 baud up to a slow multi-telegram read.
            read_duration: Histogram::new(exponential_buckets(0.01, 2.0, 14)),
            // 0.1 s … ~30 min.
            cycle_bus: Histogram::new(exponential_buckets(0.1, 2.0, 15)),
            scans: Counter::default(),
            scan_found: Gauge::default(),
        }
    }

    /// Counts what an update of the logger service reports: a read cycle, or a scan that
    /// ended.
    pub fn observe(&self, update: &Update) {
        match update {
            Update::Cycle(counts) => self.observe_cycle(counts),
            Update::Scan(scan) if !scan.running && scan.error.is_none() => {
                self.observe_scan(scan.found)
            }
            _ => {}
        }
    }

    /// Counts a read cycle.
    pub fn observe_cycle(&self, counts: &CycleCounts) {
        self.cycles.inc();
        self.reads
            .get_or_create(&labels(&[("result", "ok")]))
            .inc_by(counts.read as u64);
        self.reads
            .get_or_create(&labels(&[("result", "failed")]))
            .inc_by(counts.failed as u64);
        self.stored.inc_by(counts.stored as u64);
        for duration in &counts.read_durations {
            self.read_duration.observe(duration.as_secs_f64());
        }
        self.cycle_bus.observe(counts.bus_time.as_secs_f64());
    }

    /// Counts a scan that found `found` meters.
    pub fn observe_scan(&self, found: usize) {
        self.scans.inc();
        self.scan_found.set(found as i64);
    }

    /// The exposition text for the logger in `data_dir`: the engine's counters and the
    /// state found in the data directory now.
    pub fn render(&self, data_dir: &Path) -> Result<String, MetricsError> {
        let mut registry = Registry::with_prefix("mbus");
        registry.register("cycles", "Read cycles run", self.cycles.clone());
        registry.register("reads", "Meter reads by result", self.reads.clone());
        registry.register(
            "readings_stored",
            "Readings stored by read cycles",
            self.stored.clone(),
        );
        registry.register(
            "read_duration_seconds",
            "Bus time of one meter's read",
            self.read_duration.clone(),
        );
        registry.register(
            "cycle_bus_seconds",
            "Bus time of one read cycle",
            self.cycle_bus.clone(),
        );
        registry.register("scans", "Scans run", self.scans.clone());
        registry.register(
            "scan_meters_found",
            "Meters the last scan found",
            self.scan_found.clone(),
        );
        let config = ConfigStore::new(data_dir).load_or_default()?;
        let board = StatusBoard::load(data_dir);
        add_logger_state(&mut registry, &board);
        add_meters(&mut registry, data_dir, &config, &board)?;
        add_uploads(&mut registry, data_dir, &board);
        add_sinks(&mut registry, data_dir);
        let mut text = String::new();
        encode(&mut text, &registry).map_err(|_| MetricsError::Encode)?;
        Ok(text)
    }
}

fn add_logger_state(registry: &mut Registry, board: &StatusBoard) {
    let state: Family<Labels, Gauge> = Family::default();
    for s in ["idle", "scan", "read", "rs", "err"] {
        let on = i64::from(board.state.as_str() == s);
        state.get_or_create(&labels(&[("state", s)])).set(on);
    }
    registry.register("logger_state", "1 for the logger's current state", state);
    let overruns = Counter::<u64>::default();
    overruns.inc_by(board.overruns);
    registry.register(
        "cycle_overruns",
        "Read cycles that ran past a meter's next slot",
        overruns,
    );
}

fn add_meters(
    registry: &mut Registry,
    data_dir: &Path,
    config: &crate::config::Config,
    board: &StatusBoard,
) -> Result<(), MetricsError> {
    let values: Family<Labels, FloatGauge> = Family::default();
    let last: Family<Labels, Gauge> = Family::default();
    let status: Family<Labels, Gauge> = Family::default();
    let failures: Family<Labels, Gauge> = Family::default();
    let path = data_dir.join(DATABASE_FILE_NAME);
    let store = if path.exists() {
        Some(Store::open_existing(path)?)
    } else {
        None
    };
    for meter in &config.meters {
        let id = meter.id.to_string();
        let name = meter.name.as_str();
        let m = board.meter(meter.id);
        for s in STATUSES {
            status
                .get_or_create(&labels(&[
                    ("meter", &id),
                    ("name", name),
                    ("status", status_name(s)),
                ]))
                .set(i64::from(m.status == s));
        }
        failures
            .get_or_create(&labels(&[("meter", &id), ("name", name)]))
            .set(i64::from(m.consecutive_failures));
        let Some(reading) = store
            .as_ref()
            .map(|s| s.last_reading(MeterId(meter.id)))
            .transpose()?
            .flatten()
        else {
            continue;
        };
        last.get_or_create(&labels(&[("meter", &id), ("name", name)]))
            .set(reading.time);
        for register in meter.registers.iter().filter(|r| !r.off) {
            let Some(value) = reading
                .values
                .get(register.index as usize)
                .copied()
                .flatten()
            else {
                continue;
            };
            let position = register.index.to_string();
            values
                .get_or_create(&labels(&[
                    ("meter", &id),
                    ("name", name),
                    ("position", &position),
                    ("register", &register.name),
                    ("unit", &register.unit),
                ]))
                .set(value.to_f64());
        }
    }
    registry.register("meter_value", "A register's last stored value", values);
    registry.register(
        "meter_last_reading_timestamp_seconds",
        "Time of the meter's last stored reading",
        last,
    );
    registry.register("meter_status", "1 for the meter's read status", status);
    registry.register(
        "meter_consecutive_failures",
        "Failed reads of the meter in a row",
        failures,
    );
    Ok(())
}

fn add_uploads(registry: &mut Registry, data_dir: &Path, board: &StatusBoard) {
    let uploads = UploadStatus::load(data_dir);
    let pending: Family<Labels, Gauge> = Family::default();
    let delivered: Family<Labels, Counter> = Family::default();
    let dropped: Family<Labels, Counter> = Family::default();
    let failing: Family<Labels, Gauge> = Family::default();
    for (key, t) in &uploads.targets {
        let l = labels(&[("target", key)]);
        pending.get_or_create(&l).set(t.pending as i64);
        delivered.get_or_create(&l).inc_by(t.delivered);
        dropped.get_or_create(&l).inc_by(t.dropped);
        let is_failing = t.last_error_at.is_some() && t.last_error_at > t.last_success;
        failing.get_or_create(&l).set(i64::from(is_failing));
    }
    registry.register(
        "upload_pending_files",
        "Files waiting in an upload spool",
        pending,
    );
    registry.register("upload_delivered", "Files uploaded", delivered);
    registry.register(
        "upload_dropped",
        "Files dropped from a full upload spool",
        dropped,
    );
    registry.register(
        "upload_failing",
        "1 while the last upload attempt failed",
        failing,
    );
    let (queued, failed) = board
        .email
        .as_ref()
        .map_or((0, 0), |e| (e.queued, e.failed_attempts));
    let queued_gauge = Gauge::<i64>::default();
    queued_gauge.set(queued as i64);
    registry.register("email_queued", "Alarm mails waiting", queued_gauge);
    let failed_counter = Counter::<u64>::default();
    failed_counter.inc_by(failed);
    registry.register(
        "email_failed_attempts",
        "Failed mail transfers",
        failed_counter,
    );
}

fn add_sinks(registry: &mut Registry, data_dir: &Path) {
    let connected: Family<Labels, Gauge> = Family::default();
    let pending: Family<Labels, Gauge> = Family::default();
    let delivered: Family<Labels, Counter> = Family::default();
    let dropped: Family<Labels, Counter> = Family::default();
    let errors: Family<Labels, Counter> = Family::default();
    for key in SINK_KEYS {
        let Some(s) = SinkStatus::load(data_dir, key) else {
            continue;
        };
        let l = labels(&[("sink", key)]);
        connected.get_or_create(&l).set(i64::from(s.connected));
        pending.get_or_create(&l).set(s.pending as i64);
        delivered.get_or_create(&l).inc_by(s.delivered);
        dropped.get_or_create(&l).inc_by(s.dropped);
        errors.get_or_create(&l).inc_by(s.errors);
    }
    registry.register("sink_connected", "1 while the sink is connected", connected);
    registry.register(
        "sink_pending",
        "MQTT: read cycles queued; PostgreSQL: readings not replicated",
        pending,
    );
    registry.register(
        "sink_delivered",
        "MQTT messages acknowledged, readings replicated",
        delivered,
    );
    registry.register(
        "sink_dropped",
        "Items dropped from a full sink queue",
        dropped,
    );
    registry.register(
        "sink_errors",
        "Failed connection or delivery attempts",
        errors,
    );
}
