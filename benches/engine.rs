//! Engine hot paths: grid computation, decoding a reply into a reading, the simulation's
//! value generator, configuration validation, and a whole simulated read cycle.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logger_core::config::{Config, ReadCycle};
use logger_core::inventory::{meter_from_found, DiscoveredMeter};
use logger_core::readout::MeterData;
use logger_core::schedule::next_slot;
use logger_core::simulation::{evolve, SimInstallation};
use logger_core::template::Template;
use mbus_link::sim::{templates, VirtualMeter};
use mbus_proto::address::BaudRate;
use std::hint::black_box;

#[path = "../logger-core/tests/support/mod.rs"]
mod support;

fn telegram() -> Vec<u8> {
    let t = templates::synthetic(5);
    VirtualMeter::new(1, t.header().unwrap(), t)
        .telegrams()
        .remove(0)
}

fn grid(c: &mut Criterion) {
    let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let summer = Utc.with_ymd_and_hms(2026, 6, 1, 10, 7, 12).unwrap();
    let dst = Utc.with_ymd_and_hms(2026, 10, 25, 0, 20, 0).unwrap();
    c.bench_function("next_slot 15min (no DST change near)", |b| {
        b.iter(|| next_slot(ReadCycle::M15, tz, black_box(summer)))
    });
    c.bench_function("next_slot 15min (autumn DST change)", |b| {
        b.iter(|| next_slot(ReadCycle::M15, tz, black_box(dst)))
    });
    c.bench_function("next_slot 24h", |b| {
        b.iter(|| next_slot(ReadCycle::H24, tz, black_box(summer)))
    });
}

fn readout(c: &mut Criterion) {
    let frame = telegram();
    let found = DiscoveredMeter {
        primary: Some(1),
        secondary: None,
        baud: BaudRate::B2400,
        telegrams: vec![frame.clone()],
    };
    let meter = meter_from_found(1, &found, &[], &Template::builtin());
    let mut g = c.benchmark_group("readout");
    g.throughput(Throughput::Bytes(frame.len() as u64));
    g.bench_function("decode + reading", |b| {
        b.iter(|| {
            let data = MeterData::decode(&[black_box(&frame)]).unwrap();
            data.reading(&meter, 1_700_000_000)
        })
    });
    let t = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
    g.bench_function("simulation evolve", |b| {
        b.iter(|| evolve(black_box(&frame), 7, t))
    });
    g.finish();
}

fn config(c: &mut Criterion) {
    let mut config = Config::default();
    let builtin = Template::builtin();
    for i in 0..250u32 {
        let found = DiscoveredMeter {
            primary: Some((i % 250) as u8),
            secondary: Some(format!("{:08}2D2C0104", 10_000_000 + i).parse().unwrap()),
            baud: BaudRate::B2400,
            telegrams: vec![telegram()],
        };
        config
            .meters
            .push(meter_from_found(i + 1, &found, &[], &builtin));
    }
    let text = config.to_json();
    let mut g = c.benchmark_group("config (250 meters)");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("from_json (parse + validate)", |b| {
        b.iter(|| Config::from_json(black_box(&text)).unwrap())
    });
    g.finish();
}

fn read_cycle(c: &mut Criterion) {
    let start = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.bench_function("one read cycle, 20 simulated meters at 9600 baud", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let sim = SimInstallation::new(20, 3, BaudRate::B9600, &[]);
                let (logger, _clock, _) =
                    support::scanned_logger(dir.path(), sim, start, |config| {
                        config.general.default_cycle = ReadCycle::S10;
                    });
                (dir, logger)
            },
            |(dir, mut logger)| {
                let due = logger.next_due().unwrap();
                logger.run_until(due + Duration::seconds(1)).unwrap();
                drop(dir);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, grid, readout, config, read_cycle);
criterion_main!(benches);
