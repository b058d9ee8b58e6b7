//! E-mail alarms: one mail when an incident comes (and, with `email.notify_went`, one when it
//! goes), sent by a worker thread so a slow or dead mail server never delays reading or
//! storage.
//!
//! # Where mails come from
//!
//! Mails are derived from the event log's incident transitions: [`Alarms`] is the log's
//! [`IncidentSink`] (attached by [`crate::engine::Logger::attach_alarms`]), so it sees exactly
//! one "came" and at most one "went" per incident, never one per read cycle. These incidents
//! mail:
//!
//! | event | mail |
//! |---|---|
//! | a meter read fails | "Meter read failed" |
//! | a meter starts reporting error flags | "Meter reports error flags" |
//! | a meter answers encrypted | "Encrypted reply, key needed" |
//! | bus short circuit (overload) | "M-Bus short circuit (overload)"; meters failing while it lasts get no mail of their own |
//! | an upload target failing longer than `email.upload_alarm_after_min` | "Upload failing" (see below) |
//!
//! # Uploads
//!
//! The upload code reports each target's health through [`Alarms::upload_failing`] (after
//! every failed attempt: "target X failing since T") and [`Alarms::upload_recovered`] (after
//! the first success that follows). The first call that finds the target failing for at least
//! `email.upload_alarm_after_min` minutes queues one mail; the recovery queues a "went" mail
//! when that one was sent and `email.notify_went` is on. Calls are cheap and never block on the
//! mail server.
//!
//! # Delivery
//!
//! Mails wait in a bounded queue ([`AlarmOptions::queue_capacity`]; when it is full, new mails
//! are dropped and counted). The worker sends each with the settings in force at that moment
//! and retries a failed transfer [`AlarmOptions::retries`] times, waiting
//! [`AlarmOptions::backoff`] and doubling it up to [`AlarmOptions::max_backoff`]; then the mail
//! is dropped and counted. Transfer failures reach the event log through
//! [`Alarms::record_reports`] as one "E-mail transfer failed" incident (code 12), which goes
//! with the next mail delivered.

use super::{send, Mail};
use crate::clock::Clock;
use crate::config::Config;
use crate::events::{Event, EventCode, EventLog, IncidentSink};
use crate::status::EmailStatus;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the worker queues and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmOptions {
    /// Mails waiting at most (default 100).
    pub queue_capacity: usize,
    /// Retries after a failed transfer (default 3).
    pub retries: u32,
    /// Wait before the first retry (default 30 s); doubled for each further one.
    pub backoff: Duration,
    /// Longest wait between two retries (default 10 min).
    pub max_backoff: Duration,
}

impl Default for AlarmOptions {
    fn default() -> Self {
        AlarmOptions {
            queue_capacity: 100,
            retries: 3,
            backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(600),
        }
    }
}

/// The outcome of one transfer attempt, for the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Report {
    Sent(DateTime<Utc>),
    Failed(DateTime<Utc>, String),
}

/// An upload target's failure as the alarms track it.
#[derive(Debug, Clone)]
struct UploadIncident {
    since: DateTime<Utc>,
    mailed: bool,
}

#[derive(Debug)]
struct State {
    config: Config,
    queue: VecDeque<Mail>,
    in_flight: bool,
    stop: bool,
    status: EmailStatus,
    reports: Vec<Report>,
    /// Events whose "came" was mailed (their "went" may mail too).
    mailed: HashSet<u64>,
    /// A bus overload is open: meter failures are part of it.
    overload: bool,
    uploads: HashMap<String, UploadIncident>,
}

