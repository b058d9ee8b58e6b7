//! Unit tests of the search algorithms on the in-crate bus model.

use crate::model::{ModelBus, ModelMeter};
use crate::{
    CancelToken, FoundStatus, LineState, PrimaryOptions, Probe, ScanReport, Scanner,
    SecondaryOptions,
};
use mbus_proto::address::{BaudRate, SecondaryAddress, SecondaryMask};
use std::collections::BTreeSet;

/// The deterministic generator of test populations.
type Rng = mbus_link::sim::SimRng;

/// Response delays of a few meter models, in bit times.
const DELAYS: [u32; 4] = [11, 40, 90, 200];

fn meter(ident: u32, model: &str, delay: u32) -> ModelMeter {
    ModelMeter::new(&format!("{ident:08}{model}"), delay)
}

fn sequential(n: u32, start: u32) -> Vec<ModelMeter> {
    (0..n)
        .map(|i| meter(start + i, "2C2D0B04", DELAYS[i as usize % 4]))
        .collect()
}

fn random(n: usize, seed: u64) -> Vec<ModelMeter> {
    let mut rng = Rng::new(seed);
    let mut idents = BTreeSet::new();
    while idents.len() < n {
        idents.insert(rng.below(100_000_000) as u32);
    }
    let models = ["2C2D0B04", "A5110307", "14C51E16", "4CAE0F02"];
    idents
        .into_iter()
        .map(|i| {
            let k = rng.below(4) as usize;
            meter(i, models[k], DELAYS[rng.below(4) as usize])
        })
        .collect()
}

fn addresses(meters: &[ModelMeter]) -> BTreeSet<SecondaryAddress> {
    meters.iter().map(|m| m.address).collect()
}

fn found(report: &ScanReport, status: FoundStatus) -> BTreeSet<SecondaryAddress> {
    report
        .meters
        .iter()
        .filter(|m| m.status == status)
        .filter_map(|m| m.secondary)
        .collect()
}

fn scan(meters: Vec<ModelMeter>) -> (ScanReport, ModelBus) {
    let mut bus = ModelBus::new(meters);
    let report = Scanner::new(&mut bus)
        .secondary(&SecondaryOptions::default())
        .unwrap();
    (report, bus)
}

/// Scans `meters` and checks that it found every one of them, each with status ok.
fn scan_finds_all(meters: Vec<ModelMeter>) -> ScanReport {
    let expected = addresses(&meters);
    let (report, _) = scan(meters);
    assert_eq!(found(&report, FoundStatus::Ok), expected);
    report
}

fn baseline(meters: Vec<ModelMeter>) -> ScanReport {
    let mut bus = ModelBus::new(meters);
    Scanner::new(&mut bus)
        .baseline(&SecondaryOptions::default())
        .unwrap()
}

#[test]
fn empty_bus_costs_the_wildcard_probes_and_says_silent() {
    let (report, _) = scan(Vec::new());
    assert!(report.meters.is_empty());
    let probes = u64::from(crate::secondary::EMPTY_BUS_PROBES);
    assert_eq!(report.cost.probes(), probes);
    assert_eq!(report.line, LineState::Silent { probes });
}

#[test]
fn a_missed_wildcard_probe_does_not_empty_the_bus() {
    let mut lone = meter(12345678, "2C2D0B04", 40);
    lone.misses = vec![1, 2];
    let (report, _) = scan(vec![lone]);
    assert_eq!(report.meters.len(), 1);
    assert_eq!(report.cost.selects, 3);
    assert_eq!(report.line, LineState::Ok);
}

#[test]
fn one_meter_costs_one_select_and_one_read() {
    let (report, _) = scan(vec![meter(12345678, "2C2D0B04", 40)]);
    assert_eq!(report.meters.len(), 1);
    assert_eq!(report.meters[0].status, FoundStatus::Ok);
    assert_eq!(report.cost.selects, 1);
    assert_eq!(report.cost.reads, 1);
    assert!(report.meters[0].telegram.is_some());
    assert!(report.meters[0].header().is_some());
}

