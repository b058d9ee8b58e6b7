//! Topics and payloads: the state message of a reading and the Home Assistant discovery
//! configuration of a meter's registers. Pure functions of the configuration and the stored
//! reading: values are the stored decimals, printed with exactly their stored digits.

use crate::config::{Category, Meter};
use crate::export::MeterDescriptor;
use crate::storage::Reading;
use chrono::{TimeZone, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Where one appliance publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `<topic_base>/<appliance id>`.
    pub root: String,
    /// The appliance id.
    pub appliance: String,
    /// Home Assistant's discovery prefix, if discovery is on.
    pub discovery_prefix: Option<String>,
}

impl Topics {
    /// The retained state topic of a meter: `<root>/<meter id>/state`.
    pub fn state(&self, meter: u32) -> String {
        format!("{}/{meter}/state", self.root)
    }

    /// The availability topic: `online` while connected, `offline` (the last will) after.
    pub fn availability(&self) -> String {
        format!("{}/availability", self.root)
    }

    /// The discovery topic of register position `index` of `meter`.
    pub fn discovery(&self, prefix: &str, meter: u32, index: usize) -> String {
        format!(
            "{prefix}/sensor/mbus_{}/m{meter}_r{index}/config",
            self.appliance.replace('-', "_")
        )
    }
}

/// The state message of one reading.
#[derive(Serialize)]
struct State<'a> {
    meter: u32,
    name: &'a str,
    secondary: &'a str,
    manufacturer: &'a str,
    medium: &'a str,
    time: String,
    status: u32,
    values: BTreeMap<usize, StateValue<'a>>,
}

/// One register's value in a state message.
#[derive(Serialize)]
struct StateValue<'a> {
    name: &'a str,
    unit: &'a str,
    /// The stored decimal's text, which is a valid JSON number: its digits go out exactly
    /// (a JSON number through `f64` would drop trailing zeros and digits past 17).
    value: Option<Box<RawValue>>,
}

/// The state message of one stored reading:
///
/// ```json
/// {"meter": 1, "name": "Heat 1", "secondary": "068558172D2C0104", "manufacturer": "KAM",
///  "medium": "Heat: Outlet", "time": "2026-05-04T08:15:00Z", "status": 0,
///  "values": {"0": {"name": "Energy", "unit": "kWh", "value": 1234.567}, ...}}
/// ```
///
/// `values` is keyed by register position; a register the meter did not deliver has
/// `"value": null`.
pub fn state_payload(meter: &MeterDescriptor, reading: &Reading) -> String {
    let values = meter
        .registers
        .iter()
        .map(|register| {
            let value = reading
                .values
                .get(register.index)
                .copied()
                .flatten()
                .and_then(|v| RawValue::from_string(v.to_string()).ok());
            (
                register.index,
                StateValue {
                    name: &register.name,
                    unit: &register.unit,
                    value,
                },
            )
        })
        .collect();
    let time = Utc
        .timestamp_opt(reading.time, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let state = State {
        meter: meter.id.0,
        name: &meter.name,
        secondary: &meter.secondary,
        manufacturer: &meter.manufacturer,
        medium: &meter.medium,
        time,
        status: reading.status,
        values,
    };
    // Plain strings, numbers and raw numbers: serializing cannot fail.
    serde_json::to_string(&state).unwrap_or_default()
}

/// How Home Assistant should treat a register: its device class, unit and state class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HaClass {
    /// `energy`, `water`, `gas`, `volume`, `power`, `volume_flow_rate`, `temperature`, …
    pub device_class: Option<&'static str>,
    /// The unit as Home Assistant spells it (`m³`, `L`, `kWh`, `°C`).
    pub unit: Option<&'static str>,
    /// `total_increasing` for meter totals, `measurement` for instantaneous values.
    pub state_class: Option<&'static str>,
}

