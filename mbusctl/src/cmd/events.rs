//! `mbusctl events`: the event log ("Diagnose") of a logger data directory, newest first.

use crate::exit::Exit;
use logger_core::config::ConfigStore;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments of `mbusctl events`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the logger.
    #[arg(long)]
    data_dir: PathBuf,
    /// Show at most this many entries.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let events = match logger_core::events::read(&args.data_dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("mbusctl events: {}: {e}", args.data_dir.display());
            return Exit::Failure;
        }
    };
    let shown = &events[..events.len().min(args.limit)];
    let mut out = String::new();
    if args.json {
        let _ = writeln!(out, "{}", serde_json::to_string(shown).unwrap_or_default());
    } else {
        // Times in the logger's time zone (UTC if its configuration cannot be read).
        let tz = ConfigStore::new(&args.data_dir)
            .load_or_default()
            .map(|c| c.tz())
            .unwrap_or(chrono_tz::UTC);
        let time = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz)
                .format("%d.%m.%Y - %H:%M:%S")
                .to_string()
        };
        let _ = writeln!(
            out,
            "{:>3}  {:<7} {:<4} {:<22} {:<22} message",
            "nr", "source", "kind", "came", "went"
        );
        for e in shown {
            let _ = writeln!(
                out,
                "{:>3}  {:<7} {:<4} {:<22} {:<22} {}",
                e.code.number(),
                e.source,
                format!("{:?}", e.kind),
                time(e.came),
                e.went.map(time).unwrap_or_default(),
                e.message
            );
        }
        let _ = writeln!(out, "{} of {} entries", shown.len(), events.len());
    }
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!("mbusctl events: {e}");
            Exit::Failure
        }
    }
}
