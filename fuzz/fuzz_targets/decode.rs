//! Frame layer and application layer on arbitrary bytes: must never panic; every frame that
//! parses must encode back to exactly the bytes it was parsed from; every record and value of a
//! reply is decoded; JSON and XML (plain and normalized) render exactly when all records are
//! valid, and the JSON is well-formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mbus_proto::app::Telegram;
use mbus_proto::frame::{Control, Frame, FrameError, Parsed, MAX_DATA_LEN, MAX_FRAME_LEN};
use mbus_proto::record::Record;
use mbus_proto::xml::{self, Mode};
use std::fmt::Write as _;

fuzz_target!(|input: &[u8]| {
    parse_stream(input);
    check_exact(input);
    check_prefixes(input);
    // Random mutations rarely keep length and checksum right, so also wrap the input in a valid
    // frame to drive the application layer directly.
    if let Some(frame) = repaired_frame(input) {
        let Ok(encoded) = frame.encode() else {
            return;
        };
        parse_stream(&encoded);
    }
});

/// Walks every frame in `input` the way a receiver would, checking each one.
fn parse_stream(input: &[u8]) {
    let mut rest = input;
    while !rest.is_empty() {
        match Frame::parse(rest) {
            Ok(Parsed::Complete { frame, consumed }) => {
                assert!(consumed >= 1 && consumed <= rest.len());
                check_frame(&frame, &rest[..consumed]);
                rest = &rest[consumed..];
            }
            Ok(Parsed::Incomplete { needed }) => {
                assert!(needed >= 1);
                assert!(rest.len() + needed <= MAX_FRAME_LEN);
                return;
            }
            Err(error) => {
                assert!(error.offset() < rest.len());
                // Skip one byte and resynchronise, as a receiver does after garbage.
                rest = &rest[1..];
            }
        }
    }
}

/// `parse_exact` agrees with the streaming parser.
fn check_exact(input: &[u8]) {
    match (Frame::parse_exact(input), Frame::parse(input)) {
        (
            Ok(frame),
            Ok(Parsed::Complete {
                frame: streamed,
                consumed,
            }),
        ) => {
            assert_eq!(frame, streamed);
            assert_eq!(consumed, input.len());
        }
        (
            Err(FrameError::TrailingBytes { offset, count }),
            Ok(Parsed::Complete { consumed, .. }),
        ) => {
            assert_eq!(offset, consumed);
            assert_eq!(offset + count, input.len());
        }
        (Err(FrameError::Truncated { offset, needed }), Ok(Parsed::Incomplete { needed: n })) => {
            assert_eq!(offset, input.len());
            assert_eq!(needed, n);
        }
        (Err(FrameError::TruncatedLong { needed, got, .. }), Ok(Parsed::Incomplete { .. })) => {
            assert_eq!(got, input.len());
            assert!(needed > got);
        }
        (Err(exact), Err(streamed)) => assert_eq!(exact, streamed),
        (exact, streamed) => panic!("parse_exact {exact:?} disagrees with parse {streamed:?}"),
    }
}

/// Streaming: every prefix of the first frame's bytes parses as incomplete or to the same outcome
/// as the whole input, and "incomplete" never asks for more bytes than the frame still lacks.
fn check_prefixes(input: &[u8]) {
    let whole = Frame::parse(input);
    let end = match whole {
        Ok(Parsed::Complete { consumed, .. }) => consumed,
        Err(e) => e.offset() + 1,
        Ok(Parsed::Incomplete { .. }) => input.len(),
    };
    for cut in 0..end.min(input.len()) {
        match Frame::parse(&input[..cut]) {
            Ok(Parsed::Incomplete { needed }) => {
                if let Ok(Parsed::Complete { consumed, .. }) = whole {
                    assert!(
                        cut + needed <= consumed,
                        "prefix {cut} needs {needed} of {consumed}"
                    );
                }
            }
            prefix => assert_eq!(prefix, whole, "prefix of {cut} bytes"),
        }
    }
}

/// Encoding a parsed frame reproduces its bytes exactly; long frames go through the
/// application layer.
fn check_frame(frame: &Frame<'_>, wire: &[u8]) {
    let encoded = match frame.encode() {
        Ok(encoded) => encoded,
        Err(e) => panic!("parsed frame {frame:?} does not encode: {e}"),
    };
    assert_eq!(&*encoded, wire, "re-encoded frame differs from its input");
    assert_eq!(frame.encoded_len(), wire.len());
    assert_eq!(Frame::parse_exact(wire), Ok(*frame));
    if let Ok(telegram) = Telegram::from_frame(frame) {
        check_telegram(&telegram, wire.len());
    }
}

