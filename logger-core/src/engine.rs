//! The logger engine: owns configuration, readings store, event log, status and the bus;
//! reads every meter on its grid slot and stores the register values.
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use logger_core::clock::ManualClock;
//! use logger_core::engine::{Logger, ScanKind};
//! use logger_core::simulation::SimInstallation;
//! use std::sync::Arc;
//!
//! let dir = tempfile::tempdir()?;
//! let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()));
//! let mut logger = Logger::open(dir.path(), SimInstallation::new(2, 1, mbus_proto::address::BaudRate::B2400, &[]), clock.clone())?;
//! let kind = ScanKind::Secondary(Default::default());
//! logger.scan(&kind, |_| {}, Default::default())?;
//! logger.run_until(clock.now() + Duration::minutes(30))?;
//! assert!(logger.store().reading_count(logger_core::storage::MeterId(1))? >= 2);
//! # use logger_core::clock::Clock;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::bus::{read_by_secondary, read_meter, release_selection, BusArbiter, MeterBus, Purpose};
use crate::clock::Clock;
use crate::config::{Config, ConfigError, ConfigStore, InputSource, Meter};
use crate::email::alarm::Alarms;
use crate::events::{EventCode, EventLog, EventNotice};
use crate::hardware::inputs::{input_reply, InputReader};
use crate::inventory::{self, DiscoveredMeter};
use crate::readout::{MeterData, ReadoutError};
use crate::schedule::{Due, Schedule};
use crate::status::{LoggerState, ReadStatus, StatusBoard, Transition};
use crate::storage::{MeterId, Reading, StorageError, Store, DATABASE_FILE_NAME};
use crate::template::Template;
use chrono::{DateTime, Utc};
use mbus_link::{LinkError, Master, Transport};
use mbus_proto::address::PrimaryAddress;
use mbus_scan::{
    CancelToken, FoundStatus, PrimaryOptions, Progress, ScanError, Scanner, SecondaryOptions,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// What stops the engine from opening or working.
#[derive(Debug, thiserror::Error)]
pub enum LoggerError {
    /// The configuration is invalid or cannot be saved.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The readings store failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The data directory, event log or status file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The bus failed during a scan.
    #[error("bus: {0}")]
    Link(#[from] LinkError),
    /// No such meter.
    #[error("no meter with id {0}")]
    UnknownMeter(u32),
    /// The meter's type (secondary address, number of values) is not known yet.
    #[error("the type of meter {0} is not known (no secondary address or no registers yet)")]
    UnknownType(u32),
    /// A meter's reply could not be decoded.
    #[error("reply: {0}")]
    Readout(#[from] ReadoutError),
    /// A scan could not run to its end.
    #[error("scan: {0}")]
    Scan(#[from] ScanError<LinkError>),
    /// An input meter's input could not be read.
    #[error("input: {0}")]
    Input(String),
}

/// Which search a scan runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanKind {
    /// REQ_UD2 to every primary address of the options.
    Primary(PrimaryOptions),
    /// Secondary-address wildcard search.
    Secondary(SecondaryOptions),
}

/// What a scan found and what it added to the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Meters (or address groups) the scan found, readable or not.
    pub found: usize,
    /// Ids of the meters added to the configuration.
    pub added: Vec<u32>,
    /// Found meters not added because their address is shared (duplicate or shadowed).
    pub conflicts: usize,
    /// The scan was cancelled before its end.
    pub cancelled: bool,
    /// The scan's reads of configured meters: complete reads are stored, stamped with the
    /// time of the read, and set the meter's status; a meter found but not read completely
    /// counts as failed. (`overrun` is always false.)
    pub reads: CycleReport,
}

/// What one read cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// Meters read successfully.
    pub read: usize,
    /// Meters that could not be read.
    pub failed: usize,
    /// Readings stored.
    pub stored: usize,
    /// Values in the readings stored (one per register read).
    pub values: usize,
    /// The cycle ran past the next slot of at least one of its meters.
    pub overrun: bool,
    /// Read slots that passed unread because a PC program had the bus through the
    /// level-converter bridge (see [`crate::bridge`]).
    pub missed: u64,
    /// How long the cycle held the bus for its reads.
    pub bus_time: Duration,
    /// How long each meter's read took on the bus: meter id and duration, in read order.
    pub read_durations: Vec<(u32, Duration)>,
}

/// The readings a read cycle has just committed to the store: meter and unix time (the
/// slot) of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// One entry per stored reading.
    pub readings: Vec<(MeterId, i64)>,
}

/// What one [`Logger::turn`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    /// It ran a read cycle.
    Cycle(CycleReport),
    /// Nothing was due; the next slot, if any meter is scheduled.
    Wait(Option<DateTime<Utc>>),
}

/// Called after every read cycle whose readings were stored, on the read thread: it must
/// only hand the work on (for example into a channel), never wait for I/O.
pub type CommitHook = Box<dyn FnMut(&Committed) + Send>;

