//! Storage round trips, range queries, merges and deletion.

use logger_core::storage::{
    Decimal, MeterId, Reading, StorageError, Store, SyntheticInstallation, MAX_TIME, MAX_VALUES,
};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("readings.sqlite3")).unwrap();
    (dir, store)
}

fn d(text: &str) -> Option<Decimal> {
    Some(text.parse().unwrap())
}

fn reading(meter: u32, time: i64, values: Vec<Option<Decimal>>) -> Reading {
    Reading {
        meter: MeterId(meter),
        time,
        status: 0,
        values,
    }
}

fn all(store: &Store, meter: u32) -> Vec<Reading> {
    store
        .readings(MeterId(meter), 0, i64::MAX)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn values_round_trip_exactly() {
    let (_dir, mut store) = store();
    let readings = vec![
        reading(
            1,
            1_000,
            vec![d("12.50"), None, d("-0.007"), d("9223372036854775807")],
        ),
        reading(
            1,
            1_900,
            vec![d("12.75"), d("1e5"), d("-0.008"), d("-9223372036854775808")],
        ),
        reading(1, 2_800, vec![None, d("100000"), d("3.1"), d("0")]),
        reading(1, 3_700, vec![d("13"), d("100001"), d("3.100"), d("0.000")]),
        reading(1, 4_600, vec![]),
        reading(1, 5_500, vec![d("14"), None, None, None, d("1e-30")]),
        Reading {
            status: 0x84,
            ..reading(1, 6_400, vec![d("14")])
        },
        reading(1, 7_300, vec![d("14")]),
    ];
    for r in &readings {
        store.append(r).unwrap();
    }
    let back = all(&store, 1);
    assert_eq!(back, readings);
    assert_eq!(back[0].values[0].unwrap().to_string(), "12.50");
    assert_eq!(back[3].values[3].unwrap().to_string(), "0.000");
    assert_eq!(
        store.last_reading(MeterId(1)).unwrap().as_ref(),
        readings.last()
    );
    assert_eq!(store.reading_count(MeterId(1)).unwrap(), 8);
    store.integrity_check().unwrap();
}

#[test]
fn values_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("readings.sqlite3");
    let site = SyntheticInstallation {
        meters: 3,
        registers: 7,
        interval: 900,
        start: 1_700_000_000,
    };
    let mut expected = Vec::new();
    {
        let mut store = Store::open(&path).unwrap();
        for m in 0..3 {
            let batch = site.batch(MeterId(m), 0, 500);
            store.append_batch(&batch).unwrap();
            expected.push(batch);
        }
    }
    let store = Store::open_existing(&path).unwrap();
    for (m, batch) in expected.iter().enumerate() {
        assert_eq!(&all(&store, m as u32), batch);
    }
    assert_eq!(
        store.meters().unwrap(),
        vec![MeterId(0), MeterId(1), MeterId(2)]
    );
    let stats = store.stats().unwrap();
    assert_eq!(stats.readings, 1500);
    let present: usize = expected
        .iter()
        .flatten()
        .map(|r| r.values.iter().flatten().count())
        .sum();
    assert_eq!(stats.values, present as u64);
    store.integrity_check().unwrap();
}

