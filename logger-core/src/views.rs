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
use serde::{Deserialize, Serialize};

/// How many meters are in each read status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The length of a consumption chart: the calendar day, week (Monday to Sunday), month or
/// year in the logger's time zone that contains the chosen end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// One bar per hour.
    Day,
    /// One bar per day.
    Week,
    /// One bar per day.
    Month,
    /// One bar per month.
    Year,
}

/// The text was not `day`, `week`, `month` or `year`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not day, week, month or year")]
pub struct UnknownPeriod(pub String);

impl std::str::FromStr for Period {
    type Err = UnknownPeriod;

    fn from_str(text: &str) -> Result<Period, UnknownPeriod> {
        Period::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| UnknownPeriod(text.to_string()))
    }
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Year];

    /// The name in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    /// The end of the chart `steps` periods later (earlier when negative) than the one whose
    /// period contains `end`, in the local time of `tz`: whole local days for a day and a
    /// week, calendar months and years for a month and a year. A day the target month lacks
    /// becomes its last day (31 March one month earlier is 29 February in a leap year, 28
    /// February otherwise), so a step never skips or repeats a month. The local time of day is
    /// kept; one that does not exist on the target day (a DST gap) moves past the gap.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use logger_core::views::Period;
    /// let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    /// let end = Utc.with_ymd_and_hms(2024, 3, 31, 10, 0, 0).unwrap(); // 12:00 in Berlin
    /// let before = Period::Month.step(end, tz, -1);
    /// assert_eq!(before, Utc.with_ymd_and_hms(2024, 2, 29, 11, 0, 0).unwrap());
    /// ```
    pub fn step(self, end: DateTime<Utc>, tz: Tz, steps: i32) -> DateTime<Utc> {
        use chrono::{Days, Months};
        let local = end.with_timezone(&tz).naive_local();
        let n = steps.unsigned_abs();
        let forward = steps >= 0;
        let moved = match self {
            Period::Day | Period::Week => {
                let days = Days::new(u64::from(n) * if self == Period::Week { 7 } else { 1 });
                if forward {
                    local.checked_add_days(days)
                } else {
                    local.checked_sub_days(days)
                }
            }
            Period::Month | Period::Year => {
                let months =
                    Months::new(n.saturating_mul(if self == Period::Year { 12 } else { 1 }));
                if forward {
                    local.checked_add_months(months)
                } else {
                    local.checked_sub_months(months)
                }
            }
        };
        moved
            .and_then(|t| {
                tz.from_local_datetime(&t).earliest().or_else(|| {
                    tz.from_local_datetime(&(t + chrono::Duration::hours(1)))
                        .earliest()
                })
            })
            .map_or(end, |t| t.with_timezone(&Utc))
    }
}

/// How a chart shows a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// A meter total (energy, volume, mass, heat-cost units …): the growth per interval.
    Consumption,
    /// An instantaneous value (power, flow, temperature …): the mean per interval.
    Mean,
}

/// Whether values in `unit` are a meter total that grows (energy, volume, mass, heat-cost
/// units), so that a chart shows their differences; rates and instantaneous quantities
/// (`kW`, `m^3/h`, `°C` …) are not.
///
/// ```
/// use logger_core::views::is_total_unit;
/// assert!(is_total_unit("kWh") && is_total_unit("m^3") && is_total_unit("HCA"));
/// assert!(!is_total_unit("kW") && !is_total_unit("m^3/h") && !is_total_unit("°C"));
/// ```
pub fn is_total_unit(unit: &str) -> bool {
    const TOTALS: [&str; 27] = [
        "Wh", "kWh", "MWh", "GWh", "J", "kJ", "MJ", "GJ", "m^3", "m³", "l", "L", "hl", "ft^3",
        "US gal", "kg", "t", "HCA", "varh", "kvarh", "Mvarh", "VAh", "kVAh", "MVAh", "cal", "kcal",
        "Mcal",
    ];
    let unit = unit.trim();
    TOTALS.contains(&unit) || unit == "Gcal"
}