/// Decodes every record and value, and renders JSON and both XML forms.
fn check_telegram(telegram: &Telegram<'_>, frame_len: usize) {
    let mut text = String::new();
    let mut records_valid = true;
    match telegram {
        Telegram::Variable(data) => {
            let _ = write!(text, "{:?}", data.header);
            let _ = data.more_records_follow();
            let mut last_offset = None;
            for record in data.records() {
                let record = match record {
                    Ok(record) => record,
                    Err(e) => {
                        assert!(e.offset() < frame_len, "{e:?} beyond the frame");
                        assert!(!e.to_string().is_empty());
                        records_valid = false;
                        break;
                    }
                };
                let offset = match record {
                    Record::Data(r) => {
                        let info = r.value_info();
                        let _ = write!(
                            text,
                            "{:?} {} {} {} {} {} {}",
                            r.function(),
                            r.storage_number(),
                            r.tariff(),
                            r.subunit(),
                            info.quantity.name(),
                            info.unit.symbol(),
                            r.coding().name(),
                        );
                        let _ = write!(text, "{:?}", r.value());
                        if let Some(decimal) = r.decimal() {
                            let _ = write!(text, "{decimal} {}", decimal.to_f64());
                        }
                        if let Some(number) = r.scaled_value() {
                            let _ = write!(text, "{number} {}", number.to_f64());
                        }
                        r.offset
                    }
                    Record::Manufacturer(m) => {
                        let _ = m.more_records_follow();
                        m.offset
                    }
                };
                assert!(
                    offset < frame_len,
                    "record offset {offset} beyond the frame"
                );
                assert!(last_offset < Some(offset), "record offsets go backwards");
                last_offset = Some(offset);
            }
        }
        Telegram::Fixed(fixed) => {
            let _ = write!(
                text,
                "{:?} {} {}",
                fixed.ident(),
                fixed.medium(),
                fixed.stored_values()
            );
            for i in 0..2 {
                let _ = write!(text, "{:?} {}", fixed.counter(i), fixed.unit_code(i));
            }
        }
        Telegram::Error(e) => {
            let _ = write!(text, "{:?}", e.description());
        }
        Telegram::Alarm(status) => {
            let _ = write!(text, "{status}");
        }
        Telegram::Encrypted(e) => {
            let _ = write!(text, "{:?} {} {}", e.header, e.mode, e.payload.len());
        }
    }
    match serde_json::to_vec(telegram) {
        Ok(json) => {
            assert!(
                records_valid,
                "JSON written for a telegram with a bad record"
            );
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&json) {
                panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(&json));
            }
        }
        Err(_) => assert!(
            !records_valid,
            "JSON failed on a telegram whose records are valid"
        ),
    }
    for mode in [Mode::Plain, Mode::Normalized] {
        let mut out = String::from("kept");
        match xml::write(telegram, mode, &mut out) {
            Ok(()) => {
                assert!(
                    records_valid,
                    "XML written for a telegram with a bad record"
                );
                assert!(out.starts_with("kept<?xml") && out.ends_with("</MBusData>\n"));
            }
            Err(_) => {
                assert!(
                    !records_valid,
                    "XML failed on a telegram whose records are valid"
                );
                assert_eq!(out, "kept", "a failed XML write left output behind");
            }
        }
    }
}

/// The input as the body (C, A, CI, data) of a slave's long frame, with a valid length and
/// checksum. An input that already looks like a long frame keeps its A/CI/data bytes and its C
/// field without the PRM bit, so the reply reaches the application layer.
fn repaired_frame(input: &[u8]) -> Option<Frame<'_>> {
    let body = match input {
        [0x68, _, _, _, body @ .., _, _] if body.len() >= 3 => body,
        body => body,
    };
    let (&[c, address, ci], data) = body.split_first_chunk::<3>()?;
    let data = &data[..data.len().min(MAX_DATA_LEN)];
    let control = Control(c & !0x40);
    Some(Frame::with_user_data(control, address, ci, data))
}
