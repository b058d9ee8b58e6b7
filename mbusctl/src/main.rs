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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
    };
    exit.into()
}
