//! `mbusctl meters`: the meters of a logger's data directory with their read status.

use crate::exit::Exit;
use logger_core::config::Addressing;
use logger_core::status::StatusBoard;
use logger_core::storage::{Store, DATABASE_FILE_NAME};
use logger_core::views::{LoggerSummary, MeterSummary};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments of `mbusctl meters`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the logger.
    #[arg(long)]
    data_dir: PathBuf,
    /// Print JSON (one object per meter, with its last reading; the same as the web API's
    /// `GET /api/v1/meters`) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let config = match crate::cmd::load_config("meters", &args.data_dir) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let board = StatusBoard::load(&args.data_dir);
    let tz = config.tz();
    // The last readings come from the database when there is one (none before the first read).
    let db = args.data_dir.join(DATABASE_FILE_NAME);
    let store = match db.exists().then(|| Store::open_existing(&db)).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mbusctl meters: {e}");
            return Exit::Failure;
        }
    };
    let meters = match MeterSummary::all(&config, &board, store.as_ref()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("mbusctl meters: {e}");
            return Exit::Failure;
        }
    };
    if args.json {
        let text = serde_json::to_string(&meters).unwrap_or_default();
        return emit("meters", &format!("{text}\n"));
    }
    let summary = LoggerSummary::new(&config, &board, board.state, None);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} (state {})",
        summary.name, summary.location, summary.state
    );
    let _ = writeln!(
        out,
        "{:>4}  {:<28} {:<20} {:>6} {:>7} {:>4}  {:<16} last read",
        "id", "name", "address", "baud", "cycle", "regs", "status"
    );
    for m in &meters {
        let address = match (m.addressing, &m.secondary) {
            (Addressing::Secondary, Some(s)) => {
                format!("{s} {}", m.manufacturer.as_deref().unwrap_or("???"))
            }
            _ => format!("primary {}", m.primary),
        };
        let last = m
            .status
            .last_success
            .map(|t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:>4}  {:<28} {:<20} {:>6} {:>7} {:>4}  {:<16} {}",
            m.id,
            m.name,
            address,
            m.baud,
            m.cycle,
            m.registers,
            m.status.status.to_string(),
            last
        );
    }
    let _ = writeln!(out, "{} meter(s)", config.meters.len());
    if let Some(mail) = &board.email {
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string())
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(
            out,
            "e-mail: {} sent (last {}), {} queued, {} failed attempt(s), {} dropped",
            mail.sent,
            time(mail.last_sent),
            mail.queued,
            mail.failed_attempts,
            mail.dropped
        );
        if let Some(error) = &mail.last_error {
            let _ = writeln!(
                out,
                "e-mail last error ({}): {error}",
                time(mail.last_error_at)
            );
        }
    }
    crate::cmd::uploads::write_status(&mut out, &args.data_dir, tz);
    emit("meters", &out)
}

/// Writes a listing of `command`; a closed pipe (`| head`) is not an error worth a message.
pub(crate) fn emit(command: &str, text: &str) -> Exit {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!("mbusctl {command}: {e}");
            Exit::Failure
        }
    }
}
