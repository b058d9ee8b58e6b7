//! Prints probes (selects), reads and bus time of the adaptive scan, the libmbus baseline and the physical lower
//! bound for several simulated populations (the table in the README).
//!
//! `cargo run --release -p mbus-scan --example scan_table [METERS] [SEED]`

use mbus_link::sim::{templates, Population, SerialPattern, SimConfig};
use mbus_scan::{compare, SecondaryOptions};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(250), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/libmbus/test-frames");
    let templates = templates::load_dir(&corpus).unwrap_or_default();
    let populations = [
        (
            "sequential",
            Population::new(count, SerialPattern::Sequential),
        ),
        ("random", Population::new(count, SerialPattern::Random)),
        (
            "clustered",
            Population::new(count, SerialPattern::Clustered),
        ),
        (
            "duplicates",
            Population::new(count, SerialPattern::Random).duplicates(0, count / 25),
        ),
        ("1 meter", Population::new(1, SerialPattern::Random)),
        ("0 meters", Population::new(0, SerialPattern::Random)),
    ];
    println!(
        "{:<12} {:>5} {:>6} {:>5} {:>9} | {:>5} {:>6} {:>5} {:>9} | {:>9} | {:>6} {:>6} {:>6}",
        "population",
        "found",
        "probes",
        "reads",
        "bus s",
        "found",
        "probes",
        "reads",
        "bus s",
        "bound s",
        "t/base",
        "p/base",
        "t/bnd"
    );
    let quiet = (SimConfig::default(), SecondaryOptions::default());
    let noise = SimConfig {
        noise: 2e-6,
        ..SimConfig::default()
    };
    let noisy = (noise.clone(), SecondaryOptions::default());
    let noisy_thorough = (
        noise,
        SecondaryOptions {
            thorough: true,
            ..SecondaryOptions::default()
        },
    );
    let runs = populations
        .into_iter()
        .map(|(name, p)| (name, p, &quiet))
        .chain([
            (
                "noise",
                Population::new(count, SerialPattern::Random),
                &noisy,
            ),
            (
                "noise+thor.",
                Population::new(count, SerialPattern::Random),
                &noisy_thorough,
            ),
        ]);
    for (name, population, (config, options)) in runs {
        let meters = population.seed(seed).build(&templates);
        let c = compare::on_sim(&meters, config, options)?;
        println!(
            "{:<12} {:>5} {:>6} {:>5} {:>9.1} | {:>5} {:>6} {:>5} {:>9.1} | {:>9.1} | {:>6.3} {:>6.3} {:>6.2}",
            name,
            c.ours.meters.len(),
            c.ours.cost.probes(),
            c.ours.cost.reads,
            c.ours.cost.bus_time.as_secs_f64(),
            c.baseline.meters.len(),
            c.baseline.cost.probes(),
            c.baseline.cost.reads,
            c.baseline.cost.bus_time.as_secs_f64(),
            c.lower_bound.as_secs_f64(),
            c.bus_time_ratio(),
            c.probe_ratio(),
            compare::ratio(c.ours.cost.bus_time, c.lower_bound),
        );
    }
    Ok(())
}
