//! Upload spool: writing files into the spool, delivering the spool to a local FTP server
//! (pyftpdlib, started here like in the tests), and the memory a spool of 10 000 pending
//! files holds (counted by a global allocator, printed once).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logger_core::upload::ftp::{FtpSettings, FtpTarget};
use logger_core::upload::spool::Spool;
use logger_core::upload::Target;
use std::time::{Duration, Instant};

#[path = "../logger-core/tests/servers/mod.rs"]
mod servers;

// Counts the bytes live on the heap and their peak (the workspace's one counting allocator).
#[global_allocator]
static ALLOCATOR: alloc_counter::Counting = alloc_counter::Counting;

/// A CSV file of one reading of a meter with 12 registers, about as big as a real one.
fn file() -> Vec<u8> {
    let mut s = String::from("Zeit;Status");
    for i in 0..12 {
        s.push_str(&format!(";Register {i} [kWh]"));
    }
    s.push_str("\r\n04.05.2026 08:00:00;0");
    for i in 0..12 {
        s.push_str(&format!(";{}.{:03}", 12_345 + i, i));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

fn name(i: usize) -> String {
    format!("{}-{:08}-20260504080000.csv", i % 250 + 1, 41_284_000 + i)
}

fn spool_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = file();
    {
        let mut spool = Spool::open(dir.path(), 20_000).unwrap();
        for i in 0..10_000 {
            spool.push(&name(i), &bytes).unwrap();
        }
    }
    let before = alloc_counter::live_bytes();
    let spool = Spool::open(dir.path(), 20_000).unwrap();
    let held = alloc_counter::live_bytes() - before;
    alloc_counter::reset_peak();
    let base = alloc_counter::live_bytes();
    let pending = spool.pending().unwrap();
    let listing_peak = alloc_counter::peak_bytes() - base;
    assert_eq!(pending.len(), 10_000);
    eprintln!(
        "spool of 10000 pending files: {held} bytes held by the open spool; \
         {listing_peak} bytes peak while listing it oldest first"
    );
}

fn push(c: &mut Criterion) {
    spool_memory();
    let bytes = file();
    let mut g = c.benchmark_group("spool");
    g.throughput(Throughput::Elements(100));
    g.sample_size(10);
    g.bench_function("push 100 files (fsync, rename)", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let mut spool = Spool::open(dir.path(), 1_000).unwrap();
                for i in 0..100 {
                    spool.push(&name(i), &bytes).unwrap();
                }
                dir
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn deliver(c: &mut Criterion) {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let server = servers::ftp(&root, 0, None);
    let bytes = file();
    let mut target = FtpTarget::new(FtpSettings {
        host: "127.0.0.1".into(),
        port: server.port,
        username: "logger".into(),
        password: "secret".into(),
        path: "/".into(),
        tls: None,
        timeout: Duration::from_secs(10),
    });
    let mut g = c.benchmark_group("spool to FTP");
    g.throughput(Throughput::Elements(100));
    g.sample_size(10);
    g.bench_function(
        "deliver 100 files (size check, STOR .part, RNFR/RNTO)",
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for round in 0..iters {
                    let dir = tempfile::tempdir().unwrap();
                    let mut spool = Spool::open(dir.path(), 1_000).unwrap();
                    for i in 0..100 {
                        spool.push(&format!("{round}-{}", name(i)), &bytes).unwrap();
                    }
                    let start = Instant::now();
                    for entry in spool.pending().unwrap() {
                        let data = std::fs::read(&entry.path).unwrap();
                        target.deliver(&entry.name, &data).unwrap();
                        spool.remove(&entry).unwrap();
                    }
                    total += start.elapsed();
                    for item in std::fs::read_dir(&root).unwrap() {
                        let path = item.unwrap().path();
                        if path.is_file() {
                            std::fs::remove_file(path).unwrap();
                        }
                    }
                }
                total
            })
        },
    );
    g.finish();
    target.close();
}

criterion_group!(benches, push, deliver);
criterion_main!(benches);