#[test]
fn finds_sequential_and_random_populations() {
    for meters in [
        sequential(120, 12_345_600),
        random(150, 99),
        sequential(7, 99_999_990),
    ] {
        let count = addresses(&meters).len();
        let report = scan_finds_all(meters);
        assert_eq!(report.meters.len(), count);
    }
}

#[test]
fn batches_are_split_where_serials_vary() {
    // Two batches of 60 consecutive serials: after the first batch, the second is searched
    // from its varying digits once three leading digits are fixed, so the rest of its shared
    // prefix costs nothing.
    let mut meters = sequential(60, 12_345_600);
    meters.extend(sequential(60, 87_654_300));
    let report = scan_finds_all(meters);
    let (one_batch, _) = scan(sequential(60, 12_345_600));
    assert!(report.cost.selects + 30 < 2 * one_batch.cost.selects);
}

#[test]
fn our_bus_time_beats_the_baseline() {
    let meters = random(60, 5);
    let expected = addresses(&meters);
    let (ours, _) = scan(random(60, 5));
    let theirs = baseline(meters);
    assert_eq!(found(&theirs, FoundStatus::Ok), expected);
    assert_eq!(found(&ours, FoundStatus::Ok), expected);
    assert!(ours.cost.bus_time * 4 < theirs.cost.bus_time);
    assert!(ours.cost.probes() * 10 < theirs.cost.probes() * 7);
}

#[test]
fn duplicate_addresses_are_reported_as_such() {
    let mut meters = random(30, 17);
    meters.push(meter(55_555_555, "2C2D0B04", 11));
    meters.push(meter(55_555_555, "2C2D0B04", 90));
    let (report, _) = scan(meters);
    let dup: SecondaryAddress = "555555552C2D0B04".parse().unwrap();
    assert_eq!(
        found(&report, FoundStatus::DuplicateSecondary),
        BTreeSet::from([dup])
    );
    assert_eq!(found(&report, FoundStatus::Ok).len(), 30);
}

#[test]
fn one_ident_with_several_media() {
    let meters = vec![
        meter(11_111_111, "2C2D0B04", 11),
        meter(11_111_111, "2C2D0B07", 90),
        meter(11_111_111, "2C2D0C16", 40),
        meter(22_222_222, "2C2D0B04", 40),
    ];
    scan_finds_all(meters);
}

#[test]
fn nibbles_that_really_are_f() {
    let meters = vec![
        // Alone under its ident: found by the first clean E5.
        meter(33_333_333, "2C2FFFFF", 40),
        // Same ident; the medium F is split first and inferred from the remainder.
        meter(44_444_444, "2C2D150F", 11),
        meter(44_444_444, "2C2D1407", 90),
        // Every nibble of manufacturer, version and medium is F in one, not in the other.
        meter(66_666_666, "FFFF0B04", 11),
        meter(66_666_666, "2C2DFFFF", 200),
    ];
    scan_finds_all(meters);
}

#[test]
fn a_meter_whose_f_nibbles_hide_it_is_detected() {
    // 0F differs from 07 only where it holds F: no select reaches it without the other.
    let meters = vec![
        meter(44_444_444, "2C2D140F", 11),
        meter(44_444_444, "2C2D1407", 90),
    ];
    let (report, _) = scan(meters);
    let ok: SecondaryAddress = "444444442C2D1407".parse().unwrap();
    let hidden: SecondaryAddress = "444444442C2D140F".parse().unwrap();
    assert_eq!(found(&report, FoundStatus::Ok), BTreeSet::from([ok]));
    assert_eq!(
        found(&report, FoundStatus::Shadowed),
        BTreeSet::from([hidden])
    );
}

#[test]
fn a_meter_that_never_answers_reads() {
    let mut meters = random(20, 3);
    let mut mute = meter(77_000_001, "2C2D0B04", 40);
    mute.readable = false;
    meters.push(mute);
    let (report, _) = scan(meters);
    let mute: SecondaryAddress = "770000012C2D0B04".parse().unwrap();
    assert_eq!(
        found(&report, FoundStatus::Unreadable),
        BTreeSet::from([mute])
    );
    assert_eq!(found(&report, FoundStatus::Ok).len(), 20);
}

