//! 32-bit real (type H) records: the value `mbusctl decode --format json` reports, the value
//! the logger stores and the value its export writes are the same number, and that number is
//! the one worked out by hand from the record's bytes.
//!
//! The expected values below were computed by hand: the four data bytes read as an IEEE 754
//! single (little endian), written with the fewest digits that read back as the same single,
//! times ten to the VIF's exponent (0x2B: W × 10^0, 0x2E: W × 10^3, 0x3B: m³/h × 10^-3,
//! 0x3D: m³/h × 10^-1, 0x3E: m³/h × 10^0, 0x5B/0x5F: °C × 10^0, 0x63: K × 10^0).

mod support;

use chrono::{TimeZone, Utc};
use logger_core::config::Meter;
use logger_core::export::{export_meter, ExportOptions, Filter, Format, MeterDescriptor};
use logger_core::readout::MeterData;
use logger_core::storage::Store;
use mbus_proto::hex::parse_hex;
use std::path::PathBuf;
use std::process::Command;

/// (corpus file, record index, data bytes as sent, VIF exponent, value in the record's unit).
const HAND_COMPUTED: &[(&str, usize, &str, i8, &str)] = &[
    ("SEN_Pollustat", 7, "B1 D1 2E BE", 3, "-170.72178"),
    ("SEN_Pollustat", 8, "F5 B8 4E 40", 0, "3.230039"),
    ("SEN_Pollustat", 9, "B8 2D F9 41", 0, "31.147324"),
    ("SEN_Pollustat", 10, "78 8B F9 41", 0, "31.1931"),
    ("SEN_Pollustat", 11, "00 80 3B BD", 0, "-0.045776367"),
    ("EDC", 4, "2B 4B AC 41", 0, "21.536703"),
    ("EDC", 5, "20 D7 AC 41", 0, "21.605042"),
    ("EDC", 6, "00 00 B8 42", 0, "92"),
    ("EDC", 7, "00 00 B8 42", 0, "92"),
    ("EDC", 8, "84 00 35 3F", -3, "0.0007070391"),
    ("EDC", 9, "00 00 00 00", -3, "0"),
    ("EDC", 10, "95 CF B2 43", -3, "0.35762173"),
    ("EDC", 11, "00 00 00 00", -3, "0"),
    ("EDC", 12, "00 00 00 00", 0, "0"),
    ("EDC", 13, "00 00 00 00", 0, "0"),
    ("EDC", 14, "D3 9F 90 46", 0, "18511.912"),
    ("EDC", 15, "00 00 00 00", 0, "0"),
    ("example_data_01", 2, "00 00 00 00", 3, "0"),
    ("example_data_01", 3, "00 00 00 00", -1, "0"),
    ("example_data_01", 4, "22 F3 26 42", 0, "41.737434"),
    ("example_data_01", 5, "C7 DA 0D 42", 0, "35.46365"),
    ("amt_calec_mb", 1, "A0 C8 51 46", 3, "13426156"),
    ("amt_calec_mb", 2, "B4 E3 D7 42", 0, "107.94473"),
    ("amt_calec_mb", 3, "90 D3 07 43", 0, "135.82642"),
    ("amt_calec_mb", 4, "0E AA E7 41", 0, "28.958035"),
    ("amt_calec_mb", 5, "9C BC D5 42", 0, "106.86838"),
];

fn corpus_file(name: &str) -> Option<PathBuf> {
    Some(
        support::corpus()?
            .join("test-frames")
            .join(format!("{name}.hex")),
    )
}

