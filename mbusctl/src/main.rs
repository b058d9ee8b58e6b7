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
    /// Serve a simulated M-Bus as a transparent TCP gateway (for any M-Bus master software).
    Simulate(cmd::simulate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
        Command::Read(args) => cmd::read::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
    };
    exit.into()
}
