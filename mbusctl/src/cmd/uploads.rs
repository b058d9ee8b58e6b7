//! `mbusctl status` (logger state, meters' read status summary, upload targets and fleet
//! sinks) and
//! `mbusctl test-upload` (tries the configured upload targets with a probe file).

use crate::cmd::meters::emit;
use crate::exit::Exit;
use chrono_tz::Tz;
use logger_core::fleet::{SinkStatus, SINK_KEYS};
use logger_core::status::StatusBoard;
use logger_core::upload::{self, UploadStatus};
use logger_core::views::LoggerSummary;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments of `mbusctl status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// Data directory of the logger.
    #[arg(long)]
    data_dir: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `mbusctl test-upload`.
#[derive(clap::Args)]
pub struct TestArgs {
    /// Data directory of the logger (its configuration names the targets).
    #[arg(long)]
    data_dir: PathBuf,
    /// Timeout of the connection and of each step, in seconds.
    #[arg(long, default_value_t = 15)]
    timeout: u64,
}

/// Appends the upload targets' state to `out` (nothing if no upload ever ran).
pub(crate) fn write_status(out: &mut String, data_dir: &Path, tz: Tz) {
    let status = UploadStatus::load(data_dir);
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into())
    };
    for s in status.targets.values() {
        let _ = writeln!(
            out,
            "upload {}: {} file(s) waiting, {} delivered, {} dropped; last success {}; last error {}{}",
            s.label,
            s.pending,
            s.delivered,
            s.dropped,
            time(s.last_success),
            time(s.last_error_at),
            s.last_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
}

/// Appends the fleet sinks' state to `out` (nothing for a sink that never ran).
fn write_sinks(out: &mut String, data_dir: &Path, tz: Tz) {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into())
    };
    for key in SINK_KEYS {
        let Some(s) = SinkStatus::load(data_dir, key) else {
            continue;
        };
        let what = if key == "mqtt" {
            "read cycle(s) queued"
        } else {
            "reading(s) to replicate"
        };
        let _ = writeln!(
            out,
            "{} {}: {} {what}, {} delivered, {} dropped, {} failed attempt(s); last success {}; last error {}{}",
            s.label,
            if s.connected { "connected" } else { "not connected" },
            s.pending,
            s.delivered,
            s.dropped,
            s.errors,
            time(s.last_success),
            time(s.last_error_at),
            s.last_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
}

/// Runs `mbusctl status`.
pub fn status(args: StatusArgs) -> Exit {
    let config = match crate::cmd::load_config("status", &args.data_dir) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let board = StatusBoard::load(&args.data_dir);
    let uploads = UploadStatus::load(&args.data_dir);
    if args.json {
        let value = serde_json::json!({
            "summary": LoggerSummary::new(&config, &board, board.state, None),
            "state": board.state,
            "meters": board.meters,
            "overruns": board.overruns,
            "uploads": uploads.targets,
            "sinks": SINK_KEYS
                .iter()
                .filter_map(|k| SinkStatus::load(&args.data_dir, k).map(|s| (k.to_string(), s)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        });
        return emit("status", &format!("{value}\n"));
    }
    let summary = LoggerSummary::new(&config, &board, board.state, None);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} (state {})",
        summary.name, summary.location, summary.state
    );
    let c = summary.counts;
    let _ = writeln!(
        out,
        "meters: {} configured, {} ok, {} with error flags, {} failed, {} never read, {} encrypted",
        summary.meters, c.ok, c.ok_with_errors, c.failed, c.never_read, c.encrypted
    );
    if uploads.targets.is_empty() {
        let _ = writeln!(out, "uploads: none has run");
    }
    write_status(&mut out, &args.data_dir, config.tz());
    write_sinks(&mut out, &args.data_dir, config.tz());
    emit("status", &out)
}

/// Runs `mbusctl test-upload`: 0 when every enabled target took the probe, 8 when one
/// failed, 3 when the configuration is bad or enables no target.
pub fn test_upload(args: TestArgs) -> Exit {
    let config = match crate::cmd::load_config("test-upload", &args.data_dir) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let reports = match upload::test_upload(&config, &args.data_dir, timeout, chrono::Utc::now()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mbusctl test-upload: {e}");
            return Exit::BadInput;
        }
    };
    if reports.is_empty() {
        eprintln!("mbusctl test-upload: no upload is enabled in the configuration");
        return Exit::BadInput;
    }
    let mut out = String::new();
    let mut exit = Exit::Ok;
    for report in &reports {
        match &report.outcome {
            Ok(steps) => {
                for step in steps {
                    let _ = writeln!(out, "{}: {step}", report.label);
                }
                let _ = writeln!(out, "{}: ok", report.label);
            }
            Err(e) => {
                let _ = writeln!(out, "{}: FAILED: {e}", report.label);
                exit = Exit::Upload;
            }
        }
    }
    match emit("test-upload", &out) {
        Exit::Ok => exit,
        other => other,
    }
}
