//! Read status of every meter and the logger's state, kept in `status.json` in the
//! data directory so tools see it while the daemon is stopped.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What the logger is doing (shown in the footer and on the device display).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LoggerState {
    /// Waiting for the next read slot.
    #[default]
    Idle,
    /// Searching for meters.
    Scan,
    /// Reading meters.
    Read,
    /// Level-converter bridge active; the logger does not use the bus.
    Rs,
    /// Bus fault (short circuit / overload).
    Err,
}

impl LoggerState {
    /// The short name: `idle`, `scan`, `read`, `rs`, `err`.
    pub fn as_str(self) -> &'static str {
        match self {
            LoggerState::Idle => "idle",
            LoggerState::Scan => "scan",
            LoggerState::Read => "read",
            LoggerState::Rs => "rs",
            LoggerState::Err => "err",
        }
    }
}

impl fmt::Display for LoggerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Outcome of a meter's last read ("Auslesestatus").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReadStatus {
    /// Never read.
    #[default]
    NeverRead,
    /// Last read succeeded.
    Ok,
    /// Last read succeeded, but the meter reports errors (status byte or error records).
    OkWithErrors,
    /// Last read failed.
    Failed,
    /// The meter answers, but with encrypted records: nothing can be stored until a key is
    /// configured.
    Encrypted,
}

impl fmt::Display for ReadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReadStatus::NeverRead => "never read",
            ReadStatus::Ok => "ok",
            ReadStatus::OkWithErrors => "ok, error flags",
            ReadStatus::Failed => "failed",
            ReadStatus::Encrypted => "encrypted — key needed",
        })
    }
}

/// Status of one meter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterStatus {
    /// Outcome of the last read.
    pub status: ReadStatus,
    /// Slot of the last read attempt.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Slot of the last successful read.
    pub last_success: Option<DateTime<Utc>>,
    /// Error flags of the last successful read (status byte bits), 0 = none.
    pub error_flags: u8,
    /// Failed reads in a row.
    pub consecutive_failures: u32,
    /// Why the last read failed.
    pub last_error: Option<String>,
    /// Read cycles that ran past this meter's next slot.
    pub overruns: u64,
    /// Slots that passed unread because of overruns.
    pub skipped_slots: u64,
}

/// How a meter's status changed with a read, for the event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The status is the same as before.
    Unchanged,
    /// It changed from → to.
    Changed {
        /// Previous status.
        from: ReadStatus,
        /// New status.
        to: ReadStatus,
    },
}

/// The status of all meters plus the logger state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusBoard {
    /// The logger state.
    pub state: LoggerState,
    /// Per meter id.
    pub meters: BTreeMap<u32, MeterStatus>,
    /// Read cycles that overran, all meters together.
    pub overruns: u64,
    /// Read slots missed while the level converter had the bus, in its current (or else its
    /// last) session.
    #[serde(default)]
    pub level_converter_missed: u64,
    /// The e-mail alarms, when they run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailStatus>,
}

/// What the e-mail alarms did so far (since the logger started).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmailStatus {
    /// When the last mail was accepted by the server.
    pub last_sent: Option<DateTime<Utc>>,
    /// Why the last failed transfer failed.
    pub last_error: Option<String>,
    /// When the last transfer failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Mails waiting to be sent (including the one being sent).
    pub queued: usize,
    /// Mails sent.
    pub sent: u64,
    /// Transfer attempts that failed (each retry counts).
    pub failed_attempts: u64,
    /// Mails given up: still failing after the last retry, or not queued because the queue
    /// was full.
    pub dropped: u64,
}

/// Name of the status file in the data directory.
pub const STATUS_FILE: &str = "status.json";

/// When the configuration and the status file of a data directory were last changed: what
/// the servers that publish the meters (BACnet/IP, Modbus TCP) watch to know that the meters
/// or their status changed outside a read cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stamps {
    /// Modification time of the configuration file.
    pub config: Option<std::time::SystemTime>,
    /// Modification time of the status file.
    pub status: Option<std::time::SystemTime>,
}

/// The [`Stamps`] of `data_dir` now (`None` for a file that does not exist).
pub fn stamps(data_dir: &Path) -> Stamps {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Stamps {
        config: modified(crate::config::ConfigStore::new(data_dir).path()),
        status: modified(&StatusBoard::path(data_dir)),
    }
}

