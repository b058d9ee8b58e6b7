//! Automatic uploads: after every read cycle, one file per meter goes to an FTP/FTPS/SFTP server
//! and/or is pushed to an HTTPS receiver, through a durable spool.
//!
//! The read path only hands the cycle's stored readings (meter and slot) to the
//! [`Uploader`]'s channel (see [`crate::engine::Logger::add_commit_hook`]). The uploader's
//! own thread writes each meter's file into the spool of every enabled target (written
//! and flushed before the upload starts, so it survives restarts, outages and crashes),
//! then delivers the spool oldest first. A failure waits with exponential backoff (capped)
//! and logs one "upload failed" event per incident, not per retry; a slow or dead server
//! therefore never delays reading or storing.
//!
//! Files are named `<meter id>-<secondary address>-<yyyyMMddHHmmss>-<csv|json>` after the
//! reading's slot in the logger's time zone; their contents are those of the manual export
//! ([`crate::export::export_meter`]). Each name is delivered exactly once: FTP stores under a
//! temporary name and renames, and asks the server for the file's size before sending it
//! again after a lost reply; the HTTPS push names the file in an idempotency key.
//!
//! The state of every target (files waiting, last success, last error) is saved to
//! `upload-status.json` in the data directory ([`UploadStatus`]).

pub mod ftp;
pub mod https;
pub mod sftp;
pub mod spool;
pub mod tls;

use crate::clock::Clock;
use crate::config::{Config, ConfigStore, FileFormat, UploadProtocol, Uploads};
use crate::engine::{CommitHook, Committed};
use crate::events::{EventCode, EventNotice};
use crate::export::{
    export_meter, CsvLayout, ExportError, ExportOptions, Filter, Format, MeterDescriptor, Separator,
};
use crate::storage::{StorageError, Store, DATABASE_FILE_NAME};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use spool::{Cursor, Spool, SpoolError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tls::CertCheck;

/// Why an upload (or preparing one) failed; the first word of the message names the class.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The server's name could not be resolved.
    #[error("DNS: cannot resolve {host}: {reason}")]
    Dns {
        /// The name.
        host: String,
        /// The resolver's answer.
        reason: String,
    },
    /// No connection to the server.
    #[error("connect: {address}: {reason}")]
    Connect {
        /// Host and port (or URL).
        address: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The TLS handshake failed (certificate not trusted, wrong name, no TLS offered).
    #[error("TLS: {0}")]
    Tls(String),
    /// The CA file of the settings cannot be used.
    #[error("TLS: CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The SSH server's host key is not the one trusted.
    #[error("host key: {0}")]
    HostKey(String),
    /// The server refused the login (user, password or token).
    #[error("login refused: {0}")]
    Login(String),
    /// The server refused to write in the target directory.
    #[error("no permission on {path}: {reply}")]
    Permission {
        /// The remote directory.
        path: String,
        /// The server's reply.
        reply: String,
    },
    /// The connection broke or timed out during the transfer.
    #[error("connection lost: {0}")]
    Lost(String),
    /// The server answered with an unexpected error.
    #[error("server: {0}")]
    Server(String),
    /// The local spool failed.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// The readings could not be read from the store.
    #[error("readings: {0}")]
    Export(#[from] ExportError),
    /// The readings store could not be opened.
    #[error("readings: {0}")]
    Storage(#[from] StorageError),
}

/// A place files are delivered to.
pub trait Target: Send {
    /// How events and status name it: `FTP`, `FTPS`, `SFTP`, `HTTPS push`.
    fn label(&self) -> &'static str;
    /// Delivers one file under `name` (connecting first if needed); a name already
    /// delivered whole is not delivered twice.
    fn deliver(&mut self, name: &str, bytes: &[u8]) -> Result<(), UploadError>;
    /// Tries the connection with a probe file called `name` (written, renamed and deleted
    /// where the protocol allows); returns the steps that worked.
    fn probe(&mut self, name: &str) -> Result<Vec<String>, UploadError>;
    /// Ends the session, if any.
    fn close(&mut self);
}

/// Timeouts and backoff of the uploader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploaderOptions {
    /// Timeout of a connection and of each network operation.
    pub timeout: Duration,
    /// Wait after the first failure; doubled after each further failure.
    pub backoff_first: Duration,
    /// The longest wait between two attempts.
    pub backoff_cap: Duration,
}

impl Default for UploaderOptions {
    fn default() -> Self {
        UploaderOptions {
            timeout: Duration::from_secs(30),
            backoff_first: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(15 * 60),
        }
    }
}

impl UploaderOptions {
    /// The wait after `failures` failures in a row (at least one).
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(20);
        self.backoff_first
            .saturating_mul(factor)
            .min(self.backoff_cap)
    }
}

/// Which of the configured targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    /// The file upload (FTP/FTPS/SFTP).
    File,
    /// The HTTPS push.
    Https,
}

