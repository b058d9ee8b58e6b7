//! The logger engine on a thread of its own, with a handle for user interfaces.
//!
//! [`Service::start`] moves an [`engine::Logger`](crate::engine::Logger) onto its own thread,
//! where it reads on its grid as before. Other threads (the web server, a display) get a
//! [`ServiceHandle`]: cheap to clone, `Send + Sync`, and never blocked by the bus:
//!
//! - [`ServiceHandle::snapshot`]: the configuration, the status board, the logger state, the
//!   next slot and the scan in progress, as of the last turn of the logger thread;
//! - [`ServiceHandle::subscribe`]: a stream of [`Update`]s (state changes, scan progress, new
//!   readings through the engine's commit hook, configuration and status changes);
//! - commands that change the logger ([`ServiceHandle::set_config`],
//!   [`ServiceHandle::delete_meter`], [`ServiceHandle::start_scan`] …) run on the logger thread
//!   between two reads, so the engine keeps one owner and a read is never interrupted. Each
//!   returns when done, with the engine's error (configuration errors carry field paths).
//!
//! Readings are not part of the snapshot: a reader opens its own read-only
//! [`Store`](crate::storage::Store) on the database (SQLite in WAL mode lets it read while the
//! logger writes).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use logger_core::clock::ManualClock;
//! use logger_core::engine::{Logger, ScanKind};
//! use logger_core::service::{Service, ServiceOptions};
//! use logger_core::simulation::SimInstallation;
//! use std::sync::Arc;
//!
//! let dir = tempfile::tempdir()?;
//! let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()));
//! let bus = SimInstallation::new(2, 1, mbus_proto::address::BaudRate::B2400, &[]);
//! let service = Service::start(Logger::open(dir.path(), bus, clock)?, ServiceOptions::default());
//! let handle = service.handle();
//! let summary = handle.scan(ScanKind::Secondary(Default::default()))?;
//! assert_eq!(summary.added.len(), 2);
//! assert_eq!(handle.snapshot().config.meters.len(), 2);
//! service.stop()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod device;

use crate::bus::MeterBus;
use crate::config::Config;
use crate::engine::{CycleReport, Logger, LoggerError, ScanKind, ScanSummary, Turn};
use crate::events::{EventCode, EventNotice};
use crate::readout::MeterData;
use crate::status::{LoggerState, StatusBoard};
use crate::template::Template;
use chrono::{DateTime, Utc};
use device::DeviceHealth;
use mbus_scan::{CancelToken, Progress};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Updates a subscriber may fall behind by before further ones are dropped for it.
pub const SUBSCRIBER_BACKLOG: usize = 256;

/// What stops a command.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The engine refused or failed (the configuration's field errors are inside).
    #[error(transparent)]
    Logger(#[from] LoggerError),
    /// The logger thread has stopped.
    #[error("the logger is not running")]
    Stopped,
    /// A scan is already running or queued.
    #[error("a scan is already running")]
    ScanRunning,
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// With no meter configured, scan by secondary address at start, and again (with
    /// backoff) until a scan has run through, e.g. once a missing bus device appeared.
    pub scan_if_empty: bool,
    /// The longest the logger thread waits for a command before it looks at the schedule,
    /// the stop flag and the device again.
    pub nap: Duration,
    /// The health of the bus device, when it can go missing: while it is not open the
    /// logger state is `err` and an event says why.
    pub device: Option<Arc<DeviceHealth>>,
}

impl Default for ServiceOptions {
    fn default() -> ServiceOptions {
        ServiceOptions {
            scan_if_empty: false,
            nap: Duration::from_millis(500),
            device: None,
        }
    }
}

/// A scan as the user interface shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanState {
    /// Still running.
    pub running: bool,
    /// Primary or secondary search.
    pub kind: &'static str,
    /// Baud rate being searched.
    pub baud: u32,
    /// Estimated part done, 0.0…1.0.
    pub fraction: f64,
    /// Meters found so far.
    pub found: usize,
    /// Bus time spent, seconds.
    pub bus_seconds: f64,
    /// Meters added (when done).
    pub added: Vec<u32>,
    /// Found meters not added because their address is shared (when done).
    pub conflicts: usize,
    /// It was cancelled.
    pub cancelled: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// The scan's reads of the meters it found (when done).
    pub reads: Option<CycleCounts>,
}

