//! `mbusctl decode` end to end: the built binary on the libmbus corpus (`MBUS_CORPUS`, default
//! `../../shared/corpus/libmbus`): `--format xml` reproduces libmbus's XML, bad input exits with 3
//! and a one-line message naming the place.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use support::{corpus, mbusctl};

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
    assert!(text.contains("561.08 m³"), "{text}");
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
            "12345 kWh",
        ),
        ("voltage, at phase L1", "230 V"),
        ("rf level", "-75 dBm"),
        ("reactive energy", "1234 kvarh"),
        ("volume, record error: data overflow", "0.001 m³"),
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

/// Hex of an RSP_UD long frame from address 1 with a long header (ident 12345678, KAM, heat)
/// and the given record bytes.
fn rsp_ud(records: &[u8]) -> Vec<u8> {
    let mut body = vec![0x08, 0x01, 0x72];
    body.extend_from_slice(&[
        0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x04, 0x2A, 0x00, 0x00, 0x00,
    ]);
    body.extend_from_slice(records);
    let l = body.len() as u8;
    let mut frame = vec![0x68, l, l, 0x68];
    frame.extend_from_slice(&body);
    frame.push(body.iter().fold(0u8, |s, &b| s.wrapping_add(b)));
    frame.push(0x16);
    frame
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn decode_hex(hex_text: &str, format: &str) -> Output {
    mbusctl(&["decode", "--format", format, "--hex", hex_text])
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn ack_frame_in_every_format() {
    let out = decode_hex("E5", "text");
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "Frame      ACK (E5): single-character acknowledgement\n"
    );
    let out = decode_hex("E5", "json");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kind"], "frame");
    assert_eq!(json["frame"], "ack");
    assert!(json["address"].is_null());
    let out = decode_hex("E5", "xml");
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<MBusFrame>\n    <Type>ACK</Type>\n</MBusFrame>\n"
    );
}

#[test]
fn short_frame_names_function_and_frame_count_bits() {
    // REQ_UD2 with FCB set to address 1.
    let out = decode_hex("10 7B 01 7C 16", "text");
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "Frame      short frame, C=0x7B REQ_UD2 (master to slave, FCB=1, FCV=1), address 1\n"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&decode_hex("10 7B 01 7C 16", "json").stdout).unwrap();
    assert_eq!(json["frame"], "short");
    assert_eq!(json["function"], "REQ_UD2");
    assert_eq!(json["fcb"], true);
    assert_eq!(json["fcv"], true);
    assert!(json["acd"].is_null());
    assert_eq!(json["address"], 1);
    let xml = stdout(&decode_hex("10 40 FD 3D 16", "xml"));
    assert!(xml.contains("<Type>SHORT</Type>"), "{xml}");
    assert!(xml.contains("<Function>SND_NKE</Function>"), "{xml}");
    assert!(xml.contains("<FCB>0</FCB>"), "{xml}");
    assert!(xml.contains("<Address>253</Address>"), "{xml}");
}

#[test]
fn control_frame_names_the_ci_field() {
    // SND_UD to the broadcast address 254 with CI 0x50 (application reset).
    let frame = "68 03 03 68 53 FE 50 A1 16";
    let out = decode_hex(frame, "text");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("control frame, C=0x53 SND_UD"), "{text}");
    assert!(
        text.contains("address 254 (broadcast, all slaves reply)"),
        "{text}"
    );
    assert!(text.contains("CI=0x50 application reset"), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&decode_hex(frame, "json").stdout).unwrap();
    assert_eq!(json["frame"], "control");
    assert_eq!(json["ci"], 0x50);
    assert_eq!(json["ci_meaning"], "application reset");
    let xml = stdout(&decode_hex(frame, "xml"));
    assert!(xml.contains("<Type>CONTROL</Type>"), "{xml}");
    assert!(xml.contains("<CI>50</CI>"), "{xml}");
    // The same frame in normalized mode is the same element.
    let out = mbusctl(&["decode", "--format", "xml", "--normalized", "--hex", frame]);
    assert_eq!(stdout(&out), xml);
    // A master's long frame (selection by secondary address) is described, not decoded.
    let select = "68 0B 0B 68 53 FD 52 78 56 34 12 FF FF FF FF B2 16";
    let out = decode_hex(select, "text");
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains(
            "long frame, C=0x53 SND_UD (master to slave, FCB=0, FCV=1), address 253 \
             (secondary addressing), CI=0x52 selection of slaves, 8 data bytes"
        ),
        "{out:?}"
    );
    let xml = stdout(&decode_hex(select, "xml"));
    assert!(
        xml.contains("<Data>78 56 34 12 FF FF FF FF</Data>"),
        "{xml}"
    );
}