impl TargetKind {
    /// Name of the target's spool directory and status key.
    pub fn key(self) -> &'static str {
        match self {
            TargetKind::File => "file",
            TargetKind::Https => "https",
        }
    }
}

/// The spool directory of a target in `data_dir`.
pub fn spool_dir(data_dir: &Path, kind: TargetKind) -> PathBuf {
    data_dir.join("spool").join(kind.key())
}

/// A configured target, built but not connected.
pub type BuiltTarget = (TargetKind, Box<dyn Target>);

/// The known-hosts file of SFTP uploads in the data directory (trust on first use).
pub const KNOWN_HOSTS_FILE: &str = "upload-known-hosts";

/// The targets the settings enable, built (nothing is connected); SFTP keeps its known
/// hosts in `data_dir`.
pub fn targets(
    uploads: &Uploads,
    data_dir: &Path,
    timeout: Duration,
) -> Result<Vec<BuiltTarget>, UploadError> {
    let mut out: Vec<BuiltTarget> = Vec::new();
    let file = &uploads.file;
    if file.enabled {
        let check = CertCheck::from_settings(file.ca_file.as_deref(), file.accept_invalid_certs);
        let tls = match file.protocol {
            UploadProtocol::Ftp => None,
            UploadProtocol::Ftps => Some(check),
            UploadProtocol::Sftp => None,
        };
        let username = if file.username.is_empty() {
            "anonymous".to_owned()
        } else {
            file.username.clone()
        };
        let target: Box<dyn Target> = if file.protocol == UploadProtocol::Sftp {
            let host = file.server.strip_prefix("sftp://").unwrap_or(&file.server);
            Box::new(sftp::SftpTarget::new(sftp::SftpSettings {
                host: host.to_owned(),
                port: if file.port == 0 { 22 } else { file.port },
                username,
                auth: match &file.key_file {
                    Some(key) => sftp::SftpAuth::KeyFile(PathBuf::from(key)),
                    None => sftp::SftpAuth::Password(file.password.clone()),
                },
                path: file.path.clone(),
                host_key: file.host_key.clone(),
                known_hosts: data_dir.join(KNOWN_HOSTS_FILE),
                timeout,
            }))
        } else {
            Box::new(ftp::FtpTarget::new(ftp::FtpSettings {
                host: file.server.clone(),
                port: if file.port == 0 { 21 } else { file.port },
                username,
                password: file.password.clone(),
                path: file.path.clone(),
                tls,
                timeout,
            }))
        };
        out.push((TargetKind::File, target));
    }
    let push = &uploads.https;
    if push.enabled {
        let settings = https::HttpsSettings {
            url: push.url.clone(),
            token: push.token.clone(),
            check: CertCheck::from_settings(push.ca_file.as_deref(), false),
            timeout,
        };
        out.push((
            TargetKind::Https,
            Box::new(https::HttpsTarget::new(settings)),
        ));
    }
    Ok(out)
}

