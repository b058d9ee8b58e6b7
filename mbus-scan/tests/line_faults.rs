//! Scans of a line that garbles everything, stays silent, or is noisy in places, on the
//! bit-level simulated bus and its virtual clock: a garbled line stops both scans within the
//! documented bound, an empty bus says it is silent after the wildcard retries, and meters that
//! garble their own replies on a working bus never make the line look garbled.

use core::time::Duration;
use mbus_link::config::char_times;
use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig, VirtualMeter};
use mbus_link::{LineError, LinkError, Master, Received, Transport};
use mbus_proto::address::BaudRate;
use mbus_scan::secondary::EMPTY_BUS_PROBES;
use mbus_scan::{
    FoundStatus, LineState, PrimaryOptions, ScanBus, ScanReport, Scanner, SecondaryOptions,
};
use std::collections::VecDeque;

/// A simulated bus with a sender that talks over every request: `chars` characters of garbage
/// (parity errors), back to back, starting 20 bit times after the end of each request.
struct Babbling {
    bus: SimBus,
    chars: usize,
    /// Arrival times of babbled characters not yet received.
    pending: VecDeque<Duration>,
}

impl Babbling {
    fn new(meters: Vec<VirtualMeter>, chars: usize) -> Babbling {
        Babbling {
            bus: SimBus::new(SimConfig::default(), meters),
            chars,
            pending: VecDeque::new(),
        }
    }
}

impl Transport for Babbling {
    fn now(&self) -> Duration {
        self.bus.bus_time()
    }

    fn latency(&self) -> Duration {
        Duration::ZERO
    }

    fn baud(&self) -> BaudRate {
        Transport::baud(&self.bus)
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        Transport::set_baud(&mut self.bus, baud)
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        let now = self.bus.bus_time();
        self.pending.retain(|&t| t > now);
        Transport::clear_input(&mut self.bus)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        let end = self.bus.transmit(bytes);
        let char_time = char_times(1, Transport::baud(&self.bus));
        let start = end + char_time * 20 / 11;
        let after = self.pending.back().copied().unwrap_or(start).max(start);
        self.pending
            .extend((1..=self.chars as u32).map(|i| after + char_time * i));
        Ok(end)
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let Some(&next) = self.pending.front().filter(|&&t| t <= deadline) else {
            return Transport::receive(&mut self.bus, buf, deadline);
        };
        // A meter's character that ends first is received first.
        let got = Transport::receive(&mut self.bus, buf, next)?;
        if got.len > 0 {
            return Ok(got);
        }
        self.pending.pop_front();
        let Some(slot) = buf.first_mut() else {
            return Ok(got);
        };
        *slot = 0x5A;
        Ok(Received {
            len: 1,
            error: Some(LineError::Parity),
            at: next,
        })
    }
}

fn population(n: usize) -> Vec<VirtualMeter> {
    Population::new(n, SerialPattern::Random).seed(3).build(&[])
}

fn primary<T: Transport>(master: &mut Master<T>) -> (ScanReport, Duration) {
    let options = PrimaryOptions::default();
    let mut scanner = Scanner::new(master);
    let bound = scanner.primary_bus_time_bound(&options);
    (scanner.primary(&options).unwrap(), bound)
}

fn secondary<T: Transport>(master: &mut Master<T>) -> (ScanReport, Duration) {
    let options = SecondaryOptions::default();
    let mut scanner = Scanner::new(master);
    let report = scanner.secondary(&options).unwrap();
    let bound = scanner.secondary_bus_time_bound(&options, report.meters.len());
    (report, bound)
}

fn assert_garbled(report: &ScanReport, bound: Duration) {
    assert!(
        matches!(
            report.line,
            LineState::Garbled {
                baud: BaudRate::B2400,
                ..
            }
        ),
        "{:?}",
        report.line
    );
    assert!(report.meters.is_empty(), "{:?}", report.meters);
    // Eight garbled outcomes, then the two line-check selects.
    assert!(report.cost.requests() <= 10, "{:?}", report.cost);
    assert!(
        report.cost.bus_time <= bound,
        "{:?} > {bound:?}",
        report.cost
    );
}

