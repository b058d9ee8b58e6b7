//! Checks against pyMeterBus, an independent M-Bus implementation in Python (PyPI
//! `pymeterbus`, installed by `.ci/run`): its decoder must agree with ours on every numeric
//! value of the corpus, and as a master it must read and select our simulated meters through
//! the TCP gateway with the secondary addresses `mbusctl scan` prints (libmbus's text form,
//! which pyMeterBus writes into its select frames byte for byte).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::corpus;

const MBUSCTL: &str = env!("CARGO_BIN_EXE_mbusctl");

fn peer_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

/// True when `python3` can import pyMeterBus; outside CI a missing peer skips loudly.
fn pymeterbus_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import meterbus, serial"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "pyMeterBus is missing: pip install pymeterbus"
    );
    if !ok {
        eprintln!("\n*** SKIPPING pyMeterBus checks: pip install pymeterbus ***\n");
    }
    ok
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

#[test]
fn pymeterbus_decodes_every_numeric_corpus_value_as_we_do() {
    let (true, Some(corpus)) = (pymeterbus_available(), corpus()) else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("test-frames"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .collect();
    files.sort();
    let output = Command::new("python3")
        .arg(peer_script("pymeterbus_decode.py"))
        .arg(MBUSCTL)
        .args(&files)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let report = json(&output.stdout);
    eprintln!(
        "pyMeterBus agrees on {} values of {} telegrams; it cannot decode {}",
        report["values"], report["files"], report["undecodable"]
    );
    assert_eq!(report["disagreements"], serde_json::json!([]));
    assert!(report["files"].as_u64().unwrap() >= 70, "{report}");
    assert!(report["values"].as_u64().unwrap() >= 700, "{report}");
}

/// The numeric values of a reply as `mbusctl read --format json` gives them.
fn our_values(telegram: &serde_json::Value) -> Vec<f64> {
    telegram["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| matches!(r["value"]["type"].as_str(), Some("decimal" | "real")))
        .filter_map(|r| r["value"]["text"].as_str()?.parse().ok())
        .collect()
}

#[test]
fn pymeterbus_reads_and_selects_simulated_meters_with_the_addresses_scan_prints() {
    if !pymeterbus_available() {
        return;
    }
    let sim =
        support::Simulator::start(&["--meters", "4", "--population", "random", "--seed", "3"]);
    let device = sim.device();
    let scan = support::mbusctl(&[
        "scan",
        "--device",
        &device,
        "--secondary",
        "--format",
        "json",
    ]);
    assert!(scan.status.success(), "{scan:?}");
    let scan = json(&scan.stdout);
    let meters = scan["meters"].as_array().expect("meters");
    assert_eq!(meters.len(), 4);
    let mut ops = Vec::new();
    for m in meters {
        ops.push(format!("primary:{}", m["primary"]));
        ops.push(format!(
            "secondary:{}",
            m["secondary"].as_str().expect("secondary")
        ));
    }
    let output = Command::new("python3")
        .arg(peer_script("pymeterbus_master.py"))
        .arg(format!("socket://{}", sim.address))
        .args(&ops)
        .output()
        .expect("python3");
    assert!(output.status.success(), "{output:?}");
    let results = json(&output.stdout);
    let results = results.as_array().expect("results");
    assert_eq!(results.len(), ops.len());
    for (m, pair) in meters.iter().zip(results.chunks(2)) {
        let primary = m["primary"].to_string();
        let read = support::mbusctl(&[
            "read",
            "--device",
            &device,
            "--format",
            "json",
            "--address",
            &primary,
        ]);
        assert!(read.status.success(), "{read:?}");
        let ours = our_values(&json(&read.stdout)[0]);
        let ident = &m["secondary"].as_str().expect("secondary")[..8];
        for result in pair {
            // pyMeterBus acknowledges the select made from the text `mbusctl scan` printed.
            assert_eq!(result["ack"], true, "{result} for {m}");
            assert_eq!(result["id"].as_str(), Some(ident), "{result}");
            assert_eq!(result["manufacturer"], m["manufacturer"], "{result}");
            let theirs: Vec<f64> = result["values"]
                .as_array()
                .expect("values")
                .iter()
                .filter_map(serde_json::Value::as_f64)
                .collect();
            assert_eq!(theirs.len(), ours.len(), "{result}");
            for (a, b) in ours.iter().zip(&theirs) {
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    "{ours:?} vs {theirs:?}"
                );
            }
        }
    }
}
