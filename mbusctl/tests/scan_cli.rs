//! `mbusctl scan` against `mbusctl simulate` over TCP: the secondary scan lists exactly the
//! simulated meters; an empty or hopelessly noisy bus exits 4 with a hint, a gateway answering
//! garbage exits 5 naming the likely causes, SIGTERM prints the partial result and exits 130. The simulator runs in real time; at 38400 baud with short response and
//! inter-character timeouts the scan takes about twenty seconds.

use mbus_link::sim::{Population, SerialPattern};
use mbus_proto::address::BaudRate;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{Simulator, MBUSCTL};

#[test]
fn secondary_scan_lists_exactly_the_simulated_meters() {
    let (meters, seed) = (50, 11);
    let (simulator, address) =
        simulate(&["--meters", "50", "--population", "random", "--seed", "11"]);

    // A gateway on the loopback interface answers quickly: at 38400 baud every meter starts its
    // reply within 9 ms and the simulator forwards replies in 10 ms pieces, so short timeouts
    // keep the test short; 150 ms leaves room for a machine busy with other tests.
    let output = Command::new(MBUSCTL)
        .args([
            "scan",
            "--device",
            &format!("tcp://{address}"),
            "--secondary",
            "--baud",
            "38400",
        ])
        .args(["--format", "json", "--timeout-ms", "150", "--gap-ms", "60"])
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

/// Starts `mbusctl simulate` at 38400 baud with `args` on a free port; returns it and its
/// address.
fn simulate(args: &[&str]) -> (Simulator, String) {
    let args: Vec<&str> = ["--baud", "38400"].iter().chain(args).copied().collect();
    let simulator = Simulator::start(&args);
    let address = simulator.address.clone();
    (simulator, address)
}

/// `mbusctl scan` of the gateway at `address` at 38400 baud with short timeouts, plus `args`.
fn scan_command(address: &str, args: &[&str]) -> Command {
    let mut command = Command::new(MBUSCTL);
    command
        .args([
            "scan",
            "--device",
            &format!("tcp://{address}"),
            "--baud",
            "38400",
        ])
        .args(["--timeout-ms", "60", "--gap-ms", "40"])
        .args(args);
    command
}

/// Runs `command`, failing the test if it has not ended after `limit`.
fn output_within(mut command: Command, limit: Duration) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the scan did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// A TCP gateway that answers every request with garbage; stops when the client leaves.
fn babbling_gateway() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut buf = [0u8; 512];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 || stream.write_all(&[0xAA; 40]).is_err() {
                return;
            }
        }
    });
    address
}

#[test]
fn a_babbling_meter_on_the_simulated_bus_stops_both_scans_with_the_garbled_code() {
    let (_simulator, address) = simulate(&["--meters", "3", "--babbler", "1"]);
    for mode in ["--primary", "--secondary"] {
        let output = output_within(
            scan_command(&address, &[mode, "--format", "json"]),
            Duration::from_secs(60),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "{mode}: {stderr}");
        assert!(stderr.contains("babbling meter"), "{mode}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["line"]["state"], "garbled", "{mode}");
    }
}

#[test]
fn a_babbling_gateway_stops_both_scans_with_the_garbled_code() {
    for mode in ["--primary", "--secondary"] {
        let address = babbling_gateway();
        let output = output_within(
            scan_command(&address, &[mode, "--format", "json"]),
            Duration::from_secs(60),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "{mode}: {stderr}");
        for cause in ["noise", "babbling meter", "wrong baud rate", "echo"] {
            assert!(stderr.contains(cause), "{mode}: {stderr}");
        }
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["line"]["state"], "garbled", "{mode}");
        assert_eq!(report["meters"].as_array().unwrap().len(), 0, "{mode}");
    }
}

#[test]
fn an_empty_bus_exits_with_no_reply_and_a_hint() {
    let (simulator, address) = simulate(&["--meters", "0"]);
    let output = output_within(
        scan_command(&address, &["--secondary", "--quiet"]),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(4));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("0 found with 3 selects"), "{text}");
    for check in ["power", "wiring", "baud rate", "gateway"] {
        assert!(text.contains(check), "{text}");
    }
    let output = output_within(
        scan_command(&address, &["--secondary", "--format", "json"]),
        Duration::from_secs(30),
    );
    drop(simulator);
    assert_eq!(output.status.code(), Some(4));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["line"]["state"], "silent");
    assert_eq!(report["line"]["probes"], 3);
    assert!(report["line"]["advice"].as_str().unwrap().contains("power"));
}

#[test]
fn noise_that_corrupts_every_request_looks_like_a_silent_bus() {
    // The simulator flips bits of requests as well as replies: at this rate no meter ever
    // receives a valid request, so nothing answers.
    let (simulator, address) = simulate(&["--meters", "10", "--noise", "0.5"]);
    let output = output_within(
        scan_command(&address, &["--secondary"]),
        Duration::from_secs(30),
    );
    drop(simulator);
    assert_eq!(output.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&output.stdout).contains("no reply at all"));
}

#[test]
fn sigterm_prints_the_partial_result_and_exits_130() {
    let (simulator, address) = simulate(&["--meters", "60"]);
    let mut child = scan_command(&address, &["--primary", "--progress", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Progress lines on a standard error that is not a terminal, thanks to --progress.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no progress");
        let percent: u32 = line
            .strip_prefix("scan:")
            .and_then(|rest| rest.trim_start().split('%').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected progress line {line:?}"));
        if percent >= 5 {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    drop(simulator);
    assert_eq!(output.status.code(), Some(130), "{rest}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cancelled"], true);
    let found = report["meters"].as_array().unwrap();
    // Addresses 1… answer in order; the scan stopped well before address 60.
    assert!(!found.is_empty() && found.len() < 60, "{}", found.len());
    assert!(found.iter().all(|m| m["status"] == "ok"));
}