fn missing_population(seed: u64) -> Vec<ModelMeter> {
    let mut meters = sequential(40, 10_000_000);
    meters.extend(random(40, seed));
    let mut rng = Rng::new(seed + 1000);
    for m in &mut meters {
        // Each meter ignores one of the first requests meant for it; delays differ.
        m.misses = vec![1 + rng.below(6) as u32];
        m.delay_bits = 11 + rng.below(320) as u32;
    }
    meters
}

#[test]
fn thorough_scans_survive_any_single_missed_request() {
    for seed in 1..8 {
        let meters = missing_population(seed);
        let expected = addresses(&meters);
        let mut bus = ModelBus::new(meters);
        let options = SecondaryOptions {
            thorough: true,
            ..SecondaryOptions::default()
        };
        let report = Scanner::new(&mut bus).secondary(&options).unwrap();
        let ok = found(&report, FoundStatus::Ok);
        assert_eq!(
            ok,
            expected,
            "seed {seed}: missing {:?}, other {:?}",
            expected.difference(&ok).collect::<Vec<_>>(),
            report
                .meters
                .iter()
                .filter(|m| m.status != FoundStatus::Ok)
                .collect::<Vec<_>>()
        );
        assert_eq!(report.meters.len(), expected.len());
    }
}

#[test]
fn missed_requests_never_invent_meters() {
    let mut total_found = 0;
    for seed in 1..8 {
        let meters = missing_population(seed);
        let expected = addresses(&meters);
        let (report, _) = scan(meters);
        let ok = found(&report, FoundStatus::Ok);
        assert!(ok.is_subset(&expected), "seed {seed}");
        assert_eq!(
            report.meters.len(),
            ok.len(),
            "seed {seed}: {:?}",
            report
                .meters
                .iter()
                .filter(|m| m.status != FoundStatus::Ok)
                .collect::<Vec<_>>()
        );
        total_found += ok.len();
    }
    // Only a meter that misses the one request isolating it, inside a collision others
    // explain, goes unseen by the default scan.
    assert!(total_found * 100 >= 7 * 80 * 85, "{total_found}");
}

#[test]
fn noise_is_not_mistaken_for_meters() {
    for seed in 1..6u64 {
        let meters = random(40, seed);
        let expected = addresses(&meters);
        let mut bus = ModelBus::new(meters);
        let mut rng = Rng::new(seed * 77);
        bus.noise = (0..15).map(|_| 1 + rng.below(300)).collect();
        let report = Scanner::new(&mut bus)
            .secondary(&SecondaryOptions::default())
            .unwrap();
        assert_eq!(found(&report, FoundStatus::Ok), expected, "seed {seed}");
        assert_eq!(
            report.meters.len(),
            expected.len(),
            "seed {seed}: {:?}",
            report
                .meters
                .iter()
                .filter(|m| m.status != FoundStatus::Ok)
                .collect::<Vec<_>>()
        );
    }
}

/// The request numbers of the first read of `address`'s telegram in a thorough scan of
/// `meters` (after the first select of the full address) and of that read's retry.
fn reads_of(meters: Vec<ModelMeter>, address: SecondaryAddress) -> Vec<u64> {
    let mask = SecondaryMask::from_bytes(address.to_bytes());
    let mut bus = ModelBus::new(meters);
    let mut probes = Vec::new();
    let options = SecondaryOptions {
        thorough: true,
        ..SecondaryOptions::default()
    };
    Scanner::new(&mut bus)
        .on_progress(|p| {
            if p.probe == (Probe::Secondary { mask, depth: 16 }) {
                probes.push(p.probes);
            }
        })
        .secondary(&options)
        .unwrap();
    let first_read = probes[1];
    vec![first_read, first_read + 1]
}

