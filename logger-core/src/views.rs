//! What user interfaces show of the logger and its meters: the logger status summary, meter
//! summaries with their last reading, and the register table. The command line and the web
//! build their output from these, so both show the same fields with the same values.
//!
//! Values are the stored ones (already divided by the register divisor when they were
//! stored), written out with exactly their stored digits; nothing here scales or rounds.
//!
//! ```
//! use logger_core::config::Config;
//! use logger_core::status::{LoggerState, StatusBoard};
//! use logger_core::views::LoggerSummary;
//! let config = Config::default();
//! let summary = LoggerSummary::new(&config, &StatusBoard::default(), LoggerState::Idle, None);
//! assert_eq!(summary.meters, 0);
//! assert_eq!(serde_json::to_value(&summary)?["state"], "idle");
//! # Ok::<(), serde_json::Error>(())
//! ```

use crate::config::{Addressing, Category, Config, Meter, Register};
use crate::status::{LoggerState, MeterStatus, ReadStatus, StatusBoard};
use crate::storage::{Reading, StorageError, Store};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// How many meters are in each read status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusCounts {
    /// Never read.
    pub never_read: usize,
    /// Last read ok.
    pub ok: usize,
    /// Last read ok, but the meter reports error flags.
    pub ok_with_errors: usize,
    /// Last read failed.
    pub failed: usize,
    /// The meter answers encrypted; a key is needed.
    pub encrypted: usize,
}

impl StatusCounts {
    fn add(&mut self, status: ReadStatus) {
        match status {
            ReadStatus::NeverRead => self.never_read += 1,
            ReadStatus::Ok => self.ok += 1,
            ReadStatus::OkWithErrors => self.ok_with_errors += 1,
            ReadStatus::Failed => self.failed += 1,
            ReadStatus::Encrypted => self.encrypted += 1,
        }
    }
}

/// The logger at a glance: header, footer and the status endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggerSummary {
    /// The logger's name.
    pub name: String,
    /// Where it is installed.
    pub location: String,
    /// Time zone of its schedule and of local times.
    pub time_zone: String,
    /// idle/scan/read/rs/err.
    pub state: LoggerState,
    /// Meters configured.
    pub meters: usize,
    /// Meters per read status.
    pub counts: StatusCounts,
    /// The next grid slot.
    pub next_read: Option<DateTime<Utc>>,
    /// Read cycles that overran since the status file was started.
    pub overruns: u64,
}

impl LoggerSummary {
    /// The summary of a configuration, its status board and the state now.
    pub fn new(
        config: &Config,
        status: &StatusBoard,
        state: LoggerState,
        next_read: Option<DateTime<Utc>>,
    ) -> LoggerSummary {
        let mut counts = StatusCounts::default();
        for m in &config.meters {
            counts.add(status.meter(m.id).status);
        }
        LoggerSummary {
            name: config.general.name.clone(),
            location: config.general.location.clone(),
            time_zone: config.general.timezone.clone(),
            state,
            meters: config.meters.len(),
            counts,
            next_read,
            overruns: status.overruns,
        }
    }
}

/// One stored value with its register's names and unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueView {
    /// The register's position in the meter's reply.
    pub index: u32,
    /// Register name.
    pub name: String,
    /// Register description.
    pub description: String,
    /// Unit of the stored value.
    pub unit: String,
    /// The stored value with its stored digits; `None` where the meter did not deliver it.
    pub value: Option<String>,
}

/// A stored reading as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingView {
    /// When it was read (UTC).
    pub time: DateTime<Utc>,
    /// The same instant in the logger's time zone.
    pub local_time: String,
    /// Status bits stored with it; 0 = none.
    pub status: u32,
    /// One entry per logged (not `off`) register.
    pub values: Vec<ValueView>,
}

impl ReadingView {
    /// The reading of `meter` as shown in time zone `tz`.
    pub fn new(meter: &Meter, reading: &Reading, tz: Tz) -> ReadingView {
        let time = Utc
            .timestamp_opt(reading.time, 0)
            .single()
            .unwrap_or_default();
        ReadingView {
            time,
            local_time: time.with_timezone(&tz).to_rfc3339(),
            status: reading.status,
            values: meter
                .registers
                .iter()
                .filter(|r| !r.off)
                .map(|r| ValueView {
                    index: r.index,
                    name: r.name.clone(),
                    description: r.description.clone(),
                    unit: r.unit.clone(),
                    value: stored_value(reading, r),
                })
                .collect(),
        }
    }
}