#[test]
fn range_queries_return_exactly_the_range() {
    let (_dir, mut store) = store();
    let site = SyntheticInstallation {
        meters: 2,
        registers: 3,
        interval: 60,
        start: 10_000,
    };
    for m in 0..2 {
        store
            .append_batch(&site.batch(MeterId(m), 0, 1_000))
            .unwrap();
    }
    let times = |from, to| -> Vec<i64> {
        store
            .readings(MeterId(1), from, to)
            .unwrap()
            .map(|r| r.unwrap().time)
            .collect()
    };
    let expect =
        |first: i64, last: i64| -> Vec<i64> { (first..=last).map(|k| 10_000 + k * 60).collect() };
    assert_eq!(times(0, i64::MAX), expect(0, 999));
    // Boundaries: `from` inclusive, `to` exclusive, ranges inside and across chunks.
    assert_eq!(times(10_060, 10_180), expect(1, 2));
    assert_eq!(times(10_059, 10_181), expect(1, 3));
    assert_eq!(times(10_000 + 95 * 60, 10_000 + 400 * 60), expect(95, 399));
    assert_eq!(times(10_000 + 999 * 60, i64::MAX), expect(999, 999));
    assert!(times(0, 10_000).is_empty());
    assert!(times(10_001, 10_059).is_empty());
    assert!(times(10_000 + 1000 * 60, i64::MAX).is_empty());
    assert!(times(20_000, 10_000).is_empty());
    assert!(store
        .readings(MeterId(9), 0, i64::MAX)
        .unwrap()
        .next()
        .is_none());
    let first = store
        .readings(MeterId(1), 10_120, 10_121)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(first, site.reading(MeterId(1), 2));
    // The reading valid at a moment: the latest at or before it.
    let at = |time| store.reading_at(MeterId(1), time).unwrap().map(|r| r.time);
    assert_eq!(at(10_000 + 500 * 60 + 59), Some(10_000 + 500 * 60));
    assert_eq!(at(10_000 + 96 * 60), Some(10_000 + 96 * 60));
    assert_eq!(at(9_999), None);
    assert_eq!(at(i64::MAX), Some(10_000 + 999 * 60));
}

#[test]
fn late_and_repeated_readings_merge_into_history() {
    let (_dir, mut store) = store();
    let site = SyntheticInstallation {
        meters: 1,
        registers: 4,
        interval: 900,
        start: 1_000_000,
    };
    let m = MeterId(0);
    // Odd readings first, in live order, then the even ones late, shuffled across batches.
    for k in (1..400).step_by(2) {
        store.append(&site.reading(m, k)).unwrap();
    }
    let evens: Vec<Reading> = (0..200u64).rev().map(|k| site.reading(m, 2 * k)).collect();
    for batch in evens.chunks(37) {
        store.append_batch(batch).unwrap();
    }
    let expected: Vec<Reading> = (0..400).map(|k| site.reading(m, k)).collect();
    assert_eq!(all(&store, 0), expected);
    // Same time again replaces; within one batch the last one wins.
    let mut fixed = site.reading(m, 100);
    fixed.values = vec![d("1"), None];
    let mut fixed_again = fixed.clone();
    fixed_again.values = vec![d("2"), None];
    store
        .append_batch(&[fixed.clone(), fixed_again.clone()])
        .unwrap();
    let back = all(&store, 0);
    assert_eq!(back.len(), 400);
    assert_eq!(back[100], fixed_again);
    assert_eq!(back[99], expected[99]);
    assert_eq!(back[101], expected[101]);
    store.integrity_check().unwrap();
}

#[test]
fn deleting_a_meter_removes_only_its_history() {
    let (_dir, mut store) = store();
    let site = SyntheticInstallation {
        meters: 3,
        registers: 2,
        interval: 900,
        start: 0,
    };
    for m in 0..3 {
        store.append_batch(&site.batch(MeterId(m), 0, 300)).unwrap();
    }
    assert_eq!(store.delete_meter(MeterId(1)).unwrap(), 300);
    assert!(all(&store, 1).is_empty());
    assert_eq!(store.last_reading(MeterId(1)).unwrap(), None);
    assert_eq!(store.reading_count(MeterId(0)).unwrap(), 300);
    assert_eq!(all(&store, 2), site.batch(MeterId(2), 0, 300));
    assert_eq!(store.delete_meter(MeterId(1)).unwrap(), 0);
    assert_eq!(store.meters().unwrap(), vec![MeterId(0), MeterId(2)]);
    // A meter re-created with the same id starts empty.
    store.append(&site.reading(MeterId(1), 7)).unwrap();
    assert_eq!(all(&store, 1), vec![site.reading(MeterId(1), 7)]);
}

