//! Network and time settings applied to the operating system, where the daemon is allowed
//! to: systemd-networkd files for eth0/eth1 (DHCP or a static address, gateway, DNS), a
//! systemd-timesyncd drop-in for the NTP server, and the date and time set by hand.
//!
//! Settings are checked first (beyond the configuration's own validation: the gateway must
//! lie in the interface's subnet), then every file is written at once (temporary files,
//! renamed into place) and the services reload. A network change must be confirmed — the web
//! interface does so as soon as it is reached again — within a timeout (2 minutes by default);
//! otherwise the previous files come back and the services reload again, as routers do. Time
//! is the logger's clock, so the rollback is tested on virtual time.
//!
//! On a development machine [`Target::dry_run`] writes the files below the data directory
//! (`system-dry-run/etc/systemd/…`) and runs nothing: the [`Applied::plan`] says what would
//! have been run.
//!
//! ```
//! use logger_core::config::Network;
//! use logger_core::system::{NetworkApplier, Target};
//! # use chrono::{Duration, TimeZone, Utc};
//! let dir = tempfile::tempdir()?;
//! let t0 = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
//! let mut applier = NetworkApplier::new(Target::dry_run(dir.path()), Duration::minutes(2));
//! let applied = applier.apply(&Network::default(), t0)?;
//! assert!(applied.plan.iter().any(|step| step == "networkctl reload"));
//! applier.confirm();
//! assert!(applier.tick(t0 + Duration::minutes(5))?.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod render;

pub use render::{check_network, network_files, time_file};

use crate::config::{FieldError, Network, TimeSettings};
use chrono::{DateTime, Duration, Utc};
use std::path::{Path, PathBuf};

/// Where systemd-networkd reads `.network` files.
pub const NETWORKD_DIR: &str = "etc/systemd/network";
/// Where systemd-timesyncd reads drop-ins.
pub const TIMESYNCD_DIR: &str = "etc/systemd/timesyncd.conf.d";
/// The directory below the data directory a dry run writes into.
pub const DRY_RUN_DIR: &str = "system-dry-run";

/// Why settings could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// The settings do not fit together.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A file could not be written or restored.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A command failed.
    #[error("`{command}` failed: {reason}")]
    Command {
        /// The command line.
        command: String,
        /// Its error output or status.
        reason: String,
    },
    /// The time can only be set by hand while NTP is off.
    #[error("time.ntp_server is set: the clock follows NTP; clear it to set the time by hand")]
    NtpActive,
}

/// Where the files go and whether commands run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    root: PathBuf,
    dry_run: bool,
}

impl Target {
    /// The real system: files under `/`, commands run.
    pub fn system() -> Target {
        Target {
            root: PathBuf::from("/"),
            dry_run: false,
        }
    }

    /// A dry run: files under `data_dir/system-dry-run`, commands only listed.
    pub fn dry_run(data_dir: &Path) -> Target {
        Target {
            root: data_dir.join(DRY_RUN_DIR),
            dry_run: true,
        }
    }

    /// Whether this is a dry run.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// The path of `relative` (e.g. `etc/systemd/network/…`) on this target.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Runs `argv` (or, in a dry run, only lists it); returns the command line.
    fn run(&self, argv: &[&str]) -> Result<String, SystemError> {
        let line = argv.join(" ");
        if self.dry_run {
            return Ok(line);
        }
        let Some((program, args)) = argv.split_first() else {
            return Ok(line);
        };
        let output = std::process::Command::new(program)
            .args(args)
            .output()
            .map_err(|e| SystemError::Command {
                command: line.clone(),
                reason: e.to_string(),
            })?;
        if output.status.success() {
            Ok(line)
        } else {
            Err(SystemError::Command {
                command: line,
                reason: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }
}

/// What applying did, or would do in a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Steps: files written and commands run (or to be run).
    pub plan: Vec<String>,
    /// A network change must be confirmed by then, or it is rolled back.
    pub confirm_by: Option<DateTime<Utc>>,
}

/// A file's content before a change (`None`: it did not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Before {
    path: PathBuf,
    content: Option<Vec<u8>>,
}

/// Writes `files` (path, content) all at once: every temporary file first, then the renames.
/// Returns what each file held before.
fn write_all(files: &[(PathBuf, String)]) -> Result<Vec<Before>, SystemError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SystemError::Io { path, source }
    };
    let mut before = Vec::new();
    for (path, _) in files {
        let content = match std::fs::read(path) {
            Ok(c) => Some(c),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(path)(e)),
        };
        before.push(Before {
            path: path.clone(),
            content,
        });
    }
    let mut staged = Vec::new();
    for (path, content) in files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let tmp = path.with_extension("mbus-center-new");
        std::fs::write(&tmp, content).map_err(io(&tmp))?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(&tmp))?;
        staged.push((tmp, path));
    }
    for (tmp, path) in staged {
        std::fs::rename(&tmp, path).map_err(io(path))?;
    }
    Ok(before)
}

