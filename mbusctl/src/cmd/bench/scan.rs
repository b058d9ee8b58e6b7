//! `mbusctl bench scan`: the adaptive secondary scan against the classic libmbus algorithm on
//! one simulated population, both next to the physical lower bound. Bus time is the simulator's
//! virtual clock, so the figures are exact and do not depend on this machine. The last line is
//! `scan ratio bus-time ours/baseline: X` for scripts.

use crate::cmd::simulate::PopulationKind;
use crate::exit::Exit;
use mbus_link::sim::{templates, Population, SerialPattern, SimConfig};
use mbus_proto::address::BaudRate;
use mbus_scan::{compare, ScanReport, SecondaryOptions};
use std::path::PathBuf;

/// Arguments of `mbusctl bench scan`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of meters on the simulated bus.
    #[arg(long, default_value_t = 250)]
    meters: usize,
    /// Spread of the meters' serial numbers.
    #[arg(long, value_enum, default_value_t = PopulationKind::Random)]
    population: PopulationKind,
    /// Seed of the population.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Baud rate of the bus and every meter.
    #[arg(long, default_value = "2400")]
    baud: BaudRate,
    /// This many meters share their secondary address with another meter.
    #[arg(long, default_value_t = 0)]
    duplicates: usize,
    /// Directory of .hex telegrams to build the meters from (default: synthetic telegrams).
    #[arg(long)]
    corpus: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let templates = match &args.corpus {
        Some(dir) => match templates::load_dir(dir) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("mbusctl bench scan: {e}");
                return Exit::BadInput;
            }
        },
        None => Vec::new(),
    };
    let pattern = SerialPattern::from(args.population);
    let meters = Population::new(args.meters, pattern)
        .seed(args.seed)
        .bauds(&[args.baud])
        .duplicates(0, args.duplicates)
        .build(&templates);
    let config = SimConfig {
        baud: args.baud,
        ..SimConfig::default()
    };
    let comparison = match compare::on_sim(&meters, &config, &SecondaryOptions::default()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mbusctl bench scan: {e}");
            return Exit::Failure;
        }
    };
    println!(
        "{} meters, {:?} serials, seed {}, {} baud",
        comparison.meters, args.population, args.seed, args.baud
    );
    println!(
        "{:<9} {:>6} {:>8} {:>8} {:>11} {:>9}",
        "scan", "found", "selects", "reads", "bus seconds", "x bound"
    );
    let bound = comparison.lower_bound;
    let line = |name: &str, r: &ScanReport| {
        println!(
            "{:<9} {:>6} {:>8} {:>8} {:>11.1} {:>9.2}",
            name,
            r.meters.len(),
            r.cost.selects,
            r.cost.reads,
            r.cost.bus_time.as_secs_f64(),
            compare::ratio(r.cost.bus_time, bound)
        );
    };
    line("ours", &comparison.ours);
    line("baseline", &comparison.baseline);
    println!(
        "{:<9} {:>6} {:>8} {:>8} {:>11.1} {:>9}",
        "bound",
        comparison.meters,
        comparison.meters,
        comparison.meters,
        bound.as_secs_f64(),
        "1.00"
    );
    println!(
        "scan ratio probes ours/baseline: {:.3}",
        comparison.probe_ratio()
    );
    println!(
        "scan ratio bus-time ours/baseline: {:.3}",
        comparison.bus_time_ratio()
    );
    Exit::Ok
}
