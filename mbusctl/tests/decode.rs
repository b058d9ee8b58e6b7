//! `mbusctl decode` end to end: the built binary on the libmbus corpus (`MBUS_CORPUS`, default
//! `../../shared/corpus/libmbus`): `--format xml` reproduces libmbus's XML, bad input exits with 3
//! and a one-line message naming the place.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("MBUS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpus/libmbus"
            ))
        });
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "corpus folder {} is missing (set MBUS_CORPUS)",
            dir.display()
        );
    }
    eprintln!(
        "\n*** SKIPPING mbusctl decode corpus tests: {} not found (set MBUS_CORPUS) ***\n",
        dir.display()
    );
    None
}

fn mbusctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mbusctl"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run mbusctl")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn hex_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .collect();
    files.sort();
    files
}

#[test]
fn xml_output_equals_libmbus_for_every_test_frame() {
    let Some(dir) = corpus() else { return };
    let files = hex_files(&dir.join("test-frames"));
    assert_eq!(files.len(), 76);
    for f in &files {
        let stem = f.file_stem().unwrap().to_str().unwrap();
        for (flags, ext) in [(&[][..], "xml"), (&["--normalized"][..], "norm.xml")] {
            let mut args = vec!["decode", "--format", "xml"];
            args.extend_from_slice(flags);
            args.push(path(f));
            let out = mbusctl(&args);
            assert!(out.status.success(), "{stem}: {:?}", out);
            let expected = std::fs::read(f.with_file_name(format!("{stem}.{ext}"))).unwrap();
            assert!(out.stdout == expected, "{stem}.{ext} differs");
        }
    }
}

#[test]
fn text_and_json_formats() {
    let Some(dir) = corpus() else { return };
    let f = dir.join("test-frames/kamstrup_multical_601.hex");
    let out = mbusctl(&["decode", path(&f)]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Kamstrup Multical 601"), "{text}");
    assert!(text.contains("561.08 m^3"), "{text}");
    assert!(text.contains("2011-01-05T15:26:00"), "{text}");

    let out = mbusctl(&["decode", "--format", "json", path(&f)]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["header"]["manufacturer"], "KAM");
    assert_eq!(json["records"][2]["value"]["text"], "561.08");
    assert_eq!(json["records"][2]["quantity"], "volume");
}

/// A telegram whose records carry combinable VIFEs and 2018 extension codes: energy kWh with
/// "accumulation of absolute values" and "at phase L2" (0xFC 0x10, 0xFC 0x02), voltage at
/// phase L1, RF level (0xFD 0x71), reactive energy (0xFB 0x02) and volume with the record error
/// "data overflow" (0x16).
const MODIFIER_TELEGRAM: &str = "68 32 32 68 08 01 72 78 56 34 12 2D 2C 01 02 2A 00 00 00 \
    04 86 FC 90 FC 02 39 30 00 00  02 FD C9 FC 01 E6 00  01 FD 71 B5  04 FB 02 D2 04 00 00 \
    04 93 16 01 00 00 00 E6 16";

#[test]
fn text_output_lists_modifiers_after_the_quantity() {
    let out = mbusctl(&["decode", "--hex", MODIFIER_TELEGRAM]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("quantity"))
        .skip(1)
        .collect();
    let expected = [
        (
            "energy, accumulation of absolute values, at phase L2",
            "12345000 Wh",
        ),
        ("voltage, at phase L1", "230 V"),
        ("rf level", "-75 dBm"),
        ("reactive energy", "1234000 varh"),
        ("volume, record error: data overflow", "0.001 m^3"),
    ];
    assert_eq!(rows.len(), expected.len(), "{text}");
    for (row, (quantity, value)) in rows.iter().zip(expected) {
        // Columns: number, function, storage, tariff, sub-unit, then quantity and value.
        let words: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(words[1..5], ["instantaneous", "0", "0", "0"], "{row:?}");
        assert_eq!(
            words[5..].join(" "),
            format!("{quantity} {value}"),
            "{row:?}"
        );
    }

    let out = mbusctl(&["decode", "--format", "json", "--hex", MODIFIER_TELEGRAM]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["records"][0]["modifiers"][1]["kind"], "at_phase");
    assert_eq!(json["records"][0]["modifiers"][1]["phase"], "L2");
    assert_eq!(json["records"][2]["quantity"], "rf_level");
    assert_eq!(json["records"][2]["unit"], "dBm");
}

#[test]
fn hex_on_the_command_line() {
    let out = mbusctl(&["decode", "--hex", "68 04 04 68 08 01 70 08 81 16"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Application busy"), "{text}");
}

fn assert_bad_input(args: &[&str], needle: &str) {
    let out = mbusctl(args);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_exits_with_3_and_names_the_place() {
    assert_bad_input(&["decode", "--hex", "68 0G"], "line 1, column 5");
    assert_bad_input(
        &["decode", "--hex", "68 03 03 68 08 01 72 7C 15"],
        "byte 7: checksum",
    );
    assert_bad_input(&["decode", "--hex", "68 03 03 68 53 FE 51 A2 16"], "byte 4");
    let Some(dir) = corpus() else { return };
    let cases = [
        ("error-frames/too_many_dife.hex", "more than 10 DIFEs"),
        ("error-frames/too_many_vife.hex", "more than 10 VIFEs"),
        (
            "error-frames/premature_end_of_data1.hex",
            "premature end of data",
        ),
        ("error-frames/premature_end_of_dif1.hex", "DIF/DIFE chain"),
        ("error-frames/premature_end_of_vif1.hex", "VIF/VIFE chain"),
        ("error-frames/too_short_header.hex", "header of 12 bytes"),
        ("unsupported-frames/manual_frame1.hex", "lone hex digit"),
        ("unsupported-frames/invalid_length.hex", "byte 1: length 0"),
    ];
    for (file, needle) in cases {
        let p = dir.join(file);
        assert_bad_input(&["decode", path(&p)], needle);
        assert_bad_input(&["decode", "--format", "xml", path(&p)], needle);
    }
}

#[test]
fn normalized_needs_xml() {
    let out = mbusctl(&[
        "decode",
        "--normalized",
        "--hex",
        "68 04 04 68 08 01 70 08 81 16",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_file_is_a_failure_not_bad_input() {
    let out = mbusctl(&["decode", "/nonexistent/frame.hex"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn encrypted_telegrams_show_the_header_and_the_security_mode() {
    // Configuration field 0x0510: security mode 5 (AES-128-CBC), one encrypted block.
    let hex =
        "68 17 17 68 08 01 72 78 56 34 12 2D 2C 01 04 2A 00 10 05 93 1A 07 C4 55 E0 01 7B 55 16";
    let out = mbusctl(&["decode", "--hex", hex]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Id         12345678"), "{text}");
    assert!(text.contains("security mode 5 (AES-128-CBC"), "{text}");
    let out = mbusctl(&["decode", "--format", "json", "--hex", hex]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "encrypted");
    assert_eq!(json["security_mode"], 5);
    assert_eq!(json["payload_length"], 8);
    assert_eq!(json["header"]["manufacturer"], "KAM");
    let out = mbusctl(&["decode", "--format", "xml", "--hex", hex]);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.contains("<Encryption>5</Encryption>"), "{xml}");
    assert!(!xml.contains("<DataRecord"), "{xml}");
}
