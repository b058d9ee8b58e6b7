//! `serde::Serialize` for decoded telegrams: a stable JSON schema with exact values.
//!
//! Serialize a [`Telegram`] with any serde format (`serde_json::to_string(&telegram)`). A
//! malformed record makes serialization fail with the record error's message. The schema
//! (also in `docs/json-schema.md`), fields always present unless marked optional:
//!
//! ```text
//! Telegram = { "kind": "variable", "ci": u8, "header": Header, "records": [Record],
//!              "more_records_follow": bool }
//!          | { "kind": "fixed", "ci": u8, "id": string, "access_number": u8, "status": u8,
//!              "medium": u8, "medium_name": string, "stored": bool,
//!              "counters": [ { "unit_code": u8, "unit": string, "value": string|null } × 2 ] }
//!          | { "kind": "error", "ci": 112, "code": u8, "description": string|null }
//!          | { "kind": "alarm", "ci": 113, "status": u8 }
//!          | { "kind": "encrypted", "ci": u8, "header": Header, "security_mode": u8,
//!              "security_mode_name": string, "payload_length": usize,
//!              "payload": string (hex, wire order) }
//! Frame    = { "kind": "frame", "frame": "ack"|"short"|"control"|"long",
//!              "control": u8|null, "function": string|null ("SND_NKE", "REQ_UD2", …),
//!              "from_master": bool|null, "fcb": bool|null, "fcv": bool|null (master frames),
//!              "acd": bool|null, "dfc": bool|null (slave frames), "address": u8|null,
//!              "address_meaning": string|null, "ci": u8|null, "ci_meaning": string|null,
//!              "data": string (hex, wire order) }
//!            (a frame without application data: E5, short frames, master requests;
//!             serialize a `describe::FrameDescription`)
//! Header   = { "type": "long", "id": string (8 hex/BCD digits),
//!              "secondary": string|null (16 hex digits as libmbus writes the secondary
//!              address; null if the ident is not BCD), "manufacturer": string,
//!              "version": u8, "medium": u8, "medium_name": string|null,
//!              "product": string|null, "access_number": u8, "status": u8, "signature": u16 }
//!          | { "type": "short", "access_number": u8, "status": u8, "signature": u16 }
//!          | { "type": "none" }
//! Record   = { "kind": "data", "offset": usize, "dif": u8, "difes": [u8], "vif": u8,
//!              "vifes": [u8], "function": "instantaneous"|"maximum"|"minimum"|"error",
//!              "storage": u64, "tariff": u32, "subunit": u32, "coding": string,
//!              "quantity": string, "unit": string, "exponent": i8,
//!              "plain_text_unit": string|null, "value": Value, "modifiers": [Modifier] }
//!          | { "kind": "manufacturer", "offset": usize, "more_records_follow": bool,
//!              "data": string (hex, wire order) }
//! Value    = { "type": "none" }
//!          | { "type": "decimal", "mantissa": string, "exponent": i16, "text": string }
//!          | { "type": "real", "raw": f32 (as sent), "value": f64|null (scaled),
//!              "text": string (scaled, shortest digits) }
//!          | { "type": "date", "text": "YYYY-MM-DD" }
//!          | { "type": "date_time", "text": "YYYY-MM-DDThh:mm:ss", "invalid": bool,
//!              "summer_time": bool }
//!          | { "type": "time", "text": "hh:mm:ss" }
//!          | { "type": "dst", "begin_hour": u8, "begin_day": u8, "begin_month": u8,
//!              "end_day": u8, "end_month": u8, "local_deviation": i8, "dst_deviation": i8 }
//!          | { "type": "text", "text": string }
//!          | { "type": "bytes", "hex": string (wire order) }
//!          | { "type": "invalid_bcd", "hex": string (digits as sent, most significant first) }
//! Modifier = { "kind": string (snake_case, see `vif::Modifier::name`),
//!              "description": string, ...parameters of that kind }
//!   parameters: "record_error": "code": u8;  "per_input_pulse"/"per_output_pulse": "channel";
//!   "limit_value"/"limit_exceed_count"/"value_during_limit_exceed": "limit": "lower"|"upper";
//!   "limit_exceed_date": "limit", "occurrence": "first"|"last", "edge": "begin"|"end";
//!   "limit_exceed_duration": "limit", "occurrence", "unit": "s"|"min"|"h"|"d";
//!   "duration_of": "occurrence", "unit";  "date_of": "occurrence", "edge";
//!   "multiplicative_correction"/"additive_correction": "exponent": i8;
//!   "at_phase": "phase": "L1"|"L2"|"L3"|"N"|"L1-L2"|"L2-L3"|"L3-L1";  "at_quadrant":
//!   "quadrant": 1–4;  "reserved"/"reserved_extension": "code": u8
//! ```
//!
//! Decimal mantissas are strings so that no JSON reader rounds them; `text` is the same number
//! in plain notation with the VIF exponent and correction VIFEs applied (e.g. `"561.08"`). A
//! real's `value` and `text` are scaled the same way (see
//! [`DataRecord::scaled_value`](crate::record::DataRecord::scaled_value)); `raw` is the float
//! as the meter sent it.
//!
//! ```
//! use mbus_proto::app::Telegram;
//!
//! let data = [0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x04, 0x2A, 0x00, 0x00, 0x00,
//!             0x04, 0x14, 0x2C, 0xDB, 0x00, 0x00];
//! let telegram = Telegram::parse(0x72, &data, 0)?;
//! let json = serde_json::to_value(&telegram).unwrap();
//! assert_eq!(json["header"]["manufacturer"], "KAM");
//! assert_eq!(json["header"]["secondary"], "123456782D2C0104");
//! assert_eq!(json["records"][0]["value"]["text"], "561.08");
//! # Ok::<(), mbus_proto::app::DecodeError>(())
//! ```

