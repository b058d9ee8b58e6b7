//! The daemon on a simulated bus: scans a fresh data directory, reads, stops on SIGTERM.

use logger_core::config::ConfigStore;
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn simulated_daemon_scans_reads_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mbus-centerd"))
        .args(["--data-dir", dir.path().to_str().unwrap()])
        .args(["--simulate", "3", "--baud", "9600", "--cycle", "10s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    // Should the daemon hang, end it so the test fails instead of blocking.
    let watchdog_pid = pid.clone();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(90));
        let _ = Command::new("kill").args(["-KILL", &watchdog_pid]).status();
    });
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = Vec::new();
    let mut cycles = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("read cycle done") {
            cycles += 1;
        }
        log.push(line);
        if cycles == 2 {
            break;
        }
    }
    assert!(
        log.iter()
            .any(|l| l.contains("scan done") && l.contains("added=3")),
        "{log:#?}"
    );
    // Summaries after the scan and each cycle: counts, next slot, where the data is.
    let dir_arg = format!("--data-dir {}", dir.path().display());
    for what in ["scan done", "read cycle done"] {
        let line = log.iter().find(|l| l.contains(what)).unwrap();
        assert!(line.contains("3 meter(s) read ok, 0 failed"), "{line}");
        assert!(line.contains("values stored; next read 20"), "{line}");
        assert!(
            line.contains(&format!("mbusctl meters {dir_arg}")),
            "{line}"
        );
        assert!(
            line.contains(&format!("mbusctl export {dir_arg}")),
            "{line}"
        );
    }
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    log.extend(lines.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{log:#?}");
    assert!(log.last().unwrap().contains("stopped"), "{log:#?}");
    drop(watchdog);

    let config = ConfigStore::new(dir.path()).load_or_default().unwrap();
    assert_eq!(config.meters.len(), 3);
    assert_eq!(config.general.default_cycle.to_string(), "10s");
    let store = Store::open(dir.path().join(DATABASE_FILE_NAME)).unwrap();
    let times: Vec<i64> = store
        .readings(MeterId(1), 0, i64::MAX)
        .unwrap()
        .map(|r| r.unwrap().time)
        .collect();
    // The scan's read, then one per slot. A scan that ends within a slot's own second shares
    // that slot's time stamp, and the slot's newer reading replaces it.
    let slots: Vec<i64> = times.iter().copied().filter(|t| t % 10 == 0).collect();
    assert!(slots.len() >= 2, "{times:?}");
    assert!(
        times.len() - slots.len() <= 1,
        "on the 10 s grid: {times:?}"
    );
    assert!(times[0] <= slots[0], "{times:?}");
    for w in slots.windows(2) {
        assert_eq!(w[1] - w[0], 10, "one reading per slot: {times:?}");
    }
}
