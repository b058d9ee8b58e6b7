//! Manual data export: stored readings of chosen meters as CSV or JSON files in a ZIP.
//!
//! One file per meter, named `DataExport_<secondary>_<name>_<dd_MM_yyyy_HH_mm_ss>.<csv|json>`
//! after the export time in the logger's time zone; meters without readings in the range are
//! left out. Readings can be thinned to the last one per hour, day or month (calendar units
//! of the logger's time zone, so a DST change day is one day of 23 or 25 hours). The file
//! layouts are described in `EXPORT.md` beside this crate's manifest.
//!
//! Everything streams: readings go from the database through the filter and the formatter
//! into the compressor a row at a time, so memory stays flat whatever the range.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use logger_core::export::{
//!     export_zip, CsvLayout, ExportOptions, Filter, Format, MeterDescriptor, RegisterDescriptor,
//!     Separator,
//! };
//! use logger_core::storage::{Decimal, MeterId, Reading, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::open(dir.path().join("readings.sqlite3"))?;
//! store.append(&Reading {
//!     meter: MeterId(1),
//!     time: 1_704_103_200, // 2024-01-01 10:00 UTC
//!     status: 0,
//!     values: vec![Some(Decimal::new(1_234_567, -3))],
//! })?;
//! let meters = [MeterDescriptor {
//!     id: MeterId(1),
//!     name: "Wohnung 12a".into(),
//!     secondary: "00041284B5151002".into(),
//!     manufacturer: "EMU".into(),
//!     medium: "Electricity".into(),
//!     registers: vec![RegisterDescriptor {
//!         index: 0,
//!         name: "Energy".into(),
//!         description: "Wirkenergie Bezug".into(),
//!         unit: "kWh".into(),
//!         phase: 0,
//!         divisor: 1000.0,
//!         storage_number: 0,
//!         tariff: 0,
//!     }],
//! }];
//! let options = ExportOptions {
//!     from: 0,
//!     to: i64::MAX,
//!     format: Format::Csv { layout: CsvLayout::Standard, separator: Separator::Semicolon },
//!     filter: Filter::All,
//!     time_zone: chrono_tz::Europe::Zurich,
//!     exported_at: Utc.with_ymd_and_hms(2024, 2, 8, 11, 0, 45).unwrap(),
//! };
//! let mut zip = std::io::Cursor::new(Vec::new());
//! let summary = export_zip(&store, &meters, &options, &mut zip)?;
//! assert_eq!(
//!     summary.files[0].name,
//!     "DataExport_00041284B5151002_Wohnung 12a_08_02_2024_12_00_45.csv"
//! );
//! assert_eq!(summary.files[0].readings, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod csv;
mod filter;
mod json;
mod range;
mod request;

pub use filter::LastPerPeriod;
pub use range::Bound;
pub use request::{export_data_dir, ExportRequest};

use crate::config::ConfigError;
use crate::storage::{MeterId, Reading, StorageError, Store};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{BufWriter, Seek, Write};

/// A meter as the export shows it; built from the logger configuration
/// ([`MeterDescriptor::from_config`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MeterDescriptor {
    /// The meter's id in the store.
    pub id: MeterId,
    /// Display name (used in the file name).
    pub name: String,
    /// Secondary address as shown, e.g. `00041284B5151002` (libmbus's text; used in the file
    /// name).
    pub secondary: String,
    /// Manufacturer code, e.g. `EMU`; empty if unknown.
    pub manufacturer: String,
    /// Medium, e.g. `Water`.
    pub medium: String,
    /// The logged registers, in the order of the export's columns.
    pub registers: Vec<RegisterDescriptor>,
}

/// A logged register of a meter.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterDescriptor {
    /// Position of the register's value in each stored [`Reading::values`].
    pub index: usize,
    /// Short name, e.g. `Energy`.
    pub name: String,
    /// Description, e.g. `Wirkenergie Bezug`.
    pub description: String,
    /// Unit of the stored value, e.g. `kWh`; empty if none.
    pub unit: String,
    /// Phase (0 = none / total).
    pub phase: u8,
    /// Divisor applied before storing (stored = raw / divisor).
    pub divisor: f64,
    /// Storage number of the record ("Mon.").
    pub storage_number: u64,
    /// Tariff of the record.
    pub tariff: u32,
}

/// Which readings of the range are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Filter {
    /// The last reading of every clock hour (local time; the repeated hour of a DST change
    /// counts as its own hour).
    Hour,
    /// The last reading of every local calendar day.
    Day,
    /// The last reading of every local calendar month.
    Month,
    /// Every reading.
    All,
}

