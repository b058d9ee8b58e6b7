//! `--metrics-listen`: the daemon serves `/metrics`, which a Prometheus text-format parser
//! reads, with the meters' stored values and the cycles run.

mod support;

use logger_core::config::ConfigStore;
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use support::fleet::{free_port, http_get, sample, scrape};
use support::Daemon;

#[test]
fn metrics_are_served_with_stored_values() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut daemon = Daemon::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--simulate",
        "2",
        "--cycle",
        "10s",
        "--metrics-listen",
        &listen,
    ]);
    daemon.wait_for_cycles(1);
    let samples = scrape(port);
    assert!(sample(&samples, "mbus_cycles_total", &[]).unwrap() >= 1.0);
    assert_eq!(sample(&samples, "mbus_scans_total", &[]), Some(1.0));
    assert!(sample(&samples, "mbus_reads_total", &[("result", "ok")]).unwrap() >= 2.0);
    let config = ConfigStore::new(data.path()).load_or_default().unwrap();
    let store = Store::open_existing(data.path().join(DATABASE_FILE_NAME)).unwrap();
    for meter in &config.meters {
        let id = meter.id.to_string();
        let last = store.last_reading(MeterId(meter.id)).unwrap().unwrap();
        let at = sample(
            &samples,
            "mbus_meter_last_reading_timestamp_seconds",
            &[("meter", &id)],
        )
        .unwrap();
        // A cycle may have stored a newer reading since the scrape.
        assert!(at <= last.time as f64 && at > 0.0);
        let register = meter.registers.iter().find(|r| !r.off).unwrap();
        assert!(sample(
            &samples,
            "mbus_meter_value",
            &[("meter", &id), ("position", &register.index.to_string())]
        )
        .is_some());
    }
    let (status, _) = http_get(port, "/");
    assert!(status.contains("404"), "{status}");
    assert!(daemon.terminate().success());
}
