//! What the fleet sinks ([`crate::mqtt`], [`crate::postgres`]) share: the wake-up hook the
//! read path calls, the saved state `mbusctl status` and the metrics show, and the worker
//! thread's start/stop handle.
//!
//! A sink never receives readings from the read path, only a wake-up: it reads the readings
//! itself from the store, after its durable cursor. The wake-up channel holds one message at
//! most; when a wake-up is already waiting, another one adds nothing, so the read path never
//! waits and no queue grows in memory while a broker or database is away.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::{CommitHook, Committed};
use crate::events::{EventCode, EventNotice};

/// The state of one sink, saved in `<key>-status.json` in the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SinkStatus {
    /// `MQTT` or `PostgreSQL`.
    pub label: String,
    /// Connected to the broker or database right now.
    pub connected: bool,
    /// Items waiting: read cycles in the MQTT queue, readings not replicated yet.
    pub pending: u64,
    /// Items delivered since the data directory was made (MQTT messages, readings).
    pub delivered: u64,
    /// Items dropped because the queue was full.
    pub dropped: u64,
    /// Failed attempts (connection or delivery) since the data directory was made.
    pub errors: u64,
    /// When everything waiting was last delivered.
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// When the last failure happened.
    pub last_error_at: Option<DateTime<Utc>>,
}

impl SinkStatus {
    /// The status file of sink `key` (`mqtt`, `postgres`) in `data_dir`.
    pub fn path(data_dir: &Path, key: &str) -> PathBuf {
        data_dir.join(format!("{key}-status.json"))
    }

    /// The saved status (`None` if the sink never ran).
    pub fn load(data_dir: &Path, key: &str) -> Option<SinkStatus> {
        std::fs::read_to_string(Self::path(data_dir, key))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
    }

    /// Saves the status atomically.
    pub fn save(&self, data_dir: &Path, key: &str) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::atomic::write(&Self::path(data_dir, key), &text)
    }
}

/// Reads a JSON state file (`T::default()` when missing or unreadable).
pub(crate) fn load_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> T {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Saves a JSON state file atomically (flushed to disk before this returns).
pub(crate) fn save_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let text = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    crate::atomic::write(path, &text)
}

/// The keys of the fleet sinks, as status files and metrics name them.
pub const SINK_KEYS: [&str; 2] = ["mqtt", "postgres"];

/// What a sink's worker thread is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// New readings were stored.
    Readings,
    /// Stop.
    Stop,
}

/// A running sink worker: its wake-up channel, stop flag and thread.
#[derive(Debug)]
pub struct SinkHandle {
    wake: mpsc::SyncSender<Wake>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SinkHandle {
    /// Starts `work` on a thread named `name`; it gets the wake-up receiver and the stop flag.
    pub(crate) fn spawn(
        name: &str,
        work: impl FnOnce(mpsc::Receiver<Wake>, Arc<AtomicBool>) + Send + 'static,
    ) -> SinkHandle {
        let (wake, inbox) = mpsc::sync_channel(1);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || work(inbox, flag))
            .map_err(|e| tracing::error!(error = %e, sink = name, "sink thread not started"))
            .ok();
        SinkHandle { wake, stop, thread }
    }

    /// The hook to install with [`crate::engine::Logger::add_commit_hook`]: a wake-up that
    /// never waits (a wake-up already pending covers the new readings too).
    pub fn hook(&self) -> CommitHook {
        let wake = self.wake.clone();
        Box::new(move |_: &Committed| {
            let _ = wake.try_send(Wake::Readings);
        })
    }

    /// Wakes the worker as if new readings were stored.
    pub fn wake(&self) {
        let _ = self.wake.try_send(Wake::Readings);
    }

