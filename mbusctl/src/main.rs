//! `mbusctl`: a thin command-line shell over the mbus crates. Each subcommand lives in its own
//! module under `cmd/`, parses its arguments, calls the library and prints.
// The doc comments of the argument structs are the `--help` text clap prints, written for a
// terminal: `[:SS]` there is an optional part, not a link.
#![allow(rustdoc::broken_intra_doc_links)]

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
    /// Show a logger's state: meters' read status and the upload targets' spool and results.
    Status(cmd::uploads::StatusArgs),
    /// Show the appliance's inputs and outputs: S0 totals, temperatures, relays, display, input
    /// meters, level converter.
    Io(cmd::io::Args),
    /// Apply the network and time settings to the OS (systemd), or show them as a dry run.
    System(cmd::system::Args),
    /// Try the configured uploads: connect, log in, write, rename and delete a probe file.
    TestUpload(cmd::uploads::TestArgs),
    /// Give one meter a new primary address (by its primary or secondary address).
    SetAddress(cmd::set_address::Args),
    /// Switch one meter to another baud rate.
    SwitchBaud(cmd::switch_baud::Args),
    /// Link reset (SND_NKE) or application reset of a meter.
    Reset(cmd::reset::Args),
    /// Secondary-address select with wildcards: acknowledged, silence or collision.
    Select(cmd::select::Args),
    /// Send raw bytes (hex) and print the reply.
    Raw(cmd::raw::Args),
    /// Send a test e-mail with a logger's e-mail settings and show each step.
    TestEmail(cmd::test_email::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::CompletionArgs),
    /// Write the man pages (mbusctl.1 and one per subcommand) into a directory.
    Man(cmd::completions::ManArgs),
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
        Command::Status(args) => cmd::uploads::status(args),
        Command::Io(args) => cmd::io::run(args),
        Command::System(args) => cmd::system::run(args),
        Command::TestUpload(args) => cmd::uploads::test_upload(args),
        Command::SetAddress(args) => cmd::set_address::run(args),
        Command::SwitchBaud(args) => cmd::switch_baud::run(args),
        Command::Reset(args) => cmd::reset::run(args),
        Command::Select(args) => cmd::select::run(args),
        Command::Raw(args) => cmd::raw::run(args),
        Command::TestEmail(args) => cmd::test_email::run(args),
        Command::Completions(args) => cmd::completions::completions::<Cli>(args),
        Command::Man(args) => cmd::completions::man::<Cli>(args),
    };
    exit.into()
}