/// CSV column layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvLayout {
    /// One row per reading: the local time, then one column per register headed
    /// `name [unit]`.
    Standard,
    /// One row per stored value with every stored column: meter id, secondary address, name,
    /// manufacturer, medium, UTC and local time, status, and the register's index, name,
    /// description, unit, phase, divisor, storage number, tariff, then the value.
    FullDb,
}

/// CSV field separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Separator {
    /// `,`
    Comma,
    /// `;`
    Semicolon,
    /// ` `
    Space,
    /// tab
    Tab,
}

impl Separator {
    /// The separator character.
    pub fn as_char(self) -> char {
        match self {
            Separator::Comma => ',',
            Separator::Semicolon => ';',
            Separator::Space => ' ',
            Separator::Tab => '\t',
        }
    }
}

/// File format of the export; in JSON `"json"` or
/// `{"csv": {"layout": "standard", "separator": "semicolon"}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Comma-separated values (RFC 4180 quoting, CRLF line ends).
    Csv {
        /// Columns.
        layout: CsvLayout,
        /// Field separator.
        separator: Separator,
    },
    /// One JSON document per meter.
    Json,
}

impl Format {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv { .. } => "csv",
            Format::Json => "json",
        }
    }
}

/// What to export and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// First time included, unix seconds UTC.
    pub from: i64,
    /// First time no longer included (exclusive end), unix seconds UTC.
    pub to: i64,
    /// CSV or JSON.
    pub format: Format,
    /// All readings or the last per hour/day/month.
    pub filter: Filter,
    /// The logger's time zone: local times in the files, the calendar of the filter.
    pub time_zone: Tz,
    /// When the export is made (for the file names).
    pub exported_at: DateTime<Utc>,
}

/// One file written into the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// The meter.
    pub meter: MeterId,
    /// File name inside the ZIP.
    pub name: String,
    /// Readings written.
    pub readings: u64,
    /// Values written (missing values not counted).
    pub values: u64,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// One entry per file, in the order of the meters given; meters without readings in
    /// the range have none.
    pub files: Vec<ExportedFile>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Writing the output failed.
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    /// The ZIP archive could not be written.
    #[error("writing the export archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// `from` is not before `to`.
    #[error("export range is empty: from {from} is not before to {to} (unix seconds)")]
    EmptyRange {
        /// Start given.
        from: i64,
        /// End given.
        to: i64,
    },
    /// The same meter was chosen twice.
    #[error("meter {0} is listed twice")]
    DuplicateMeter(MeterId),
    /// A date or time given for the range is not understood.
    #[error("{0}")]
    BadBound(String),
    /// The logger configuration (meters, time zone) could not be loaded.
    #[error("logger configuration: {0}")]
    Config(#[from] ConfigError),
    /// A chosen meter is not configured.
    #[error("meter {0} is not configured")]
    UnknownMeter(u32),
}

/// Exports `meters` into a ZIP archive written to `out`, one file per meter with readings in
/// the range. Reads one consistent snapshot of the store.
pub fn export_zip<W: Write + Seek>(
    store: &Store,
    meters: &[MeterDescriptor],
    options: &ExportOptions,
    out: W,
) -> Result<ExportSummary, ExportError> {
    write_archive(store, meters, options, zip::ZipWriter::new(out))
}

/// Like [`export_zip`], for outputs that cannot seek (an HTTP response body, a pipe): sizes
/// and checksums follow each file's data instead of preceding it.
pub fn export_zip_stream<W: Write>(
    store: &Store,
    meters: &[MeterDescriptor],
    options: &ExportOptions,
    out: W,
) -> Result<ExportSummary, ExportError> {
    write_archive(store, meters, options, zip::ZipWriter::new_stream(out))
}

fn write_archive<W: Write + Seek>(
    store: &Store,
    meters: &[MeterDescriptor],
    options: &ExportOptions,
    mut zip: zip::ZipWriter<W>,
) -> Result<ExportSummary, ExportError> {
    check_range(options)?;
    let mut seen = HashSet::new();
    if let Some(twice) = meters.iter().find(|m| !seen.insert(m.id)) {
        return Err(ExportError::DuplicateMeter(twice.id));
    }
    let entry_options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true)
        .last_modified_time(zip_time(options))
        .unix_permissions(0o644);
    let mut names = HashSet::new();
    let summary = store.with_snapshot(|store| {
        let mut summary = ExportSummary::default();
        for meter in meters {
            let mut rows = filtered(store, meter.id, options)?.peekable();
            if rows.peek().is_none() {
                continue;
            }
            let name = unique_name(&mut names, meter, options);
            zip.start_file(name.as_str(), entry_options)?;
            let mut writer = BufWriter::with_capacity(1 << 16, &mut zip);
            let (readings, values) = write_meter(&mut writer, meter, options, rows)?;
            writer.flush()?;
            drop(writer);
            summary.files.push(ExportedFile {
                meter: meter.id,
                name,
                readings,
                values,
            });
        }
        Ok::<_, ExportError>(summary)
    })?;
    zip.finish()?;
    Ok(summary)
}