use crate::address::manufacturer_letters;
use crate::app::{security_mode_name, FixedData, Header, Telegram, VariableData};
use crate::describe::{address_meaning, ci_meaning, FrameDescription};
use crate::hex::HexBytes;
use crate::names::{fixed_medium_name, fixed_unit_name, medium_name, product_name};
use crate::record::{DataRecord, ManufacturerData, Record};
use crate::value::{Decimal, Value};
use crate::vif::Modifier;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

fn hex(bytes: &[u8]) -> String {
    HexBytes::packed(bytes).to_string()
}

fn letters(code: u16) -> String {
    manufacturer_letters(code)
        .iter()
        .map(|&c| char::from(c))
        .collect()
}

impl Serialize for Telegram<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Telegram::Variable(v) => serialize_variable(v, s),
            Telegram::Encrypted(e) => {
                let mut m = s.serialize_map(Some(7))?;
                m.serialize_entry("kind", "encrypted")?;
                m.serialize_entry("ci", &e.ci)?;
                m.serialize_entry("header", &e.header)?;
                m.serialize_entry("security_mode", &e.mode)?;
                m.serialize_entry("security_mode_name", security_mode_name(e.mode))?;
                m.serialize_entry("payload_length", &e.payload.len())?;
                m.serialize_entry("payload", &hex(e.payload))?;
                m.end()
            }
            Telegram::Fixed(f) => serialize_fixed(f, s),
            Telegram::Error(e) => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("kind", "error")?;
                m.serialize_entry("ci", &crate::app::CI_ERROR)?;
                m.serialize_entry("code", &e.code)?;
                m.serialize_entry("description", &e.description())?;
                m.end()
            }
            Telegram::Alarm(status) => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("kind", "alarm")?;
                m.serialize_entry("ci", &crate::app::CI_ALARM)?;
                m.serialize_entry("status", status)?;
                m.end()
            }
        }
    }
}

impl Serialize for FrameDescription<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kind", "frame")?;
        m.serialize_entry("frame", &self.kind.name().to_ascii_lowercase())?;
        let c = self.control;
        let master = c.map(|c| c.from_master);
        let bit = |from_master: bool, get: fn(&crate::describe::ControlMeaning) -> bool| {
            c.filter(|c| c.from_master == from_master).map(|c| get(&c))
        };
        m.serialize_entry("control", &c.map(|c| c.raw))?;
        m.serialize_entry("function", &c.map(|c| c.function.to_string()))?;
        m.serialize_entry("from_master", &master)?;
        m.serialize_entry("fcb", &bit(true, |c| c.fcb_or_acd))?;
        m.serialize_entry("fcv", &bit(true, |c| c.fcv_or_dfc))?;
        m.serialize_entry("acd", &bit(false, |c| c.fcb_or_acd))?;
        m.serialize_entry("dfc", &bit(false, |c| c.fcv_or_dfc))?;
        m.serialize_entry("address", &self.address)?;
        m.serialize_entry("address_meaning", &self.address.and_then(address_meaning))?;
        m.serialize_entry("ci", &self.ci)?;
        m.serialize_entry("ci_meaning", &self.ci.and_then(ci_meaning))?;
        m.serialize_entry("data", &hex(self.data))?;
        m.end()
    }
}

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Header::Long(h) => {
                m.serialize_entry("type", "long")?;
                m.serialize_entry("id", &format!("{:08X}", h.ident_raw()))?;
                m.serialize_entry(
                    "secondary",
                    &h.secondary_address().ok().map(|a| a.to_string()),
                )?;
                m.serialize_entry("manufacturer", &letters(h.manufacturer))?;
                m.serialize_entry("version", &h.version)?;
                m.serialize_entry("medium", &h.medium)?;
                m.serialize_entry("medium_name", &medium_name(h.medium))?;
                m.serialize_entry(
                    "product",
                    &product_name(h.manufacturer, h.version, h.medium, h.ident_bcd),
                )?;
                m.serialize_entry("access_number", &h.access_number)?;
                m.serialize_entry("status", &h.status)?;
                m.serialize_entry("signature", &h.signature)?;
            }
            Header::Short(h) => {
                m.serialize_entry("type", "short")?;
                m.serialize_entry("access_number", &h.access_number)?;
                m.serialize_entry("status", &h.status)?;
                m.serialize_entry("signature", &h.signature)?;
            }
            Header::None => m.serialize_entry("type", "none")?,
        }
        m.end()
    }
}