#[test]
fn bad_readings_are_rejected_and_nothing_is_stored() {
    let (_dir, mut store) = store();
    let good = reading(1, 100, vec![d("1")]);
    let late = reading(1, MAX_TIME + 1, vec![d("1")]);
    let err = store.append_batch(&[good.clone(), late]).unwrap_err();
    assert!(
        matches!(err, StorageError::TimeOutOfRange { time, .. } if time == MAX_TIME + 1),
        "{err}"
    );
    assert!(err.to_string().contains("meter 1"), "{err}");
    let wide = reading(2, 100, vec![None; MAX_VALUES + 1]);
    let err = store.append_batch(&[good, wide]).unwrap_err();
    assert!(matches!(err, StorageError::TooManyValues { count, .. } if count == MAX_VALUES + 1));
    assert!(matches!(
        store.append(&reading(1, -1, vec![])),
        Err(StorageError::TimeOutOfRange { .. })
    ));
    // The store keeps mantissas of 64 bits and powers of ten in -128..=127.
    let huge = reading(3, 100, vec![None, d("92233720368547758071")]);
    let err = store.append(&huge).unwrap_err();
    assert!(
        matches!(err, StorageError::ValueOutOfRange { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("92233720368547758071"), "{err}");
    assert!(matches!(
        store.append(&reading(3, 100, vec![d("1e200")])),
        Err(StorageError::ValueOutOfRange { index: 0, .. })
    ));
    assert_eq!(store.stats().unwrap().readings, 0);
}

#[test]
fn foreign_and_missing_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing.sqlite3");
    assert!(matches!(
        Store::open_existing(&missing),
        Err(StorageError::Missing(_))
    ));
    let foreign = dir.path().join("other.sqlite3");
    write_foreign_database(&foreign);
    let err = Store::open(&foreign).unwrap_err();
    assert!(
        matches!(err, StorageError::NotReadingsDatabase { .. }),
        "{err}"
    );
    let newer = dir.path().join("newer.sqlite3");
    drop(Store::open(&newer).unwrap());
    let mut bytes = std::fs::read(&newer).unwrap();
    bytes[60..64].copy_from_slice(&2u32.to_be_bytes()); // user_version
    std::fs::write(&newer, bytes).unwrap();
    let err = Store::open(&newer).unwrap_err();
    assert!(
        matches!(err, StorageError::SchemaVersion { found: 2, .. }),
        "{err}"
    );
    let garbage = dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, vec![0x55; 8192]).unwrap();
    let err = Store::open(&garbage).unwrap_err();
    assert!(matches!(err, StorageError::Open { .. }), "{err}");
    assert!(err.to_string().contains("garbage.sqlite3"), "{err}");
}

/// Makes an SQLite database of another application by writing a readings database and
/// changing its application id with a raw page edit (offset 68 of the header).
fn write_foreign_database(path: &std::path::Path) {
    drop(Store::open(path).unwrap());
    let mut bytes = std::fs::read(path).unwrap();
    bytes[68..72].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn many_meters_stay_compact() {
    let (_dir, mut store) = store();
    let site = SyntheticInstallation {
        meters: 20,
        registers: 10,
        interval: 900,
        start: 1_700_000_000,
    };
    // Live order: one read cycle of all meters per transaction.
    for k in 0..288 {
        let cycle: Vec<Reading> = (0..20).map(|m| site.reading(MeterId(m), k)).collect();
        store.append_batch(&cycle).unwrap();
    }
    store.checkpoint().unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.readings, 20 * 288);
    assert!(
        stats.bytes_per_value() <= 8.0,
        "{} bytes per value",
        stats.bytes_per_value()
    );
    store.integrity_check().unwrap();
}

mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn value() -> impl Strategy<Value = Option<Decimal>> {
        prop_oneof![
            1 => Just(None),
            6 => (-5_000i64..5_000, -3i8..1).prop_map(|(m, e)| Some(Decimal::new(m.into(), e.into()))),
            1 => (any::<i64>(), any::<i8>()).prop_map(|(m, e)| Some(Decimal::new(m.into(), e.into()))),
        ]
    }

    fn reading() -> impl Strategy<Value = Reading> {
        (
            0u32..3,
            0i64..3_000,
            any::<u8>(),
            prop::collection::vec(value(), 0..5),
        )
            .prop_map(|(meter, slot, status, values)| Reading {
                meter: MeterId(meter),
                time: 1_000_000 + slot * 60,
                status: u32::from(status % 4),
                values,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Batches of readings in any order, with repeats, behave like a map keyed by
        /// (meter, time) where the last write wins.
        #[test]
        fn store_behaves_like_a_map(
            batches in prop::collection::vec(prop::collection::vec(reading(), 1..150), 1..12),
            from in 0i64..3_000,
            len in 0i64..3_000,
        ) {
            let (_dir, mut store) = store();
            let mut model = BTreeMap::new();
            for batch in &batches {
                store.append_batch(batch).unwrap();
                for r in batch {
                    model.insert((r.meter, r.time), r.clone());
                }
            }
            store.integrity_check().unwrap();
            let (from, to) = (1_000_000 + from * 60, 1_000_000 + (from + len) * 60);
            for meter in 0..3 {
                let expected: Vec<&Reading> = model.values().filter(|r| r.meter == MeterId(meter)).collect();
                let stored = all(&store, meter);
                prop_assert_eq!(stored.iter().collect::<Vec<_>>(), expected.clone());
                prop_assert_eq!(store.reading_count(MeterId(meter)).unwrap(), expected.len() as u64);
                let last = store.last_reading(MeterId(meter)).unwrap();
                prop_assert_eq!(last.as_ref(), expected.last().copied());
                let ranged: Vec<Reading> = store
                    .readings(MeterId(meter), from, to)
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let at = store.reading_at(MeterId(meter), from).unwrap();
                prop_assert_eq!(at.as_ref(), expected.iter().rev().find(|r| r.time <= from).copied());
                let expected_range: Vec<&Reading> =
                    expected.into_iter().filter(|r| (from..to).contains(&r.time)).collect();
                prop_assert_eq!(ranged.iter().collect::<Vec<_>>(), expected_range);
            }
        }
    }
}

#[test]
fn damaged_chunks_are_reported_not_returned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("readings.sqlite3");
    let site = SyntheticInstallation {
        meters: 2,
        registers: 3,
        interval: 900,
        start: 1_000_000,
    };
    let mut store = Store::open(&path).unwrap();
    for m in 0..2 {
        store.append_batch(&site.batch(MeterId(m), 0, 300)).unwrap();
    }
    store.integrity_check().unwrap();
    // Cut the data of meter 1's second chunk in the middle of a record.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let start: i64 = raw
        .query_row(
            "SELECT start FROM chunk WHERE meter = 1 ORDER BY start LIMIT 1 OFFSET 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    raw.execute(
        "UPDATE chunk SET data = substr(data, 1, 7) WHERE meter = 1 AND start = ?1",
        [start],
    )
    .unwrap();
    drop(raw);
    let err = store.integrity_check().unwrap_err();
    assert!(
        matches!(err, StorageError::Corrupt { meter: MeterId(1), start: s, .. } if s == start),
        "{err}"
    );
    assert!(err.to_string().contains("meter 1"), "{err}");
    // Readings before the damage come back; then one error, then the end.
    let results: Vec<_> = store.readings(MeterId(1), 0, i64::MAX).unwrap().collect();
    let good = results.iter().take_while(|r| r.is_ok()).count();
    assert!((1..300).contains(&good), "{good}");
    assert!(results[good].is_err());
    assert_eq!(results.len(), good + 1);
    // The other meter is unaffected.
    assert_eq!(all(&store, 0), site.batch(MeterId(0), 0, 300));
}