/// State of one target as status shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetStatus {
    /// `FTP`, `FTPS`, `SFTP` or `HTTPS push`.
    pub label: String,
    /// Files waiting in the spool.
    pub pending: usize,
    /// Files delivered since the data directory was made.
    pub delivered: u64,
    /// Files dropped because the spool was full.
    pub dropped: u64,
    /// When the spool was last delivered completely.
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// When the last failure happened.
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The state of every target, saved in `upload-status.json` in the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadStatus {
    /// Per target, keyed `file` or `https`.
    pub targets: BTreeMap<String, TargetStatus>,
}

impl UploadStatus {
    /// The status file of `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("upload-status.json")
    }

    /// The saved status (empty if none or unreadable).
    pub fn load(data_dir: &Path) -> UploadStatus {
        std::fs::read_to_string(Self::path(data_dir))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Saves the status atomically.
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::atomic::write(&Self::path(data_dir), &text)
    }
}

/// Stores a file of `len` bytes named `name` with `store`, unless the server already has it
/// whole (`size_there`, the size of the file of that name there, if any): after a reply lost
/// behind the final rename the file is already complete and is not sent again.
pub(crate) fn store_unless_there(
    name: &str,
    len: usize,
    size_there: Option<u64>,
    store: impl FnOnce() -> Result<(), UploadError>,
) -> Result<(), UploadError> {
    if size_there == u64::try_from(len).ok() {
        tracing::info!(name, "already on the server; not sent again");
        return Ok(());
    }
    store()
}

/// Resolves `host` and opens a TCP connection to it within `timeout`; DNS and connection
/// failures name the host and the address.
pub(crate) fn connect_tcp(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<std::net::TcpStream, UploadError> {
    use std::net::ToSocketAddrs;
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| UploadError::Dns {
            host: host.to_string(),
            reason: e.to_string(),
        })?
        .next()
        .ok_or_else(|| UploadError::Dns {
            host: host.to_string(),
            reason: "no address".into(),
        })?;
    std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| UploadError::Connect {
        address: format!("{host}:{port}"),
        reason: e.to_string(),
    })
}

/// The file name of a meter's reading at `time` (unix seconds) on the server.
pub fn file_name(meter: &MeterDescriptor, time: i64, tz: chrono_tz::Tz, format: Format) -> String {
    let local = tz
        .timestamp_opt(time, 0)
        .single()
        .map(|t| t.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_else(|| time.to_string());
    let secondary: String = meter
        .secondary
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    // The reference appliance's scheme: the format is the last part of the name.
    format!("{}-{secondary}-{local}-{}", meter.id.0, format.extension())
}

/// One target with its spool and incident state, inside the uploader's thread.
struct Lane {
    kind: TargetKind,
    target: Box<dyn Target>,
    spool: Spool,
    format: Format,
    failures: u32,
    retry_at: Option<Instant>,
}

/// What the uploader's thread is asked to do.
enum Job {
    Cycle(Committed),
    Stop,
}

/// The upload thread: takes committed cycles, spools and delivers their files.
#[derive(Debug)]
pub struct Uploader {
    jobs: mpsc::Sender<Job>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Cycle(c) => write!(f, "Cycle({} readings)", c.readings.len()),
            Job::Stop => write!(f, "Stop"),
        }
    }
}

impl Uploader {
    /// Starts the upload thread for the logger in `data_dir`. It takes the upload settings
    /// from the configuration file at each cycle (so changes apply without a restart),
    /// delivers what the spools still hold from before, and hands its events to `events`.
    pub fn start(
        data_dir: &Path,
        clock: Arc<dyn Clock>,
        events: mpsc::Sender<EventNotice>,
        options: UploaderOptions,
    ) -> Uploader {
        let (jobs, inbox) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut worker = Worker {
            data_dir: data_dir.to_path_buf(),
            clock,
            events,
            options,
            uploads: None,
            lanes: Vec::new(),
            store: None,
            status: UploadStatus::load(data_dir),
            stop: Arc::clone(&stop),
        };
        let thread = std::thread::Builder::new()
            .name("uploader".into())
            .spawn(move || worker.run(&inbox))
            .ok();
        if thread.is_none() {
            tracing::error!("the upload thread could not be started");
        }
        Uploader { jobs, stop, thread }
    }