    /// Stops the worker after the step it is in (at most `grace` for a step in flight is
    /// not enforced here; network steps have their own timeouts) and waits for its end.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Waits for a wake-up or `timeout`; returns false when the worker should stop.
pub(crate) fn wait(inbox: &mpsc::Receiver<Wake>, stop: &AtomicBool, timeout: Duration) -> bool {
    if stop.load(Ordering::SeqCst) {
        return false;
    }
    match inbox.recv_timeout(timeout) {
        Ok(Wake::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => false,
        Ok(Wake::Readings) | Err(mpsc::RecvTimeoutError::Timeout) => !stop.load(Ordering::SeqCst),
    }
}

/// A sink's failed delivery at `now`: counts it in `failures`, puts the next attempt at
/// `retry_at` a [`backoff`] away (`first` and `cap`), logs it with `what` and records the
/// error in `status`, which is then disconnected. When this failure starts a run of
/// failures, returns the sink's event `code` ("what: error") for the event log.
pub(crate) fn note_failure(
    (failures, retry_at): (&mut u32, &mut Instant),
    (first, cap): (Duration, Duration),
    status: &mut SinkStatus,
    (code, what): (EventCode, &str),
    error: &dyn std::fmt::Display,
    now: DateTime<Utc>,
) -> Option<EventNotice> {
    *failures = failures.saturating_add(1);
    *retry_at = Instant::now() + backoff(first, cap, *failures);
    tracing::warn!(error = %error, failures = *failures, "{what}");
    status.connected = false;
    status.errors += 1;
    status.last_error = Some(error.to_string());
    status.last_error_at = Some(now);
    (*failures == 1).then(|| EventNotice::Came {
        code,
        message: format!("{what}: {error}"),
        at: now,
    })
}

/// Exponential backoff: `first` doubled per failure after the first, at most `cap`.
pub(crate) fn backoff(first: Duration, cap: Duration, failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(20);
    first.saturating_mul(factor).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_never_blocks_and_one_wake_up_covers_many_cycles() {
        let (wake, inbox) = mpsc::sync_channel(1);
        let handle = SinkHandle {
            wake,
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
        };
        let mut hook = handle.hook();
        for _ in 0..100 {
            hook(&Committed::default());
        }
        assert_eq!(inbox.try_iter().count(), 1);
        let stop = AtomicBool::new(false);
        handle.wake();
        assert!(wait(&inbox, &stop, Duration::from_millis(1)));
        handle.stop();
        assert!(!wait(&inbox, &stop, Duration::from_millis(1)));
    }

    #[test]
    fn status_round_trips_and_backoff_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SinkStatus::load(dir.path(), "mqtt"), None);
        let status = SinkStatus {
            label: "MQTT".into(),
            pending: 3,
            ..SinkStatus::default()
        };
        status.save(dir.path(), "mqtt").unwrap();
        assert_eq!(SinkStatus::load(dir.path(), "mqtt"), Some(status));
        let (first, cap) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(backoff(first, cap, 1), first);
        assert_eq!(backoff(first, cap, 3), Duration::from_secs(4));
        assert_eq!(backoff(first, cap, 30), cap);
    }

    #[test]
    fn a_run_of_failures_comes_once_and_backs_off() {
        let (mut failures, mut retry_at) = (0, Instant::now());
        let mut status = SinkStatus {
            connected: true,
            ..SinkStatus::default()
        };
        let now = Utc::now();
        let before = Instant::now();
        let mut fail = |error: &str| {
            let came = note_failure(
                (&mut failures, &mut retry_at),
                (Duration::from_secs(10), Duration::from_secs(60)),
                &mut status,
                (EventCode::MqttFailed, "X failed"),
                &error,
                now,
            );
            (came, retry_at, status.clone())
        };
        let (came, retry, status_now) = fail("refused");
        let Some(EventNotice::Came { code, message, at }) = came else {
            panic!("the first failure comes: {came:?}");
        };
        assert_eq!(
            (code, message.as_str(), at),
            (EventCode::MqttFailed, "X failed: refused", now)
        );
        assert!(retry >= before + Duration::from_secs(10));
        assert!(!status_now.connected);
        assert_eq!(status_now.last_error.as_deref(), Some("refused"));
        let (came, retry, status_now) = fail("timeout");
        assert!(came.is_none());
        assert!(retry >= before + Duration::from_secs(20));
        assert_eq!(
            (status_now.errors, status_now.last_error_at),
            (2, Some(now))
        );
        assert_eq!(failures, 2);
    }
}
