//! What `mbusctl io` and status pages show of the appliance's inputs and outputs, read from a
//! data directory: the `io` settings, the I/O service's last status file (live values, relays,
//! display, problems), the input meters with their read status, and the level converter.

use super::config::{IoBackend, Pt1000Channel};
use super::inputs::s0_start_pending;
use super::relays::RelayRule;
use super::service::IO_STATUS_FILE;
use crate::bridge::LevelConverterState;
use crate::config::{Config, ConfigError, ConfigStore, InputSource};
use crate::status::{ReadStatus, StatusBoard};
use serde::Serialize;
use std::path::Path;

/// One input meter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InputMeter {
    /// Meter id.
    pub id: u32,
    /// Meter name.
    pub name: String,
    /// `S0 1` … `PT1000 2`.
    pub input: String,
    /// Readings stored.
    pub logging: bool,
    /// Read status.
    pub status: ReadStatus,
    /// The last read error.
    pub last_error: Option<String>,
}

/// The level converter's settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelConverterReport {
    /// On or off.
    pub enabled: bool,
    /// TCP port.
    pub tcp_port: u16,
    /// Line rate while bridging (`None` = the bus's current rate).
    pub baud: Option<u32>,
    /// What the bridge is doing: port, connected program and since when, a port that could
    /// not be opened.
    pub state: LevelConverterState,
    /// Read slots missed in the current (or else the last) session.
    pub missed_slots: u64,
}

/// An S0 input with its live value and settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct S0Report {
    /// Input number (1-based).
    pub input: u8,
    /// Its meter.
    pub meter: u32,
    /// Pulse total now.
    pub pulses: Option<f64>,
    /// Pulse total / divisor, in `unit`.
    pub value: Option<f64>,
    /// Pulses per unit.
    pub divisor: f64,
    /// Unit of the value.
    pub unit: String,
    /// Readings stored.
    pub logging: bool,
    /// Why there is no live value.
    pub error: Option<String>,
    /// A new start value waits to be applied.
    pub start_pending: bool,
}

/// A PT1000 input with its live value and settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemperatureReport {
    /// Input number (1-based).
    pub input: u8,
    /// Its meter.
    pub meter: u32,
    /// °C now.
    pub celsius: Option<f64>,
    /// Sensor resistance now, ohms.
    pub resistance: Option<f64>,
    /// Why there is no temperature (open or shorted sensor, missing device …).
    pub error: Option<String>,
    /// Readings stored.
    pub logging: bool,
    /// Its ADC channel (Linux backend).
    pub channel: Option<Pt1000Channel>,
}

/// A relay: its state and rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RelayReport {
    /// Relay number (1-based).
    pub relay: u8,
    /// Switched by a fault now.
    pub on: bool,
    /// Which faults switch it.
    pub rule: RelayRule,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IoReport {
    /// The configured backend.
    pub backend: IoBackend,
    /// The I/O service's last status (`None` when it has not run in this data directory).
    pub service: Option<serde_json::Value>,
    /// The input meters.
    pub inputs: Vec<InputMeter>,
    /// The level converter.
    pub level_converter: LevelConverterReport,
    /// The S0 inputs.
    pub s0: Vec<S0Report>,
    /// The PT1000 inputs.
    pub temperatures: Vec<TemperatureReport>,
    /// The relays.
    pub relays: Vec<RelayReport>,
}

/// Builds the report of `data_dir`.
pub fn io_report(data_dir: &Path) -> Result<IoReport, ConfigError> {
    let config = ConfigStore::new(data_dir).load_or_default()?;
    let board = StatusBoard::load(data_dir);
    Ok(io_report_of(data_dir, &config, &board))
}

/// The live value of input `input` in the service's list `list` (`s0`, `temperatures`).
fn live<'a>(
    service: Option<&'a serde_json::Value>,
    list: &str,
    input: u8,
) -> Option<&'a serde_json::Value> {
    service?[list]
        .as_array()?
        .iter()
        .find(|v| v["input"].as_u64() == Some(u64::from(input)))
}

/// Builds the report of a running logger: its configuration and status board, the live
/// values from the I/O service's status file in `data_dir`.
pub fn io_report_of(data_dir: &Path, config: &Config, board: &StatusBoard) -> IoReport {
    let service = std::fs::read(data_dir.join(IO_STATUS_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let inputs = config
        .meters
        .iter()
        .filter_map(|m| {
            let input = match m.input? {
                InputSource::S0 { input } => format!("S0 {input}"),
                InputSource::Pt1000 { input } => format!("PT1000 {input}"),
            };
            let status = board.meter(m.id);
            Some(InputMeter {
                id: m.id,
                name: m.name.clone(),
                input,
                logging: m.logging,
                status: status.status,
                last_error: status.last_error,
            })
        })
        .collect();
    let mut s0 = Vec::new();
    let mut temperatures = Vec::new();
    for m in &config.meters {
        let register = m.registers.first();
        match m.input {
            Some(InputSource::S0 { input }) => {
                let divisor = register.map_or(1.0, |r| r.divisor);
                let now = live(service.as_ref(), "s0", input);
                let pulses = now.and_then(|v| v["value"].as_f64());
                s0.push(S0Report {
                    input,
                    meter: m.id,
                    pulses,
                    value: pulses.map(|p| p / divisor),
                    divisor,
                    unit: register.map(|r| r.unit.clone()).unwrap_or_default(),
                    logging: m.logging,
                    error: now.and_then(|v| v["error"].as_str().map(String::from)),
                    start_pending: s0_start_pending(data_dir, input),
                });
            }
            Some(InputSource::Pt1000 { input }) => {
                let now = live(service.as_ref(), "temperatures", input);
                temperatures.push(TemperatureReport {
                    input,
                    meter: m.id,
                    celsius: now.and_then(|v| v["value"].as_f64()),
                    resistance: now.and_then(|v| v["resistance"].as_f64()),
                    error: now.and_then(|v| v["error"].as_str().map(String::from)),
                    logging: m.logging,
                    channel: config
                        .io
                        .pt1000
                        .get(usize::from(input.saturating_sub(1)))
                        .cloned(),
                });
            }
            None => {}
        }
    }
    s0.sort_by_key(|r| r.input);
    temperatures.sort_by_key(|r| r.input);
    let states: Vec<bool> = service
        .as_ref()
        .and_then(|s| s["relays"].as_array())
        .map(|a| a.iter().map(|v| v.as_bool() == Some(true)).collect())
        .unwrap_or_default();
    let relays = (0..states.len().max(config.io.relays.len()))
        .map(|i| RelayReport {
            relay: u8::try_from(i + 1).unwrap_or(u8::MAX),
            on: states.get(i).copied().unwrap_or(false),
            rule: config.io.relays.get(i).map(|r| r.rule).unwrap_or_default(),
        })
        .collect();
    IoReport {
        backend: config.io.backend,
        service,
        inputs,
        level_converter: LevelConverterReport {
            enabled: config.level_converter.enabled,
            tcp_port: config.level_converter.tcp_port,
            baud: config.level_converter.baud,
            state: LevelConverterState::load(data_dir),
            missed_slots: board.level_converter_missed,
        },
        s0,
        temperatures,
        relays,
    }
}
