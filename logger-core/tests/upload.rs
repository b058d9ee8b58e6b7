//! Uploads against real servers on 127.0.0.1, started by the tests: pyftpdlib for FTP and
//! FTPS, a Python `http.server` with `ssl` for the HTTPS push (scripts in `tests/servers/`).
//! Certificates are made per test with rcgen. Reading runs on the virtual clock; only the
//! waits for a server to receive files use wall time, each bounded.

mod servers;
mod support;

use chrono::{Duration, TimeZone, Utc};
use logger_core::clock::{Clock, ManualClock};
use logger_core::config::{Config, FileFormat, UploadProtocol, Uploads};
use logger_core::engine::{Committed, Logger};
use logger_core::events::EventCode;
use logger_core::export::{
    export_meter, CsvLayout, ExportOptions, Filter, Format, MeterDescriptor, Separator,
};
use logger_core::simulation::SimInstallation;
use logger_core::upload::{self, UploadStatus, Uploader, UploaderOptions};
use mbus_proto::address::BaudRate;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use servers::{renames, spawn};

fn ftp_server(root: &Path, port: u16, tls: Option<(&Path, &Path)>) -> servers::Server {
    servers::ftp(root, port, tls)
}

/// A test CA and a server certificate for 127.0.0.1/localhost signed by it, as PEM files
/// `<prefix>-ca.pem`, `<prefix>-cert.pem`, `<prefix>-key.pem` in `dir`.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn pki(dir: &Path, prefix: &str) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let out = Pki {
        ca: dir.join(format!("{prefix}-ca.pem")),
        cert: dir.join(format!("{prefix}-cert.pem")),
        key: dir.join(format!("{prefix}-key.pem")),
    };
    std::fs::write(&out.ca, ca.pem()).unwrap();
    std::fs::write(&out.cert, leaf.pem()).unwrap();
    std::fs::write(&out.key, key.serialize_pem()).unwrap();
    out
}

fn fast() -> UploaderOptions {
    UploaderOptions {
        timeout: std::time::Duration::from_secs(5),
        backoff_first: std::time::Duration::from_millis(100),
        backoff_cap: std::time::Duration::from_millis(400),
    }
}

fn ftp_uploads(protocol: UploadProtocol, port: u16, path: &str, password: &str) -> Uploads {
    let mut uploads = Uploads::default();
    uploads.file.enabled = true;
    uploads.file.protocol = protocol;
    uploads.file.server = "127.0.0.1".into();
    uploads.file.port = port;
    uploads.file.username = "logger".into();
    uploads.file.password = password.into();
    uploads.file.path = path.into();
    uploads
}

/// A logger with two simulated meters on the virtual clock, uploading with `uploads`;
/// every committed cycle is also kept in the returned list.
struct Rig {
    logger: Logger<SimInstallation>,
    clock: Arc<ManualClock>,
    uploader: Option<Uploader>,
    committed: Arc<Mutex<Vec<Committed>>>,
}

fn start_uploader(logger: &mut Logger<SimInstallation>, clock: &Arc<ManualClock>) -> Uploader {
    let events = logger.event_sender();
    Uploader::start(logger.data_dir(), clock.clone(), events, fast())
}

fn rig(dir: &Path, uploads: Uploads) -> Rig {
    let start = Utc.with_ymd_and_hms(2026, 5, 4, 7, 58, 0).unwrap();
    let sim = SimInstallation::new(2, 3, BaudRate::B2400, &[]);
    let (mut logger, clock, _) = support::scanned_logger(dir, sim, start, |c: &mut Config| {
        c.uploads = uploads;
    });
    let uploader = start_uploader(&mut logger, &clock);
    let committed = Arc::new(Mutex::new(Vec::new()));
    install_hook(&mut logger, &uploader, &committed);
    Rig {
        logger,
        clock,
        uploader: Some(uploader),
        committed,
    }
}

fn install_hook(
    logger: &mut Logger<SimInstallation>,
    uploader: &Uploader,
    committed: &Arc<Mutex<Vec<Committed>>>,
) {
    let mut hook = uploader.hook();
    let seen = Arc::clone(committed);
    logger.add_commit_hook(Box::new(move |c: &Committed| {
        seen.lock().unwrap().push(c.clone());
        hook(c);
    }));
}

