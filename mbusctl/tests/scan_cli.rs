//! `mbusctl scan` against `mbusctl simulate` over TCP: the secondary scan lists exactly the
//! simulated meters. The simulator runs in real time; at 38400 baud with short response and
//! inter-character timeouts the scan takes about twenty seconds.

use mbus_link::sim::{Population, SerialPattern};
use mbus_proto::address::BaudRate;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const MBUSCTL: &str = env!("CARGO_BIN_EXE_mbusctl");

/// The simulator process; killed when dropped.
struct Simulator(Child);

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn secondary_scan_lists_exactly_the_simulated_meters() {
    let (meters, seed) = (50, 11);
    let mut child = Command::new(MBUSCTL)
        .args(["simulate", "--listen", "127.0.0.1:0", "--meters", "50"])
        .args(["--population", "random", "--seed", "11", "--baud", "38400"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let simulator = Simulator(child);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();

    // A gateway on the loopback interface answers quickly: at 38400 baud every meter starts its
    // reply within 9 ms and the simulator forwards replies in 10 ms pieces, so short timeouts
    // keep the test short and still leave room for a busy machine.
    let output = Command::new(MBUSCTL)
        .args([
            "scan",
            "--device",
            &format!("tcp://{address}"),
            "--secondary",
            "--baud",
            "38400",
        ])
        .args(["--format", "json", "--timeout-ms", "60", "--gap-ms", "40"])
        .output()
        .unwrap();
    drop(simulator);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let listed: Vec<&serde_json::Value> = report["meters"].as_array().unwrap().iter().collect();
    assert!(listed
        .iter()
        .all(|m| m["status"] == "ok" && m["baud"] == 38400));
    assert!(listed.iter().all(|m| m["telegram"].as_str().is_some()));
    let found: BTreeSet<String> = listed
        .iter()
        .map(|m| m["secondary"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = Population::new(meters, SerialPattern::Random)
        .seed(seed)
        .bauds(&[BaudRate::B38400])
        .build(&[])
        .iter()
        .map(|m| m.secondary().to_string())
        .collect();
    assert_eq!(listed.len(), meters);
    assert_eq!(found, expected);
    assert!(report["cost"]["bus_time"].as_f64().unwrap() > 0.0);
}

#[test]
fn scan_of_an_unreachable_device_fails_with_the_device_code() {
    let output = Command::new(MBUSCTL)
        .args(["scan", "--device", "tcp://127.0.0.1:1", "--secondary"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6));
}

#[test]
fn primary_options_do_not_mix_with_masks() {
    let output = Command::new(MBUSCTL)
        .args([
            "scan",
            "--device",
            "tcp://127.0.0.1:1",
            "--primary",
            "--manufacturer",
            "KAM",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("secondary scans only"));
}

#[test]
fn bench_scan_compares_with_the_baseline() {
    let output = Command::new(MBUSCTL)
        .args([
            "bench",
            "scan",
            "--meters",
            "20",
            "--population",
            "clustered",
        ])
        .args(["--seed", "4"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let last = text.lines().last().unwrap();
    let ratio: f64 = last
        .strip_prefix("scan ratio bus-time ours/baseline: ")
        .unwrap_or_else(|| panic!("unexpected last line {last:?}"))
        .parse()
        .unwrap();
    assert!(ratio > 0.0 && ratio < 0.5, "{ratio}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("ours ") && l.contains(" 20 ")));
}

#[test]
fn a_bad_ident_prefix_is_a_usage_error() {
    let output = Command::new(MBUSCTL)
        .args([
            "scan",
            "--device",
            "tcp://127.0.0.1:1",
            "--ident-prefix",
            "12a4",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("ident prefix '12a4'"));
}
