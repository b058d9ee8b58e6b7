//! Storage and export throughput: bulk ingest, live read cycles, range queries, export.

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logger_core::export::{export_zip, CsvLayout, ExportOptions, Filter, Format, Separator};
use logger_core::storage::{MeterId, Reading, Store, SyntheticInstallation};
use std::hint::black_box;

const SITE: SyntheticInstallation = SyntheticInstallation {
    meters: 20,
    registers: 10,
    interval: 900,
    start: 1_704_067_200,
};
const DAY: u64 = 96;

fn values(readings: &[Reading]) -> u64 {
    readings
        .iter()
        .map(|r| r.values.iter().flatten().count() as u64)
        .sum()
}

/// A store holding `days` days of the site.
fn filled(days: u64) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("readings.sqlite3")).unwrap();
    for m in 0..SITE.meters {
        store
            .append_batch(&SITE.batch(MeterId(m), 0, days * DAY))
            .unwrap();
    }
    (dir, store)
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("storage/ingest");
    // Bulk: one day of all meters per transaction, appended after what is stored.
    let (_dir, mut store) = filled(0);
    let mut day = 0;
    let batch = |day: u64| -> Vec<Reading> {
        (0..SITE.meters)
            .flat_map(|m| SITE.batch(MeterId(m), day * DAY, DAY))
            .collect()
    };
    group.throughput(Throughput::Elements(values(&batch(0))));
    group.bench_function("day_of_20_meters", |b| {
        b.iter_batched(
            || {
                day += 1;
                batch(day)
            },
            |readings| store.append_batch(&readings).unwrap(),
            BatchSize::LargeInput,
        )
    });
    // Live: one read cycle (one reading of every meter) per transaction.
    let mut k = 0;
    let cycle = |k: u64| -> Vec<Reading> {
        (0..SITE.meters)
            .map(|m| SITE.reading(MeterId(m), k))
            .collect()
    };
    group.throughput(Throughput::Elements(values(&cycle(0))));
    let (_dir, mut live) = filled(0);
    group.bench_function("read_cycle_of_20_meters", |b| {
        b.iter_batched(
            || {
                k += 1;
                cycle(k)
            },
            |readings| live.append_batch(&readings).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn query(c: &mut Criterion) {
    let (_dir, store) = filled(60);
    let mut group = c.benchmark_group("storage/query");
    let month: Vec<Reading> = store
        .readings(MeterId(3), SITE.start, SITE.start + 30 * 86_400)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    group.throughput(Throughput::Elements(values(&month)));
    group.bench_function("one_meter_one_month", |b| {
        b.iter(|| {
            let readings = store
                .readings(MeterId(3), SITE.start, SITE.start + 30 * 86_400)
                .unwrap();
            black_box(readings.map(|r| r.unwrap().values.len()).sum::<usize>())
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("last_reading", |b| {
        b.iter(|| black_box(store.last_reading(MeterId(3)).unwrap()))
    });
    group.finish();
}

fn export(c: &mut Criterion) {
    let (_dir, store) = filled(30);
    let meters = SITE.meter_descriptors();
    let options = |format| ExportOptions {
        from: 0,
        to: i64::MAX,
        format,
        filter: Filter::All,
        time_zone: chrono_tz::Europe::Berlin,
        exported_at: Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap(),
    };
    let mut group = c.benchmark_group("export");
    group.sample_size(10);
    group.throughput(Throughput::Elements(store.stats().unwrap().values));
    let formats = [
        (
            "csv_standard",
            Format::Csv {
                layout: CsvLayout::Standard,
                separator: Separator::Semicolon,
            },
        ),
        (
            "csv_full_db",
            Format::Csv {
                layout: CsvLayout::FullDb,
                separator: Separator::Comma,
            },
        ),
        ("json", Format::Json),
    ];
    for (name, format) in formats {
        let options = options(format);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = std::io::Cursor::new(Vec::with_capacity(16 << 20));
                black_box(export_zip(&store, &meters, &options, &mut out).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ingest, query, export);
criterion_main!(benches);