    /// The hook to install with [`crate::engine::Logger::add_commit_hook`]: it only sends the
    /// cycle's readings into the channel.
    pub fn hook(&self) -> CommitHook {
        let jobs = self.jobs.clone();
        Box::new(move |committed: &Committed| {
            if jobs.send(Job::Cycle(committed.clone())).is_err() {
                tracing::error!("the upload thread has ended; readings not spooled");
            }
        })
    }

    /// Stops the thread after the file it is delivering (what waits stays in the spool).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.jobs.send(Job::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Worker {
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<EventNotice>,
    options: UploaderOptions,
    uploads: Option<Uploads>,
    lanes: Vec<Lane>,
    store: Option<Store>,
    status: UploadStatus,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn run(&mut self, inbox: &mpsc::Receiver<Job>) {
        // Readings stored but not spooled before a crash are spooled now.
        if let Some(config) = self.load_config() {
            self.spool_cycle(&config, &Committed::default());
        }
        loop {
            let now = Instant::now();
            let wait = self
                .lanes
                .iter()
                .filter_map(|l| l.retry_at)
                .min()
                .map(|at| at.saturating_duration_since(now));
            let job = match wait {
                Some(wait) => inbox.recv_timeout(wait),
                None => inbox
                    .recv()
                    .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            match job {
                Ok(Job::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Ok(Job::Cycle(committed)) => {
                    if let Some(config) = self.load_config() {
                        self.spool_cycle(&config, &committed);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            self.deliver_due();
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
        }
        for lane in &mut self.lanes {
            lane.target.close();
        }
    }

    /// The configuration file's content; rebuilds the lanes when the upload settings changed.
    fn load_config(&mut self) -> Option<Config> {
        let config = match ConfigStore::new(&self.data_dir).load_or_default() {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(error = %e, "uploads: configuration not readable");
                return None;
            }
        };
        if self.uploads.as_ref() != Some(&config.uploads) {
            self.rebuild(&config.uploads);
        }
        Some(config)
    }

    fn rebuild(&mut self, uploads: &Uploads) {
        self.uploads = Some(uploads.clone());
        for lane in &mut self.lanes {
            lane.target.close();
        }
        self.lanes.clear();
        let built = match targets(uploads, &self.data_dir, self.options.timeout) {
            Ok(built) => built,
            Err(e) => {
                tracing::error!(error = %e, "uploads not started");
                return;
            }
        };
        let max = uploads.spool_max_files as usize;
        for (kind, target) in built {
            let format = match (kind, uploads.file.format) {
                (TargetKind::File, FileFormat::Csv) => Format::Csv {
                    layout: CsvLayout::Standard,
                    separator: Separator::Semicolon,
                },
                _ => Format::Json,
            };
            match Spool::open(&spool_dir(&self.data_dir, kind), max) {
                Ok(spool) => {
                    let pending = spool.len().unwrap_or(0);
                    self.lanes.push(Lane {
                        kind,
                        target,
                        spool,
                        format,
                        failures: 0,
                        // Deliver what an earlier run left at once.
                        retry_at: (pending > 0).then(Instant::now),
                    });
                }
                Err(e) => tracing::error!(error = %e, "upload spool not usable"),
            }
        }
    }

    fn notify(&self, notice: EventNotice) {
        if self.events.send(notice).is_err() {
            tracing::warn!("the event log is gone; upload event not recorded");
        }
    }

    fn status_of(&mut self, lane: usize) -> &mut TargetStatus {
        let key = self.lanes[lane].kind.key();
        let label = self.lanes[lane].target.label();
        let status = self.status.targets.entry(key.to_owned()).or_default();
        label.clone_into(&mut status.label);
        status
    }

    fn save_status(&mut self) {
        for i in 0..self.lanes.len() {
            let pending = self.lanes[i].spool.len().unwrap_or(0);
            self.status_of(i).pending = pending;
        }
        if let Err(e) = self.status.save(&self.data_dir) {
            tracing::error!(error = %e, "saving the upload status failed");
        }
    }

    fn store(&mut self) -> Result<&Store, UploadError> {
        if self.store.is_none() {
            self.store = Some(Store::open_existing(
                self.data_dir.join(DATABASE_FILE_NAME),
            )?);
        }
        self.store
            .as_ref()
            .ok_or_else(|| UploadError::Server("no store".into()))
    }

    /// Spools every reading stored after each lane's cursor: the readings of `committed`,
    /// and after a crash those stored but not spooled yet. A meter a lane has no cursor for
    /// starts at its reading in `committed` (enabling an upload does not send the history).
    fn spool_cycle(&mut self, config: &Config, committed: &Committed) {
        let tz = config.tz();
        for lane in 0..self.lanes.len() {
            let mut cursor = Cursor::load(&self.cursor_path(lane));
            for &(meter, time) in &committed.readings {
                cursor.meters.entry(meter.0).or_insert(time - 1);
            }
            let meters: Vec<(u32, i64)> = cursor.meters.iter().map(|(&m, &t)| (m, t)).collect();
            for (id, after) in meters {
                let Some(m) = config.meter(id) else {
                    continue;
                };
                let descriptor = MeterDescriptor::from_config(m);
                let times = match self.unspooled(&descriptor, after) {
                    Ok(times) => times,
                    Err(e) => {
                        tracing::error!(error = %e, meter = id, "upload files not written");
                        continue;
                    }
                };
                for time in times {
                    match self.spool_reading(lane, &descriptor, time, tz) {
                        Ok(()) => {
                            cursor.meters.insert(id, time);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, meter = id, "upload file not written");
                            break;
                        }
                    }
                }
            }
            if let Err(e) = cursor.save(&self.cursor_path(lane)) {
                tracing::error!(error = %e, "saving the upload cursor failed");
            }
            let l = &mut self.lanes[lane];
            if l.retry_at.is_none() {
                l.retry_at = Some(Instant::now());
            }
        }
        self.save_status();
    }

    fn cursor_path(&self, lane: usize) -> PathBuf {
        let dir = spool_dir(&self.data_dir, self.lanes[lane].kind);
        dir.with_extension("cursor.json")
    }

    /// Times of the meter's readings stored after `after`.
    fn unspooled(&mut self, meter: &MeterDescriptor, after: i64) -> Result<Vec<i64>, UploadError> {
        let store = self.store()?;
        let times = store
            .readings(meter.id, after.saturating_add(1), i64::MAX)?
            .map(|r| r.map(|r| r.time))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(times)
    }

    /// Writes the meter's reading at `time` into the lane's spool.
    fn spool_reading(
        &mut self,
        lane: usize,
        descriptor: &MeterDescriptor,
        time: i64,
        tz: chrono_tz::Tz,
    ) -> Result<(), UploadError> {
        let format = self.lanes[lane].format;
        let options = ExportOptions {
            from: time,
            to: time.saturating_add(1),
            format,
            filter: Filter::All,
            time_zone: tz,
            exported_at: Utc.timestamp_opt(time, 0).single().unwrap_or_default(),
        };
        let mut bytes = Vec::new();
        if export_meter(self.store()?, descriptor, &options, &mut bytes)?.is_none() {
            return Ok(());
        }
        let name = file_name(descriptor, time, tz, format);
        let outcome = self.lanes[lane].spool.push(&name, &bytes)?;
        if outcome.dropped > 0 {
            let label = self.lanes[lane].target.label();
            self.status_of(lane).dropped += outcome.dropped as u64;
            self.notify(EventNotice::Came {
                code: EventCode::UploadSpoolFull,
                message: format!(
                    "{label} upload spool full: {} oldest file(s) dropped",
                    outcome.dropped
                ),
                at: self.clock.now(),
            });
        }
        Ok(())
    }

    /// Delivers the spool of every lane whose (re)try time has come.
    fn deliver_due(&mut self) {
        let now = Instant::now();
        for i in 0..self.lanes.len() {
            if self.lanes[i].retry_at.is_some_and(|at| at <= now) {
                self.deliver(i);
            }
        }
        self.save_status();
    }

    fn deliver(&mut self, i: usize) {
        let label = self.lanes[i].target.label();
        let pending = match self.lanes[i].spool.pending() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "reading the upload spool failed");
                return;
            }
        };
        if pending.is_empty() {
            self.lanes[i].retry_at = None;
            return;
        }
        if self.lanes[i].failures == 0 {
            self.notify(EventNotice::Came {
                code: EventCode::UploadStart,
                message: format!("{label} upload started ({} file(s))", pending.len()),
                at: self.clock.now(),
            });
        }
        let mut delivered = 0u64;
        for entry in &pending {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            let lane = &mut self.lanes[i];
            let result = std::fs::read(&entry.path)
                .map_err(|source| {
                    UploadError::Spool(SpoolError::Io {
                        path: entry.path.clone(),
                        source,
                    })
                })
                .and_then(|bytes| lane.target.deliver(&entry.name, &bytes))
                .and_then(|()| Ok(lane.spool.remove(entry)?));
            match result {
                Ok(()) => delivered += 1,
                Err(e) => {
                    self.failed(i, delivered, &e);
                    return;
                }
            }
        }
        let now = self.clock.now();
        let lane = &mut self.lanes[i];
        lane.target.close();
        lane.retry_at = None;
        if lane.failures > 0 {
            lane.failures = 0;
            self.notify(EventNotice::Went {
                code: EventCode::UploadFailed,
                at: now,
            });
        }
        self.notify(EventNotice::Came {
            code: EventCode::UploadSuccess,
            message: format!("{label} upload finished ({} file(s))", pending.len()),
            at: now,
        });
        let status = self.status_of(i);
        status.delivered += delivered;
        status.last_success = Some(now);
    }

