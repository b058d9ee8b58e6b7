//! The installation the building-automation benches serve: 250 meters × 10 registers, each
//! with one stored reading.

use logger_core::config::Config;
use logger_core::storage::{MeterId, Reading};

/// Meters configured.
pub const METERS: u32 = 250;
/// Logged registers per meter.
pub const REGISTERS: u32 = 10;

/// The configuration of the meters, with settings section `section` set to `settings`.
pub fn config(section: &str, settings: serde_json::Value) -> Config {
    let units = ["kWh", "m³", "kW", "m³/h", "°C", "°C", "K", "h", "MWh", "V"];
    let meters: Vec<serde_json::Value> = (1..=METERS)
        .map(|id| {
            let registers: Vec<serde_json::Value> = (0..REGISTERS)
                .map(|i| {
                    serde_json::json!({"index": i, "name": format!("Value {i}"),
                                       "unit": units[i as usize]})
                })
                .collect();
            serde_json::json!({"id": id, "name": format!("Meter {id}"), "addressing": "primary",
                               "primary": id - 1, "registers": registers})
        })
        .collect();
    let mut text = serde_json::json!({"version": 2, "meters": meters});
    text[section] = settings;
    Config::from_json(&text.to_string()).expect("configuration")
}

/// The stored reading of meter `meter`.
pub fn reading(meter: u32) -> Reading {
    Reading {
        meter: MeterId(meter),
        time: 1_700_000_000,
        status: 0,
        values: (0..REGISTERS)
            .map(|i| Some(format!("{}.{}", meter * 1000 + i, i).parse().unwrap()))
            .collect(),
    }
}