fn stored_value(reading: &Reading, register: &Register) -> Option<String> {
    reading
        .values
        .get(register.index as usize)
        .copied()
        .flatten()
        .map(|v| v.to_string())
}

/// A meter with its status and last reading: the overview rows, `GET /api/v1/meters` and
/// `mbusctl meters --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeterSummary {
    /// Meter id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Where it is installed.
    pub location: String,
    /// Read by primary or secondary address.
    pub addressing: Addressing,
    /// Primary address.
    pub primary: u8,
    /// Secondary address in libmbus's text.
    pub secondary: Option<String>,
    /// Manufacturer letters (with a secondary address).
    pub manufacturer: Option<String>,
    /// Medium name, e.g. `Water`.
    pub medium: String,
    /// Medium code.
    pub medium_code: u8,
    /// Overview group.
    pub category: Category,
    /// Baud rate.
    pub baud: u32,
    /// Read cycle in effect.
    pub cycle: String,
    /// Logged registers.
    pub registers: usize,
    /// Read status.
    pub status: MeterStatus,
    /// The newest stored reading.
    pub last_reading: Option<ReadingView>,
}

impl MeterSummary {
    /// The summary of `meter` under `config`, with `last` as its newest reading.
    pub fn new(
        config: &Config,
        meter: &Meter,
        status: &StatusBoard,
        last: Option<&Reading>,
    ) -> MeterSummary {
        MeterSummary {
            id: meter.id,
            name: meter.name.clone(),
            location: meter.location.clone(),
            addressing: meter.addressing,
            primary: meter.primary,
            secondary: meter.secondary.map(|s| s.to_string()),
            manufacturer: meter.secondary.map(|_| meter.manufacturer()),
            medium: meter.medium_name().to_string(),
            medium_code: meter.medium(),
            category: meter.category,
            baud: meter.baud,
            cycle: meter
                .effective_cycle(config.general.default_cycle)
                .to_string(),
            registers: meter.registers.iter().filter(|r| !r.off).count(),
            status: status.meter(meter.id),
            last_reading: last.map(|r| ReadingView::new(meter, r, config.tz())),
        }
    }

    /// Every configured meter, in configuration order, with its last reading from `store`
    /// (none without a store).
    pub fn all(
        config: &Config,
        status: &StatusBoard,
        store: Option<&Store>,
    ) -> Result<Vec<MeterSummary>, StorageError> {
        config
            .meters
            .iter()
            .map(|m| MeterSummary::load(config, m, status, store))
            .collect()
    }

    /// One meter's summary with its last reading from `store`.
    pub fn load(
        config: &Config,
        meter: &Meter,
        status: &StatusBoard,
        store: Option<&Store>,
    ) -> Result<MeterSummary, StorageError> {
        let last = match store {
            Some(store) => store.last_reading(crate::storage::MeterId(meter.id))?,
            None => None,
        };
        Ok(MeterSummary::new(config, meter, status, last.as_ref()))
    }
}

/// One row of a meter's register table (configuration and, where read, the value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterRow {
    /// Position of the record in the reply.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Unit the meter sends.
    pub meter_unit: String,
    /// Unit of the stored value.
    pub unit: String,
    /// Phase 0…3.
    pub phase: u8,
    /// Stored = meter value / divisor.
    pub divisor: f64,
    /// Storage number ("Mon.").
    pub storage: u64,
    /// Tariff.
    pub tariff: u32,
    /// Not logged.
    pub off: bool,
    /// The value in `reading`, if given and delivered.
    pub value: Option<String>,
}

/// The register table of `meter`, with the values of `reading` where given.
pub fn register_table(meter: &Meter, reading: Option<&Reading>) -> Vec<RegisterRow> {
    meter
        .registers
        .iter()
        .map(|r| RegisterRow {
            index: r.index,
            name: r.name.clone(),
            description: r.description.clone(),
            meter_unit: r.meter_unit.clone(),
            unit: r.unit.clone(),
            phase: r.phase,
            divisor: r.divisor,
            storage: r.storage,
            tariff: r.tariff,
            off: r.off,
            value: reading.filter(|_| !r.off).and_then(|x| stored_value(x, r)),
        })
        .collect()
}