    fn failed(&mut self, i: usize, delivered: u64, error: &UploadError) {
        let now = self.clock.now();
        let options = self.options;
        let lane = &mut self.lanes[i];
        let label = lane.target.label();
        lane.target.close();
        lane.failures = lane.failures.saturating_add(1);
        lane.retry_at = Some(Instant::now() + options.backoff(lane.failures));
        tracing::warn!(target = label, error = %error, failures = lane.failures, "upload failed");
        if lane.failures == 1 {
            self.notify(EventNotice::Came {
                code: EventCode::UploadFailed,
                message: format!("{label} upload failed: {error}"),
                at: now,
            });
        }
        let status = self.status_of(i);
        status.delivered += delivered;
        status.last_error = Some(error.to_string());
        status.last_error_at = Some(now);
    }
}

/// What trying one configured target gave.
#[derive(Debug)]
pub struct ProbeReport {
    /// `FTP`, `FTPS`, `SFTP` or `HTTPS push`.
    pub label: &'static str,
    /// The outcome: the steps that worked, or the failure.
    pub outcome: Result<Vec<String>, UploadError>,
}

/// Tries every enabled target of the configuration with a probe file (FTP/SFTP: connect, log
/// in, write, rename and delete it; HTTPS: POST a probe document). An empty list means nothing
/// is enabled.
pub fn test_upload(
    config: &Config,
    data_dir: &Path,
    timeout: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<ProbeReport>, UploadError> {
    let name = format!("mbus-probe-{}.txt", now.format("%Y%m%d%H%M%S"));
    Ok(targets(&config.uploads, data_dir, timeout)?
        .into_iter()
        .map(|(_, mut target)| ProbeReport {
            label: target.label(),
            outcome: target.probe(&name),
        })
        .collect())
}