impl Rig {
    /// Runs the logger for `minutes` of virtual time.
    fn run(&mut self, minutes: i64) {
        let end = self.clock.now() + Duration::minutes(minutes);
        self.logger.run_until(end).unwrap();
    }

    /// The server names of every reading committed so far, with the expected contents.
    fn expected(&self, format: Format) -> BTreeMap<String, Vec<u8>> {
        let config = self.logger.config();
        let mut out = BTreeMap::new();
        for c in self.committed.lock().unwrap().iter() {
            for &(meter, time) in &c.readings {
                let d = MeterDescriptor::from_config(config.meter(meter.0).unwrap());
                let options = ExportOptions {
                    from: time,
                    to: time + 1,
                    format,
                    filter: Filter::All,
                    time_zone: config.tz(),
                    exported_at: Utc.timestamp_opt(time, 0).unwrap(),
                };
                let mut bytes = Vec::new();
                export_meter(self.logger.store(), &d, &options, &mut bytes)
                    .unwrap()
                    .unwrap();
                out.insert(upload::file_name(&d, time, config.tz(), format), bytes);
            }
        }
        out
    }

    /// Waits (at most 30 s) until `done` holds, recording the uploader's events meanwhile.
    fn wait_for(&mut self, what: &str, mut done: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        loop {
            self.logger.record_notices();
            if done(self) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn messages(&self, code: EventCode) -> Vec<String> {
        self.logger
            .events()
            .entries()
            .filter(|e| e.code == code)
            .map(|e| e.message.clone())
            .collect()
    }

    /// Waits for the first failed upload, lets retries run for a while and returns the one
    /// event message that the incident gave (more would be one event per retry).
    fn the_failure(&mut self) -> String {
        self.wait_for("the first failure", |r| {
            !r.messages(EventCode::UploadFailed).is_empty()
        });
        std::thread::sleep(std::time::Duration::from_millis(600));
        self.logger.record_notices();
        let mut failed = self.messages(EventCode::UploadFailed);
        assert_eq!(failed.len(), 1, "one event per incident: {failed:?}");
        failed.remove(0)
    }

    fn status(&self) -> upload::TargetStatus {
        UploadStatus::load(self.logger.data_dir())
            .targets
            .get("file")
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(u) = self.uploader.take() {
            u.stop();
        }
    }
}

fn csv() -> Format {
    Format::Csv {
        layout: CsvLayout::Standard,
        separator: Separator::Semicolon,
    }
}

/// The files in `dir` with their contents (no `.part` files expected).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .map(|items| {
            items
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .map(|p| {
                    let name = p.file_name().unwrap().to_str().unwrap().to_owned();
                    (name, std::fs::read(&p).unwrap())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ftp_files_arrive_once_with_their_names_and_contents() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let server = ftp_server(&root, 0, None);
    let mut uploads = ftp_uploads(UploadProtocol::Ftp, server.port, "/", "secret");
    uploads.file.format = FileFormat::Csv;
    let mut rig = rig(&work.path().join("data"), uploads);
    rig.run(32);
    let expected = rig.expected(csv());
    assert_eq!(expected.len(), 6, "{:?}", expected.keys());
    let name = expected.keys().next().unwrap();
    assert!(
        regex_like(name),
        "name is <id>-<secondary>-<yyyyMMddHHmmss>.csv: {name}"
    );
    rig.wait_for("all files on the server", |_| files(&root) == expected);
    assert_eq!(files(&root), expected);
    assert!(renames(work.path()).values().all(|&n| n == 1));
    rig.wait_for("an empty spool", |r| r.status().pending == 0);
    let status = rig.status();
    assert_eq!(status.delivered, 6);
    assert!(status.last_success.is_some());
    assert!(rig.messages(EventCode::UploadStart)[0].starts_with("FTP upload started"));
    assert!(rig.messages(EventCode::UploadSuccess)[0].starts_with("FTP upload finished"));
    assert!(rig.messages(EventCode::UploadFailed).is_empty());
}

/// `<id>-<secondary address, 16 hex digits>-<14 digits>-csv`
fn regex_like(name: &str) -> bool {
    let Some(stem) = name.strip_suffix("-csv") else {
        return false;
    };
    let parts: Vec<_> = stem.split('-').collect();
    parts.len() == 3
        && parts[0].parse::<u32>().is_ok()
        && parts[1].len() == 16
        && parts[1].chars().all(|c| c.is_ascii_hexdigit())
        && parts[2].len() == 14
        && parts[2].chars().all(|c| c.is_ascii_digit())
}

#[test]
fn server_down_for_several_cycles_then_everything_arrives_exactly_once() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let port = support::free_port();
    let mut rig = rig(
        &work.path().join("data"),
        ftp_uploads(UploadProtocol::Ftp, port, "/", "secret"),
    );
    rig.run(47);
    // Retries happen meanwhile; one event for the incident.
    let failed = rig.the_failure();
    assert!(
        failed.starts_with("FTP upload failed: connect:"),
        "{failed}"
    );
    assert!(rig.status().last_error.is_some());
    let _server = ftp_server(&root, port, None);
    let expected = rig.expected(csv());
    assert_eq!(expected.len(), 8);
    rig.wait_for("every file", |_| files(&root) == expected);
    rig.wait_for("an empty spool", |r| r.status().pending == 0);
    assert!(renames(work.path()).values().all(|&n| n == 1));
    assert_eq!(renames(work.path()).len(), 8);
    // The incident is over.
    assert!(rig
        .logger
        .events()
        .entries()
        .any(|e| e.code == EventCode::UploadFailed && e.went.is_some()));
}

#[test]
fn wrong_password_and_missing_permission_are_named_once() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let server = ftp_server(&root, 0, None);
    for (password, path, reason) in [
        ("wrong", "/", "FTP upload failed: login refused"),
        (
            "secret",
            "/readonly",
            "FTP upload failed: no permission on /readonly",
        ),
    ] {
        let data = work.path().join(format!("data-{password}"));
        let mut rig = rig(
            &data,
            ftp_uploads(UploadProtocol::Ftp, server.port, path, password),
        );
        rig.run(17);
        let failed = rig.the_failure();
        assert!(failed.starts_with(reason), "{failed}");
        assert!(rig.status().pending > 0);
    }
    assert!(files(&root.join("readonly")).is_empty());
}

#[test]
fn ftps_checks_the_certificate() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let good = pki(work.path(), "good");
    let other = pki(work.path(), "other");
    let server = ftp_server(&root, 0, Some((&good.cert, &good.key)));
    // Trusting another CA: refused, nothing sent.
    let mut uploads = ftp_uploads(UploadProtocol::Ftps, server.port, "/", "secret");
    uploads.file.ca_file = Some(other.ca.to_str().unwrap().to_owned());
    let mut rig_bad = rig(&work.path().join("bad"), uploads.clone());
    rig_bad.run(3);
    rig_bad.wait_for("the TLS failure", |r| {
        !r.messages(EventCode::UploadFailed).is_empty()
    });
    let failed = rig_bad.messages(EventCode::UploadFailed);
    assert!(
        failed[0].starts_with("FTPS upload failed: TLS"),
        "{failed:?}"
    );
    drop(rig_bad);
    assert!(files(&root).is_empty());
    // Trusting the right CA: delivered over TLS.
    uploads.file.ca_file = Some(good.ca.to_str().unwrap().to_owned());
    let mut rig = rig(&work.path().join("good"), uploads);
    rig.run(3);
    let expected = rig.expected(csv());
    assert_eq!(expected.len(), 2);
    rig.wait_for("the files", |_| files(&root) == expected);
    assert!(rig.messages(EventCode::UploadSuccess)[0].starts_with("FTPS upload finished"));
    drop(rig);
    // The explicit insecure switch takes any certificate.
    let mut uploads = ftp_uploads(UploadProtocol::Ftps, server.port, "/", "secret");
    uploads.file.accept_invalid_certs = true;
    let config = Config {
        uploads,
        ..Config::default()
    };
    let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let reports =
        upload::test_upload(&config, work.path(), std::time::Duration::from_secs(5), now).unwrap();
    assert!(reports[0].outcome.is_ok(), "{:?}", reports[0].outcome);
}