/// What a read cycle (or a scan's reads) did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CycleCounts {
    /// Meters read successfully.
    pub read: usize,
    /// Meters that could not be read.
    pub failed: usize,
    /// Readings stored.
    pub stored: usize,
    /// Values stored.
    pub values: usize,
    /// The cycle ran past the next slot of a meter.
    pub overrun: bool,
    /// How long the cycle held the bus (for the metrics).
    #[serde(skip)]
    pub bus_time: Duration,
    /// How long each meter's read took on the bus, in read order (for the metrics).
    #[serde(skip)]
    pub read_durations: Vec<Duration>,
}

impl From<&CycleReport> for CycleCounts {
    fn from(r: &CycleReport) -> CycleCounts {
        CycleCounts {
            read: r.read,
            failed: r.failed,
            stored: r.stored,
            values: r.values,
            overrun: r.overrun,
            bus_time: r.bus_time,
            read_durations: r.read_durations.iter().map(|d| d.1).collect(),
        }
    }
}

/// What the logger thread shows the others; see [`ServiceHandle::snapshot`].
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The configuration in force.
    pub config: Arc<Config>,
    /// Meters' read status.
    pub status: Arc<StatusBoard>,
    /// The logger state now (idle/scan/read/rs/err).
    pub state: LoggerState,
    /// The next grid slot.
    pub next_due: Option<DateTime<Utc>>,
    /// The scan running or last run.
    pub scan: Option<ScanState>,
    /// Why the bus device is not open (`None` while it is, or on a simulated bus).
    pub device_error: Option<String>,
}

/// One change the logger thread tells subscribers about.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    /// The logger state changed.
    State {
        /// The new state.
        state: LoggerState,
    },
    /// A scan moved on, ended or failed.
    Scan(ScanState),
    /// A read cycle ended.
    Cycle(CycleCounts),
    /// A read cycle stored readings: meter id and unix time of each.
    Readings {
        /// `(meter, time)` per stored reading.
        readings: Vec<(u32, i64)>,
    },
    /// The configuration changed (meters added, renamed, deleted, settings).
    Config,
    /// Meters' read status changed.
    Status,
}

type Reply<T> = mpsc::SyncSender<Result<T, LoggerError>>;

/// A change of the configuration in force, run on the logger thread.
type ConfigEdit = Box<dyn FnOnce(&mut Config) -> Result<(), LoggerError> + Send>;

enum Command {
    SetConfig(Box<Config>, Reply<()>),
    EditConfig(ConfigEdit, Reply<()>),
    Restore(String, Reply<()>),
    DeleteMeter(u32, Reply<()>),
    ApplyTemplate(u32, Reply<Option<String>>),
    SaveTemplate(u32, String, Reply<Template>),
    ImportTemplates(String, Reply<usize>),
    ReadNow(u32, Reply<MeterData>),
    Scan(ScanKind, CancelToken, Option<Reply<ScanSummary>>),
    Turn(Reply<Turn>),
}

struct Shared {
    snapshot: RwLock<Snapshot>,
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    subscribers: Mutex<Vec<mpsc::SyncSender<Update>>>,
    scan_cancel: Mutex<Option<CancelToken>>,
    state: Box<dyn Fn() -> LoggerState + Send + Sync>,
    data_dir: PathBuf,
    stop: AtomicBool,
}

impl Shared {
    fn publish(&self, update: Update) {
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subscribers.retain(|s| match s.try_send(update.clone()) {
            Ok(()) | Err(mpsc::TrySendError::Full(_)) => true,
            Err(mpsc::TrySendError::Disconnected(_)) => false,
        });
    }

    fn edit(&self, f: impl FnOnce(&mut Snapshot)) {
        f(&mut self.snapshot.write().unwrap_or_else(|e| e.into_inner()));
    }
}

/// The logger thread; [`Service::stop`] ends it and gives the engine back.
pub struct Service<B: MeterBus> {
    shared: Arc<Shared>,
    thread: JoinHandle<Logger<B>>,
}

impl<B: MeterBus> std::fmt::Debug for Service<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("data_dir", &self.shared.data_dir)
            .finish_non_exhaustive()
    }
}