struct RecordList<'a>(&'a VariableData<'a>);

impl Serialize for RecordList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for r in self.0.records() {
            match r.map_err(S::Error::custom)? {
                Record::Data(d) => seq.serialize_element(&d)?,
                Record::Manufacturer(m) => seq.serialize_element(&m)?,
            }
        }
        seq.end()
    }
}

fn serialize_variable<S: Serializer>(v: &VariableData<'_>, s: S) -> Result<S::Ok, S::Error> {
    let more = v.more_records_follow().map_err(S::Error::custom)?;
    let mut m = s.serialize_map(Some(5))?;
    m.serialize_entry("kind", "variable")?;
    m.serialize_entry("ci", &v.ci)?;
    m.serialize_entry("header", &v.header)?;
    m.serialize_entry("records", &RecordList(v))?;
    m.serialize_entry("more_records_follow", &more)?;
    m.end()
}

struct Counter<'a>(&'a FixedData, usize);

impl Serialize for Counter<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let code = self.0.unit_code(self.1);
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("unit_code", &code)?;
        m.serialize_entry("unit", fixed_unit_name(code))?;
        m.serialize_entry("value", &self.0.counter(self.1).map(|v| v.to_string()))?;
        m.end()
    }
}

fn serialize_fixed<S: Serializer>(f: &FixedData, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(9))?;
    m.serialize_entry("kind", "fixed")?;
    m.serialize_entry("ci", &f.ci)?;
    m.serialize_entry("id", &format!("{:08X}", f.ident_raw()))?;
    m.serialize_entry("access_number", &f.access_number)?;
    m.serialize_entry("status", &f.status)?;
    m.serialize_entry("medium", &f.medium())?;
    m.serialize_entry("medium_name", fixed_medium_name(f.medium()))?;
    m.serialize_entry("stored", &f.stored_values())?;
    m.serialize_entry("counters", &[Counter(f, 0), Counter(f, 1)])?;
    m.end()
}

impl Serialize for ManufacturerData<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("kind", "manufacturer")?;
        m.serialize_entry("offset", &self.offset)?;
        m.serialize_entry("more_records_follow", &self.more_records_follow())?;
        m.serialize_entry("data", &hex(self.data))?;
        m.end()
    }
}