#[test]
fn a_lost_reply_after_the_rename_does_not_send_the_file_again() {
    // What a crash (kill -9) between the server's rename and removing the spool file
    // leaves: the file whole on the server and still in the spool.
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let server = ftp_server(&root, 0, None);
    let uploads = ftp_uploads(UploadProtocol::Ftp, server.port, "/", "secret");
    let mut rig = rig(&work.path().join("data"), uploads);
    rig.uploader.take().unwrap().stop();
    rig.run(3);
    let expected = rig.expected(csv());
    assert_eq!(expected.len(), 2);
    let (first, bytes) = expected.iter().next().unwrap();
    let data = rig.logger.data_dir().to_path_buf();
    // The cycle was handed to a stopped uploader: spool it as the crashed run had.
    let spool_dir = upload::spool_dir(&data, upload::TargetKind::File);
    let mut spool = upload::spool::Spool::open(&spool_dir, 100).unwrap();
    for (name, bytes) in &expected {
        spool.push(name, bytes).unwrap();
    }
    std::fs::write(root.join(first), bytes).unwrap();
    // Restart: the spool is delivered, the file already there is not stored again.
    let uploader = start_uploader(&mut rig.logger, &rig.clock);
    rig.uploader = Some(uploader);
    rig.wait_for("every file", |_| files(&root) == expected);
    rig.wait_for("an empty spool", |r| r.status().pending == 0);
    let renamed = renames(work.path());
    assert_eq!(renamed.get(first), None, "{renamed:?}");
    assert_eq!(renamed.len(), 1);
}