/// A cloneable handle on the running logger; see the module documentation.
#[derive(Clone)]
pub struct ServiceHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ServiceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceHandle")
            .field("data_dir", &self.shared.data_dir)
            .finish_non_exhaustive()
    }
}

impl<B: MeterBus + 'static> Service<B> {
    /// Starts the logger thread. Add commit hooks, alarms and uploads to `logger` before.
    pub fn start(mut logger: Logger<B>, options: ServiceOptions) -> Service<B> {
        let arbiter = logger.arbiter();
        let (sender, inbox) = mpsc::channel();
        let shared = Arc::new(Shared {
            snapshot: RwLock::new(Snapshot {
                config: Arc::new(logger.config().clone()),
                status: Arc::new(logger.status().clone()),
                state: logger.state(),
                next_due: logger.next_due(),
                scan: None,
                device_error: None,
            }),
            commands: Mutex::new(Some(sender)),
            subscribers: Mutex::new(Vec::new()),
            scan_cancel: Mutex::new(None),
            state: Box::new(move || arbiter.state()),
            data_dir: logger.data_dir().to_path_buf(),
            stop: AtomicBool::new(false),
        });
        let hook_shared = Arc::clone(&shared);
        logger.add_commit_hook(Box::new(move |committed| {
            hook_shared.publish(Update::Readings {
                readings: committed
                    .readings
                    .iter()
                    .map(|(meter, time)| (meter.0, *time))
                    .collect(),
            });
        }));
        let events = logger.event_sender();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("logger".into())
            .spawn(move || {
                let mut worker = Worker {
                    logger,
                    shared: thread_shared,
                    inbox,
                    options,
                    events,
                    last_state: None,
                    device_up: None,
                    scan_pending: false,
                    scan_retry: device::FIRST_BACKOFF,
                    next_scan: std::time::Instant::now(),
                };
                worker.run();
                worker.logger
            })
            .unwrap_or_else(|e| panic!("cannot start the logger thread: {e}"));
        Service { shared, thread }
    }

    /// A handle for other threads.
    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops the logger thread between two reads (a running scan is cancelled) and returns
    /// the engine.
    pub fn stop(self) -> Result<Logger<B>, ServiceError> {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(cancel) = self
            .shared
            .scan_cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            cancel.cancel();
        }
        // Wake the thread if it waits for commands.
        self.shared
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.thread.join().map_err(|_| ServiceError::Stopped)
    }
}

