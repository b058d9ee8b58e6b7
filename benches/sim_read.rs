//! Reading 250 simulated meters at 2400 baud by primary and by secondary address: CPU time per
//! steady-state read cycle (criterion) and, printed once per scenario for the first and the
//! second cycle on one master, the virtual bus time against the lower bound (frame bytes × 11
//! bits / baud + each meter's response delays).

use criterion::{criterion_group, criterion_main, Criterion};
use mbus_link::sim::{templates, Population, SerialPattern, SimBus, SimConfig, TelegramTemplate};
use mbus_link::{LinkConfig, Master, ResetPolicy};
use mbus_proto::address::{BaudRate, PrimaryAddress, SecondaryAddress};
use std::path::PathBuf;
use std::time::Duration;

const METERS: usize = 250;
const BAUD: BaudRate = BaudRate::B2400;
/// Bytes of SND_NKE and of a select request.
const SND_NKE: u64 = 5;
const SELECT: u64 = 17;
/// Bytes of REQ_UD2 and of the `E5` acknowledgement.
const REQ_UD2: u64 = 5;
const ACK: u64 = 1;

fn corpus_templates() -> Vec<TelegramTemplate> {
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

/// How the meters are read, and with which configuration.
#[derive(Clone, Copy)]
enum Scenario {
    /// `read_primary` with the given reset policy (default: `WhenUnknown`).
    Primary(ResetPolicy),
    /// `read_secondary`, deselecting after every read or (default) once after the cycle.
    Secondary { deselect_after_read: bool },
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Primary(ResetPolicy::WhenUnknown) => "primary (defaults)",
            Scenario::Primary(ResetPolicy::Always) => "primary (SND_NKE before every read)",
            Scenario::Primary(ResetPolicy::Never) => "primary (never SND_NKE)",
            Scenario::Secondary {
                deselect_after_read: false,
            } => "secondary (defaults)",
            Scenario::Secondary {
                deselect_after_read: true,
            } => "secondary (deselect after every read)",
        }
    }

    fn config(self) -> LinkConfig {
        let defaults = LinkConfig::default();
        match self {
            Scenario::Primary(reset_policy) => LinkConfig {
                reset_policy,
                ..defaults
            },
            Scenario::Secondary {
                deselect_after_read,
            } => LinkConfig {
                deselect_after_read,
                ..defaults
            },
        }
    }

    /// Reads every meter once (secondary: then deselects, as callers do at the end of a
    /// batch); returns the virtual bus time it took.
    fn cycle(
        self,
        master: &mut Master<SimBus>,
        meters: &[(PrimaryAddress, SecondaryAddress)],
    ) -> Duration {
        let start = master.transport().bus_time();
        for (p, s) in meters {
            let read = match self {
                Scenario::Secondary { .. } => master.read_secondary(s),
                Scenario::Primary(_) => master.read_primary(*p),
            };
            if let Err(e) = read {
                panic!("reading meter {s}: {e}");
            }
        }
        if let Scenario::Secondary {
            deselect_after_read: false,
        } = self
        {
            if let Err(e) = master.deselect() {
                panic!("deselecting: {e}");
            }
        }
        master.transport().bus_time() - start
    }

    /// Frame bytes × 11 bits / baud + the response delay of every reply, for the frames this
    /// scenario sends in its first or a later cycle, or (`strict`) only the frames any read
    /// needs: REQ_UD2 + RSP_UD per telegram, plus select + E5 for secondary addressing.
    fn lower_bound(self, bus: &SimBus, first_cycle: bool, strict: bool) -> Duration {
        let mut bits = 0u64;
        let mut last_delay = 0;
        for m in bus.meters() {
            let reply: u64 = m.telegrams().iter().map(|t| t.len() as u64).sum();
            let telegrams = m.telegrams().len() as u64;
            let delay = u64::from(m.response_delay());
            last_delay = delay;
            let (mut frames, mut replies) = (REQ_UD2 * telegrams + reply, telegrams);
            let extra = match self {
                Scenario::Primary(_) | Scenario::Secondary { .. } if strict => 0,
                Scenario::Primary(ResetPolicy::Always) => 1,
                Scenario::Primary(ResetPolicy::WhenUnknown) => u64::from(first_cycle),
                Scenario::Primary(ResetPolicy::Never) => 0,
                Scenario::Secondary {
                    deselect_after_read,
                } => u64::from(deselect_after_read),
            };
            frames += extra * (SND_NKE + ACK);
            replies += extra;
            if let Scenario::Secondary { .. } = self {
                frames += SELECT + ACK;
                replies += 1;
            }
            bits += frames * 11 + replies * delay;
        }
        if let (
            false,
            Scenario::Secondary {
                deselect_after_read: false,
            },
        ) = (strict, self)
        {
            bits += (SND_NKE + ACK) * 11 + last_delay;
        }
        Duration::from_secs_f64(bits as f64 / f64::from(BAUD.bps()))
    }
}

fn read_cycle(c: &mut Criterion) {
    let template_bus = bus();
    let meters: Vec<_> = template_bus
        .meters()
        .iter()
        .map(|m| {
            let primary = PrimaryAddress::new(m.primary()).expect("the population's addresses");
            (primary, m.secondary())
        })
        .collect();
    let mut group = c.benchmark_group("read_250_meters_2400_baud");
    group.sample_size(10);
    for scenario in [
        Scenario::Primary(ResetPolicy::WhenUnknown),
        Scenario::Primary(ResetPolicy::Always),
        Scenario::Secondary {
            deselect_after_read: false,
        },
        Scenario::Secondary {
            deselect_after_read: true,
        },
    ] {
        let mut master = Master::with_config(template_bus.clone(), scenario.config());
        for (cycle, first) in [("first cycle", true), ("steady state", false)] {
            let bus_time = scenario.cycle(&mut master, &meters).as_secs_f64();
            let bound = scenario
                .lower_bound(&template_bus, first, false)
                .as_secs_f64();
            let strict = scenario
                .lower_bound(&template_bus, first, true)
                .as_secs_f64();
            eprintln!(
                "{:<40} {cycle:<12} bus {bus_time:>8.3} s, bound {bound:>8.3} s (ratio {:.4}), strict bound {strict:>8.3} s (ratio {:.4})",
                scenario.name(),
                bus_time / bound,
                bus_time / strict,
            );
        }
        // CPU time of a steady-state cycle: the master has read every meter before.
        group.bench_function(scenario.name(), |b| {
            b.iter(|| scenario.cycle(&mut master, &meters))
        });
    }
    group.finish();
}

criterion_group!(benches, read_cycle);
criterion_main!(benches);
