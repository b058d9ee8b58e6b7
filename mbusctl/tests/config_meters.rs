//! `mbusctl config export|import|modbus-map` and `mbusctl meters` on a logger data directory.

mod support;

use logger_core::config::{Config, ConfigStore};
use logger_core::status::StatusBoard;
use support::mbusctl;

fn data_dir(dir: &std::path::Path) -> Config {
    let config = Config {
        meters: serde_json::from_str(
            r#"[{"id": 1, "name": "Wohnung 12a", "addressing": "secondary", "primary": 0,
                 "secondary": "000412842D2C1002",
                 "registers": [{"index": 1, "name": "Energy", "meter_unit": "Wh", "unit": "kWh", "divisor": 1000}]},
                {"id": 2, "name": "Heizung", "addressing": "primary", "primary": 7, "baud": 9600}]"#,
        )
        .unwrap(),
        ..Config::default()
    };
    ConfigStore::new(dir).save(&config).unwrap();
    let mut board = StatusBoard::default();
    board.record_failure(2, chrono::Utc::now(), "no reply");
    board.save(dir).unwrap();
    config
}

#[test]
fn export_then_import_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let config = data_dir(dir.path());
    let backup = dir.path().join("backup.json");
    let out = mbusctl(&[
        "config",
        "export",
        "--data-dir",
        dir.path().to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let other = tempfile::tempdir().unwrap();
    let out = mbusctl(&[
        "config",
        "import",
        "--data-dir",
        other.path().to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        ConfigStore::new(other.path()).load_or_default().unwrap(),
        config
    );
}

#[test]
fn a_bad_import_changes_nothing_and_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let before = std::fs::read(dir.path().join("config.json")).unwrap();
    let bad = dir.path().join("bad.json");
    let text = String::from_utf8(before.clone())
        .unwrap()
        .replace("\"divisor\": 1000.0", "\"divisor\": 0.0");
    std::fs::write(&bad, text).unwrap();
    let out = mbusctl(&[
        "config",
        "import",
        "--data-dir",
        dir.path().to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing changed"), "{err}");
    assert!(
        err.contains("meters[0].registers[0].divisor: must be non-zero"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("config.json")).unwrap(),
        before
    );
}

#[test]
fn meters_lists_names_addresses_and_status() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let out = mbusctl(&["meters", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[2].contains("Wohnung 12a")
            && lines[2].contains("000412842D2C1002 KAM")
            && lines[2].contains("never read"),
        "{text}"
    );
    assert!(
        lines[3].contains("Heizung")
            && lines[3].contains("primary 7")
            && lines[3].contains("failed")
    );
    assert_eq!(lines[4], "2 meter(s)");
    let out = mbusctl(&[
        "meters",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[1]["status"]["status"], "failed");
    assert_eq!(json[0]["cycle"], "15min");
    // The address as libmbus writes it, the manufacturer's letters beside it.
    assert_eq!(json[0]["secondary"], "000412842D2C1002");
    assert_eq!(json[0]["manufacturer"], "KAM");
    assert_eq!(json[1]["manufacturer"], serde_json::Value::Null);
}

#[test]
fn meters_shows_the_e_mail_status_when_alarms_run() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let meters = || {
        let out = mbusctl(&["meters", "--data-dir", dir.path().to_str().unwrap()]);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(!meters().contains("e-mail"), "no alarms, no e-mail line");
    let mut board = StatusBoard::load(dir.path());
    let t = chrono::DateTime::parse_from_rfc3339("2026-01-31T16:44:12Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    board.email = Some(logger_core::status::EmailStatus {
        last_sent: Some(t),
        last_error: Some("connecting to mail.example.org:25: connection refused".into()),
        last_error_at: Some(t),
        queued: 2,
        sent: 5,
        failed_attempts: 4,
        dropped: 1,
    });
    board.save(dir.path()).unwrap();
    let text = meters();
    assert!(
        text.contains(
            "e-mail: 5 sent (last 31.01.2026 17:44:12), 2 queued, 4 failed attempt(s), 1 dropped"
        ),
        "{text}"
    );
    assert!(text.contains(
        "e-mail last error (31.01.2026 17:44:12): connecting to mail.example.org:25: connection refused"
    ));
}

#[test]
fn events_lists_the_log_newest_first() {
    use logger_core::events::{EventCode, EventLog};
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let t = chrono::DateTime::parse_from_rfc3339("2026-01-31T16:44:12Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut log = EventLog::open(dir.path(), 1000).unwrap();
    log.record(EventCode::Start, None, "Logger start", t)
        .unwrap();
    let id = log
        .record(
            EventCode::MeterReadFailed,
            Some(2),
            "Meter 7, Heizung: read failed (no reply)",
            t,
        )
        .unwrap();
    log.went(id, t + chrono::Duration::minutes(15)).unwrap();
    let out = mbusctl(&["events", "--data-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    // Berlin time: UTC+1 in January.
    assert!(
        lines[1].starts_with("  8  M-Bus   W    31.01.2026 - 17:44:12  31.01.2026 - 17:59:12"),
        "{text}"
    );
    assert!(lines[1].ends_with("read failed (no reply)"));
    assert!(lines[2].contains("Logger start"));
    assert_eq!(lines[3], "2 of 2 entries");
    let out = mbusctl(&[
        "events",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--json",
        "--limit",
        "1",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["code"], "meter_read_failed");
}

#[test]
fn modbus_map_lists_each_value_at_its_block_address() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let out = mbusctl(&[
        "config",
        "modbus-map",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert_eq!(
        lines[1],
        "1,Wohnung 12a,000412842D2C1002,0,0,0,2,1,Energy,kWh,8,10,-3,high_first"
    );
    assert_eq!(lines[2], "2,Heizung,,1,128,128,130,,,,,,,high_first");
    // The numbering it used is stored for the servers.
    assert!(dir
        .path()
        .join(logger_core::meter_index::INDEX_FILE)
        .is_file());
}