impl ServiceHandle {
    /// The data directory (for opening a read-only store or the event log).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.shared.data_dir
    }

    /// What the logger thread last published, with the logger state of this moment.
    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = self
            .shared
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        snapshot.state = self.state();
        snapshot
    }

    /// The logger state of this moment.
    pub fn state(&self) -> LoggerState {
        (self.shared.state)()
    }

    /// Updates from now on. A subscriber that falls more than [`SUBSCRIBER_BACKLOG`] updates
    /// behind misses the newer ones until it catches up (the snapshot is always current).
    pub fn subscribe(&self) -> mpsc::Receiver<Update> {
        let (sender, receiver) = mpsc::sync_channel(SUBSCRIBER_BACKLOG);
        self.shared
            .subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sender);
        receiver
    }

    fn send(&self, command: Command) -> Result<(), ServiceError> {
        let commands = self
            .shared
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        commands
            .as_ref()
            .ok_or(ServiceError::Stopped)?
            .send(command)
            .map_err(|_| ServiceError::Stopped)
    }

    fn call<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, ServiceError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(command(reply))?;
        Ok(answer.recv().map_err(|_| ServiceError::Stopped)??)
    }

    /// Replaces the configuration (validated completely first; on error nothing changes).
    pub fn set_config(&self, config: Config) -> Result<(), ServiceError> {
        self.call(|r| Command::SetConfig(Box::new(config), r))
    }

    /// Changes the configuration in force with `edit` on the logger thread (so nothing changed
    /// meanwhile, e.g. meters a scan added, is lost), then validates and saves it as
    /// [`ServiceHandle::set_config`] does. An error of `edit` or of the validation changes
    /// nothing.
    pub fn edit_config<T: Send + 'static>(
        &self,
        edit: impl FnOnce(&mut Config) -> Result<T, LoggerError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let (sender, result) = mpsc::sync_channel(1);
        self.call(|r| {
            Command::EditConfig(
                Box::new(move |config| {
                    let value = edit(config)?;
                    // The receiver waits below.
                    let _ = sender.send(value);
                    Ok(())
                }),
                r,
            )
        })?;
        result.try_recv().map_err(|_| ServiceError::Stopped)
    }

    /// Restores a backup (the configuration as JSON text), validated completely first.
    pub fn restore(&self, backup: String) -> Result<(), ServiceError> {
        self.call(|r| Command::Restore(backup, r))
    }

    /// Deletes a meter with its history.
    pub fn delete_meter(&self, id: u32) -> Result<(), ServiceError> {
        self.call(|r| Command::DeleteMeter(id, r))
    }

    /// Applies the template for the meter's type; returns its device name, `None` if there is
    /// no template.
    pub fn apply_template(&self, id: u32) -> Result<Option<String>, ServiceError> {
        self.call(|r| Command::ApplyTemplate(id, r))
    }

    /// Saves the meter's registers as the template of its type.
    pub fn save_as_template(&self, id: u32, device_name: String) -> Result<Template, ServiceError> {
        self.call(|r| Command::SaveTemplate(id, device_name, r))
    }

    /// Imports a template file (JSON); returns how many templates it held.
    pub fn import_templates(&self, text: String) -> Result<usize, ServiceError> {
        self.call(|r| Command::ImportTemplates(text, r))
    }

    /// Reads a meter now without storing the values.
    pub fn read_now(&self, id: u32) -> Result<MeterData, ServiceError> {
        self.call(|r| Command::ReadNow(id, r))
    }

    /// Lets the logger thread take a turn now (read what is due) and returns what it did.
    pub fn turn(&self) -> Result<Turn, ServiceError> {
        self.call(Command::Turn)
    }

    /// Starts a scan and returns at once; its progress comes as [`Update::Scan`] and in the
    /// snapshot. Refused while another scan runs.
    pub fn start_scan(&self, kind: ScanKind) -> Result<(), ServiceError> {
        let cancel = self.claim_scan()?;
        self.send(Command::Scan(kind, cancel, None))
    }

    /// Runs a scan and waits for its end.
    pub fn scan(&self, kind: ScanKind) -> Result<ScanSummary, ServiceError> {
        let cancel = self.claim_scan()?;
        self.call(|r| Command::Scan(kind, cancel, Some(r)))
    }

    fn claim_scan(&self) -> Result<CancelToken, ServiceError> {
        let mut slot = self
            .shared
            .scan_cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(ServiceError::ScanRunning);
        }
        let cancel = CancelToken::new();
        *slot = Some(cancel.clone());
        Ok(cancel)
    }

    /// Cancels the running scan (between two probes); returns whether one was running.
    pub fn cancel_scan(&self) -> bool {
        match self
            .shared
            .scan_cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            Some(cancel) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }
}

/// The logger thread's side.
struct Worker<B: MeterBus> {
    logger: Logger<B>,
    shared: Arc<Shared>,
    inbox: mpsc::Receiver<Command>,
    options: ServiceOptions,
    events: mpsc::Sender<EventNotice>,
    last_state: Option<LoggerState>,
    device_up: Option<bool>,
    scan_pending: bool,
    scan_retry: Duration,
    next_scan: std::time::Instant,
}