/// The Home Assistant classes of a register with stored unit `unit` on a meter of
/// `category`. Only current values (storage number 0) are totals or measurements; values
/// stored at a due date are plain sensors.
pub fn ha_class(unit: &str, category: Category, storage_number: u64) -> HaClass {
    const TOTAL: Option<&str> = Some("total_increasing");
    const MEASUREMENT: Option<&str> = Some("measurement");
    let (device_class, ha_unit, state_class) = match unit {
        "Wh" | "kWh" | "MWh" | "GWh" => (Some("energy"), Some(energy_unit(unit)), TOTAL),
        "J" | "kJ" | "MJ" | "GJ" => (Some("energy"), Some(energy_unit(unit)), TOTAL),
        "m^3" | "m³" | "l" | "L" | "ft^3" | "US gal" => {
            let class = match category {
                Category::Gas => "gas",
                Category::Water | Category::WarmWater => "water",
                _ => "volume",
            };
            (Some(class), Some(volume_unit(unit)), TOTAL)
        }
        "W" | "kW" | "MW" => (Some("power"), Some(power_unit(unit)), MEASUREMENT),
        "m^3/h" | "m³/h" => (Some("volume_flow_rate"), Some("m³/h"), MEASUREMENT),
        "l/h" | "L/h" => (Some("volume_flow_rate"), Some("L/h"), MEASUREMENT),
        "°C" => (Some("temperature"), Some("°C"), MEASUREMENT),
        "°F" => (Some("temperature"), Some("°F"), MEASUREMENT),
        "K" => (Some("temperature"), Some("K"), MEASUREMENT),
        "V" => (Some("voltage"), Some("V"), MEASUREMENT),
        "A" => (Some("current"), Some("A"), MEASUREMENT),
        "Hz" => (Some("frequency"), Some("Hz"), MEASUREMENT),
        "bar" => (Some("pressure"), Some("bar"), MEASUREMENT),
        _ => (None, None, None),
    };
    if storage_number != 0 {
        return HaClass {
            device_class,
            unit: ha_unit,
            state_class: None,
        };
    }
    HaClass {
        device_class,
        unit: ha_unit,
        state_class,
    }
}

fn energy_unit(unit: &str) -> &'static str {
    match unit {
        "Wh" => "Wh",
        "MWh" => "MWh",
        "GWh" => "GWh",
        "J" => "J",
        "kJ" => "kJ",
        "MJ" => "MJ",
        "GJ" => "GJ",
        _ => "kWh",
    }
}

fn volume_unit(unit: &str) -> &'static str {
    match unit {
        "l" | "L" => "L",
        "ft^3" => "ft³",
        "US gal" => "gal",
        _ => "m³",
    }
}

fn power_unit(unit: &str) -> &'static str {
    match unit {
        "kW" => "kW",
        "MW" => "MW",
        _ => "W",
    }
}