#[test]
fn noise_on_both_reads_of_one_meter_does_not_make_its_address_shared() {
    let meters = || {
        vec![
            meter(10_000_000, "2C2D0B04", 40),
            // Tried with the known model first: one clean E5, then noise hits both telegrams.
            meter(11_111_111, "2C2D0B04", 11),
            meter(11_111_111, "2C2D0B07", 90),
        ]
    };
    let expected = addresses(&meters());
    let noisy = meters()[1].address;
    let mut bus = ModelBus::new(meters());
    bus.noise = reads_of(meters(), noisy);
    let options = SecondaryOptions {
        thorough: true,
        ..SecondaryOptions::default()
    };
    let report = Scanner::new(&mut bus).secondary(&options).unwrap();
    assert_eq!(found(&report, FoundStatus::Ok), expected);
    assert_eq!(report.meters.len(), 3);
}

/// Two meters sharing an address, answering selects after the same delay, and another meter.
fn shared_address() -> (Vec<ModelMeter>, SecondaryAddress) {
    let meters = vec![
        meter(10_000_000, "2C2D0B04", 40),
        meter(55_555_555, "2C2D0B04", 11),
        meter(55_555_555, "2C2D0B04", 11),
    ];
    let shared = meters[1].address;
    (meters, shared)
}

/// Thorough scan of `bus`: the report must hold the shared address once, as shared. Returns the
/// requests the scan sent.
fn assert_shared_once(mut bus: ModelBus, shared: SecondaryAddress) -> u64 {
    let options = SecondaryOptions {
        thorough: true,
        ..SecondaryOptions::default()
    };
    let report = Scanner::new(&mut bus).secondary(&options).unwrap();
    let entries: Vec<_> = report
        .meters
        .iter()
        .filter(|m| m.secondary == Some(shared))
        .map(|m| m.status)
        .collect();
    assert_eq!(entries, [FoundStatus::DuplicateSecondary]);
    assert_eq!(report.meters.len(), 2);
    report.cost.requests()
}

#[test]
fn a_lost_retry_after_a_collided_read_does_not_make_a_shared_address_unreadable() {
    let (meters, shared) = shared_address();
    // The telegrams of the full address collide; noise keeps both meters from hearing the retry.
    let retry = reads_of(shared_address().0, shared)[1];
    let clean = assert_shared_once(ModelBus::new(shared_address().0), shared);
    let mut bus = ModelBus::new(meters);
    bus.deaf = vec![(retry, 1), (retry, 2)];
    let lossy = assert_shared_once(bus, shared);
    // Settled at that look, as without the loss: the ident is not searched nibble by nibble
    // for a second meter.
    assert_eq!(lossy, clean);
}

#[test]
fn an_address_found_again_as_shared_is_reported_once() {
    let (meters, shared) = shared_address();
    // One meter misses the first read of the full address: the other one's telegram comes back
    // clean and the address looks like one meter's, until the search meets it again.
    let first_read = reads_of(shared_address().0, shared)[0];
    let mut bus = ModelBus::new(meters);
    bus.deaf = vec![(first_read, 2)];
    assert_shared_once(bus, shared);
}

#[test]
fn a_mask_narrows_the_scan() {
    let meters = random(60, 8);
    let mask: mbus_proto::address::SecondaryMask = "FFFFFFFFA511FFFF".parse().unwrap();
    let expected: BTreeSet<_> = meters
        .iter()
        .map(|m| m.address)
        .filter(|a| mask.matches(a))
        .collect();
    assert!(!expected.is_empty());
    let mut bus = ModelBus::new(meters);
    let report = Scanner::new(&mut bus)
        .secondary(&SecondaryOptions {
            mask,
            ..SecondaryOptions::default()
        })
        .unwrap();
    assert_eq!(found(&report, FoundStatus::Ok), expected);
}

