//! The installation the building-automation benches serve: 250 meters × 10 registers, each
//! with one stored reading.

use logger_core::config::{Config, ConfigStore};
use logger_core::storage::{MeterId, Reading, Store, DATABASE_FILE_NAME};

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

/// A data directory with `config` saved and every meter's reading stored.
pub fn data_dir(config: &Config) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    ConfigStore::new(dir.path())
        .save(config)
        .expect("configuration saved");
    let mut store = Store::open(dir.path().join(DATABASE_FILE_NAME)).expect("store");
    let readings: Vec<Reading> = (1..=METERS).map(reading).collect();
    store.append_batch(&readings).expect("readings stored");
    dir
}