/// The discovery messages of a meter: one sensor per logged register, all on one device
/// (manufacturer, model, serial number from the secondary address). Each is `(topic,
/// payload)`, to be published retained.
pub fn discovery(topics: &Topics, prefix: &str, meter: &Meter) -> Vec<(String, String)> {
    let descriptor = MeterDescriptor::from_config(meter);
    let device_key = match meter.secondary {
        Some(s) => format!("mbus_{s}"),
        None => format!("mbus_{}_{}", topics.appliance, meter.id),
    };
    let serial = meter
        .secondary
        .map(|s| format!("{:08}", s.ident))
        .unwrap_or_default();
    let model = match meter.secondary {
        Some(s) => format!("{} meter, version {}", descriptor.medium, s.version),
        None => format!("{} meter", descriptor.medium),
    };
    let mut device = json!({
        "identifiers": [device_key],
        "name": meter.name,
        "manufacturer": if descriptor.manufacturer.is_empty() { "unknown".to_owned() } else { descriptor.manufacturer.clone() },
        "model": model,
    });
    if !serial.is_empty() {
        device["serial_number"] = Value::String(serial);
    }
    let storage = |index: usize| {
        meter
            .registers
            .iter()
            .find(|r| r.index as usize == index)
            .map(|r| r.storage)
            .unwrap_or(0)
    };
    descriptor
        .registers
        .iter()
        .map(|register| {
            let class = ha_class(&register.unit, meter.category, storage(register.index));
            let name = if register.description.is_empty() {
                register.name.clone()
            } else {
                register.description.clone()
            };
            let mut config = json!({
                "name": format!("{name} ({})", register.index),
                "unique_id": format!("{device_key}_r{}", register.index),
                "state_topic": topics.state(meter.id),
                "value_template": format!("{{{{ value_json['values']['{}'].value }}}}", register.index),
                "availability_topic": topics.availability(),
                "payload_available": "online",
                "payload_not_available": "offline",
                "qos": 1,
                "device": device.clone(),
            });
            if let Some(unit) = class.unit.or(Some(register.unit.as_str()).filter(|u| !u.is_empty()))
            {
                config["unit_of_measurement"] = Value::String(unit.to_owned());
            }
            if let Some(c) = class.device_class {
                config["device_class"] = Value::String(c.to_owned());
            }
            if let Some(c) = class.state_class {
                config["state_class"] = Value::String(c.to_owned());
            }
            (
                topics.discovery(prefix, meter.id, register.index),
                config.to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Decimal, MeterId};

    fn meter() -> Meter {
        let text = r#"{"id": 7, "name": "Heat 7", "addressing": "secondary",
            "secondary": "068558172D2C0104", "category": "heat", "registers": [
            {"index": 0, "name": "Energy", "description": "Energy", "meter_unit": "Wh",
             "unit": "kWh", "phase": 0, "divisor": 1000.0, "storage": 0, "tariff": 0, "off": false},
            {"index": 1, "name": "Volume", "description": "", "meter_unit": "m^3",
             "unit": "m^3", "phase": 0, "divisor": 1.0, "storage": 0, "tariff": 0, "off": false},
            {"index": 2, "name": "Power", "description": "", "meter_unit": "W",
             "unit": "W", "phase": 0, "divisor": 1.0, "storage": 0, "tariff": 0, "off": false},
            {"index": 3, "name": "Energy", "description": "Energy at due date", "meter_unit": "Wh",
             "unit": "kWh", "phase": 0, "divisor": 1000.0, "storage": 1, "tariff": 0, "off": false},
            {"index": 4, "name": "Flow temp.", "description": "", "meter_unit": "°C",
             "unit": "°C", "phase": 0, "divisor": 1.0, "storage": 0, "tariff": 0, "off": true}]}"#;
        serde_json::from_str(text).unwrap()
    }

    fn topics() -> Topics {
        Topics {
            root: "mbus/site-1".into(),
            appliance: "site-1".into(),
            discovery_prefix: Some("homeassistant".into()),
        }
    }

    #[test]
    fn state_carries_the_stored_digits_unscaled() {
        let m = meter();
        let reading = Reading {
            meter: MeterId(7),
            time: 1_777_882_500,
            status: 0,
            values: vec![
                Some(Decimal::new(1_234_567, -3)),
                Some(Decimal::new(1250, -2)),
                None,
                Some(Decimal::new(1200, 0)),
            ],
        };
        let text = state_payload(&MeterDescriptor::from_config(&m), &reading);
        assert!(text.contains(r#""value":1234.567"#), "{text}");
        // Digits beyond what an f64 holds go out exactly.
        let long = Reading {
            values: vec![Some(Decimal::new(123_456_789_012_345_678, -3))],
            ..reading.clone()
        };
        let long_text = state_payload(&MeterDescriptor::from_config(&m), &long);
        assert!(
            long_text.contains(r#""value":123456789012345.678"#),
            "{long_text}"
        );
        // Trailing zeros stay: the stored decimal is 12.50.
        assert!(text.contains(r#""value":12.50"#), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["time"], "2026-05-04T08:15:00Z");
        assert_eq!(v["values"]["2"]["value"], Value::Null);
        assert_eq!(v["values"]["0"]["unit"], "kWh");
        // The register switched off is not published.
        assert!(v["values"].get("4").is_none());
        assert_eq!(v["secondary"], "068558172D2C0104");
    }

    #[test]
    fn discovery_has_one_device_and_the_right_classes() {
        let m = meter();
        let messages = discovery(&topics(), "homeassistant", &m);
        assert_eq!(messages.len(), 4);
        let parsed: Vec<Value> = messages
            .iter()
            .map(|(_, p)| serde_json::from_str(p).unwrap())
            .collect();
        assert_eq!(
            messages[0].0,
            "homeassistant/sensor/mbus_site_1/m7_r0/config"
        );
        let energy = &parsed[0];
        assert_eq!(energy["device_class"], "energy");
        assert_eq!(energy["unit_of_measurement"], "kWh");
        assert_eq!(energy["state_class"], "total_increasing");
        assert_eq!(energy["state_topic"], "mbus/site-1/7/state");
        assert_eq!(energy["device"]["manufacturer"], "KAM");
        assert_eq!(energy["device"]["serial_number"], "06855817");
        assert_eq!(parsed[1]["device_class"], "volume");
        assert_eq!(parsed[1]["unit_of_measurement"], "m³");
        assert_eq!(parsed[2]["state_class"], "measurement");
        assert_eq!(parsed[2]["device_class"], "power");
        // A due-date value is no running total.
        assert!(parsed[3].get("state_class").is_none());
        let ids: std::collections::BTreeSet<_> =
            parsed.iter().map(|p| p["unique_id"].to_string()).collect();
        assert_eq!(ids.len(), 4);
        assert!(parsed
            .iter()
            .all(|p| p["device"]["identifiers"] == json!(["mbus_068558172D2C0104"])));
    }

    #[test]
    fn water_and_gas_volumes_land_in_their_dashboards() {
        assert_eq!(
            ha_class("m^3", Category::Water, 0).device_class,
            Some("water")
        );
        assert_eq!(ha_class("m^3", Category::Gas, 0).device_class, Some("gas"));
        assert_eq!(ha_class("l", Category::WarmWater, 0).unit, Some("L"));
        assert_eq!(
            ha_class("m^3/h", Category::Heat, 0).state_class,
            Some("measurement")
        );
        assert_eq!(
            ha_class("°C", Category::Heat, 0).device_class,
            Some("temperature")
        );
        assert_eq!(
            ha_class("HCA", Category::Heat, 0),
            HaClass {
                device_class: None,
                unit: None,
                state_class: None
            }
        );
    }
}
