//! Crash safety: a writer process is killed with SIGKILL at random points; afterwards the
//! database must pass its integrity check and hold every reading the writer reported as
//! committed, and nothing else than whole, correct readings.
//!
//! The test re-runs its own binary as the writer (selected by an environment variable).

use logger_core::storage::{MeterId, Reading, Store, SyntheticInstallation};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

const TEST_NAME: &str = "sigkill_loses_at_most_the_reading_in_flight";
const CHILD_DB: &str = "LOGGER_CORE_CRASH_WRITER_DB";
const CHILD_SEED: &str = "LOGGER_CORE_CRASH_WRITER_SEED";
const METERS: u32 = 4;
const ROUNDS: u64 = 30;

const SITE: SyntheticInstallation = SyntheticInstallation {
    meters: METERS,
    registers: 6,
    interval: 60,
    start: 1_700_000_000,
};

/// Deterministic pseudo-random numbers.
type Rng = mbus_link::sim::SimRng;

fn index_of(reading: &Reading) -> u64 {
    ((reading.time - SITE.start) / SITE.interval) as u64
}

#[test]
fn sigkill_loses_at_most_the_reading_in_flight() {
    if let (Ok(db), Ok(seed)) = (std::env::var(CHILD_DB), std::env::var(CHILD_SEED)) {
        write_until_killed(Path::new(&db), seed.parse().unwrap());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("readings.sqlite3");
    let mut rng = Rng::new(0x5EED);
    let mut committed: Vec<Option<u64>> = vec![None; METERS as usize];
    let mut reports = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_DB, &db)
            .env(CHILD_SEED, (round * 7919 + 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let kill_after = 1 + rng.below(400);
        let mut seen = 0;
        let mut killed = false;
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Lines still in the pipe after the kill were written after their commit: they count.
        for line in lines {
            let line = line.unwrap();
            let Some(report) = line.strip_prefix("committed ") else {
                continue;
            };
            let (meter, index) = report.split_once(' ').unwrap();
            let (meter, index): (usize, u64) = (meter.parse().unwrap(), index.parse().unwrap());
            committed[meter] = committed[meter].max(Some(index));
            reports += 1;
            seen += 1;
            if seen == kill_after && !killed {
                child.kill().unwrap();
                killed = true;
            }
        }
        let status = child.wait().unwrap();
        assert!(killed, "writer of round {round} ended on its own: {status}");
    }
    assert!(reports >= ROUNDS, "writers reported only {reports} commits");

    let store = Store::open(&db).unwrap();
    store.integrity_check().unwrap();
    for meter in 0..METERS {
        let stored: Vec<Reading> = store
            .readings(MeterId(meter), 0, i64::MAX)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // Whole, correct readings without gaps, from the first up to at least the last one
        // reported committed.
        for (k, reading) in stored.iter().enumerate() {
            assert_eq!(
                reading,
                &SITE.reading(MeterId(meter), k as u64),
                "meter {meter}"
            );
        }
        let last = stored.last().map(index_of);
        assert!(
            last >= committed[meter as usize],
            "meter {meter}: stored up to {last:?}, committed up to {:?}",
            committed[meter as usize]
        );
    }
}

/// The writer: continues each meter's series where the store left it, in transactions of
/// random shape (one reading, one read cycle of all meters, a bulk batch, a rewrite of an
/// older reading), and reports each commit on stdout.
fn write_until_killed(db: &Path, seed: u64) {
    let mut store = Store::open(db).unwrap();
    let mut rng = Rng::new(seed);
    let mut next: Vec<u64> = (0..METERS)
        .map(|m| {
            store
                .last_reading(MeterId(m))
                .unwrap()
                .map_or(0, |r| index_of(&r) + 1)
        })
        .collect();
    let mut stdout = std::io::stdout();
    // Bounded so that a writer never outlives a failed test run.
    for _ in 0..100_000 {
        let mut batch = Vec::new();
        match rng.below(4) {
            0 => {
                let m = rng.below(u64::from(METERS)) as u32;
                batch.push(SITE.reading(MeterId(m), next[m as usize]));
            }
            1 => {
                for m in 0..METERS {
                    batch.push(SITE.reading(MeterId(m), next[m as usize]));
                }
            }
            2 => {
                let m = rng.below(u64::from(METERS)) as u32;
                let count = 1 + rng.below(300);
                batch = SITE.batch(MeterId(m), next[m as usize], count);
            }
            _ => {
                let m = rng.below(u64::from(METERS)) as u32;
                let next_index = next[m as usize];
                if next_index > 0 {
                    batch.push(SITE.reading(MeterId(m), rng.below(next_index)));
                }
                batch.push(SITE.reading(MeterId(m), next_index));
            }
        }
        store.append_batch(&batch).unwrap();
        for reading in &batch {
            let k = index_of(reading);
            let slot = &mut next[reading.meter.0 as usize];
            *slot = (*slot).max(k + 1);
            writeln!(stdout, "committed {} {k}", reading.meter).unwrap();
        }
        stdout.flush().unwrap();
    }
}