/// The register a meter's chart shows by default: the first logged current value (storage 0)
/// that is a total, else the first logged current value.
pub fn chart_register(meter: &Meter) -> Option<&Register> {
    let current = || meter.registers.iter().filter(|r| !r.off && r.storage == 0);
    current()
        .find(|r| is_total_unit(&r.unit))
        .or_else(|| current().next())
}

/// One interval of a chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesPoint {
    /// Start of the interval (UTC).
    pub start: DateTime<Utc>,
    /// Start of the interval in the logger's time zone, short (`14:00`, `04.05.`, `05.2026`).
    pub label: String,
    /// Consumption or mean in the interval; `None` without readings to tell.
    pub value: Option<f64>,
    /// Readings stored in the interval.
    pub readings: usize,
}

/// A register's consumption (or mean values) per interval of a period: the data of the
/// meter details chart and of `GET /api/v1/meters/{id}/series`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsumptionSeries {
    /// Meter id.
    pub meter: u32,
    /// The register's position in the reply.
    pub register: u32,
    /// Register name.
    pub name: String,
    /// Unit of the values.
    pub unit: String,
    /// The period shown.
    pub period: Period,
    /// Differences of a total or means of an instantaneous value.
    pub kind: SeriesKind,
    /// The logger's time zone, in which the intervals are laid out.
    pub time_zone: String,
    /// First instant of the period.
    pub from: DateTime<Utc>,
    /// First instant after the period.
    pub to: DateTime<Utc>,
    /// One point per interval, oldest first.
    pub points: Vec<SeriesPoint>,
}

/// The interval starts of `period` around `end` in `tz`, and the first instant after it.
fn intervals(period: Period, end: DateTime<Utc>, tz: Tz) -> Vec<(DateTime<Utc>, String)> {
    use chrono::{Datelike, Duration, NaiveDate};
    let local = end.with_timezone(&tz).date_naive();
    let midnight = |d: NaiveDate| -> DateTime<Utc> {
        let start = crate::export::Bound::Date(d).start(tz).unwrap_or(0);
        Utc.timestamp_opt(start, 0).single().unwrap_or_default()
    };
    let label = |t: DateTime<Utc>, format: &str| t.with_timezone(&tz).format(format).to_string();
    let days = |first: NaiveDate, after: NaiveDate, format: &str| {
        first
            .iter_days()
            .take_while(|d| *d <= after)
            .map(|d| {
                let t = midnight(d);
                (t, label(t, format))
            })
            .collect::<Vec<_>>()
    };
    match period {
        Period::Day => {
            let (first, after) = (midnight(local), midnight(local + Duration::days(1)));
            let mut out: Vec<_> = std::iter::successors(Some(first), |t| {
                Some(*t + Duration::hours(1)).filter(|n| *n < after)
            })
            .map(|t| (t, label(t, "%H:%M")))
            .collect();
            out.push((after, label(after, "%H:%M")));
            out
        }
        Period::Week => {
            let monday = local - Duration::days(i64::from(local.weekday().num_days_from_monday()));
            days(monday, monday + Duration::days(7), "%d.%m.")
        }
        Period::Month => {
            let first = local.with_day(1).unwrap_or(local);
            let next = first
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(first);
            days(first, next, "%d.")
        }
        Period::Year => {
            let first = NaiveDate::from_ymd_opt(local.year(), 1, 1).unwrap_or(local);
            (0..=12)
                .filter_map(|m| first.checked_add_months(chrono::Months::new(m)))
                .map(|d| {
                    let t = midnight(d);
                    (t, label(t, "%m.%Y"))
                })
                .collect()
        }
    }
}