#[test]
fn two_frames_with_the_second_corrupted() {
    // Volume 12.345 m³ (04 13), then the same frame with one data byte changed.
    let good = rsp_ud(&[0x04, 0x13, 0x39, 0x30, 0x00, 0x00]);
    let mut bad = good.clone();
    bad[20] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("readout.hex");
    std::fs::write(&file, format!("{}\n{}\n", hex(&good), hex(&bad))).unwrap();
    let offset = good.len();

    let out = mbusctl(&["decode", path(&file)]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("=== frame 1 of 2, byte 0 ==="), "{text}");
    assert!(text.contains("12.345 m³"), "{text}");
    assert!(!text.contains("frame 2 of 2"), "{text}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "frame 2 at byte {offset}: bad frame: byte {}: checksum",
            bad.len() - 2
        )),
        "{err}"
    );
    assert!(err.contains("1 of 2 frames could not be decoded"), "{err}");

    let out = mbusctl(&["decode", "--format", "json", path(&file)]);
    assert_eq!(out.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = json.as_array().expect("an array for several frames");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "variable");
    assert_eq!(items[0]["records"][0]["value"]["text"], "12.345");
    assert_eq!(items[1]["kind"], "bad_frame");
    assert_eq!(items[1]["number"], 2);
    assert_eq!(items[1]["offset"], offset);

    // Back to back on one line, with the good frame again behind the bad one: it still decodes.
    let all = [good.clone(), bad, good].concat();
    let out = decode_hex(&hex(&all), "xml");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out).matches("<MBusData>").count(), 2);
}

#[test]
fn truncated_frame_names_the_length_field() {
    let frame = rsp_ud(&[0x04, 0x13, 0x39, 0x30, 0x00, 0x00]);
    let cut = &frame[..frame.len() - 4];
    let out = decode_hex(&hex(cut), "text");
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "truncated: L=0x{:02X} needs {} bytes, got {}",
            frame[1],
            frame.len(),
            cut.len()
        )),
        "{err}"
    );
    assert!(!err.contains("checksum"), "{err}");
    // A truncated frame followed by a good one: the first is truncated where the second starts.
    let both = [cut, &frame[..]].concat();
    let out = decode_hex(&hex(&both), "text");
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("frame 1 at byte 0: bad frame: byte {0}: truncated: L=0x{1:02X} needs {2} bytes, got {0}", cut.len(), frame[1], frame.len())),
        "{err}"
    );
    assert!(stdout(&out).contains("12.345 m³"));
}

#[test]
fn trailing_bytes_are_counted() {
    let frame = rsp_ud(&[0x04, 0x13, 0x39, 0x30, 0x00, 0x00]);
    let out = decode_hex(&format!("{} AA BB CC", hex(&frame)), "text");
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).contains("12.345 m³"));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "byte {}: 3 trailing byte(s) after frame 1 do not start a frame",
            frame.len()
        )),
        "{err}"
    );
}

#[test]
fn values_are_shown_in_display_units() {
    let frame = rsp_ud(&[
        0x04, 0x06, 0x39, 0x30, 0x00, 0x00, // energy 12345 × 10³ Wh
        0x04, 0x87, 0x7D, 0x02, 0x00, 0x00, 0x00, // 2 × 10⁴ Wh × 10³
        0x04, 0x13, 0x39, 0x30, 0x00, 0x00, // volume 12345 l
        0x02, 0x2B, 0xE8, 0x03, // power 1000 W
        0x02, 0x2E, 0x05, 0x00, // power 5 × 10³ W
        0x02, 0x5B, 0x46, 0x00, // flow temperature 70 °C
        0x05, 0x2A, 0x00, 0xC0, 0x10, 0x45, // real power 2316.0 × 10⁻¹ W
    ]);
    let out = decode_hex(&hex(&frame), "text");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for expected in [
        "12345 kWh",
        "20 MWh",
        "12.345 m³",
        "1000 W",
        "5 kW",
        "70 °C",
        "231.6 W",
    ] {
        assert!(text.contains(expected), "{expected} missing in\n{text}");
    }
    assert!(!text.contains("231.60000"), "{text}");
}

#[test]
fn invalid_dates_show_their_raw_bytes() {
    let frame = rsp_ud(&[
        0x04, 0x6D, 0x9A, 0x2F, 0x65, 0x11, // date/time with IV set
        0x02, 0x6C, 0xFF, 0xFF, // type G "no date": month 15
        0x04, 0x6D, 0x1A, 0x2F, 0x65, 0x11, // 2011-01-05T15:26
    ]);
    let out = decode_hex(&hex(&frame), "text");
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("invalid (IV flag set: 2011-01-05T15:26:00, raw 9A 2F 65 11)"),
        "{text}"
    );
    assert!(
        text.contains("invalid (no such date: 2027-15-31, raw FF FF)"),
        "{text}"
    );
    assert!(text.contains(" 2011-01-05T15:26:00\n"), "{text}");
}
