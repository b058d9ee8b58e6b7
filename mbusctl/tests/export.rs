//! `mbusctl export` and `mbusctl bench logger` against a data directory made with logger-core.

mod support;

use logger_core::config::{Config, ConfigStore};
use logger_core::storage::{MeterId, Reading, Store, DATABASE_FILE_NAME};
use std::path::Path;
use support::mbusctl;

/// A data directory with one meter (id 3, "Flat 3") read on 2024-05-01 and 2024-05-02.
fn data_dir(dir: &Path) {
    let config = Config {
        meters: serde_json::from_str(
            r#"[{"id": 3, "name": "Flat 3", "addressing": "primary", "primary": 12,
                 "registers": [{"index": 0, "name": "Energy", "unit": "kWh", "divisor": 1000}]}]"#,
        )
        .unwrap(),
        ..Config::default()
    };
    ConfigStore::new(dir).save(&config).unwrap();
    let mut store = Store::open(dir.join(DATABASE_FILE_NAME)).unwrap();
    for (time, value) in [(1_714_557_600, "1.250"), (1_714_644_000, "2.500")] {
        store
            .append(&Reading {
                meter: MeterId(3),
                time,
                status: 0,
                values: vec![Some(value.parse().unwrap())],
            })
            .unwrap();
    }
}

#[test]
fn export_writes_a_zip_with_one_file_per_meter() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let out = dir.path().join("out.zip");
    let data = dir.path().to_str().unwrap();
    let output = mbusctl(&[
        "export",
        "--data-dir",
        data,
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-31",
        "--format",
        "csv",
        "--filter",
        "day",
        "--csv-options",
        "full",
        "--separator",
        "tab",
        "--meter",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("DataExport_12_Flat 3_"), "{stdout}");
    assert!(stdout.contains("2 readings\t2 values"), "{stdout}");
    let zip = std::fs::read(&out).unwrap();
    assert_eq!(&zip[..4], b"PK\x03\x04");

    // Nothing in range: an archive without files, said so.
    let output = mbusctl(&[
        "export",
        "--data-dir",
        data,
        "--from",
        "2023-01-01",
        "--to",
        "2023-01-31",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("no readings in the range"));
}

#[test]
fn export_refuses_bad_requests_with_distinct_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let data = dir.path().to_str().unwrap();
    let out = dir.path().join("out.zip");
    let out = out.to_str().unwrap();
    let unknown = mbusctl(&[
        "export",
        "--data-dir",
        data,
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-31",
        "--meter",
        "99",
        "--out",
        out,
    ]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("meter 99 is not configured"));
    let bad_date = mbusctl(&[
        "export",
        "--data-dir",
        data,
        "--from",
        "01.05.2024",
        "--to",
        "2024-05-31",
        "--out",
        out,
    ]);
    assert_eq!(bad_date.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_date.stderr).contains("01.05.2024"));
    let empty = tempfile::tempdir().unwrap();
    let no_db = mbusctl(&[
        "export",
        "--data-dir",
        empty.path().to_str().unwrap(),
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-31",
        "--out",
        out,
    ]);
    assert_eq!(no_db.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_db.stderr).contains("does not exist"));
    assert!(!Path::new(out).exists());
}

#[test]
fn bench_logger_reports_ingest_size_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let output = mbusctl(&[
        "bench",
        "logger",
        "--meters",
        "3",
        "--days",
        "2",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // 3 meters x 192 readings x 10 registers, less the synthetic gaps.
    let ingest = stdout
        .lines()
        .find(|l| l.starts_with("ingest: "))
        .expect(&stdout);
    let values: u64 = ingest["ingest: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((5_700..=5_760).contains(&values), "{ingest}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("disk: ") && l.ends_with("bytes/value")),
        "{stdout}"
    );
    let export = stdout
        .lines()
        .find(|l| l.starts_with("export "))
        .expect(&stdout);
    assert!(export.contains(&format!("{values} values")), "{export}");
    assert!(export.contains("3 files"), "{export}");
}