#[test]
fn a_dead_server_never_delays_reading() {
    let work = tempfile::tempdir().unwrap();
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut rig = rig(
        &work.path().join("data"),
        ftp_uploads(UploadProtocol::Ftp, port, "/", "secret"),
    );
    rig.run(4 * 60);
    // Every quarter hour was read and stored on its slot while the upload hung.
    let slots: Vec<_> = rig
        .committed
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.readings.iter().map(|r| r.1).collect::<Vec<_>>())
        .collect();
    assert_eq!(slots.len(), 16, "{slots:?}");
    let first = Utc
        .with_ymd_and_hms(2026, 5, 4, 8, 0, 0)
        .unwrap()
        .timestamp();
    for (i, cycle) in slots.iter().enumerate() {
        let slot = first + 900 * i as i64;
        assert_eq!(cycle, &[slot, slot], "cycle {i}");
    }
    assert!(rig.messages(EventCode::CycleOverrun).is_empty());
    drop(listener);
}

#[test]
fn https_push_delivers_json_with_the_token_and_refuses_a_wrong_one() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("received");
    let pki = pki(work.path(), "https");
    let server = spawn(
        "https_receiver.py",
        &[
            store.to_str().unwrap(),
            "0",
            pki.cert.to_str().unwrap(),
            pki.key.to_str().unwrap(),
            "t0ken",
        ],
    );
    let mut uploads = Uploads::default();
    uploads.https.enabled = true;
    uploads.https.url = format!("https://localhost:{}/readings", server.port);
    uploads.https.token = "t0ken".into();
    uploads.https.ca_file = Some(pki.ca.to_str().unwrap().to_owned());
    let mut pusher = rig(&work.path().join("data"), uploads.clone());
    pusher.run(17);
    let expected = pusher.expected(Format::Json);
    assert_eq!(expected.len(), 4);
    assert!(expected.keys().all(|k| k.ends_with("-json")));
    pusher.wait_for("every document", |_| files(&store) == expected);
    assert!(pusher.messages(EventCode::UploadSuccess)[0].starts_with("HTTPS push upload finished"));
    drop(pusher);
    uploads.https.token = "wrong".into();
    let mut refused = rig(&work.path().join("data2"), uploads);
    refused.run(3);
    refused.wait_for("the refusal", |r| {
        !r.messages(EventCode::UploadFailed).is_empty()
    });
    let failed = refused.messages(EventCode::UploadFailed);
    assert!(
        failed[0].starts_with("HTTPS push upload failed: login refused: HTTP status 401"),
        "{failed:?}"
    );
}