/// The logger engine.
pub struct Logger<B: MeterBus> {
    data_dir: PathBuf,
    config_store: ConfigStore,
    config: Config,
    store: Store,
    events: EventLog,
    status: StatusBoard,
    schedule: Schedule,
    bus: Arc<BusArbiter<B>>,
    clock: Arc<dyn Clock>,
    builtin: Vec<Template>,
    nap: Duration,
    config_stamp: Option<std::time::SystemTime>,
    alarms: Option<Alarms>,
    commit_hooks: Vec<CommitHook>,
    notices: Option<(mpsc::Sender<EventNotice>, mpsc::Receiver<EventNotice>)>,
    pause: Option<Pause>,
    inputs: Option<std::sync::Mutex<Box<dyn InputReader>>>,
}

/// Scheduled reads paused while the level-converter bridge has the bus: since when, and the
/// read slots that passed unread.
#[derive(Debug)]
struct Pause {
    since: DateTime<Utc>,
    slots: u64,
    meters: std::collections::BTreeSet<u32>,
}

impl<B: MeterBus> std::fmt::Debug for Logger<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("data_dir", &self.data_dir)
            .field("meters", &self.config.meters.len())
            .finish_non_exhaustive()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LoggerError + '_ {
    move |source| LoggerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl<B: MeterBus> Logger<B> {
    /// Opens the logger in `data_dir` (created if missing; a missing configuration starts
    /// with the defaults and is saved), on `bus`, with time from `clock`. Logs "Logger start".
    pub fn open(data_dir: &Path, bus: B, clock: Arc<dyn Clock>) -> Result<Logger<B>, LoggerError> {
        std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
        let config_store = ConfigStore::new(data_dir);
        let (config, migration) = config_store.load_migrating()?;
        if migration.is_some() || !config_store.path().exists() {
            config_store.save(&config)?;
        }
        let store = Store::open(data_dir.join(DATABASE_FILE_NAME))?;
        let mut events = EventLog::open(data_dir, config.general.event_log_capacity as usize)
            .map_err(io_err(data_dir))?;
        let mut status = StatusBoard::load(data_dir);
        status.retain(|id| config.meter(id).is_some());
        status.state = LoggerState::Idle;
        let now = clock.now();
        let mut schedule = Schedule::default();
        schedule.sync(&config, now);
        events
            .record(EventCode::Start, None, "Logger start", now)
            .map_err(io_err(data_dir))?;
        if let Some(migration) = migration {
            tracing::info!(%migration, "configuration converted");
            events
                .record(EventCode::ConfigMigrated, None, &migration.to_string(), now)
                .map_err(io_err(data_dir))?;
        }
        tracing::info!(meters = config.meters.len(), data_dir = %data_dir.display(), "logger started");
        Ok(Logger {
            data_dir: data_dir.to_path_buf(),
            config_store,
            config,
            store,
            events,
            status,
            schedule,
            bus: Arc::new(BusArbiter::new(bus)),
            clock,
            builtin: Template::builtin(),
            nap: Duration::from_millis(500),
            config_stamp: None,
            alarms: None,
            commit_hooks: Vec::new(),
            notices: None,
            pause: None,
            inputs: None,
        })
        .map(|mut logger| {
            logger.config_stamp = logger.stamp();
            logger
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The time on the logger's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The readings store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The event log.
    pub fn events(&self) -> &EventLog {
        &self.events
    }

    /// Status of the meters and the logger.
    pub fn status(&self) -> &StatusBoard {
        &self.status
    }

    /// The logger state (idle/scan/read/rs/err).
    pub fn state(&self) -> LoggerState {
        self.bus.state()
    }

    /// Attaches the appliance's inputs: input meters (S0, PT1000) are read from them in the
    /// cycle; without them those meters fail with "no input hardware".
    pub fn attach_inputs(&mut self, inputs: Box<dyn InputReader>) {
        self.inputs = Some(std::sync::Mutex::new(inputs));
    }

    /// The clock the logger runs on (for helpers that stamp events).
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// The bus arbiter, for requests from other threads (manual reads, bridge).
    pub fn arbiter(&self) -> Arc<BusArbiter<B>> {
        Arc::clone(&self.bus)
    }

    /// The pending slot of every meter's next read, earliest first.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.schedule.next_due()
    }

    /// The longest the run loop waits before looking at the stop flag again (default 500 ms).
    pub fn set_nap(&mut self, nap: Duration) {
        self.nap = nap;
    }

    fn stamp(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(self.config_store.path())
            .and_then(|m| m.modified())
            .ok()
    }

    /// Takes over a configuration file changed by someone else (e.g. `mbusctl config
    /// import`) while the engine runs. An invalid file is reported in the event log and the
    /// configuration in force stays. Returns whether a new configuration was taken.
    pub fn reload_if_changed(&mut self) -> bool {
        let stamp = self.stamp();
        if stamp == self.config_stamp {
            return false;
        }
        self.config_stamp = stamp;
        let Ok(text) = std::fs::read_to_string(self.config_store.path()) else {
            // Removed or unreadable: keep the configuration in force.
            return false;
        };
        match Config::from_json_migrating(&text) {
            Ok((config, None)) if config == self.config => false,
            Ok((config, migration)) => match self.apply_config(config) {
                Ok(()) => {
                    tracing::info!(meters = self.config.meters.len(), "configuration reloaded");
                    if let Some(migration) = migration {
                        let now = self.clock.now();
                        self.log(EventCode::ConfigMigrated, None, &migration.to_string(), now);
                    }
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, "reloading the configuration failed");
                    false
                }
            },
            Err(e) => {
                let now = self.clock.now();
                self.log(
                    EventCode::ConfigRejected,
                    None,
                    &format!("Configuration file not taken: {e}"),
                    now,
                );
                false
            }
        }
    }

    fn apply_config(&mut self, config: Config) -> Result<(), LoggerError> {
        self.config_store.save(&config)?;
        self.config_stamp = self.stamp();
        if config.general.event_log_capacity != self.config.general.event_log_capacity {
            self.events
                .set_capacity(config.general.event_log_capacity as usize)
                .map_err(io_err(&self.data_dir))?;
        }
        self.config = config;
        if let Some(alarms) = &self.alarms {
            alarms.configure(&self.config);
        }
        self.schedule.sync(&self.config, self.clock.now());
        let config = &self.config;
        self.status.retain(|id| config.meter(id).is_some());
        Ok(())
    }

    /// Replaces the configuration: validated, saved atomically, then in force (new cycles and
    /// meters are scheduled). On error nothing changes.
    pub fn set_config(&mut self, config: Config) -> Result<(), LoggerError> {
        config.validate()?;
        self.apply_config(config)
    }

    /// Restores a backup (JSON): fully validated first; a bad file changes nothing and the
    /// error names the field and the problem.
    pub fn restore(&mut self, backup: &str) -> Result<(), LoggerError> {
        let config = Config::from_json(backup)?;
        self.apply_config(config)
    }

    /// Deletes a meter with its whole history.
    pub fn delete_meter(&mut self, id: u32) -> Result<(), LoggerError> {
        let mut config = self.config.clone();
        let before = config.meters.len();
        config.meters.retain(|m| m.id != id);
        if config.meters.len() == before {
            return Err(LoggerError::UnknownMeter(id));
        }
        self.apply_config(config)?;
        self.store.delete_meter(MeterId(id))?;
        Ok(())
    }

    /// Adds found meters that are not configured yet (automatic names, templates applied);
    /// returns their ids.
    pub fn adopt(&mut self, found: &[DiscoveredMeter]) -> Result<Vec<u32>, LoggerError> {
        let mut config = self.config.clone();
        let added = inventory::adopt(&mut config, found, &self.builtin);
        if !added.is_empty() {
            self.apply_config(config)?;
            tracing::info!(added = added.len(), "meters added");
        }
        Ok(added)
    }

    /// Runs `search` with the bus held in state `scan` (after the bus's cycle hook, so a
    /// simulation shows current values) and adopts the meters it returns.
    pub fn scan_with<E>(
        &mut self,
        search: impl FnOnce(&mut Master<B::Transport>) -> Result<Vec<DiscoveredMeter>, E>,
    ) -> Result<Vec<u32>, E>
    where
        E: From<LoggerError>,
    {
        let found = self.hold_for_scan(|bus, _| search(bus.master()))?;
        tracing::info!(found = found.len(), "scan finished");
        Ok(self.adopt(&found)?)
    }

    /// Runs `search` on the bus held in state `scan`, after the bus's cycle hook. The clock
    /// moves on by the bus time spent; the search can ask it for the time in between.
    fn hold_for_scan<T>(&mut self, search: impl FnOnce(&mut B, &mut BusClock<'_>) -> T) -> T {
        let clock = Arc::clone(&self.clock);
        let mut bus = self.bus.acquire(Purpose::Scan);
        bus.before_cycle(clock.now());
        let mut bus_clock = BusClock {
            clock: &*clock,
            mark: bus.bus_time(),
        };
        let result = search(&mut bus, &mut bus_clock);
        bus_clock.now(&mut *bus);
        result
    }

    /// Scans the bus (primary or secondary, at the options' baud rates), reads every meter
    /// that answers alone completely (all telegrams, for its registers) and adds the new ones
    /// with automatic names and templates applied. The complete reads are stored as readings
    /// of their meters, stamped with the time of the read, and set the meters' status, so
    /// values are there right after the scan, before the first grid slot.
    pub fn scan(
        &mut self,
        kind: &ScanKind,
        progress: impl FnMut(&Progress),
        cancel: CancelToken,
    ) -> Result<ScanSummary, LoggerError> {
        let mut summary = ScanSummary::default();
        let (found, reads) = self.hold_for_scan(|bus, clock| {
            let report = {
                let mut scanner = Scanner::new(bus.master())
                    .on_progress(progress)
                    .with_cancel(cancel);
                match kind {
                    ScanKind::Primary(options) => scanner.primary(options)?,
                    ScanKind::Secondary(options) => scanner.secondary(options)?,
                }
            };
            summary.found = report.meters.len();
            summary.cancelled = report.cancelled;
            let mut found = Vec::new();
            let mut reads = Vec::new();
            for m in report.meters {
                if !matches!(m.status, FoundStatus::Ok | FoundStatus::Unreadable) {
                    summary.conflicts += 1;
                    continue;
                }
                let result = full_read(bus.master(), &m);
                let at = clock.now(&mut *bus);
                let telegrams = match result {
                    Ok(telegrams) => {
                        reads.push((found.len(), at, Ok(())));
                        telegrams
                    }
                    Err(e) => {
                        reads.push((found.len(), at, Err(e.to_string())));
                        m.telegram.iter().map(|t| t.bytes().to_vec()).collect()
                    }
                };
                found.push(DiscoveredMeter {
                    primary: m.primary,
                    secondary: m.secondary,
                    baud: m.baud,
                    telegrams,
                });
            }
            if found.iter().any(|m| m.secondary.is_some()) {
                release_selection(bus.master());
            }
            Ok::<_, LoggerError>((found, reads))
        })?;
        tracing::info!(found = found.len(), "scan finished");
        summary.added = self.adopt(&found)?;
        let mut batch = Batch::default();
        for (i, at, result) in reads {
            let Some(index) = inventory::configured(&self.config, &found[i]) else {
                continue;
            };
            let outcome = result
                .map_err(ReadFailure::Failed)
                .and_then(|()| decode_reply(&found[i].telegrams));
            self.record_read(&mut batch, index, at, outcome);
        }
        summary.reads = self.commit(batch, self.clock.now());
        self.save_status();
        Ok(summary)
    }

    /// Reads the meters whose slot has come; each reading is stamped with its slot.
    pub fn run_due(&mut self) -> Result<CycleReport, LoggerError> {
        self.read_due(&AtomicBool::new(false))
    }

    /// [`Logger::run_due`], stopping between two meters once `stop` is set (a shutdown does
    /// not wait for a long cycle; the meters not read keep their previous status).
    fn read_due(&mut self, stop: &AtomicBool) -> Result<CycleReport, LoggerError> {
        let now = self.clock.now();
        self.follow_bridge(now);
        let due = self.schedule.take_due(now);
        if due.is_empty() {
            return Ok(CycleReport::default());
        }
        let (inputs, due): (Vec<Due>, Vec<Due>) = due.into_iter().partition(|d| {
            self.config
                .meter(d.meter)
                .is_some_and(|m| m.input.is_some())
        });
        let mut batch = Batch::default();
        self.read_inputs(&inputs, &mut batch);
        let skipped: Vec<_> = due.iter().filter(|d| d.skipped > 0).collect();
        if self.pause.is_none() && !skipped.is_empty() {
            let total: u64 = skipped.iter().map(|d| u64::from(d.skipped)).sum();
            for d in &skipped {
                self.status.record_skipped(d.meter, d.skipped);
            }
            self.log(
                EventCode::CycleOverrun,
                None,
                &format!(
                    "{total} read slot(s) of {} meter(s) passed unread after an overrun",
                    skipped.len()
                ),
                now,
            );
        }
        let missed_from = match self.pause {
            Some(_) => Some(0),
            None if due.is_empty() => None,
            None => self.read_bus_meters(&due, now, stop, &mut batch),
        };
        let committed = Committed {
            readings: batch.readings.iter().map(|r| (r.meter, r.time)).collect(),
        };
        let mut report = self.commit(batch, now);
        if let Some(i) = missed_from.filter(|i| *i < due.len()) {
            report.missed = self.miss(&due[i..], now).missed;
        }
        if let Some(inputs) = &self.inputs {
            let mut inputs = inputs.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = inputs.sync() {
                tracing::error!(error = %e, "saving the S0 totals failed");
            }
        }
        if report.stored > 0 {
            for hook in &mut self.commit_hooks {
                hook(&committed);
            }
        }
        let end = self.clock.now();
        let overran: Vec<u32> = due
            .iter()
            .filter(|d| {
                self.schedule
                    .next_of(d.meter)
                    .is_some_and(|next| next <= end)
            })
            .map(|d| d.meter)
            .collect();
        if !overran.is_empty() {
            report.overrun = true;
            self.status.record_overrun(overran.iter().copied());
            let tz = self.config.tz();
            self.log(
                EventCode::CycleOverrun,
                None,
                &format!(
                    "Read cycle of {} overran: reads lasted until {}, past the next slot of {} meter(s)",
                    due[0].slot.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S"),
                    end.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S"),
                    overran.len()
                ),
                end,
            );
        }
        self.save_status();
        tracing::debug!(
            read = report.read,
            failed = report.failed,
            stored = report.stored,
            "read cycle done"
        );
        Ok(report)
    }

    /// Reads the bus meters of `due` into `batch`, the bus held for reads. Returns the position
    /// from which the rest of `due` was not read because the level converter took the bus
    /// (0 when it had it already), `None` when every meter had its turn.
    fn read_bus_meters(
        &mut self,
        due: &[Due],
        now: DateTime<Utc>,
        stop: &AtomicBool,
        batch: &mut Batch,
    ) -> Option<usize> {
        let timeout = Duration::from_millis(u64::from(self.config.general.read_timeout_ms));
        let mut handed_over = None;
        let bus_arc = Arc::clone(&self.bus);
        let Some(mut bus) = bus_arc.acquire_unless_bridged(Purpose::Read) else {
            return Some(0);
        };
        bus.before_cycle(now);
        let cycle_start = bus.bus_time();
        let mut selected = false;
        for (i, d) in due.iter().enumerate() {
            if stop.load(Ordering::SeqCst) {
                tracing::info!("read cycle interrupted by shutdown");
                break;
            }
            if bus_arc.bridged() {
                tracing::info!("read cycle ends early: the level converter takes the bus");
                handed_over = Some(i);
                break;
            }
            let Some(index) = self.config.meters.iter().position(|m| m.id == d.meter) else {
                continue;
            };
            let t0 = bus.bus_time();
            let meter = &self.config.meters[index];
            selected |= read_by_secondary(meter).is_some();
            let result = read_meter(bus.master(), meter, timeout);
            let spent = bus.bus_time().saturating_sub(t0);
            self.clock.spend(spent);
            batch.report.read_durations.push((d.meter, spent));
            let outcome = match result {
                Ok(telegrams) => decode_reply(&telegrams),
                Err(LinkError::BusOverload) => {
                    if !bus_arc.state().eq(&LoggerState::Err) {
                        bus_arc.set_fault(true);
                        self.log(
                            EventCode::BusOverload,
                            None,
                            "M-Bus overload (short circuit)",
                            d.slot,
                        );
                    }
                    Err(ReadFailure::Failed(LinkError::BusOverload.to_string()))
                }
                Err(e) => Err(ReadFailure::Failed(e.to_string())),
            };
            if outcome.is_ok() && bus_arc.state() == LoggerState::Err {
                bus_arc.set_fault(false);
                self.condition_went(EventCode::BusOverload, None, d.slot);
            }
            self.record_read(batch, index, d.slot, outcome);
        }
        if selected {
            let t0 = bus.bus_time();
            release_selection(bus.master());
            self.clock.spend(bus.bus_time().saturating_sub(t0));
        }
        batch.report.bus_time = bus.bus_time().saturating_sub(cycle_start);
        handed_over
    }

    /// Takes the outcome of reading the meter at `index` at time `at` (a grid slot, or the
    /// moment a scan read it): a meter still without registers gets them from the reply, the
    /// reading joins `batch`, the status and the event log follow the outcome.
    fn record_read(
        &mut self,
        batch: &mut Batch,
        index: usize,
        at: DateTime<Utc>,
        outcome: Result<MeterData, ReadFailure>,
    ) {
        let id = self.config.meters[index].id;
        match outcome {
            Ok(data) => {
                let meter = &mut self.config.meters[index];
                if meter.registers.is_empty() {
                    inventory::assign_registers(
                        meter,
                        &data,
                        &self.config.templates,
                        &self.builtin,
                    );
                    batch.config_changed = true;
                }
                let meter = &self.config.meters[index];
                if meter.logging {
                    batch.readings.push(data.reading(meter, at.timestamp()));
                }
                let flags = data.error_flags();
                let transition = self.status.record_success(id, at, flags);
                self.after_success(id, transition, flags, at);
                batch.report.read += 1;
            }
            Err(ReadFailure::Encrypted(mode)) => {
                tracing::warn!(meter = id, mode, "reply is encrypted; key needed");
                let transition = self.status.record_encrypted(id, at, mode);
                let text = self.status.meter(id).last_error.unwrap_or_default();
                self.after_failure(id, transition, &text, at);
                batch.report.failed += 1;
            }
            Err(ReadFailure::Failed(error)) => {
                tracing::warn!(meter = id, %error, "read failed");
                let transition = self.status.record_failure(id, at, &error);
                self.after_failure(id, transition, &error, at);
                batch.report.failed += 1;
            }
        }
    }

    /// Stores the readings of `batch` (a storage failure is logged at `now`) and saves the
    /// registers new meters got; returns what the batch did. The status is the caller's to
    /// save.
    fn commit(&mut self, batch: Batch, now: DateTime<Utc>) -> CycleReport {
        let mut report = batch.report;
        match self.store.append_batch(&batch.readings) {
            Ok(()) => {
                report.stored = batch.readings.len();
                report.values = batch
                    .readings
                    .iter()
                    .map(|r| r.values.iter().flatten().count())
                    .sum();
            }
            Err(e) => {
                tracing::error!(error = %e, "storing readings failed");
                self.log(
                    EventCode::StorageFailed,
                    None,
                    &format!("Storing readings failed: {e}"),
                    now,
                );
            }
        }
        if batch.config_changed {
            match self.config_store.save(&self.config) {
                Ok(()) => self.config_stamp = self.stamp(),
                Err(e) => tracing::error!(error = %e, "saving the registers of new meters failed"),
            }
        }
        report
    }

    /// Attaches the e-mail alarms: from now on they hear every incident of the event log
    /// and follow configuration changes; their transfer failures and status reach the event
    /// log and the status file as the engine runs.
    pub fn attach_alarms(&mut self, alarms: Alarms) {
        alarms.configure(&self.config);
        self.events.set_sink(Some(Box::new(alarms.clone())));
        self.alarms = Some(alarms);
    }

    /// Takes the e-mail alarms' transfer outcomes into the event log and their status into
    /// the status board, saving the status file when that changed (the run loop does this
    /// between read cycles).
    pub fn sync_alarms(&mut self) {
        if self.take_alarm_news() {
            self.save_status();
        }
    }

    /// [`Logger::sync_alarms`] without saving; returns whether the e-mail status changed.
    fn take_alarm_news(&mut self) -> bool {
        let Some(alarms) = &self.alarms else {
            return false;
        };
        alarms.record_reports(&mut self.events);
        let status = Some(alarms.status());
        let changed = status != self.status.email;
        self.status.email = status;
        changed
    }

    fn save_status(&mut self) {
        self.take_alarm_news();
        self.status.state = self.bus.state();
        if let Err(e) = self.status.save(&self.data_dir) {
            tracing::error!(error = %e, "saving the status failed");
        }
    }

    /// The current value of an input as a reply, or why there is none.
    fn read_input(&self, source: InputSource) -> Result<MeterData, String> {
        let inputs = self
            .inputs
            .as_ref()
            .ok_or_else(|| "no input hardware (io.backend is none)".to_string())?;
        let mut inputs = inputs.lock().unwrap_or_else(|e| e.into_inner());
        inputs
            .read(source)
            .map(|value| input_reply(source, value))
            .map_err(|e| e.to_string())
    }

    /// Reads the input meters of `due` (the appliance's own inputs, not the bus) into `batch`.
    fn read_inputs(&mut self, due: &[Due], batch: &mut Batch) {
        for d in due {
            let Some(index) = self.config.meters.iter().position(|m| m.id == d.meter) else {
                continue;
            };
            let Some(source) = self.config.meters[index].input else {
                continue;
            };
            let outcome = self
                .read_input(source)
                .map_err(|e| ReadFailure::Failed(e.to_string()));
            self.record_read(batch, index, d.slot, outcome);
        }
    }

    /// Starts or ends the pause of scheduled reads as the level-converter bridge takes or
    /// gives back the bus; the end is one event with the slots missed.
    fn follow_bridge(&mut self, now: DateTime<Utc>) {
        match (self.bus.bridged(), self.pause.is_some()) {
            (true, false) => {
                tracing::info!("level-converter mode: scheduled reads paused");
                self.pause = Some(Pause {
                    since: now,
                    slots: 0,
                    meters: Default::default(),
                });
                self.status.level_converter_missed = 0;
                self.save_status();
            }
            (false, true) => {
                let Some(pause) = self.pause.take() else {
                    return;
                };
                let tz = self.config.tz();
                let at = |t: DateTime<Utc>| t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S");
                let message = format!(
                    "Scheduled reads resumed after level-converter mode ({} to {}): {} read \
                     slot(s) of {} meter(s) missed",
                    at(pause.since),
                    at(now),
                    pause.slots,
                    pause.meters.len()
                );
                tracing::info!(
                    missed = pause.slots,
                    "level-converter mode ended: reads resume"
                );
                self.log(EventCode::ReadsResumed, None, &message, now);
                self.save_status();
            }
            _ => {}
        }
    }

    /// Counts the slots of `due` as missed while the bridge has the bus (a pause starts now
    /// if none is running); the meters' status counts them as skipped.
    fn miss(&mut self, due: &[Due], now: DateTime<Utc>) -> CycleReport {
        let pause = self.pause.get_or_insert_with(|| Pause {
            since: now,
            slots: 0,
            meters: Default::default(),
        });
        let mut missed = 0;
        for d in due {
            let slots = u64::from(d.skipped) + 1;
            missed += slots;
            pause.meters.insert(d.meter);
            self.status
                .record_skipped(d.meter, d.skipped.saturating_add(1));
        }
        pause.slots += missed;
        self.status.level_converter_missed = pause.slots;
        tracing::info!(
            slots = missed,
            "read slot passed unread: the level converter has the bus"
        );
        self.save_status();
        CycleReport {
            missed,
            ..CycleReport::default()
        }
    }

    fn log(&mut self, code: EventCode, meter: Option<u32>, message: &str, at: DateTime<Utc>) {
        if let Err(e) = self.events.record(code, meter, message, at) {
            tracing::error!(error = %e, message, "event log write failed");
        }
    }

    fn condition_went(&mut self, code: EventCode, meter: Option<u32>, at: DateTime<Utc>) {
        if let Some(id) = self.events.open_condition(code, meter) {
            if let Err(e) = self.events.went(id, at) {
                tracing::error!(error = %e, "event log write failed");
            }
        }
    }

    fn describe(&self, id: u32) -> String {
        match self.config.meter(id) {
            Some(m) => match m.secondary {
                Some(s) => format!(
                    "Meter {s} ({}), {}",
                    String::from_utf8_lossy(&s.manufacturer_letters()),
                    m.name
                ),
                None => format!("Meter {}, {}", m.primary, m.name),
            },
            None => format!("Meter {id}"),
        }
    }

    fn after_success(&mut self, id: u32, transition: Transition, flags: u8, at: DateTime<Utc>) {
        let Transition::Changed { from, to } = transition else {
            return;
        };
        self.status_left(id, from, at);
        if to == ReadStatus::OkWithErrors {
            let text = format!("{} with error flags {flags:08b}", self.describe(id));
            self.log(EventCode::MeterErrorFlags, Some(id), &text, at);
        }
    }

    /// A failed read or an encrypted reply: one event when the status changes to it (one per
    /// incident, not one per cycle).
    fn after_failure(&mut self, id: u32, transition: Transition, error: &str, at: DateTime<Utc>) {
        let Transition::Changed { from, to } = transition else {
            return;
        };
        self.status_left(id, from, at);
        if to == ReadStatus::Encrypted {
            let text = format!("{}: {error}", self.describe(id));
            self.log(EventCode::MeterEncrypted, Some(id), &text, at);
        } else {
            let text = format!("{}: read failed ({error})", self.describe(id));
            self.log(EventCode::MeterReadFailed, Some(id), &text, at);
        }
    }

    /// Closes the open event of the status a meter left.
    fn status_left(&mut self, id: u32, from: ReadStatus, at: DateTime<Utc>) {
        let code = match from {
            ReadStatus::Failed => EventCode::MeterReadFailed,
            ReadStatus::OkWithErrors => EventCode::MeterErrorFlags,
            ReadStatus::Encrypted => EventCode::MeterEncrypted,
            ReadStatus::NeverRead | ReadStatus::Ok => return,
        };
        self.condition_went(code, Some(id), at);
    }

    /// Runs the schedule until `stop` is set: reads what is due, otherwise sleeps until the
    /// next slot (at most the nap, so `stop` is seen promptly).
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), LoggerError> {
        self.run_loop(stop, None, &mut |_, _| {})
    }

    /// [`Logger::run`], handing the report of every read cycle to `on_cycle` together with
    /// the logger (for its next slot, status, data directory …).
    pub fn run_reporting(
        &mut self,
        stop: &AtomicBool,
        mut on_cycle: impl FnMut(&Self, &CycleReport),
    ) -> Result<(), LoggerError> {
        self.run_loop(stop, None, &mut on_cycle)
    }

    /// Runs the schedule until the clock reaches `end` (for virtual-time runs).
    pub fn run_until(&mut self, end: DateTime<Utc>) -> Result<(), LoggerError> {
        self.run_loop(&AtomicBool::new(false), Some(end), &mut |_, _| {})
    }

    fn run_loop(
        &mut self,
        stop: &AtomicBool,
        end: Option<DateTime<Utc>>,
        on_cycle: &mut dyn FnMut(&Self, &CycleReport),
    ) -> Result<(), LoggerError> {
        while !stop.load(Ordering::SeqCst) {
            let now = self.housekeep();
            if end.is_some_and(|e| now >= e) {
                break;
            }
            match self.read_if_due(now, stop)? {
                Turn::Cycle(report) => on_cycle(self, &report),
                Turn::Wait(next) => {
                    let nap = chrono::Duration::from_std(self.nap)
                        .unwrap_or(chrono::Duration::seconds(1));
                    let mut wake = next.unwrap_or(now + nap);
                    if end.is_none() {
                        wake = wake.min(now + nap);
                    }
                    if let Some(e) = end {
                        wake = wake.min(e);
                    }
                    self.clock.sleep_until(wake);
                }
            }
        }
        Ok(())
    }

    /// One turn of the run loop: takes over the events of other threads, a configuration
    /// changed on disk and the e-mail news, then reads the meters whose slot has come. Returns
    /// the report of the cycle it ran, or, when nothing was due, the next slot (the caller
    /// waits until then, or less if it has other work).
    pub fn turn(&mut self, stop: &AtomicBool) -> Result<Turn, LoggerError> {
        let now = self.housekeep();
        self.read_if_due(now, stop)
    }

    /// What every turn does first; returns the time now.
    fn housekeep(&mut self) -> DateTime<Utc> {
        self.record_notices();
        self.reload_if_changed();
        self.sync_alarms();
        let now = self.clock.now();
        self.schedule.follow_clock(now);
        self.follow_bridge(now);
        now
    }

    fn read_if_due(&mut self, now: DateTime<Utc>, stop: &AtomicBool) -> Result<Turn, LoggerError> {
        match self.schedule.next_due() {
            Some(due) if due <= now => {
                let report = self.read_due(stop)?;
                // A cycle that only missed its slots (the bridge has the bus) read nothing.
                if report.read + report.failed == 0 && report.missed > 0 {
                    Ok(Turn::Wait(self.schedule.next_due()))
                } else {
                    Ok(Turn::Cycle(report))
                }
            }
            next => Ok(Turn::Wait(next)),
        }
    }

    /// Adds a hook called after each read cycle's readings are stored. Every consumer of new
    /// readings (uploads, the web's live updates, building-automation and fleet sinks) adds
    /// its own; they run in the order they were added.
    pub fn add_commit_hook(&mut self, hook: CommitHook) {
        self.commit_hooks.push(hook);
    }

    /// A sender through which other threads hand events to this logger's event log; they
    /// are recorded by the run loop.
    pub fn event_sender(&mut self) -> mpsc::Sender<EventNotice> {
        let (sender, _) = self.notices.get_or_insert_with(mpsc::channel);
        sender.clone()
    }

    /// Records the events other threads handed in.
    pub fn record_notices(&mut self) {
        let Some((_, inbox)) = &self.notices else {
            return;
        };
        let notices: Vec<EventNotice> = inbox.try_iter().collect();
        for notice in notices {
            match notice {
                EventNotice::Came { code, message, at } => self.log(code, None, &message, at),
                EventNotice::Went { code, at } => self.condition_went(code, None, at),
            }
        }
    }

    /// A meter by id.
    pub fn meter(&self, id: u32) -> Option<&Meter> {
        self.config.meter(id)
    }

    /// "Save as template": the meter's registers become the template for its type
    /// (manufacturer, medium, version, number of values), replacing an earlier one.
    pub fn save_as_template(
        &mut self,
        id: u32,
        device_name: &str,
    ) -> Result<Template, LoggerError> {
        let meter = self.config.meter(id).ok_or(LoggerError::UnknownMeter(id))?;
        let kind = meter.meter_type().ok_or(LoggerError::UnknownType(id))?;
        let template = Template::from_meter(meter, kind, device_name);
        let mut config = self.config.clone();
        crate::template::merge(&mut config.templates, vec![template.clone()]);
        config.validate()?;
        self.apply_config(config)?;
        Ok(template)
    }

    /// Imports a template file (JSON, see [`crate::template::export`]): validated completely
    /// first, then merged (a template for a type already present replaces it). Returns how
    /// many templates the file held.
    pub fn import_templates(&mut self, text: &str) -> Result<usize, LoggerError> {
        let imported = crate::template::import(text)?;
        let count = imported.len();
        let mut config = self.config.clone();
        crate::template::merge(&mut config.templates, imported);
        config.validate()?;
        self.apply_config(config)?;
        Ok(count)
    }

    /// Applies the template for the meter's type (the user's, else a built-in one) to the
    /// meter; returns the template's device name, or `None` if there is no template.
    pub fn apply_template(&mut self, id: u32) -> Result<Option<String>, LoggerError> {
        let meter = self.config.meter(id).ok_or(LoggerError::UnknownMeter(id))?;
        let kind = meter.meter_type().ok_or(LoggerError::UnknownType(id))?;
        let Some(template) =
            crate::template::find(&self.config.templates, &self.builtin, &kind).cloned()
        else {
            return Ok(None);
        };
        let mut config = self.config.clone();
        if let Some(m) = config.meters.iter_mut().find(|m| m.id == id) {
            template.apply(m);
        }
        config.validate()?;
        self.apply_config(config)?;
        Ok(Some(template.device_name))
    }

    /// Reads a meter now, on a user's request (queued at the bus like every other user),
    /// without storing the values: for "show the current values" in a user interface.
    pub fn read_now(&self, id: u32) -> Result<MeterData, LoggerError> {
        let meter = self.config.meter(id).ok_or(LoggerError::UnknownMeter(id))?;
        if let Some(source) = meter.input {
            return self.read_input(source).map_err(LoggerError::Input);
        }
        let timeout = Duration::from_millis(u64::from(self.config.general.read_timeout_ms));
        let telegrams = {
            let mut bus = self.bus.acquire(Purpose::Manual);
            let t0 = bus.bus_time();
            let result = read_meter(bus.master(), meter, timeout);
            if read_by_secondary(meter).is_some() {
                release_selection(bus.master());
            }
            self.clock.spend(bus.bus_time().saturating_sub(t0));
            result?
        };
        Ok(MeterData::decode(&telegrams)?)
    }
}

/// Why a read gave no reading.
#[derive(Debug)]
enum ReadFailure {
    /// The meter answered with encrypted records (this security mode); a key is needed.
    Encrypted(u8),
    /// No usable reply, with the reason as status and event log show it.
    Failed(String),
}

/// Decodes a meter's reply telegrams into register values, telling encrypted replies apart.
fn decode_reply(telegrams: &[Vec<u8>]) -> Result<MeterData, ReadFailure> {
    MeterData::decode(telegrams).map_err(|e| match e {
        ReadoutError::Encrypted { mode, .. } => ReadFailure::Encrypted(mode),
        other => ReadFailure::Failed(format!("bad reply: {other}")),
    })
}

/// The logger's clock while the bus is held: moves on by the bus time spent (a virtual
/// clock; the system clock moves by itself).
struct BusClock<'c> {
    clock: &'c dyn Clock,
    mark: Duration,
}