#[test]
fn a_babbling_sender_stops_both_scans_quickly_within_the_bound() {
    for chars in [30, 100_000] {
        let mut master = Master::new(Babbling::new(population(10), chars));
        let (report, bound) = primary(&mut master);
        assert_garbled(&report, bound);
        let mut master = Master::new(Babbling::new(population(10), chars));
        let (report, bound) = secondary(&mut master);
        assert_garbled(&report, bound);
        if chars > 1000 {
            // A sender that never pauses holds every request until the master stops draining:
            // each request takes most of the longest exchange the bound allows for.
            let longest = master.longest_exchange(BaudRate::B2400);
            let requests = u32::try_from(report.cost.requests()).unwrap();
            assert!(
                report.cost.bus_time * 2 > longest * requests,
                "{:?}",
                report.cost
            );
        }
    }
}

#[test]
fn noise_behind_an_echoing_converter_garbles_every_probe() {
    let config = SimConfig {
        noise: 0.3,
        echo: true,
        ..SimConfig::default()
    };
    let mut master = Master::new(SimBus::new(config.clone(), population(10)));
    let (report, bound) = primary(&mut master);
    assert_garbled(&report, bound);
    let mut master = Master::new(SimBus::new(config, population(10)));
    let (report, bound) = secondary(&mut master);
    assert_garbled(&report, bound);
}

#[test]
fn an_empty_bus_is_silent_after_the_wildcard_retries() {
    let mut master = Master::new(SimBus::new(SimConfig::default(), Vec::new()));
    let (report, bound) = secondary(&mut master);
    let probes = u64::from(EMPTY_BUS_PROBES);
    assert!(report.meters.is_empty());
    assert_eq!(report.cost.selects, probes);
    assert_eq!(report.line, LineState::Silent { probes });
    assert!(report.line.advice().unwrap().contains("power"));
    assert!(report.cost.bus_time <= bound);

    let mut master = Master::new(SimBus::new(SimConfig::default(), Vec::new()));
    let (report, bound) = primary(&mut master);
    assert_eq!(report.line, LineState::Silent { probes: 502 });
    assert!(report.cost.bus_time <= bound);
}

#[test]
fn noise_that_no_meter_understands_looks_silent() {
    // Without an echo, noise this strong corrupts every request: no meter answers at all.
    let config = SimConfig {
        noise: 0.5,
        ..SimConfig::default()
    };
    let mut master = Master::new(SimBus::new(config, population(10)));
    let (report, _) = secondary(&mut master);
    assert!(matches!(report.line, LineState::Silent { .. }));
}

#[test]
fn meters_garbling_their_own_replies_are_not_a_garbled_line() {
    let mut meters = population(2);
    meters[0].set_primary(5);
    // Six meters in a row whose every reply is corrupt: more garbled addresses in a row than
    // the streak that triggers a line check.
    for (k, p) in (10u8..16).enumerate() {
        let mut garbler = population(8)[k + 2].clone().with_garble_rate(1.0);
        garbler.set_primary(p);
        meters.push(garbler);
    }
    meters[1].set_primary(40);
    let good: Vec<_> = meters[..2].iter().map(VirtualMeter::secondary).collect();

    let mut master = Master::new(SimBus::new(SimConfig::default(), meters.clone()));
    let (report, bound) = primary(&mut master);
    assert_eq!(report.line, LineState::Ok);
    let ok: Vec<_> = report
        .meters
        .iter()
        .filter(|m| m.status == FoundStatus::Ok)
        .filter_map(|m| m.secondary)
        .collect();
    assert_eq!(ok, good);
    let garbled: Vec<u8> = report
        .meters
        .iter()
        .filter(|m| m.status == FoundStatus::DuplicatePrimary)
        .filter_map(|m| m.primary)
        .collect();
    assert_eq!(garbled, (10..16).collect::<Vec<u8>>());
    assert!(report.cost.bus_time <= bound);

    let mut master = Master::new(SimBus::new(SimConfig::default(), meters));
    let (report, bound) = secondary(&mut master);
    assert_eq!(report.line, LineState::Ok);
    for address in &good {
        assert!(
            report
                .meters
                .iter()
                .any(|m| m.secondary == Some(*address) && m.status == FoundStatus::Ok),
            "{address} missing from {:?}",
            report.meters
        );
    }
    assert!(report.cost.bus_time <= bound);
}
