//! `mbusctl bench`: measures the toolkit's hot paths on generated data and prints the figures.

use crate::exit::Exit;

mod decode;
mod logger;
mod scan;

/// Arguments of `mbusctl bench`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BenchCommand,
}

/// What to measure.
#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Decoding throughput per stage (parse+iterate, typed decode, JSON, XML) over every `.hex`
    /// telegram under a directory; the last line is `decode frames/s: N`.
    Decode(decode::Args),
    /// Logger storage and export: ingest speed, bytes per value on disk, export speed and
    /// peak memory for a synthetic installation.
    Logger(logger::Args),
    /// Secondary scan: our adaptive search against the libmbus algorithm on one simulated
    /// population (probes, bus seconds, ratio to the physical lower bound); the last line is
    /// `scan ratio bus-time ours/baseline: X`.
    Scan(scan::Args),
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    match args.command {
        BenchCommand::Decode(args) => decode::run(args),
        BenchCommand::Logger(args) => logger::run(args),
        BenchCommand::Scan(args) => scan::run(args),
    }
}