impl<B: MeterBus> Worker<B> {
    fn run(&mut self) {
        // Input meters (the appliance's own S0 and PT1000 inputs) are no reason to skip the scan.
        self.scan_pending = self.options.scan_if_empty
            && self
                .logger
                .config()
                .meters
                .iter()
                .all(|m| m.input.is_some());
        while !self.shared.stop.load(Ordering::SeqCst) {
            self.watch_device();
            if self.scan_pending && std::time::Instant::now() >= self.next_scan {
                self.initial_scan();
            }
            if self.logger.next_due().is_some_and(|d| d <= self.now()) {
                self.publish_state(LoggerState::Read);
            }
            let wait = match self.logger.turn(&self.shared.stop) {
                Ok(Turn::Cycle(report)) => {
                    // Subscribers see the cycle with the snapshot already showing it.
                    self.refresh();
                    self.shared
                        .publish(Update::Cycle(CycleCounts::from(&report)));
                    Duration::ZERO
                }
                Ok(Turn::Wait(next)) => {
                    let until = next.map_or(self.options.nap, |n| {
                        (n - self.now()).to_std().unwrap_or(Duration::ZERO)
                    });
                    until.min(self.options.nap)
                }
                Err(e) => {
                    tracing::error!(error = %e, "read cycle failed");
                    self.options.nap
                }
            };
            self.refresh();
            if wait.is_zero() {
                while let Ok(command) = self.inbox.try_recv() {
                    self.execute(command);
                }
                continue;
            }
            match self.inbox.recv_timeout(wait) {
                Ok(command) => {
                    self.execute(command);
                    while let Ok(command) = self.inbox.try_recv() {
                        self.execute(command);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        // Answer what is still queued rather than leaving callers waiting.
        while let Ok(command) = self.inbox.try_recv() {
            self.execute(command);
        }
        self.refresh();
    }

    fn now(&self) -> DateTime<Utc> {
        self.logger.now()
    }

    fn execute(&mut self, command: Command) {
        match command {
            Command::SetConfig(config, reply) => {
                let result = self.logger.set_config(*config);
                self.answer(reply, result);
            }
            Command::EditConfig(edit, reply) => {
                let mut config = self.logger.config().clone();
                let result = edit(&mut config).and_then(|()| self.logger.set_config(config));
                self.answer(reply, result);
            }
            Command::Restore(text, reply) => {
                let result = self.logger.restore(&text);
                self.answer(reply, result);
            }
            Command::DeleteMeter(id, reply) => {
                let result = self.logger.delete_meter(id);
                self.answer(reply, result);
            }
            Command::ApplyTemplate(id, reply) => {
                let result = self.logger.apply_template(id);
                self.answer(reply, result);
            }
            Command::SaveTemplate(id, name, reply) => {
                let result = self.logger.save_as_template(id, &name);
                self.answer(reply, result);
            }
            Command::ImportTemplates(text, reply) => {
                let result = self.logger.import_templates(&text);
                self.answer(reply, result);
            }
            Command::ReadNow(id, reply) => {
                if self.logger.meter(id).is_some() {
                    self.publish_state(LoggerState::Read);
                }
                let result = self.logger.read_now(id);
                self.answer(reply, result);
            }
            Command::Turn(reply) => {
                let result = self.logger.turn(&self.shared.stop);
                if let Ok(Turn::Cycle(report)) = &result {
                    self.refresh();
                    self.shared
                        .publish(Update::Cycle(CycleCounts::from(report)));
                }
                self.answer(reply, result);
            }
            Command::Scan(kind, cancel, reply) => {
                let result = self.scan(&kind, cancel);
                match reply {
                    Some(reply) => self.answer(reply, result),
                    None => self.refresh(),
                }
            }
        }
    }

    /// Publishes what the command changed, then answers (so the caller sees the change in
    /// the snapshot). A caller that gave up waiting is no reason to stop.
    fn answer<T>(&mut self, reply: Reply<T>, result: Result<T, LoggerError>) {
        self.refresh();
        let _ = reply.send(result);
    }

    fn scan(&mut self, kind: &ScanKind, cancel: CancelToken) -> Result<ScanSummary, LoggerError> {
        let kind_name = match kind {
            ScanKind::Primary(_) => "primary",
            ScanKind::Secondary(_) => "secondary",
        };
        let mut state = ScanState {
            running: true,
            kind: kind_name,
            baud: 0,
            fraction: 0.0,
            found: 0,
            bus_seconds: 0.0,
            added: Vec::new(),
            conflicts: 0,
            cancelled: false,
            error: None,
            reads: None,
        };
        self.shared.edit(|s| s.scan = Some(state.clone()));
        self.publish_state(LoggerState::Scan);
        self.shared.publish(Update::Scan(state.clone()));
        let shared = Arc::clone(&self.shared);
        let mut shown = state.clone();
        let progress = |p: &Progress| {
            let mut now = shown.clone();
            now.baud = p.baud.bps();
            now.fraction = p.fraction;
            now.found = p.found;
            now.bus_seconds = p.bus_time.as_secs_f64();
            // One update per percent, per found meter or per new baud rate.
            if (now.fraction * 100.0).floor() != (shown.fraction * 100.0).floor()
                || now.found != shown.found
                || now.baud != shown.baud
            {
                shared.edit(|s| s.scan = Some(now.clone()));
                shared.publish(Update::Scan(now.clone()));
            }
            shown = now;
        };
        let result = self.logger.scan(kind, progress, cancel);
        self.shared
            .scan_cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        state.running = false;
        state.baud = shown.baud;
        state.bus_seconds = shown.bus_seconds;
        match &result {
            Ok(summary) => {
                state.fraction = 1.0;
                state.found = summary.found;
                state.added = summary.added.clone();
                state.conflicts = summary.conflicts;
                state.cancelled = summary.cancelled;
                state.reads = Some(CycleCounts::from(&summary.reads));
            }
            Err(e) => {
                tracing::error!(error = %e, "scan failed");
                state.error = Some(e.to_string());
            }
        }
        self.shared.edit(|s| s.scan = Some(state.clone()));
        // Subscribers see the end with the snapshot already showing what the scan added.
        self.refresh();
        self.shared.publish(Update::Scan(state));
        result
    }

    /// The scan with no meters configured; tried again with backoff until it runs through.
    /// Whether a bus meter is configured (the appliance's own S0 and PT1000 input meters are
    /// no reason to skip the first scan).
    fn has_bus_meters(&self) -> bool {
        self.logger
            .config()
            .meters
            .iter()
            .any(|m| m.input.is_none())
    }

    fn initial_scan(&mut self) {
        if self.has_bus_meters() {
            self.scan_pending = false;
            return;
        }
        let Ok(cancel) = (ServiceHandle {
            shared: Arc::clone(&self.shared),
        })
        .claim_scan() else {
            return;
        };
        tracing::info!("no meters configured: scanning by secondary address");
        match self.scan(&ScanKind::Secondary(Default::default()), cancel) {
            Ok(_) => self.scan_pending = false,
            Err(_) => {
                self.next_scan = std::time::Instant::now() + self.scan_retry;
                self.scan_retry = (self.scan_retry * 2).min(device::MAX_BACKOFF);
            }
        }
        self.refresh();
    }

    /// Follows the bus device: state `err` and an event while it is missing.
    fn watch_device(&mut self) {
        let Some(health) = &self.options.device else {
            return;
        };
        let up = health.connected();
        if self.device_up == Some(up) {
            return;
        }
        self.device_up = Some(up);
        self.logger.arbiter().set_fault(!up);
        let at = self.now();
        let error = health.last_error();
        let notice = if up {
            EventNotice::Went {
                code: EventCode::DeviceUnavailable,
                at,
            }
        } else {
            EventNotice::Came {
                code: EventCode::DeviceUnavailable,
                message: format!(
                    "Bus device unavailable: {}",
                    error.as_deref().unwrap_or("not open")
                ),
                at,
            }
        };
        // The logger records it on its next turn; a closed inbox only means it stopped.
        let _ = self.events.send(notice);
        self.shared.edit(|s| {
            s.device_error = if up {
                None
            } else {
                Some(error.unwrap_or_else(|| "not open".into()))
            }
        });
    }

    fn publish_state(&mut self, state: LoggerState) {
        if self.last_state != Some(state) {
            self.last_state = Some(state);
            self.shared.publish(Update::State { state });
        }
    }

    /// Publishes what changed since the last turn.
    fn refresh(&mut self) {
        let config_changed;
        let status_changed;
        {
            let mut s = self
                .shared
                .snapshot
                .write()
                .unwrap_or_else(|e| e.into_inner());
            config_changed = *s.config != *self.logger.config();
            if config_changed {
                s.config = Arc::new(self.logger.config().clone());
            }
            status_changed = *s.status != *self.logger.status();
            if status_changed {
                s.status = Arc::new(self.logger.status().clone());
            }
            s.next_due = self.logger.next_due();
        }
        if config_changed {
            self.shared.publish(Update::Config);
        }
        if status_changed {
            self.shared.publish(Update::Status);
        }
        self.publish_state(self.logger.state());
    }
}
