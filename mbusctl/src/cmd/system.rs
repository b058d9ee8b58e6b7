//! `mbusctl system`: applies a logger's network and time settings to the operating system
//! (systemd-networkd, systemd-timesyncd), or — the default — does a dry run that writes the
//! files below the data directory and lists what it would run.

use crate::exit::Exit;
use chrono::Utc;
use logger_core::system::{apply_time, set_time, Applied, NetworkApplier, Target};
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `mbusctl system`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the logger (its configuration holds the settings).
    #[arg(long)]
    data_dir: PathBuf,
    /// Apply to this system (as root): write under /etc and reload the services. Without it,
    /// a dry run writes the files into DATA_DIR/system-dry-run and runs nothing.
    #[arg(long)]
    apply: bool,
    /// Seconds to confirm a network change before it is rolled back.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(10..=3600))]
    confirm_within: u64,
    /// Also set the clock by hand to this UTC time ("2026-05-04 08:00:00"; needs NTP off).
    #[arg(long, value_name = "UTC")]
    set_time: Option<String>,
}

fn print(applied: &Applied) {
    for step in &applied.plan {
        println!("  {step}");
    }
}

/// Waits up to `within` for a line "yes" on standard input.
fn confirmed(within: Duration) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(within)
        .is_ok_and(|line| line.trim().eq_ignore_ascii_case("yes"))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let config = match crate::cmd::load_config("system", &args.data_dir) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let target = if args.apply {
        Target::system()
    } else {
        Target::dry_run(&args.data_dir)
    };
    let time = match &args.set_time {
        Some(text) => match chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
            Ok(t) => Some(t.and_utc()),
            Err(e) => {
                eprintln!("mbusctl system: --set-time {text:?}: {e} (write YYYY-MM-DD HH:MM:SS)");
                return Exit::Usage;
            }
        },
        None => None,
    };
    let within = Duration::from_secs(args.confirm_within);
    let mut network = NetworkApplier::new(
        target.clone(),
        chrono::Duration::from_std(within).unwrap_or(chrono::Duration::minutes(2)),
    );
    let result = (|| {
        if target.is_dry_run() {
            println!(
                "dry run: nothing is changed on this system; files go below {}",
                target.path("").display()
            );
        }
        let applied = network.apply(&config.network, Utc::now())?;
        println!("network:");
        print(&applied);
        let applied = apply_time(&target, &config.time)?;
        println!("time:");
        print(&applied);
        if let Some(at) = time {
            print(&set_time(&target, &config.time, at)?);
        }
        Ok::<(), logger_core::system::SystemError>(())
    })();
    if let Err(e) = result {
        eprintln!("mbusctl system: {e}");
        return Exit::BadInput;
    }
    if target.is_dry_run() {
        println!(
            "a real apply (--apply) waits {} s for the change to be confirmed and rolls it back otherwise",
            args.confirm_within
        );
        network.confirm();
        return Exit::Ok;
    }
    println!(
        "type yes within {} s to keep the network settings (otherwise they are rolled back)",
        args.confirm_within
    );
    if confirmed(within) {
        network.confirm();
        println!("kept");
        return Exit::Ok;
    }
    match network.tick(Utc::now() + chrono::Duration::from_std(within).unwrap_or_default()) {
        Ok(Some(rolled)) => {
            println!("not confirmed: rolled back");
            for step in rolled.plan {
                println!("  {step}");
            }
            Exit::Failure
        }
        Ok(None) => Exit::Ok,
        Err(e) => {
            eprintln!("mbusctl system: rollback failed: {e}");
            Exit::Failure
        }
    }
}
