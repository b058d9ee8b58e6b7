//! What `mbusctl io` and status pages show of the appliance's inputs and outputs, read from a
//! data directory: the `io` settings, the I/O service's last status file (live values, relays,
//! display, problems), the input meters with their read status, and the level converter.

use super::config::IoBackend;
use super::service::IO_STATUS_FILE;
use crate::config::{ConfigError, ConfigStore, InputSource};
use crate::status::{ReadStatus, StatusBoard};
use serde::Serialize;
use std::path::Path;

/// One input meter.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
pub struct LevelConverterReport {
    /// On or off.
    pub enabled: bool,
    /// TCP port.
    pub tcp_port: u16,
    /// Line rate while bridging (`None` = the bus's current rate).
    pub baud: Option<u32>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IoReport {
    /// The configured backend.
    pub backend: IoBackend,
    /// The I/O service's last status (`None` when it has not run in this data directory).
    pub service: Option<serde_json::Value>,
    /// The input meters.
    pub inputs: Vec<InputMeter>,
    /// The level converter.
    pub level_converter: LevelConverterReport,
}

/// Builds the report of `data_dir`.
pub fn io_report(data_dir: &Path) -> Result<IoReport, ConfigError> {
    let config = ConfigStore::new(data_dir).load_or_default()?;
    let board = StatusBoard::load(data_dir);
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
    Ok(IoReport {
        backend: config.io.backend,
        service,
        inputs,
        level_converter: LevelConverterReport {
            enabled: config.level_converter.enabled,
            tcp_port: config.level_converter.tcp_port,
            baud: config.level_converter.baud,
        },
    })
}