fn restore(before: &[Before]) -> Result<(), SystemError> {
    for b in before {
        let result = match &b.content {
            Some(c) => crate::atomic::write(&b.path, c),
            None => match std::fs::remove_file(&b.path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            },
        };
        result.map_err(|source| SystemError::Io {
            path: b.path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// A network change waiting for confirmation.
#[derive(Debug)]
struct Pending {
    deadline: DateTime<Utc>,
    before: Vec<Before>,
}

/// Applies network settings with confirmation and rollback.
#[derive(Debug)]
pub struct NetworkApplier {
    target: Target,
    timeout: Duration,
    pending: Option<Pending>,
}

/// What a rollback restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledBack {
    /// Files restored (or removed where there were none).
    pub files: Vec<PathBuf>,
    /// Steps taken.
    pub plan: Vec<String>,
}

impl NetworkApplier {
    /// An applier on `target`; changes must be confirmed within `timeout`.
    pub fn new(target: Target, timeout: Duration) -> NetworkApplier {
        NetworkApplier {
            target,
            timeout,
            pending: None,
        }
    }

    /// Checks `network`, writes its files and reloads systemd-networkd; the change must be
    /// confirmed by [`Applied::confirm_by`]. A change made while another waits for its
    /// confirmation keeps the older files as the ones a rollback returns to.
    pub fn apply(&mut self, network: &Network, now: DateTime<Utc>) -> Result<Applied, SystemError> {
        check_network(network).map_err(SystemError::Invalid)?;
        let files: Vec<(PathBuf, String)> = network_files(network)
            .into_iter()
            .map(|(name, content)| (self.target.path(&format!("{NETWORKD_DIR}/{name}")), content))
            .collect();
        let before = write_all(&files)?;
        let mut plan: Vec<String> = files
            .iter()
            .map(|(p, _)| format!("write {}", p.display()))
            .collect();
        plan.push(self.target.run(&["networkctl", "reload"])?);
        let deadline = now + self.timeout;
        let before = match self.pending.take() {
            Some(older) => older.before,
            None => before,
        };
        self.pending = Some(Pending { deadline, before });
        tracing::info!(dry_run = self.target.is_dry_run(), %deadline, "network settings applied; waiting for confirmation");
        Ok(Applied {
            files: files.into_iter().map(|(p, _)| p).collect(),
            plan,
            confirm_by: Some(deadline),
        })
    }

    /// Keeps the applied network settings (the web interface was reached again).
    pub fn confirm(&mut self) -> bool {
        self.pending.take().is_some()
    }

    /// The deadline of the change waiting for confirmation.
    pub fn pending_until(&self) -> Option<DateTime<Utc>> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    /// Rolls an unconfirmed change back once its deadline has passed.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Result<Option<RolledBack>, SystemError> {
        match &self.pending {
            Some(p) if now >= p.deadline => {}
            _ => return Ok(None),
        }
        let Some(pending) = self.pending.take() else {
            return Ok(None);
        };
        restore(&pending.before)?;
        let mut plan: Vec<String> = pending
            .before
            .iter()
            .map(|b| match b.content {
                Some(_) => format!("restore {}", b.path.display()),
                None => format!("remove {}", b.path.display()),
            })
            .collect();
        plan.push(self.target.run(&["networkctl", "reload"])?);
        tracing::warn!("network settings not confirmed in time: previous settings restored");
        Ok(Some(RolledBack {
            files: pending.before.into_iter().map(|b| b.path).collect(),
            plan,
        }))
    }
}

/// Writes the NTP drop-in and restarts systemd-timesyncd; without an NTP server, switches
/// NTP off so the time can be set by hand.
pub fn apply_time(target: &Target, time: &TimeSettings) -> Result<Applied, SystemError> {
    let (name, content) = time_file(time);
    let path = target.path(&format!("{TIMESYNCD_DIR}/{name}"));
    write_all(&[(path.clone(), content)])?;
    let mut plan = vec![format!("write {}", path.display())];
    match time.ntp_server {
        Some(_) => {
            plan.push(target.run(&["timedatectl", "set-ntp", "true"])?);
            plan.push(target.run(&["systemctl", "restart", "systemd-timesyncd"])?);
        }
        None => plan.push(target.run(&["timedatectl", "set-ntp", "false"])?),
    }
    Ok(Applied {
        files: vec![path],
        plan,
        confirm_by: None,
    })
}

/// Sets the date and time by hand (only while NTP is off).
pub fn set_time(
    target: &Target,
    time: &TimeSettings,
    at: DateTime<Utc>,
) -> Result<Applied, SystemError> {
    if time.ntp_server.is_some() {
        return Err(SystemError::NtpActive);
    }
    let text = at.format("%Y-%m-%d %H:%M:%S").to_string();
    // timedatectl takes the time in the system's zone; UTC is stated explicitly.
    let step = target.run(&["timedatectl", "set-time", &format!("{text} UTC")])?;
    Ok(Applied {
        files: Vec::new(),
        plan: vec![step],
        confirm_by: None,
    })
}

#[cfg(test)]
mod tests;