impl StatusBoard {
    /// The status file of a data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(STATUS_FILE)
    }

    /// Loads the saved status; a missing or unreadable file gives an empty board (status is
    /// rebuilt by the next reads).
    pub fn load(data_dir: &Path) -> StatusBoard {
        std::fs::read_to_string(Self::path(data_dir))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Saves the board atomically.
    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        crate::atomic::write(&Self::path(data_dir), text.as_bytes())
    }

    /// Status of a meter (`NeverRead` if unknown).
    pub fn meter(&self, id: u32) -> MeterStatus {
        self.meters.get(&id).cloned().unwrap_or_default()
    }

    fn change(&mut self, id: u32, f: impl FnOnce(&mut MeterStatus)) -> Transition {
        let entry = self.meters.entry(id).or_default();
        let from = entry.status;
        f(entry);
        if entry.status == from {
            Transition::Unchanged
        } else {
            Transition::Changed {
                from,
                to: entry.status,
            }
        }
    }

    /// Records a successful read; `error_flags` non-zero means "ok with error flags".
    pub fn record_success(&mut self, id: u32, at: DateTime<Utc>, error_flags: u8) -> Transition {
        self.change(id, |m| {
            m.status = if error_flags == 0 {
                ReadStatus::Ok
            } else {
                ReadStatus::OkWithErrors
            };
            m.last_attempt = Some(at);
            m.last_success = Some(at);
            m.error_flags = error_flags;
            m.consecutive_failures = 0;
            m.last_error = None;
        })
    }

    /// Records a failed read.
    pub fn record_failure(&mut self, id: u32, at: DateTime<Utc>, error: &str) -> Transition {
        self.change(id, |m| {
            m.status = ReadStatus::Failed;
            m.last_attempt = Some(at);
            m.consecutive_failures = m.consecutive_failures.saturating_add(1);
            m.last_error = Some(error.to_string());
        })
    }

    /// Records a read whose reply was encrypted with security mode `mode`.
    pub fn record_encrypted(&mut self, id: u32, at: DateTime<Utc>, mode: u8) -> Transition {
        self.change(id, |m| {
            m.status = ReadStatus::Encrypted;
            m.last_attempt = Some(at);
            m.consecutive_failures = 0;
            m.last_error = Some(format!(
                "encrypted reply (security mode {mode}, {}): key needed",
                mbus_proto::app::security_mode_name(mode)
            ));
        })
    }

    /// Records that a read cycle ran past the next slot of these meters.
    pub fn record_overrun(&mut self, ids: impl IntoIterator<Item = u32>) {
        for id in ids {
            self.meters.entry(id).or_default().overruns += 1;
        }
        self.overruns += 1;
    }

    /// Records that `skipped` slots of a meter passed unread (after an overrun).
    pub fn record_skipped(&mut self, id: u32, skipped: u32) {
        self.meters.entry(id).or_default().skipped_slots += u64::from(skipped);
    }

    /// Drops the status of meters that are no longer configured.
    pub fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        self.meters.retain(|id, _| keep(*id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn transitions_between_the_four_states() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut b = StatusBoard::default();
        assert_eq!(b.meter(1).status, ReadStatus::NeverRead);
        assert_eq!(
            b.record_success(1, t, 0),
            Transition::Changed {
                from: ReadStatus::NeverRead,
                to: ReadStatus::Ok
            }
        );
        assert_eq!(b.record_success(1, t, 0), Transition::Unchanged);
        assert_eq!(
            b.record_success(1, t, 0x10),
            Transition::Changed {
                from: ReadStatus::Ok,
                to: ReadStatus::OkWithErrors
            }
        );
        assert_eq!(
            b.record_failure(1, t, "no reply"),
            Transition::Changed {
                from: ReadStatus::OkWithErrors,
                to: ReadStatus::Failed
            }
        );
        assert_eq!(b.record_failure(1, t, "no reply"), Transition::Unchanged);
        assert_eq!(b.meter(1).consecutive_failures, 2);
        assert_eq!(b.meter(1).last_success, Some(t));
        b.record_success(1, t, 0);
        assert_eq!(b.meter(1).consecutive_failures, 0);
        assert_eq!(b.meter(1).last_error, None);
    }

    #[test]
    fn survives_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = StatusBoard {
            state: LoggerState::Read,
            ..StatusBoard::default()
        };
        b.record_failure(
            4,
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            "timeout",
        );
        b.record_overrun([4]);
        b.record_skipped(4, 3);
        b.save(dir.path()).unwrap();
        assert_eq!(StatusBoard::load(dir.path()), b);
        assert_eq!(
            StatusBoard::load(&dir.path().join("missing")),
            StatusBoard::default()
        );
    }
}
