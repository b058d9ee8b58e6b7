//! `mbusctl`: a thin command-line shell over the mbus crates. Each subcommand lives in its own
//! module under `cmd/`, parses its arguments, calls the library and prints.

mod cmd;
mod exit;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// M-Bus toolkit: decode telegrams, read and scan meters, simulate a bus, export logger data.
#[derive(Parser)]
#[command(name = "mbusctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode an M-Bus frame given as hex (file, argument or stdin).
    Decode(cmd::decode::Args),
    /// Read all telegrams of one meter (by primary or secondary address) and decode them.
    Read(cmd::read::Args),
    /// Find the meters on a bus by primary or secondary address, at one or every baud rate.
    Scan(cmd::scan::Args),
    /// Serve a simulated M-Bus as a transparent TCP gateway (for any M-Bus master software).
    Simulate(cmd::simulate::Args),
    /// Export stored readings of a logger data directory as CSV or JSON files in a ZIP.
    Export(cmd::export::Args),
    /// Measure hot paths on generated data.
    Bench(cmd::bench::Args),
    /// Back up (export) or restore (import) a logger's configuration as JSON.
    Config(cmd::config::Args),
    /// List the meters of a logger data directory with their read status.
    Meters(cmd::meters::Args),
    /// Show the event log (diagnosis) of a logger data directory, newest first.
    Events(cmd::events::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
        Command::Read(args) => cmd::read::run(args),
        Command::Scan(args) => cmd::scan::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Config(args) => cmd::config::run(args),
        Command::Meters(args) => cmd::meters::run(args),
        Command::Events(args) => cmd::events::run(args),
    };
    exit.into()
}