/// The `text` of each record's value as `mbusctl decode --format json` prints it.
fn decoded_texts(path: &PathBuf) -> Vec<(String, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_mbusctl"))
        .args(["decode", "--format", "json"])
        .arg(path)
        .output()
        .expect("run mbusctl decode");
    assert!(output.status.success(), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    json["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["coding"].as_str().unwrap_or("").to_owned(),
                r["value"]["text"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// What the logger stores for each register of a meter read with this telegram, as its JSON
/// export writes it.
fn exported_values(telegram: &[u8]) -> Vec<serde_json::Value> {
    let data = MeterData::decode(&[telegram]).expect("logger decodes the telegram");
    let mut meter: Meter =
        serde_json::from_str(r#"{"id":1,"name":"replay","addressing":"primary","primary":1}"#)
            .expect("meter");
    meter.registers = data.default_registers();
    for register in &mut meter.registers {
        register.off = false;
    }
    let time = 1_764_633_600; // 2025-12-02 00:00 UTC
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("readings.sqlite")).expect("store");
    store.append(&data.reading(&meter, time)).expect("append");
    let options = ExportOptions {
        from: time - 60,
        to: time + 60,
        format: Format::Json,
        filter: Filter::All,
        time_zone: chrono_tz::UTC,
        exported_at: Utc.timestamp_opt(time, 0).single().expect("time"),
    };
    let mut out = Vec::new();
    export_meter(
        &store,
        &MeterDescriptor::from_config(&meter),
        &options,
        &mut out,
    )
    .expect("export")
    .expect("one file");
    let json: serde_json::Value = serde_json::from_slice(&out).expect("export is JSON");
    json["readings"][0]["values"]
        .as_array()
        .expect("values")
        .clone()
}

#[test]
fn real_values_agree_between_decoder_logger_export_and_hand() {
    let mut checked = 0;
    let mut files: Vec<&str> = HAND_COMPUTED.iter().map(|c| c.0).collect();
    files.dedup();
    for file in files {
        let Some(path) = corpus_file(file) else {
            return;
        };
        let telegram = parse_hex(&std::fs::read_to_string(&path).expect("read")).expect("hex");
        let decoded = decoded_texts(&path);
        let exported = exported_values(&telegram);
        for &(_, index, bytes, exponent, expected) in HAND_COMPUTED.iter().filter(|c| c.0 == file) {
            let (coding, text) = &decoded[index];
            assert_eq!(coding, "real32", "{file} record {index}");
            assert_eq!(
                text, expected,
                "{file} record {index}: decode --format json"
            );
            let stored = exported[index].to_string();
            assert_eq!(
                stored, expected,
                "{file} record {index}: stored and exported"
            );
            // The hand computation itself, from the bytes in the table.
            let raw = parse_hex(bytes).expect("bytes");
            let float = f32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
            let by_hand: f64 = format!("{float}e{exponent}").parse().expect("number");
            assert_eq!(
                by_hand,
                expected.parse::<f64>().expect("expected"),
                "{file} {index}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, HAND_COMPUTED.len());
}

#[test]
fn logger_values_equal_decoder_values_for_every_corpus_telegram() {
    let Some(any) = corpus_file("EDC") else {
        return;
    };
    let dir = any.parent().expect("test-frames");
    let mut compared = 0;
    let mut telegrams = 0;
    for entry in std::fs::read_dir(dir).expect("corpus") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "hex") {
            continue;
        }
        let telegram = parse_hex(&std::fs::read_to_string(&path).expect("read")).expect("hex");
        let Ok(data) = MeterData::decode(&[&telegram]) else {
            continue; // fixed data structures and application errors carry no records
        };
        telegrams += 1;
        let output = Command::new(env!("CARGO_BIN_EXE_mbusctl"))
            .args(["decode", "--format", "json"])
            .arg(&path)
            .output()
            .expect("run mbusctl decode");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let records: Vec<&serde_json::Value> = json["records"]
            .as_array()
            .expect("records")
            .iter()
            .filter(|r| r["kind"] == "data")
            .collect();
        assert_eq!(records.len(), data.records.len(), "{}", path.display());
        for (record, stored) in records.iter().zip(&data.records) {
            let kind = record["value"]["type"].as_str().unwrap_or("");
            if kind != "decimal" && kind != "real" {
                continue;
            }
            let text = record["value"]["text"].as_str().unwrap_or("");
            let stored = stored.value.map(|v| v.to_string()).unwrap_or_default();
            let same = stored == text
                || stored.parse::<f64>().ok() == text.parse::<f64>().ok() && !text.is_empty();
            assert!(same, "{}: decoder {text}, logger {stored}", path.display());
            compared += 1;
        }
    }
    eprintln!("{compared} values of {telegrams} telegrams compared");
    assert!(telegrams >= 60, "only {telegrams} telegrams decoded");
    assert!(compared >= 500, "only {compared} values compared");
}