/// The chart data of `register` of `meter` over the `period` that contains `end` (in `tz`):
/// for a total the growth per interval (last value in the interval minus the last value
/// before it, or the first in it where there is none before), for other values the mean per
/// interval. Values are the stored ones; without a store every point is empty.
pub fn consumption_series(
    store: Option<&Store>,
    meter: &Meter,
    register: &Register,
    period: Period,
    end: DateTime<Utc>,
    tz: Tz,
) -> Result<ConsumptionSeries, StorageError> {
    let bounds = intervals(period, end, tz);
    let (from, to) = match (bounds.first(), bounds.last()) {
        (Some(f), Some(t)) => (f.0, t.0),
        _ => (end, end),
    };
    let kind = if is_total_unit(&register.unit) {
        SeriesKind::Consumption
    } else {
        SeriesKind::Mean
    };
    let mut points: Vec<SeriesPoint> = bounds
        .iter()
        .take(bounds.len().saturating_sub(1))
        .map(|(start, label)| SeriesPoint {
            start: *start,
            label: label.clone(),
            value: None,
            readings: 0,
        })
        .collect();
    if let Some(store) = store {
        let id = crate::storage::MeterId(meter.id);
        let value = |r: &Reading| {
            r.values
                .get(register.index as usize)
                .copied()
                .flatten()
                .map(|d| d.to_f64())
        };
        // The total before the period: the base of the first interval's consumption.
        let mut previous = match store.reading_at(id, from.timestamp() - 1)? {
            Some(r) => value(&r),
            None => None,
        };
        let mut slot = 0;
        let mut first: Option<f64> = None;
        let mut last: Option<f64> = None;
        let mut sum = 0.0;
        let mut count = 0usize;
        let close = |point: &mut SeriesPoint,
                     first: Option<f64>,
                     last: Option<f64>,
                     sum: f64,
                     count: usize,
                     previous: &mut Option<f64>| {
            point.value = match kind {
                SeriesKind::Consumption => {
                    let base = previous.or(first);
                    last.zip(base).map(|(l, b)| l - b)
                }
                SeriesKind::Mean => (count > 0).then(|| sum / count as f64),
            };
            if last.is_some() {
                *previous = last;
            }
        };
        for reading in store.readings(id, from.timestamp(), to.timestamp())? {
            let reading = reading?;
            while slot + 1 < points.len() && reading.time >= points[slot + 1].start.timestamp() {
                close(&mut points[slot], first, last, sum, count, &mut previous);
                slot += 1;
                (first, last, sum, count) = (None, None, 0.0, 0);
            }
            points[slot].readings += 1;
            if let Some(v) = value(&reading) {
                first = first.or(Some(v));
                last = Some(v);
                sum += v;
                count += 1;
            }
        }
        if let Some(point) = points.get_mut(slot) {
            close(point, first, last, sum, count, &mut previous);
        }
    }
    Ok(ConsumptionSeries {
        meter: meter.id,
        register: register.index,
        name: register.name.clone(),
        unit: register.unit.clone(),
        period,
        kind,
        time_zone: tz.name().to_string(),
        from,
        to,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Decimal, MeterId};

    /// `Period::step` from a local time in Berlin, as a local time.
    fn stepped(period: Period, local: &str, steps: i32) -> String {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
        let end = tz.from_local_datetime(&naive).unwrap().with_timezone(&Utc);
        period
            .step(end, tz, steps)
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Each `(period, from, steps, to)`: `steps` from local time `from` land on `to`.
    fn check_steps(cases: &[(Period, &str, i32, &str)]) {
        for &(period, from, steps, to) in cases {
            assert_eq!(
                stepped(period, from, steps),
                to,
                "{period:?} {steps} from {from}"
            );
        }
    }

    #[test]
    fn month_steps_move_by_calendar_months_and_keep_to_month_ends() {
        check_steps(&[
            // 31 days from 31 January would skip February.
            (Period::Month, "2025-01-31 12:00", 1, "2025-02-28 12:00"),
            (Period::Month, "2024-01-31 12:00", 1, "2024-02-29 12:00"),
            (Period::Month, "2024-03-31 12:00", -1, "2024-02-29 12:00"),
            (Period::Month, "2023-03-31 12:00", -1, "2023-02-28 12:00"),
            // 31 days back from 1 March would skip February as well.
            (Period::Month, "2025-03-01 00:00", -1, "2025-02-01 00:00"),
            (Period::Month, "2025-12-15 08:30", 1, "2026-01-15 08:30"),
            (Period::Month, "2026-01-15 08:30", -1, "2025-12-15 08:30"),
            (Period::Month, "2025-05-31 23:59", -3, "2025-02-28 23:59"),
        ]);
        // Twelve steps of a month land in the same month a year on.
        let mut t = "2024-01-31 12:00".to_string();
        let mut months = Vec::new();
        for _ in 0..12 {
            t = stepped(Period::Month, &t, 1);
            months.push(t[..7].to_string());
        }
        assert_eq!(months.first().map(String::as_str), Some("2024-02"));
        assert_eq!(months.last().map(String::as_str), Some("2025-01"));
        assert_eq!(
            months
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            12
        );
    }

    #[test]
    fn year_steps_move_by_calendar_years_across_leap_days() {
        check_steps(&[
            // 366 days back from 1 January 2025 would land in 2023.
            (Period::Year, "2025-01-01 00:00", -1, "2024-01-01 00:00"),
            // 366 days on from 1 January 2023 would land on 2 January 2024, and from
            // 31 December 2024 on 1 January 2026.
            (Period::Year, "2023-01-01 06:00", 1, "2024-01-01 06:00"),
            (Period::Year, "2024-12-31 06:00", 1, "2025-12-31 06:00"),
            (Period::Year, "2024-02-29 12:00", 1, "2025-02-28 12:00"),
            (Period::Year, "2024-02-29 12:00", -4, "2020-02-29 12:00"),
        ]);
    }

    #[test]
    fn day_and_week_steps_keep_the_local_time_across_daylight_saving_changes() {
        check_steps(&[
            // Berlin moves to summer time on 30 March 2025 (02:00 → 03:00).
            (Period::Day, "2025-03-29 12:00", 1, "2025-03-30 12:00"),
            (Period::Day, "2025-03-29 02:30", 1, "2025-03-30 03:30"),
            (Period::Week, "2025-03-27 00:00", 1, "2025-04-03 00:00"),
            (Period::Week, "2025-01-02 10:00", -1, "2024-12-26 10:00"),
            (Period::Day, "2024-03-01 10:00", -1, "2024-02-29 10:00"),
        ]);
    }

    fn meter(id: u32, category: Category) -> Meter {
        let mut config = Config::default();
        let mut m = crate::inventory::manual_meter(&config, id as u8, None, None);
        m.id = id;
        m.category = category;
        m.registers = vec![
            Register {
                description: "Energie".into(),
                meter_unit: "Wh".into(),
                unit: "kWh".into(),
                divisor: 1000.0,
                ..Register::new(0, "Energy")
            },
            Register {
                meter_unit: "m^3".into(),
                unit: "m^3".into(),
                off: true,
                ..Register::new(1, "Volume")
            },
            Register {
                meter_unit: "°C".into(),
                unit: "°C".into(),
                ..Register::new(2, "Flow temperature")
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

    fn chart_meter() -> Meter {
        let mut m = meter(4, Category::Heat);
        m.registers[1].off = false;
        m.registers[1].name = "Power".into();
        m.registers[1].unit = "kW".into();
        m
    }

    /// A reading before 4 May 2026 (Berlin) with energy 100, then one per hour from 00:30
    /// local time for ten hours: energy grows by 2, power is the hour.
    fn chart_store(dir: &std::path::Path) -> Store {
        let mut store = Store::open(dir.join("r.sqlite3")).unwrap();
        let midnight = Utc
            .with_ymd_and_hms(2026, 5, 3, 22, 0, 0)
            .unwrap()
            .timestamp();
        let reading = |time: i64, energy: i64, power: i64| Reading {
            meter: MeterId(4),
            time,
            status: 0,
            values: vec![
                Some(Decimal::new(energy.into(), 0)),
                Some(Decimal::new(power.into(), 0)),
            ],
        };
        store.append(&reading(midnight - 1800, 100, 0)).unwrap();
        for k in 0..10 {
            store
                .append(&reading(midnight + 1800 + 3600 * k, 102 + 2 * k, k))
                .unwrap();
        }
        store
    }

    #[test]
    fn a_total_charts_its_growth_and_an_instantaneous_value_its_mean_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let store = chart_store(dir.path());
        let m = chart_meter();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        assert_eq!(chart_register(&m).unwrap().name, "Energy");
        let end = Utc.with_ymd_and_hms(2026, 5, 4, 12, 0, 0).unwrap();
        let day =
            consumption_series(Some(&store), &m, &m.registers[0], Period::Day, end, tz).unwrap();
        assert_eq!(day.kind, SeriesKind::Consumption);
        assert_eq!(day.points.len(), 24);
        assert_eq!(
            day.from,
            Utc.with_ymd_and_hms(2026, 5, 3, 22, 0, 0).unwrap()
        );
        assert_eq!(day.points[0].label, "00:00");
        assert_eq!(day.points[0].value, Some(2.0), "base: the reading before");
        assert!(day.points[..10]
            .iter()
            .all(|p| p.value == Some(2.0) && p.readings == 1));
        assert!(day.points[10..].iter().all(|p| p.value.is_none()));
        let power =
            consumption_series(Some(&store), &m, &m.registers[1], Period::Day, end, tz).unwrap();
        assert_eq!(power.kind, SeriesKind::Mean);
        assert_eq!(power.points[3].value, Some(3.0));
        let week =
            consumption_series(Some(&store), &m, &m.registers[0], Period::Week, end, tz).unwrap();
        assert_eq!(week.points.len(), 7);
        assert_eq!(week.points[0].label, "04.05.", "4 May 2026 is a Monday");
        assert_eq!(week.points[0].value, Some(20.0));
        assert_eq!(week.points[1].value, None);
        let month =
            consumption_series(Some(&store), &m, &m.registers[0], Period::Month, end, tz).unwrap();
        assert_eq!(month.points.len(), 31);
        assert_eq!(month.points[3].value, Some(20.0));
        let year =
            consumption_series(Some(&store), &m, &m.registers[0], Period::Year, end, tz).unwrap();
        assert_eq!(year.points.len(), 12);
        assert_eq!(year.points[4].label, "05.2026");
        assert_eq!(year.points[4].value, Some(20.0));
        // Without a base before the period, the first value in it is the base.
        let alone = consumption_series(
            Some(&store),
            &m,
            &m.registers[0],
            Period::Day,
            Utc.with_ymd_and_hms(2026, 5, 3, 12, 0, 0).unwrap(),
            tz,
        )
        .unwrap();
        assert_eq!(alone.points[23].value, Some(0.0));
        let empty = consumption_series(None, &m, &m.registers[0], Period::Day, end, tz).unwrap();
        assert!(empty.points.iter().all(|p| p.value.is_none()));
    }

    #[test]
    fn a_day_with_a_clock_change_has_23_or_25_hours_and_periods_parse() {
        let m = chart_meter();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let spring = Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap();
        let autumn = Utc.with_ymd_and_hms(2026, 10, 25, 12, 0, 0).unwrap();
        for (end, hours) in [(spring, 23), (autumn, 25)] {
            let s = consumption_series(None, &m, &m.registers[0], Period::Day, end, tz).unwrap();
            assert_eq!(s.points.len(), hours);
            assert_eq!((s.to - s.from).num_hours(), hours as i64);
        }
        assert_eq!("month".parse::<Period>(), Ok(Period::Month));
        assert_eq!(
            "decade".parse::<Period>().unwrap_err().to_string(),
            "\"decade\" is not day, week, month or year"
        );
    }
}