/// Writes the file of one meter, as it appears in the archive, to `out` (for uploads of
/// single files); returns `None` and writes nothing if the meter has no readings in the
/// range.
pub fn export_meter<W: Write>(
    store: &Store,
    meter: &MeterDescriptor,
    options: &ExportOptions,
    out: W,
) -> Result<Option<ExportedFile>, ExportError> {
    check_range(options)?;
    store.with_snapshot(|store| {
        let mut rows = filtered(store, meter.id, options)?.peekable();
        if rows.peek().is_none() {
            return Ok(None);
        }
        let mut writer = BufWriter::with_capacity(1 << 16, out);
        let (readings, values) = write_meter(&mut writer, meter, options, rows)?;
        writer.flush()?;
        Ok(Some(ExportedFile {
            meter: meter.id,
            name: file_name(meter, options),
            readings,
            values,
        }))
    })
}

fn check_range(options: &ExportOptions) -> Result<(), ExportError> {
    if options.from >= options.to {
        return Err(ExportError::EmptyRange {
            from: options.from,
            to: options.to,
        });
    }
    Ok(())
}

/// The readings of one meter in the options' range after the filter.
fn filtered<'s>(
    store: &'s Store,
    meter: MeterId,
    options: &ExportOptions,
) -> Result<LastPerPeriod<crate::storage::Readings<'s>>, StorageError> {
    let readings = store.readings(meter, options.from, options.to)?;
    Ok(LastPerPeriod::new(
        readings,
        options.filter,
        options.time_zone,
    ))
}

/// Writes one meter's file in the options' format; returns readings and values written.
fn write_meter<W: Write>(
    out: &mut W,
    meter: &MeterDescriptor,
    options: &ExportOptions,
    rows: impl Iterator<Item = Result<Reading, StorageError>>,
) -> Result<(u64, u64), ExportError> {
    match options.format {
        Format::Csv { layout, separator } => {
            csv::write(out, meter, layout, separator, options.time_zone, rows)
        }
        Format::Json => json::write(out, meter, options, rows),
    }
}

/// `DataExport_<secondary>_<name>_<dd_MM_yyyy_HH_mm_ss>.<ext>`, with characters that are
/// unsafe in file names replaced by `_`.
pub fn file_name(meter: &MeterDescriptor, options: &ExportOptions) -> String {
    let stamp = options
        .exported_at
        .with_timezone(&options.time_zone)
        .format("%d_%m_%Y_%H_%M_%S");
    format!(
        "DataExport_{}_{}_{stamp}.{}",
        sanitize(&meter.secondary),
        sanitize(&meter.name),
        options.format.extension()
    )
}

/// Distinct file names even for meters sharing secondary address and name: later ones get
/// `_<meter id>` before the extension.
fn unique_name(
    taken: &mut HashSet<String>,
    meter: &MeterDescriptor,
    options: &ExportOptions,
) -> String {
    let mut name = file_name(meter, options);
    if taken.contains(&name) {
        let ext = options.format.extension();
        let stem = name.strip_suffix(&format!(".{ext}")).unwrap_or(&name);
        name = format!("{stem}_{}.{ext}", meter.id);
    }
    taken.insert(name.clone());
    name
}

fn sanitize(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '.' | '_' | '+' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn zip_time(options: &ExportOptions) -> zip::DateTime {
    use chrono::{Datelike, Timelike};
    let local = options.exported_at.with_timezone(&options.time_zone);
    let naive = local.naive_local();
    zip::DateTime::from_date_and_time(
        u16::try_from(naive.year()).unwrap_or(1980),
        naive.month() as u8,
        naive.day() as u8,
        naive.hour() as u8,
        naive.minute() as u8,
        naive.second() as u8,
    )
    .unwrap_or_default()
}

/// A reading's time as local RFC 3339 text with offset, e.g. `2024-03-31T03:00:00+02:00`.
fn local_time(time: i64, tz: Tz) -> String {
    match tz.timestamp_opt(time, 0).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => time.to_string(),
    }
}
