//! Wall-clock cost of scanning the simulated bus (the search logic plus the bit-level simulator).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig};
use mbus_link::Master;
use mbus_scan::{Scanner, SecondaryOptions};

fn secondary_scan(c: &mut Criterion) {
    let mut group = c.benchmark_group("secondary_scan_50_meters");
    group.sample_size(10);
    for (name, pattern) in [
        ("sequential", SerialPattern::Sequential),
        ("random", SerialPattern::Random),
        ("clustered", SerialPattern::Clustered),
    ] {
        let meters = Population::new(50, pattern).seed(1).build(&[]);
        group.bench_function(name, |b| {
            b.iter_batched(
                || Master::new(SimBus::new(SimConfig::default(), meters.clone())),
                |mut master| {
                    let report = Scanner::new(&mut master)
                        .secondary(&SecondaryOptions::default())
                        .expect("the simulated bus does not fail");
                    assert_eq!(report.meters.len(), 50);
                    report.cost
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, secondary_scan);
criterion_main!(benches);