#[test]
fn every_baud_rate_is_scanned() {
    let mut meters = random(12, 21);
    for (i, m) in meters.iter_mut().enumerate() {
        m.baud = BaudRate::ALL[i % BaudRate::ALL.len()];
    }
    let expected: BTreeSet<_> = meters.iter().map(|m| (m.address, m.baud)).collect();
    let mut bus = ModelBus::new(meters);
    let report = Scanner::new(&mut bus)
        .secondary(&SecondaryOptions {
            bauds: BaudRate::ALL.to_vec(),
            ..SecondaryOptions::default()
        })
        .unwrap();
    let got: BTreeSet<_> = report
        .meters
        .iter()
        .filter_map(|m| Some((m.secondary?, m.baud)))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn progress_and_cancellation() {
    let mut bus = ModelBus::new(random(80, 4));
    let token = CancelToken::new();
    let stopper = token.clone();
    let mut events = 0u64;
    let mut last_fraction = 0.0f64;
    let report = Scanner::new(&mut bus)
        .with_cancel(token)
        .on_progress(|p| {
            events += 1;
            assert!(p.fraction >= last_fraction && p.fraction <= 1.0);
            last_fraction = p.fraction;
            if p.probes >= 50 {
                stopper.cancel();
            }
        })
        .secondary(&SecondaryOptions::default())
        .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.cost.requests(), 50);
    assert_eq!(events, 50);
    assert!(report.meters.len() < 80);
}

#[test]
fn progress_reaches_the_end() {
    let mut bus = ModelBus::new(random(50, 14));
    let mut last = 0.0;
    Scanner::new(&mut bus)
        .on_progress(|p| last = p.fraction)
        .secondary(&SecondaryOptions::default())
        .unwrap();
    assert!((last - 1.0).abs() < 1e-6, "{last}");
}

#[test]
fn primary_scan_reads_each_address() {
    let mut meters = random(5, 2);
    for (i, m) in meters.iter_mut().enumerate() {
        m.primary = [1, 5, 9, 9, 250][i];
    }
    meters[4].misses = vec![1];
    let mut bus = ModelBus::new(meters);
    let report = Scanner::new(&mut bus)
        .primary(&PrimaryOptions::default())
        .unwrap();
    let ok: Vec<_> = report
        .meters
        .iter()
        .filter(|m| m.status == FoundStatus::Ok)
        .filter_map(|m| m.primary)
        .collect();
    assert_eq!(ok, vec![1, 5, 250]);
    let shared: Vec<_> = report
        .meters
        .iter()
        .filter(|m| m.status == FoundStatus::DuplicatePrimary)
        .filter_map(|m| m.primary)
        .collect();
    assert_eq!(shared, vec![9]);
    // 251 addresses, one retry each for the silent ones and the collision.
    assert_eq!(report.cost.reads, 251 + 247 + 1 + 1);
}

#[test]
fn baseline_probes_decimal_values_only() {
    // Two meters differing only in a hex manufacturer nibble: libmbus never separates them.
    let meters = vec![
        meter(12_345_678, "2C2D0B04", 11),
        meter(12_345_678, "2C2E0B04", 90),
    ];
    let report = baseline(meters);
    assert!(report.meters.is_empty());
    // Position 0 probes 0…9; silent ones are sent twice.
    let report = baseline(vec![meter(12_345_678, "2C2D0B04", 11)]);
    assert_eq!(report.meters.len(), 1);
    assert_eq!((report.cost.selects, report.cost.reads), (2 + 1 + 2 * 8, 1));
}

#[test]
fn runs_of_serials_are_followed_into_the_next_decade() {
    // 100 consecutive serials: each meter costs its own select; besides those, only the
    // descent to the first meter (8 collisions), the 54 silent masks around the shared
    // six-digit prefix and the probe that finds the run's end. The nine decades after the
    // first are entered through their lowest serial, never probed as a whole.
    let meters = sequential(100, 12_345_600);
    let report = scan_finds_all(meters);
    assert_eq!(report.cost.selects, 100 + 8 + 54 + 1);
    assert_eq!(report.cost.reads, 100);
}

#[test]
fn a_run_ending_just_inside_a_decade_costs_two_probes_more() {
    // The run enters 3414836F through 34148360; 34148361 is silent, so the decade's own
    // probe shows nothing else is inside instead of nine silent serials.
    let aligned = scan(sequential(10, 34_148_350)).0.cost.selects;
    let (report, _) = scan(sequential(10, 34_148_351));
    assert_eq!(report.meters.len(), 10);
    assert!(
        report.cost.selects <= aligned + 3,
        "{} {aligned}",
        report.cost.selects
    );
}

