//! End to end through the daemon: `mbusctl simulate` replays captured corpus telegrams (with
//! real32 values) as a TCP gateway, `mbus-centerd` scans and reads it, `mbusctl export` writes
//! the stored readings, and every exported number equals the scaled value `mbusctl decode`
//! reports for the same record of the same file.
//!
//! Uses the `mbusctl` binary of the same build (`cargo test --workspace` builds it; alone, run
//! `cargo build -p mbusctl` first) and the libmbus corpus (`MBUS_CORPUS`, default
//! `../../shared/corpus/libmbus`).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const FILES: [&str; 2] = ["example_data_01.hex", "SEN_Pollustat.hex"];

use support::mbusctl;

mod support;

fn corpus_frame(name: &str) -> PathBuf {
    let dir = std::env::var_os("MBUS_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpus/libmbus"
            ))
        },
        PathBuf::from,
    );
    let path = dir.join("test-frames").join(name);
    assert!(
        path.exists(),
        "{} is missing (set MBUS_CORPUS)",
        path.display()
    );
    path
}

/// Ends the child when dropped, so a failing test leaves nothing running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A number written in decimal, normalized so equal numbers compare equal: sign, digits without
/// leading or trailing zeros, and the power of ten of the last digit.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

fn decimal(text: &str) -> Decimal {
    let text = text.trim();
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, power) = match unsigned.split_once(['e', 'E']) {
        Some((m, p)) => (m, p.parse::<i64>().unwrap()),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    assert!(
        !whole.is_empty() || !fraction.is_empty(),
        "not a number: {text:?}"
    );
    assert!(
        whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit()),
        "not a number: {text:?}"
    );
    let all = format!("{whole}{fraction}");
    let mut exponent = power - fraction.len() as i64;
    let trimmed = all.trim_start_matches('0');
    let digits = trimmed.trim_end_matches('0');
    exponent += (trimmed.len() - digits.len()) as i64;
    if digits.is_empty() {
        return Decimal {
            negative: false,
            digits: String::new(),
            exponent: 0,
        };
    }
    Decimal {
        negative,
        digits: digits.to_string(),
        exponent,
    }
}

#[test]
fn decimal_normalizes_equal_numbers() {
    assert_eq!(decimal("504647.0"), decimal("504647"));
    assert_eq!(decimal("1389817000"), decimal("1.389817e9"));
    assert_eq!(decimal("-0.0457763671875"), decimal("-457763671875e-13"));
    assert_eq!(decimal("0"), decimal("-0.000"));
    assert_ne!(decimal("41.73743438720703"), decimal("41.737434"));
}

/// What `mbusctl decode --format json` says of a corpus file: the manufacturer and, for each
/// record, its scaled value and whether it is a real32 (`None` for records without a number).
fn decoded(file: &Path) -> (String, Vec<Option<(String, bool)>>) {
    let out = Command::new(mbusctl())
        .args(["decode", "--format", "json"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match r["value"]["type"].as_str() {
            Some("decimal" | "real") => r["value"]["text"]
                .as_str()
                .map(|text| (text.to_string(), r["coding"] == "real32")),
            _ => None,
        })
        .collect();
    let manufacturer = json["header"]["manufacturer"].as_str().unwrap().to_string();
    (manufacturer, records)
}

/// The CSV files (name, text) of a ZIP archive written by `mbusctl export`.
fn unzip(path: &Path) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().unwrap().to_string(), text)
        })
        .collect()
}

#[test]
fn replayed_corpus_telegrams_are_stored_and_exported_as_decode_scales_them() {
    let files: Vec<PathBuf> = FILES.iter().map(|f| corpus_frame(f)).collect();
    let mut simulate = Command::new(mbusctl());
    simulate.args(["simulate", "--listen", "127.0.0.1:0", "--baud", "9600"]);
    for file in &files {
        simulate.arg("--telegram").arg(file);
    }
    let mut sim = Running(
        simulate
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(sim.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut daemon = Running(
        Command::new(env!("CARGO_BIN_EXE_mbus-centerd"))
            .arg("--data-dir")
            .arg(&data)
            .args(["--baud", "9600", "--device", &format!("tcp://{address}")])
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = daemon.0.id().to_string();
    // Should the scan hang, end the daemon so the test fails instead of blocking.
    let watchdog_pid = pid.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(240));
        let _ = Command::new("kill").args(["-KILL", &watchdog_pid]).status();
    });
    let mut log = Vec::new();
    let mut lines = BufReader::new(daemon.0.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("scan done");
        log.push(line);
        if done {
            break;
        }
    }
    let summary = log.last().cloned().unwrap_or_default();
    assert!(
        summary.contains("scan done") && summary.contains("2 meter(s) read ok, 0 failed"),
        "{log:#?}"
    );
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    log.extend(lines.map(|l| l.unwrap()));
    assert!(daemon.0.wait().unwrap().success(), "{log:#?}");

    let zip = dir.path().join("readings.zip");
    let out = Command::new(mbusctl())
        .arg("export")
        .arg("--data-dir")
        .arg(&data)
        .args(["--from", "2000-01-01", "--to", "2099-12-31"])
        .args([
            "--format",
            "csv",
            "--csv-options",
            "full",
            "--separator",
            "semicolon",
        ])
        .arg("--out")
        .arg(&zip)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let decoded_files: Vec<(&PathBuf, _)> = files.iter().map(|f| (f, decoded(f))).collect();
    let exported = unzip(&zip);
    assert_eq!(exported.len(), files.len(), "{exported:#?}");
    let mut compared = 0;
    let mut reals = 0;
    for (name, csv) in &exported {
        let mut rows = csv.lines();
        let header: Vec<&str> = rows.next().unwrap().split(';').collect();
        let column = |title: &str| header.iter().position(|h| *h == title).unwrap();
        let (manufacturer, register, divisor, value) = (
            column("manufacturer"),
            column("register"),
            column("divisor"),
            column("value"),
        );
        for row in rows {
            let cells: Vec<&str> = row.split(';').collect();
            // The meter replaying each file keeps the telegram's manufacturer.
            let (file, expected) = decoded_files
                .iter()
                .find(|(_, (m, _))| m == cells[manufacturer])
                .map(|(file, (_, records))| (file, records))
                .unwrap_or_else(|| panic!("{name}: unknown manufacturer in {row}"));
            let index: usize = cells[register].parse().unwrap();
            assert_eq!(decimal(cells[divisor]), decimal("1"), "{name}: {row}");
            let (scaled, real) = expected[index]
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: register {index} has no number in decode"));
            assert_eq!(
                decimal(cells[value]),
                decimal(scaled),
                "{name}: register {index}: export {} vs decode {scaled} ({})",
                cells[value],
                file.display()
            );
            compared += 1;
            reals += usize::from(*real);
        }
    }
    // Every numeric record of both telegrams: 6 + 14.
    assert_eq!(compared, 20);
    // Of them real32: 4 in the first telegram, 5 in the second.
    assert_eq!(reals, 9);
    drop(sim);
}
