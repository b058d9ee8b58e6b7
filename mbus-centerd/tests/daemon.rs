//! The daemon on a simulated bus: scans a fresh data directory, reads, stops on SIGTERM.

use logger_core::config::ConfigStore;
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use support::Daemon;

mod support;

#[test]
fn simulated_daemon_scans_reads_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::simulated(dir.path(), "10s");
    daemon.wait_for_cycles(2);
    let log = &daemon.log;
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
    let status = daemon.terminate();
    let log = &daemon.log;
    assert!(status.success(), "{status:?}\n{log:#?}");
    assert!(log.last().unwrap().contains("stopped"), "{log:#?}");

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