/// The overview groups in display order, each with the meters of its category.
pub fn by_category(meters: &[MeterSummary]) -> Vec<(Category, Vec<&MeterSummary>)> {
    const ORDER: [Category; 7] = [
        Category::Heat,
        Category::WarmWater,
        Category::Water,
        Category::Electricity,
        Category::Gas,
        Category::Cooling,
        Category::Other,
    ];
    ORDER
        .iter()
        .map(|c| (*c, meters.iter().filter(|m| m.category == *c).collect()))
        .filter(|(_, list): &(Category, Vec<&MeterSummary>)| !list.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Decimal, MeterId};

    fn meter(id: u32, category: Category) -> Meter {
        let mut config = Config::default();
        let mut m = crate::inventory::manual_meter(&config, id as u8, None, None);
        m.id = id;
        m.category = category;
        m.registers = vec![
            Register {
                index: 0,
                name: "Energy".into(),
                description: "Energie".into(),
                meter_unit: "Wh".into(),
                unit: "kWh".into(),
                phase: 0,
                divisor: 1000.0,
                storage: 0,
                tariff: 0,
                off: false,
            },
            Register {
                index: 1,
                name: "Volume".into(),
                description: String::new(),
                meter_unit: "m^3".into(),
                unit: "m^3".into(),
                phase: 0,
                divisor: 1.0,
                storage: 0,
                tariff: 0,
                off: true,
            },
            Register {
                index: 2,
                name: "Flow temperature".into(),
                description: String::new(),
                meter_unit: "°C".into(),
                unit: "°C".into(),
                phase: 0,
                divisor: 1.0,
                storage: 0,
                tariff: 0,
                off: false,
            },
        ];
        config.meters.push(m.clone());
        m
    }

    #[test]
    fn summaries_show_stored_values_with_their_digits_and_skip_off_registers() {
        let mut config = Config::default();
        config.general.timezone = "Europe/Berlin".into();
        let m = meter(3, Category::Heat);
        config.meters.push(m.clone());
        let mut board = StatusBoard::default();
        let t = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
        board.record_success(3, t, 0);
        let reading = Reading {
            meter: MeterId(3),
            time: t.timestamp(),
            status: 0,
            values: vec![
                Some(Decimal::new(1_234_500, -3)),
                Some(Decimal::new(7, 0)),
                None,
            ],
        };
        let s = MeterSummary::new(&config, &m, &board, Some(&reading));
        assert_eq!(s.registers, 2);
        assert_eq!(s.status.status, ReadStatus::Ok);
        let last = s.last_reading.unwrap();
        assert_eq!(last.local_time, "2026-05-04T10:00:00+02:00");
        assert_eq!(last.values.len(), 2);
        assert_eq!(last.values[0].value.as_deref(), Some("1234.500"));
        assert_eq!(last.values[0].unit, "kWh");
        assert_eq!(last.values[1].name, "Flow temperature");
        assert_eq!(last.values[1].value, None);
        let rows = register_table(&m, Some(&reading));
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].value, None, "an off register shows no value");
        assert!(rows[1].off);
        assert_eq!(rows[0].divisor, 1000.0);
    }

    #[test]
    fn the_logger_summary_counts_meters_per_status() {
        let mut config = Config::default();
        config.general.name = "Keller".into();
        for (id, c) in [
            (1, Category::Heat),
            (2, Category::Water),
            (3, Category::Water),
        ] {
            config.meters.push(meter(id, c));
        }
        let mut board = StatusBoard::default();
        let t = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
        board.record_success(1, t, 0);
        board.record_success(2, t, 0x08);
        let s = LoggerSummary::new(&config, &board, LoggerState::Read, None);
        assert_eq!(s.name, "Keller");
        assert_eq!(s.meters, 3);
        assert_eq!(
            s.counts,
            StatusCounts {
                never_read: 1,
                ok: 1,
                ok_with_errors: 1,
                failed: 0,
                encrypted: 0
            }
        );
        let all = MeterSummary::all(&config, &board, None).unwrap();
        let groups = by_category(&all);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, Category::Heat);
        assert_eq!(groups[1].0, Category::Water);
        assert_eq!(groups[1].1.len(), 2);
    }
}
