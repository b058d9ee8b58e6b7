//! The daemon uploading to a local FTP server (pyftpdlib) is killed with SIGKILL and
//! restarted: afterwards no reading is lost and no file was put in place twice.

#[path = "../../logger-core/tests/servers/mod.rs"]
mod servers;

use logger_core::config::{ConfigStore, UploadProtocol};
use logger_core::export::{Format, MeterDescriptor};
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use logger_core::upload::{self, TargetKind};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (SIGKILL) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn daemon(data: &Path) -> Proc {
    Proc(
        Command::new(env!("CARGO_BIN_EXE_mbus-centerd"))
            .args(["--data-dir", data.to_str().unwrap()])
            .args(["--simulate", "2", "--baud", "9600", "--cycle", "10s"])
            .args(["--listen", "127.0.0.1:0", "--fast-sim"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Names of the files in `dir` (not `.part`).
fn delivered(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|items| {
            items
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.ends_with("-csv"))
                .collect()
        })
        .unwrap_or_default()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigkill_during_uploads_loses_and_duplicates_nothing() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    let data: PathBuf = work.path().join("data");
    let server = servers::ftp(&root, 0, None);
    let port = server.port;
    let store = ConfigStore::new(&data);
    std::fs::create_dir_all(&data).unwrap();
    let mut config = store.load_or_default().unwrap();
    let file = &mut config.uploads.file;
    file.enabled = true;
    file.protocol = UploadProtocol::Ftp;
    file.server = "127.0.0.1".into();
    file.port = port;
    file.username = "logger".into();
    file.password = "secret".into();
    store.save(&config).unwrap();

    let first = daemon(&data);
    wait_until("first uploads", Duration::from_secs(60), || {
        delivered(&root).len() >= 4
    });
    drop(first); // SIGKILL, wherever it is
    let before = delivered(&root).len();
    let second = daemon(&data);
    wait_until("uploads after the restart", Duration::from_secs(60), || {
        delivered(&root).len() >= before + 4
    });
    assert!(Command::new("kill")
        .args(["-TERM", &second.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    let mut second = second;
    let status = second.0.wait().unwrap();
    assert!(status.success(), "{status:?}");

    // Every reading since the first uploaded one is on the server or still spooled.
    let config = ConfigStore::new(&data).load_or_default().unwrap();
    let tz = config.tz();
    let readings = Store::open(data.join(DATABASE_FILE_NAME)).unwrap();
    let on_server = delivered(&root);
    let spool =
        upload::spool::Spool::open(&upload::spool_dir(&data, TargetKind::File), 100).unwrap();
    let spooled: BTreeSet<String> = spool
        .pending()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    let format = Format::Csv {
        layout: logger_core::export::CsvLayout::Standard,
        separator: logger_core::export::Separator::Semicolon,
    };
    for meter in &config.meters {
        let d = MeterDescriptor::from_config(meter);
        let names: Vec<String> = readings
            .readings(MeterId(meter.id), 0, i64::MAX)
            .unwrap()
            .map(|r| upload::file_name(&d, r.unwrap().time, tz, format))
            .collect();
        let first = names
            .iter()
            .position(|n| on_server.contains(n))
            .expect("some file of every meter arrived");
        for name in &names[first..] {
            assert!(
                on_server.contains(name) || spooled.contains(name),
                "{name} lost; server {on_server:?}, spool {spooled:?}"
            );
        }
    }
    let renamed = servers::renames(work.path());
    assert!(renamed.values().all(|&n| n == 1), "{renamed:?}");
    assert_eq!(renamed.len(), on_server.len());
}