#[test]
fn a_line_garbling_everything_stops_both_scans() {
    let garbage = || {
        let mut bus = ModelBus::new(vec![meter(12345678, "2C2D0B04", 40)]);
        bus.noise = (1..100_000).collect();
        bus
    };
    let mut bus = garbage();
    let primary = Scanner::new(&mut bus)
        .primary(&PrimaryOptions::default())
        .unwrap();
    assert!(primary.meters.is_empty(), "{:?}", primary.meters);
    assert!(matches!(primary.line, LineState::Garbled { .. }));
    // Four addresses asked twice each, then the two line-check selects.
    assert_eq!((primary.cost.reads, primary.cost.selects), (8, 2));

    let mut bus = garbage();
    let secondary = Scanner::new(&mut bus)
        .secondary(&SecondaryOptions::default())
        .unwrap();
    assert!(secondary.meters.is_empty());
    assert!(matches!(secondary.line, LineState::Garbled { .. }));
    assert_eq!(secondary.cost.requests(), 10);
}

#[test]
fn shared_primary_addresses_in_a_row_are_not_a_garbled_line() {
    let mut meters = Vec::new();
    for p in 1..=20u8 {
        for (k, delay) in [(0u32, 11), (1, 90)] {
            let mut m = meter(10_000_000 + u32::from(p) * 2 + k, "2C2D0B04", delay);
            m.primary = p;
            meters.push(m);
        }
    }
    let mut good = meter(55_555_555, "2C2D0B04", 40);
    good.primary = 30;
    meters.push(good);
    let mut bus = ModelBus::new(meters);
    let report = Scanner::new(&mut bus)
        .primary(&PrimaryOptions::default())
        .unwrap();
    assert_eq!(report.line, LineState::Ok);
    let shared: Vec<u8> = report
        .meters
        .iter()
        .filter(|m| m.status == FoundStatus::DuplicatePrimary)
        .filter_map(|m| m.primary)
        .collect();
    assert_eq!(shared, (1..=20).collect::<Vec<u8>>());
    assert_eq!(found(&report, FoundStatus::Ok).len(), 1);
    // One line check (two silent selects at most) per four shared addresses.
    assert!(report.cost.selects <= 10, "{}", report.cost.selects);
    let bound = Scanner::new(&mut bus).primary_bus_time_bound(&PrimaryOptions::default());
    assert!(report.cost.bus_time <= bound);
}

#[test]
fn primary_progress_covers_every_address_and_stops_on_cancel() {
    let mut meters = random(3, 6);
    for (m, p) in meters.iter_mut().zip([3, 100, 200]) {
        m.primary = p;
    }
    let mut bus = ModelBus::new(meters);
    let mut asked = BTreeSet::new();
    let mut fractions = Vec::new();
    let mut found = 0;
    let report = Scanner::new(&mut bus)
        .on_progress(|p| {
            if let crate::Probe::Primary(a) = p.probe {
                asked.insert(a);
            }
            fractions.push(p.fraction);
            found = p.found;
        })
        .primary(&PrimaryOptions::default())
        .unwrap();
    assert_eq!(asked, (0..=250).collect::<BTreeSet<u8>>());
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(fractions.last().copied(), Some(1.0));
    assert_eq!((found, report.meters.len()), (3, 3));

    let token = CancelToken::new();
    let stopper = token.clone();
    let report = Scanner::new(&mut bus)
        .with_cancel(token)
        .on_progress(|p| {
            if p.probe == crate::Probe::Primary(150) {
                stopper.cancel();
            }
        })
        .primary(&PrimaryOptions::default())
        .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.line, LineState::Ok);
    let primaries: Vec<_> = report.meters.iter().filter_map(|m| m.primary).collect();
    assert_eq!(primaries, vec![3, 100]);
}
