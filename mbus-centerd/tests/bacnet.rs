//! The daemon's BACnet/IP server browsed by bacpypes3, an independent BACnet stack, on a
//! simulated bus: discovery and ReadPropertyMultiple compared with the configuration and
//! the stored readings, a COV notification after a read cycle, and discovery through a
//! bacpypes3 BBMD with the logger registered as foreign device.
//!
//! Everything runs on 127.0.0.1. Broadcasts do not cross the loopback interface, so the
//! client sends its Who-Is unicast to the logger (which answers for its own device and for
//! every meter device behind it), or broadcasts through the BBMD.

use logger_core::bacnet::units::engineering_unit;
use logger_core::config::{Config, ConfigStore};
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use support::{peers, Daemon};

mod support;

fn bacpypes3_available() -> bool {
    peers::python_module("bacpypes3", "bacpypes3")
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A data directory whose configuration turns the BACnet server on at `port`.
fn data_dir(bacnet: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({"version": 2, "bacnet": bacnet});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

fn start_daemon(dir: &Path, cycle: &str) -> Daemon {
    let mut daemon = Daemon::simulated(dir, cycle);
    // The scan adds the meters; the server follows the saved configuration.
    daemon.wait_for("scan done");
    daemon.wait_for("devices=4");
    daemon
}

/// The daemon with its BACnet server on a free port of 127.0.0.1 (start instance 1000,
/// network 1000) and a 10 s cycle: its port, data directory and process; `None` without
/// bacpypes3.
fn local_server() -> Option<(u16, tempfile::TempDir, Daemon)> {
    if !bacpypes3_available() {
        return None;
    }
    let port = free_udp_port();
    let dir = data_dir(serde_json::json!({
        "enabled": true, "port": port, "address": "127.0.0.1",
        "start_instance": 1000, "network_number": 1000
    }));
    let daemon = start_daemon(dir.path(), "10s");
    Some((port, dir, daemon))
}

fn client(args: &[String]) -> Value {
    let output = Command::new("python3")
        .arg(peers::script("bacnet_client.py"))
        .args(args)
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// Every stored value of register `index` of `meter` as BACnet sends it (a REAL).
fn stored_values(dir: &Path, meter: u32, index: u32) -> Vec<(i64, f64)> {
    let store = Store::open(dir.join(DATABASE_FILE_NAME)).unwrap();
    store
        .readings(MeterId(meter), 0, i64::MAX)
        .unwrap()
        .map(|r| r.unwrap())
        .filter_map(|r| {
            let v = r.values.get(index as usize).copied().flatten()?;
            Some((r.time, f64::from(v.to_f64() as f32)))
        })
        .collect()
}

/// Checks what the client read against the configuration and the stored readings.
fn check_devices(dir: &Path, devices: &Value) {
    let config: Config = ConfigStore::new(dir).load_or_default().unwrap();
    let devices = devices.as_array().unwrap();
    let instances: Vec<u64> = devices
        .iter()
        .map(|d| d["instance"].as_u64().unwrap())
        .filter(|i| *i < 3_999_990)
        .collect();
    assert_eq!(instances, [999, 1000, 1001, 1002], "{devices:#?}");
    let logger = &devices[0];
    assert_eq!(
        logger["device"]["object-name"],
        config.general.name.as_str()
    );
    assert_eq!(logger["device"]["segmentation-supported"], 3);
    assert_eq!(logger["max_apdu"], 1476);
    for (i, meter) in config.meters.iter().enumerate() {
        let device = &devices[i + 1];
        assert_eq!(device["instance"], 1000 + i as u64);
        assert_eq!(
            device["address"],
            format!("1000:0x{:06x}", 1000 + i),
            "meter devices sit on network 1000, MAC = instance"
        );
        let props = &device["device"];
        assert_eq!(props["object-name"], meter.name.as_str());
        assert_eq!(props["vendor-name"], "M-Bus toolkit");
        assert_eq!(props["max-apdu-length-accepted"], 1476);
        let services = props["protocol-services-supported"].as_array().unwrap();
        for bit in [5, 12, 14, 33, 34] {
            assert_eq!(services[bit], 1, "service bit {bit}");
        }
        let logged: Vec<_> = meter.registers.iter().filter(|r| !r.off).collect();
        let list = props["object-list"].as_array().unwrap();
        assert_eq!(list.len(), 1 + logged.len(), "{list:?}");
        assert!(!logged.is_empty());
        for register in logged {
            let input = &device["inputs"][format!("analog-input,{}", register.index)];
            let value = input["present-value"].as_f64().unwrap();
            let stored = stored_values(dir, meter.id, register.index);
            assert!(
                stored.iter().any(|(_, v)| *v == value),
                "meter {} register {}: {value} is not a stored value {stored:?}",
                meter.id,
                register.index
            );
            assert_eq!(input["units"], engineering_unit(&register.unit));
            assert!(input["object-name"]
                .as_str()
                .unwrap()
                .starts_with(&register.name));
            assert_eq!(input["status-flags"], serde_json::json!([0, 0, 0, 0]));
            assert_eq!(input["reliability"], 0);
            assert_eq!(input["out-of-service"], 0);
        }
        // ReadPropertyMultiple with ALL gives every property of the first input.
        let all = device["all_of_first_input"].as_object().unwrap();
        let first = all.values().next().unwrap().as_object().unwrap();
        for p in [
            "object-identifier",
            "object-name",
            "object-type",
            "present-value",
            "status-flags",
            "event-state",
            "out-of-service",
            "units",
            "description",
            "reliability",
        ] {
            assert!(first.contains_key(p), "{p} missing in {first:?}");
        }
    }
}

#[test]
fn bacpypes3_discovers_every_meter_device_and_reads_the_stored_values() {
    let Some((port, dir, mut daemon)) = local_server() else {
        return;
    };
    let devices = client(&[
        "discover".into(),
        free_udp_port().to_string(),
        format!("127.0.0.1:{port}"),
    ]);
    check_devices(dir.path(), &devices);
    assert!(daemon.terminate().success(), "{:#?}", daemon.log);
    // The numbering is stored for the next start.
    let stored =
        std::fs::read_to_string(dir.path().join(logger_core::meter_index::INDEX_FILE)).unwrap();
    assert!(stored.contains("\"indices\""), "{stored}");
}

#[test]
fn bacpypes3_gets_a_cov_notification_after_the_next_read() {
    let Some((port, dir, mut daemon)) = local_server() else {
        return;
    };
    // Every input of the meter with the most registers (a heat meter's power, flow and
    // temperatures move from one cycle to the next; a slow water meter's total may not).
    let first = ConfigStore::new(dir.path())
        .load_or_default()
        .unwrap()
        .meters
        .into_iter()
        .max_by_key(|m| m.registers.iter().filter(|r| !r.off).count())
        .unwrap();
    let devices: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(logger_core::meter_index::INDEX_FILE)).unwrap(),
    )
    .unwrap();
    let index = devices["indices"][first.id.to_string()].as_u64().unwrap();
    let inputs: Vec<u64> = first
        .registers
        .iter()
        .filter(|r| !r.off)
        .map(|r| u64::from(r.index))
        .collect();
    let mut args = vec![
        "cov".to_string(),
        free_udp_port().to_string(),
        format!("127.0.0.1:{port}"),
        (1000 + index).to_string(),
        "30".into(),
    ];
    args.extend(inputs.iter().map(u64::to_string));
    let result = client(&args);
    assert!(daemon.terminate().success(), "{:#?}", daemon.log);
    let notes = result["notifications"].as_array().unwrap();
    let subscribed = result["subscribed_at"].as_f64().unwrap();
    let values = |input: u64| -> Vec<f64> {
        notes
            .iter()
            .filter(|n| n["input"] == input && n["property"] == "present-value")
            .map(|n| n["value"].as_f64().unwrap())
            .collect()
    };
    // The initial notification of each input, then a notification after a read that
    // changed a value: that value is the newly stored one.
    let changed: Vec<u64> = inputs
        .iter()
        .copied()
        .filter(|i| values(*i).len() >= 2)
        .collect();
    assert!(
        !changed.is_empty(),
        "no notification after a read: {notes:#?}"
    );
    let meter = first.id;
    for input in changed {
        let new = values(input)[1];
        let stored = stored_values(dir.path(), meter, input as u32);
        assert!(
            stored
                .iter()
                .any(|(t, v)| *v == new && (*t as f64) >= subscribed.floor() - 1.0),
            "input {input}: {new} is not a value stored after the subscription: {stored:?}"
        );
    }
}

/// A bacpypes3 BBMD on 127.0.0.1:`port`, stopped when dropped.
struct Bbmd(Child);

impl Bbmd {
    fn start(port: u16) -> Bbmd {
        let mut child = Command::new("python3")
            .arg(peers::script("bacnet_bbmd.py"))
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready");
        Bbmd(child)
    }
}

impl Drop for Bbmd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn bacpypes3_reaches_the_meters_through_a_bbmd_the_logger_registered_with() {
    if !bacpypes3_available() {
        return;
    }
    let bbmd_port = free_udp_port();
    let _bbmd = Bbmd::start(bbmd_port);
    let port = free_udp_port();
    let dir = data_dir(serde_json::json!({
        "enabled": true, "port": port, "address": "127.0.0.1",
        "start_instance": 1000, "network_number": 1000,
        "bbmd": format!("127.0.0.1:{bbmd_port}"), "bbmd_ttl_s": 60
    }));
    let mut daemon = start_daemon(dir.path(), "1h");
    // The client registers with the BBMD too and broadcasts its Who-Is through it; the BBMD
    // forwards it to the logger, whose answers travel back through the BBMD.
    let devices = client(&[
        "foreign".into(),
        free_udp_port().to_string(),
        format!("127.0.0.1:{bbmd_port}"),
    ]);
    check_devices(dir.path(), &devices);
    assert!(daemon.terminate().success(), "{:#?}", daemon.log);
}