#[test]
fn test_upload_probes_the_configured_server() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let server = ftp_server(&root, 0, None);
    let mut config = Config {
        uploads: ftp_uploads(UploadProtocol::Ftp, server.port, "/", "secret"),
        ..Config::default()
    };
    let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let timeout = std::time::Duration::from_secs(5);
    let reports = upload::test_upload(&config, work.path(), timeout, now).unwrap();
    assert_eq!(reports.len(), 1);
    let steps = reports[0].outcome.as_ref().unwrap();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(
        renames(work.path()).get("mbus-probe-20260504080000.txt"),
        Some(&1)
    );
    assert!(files(&root).is_empty(), "the probe file is deleted");
    config.uploads.file.password = "wrong".into();
    let reports = upload::test_upload(&config, work.path(), timeout, now).unwrap();
    assert!(matches!(
        reports[0].outcome,
        Err(upload::UploadError::Login(_))
    ));
}

fn sftp_uploads(port: u16, path: &Path, key: &Path) -> Uploads {
    let mut uploads = Uploads::default();
    uploads.file.enabled = true;
    uploads.file.protocol = UploadProtocol::Sftp;
    uploads.file.server = "127.0.0.1".into();
    uploads.file.port = port;
    uploads.file.username = servers::user();
    uploads.file.key_file = Some(key.to_str().unwrap().to_owned());
    uploads.file.path = path.to_str().unwrap().to_owned();
    uploads
}

#[test]
fn sftp_trusts_the_first_host_key_and_refuses_a_changed_one() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let host_key = work.path().join("host_key");
    let client_key = work.path().join("client_key");
    let server = servers::sshd(work.path(), 0, &host_key, &client_key);
    let port = server.port;
    let mut rig = rig(
        &work.path().join("data"),
        sftp_uploads(port, &root, &client_key),
    );
    rig.run(17);
    let expected = rig.expected(csv());
    assert_eq!(expected.len(), 4);
    rig.wait_for("every file", |_| files(&root) == expected);
    assert!(rig.messages(EventCode::UploadSuccess)[0].starts_with("SFTP upload finished"));
    let known =
        std::fs::read_to_string(work.path().join("data").join(upload::KNOWN_HOSTS_FILE)).unwrap();
    assert_eq!(
        known,
        format!("127.0.0.1:{port} {}\n", servers::fingerprint(&host_key))
    );
    // The server comes back with another host key: refused, logged once, nothing sent.
    drop(server);
    let _impostor = servers::sshd(
        work.path(),
        port,
        &work.path().join("other_host_key"),
        &client_key,
    );
    rig.run(15);
    rig.wait_for("the refusal", |r| {
        !r.messages(EventCode::UploadFailed).is_empty()
    });
    let failed = rig.messages(EventCode::UploadFailed);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].starts_with("SFTP upload failed: host key:"),
        "{failed:?}"
    );
    assert!(failed[0].contains("refused"), "{failed:?}");
    assert_eq!(files(&root), expected);
    assert!(rig.status().pending > 0);
}

#[test]
fn sftp_probe_checks_a_pinned_host_key() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let host_key = work.path().join("host_key");
    let client_key = work.path().join("client_key");
    let server = servers::sshd(work.path(), 0, &host_key, &client_key);
    let mut config = Config {
        uploads: sftp_uploads(server.port, &root, &client_key),
        ..Config::default()
    };
    config.uploads.file.host_key = Some(servers::fingerprint(&host_key));
    config.validate().unwrap();
    let now = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let timeout = std::time::Duration::from_secs(5);
    let reports = upload::test_upload(&config, work.path(), timeout, now).unwrap();
    let steps = reports[0].outcome.as_ref().unwrap();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(files(&root).is_empty(), "the probe file is deleted");
    // Pinned: nothing is recorded for trust on first use.
    assert!(!work.path().join(upload::KNOWN_HOSTS_FILE).exists());
    servers::ssh_key(&work.path().join("other"));
    config.uploads.file.host_key = Some(servers::fingerprint(&work.path().join("other")));
    let reports = upload::test_upload(&config, work.path(), timeout, now).unwrap();
    assert!(
        matches!(&reports[0].outcome, Err(upload::UploadError::HostKey(m)) if m.contains("pin")),
        "{:?}",
        reports[0].outcome
    );
}
