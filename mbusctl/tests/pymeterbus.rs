//! Checks against pyMeterBus, an independent M-Bus implementation in Python (PyPI
//! `pymeterbus`, installed by `.ci/run`): its decoder must agree with ours on every numeric
//! value of the corpus.

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
