//! `mbusctl test-upload` against a local FTP server (pyftpdlib) and `mbusctl status`.

mod support;

use support::mbusctl;
#[path = "../../logger-core/tests/servers/mod.rs"]
mod servers;

use logger_core::config::{Config, ConfigStore, UploadProtocol};
use logger_core::fleet::SinkStatus;
use logger_core::upload::{TargetStatus, UploadStatus};
use std::path::Path;

fn configure(dir: &Path, port: u16, password: &str) {
    let mut config = Config::default();
    let file = &mut config.uploads.file;
    file.enabled = true;
    file.protocol = UploadProtocol::Ftp;
    file.server = "127.0.0.1".into();
    file.port = port;
    file.username = "logger".into();
    file.password = password.into();
    ConfigStore::new(dir).save(&config).unwrap();
}

#[test]
fn test_upload_reports_each_step_and_exits_by_outcome() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = servers::ftp(&root, 0, None);
    let dir = data.to_str().unwrap();

    configure(&data, server.port, "secret");
    let out = mbusctl(&["test-upload", "--data-dir", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("FTP: connected to 127.0.0.1"), "{text}");
    assert!(
        text.contains("FTP: wrote and renamed /mbus-probe-"),
        "{text}"
    );
    assert!(text.contains("FTP: deleted /mbus-probe-"), "{text}");
    assert!(text.ends_with("FTP: ok\n"), "{text}");
    assert_eq!(
        std::fs::read_dir(&root)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_file())
            .count(),
        0
    );
    assert_eq!(servers::renames(work.path()).len(), 1);

    configure(&data, server.port, "wrong");
    let out = mbusctl(&["test-upload", "--data-dir", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(8), "{text}");
    assert!(text.contains("FTP: FAILED: login refused"), "{text}");

    ConfigStore::new(&data).save(&Config::default()).unwrap();
    let out = mbusctl(&["test-upload", "--data-dir", dir]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no upload is enabled"));
}

#[test]
fn status_shows_the_upload_targets() {
    let data = tempfile::tempdir().unwrap();
    ConfigStore::new(data.path())
        .save(&Config::default())
        .unwrap();
    let dir = data.path().to_str().unwrap();
    let out = mbusctl(&["status", "--data-dir", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("uploads: none has run"), "{text}");

    let mut status = UploadStatus::default();
    status.targets.insert(
        "file".into(),
        TargetStatus {
            label: "FTPS".into(),
            pending: 3,
            delivered: 40,
            last_error: Some("login refused: 530 Authentication failed.".into()),
            last_error_at: Some(chrono::Utc::now()),
            ..TargetStatus::default()
        },
    );
    status.save(data.path()).unwrap();
    let out = mbusctl(&["status", "--data-dir", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("upload FTPS: 3 file(s) waiting, 40 delivered, 0 dropped; last success -;"),
        "{text}"
    );
    assert!(
        text.contains("(login refused: 530 Authentication failed.)"),
        "{text}"
    );
    let out = mbusctl(&["meters", "--data-dir", dir]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("upload FTPS: 3 file(s) waiting"));
    let out = mbusctl(&["status", "--data-dir", dir, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["uploads"]["file"]["pending"], 3);
}

#[test]
fn status_shows_the_fleet_sinks() {
    let data = tempfile::tempdir().unwrap();
    ConfigStore::new(data.path())
        .save(&Config::default())
        .unwrap();
    let dir = data.path().to_str().unwrap();
    let out = mbusctl(&["status", "--data-dir", dir]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("MQTT"));
    SinkStatus {
        label: "MQTT".into(),
        pending: 4,
        delivered: 120,
        errors: 2,
        last_error: Some("broker 10.0.0.5:1883: connection refused".into()),
        last_error_at: Some(chrono::Utc::now()),
        ..SinkStatus::default()
    }
    .save(data.path(), "mqtt")
    .unwrap();
    SinkStatus {
        label: "PostgreSQL".into(),
        connected: true,
        delivered: 9000,
        ..SinkStatus::default()
    }
    .save(data.path(), "postgres")
    .unwrap();
    let out = mbusctl(&["status", "--data-dir", dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MQTT not connected: 4 read cycle(s) queued, 120 delivered, 0 dropped, 2 failed attempt(s)"),
        "{text}"
    );
    assert!(
        text.contains("(broker 10.0.0.5:1883: connection refused)"),
        "{text}"
    );
    assert!(
        text.contains("PostgreSQL connected: 0 reading(s) to replicate, 9000 delivered"),
        "{text}"
    );
    let out = mbusctl(&["status", "--data-dir", dir, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["sinks"]["mqtt"]["pending"], 4);
    assert_eq!(json["sinks"]["postgres"]["connected"], true);
}