struct ValueJson<'a>(&'a DataRecord<'a>);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        match r.value() {
            Value::None => m.serialize_entry("type", "none")?,
            v @ (Value::Integer(_) | Value::Bcd(_)) => match r.decimal() {
                Some(d) => {
                    m.serialize_entry("type", "decimal")?;
                    m.serialize_entry("mantissa", &d.mantissa.to_string())?;
                    m.serialize_entry("exponent", &d.exponent)?;
                    m.serialize_entry("text", &d.to_string())?;
                }
                None => {
                    m.serialize_entry("type", "invalid_bcd")?;
                    let digits = match v {
                        Value::Bcd(b) => {
                            format!("{:0width$X}", b.raw, width = usize::from(b.digits))
                        }
                        _ => String::new(),
                    };
                    m.serialize_entry("hex", &digits)?;
                }
            },
            Value::Real(f) => {
                m.serialize_entry("type", "real")?;
                // The float's own shortest digits as a double, so that readers that widen
                // to f64 (serde_json::Value, JavaScript) see 41.737434, not 41.73743438720703.
                m.serialize_entry("raw", &Decimal::from_f32(f).map(Decimal::to_f64))?;
                match r.scaled_value() {
                    Some(v) => {
                        m.serialize_entry("value", &v.to_f64())?;
                        m.serialize_entry("text", &v.to_string())?;
                    }
                    None => {
                        m.serialize_entry("value", &())?;
                        m.serialize_entry("text", "")?;
                    }
                }
            }
            Value::Date(d) => {
                m.serialize_entry("type", "date")?;
                m.serialize_entry("text", &d.to_string())?;
            }
            Value::DateTime(t) => {
                m.serialize_entry("type", "date_time")?;
                m.serialize_entry("text", &t.to_string())?;
                m.serialize_entry("invalid", &t.invalid)?;
                m.serialize_entry("summer_time", &t.summer_time)?;
            }
            Value::Time(t) => {
                m.serialize_entry("type", "time")?;
                m.serialize_entry("text", &t.to_string())?;
            }
            Value::Dst(k) => {
                m.serialize_entry("type", "dst")?;
                m.serialize_entry("begin_hour", &k.begin_hour)?;
                m.serialize_entry("begin_day", &k.begin_day)?;
                m.serialize_entry("begin_month", &k.begin_month)?;
                m.serialize_entry("end_day", &k.end_day)?;
                m.serialize_entry("end_month", &k.end_month)?;
                m.serialize_entry("local_deviation", &k.local_deviation)?;
                m.serialize_entry("dst_deviation", &k.dst_deviation)?;
            }
            Value::Text(t) => {
                m.serialize_entry("type", "text")?;
                m.serialize_entry("text", &t.to_string())?;
            }
            Value::Bytes(b) => {
                m.serialize_entry("type", "bytes")?;
                m.serialize_entry("hex", &hex(b))?;
            }
        }
        m.end()
    }
}

impl Serialize for DataRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let info = self.value_info();
        let mut m = s.serialize_map(Some(17))?;
        m.serialize_entry("kind", "data")?;
        m.serialize_entry("offset", &self.offset)?;
        m.serialize_entry("dif", &self.dif)?;
        m.serialize_entry("difes", self.difes)?;
        m.serialize_entry("vif", &self.vib.vif)?;
        m.serialize_entry("vifes", self.vib.vifes)?;
        m.serialize_entry("function", self.function().name())?;
        m.serialize_entry("storage", &self.storage_number())?;
        m.serialize_entry("tariff", &self.tariff())?;
        m.serialize_entry("subunit", &self.subunit())?;
        m.serialize_entry("coding", self.coding().name())?;
        m.serialize_entry("quantity", info.quantity.name())?;
        m.serialize_entry("unit", info.unit.symbol())?;
        m.serialize_entry("exponent", &info.exponent)?;
        m.serialize_entry("plain_text_unit", &info.plain_text.map(|t| t.to_string()))?;
        m.serialize_entry("value", &ValueJson(self))?;
        m.serialize_entry("modifiers", &ModifierList(self))?;
        m.end()
    }
}

struct ModifierList<'a>(&'a DataRecord<'a>);

impl Serialize for ModifierList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.vib.modifiers())
    }
}

/// `{"kind": …, "description": …}` plus the parameters of the kind (see the module schema).
impl Serialize for Modifier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kind", self.name())?;
        m.serialize_entry("description", &self.to_string())?;
        match *self {
            Modifier::RecordError(code)
            | Modifier::Reserved(code)
            | Modifier::ReservedExtension(code) => m.serialize_entry("code", &code)?,
            Modifier::PerInputPulse(channel) | Modifier::PerOutputPulse(channel) => {
                m.serialize_entry("channel", &channel)?
            }
            Modifier::LimitValue(l)
            | Modifier::LimitExceedCount(l)
            | Modifier::ValueDuringLimitExceed(l) => m.serialize_entry("limit", l.name())?,
            Modifier::LimitExceedDate(l, o, e) => {
                m.serialize_entry("limit", l.name())?;
                m.serialize_entry("occurrence", o.name())?;
                m.serialize_entry("edge", e.name())?;
            }
            Modifier::LimitExceedDuration(l, o, u) => {
                m.serialize_entry("limit", l.name())?;
                m.serialize_entry("occurrence", o.name())?;
                m.serialize_entry("unit", u.symbol())?;
            }
            Modifier::DurationOf(o, u) => {
                m.serialize_entry("occurrence", o.name())?;
                m.serialize_entry("unit", u.symbol())?;
            }
            Modifier::DateOf(o, e) => {
                m.serialize_entry("occurrence", o.name())?;
                m.serialize_entry("edge", e.name())?;
            }
            Modifier::MultiplyPow10(e) | Modifier::AddPow10(e) => {
                m.serialize_entry("exponent", &e)?
            }
            Modifier::AtPhase(p) => m.serialize_entry("phase", p.name())?,
            Modifier::AtQuadrant(q) => m.serialize_entry("quadrant", &q)?,
            _ => {}
        }
        m.end()
    }
}
