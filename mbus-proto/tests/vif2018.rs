//! EN 13757-3:2018 value information through the public record API and the JSON schema:
//! the 0xFD codes after 0x70 (RF level, daylight saving), 0xFB codes and combinable VIFEs as
//! typed, serialized modifiers.

use mbus_proto::app::Telegram;
use mbus_proto::record::{DataRecord, Record, Records};
use mbus_proto::value::Value;
use mbus_proto::vif::{Modifier, Phase, Quantity, Unit};
use serde_json::{json, Value as Json};

/// The long-header variable data used below: ident 12345678, KAM, electricity, then `records`.
fn data(records: &[u8]) -> Vec<u8> {
    let mut d = vec![
        0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x02, 0x2A, 0x00, 0x00, 0x00,
    ];
    d.extend_from_slice(records);
    d
}

fn only_record(bytes: &[u8]) -> DataRecord<'_> {
    let mut records = Records::new(bytes, 0);
    let Some(Ok(Record::Data(r))) = records.next() else {
        panic!("no data record in {bytes:02X?}");
    };
    assert!(records.next().is_none());
    r
}

#[test]
fn fd_72_is_the_daylight_saving_rule_and_fd_71_the_rf_level() {
    // DIF 0x04 (32 bit), VIF 0xFD, VIFE 0x72: type K.
    let r = only_record(&[0x04, 0xFD, 0x72, 0x02, 0x1B, 0xA3, 0x1A]);
    assert_eq!(r.value_info().quantity, Quantity::DaylightSaving);
    let Value::Dst(k) = r.value() else {
        panic!("not a DST rule: {:?}", r.value());
    };
    assert_eq!((k.begin_month, k.end_month), (3, 10));
    assert!(r.decimal().is_none());

    // DIF 0x04, VIF 0xFD, VIFE 0x71: RF level, an integer in dBm (no longer a DST rule).
    let r = only_record(&[0x04, 0xFD, 0x71, 0xB5, 0xFF, 0xFF, 0xFF]);
    let info = r.value_info();
    assert_eq!(
        (info.quantity, info.unit),
        (Quantity::RfLevel, Unit::DecibelMilliwatt)
    );
    assert_eq!(r.value(), Value::Integer(-75));
    assert_eq!(r.decimal().map(|d| d.to_string()).as_deref(), Some("-75"));
}

#[test]
fn fb_codes_scale_exactly() {
    // 0xFB 0x02: reactive energy 10^0 kvarh = 10^3 varh.
    let r = only_record(&[0x02, 0xFB, 0x02, 0xD2, 0x04]);
    assert_eq!(r.value_info().quantity, Quantity::ReactiveEnergy);
    assert_eq!(
        r.decimal().map(|d| d.to_string()).as_deref(),
        Some("1234000")
    );
    // 0xFB 0x1A: relative humidity 10^-1 %.
    let r = only_record(&[0x02, 0xFB, 0x1A, 0x9B, 0x00]);
    assert_eq!(r.value_info().unit.symbol(), "%");
    assert_eq!(r.decimal().map(|d| d.to_string()).as_deref(), Some("15.5"));
    // 0xFB 0x2E: frequency 10^-1 Hz.
    let r = only_record(&[0x02, 0xFB, 0x2E, 0xF4, 0x01]);
    assert_eq!(r.value_info().quantity, Quantity::Frequency);
    assert_eq!(r.decimal().map(|d| d.to_string()).as_deref(), Some("50.0"));
}

#[test]
fn modifiers_reach_the_record_api() {
    // Energy kWh, accumulation of absolute values (0xFC 0x10), at phase L2 (0xFC 0x02).
    let r = only_record(&[0x04, 0x86, 0xFC, 0x90, 0xFC, 0x02, 0x39, 0x30, 0x00, 0x00]);
    let m: Vec<Modifier> = r.vib.modifiers().collect();
    assert_eq!(
        m,
        [Modifier::AccumulationAbsolute, Modifier::AtPhase(Phase::L2)]
    );
    assert_eq!(
        r.decimal().map(|d| d.to_string()).as_deref(),
        Some("12345000")
    );
}

fn records_json(records: &[u8]) -> Vec<Json> {
    let bytes = data(records);
    let telegram = Telegram::parse(0x72, &bytes, 0).expect("telegram parses");
    let json = serde_json::to_value(telegram).expect("serializes");
    json["records"].as_array().expect("records").clone()
}

#[test]
fn json_lists_modifiers_with_their_parameters() {
    let records = records_json(&[
        // Volume flow l/h (VIF 0xBB), per hour (0x22), at phase L1 (0xFC 0x01).
        0x02, 0xBB, 0xA2, 0xFC, 0x01, 0x10, 0x00, //
        // Volume l, number of exceeds of the lower limit (0x41).
        0x01, 0x93, 0x41, 0x07, //
        // Energy Wh with a correction factor 10^-2 (0x74) and offset 10^-1 Wh (0x7A).
        0x02, 0x83, 0xF4, 0x7A, 0x64, 0x00, //
        // Voltage with record error "data overflow" (0x16).
        0x02, 0xFD, 0xC9, 0x16, 0xFF, 0xFF, //
        // Duration of the last upper limit exceed in hours (0x5E), then a reserved code.
        0x01, 0x93, 0xDE, 0x45, 0x03,
    ]);
    assert_eq!(records.len(), 5);
    assert_eq!(
        records[0]["modifiers"],
        json!([
            {"kind": "per_hour", "description": "per hour"},
            {"kind": "at_phase", "description": "at phase L1", "phase": "L1"}
        ])
    );
    assert_eq!(
        records[1]["modifiers"],
        json!([{"kind": "limit_exceed_count", "description": "number of exceeds of lower limit",
                "limit": "lower"}])
    );
    assert_eq!(
        records[2]["modifiers"],
        json!([
            {"kind": "multiplicative_correction", "description": "correction factor 10^-2",
             "exponent": -2},
            {"kind": "additive_correction",
             "description": "correction offset 10^-1 (unit of the VIF)", "exponent": -1}
        ])
    );
    // 100 × 10^-2 Wh + 10^-1 Wh.
    assert_eq!(records[2]["value"]["text"], "1.10");
    assert_eq!(records[2]["exponent"], -2);
    assert_eq!(
        records[3]["modifiers"],
        json!([{"kind": "record_error", "description": "record error: data overflow",
                "code": 22}])
    );
    assert_eq!(
        records[4]["modifiers"],
        json!([
            {"kind": "limit_exceed_duration",
             "description": "duration of last upper limit exceed (h)",
             "limit": "upper", "occurrence": "last", "unit": "h"},
            {"kind": "reserved", "description": "reserved code 0x45", "code": 69}
        ])
    );
}

#[test]
fn json_records_without_vifes_have_an_empty_modifier_list() {
    let records = records_json(&[0x04, 0x13, 0x39, 0x30, 0x00, 0x00]);
    assert_eq!(records[0]["modifiers"], json!([]));
    assert_eq!(records[0]["quantity"], "volume");
}