impl BusClock<'_> {
    /// The time now, after spending the bus time since the last call.
    fn now<B: MeterBus>(&mut self, bus: &mut B) -> DateTime<Utc> {
        let t = bus.bus_time();
        self.clock.spend(t.saturating_sub(self.mark));
        self.mark = t;
        self.clock.now()
    }
}

/// Readings and status changes of one read cycle or scan, not stored yet.
#[derive(Default)]
struct Batch {
    readings: Vec<Reading>,
    config_changed: bool,
    report: CycleReport,
}

/// All telegrams of a meter a scan found, read at its baud rate.
fn full_read<T: Transport>(
    master: &mut Master<T>,
    m: &mbus_scan::FoundMeter,
) -> Result<Vec<Vec<u8>>, LinkError> {
    if master.baud() != m.baud {
        master.set_baud(m.baud)?;
    }
    let telegrams = match (m.secondary, m.primary) {
        (Some(s), _) => master.read_secondary(&s)?,
        (None, Some(p)) => master.read_primary(PrimaryAddress::new(p)?)?,
        (None, None) => {
            return Err(LinkError::InvalidRequest(
                "the meter was found without a primary or secondary address".into(),
            ))
        }
    };
    Ok(telegrams.into_iter().map(|t| t.into_bytes()).collect())
}
