//! Reading 250 simulated meters at 2400 baud by primary and by secondary address: CPU time per
//! full read cycle (criterion) and, printed once per scenario, the virtual bus time against the
//! lower bound (frame bytes × 11 bits / baud + each meter's response delays).

use criterion::{criterion_group, criterion_main, Criterion};
use mbus_link::sim::{templates, Population, SerialPattern, SimBus, SimConfig, Template};
use mbus_link::{LinkConfig, Master};
use mbus_proto::address::BaudRate;
use std::path::PathBuf;
use std::time::Duration;

const METERS: usize = 250;
const BAUD: BaudRate = BaudRate::B2400;

fn corpus_templates() -> Vec<Template> {
    let dir = std::env::var_os("MBUS_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/libmbus"),
        PathBuf::from,
    );
    templates::load_dir(&dir.join("test-frames")).unwrap_or_default()
}

fn bus() -> SimBus {
    let meters = Population::new(METERS, SerialPattern::Random)
        .seed(2024)
        .bauds(&[BAUD])
        .build(&corpus_templates());
    SimBus::new(SimConfig::default(), meters)
}

/// Which frames one read of one meter consists of.
#[derive(Clone, Copy)]
enum Scenario {
    /// SND_NKE + E5, REQ_UD2 + RSP_UD.
    PrimaryWithReset,
    /// REQ_UD2 + RSP_UD (the master keeps the FCB state between cycles).
    Primary,
    /// Select + E5, REQ_UD2 + RSP_UD, SND_NKE(253) + E5.
    Secondary,
    /// Select + E5, REQ_UD2 + RSP_UD (the next select deselects).
    SecondaryNoDeselect,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::PrimaryWithReset => "primary (SND_NKE first)",
            Scenario::Primary => "primary (no reset)",
            Scenario::Secondary => "secondary (select, read, deselect)",
            Scenario::SecondaryNoDeselect => "secondary (select, read)",
        }
    }

    fn config(self) -> LinkConfig {
        LinkConfig {
            reset_before_read: matches!(self, Scenario::PrimaryWithReset),
            deselect_after_read: matches!(self, Scenario::Secondary),
            ..LinkConfig::default()
        }
    }

    /// Reads every meter once; returns the virtual bus time it took.
    fn run(self, bus: SimBus) -> Duration {
        let secondaries: Vec<_> = bus.meters().iter().map(|m| m.secondary()).collect();
        let primaries: Vec<_> = bus.meters().iter().map(|m| m.primary()).collect();
        let mut master = Master::with_config(bus, self.config());
        let start = master.transport().bus_time();
        for (p, s) in primaries.iter().zip(&secondaries) {
            let read = match self {
                Scenario::Secondary | Scenario::SecondaryNoDeselect => master.read_secondary(s),
                _ => master.read_primary(*p),
            };
            if let Err(e) = read {
                panic!("reading meter {s}: {e}");
            }
        }
        master.transport().bus_time() - start
    }

    /// Frame bytes × 11 bits / baud + the response delay of every reply, for the frames this
    /// scenario sends, or (`strict`) only the frames any read needs: REQ_UD2 + RSP_UD per
    /// telegram, plus select + E5 for secondary addressing.
    fn lower_bound(self, bus: &SimBus, strict: bool) -> Duration {
        let this = if strict {
            match self {
                Scenario::PrimaryWithReset | Scenario::Primary => Scenario::Primary,
                Scenario::Secondary | Scenario::SecondaryNoDeselect => {
                    Scenario::SecondaryNoDeselect
                }
            }
        } else {
            self
        };
        let mut bits = 0u64;
        for m in bus.meters() {
            let reply: u64 = m.telegrams().iter().map(|t| t.len() as u64).sum();
            let telegrams = m.telegrams().len() as u64;
            let delay = u64::from(m.response_delay());
            let (frames, replies) = match this {
                Scenario::PrimaryWithReset => (5 + 1 + 5 * telegrams + reply, 1 + telegrams),
                Scenario::Primary => (5 * telegrams + reply, telegrams),
                Scenario::Secondary => (17 + 1 + 5 * telegrams + reply + 5 + 1, 2 + telegrams),
                Scenario::SecondaryNoDeselect => (17 + 1 + 5 * telegrams + reply, 1 + telegrams),
            };
            bits += frames * 11 + replies * delay;
        }
        Duration::from_secs_f64(bits as f64 / f64::from(BAUD.bps()))
    }
}

fn read_cycle(c: &mut Criterion) {
    let template_bus = bus();
    let mut group = c.benchmark_group("read_250_meters_2400_baud");
    group.sample_size(10);
    for scenario in [
        Scenario::PrimaryWithReset,
        Scenario::Primary,
        Scenario::Secondary,
        Scenario::SecondaryNoDeselect,
    ] {
        let bus_time = scenario.run(template_bus.clone());
        let bound = scenario.lower_bound(&template_bus, false);
        let strict = scenario.lower_bound(&template_bus, true);
        eprintln!(
            "{:<36} bus {:>8.3} s, bound {:>8.3} s (ratio {:.4}), strict bound {:>8.3} s (ratio {:.4})",
            scenario.name(),
            bus_time.as_secs_f64(),
            bound.as_secs_f64(),
            bus_time.as_secs_f64() / bound.as_secs_f64(),
            strict.as_secs_f64(),
            bus_time.as_secs_f64() / strict.as_secs_f64(),
        );
        group.bench_function(scenario.name(), |b| {
            b.iter(|| scenario.run(template_bus.clone()))
        });
    }
    group.finish();
}

criterion_group!(benches, read_cycle);
criterion_main!(benches);
