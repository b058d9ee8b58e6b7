//! The daemon with simulated appliance inputs and outputs: the S0 and PT1000 inputs become
//! input meters read in every cycle, S0 readings are stored and PT1000 ones are not (logging
//! off by default), and `mbusctl io` shows live values, relays and display.
//!
//! Uses the `mbusctl` binary of the same build (`cargo build -p mbusctl` when testing this
//! crate alone).

use logger_core::config::{Config, ConfigStore};
use logger_core::hardware::IoBackend;
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use std::process::Command;
use support::{mbusctl, Daemon};

mod support;

#[test]
fn simulated_inputs_are_meters_and_mbusctl_io_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let mut config = Config::default();
    config.io.backend = IoBackend::Simulated;
    ConfigStore::new(dir.path()).save(&config).unwrap();
    let mut daemon = Daemon::start(&[
        "--data-dir",
        data_dir,
        "--simulate",
        "2",
        "--baud",
        "9600",
        "--cycle",
        "10s",
    ]);
    // The bus is scanned although the input meters are configured already.
    daemon.wait_for("scan done");
    daemon.wait_for_cycles(2);
    let io = Command::new(mbusctl())
        .args(["io", "--data-dir", data_dir, "--json"])
        .output()
        .unwrap();
    let text = Command::new(mbusctl())
        .args(["io", "--data-dir", data_dir])
        .output()
        .unwrap();
    let status = daemon.terminate();
    assert!(status.success(), "{status:?}\n{:#?}", daemon.log);
    let last = daemon
        .log
        .iter()
        .rfind(|l| l.contains("read cycle done"))
        .unwrap();
    // Two bus meters and six input meters, all read.
    assert!(last.contains("8 meter(s) read ok, 0 failed"), "{last}");

    assert!(
        io.status.success(),
        "{}",
        String::from_utf8_lossy(&io.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&io.stdout).unwrap();
    assert_eq!(report["backend"], "simulated");
    let inputs = report["inputs"].as_array().unwrap();
    let names: Vec<&str> = inputs
        .iter()
        .map(|m| m["input"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["S0 1", "S0 2", "S0 3", "S0 4", "PT1000 1", "PT1000 2"]
    );
    assert!(inputs.iter().all(|m| m["status"] == "ok"), "{inputs:#?}");
    let service = &report["service"];
    assert_eq!(service["relays"], serde_json::json!([false, false]));
    assert_eq!(service["temperatures"].as_array().unwrap().len(), 2);
    let t1 = service["temperatures"][0]["value"].as_f64().unwrap();
    assert!((19.0..=23.0).contains(&t1), "{t1}");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("backend: simulated"), "{text}");
    assert!(text.contains("relays: 1 off, 2 off"), "{text}");
    assert!(text.contains("(PT1000 1): logging off, ok"), "{text}");
    assert!(text.contains("level converter: off"), "{text}");

    let config = ConfigStore::new(dir.path()).load_or_default().unwrap();
    let store = Store::open(dir.path().join(DATABASE_FILE_NAME)).unwrap();
    for m in config.meters.iter().filter(|m| m.input.is_some()) {
        let count = store.reading_count(MeterId(m.id)).unwrap();
        if m.logging {
            assert!(count >= 1, "{} has no readings", m.name);
        } else {
            assert_eq!(count, 0, "{} is not logged", m.name);
        }
    }
    assert!(dir.path().join("s0-counters.json").exists());
}
