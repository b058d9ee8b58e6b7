//! The technician commands against `mbusctl simulate` over TCP: set-address, switch-baud,
//! reset, select and raw, in text and JSON, with their exit codes and refusals.

mod support;

use support::{mbusctl, stdout_json, Simulator};

fn code(output: &std::process::Output) -> i32 {
    output.status.code().expect("exit code")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The secondary address `mbusctl scan` prints for the meter at `primary`.
fn scanned_secondary(device: &str, primary: u64) -> String {
    let scan = mbusctl(&[
        "scan",
        "--device",
        device,
        "--secondary",
        "--format",
        "json",
    ]);
    assert_eq!(code(&scan), 0, "{}", stderr(&scan));
    stdout_json(&scan)["meters"]
        .as_array()
        .expect("meters")
        .iter()
        .find(|m| m["primary"] == primary)
        .and_then(|m| m["secondary"].as_str())
        .expect("meter found")
        .to_owned()
}

#[test]
fn set_address_moves_a_meter_by_primary_and_by_secondary_address() {
    let sim = Simulator::start(&["--meters", "3"]);
    let d = sim.device();
    let out = mbusctl(&["set-address", "-d", &d, "-a", "1", "--new", "42"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("now 42"));
    assert_eq!(code(&mbusctl(&["read", "-d", &d, "-a", "42"])), 0);
    assert_eq!(
        code(&mbusctl(&["read", "-d", &d, "-a", "1"])),
        4,
        "nobody at 1 any more"
    );

    let secondary = scanned_secondary(&d, 2);
    let out = mbusctl(&[
        "set-address",
        "-d",
        &d,
        "-s",
        &secondary,
        "--new",
        "7",
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json = stdout_json(&out);
    assert_eq!(json["ok"], true);
    assert_eq!(json["new_address"], 7);
    assert_eq!(json["secondary"], secondary.as_str());
    assert_eq!(code(&mbusctl(&["read", "-d", &d, "-a", "7"])), 0);

    // A meter that is not there: no reply (4), and JSON says so too.
    let out = mbusctl(&["set-address", "-d", &d, "-a", "99", "--new", "5", "--json"]);
    assert_eq!(code(&out), 4);
    assert_eq!(stdout_json(&out)["exit_code"], 4);
}

#[test]
fn unsafe_addresses_are_refused_before_anything_is_sent() {
    // No device is opened for a refused command line: the port does not exist.
    let d = "tcp://127.0.0.1:9";
    let out = mbusctl(&["set-address", "-d", d, "-a", "255", "--new", "3"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("broadcast"), "{}", stderr(&out));
    let out = mbusctl(&["set-address", "-d", d, "-a", "254", "--new", "3"]);
    assert_eq!(code(&out), 2);
    let out = mbusctl(&["set-address", "-d", d, "-a", "2", "--new", "251"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("reserved"), "{}", stderr(&out));
    let out = mbusctl(&["switch-baud", "-d", d, "-a", "255", "--to", "9600"]);
    assert_eq!(code(&out), 2);
    let out = mbusctl(&["switch-baud", "-d", d, "-a", "1", "--to", "1000"]);
    assert_eq!(code(&out), 2);
    let out = mbusctl(&["reset", "-d", d, "--broadcast", "--application"]);
    assert_eq!(code(&out), 2);
    let out = mbusctl(&["select", "-d", d, "12G45678FFFFFFFF"]);
    assert_eq!(code(&out), 2);
    let out = mbusctl(&["raw", "-d", d, "10 5B 0"]);
    assert_eq!(code(&out), 3, "{}", stderr(&out));
}

#[test]
fn switch_baud_is_acknowledged_at_the_old_rate() {
    let sim = Simulator::start(&["--meters", "2"]);
    let d = sim.device();
    let out = mbusctl(&["switch-baud", "-d", &d, "-a", "2", "--to", "9600", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json = stdout_json(&out);
    assert_eq!(
        (json["from_baud"].as_u64(), json["to_baud"].as_u64()),
        (Some(2400), Some(9600))
    );
    // The meter no longer answers at 2400 baud; its neighbour still does.
    assert_eq!(code(&mbusctl(&["read", "-d", &d, "-a", "2"])), 4);
    assert_eq!(code(&mbusctl(&["read", "-d", &d, "-a", "1"])), 0);
}

#[test]
fn link_and_application_resets() {
    let sim = Simulator::start(&["--meters", "2"]);
    let d = sim.device();
    let out = mbusctl(&["reset", "-d", &d, "-a", "1", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["kind"], "link");
    let out = mbusctl(&[
        "reset",
        "-d",
        &d,
        "-a",
        "2",
        "--application",
        "--subcode",
        "0x10",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("application reset"));
    let out = mbusctl(&["reset", "-d", &d, "--broadcast"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(code(&mbusctl(&["reset", "-d", &d, "-a", "9"])), 4);
}

#[test]
fn select_reports_acknowledgement_silence_and_collision() {
    let sim = Simulator::start(&["--meters", "3"]);
    let d = sim.device();
    let one = scanned_secondary(&d, 3);
    let out = mbusctl(&["select", "-d", &d, &one, "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["outcome"], "selected");
    // Its ID with version and medium wildcarded: still exactly one answer.
    let mut wild = one.clone();
    wild.replace_range(12..16, "FFFF");
    let out = mbusctl(&["select", "-d", &d, &wild]);
    assert_eq!(code(&out), 0, "{wild}: {}", stderr(&out));
    // Everybody answers at once: a collision (5).
    let out = mbusctl(&["select", "-d", &d, "FFFFFFFFFFFFFFFF", "--json"]);
    assert_eq!(code(&out), 5);
    assert_eq!(stdout_json(&out)["ok"], false);
    // Nobody matches: no reply (4).
    let out = mbusctl(&["select", "-d", &d, "99999999FFFFFFFF"]);
    assert_eq!(code(&out), 4);
    assert!(
        stderr(&out).contains("no meter answered"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn raw_sends_bytes_and_prints_the_reply() {
    let sim = Simulator::start(&["--meters", "2"]);
    let d = sim.device();
    // REQ_UD2 to address 2: a long frame comes back, printed as hex and decoded.
    let out = mbusctl(&["raw", "-d", &d, "10 5B 02 5D 16"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("68 "), "{text}");
    assert!(text.contains("Manufacturer SIM"), "{text}");
    // SND_NKE to address 2: E5.
    let out = mbusctl(&["raw", "-d", &d, "0x10,0x40,0x02,0x42,0x16", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let json = stdout_json(&out);
    assert_eq!(
        (json["reply"].as_str(), json["kind"].as_str()),
        (Some("E5"), Some("ack"))
    );
    // Nobody at 77.
    assert_eq!(code(&mbusctl(&["raw", "-d", &d, "10 40 4D 8D 16"])), 4);
    // Broadcast without waiting.
    let out = mbusctl(&["raw", "-d", &d, "10 40 FF 3F 16", "--no-reply"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn completions_and_man_pages_are_generated() {
    let out = mbusctl(&["completions", "bash"]);
    assert_eq!(code(&out), 0);
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("set-address") && script.contains("switch-baud"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = mbusctl(&["man", "--out", dir.path().to_str().expect("path")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for page in [
        "mbusctl.1",
        "mbusctl-set-address.1",
        "mbusctl-raw.1",
        "mbusctl-select.1",
    ] {
        let text = std::fs::read_to_string(dir.path().join(page)).expect(page);
        assert!(text.contains(".TH"), "{page}");
    }
}