struct Inner {
    clock: Arc<dyn Clock>,
    options: AlarmOptions,
    state: Mutex<State>,
    changed: Condvar,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// The e-mail alarms: a cloneable handle on the queue, the worker thread and their status.
#[derive(Clone)]
pub struct Alarms {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Alarms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alarms")
            .field("options", &self.inner.options)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Alarms {
    /// Starts the alarms with `config`'s settings (nothing is mailed while `email.enabled` is
    /// off), times from `clock`, and the worker thread.
    pub fn start(config: &Config, clock: Arc<dyn Clock>, options: AlarmOptions) -> Alarms {
        let inner = Arc::new(Inner {
            clock,
            options,
            state: Mutex::new(State {
                config: config.clone(),
                queue: VecDeque::new(),
                in_flight: false,
                stop: false,
                status: EmailStatus::default(),
                reports: Vec::new(),
                mailed: HashSet::new(),
                overload: false,
                uploads: HashMap::new(),
            }),
            changed: Condvar::new(),
            worker: Mutex::new(None),
        });
        let worker = Arc::clone(&inner);
        let handle = std::thread::Builder::new()
            .name("email-alarms".into())
            .spawn(move || work(&worker));
        match handle {
            Ok(h) => *lock(&inner.worker) = Some(h),
            Err(e) => tracing::error!(error = %e, "the e-mail worker could not start"),
        }
        Alarms { inner }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// Takes a new configuration (called when the logger's configuration changes).
    pub fn configure(&self, config: &Config) {
        self.state().config = config.clone();
    }

    /// The status: last mail sent, last error, queue length, counters.
    pub fn status(&self) -> EmailStatus {
        let st = self.state();
        EmailStatus {
            queued: st.queue.len() + usize::from(st.in_flight),
            ..st.status.clone()
        }
    }

    /// Writes the transfer outcomes since the last call into `log`: the first failure opens
    /// one "E-mail transfer failed" event, a delivered mail closes it.
    pub fn record_reports(&self, log: &mut EventLog) {
        let reports = std::mem::take(&mut self.state().reports);
        for report in reports {
            let open = log.open_condition(EventCode::EmailFailed, None);
            let written = match (report, open) {
                (Report::Sent(at), Some(id)) => log.went(id, at),
                (Report::Failed(at, error), None) => log
                    .record(
                        EventCode::EmailFailed,
                        None,
                        &format!("E-mail transfer failed: {error}"),
                        at,
                    )
                    .map(drop),
                _ => Ok(()),
            };
            if let Err(e) = written {
                tracing::error!(error = %e, "event log write failed");
            }
        }
    }

    /// Waits until every queued mail has been sent or given up, at most `timeout`; returns
    /// whether the queue is empty.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.state();
        while !st.queue.is_empty() || st.in_flight {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = match self.inner.changed.wait_timeout(st, left) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// Lets the worker finish the queue for at most `grace`, then stops it; mails still
    /// waiting are dropped (and counted).
    pub fn shutdown(&self, grace: Duration) {
        self.wait_idle(grace);
        self.state().stop = true;
        self.inner.changed.notify_all();
        if let Some(handle) = lock(&self.inner.worker).take() {
            if handle.join().is_err() {
                tracing::error!("the e-mail worker ended with a panic");
            }
        }
    }

    /// The upload code's hook: `target` (a name people recognise, e.g. "FTP
    /// ftp.example.org") has been failing since `since`; `now` is the time of this attempt and
    /// `error` the latest reason. Queues one mail once the failure has lasted
    /// `email.upload_alarm_after_min` minutes; later calls for the same incident mail nothing.
    pub fn upload_failing(
        &self,
        target: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        error: &str,
    ) {
        let mut st = self.state();
        let after = chrono::Duration::minutes(i64::from(st.config.email.upload_alarm_after_min));
        let incident = st
            .uploads
            .entry(target.to_string())
            .or_insert(UploadIncident {
                since,
                mailed: false,
            });
        if incident.mailed || now - incident.since < after {
            return;
        }
        incident.mailed = true;
        let since = incident.since;
        let mail = Incident::Upload { target, error }.came(&st.config, since);
        self.enqueue(&mut st, mail);
    }

    /// The upload code's hook: `target` works again (at `at`). Ends its incident; mails the
    /// recovery when the failure was mailed and `email.notify_went` is on.
    pub fn upload_recovered(&self, target: &str, at: DateTime<Utc>) {
        let mut st = self.state();
        let Some(incident) = st.uploads.remove(target) else {
            return;
        };
        if incident.mailed && st.config.email.notify_went {
            let mail = Incident::Upload { target, error: "" }.went(&st.config, incident.since, at);
            self.enqueue(&mut st, mail);
        }
    }

    fn enqueue(&self, st: &mut State, mail: Mail) {
        if !st.config.email.enabled || st.stop {
            return;
        }
        if st.queue.len() >= self.inner.options.queue_capacity {
            st.status.dropped += 1;
            tracing::warn!(subject = %mail.subject, "e-mail queue full; mail dropped");
            return;
        }
        st.queue.push_back(mail);
        self.inner.changed.notify_all();
    }
}

impl IncidentSink for Alarms {
    fn came(&mut self, event: &Event) {
        let mut st = self.state();
        if event.code == EventCode::BusOverload {
            st.overload = true;
        } else if event.code == EventCode::MeterReadFailed && st.overload {
            // Every meter fails during a short circuit: the overload mail says it all.
            return;
        }
        let Some(incident) = Incident::of(event) else {
            return;
        };
        if !st.config.email.enabled {
            return;
        }
        st.mailed.insert(event.id);
        let mail = incident.came(&st.config, event.came);
        self.enqueue(&mut st, mail);
    }

    fn went(&mut self, event: &Event) {
        let mut st = self.state();
        if event.code == EventCode::BusOverload {
            st.overload = false;
        }
        if !st.mailed.remove(&event.id) || !st.config.email.notify_went {
            return;
        }
        let (Some(incident), Some(went)) = (Incident::of(event), event.went) else {
            return;
        };
        let mail = incident.went(&st.config, event.came, went);
        self.enqueue(&mut st, mail);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The worker: takes mails off the queue and delivers them until stopped.
fn work(inner: &Inner) {
    loop {
        let mail = {
            let mut st = lock(&inner.state);
            loop {
                if st.stop {
                    st.status.dropped += st.queue.len() as u64;
                    st.queue.clear();
                    inner.changed.notify_all();
                    return;
                }
                if let Some(mail) = st.queue.pop_front() {
                    st.in_flight = true;
                    break mail;
                }
                st = match inner.changed.wait(st) {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
            }
        };
        deliver(inner, &mail);
        lock(&inner.state).in_flight = false;
        inner.changed.notify_all();
    }
}

/// Sends one mail, retrying with backoff; counts it dropped when every attempt failed.
fn deliver(inner: &Inner, mail: &Mail) {
    let mut wait = inner.options.backoff;
    for attempt in 0..=inner.options.retries {
        let settings = {
            let st = lock(&inner.state);
            if !st.config.email.enabled {
                return;
            }
            st.config.email.clone()
        };
        let result = send(&settings, &settings.recipients, mail);
        let at = inner.clock.now();
        let mut st = lock(&inner.state);
        match result {
            Ok(transcript) => {
                tracing::info!(subject = %mail.subject, recipients = ?transcript.accepted, "e-mail sent");
                st.status.sent += 1;
                st.status.last_sent = Some(at);
                st.reports.push(Report::Sent(at));
                return;
            }
            Err(failure) => {
                let error = failure.error.to_string();
                tracing::warn!(subject = %mail.subject, attempt, %error, "e-mail transfer failed");
                st.status.failed_attempts += 1;
                st.status.last_error = Some(error.clone());
                st.status.last_error_at = Some(at);
                st.reports.push(Report::Failed(at, error));
            }
        }
        if attempt == inner.options.retries {
            break;
        }
        // Wait out the backoff, unless the alarms are being stopped.
        let deadline = Instant::now() + wait;
        while !st.stop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = match inner.changed.wait_timeout(st, left) {
                Ok((g, _)) => g,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        if st.stop {
            break;
        }
        wait = (wait * 2).min(inner.options.max_backoff);
    }
    lock(&inner.state).status.dropped += 1;
}

/// What a mail is about.
enum Incident<'a> {
    Meter {
        code: EventCode,
        meter: Option<u32>,
        reason: &'a str,
    },
    Overload {
        reason: &'a str,
    },
    Upload {
        target: &'a str,
        error: &'a str,
    },
}

impl<'a> Incident<'a> {
    /// The incident an event stands for, if it mails.
    fn of(event: &'a Event) -> Option<Incident<'a>> {
        match event.code {
            EventCode::MeterReadFailed | EventCode::MeterErrorFlags | EventCode::MeterEncrypted => {
                Some(Incident::Meter {
                    code: event.code,
                    meter: event.meter,
                    reason: &event.message,
                })
            }
            EventCode::BusOverload => Some(Incident::Overload {
                reason: &event.message,
            }),
            _ => None,
        }
    }

    fn title(&self) -> String {
        match self {
            Incident::Meter { code, .. } => match code {
                EventCode::MeterErrorFlags => "Meter reports error flags",
                EventCode::MeterEncrypted => "Encrypted reply, key needed",
                _ => "Meter read failed",
            }
            .to_string(),
            Incident::Overload { .. } => "M-Bus short circuit (overload)".to_string(),
            Incident::Upload { target, .. } => format!("Upload to {target} failing"),
        }
    }

    /// Lines naming what the incident concerns and why.
    fn details(&self, config: &Config) -> String {
        match self {
            Incident::Meter { meter, reason, .. } => {
                format!(
                    "Meter:     {}\nReason:    {reason}\n",
                    meter_line(config, *meter)
                )
            }
            Incident::Overload { reason } => format!(
                "Reason:    {reason}\nEvery meter read fails while the bus is short-circuited.\n"
            ),
            Incident::Upload { target, error: "" } => {
                format!("Target:    {target}\n")
            }
            Incident::Upload { target, error } => {
                format!("Target:    {target}\nReason:    {error}\n")
            }
        }
    }

    fn came(&self, config: &Config, since: DateTime<Utc>) -> Mail {
        let title = self.title();
        Mail {
            subject: format!("[{}] {title}", logger_title(config)),
            body: format!(
                "Logger:    {}\nIncident:  {title}\nSince:     {}\n{}\n\
                 No further mail is sent about this incident while it lasts.\n",
                logger_title(config),
                local_time(config, since),
                self.details(config),
            ),
        }
    }

    fn went(&self, config: &Config, since: DateTime<Utc>, went: DateTime<Utc>) -> Mail {
        let title = self.title();
        Mail {
            subject: format!("[{}] Resolved: {title}", logger_title(config)),
            body: format!(
                "Logger:    {}\nIncident:  {title} (over)\nSince:     {}\nUntil:     {}\n{}",
                logger_title(config),
                local_time(config, since),
                local_time(config, went),
                self.details(config),
            ),
        }
    }
}

/// The logger as mails name it: "name, location" (or just the name).
pub fn logger_title(config: &Config) -> String {
    let g = &config.general;
    if g.location.trim().is_empty() {
        g.name.clone()
    } else {
        format!("{}, {}", g.name, g.location)
    }
}

fn local_time(config: &Config, t: DateTime<Utc>) -> String {
    t.with_timezone(&config.tz())
        .format("%d.%m.%Y %H:%M:%S %Z")
        .to_string()
}

fn meter_line(config: &Config, id: Option<u32>) -> String {
    let Some(id) = id else {
        return "-".to_string();
    };
    match config.meter(id) {
        Some(m) => {
            let address = match m.secondary {
                Some(s) => format!("secondary {}, primary {}", s.ident, m.primary),
                None => format!("primary {}", m.primary),
            };
            format!("{} (id {id}, {address})", m.name)
        }
        None => format!("id {id}"),
    }
}
