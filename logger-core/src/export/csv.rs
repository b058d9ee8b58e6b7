//! CSV files: RFC 4180 quoting, CRLF line ends, UTF-8.

use super::{local_time, CsvLayout, ExportError, MeterDescriptor, Separator};
use crate::storage::{Reading, StorageError};
use chrono::{DateTime, SecondsFormat};
use chrono_tz::Tz;
use std::fmt::Write as _;
use std::io::Write;

const FULL_DB_HEADER: [&str; 17] = [
    "meter_id",
    "secondary",
    "meter_name",
    "manufacturer",
    "medium",
    "time_utc",
    "time_local",
    "status",
    "register",
    "register_name",
    "description",
    "unit",
    "phase",
    "divisor",
    "storage_number",
    "tariff",
    "value",
];

/// Builds one line at a time, quoting fields that need it.
struct Line {
    text: String,
    separator: char,
    empty: bool,
}

impl Line {
    fn new(separator: Separator) -> Line {
        Line {
            text: String::with_capacity(256),
            separator: separator.as_char(),
            empty: true,
        }
    }

    fn next_field(&mut self) {
        if !self.empty {
            self.text.push(self.separator);
        }
        self.empty = false;
    }

    /// A text field, quoted if it holds the separator, a quote or a line break.
    fn text(&mut self, field: &str) {
        self.next_field();
        if field.contains([self.separator, '"', '\r', '\n']) {
            self.text.push('"');
            self.text.push_str(&field.replace('"', "\"\""));
            self.text.push('"');
        } else {
            self.text.push_str(field);
        }
    }

    /// A field that never needs quoting (numbers, times).
    fn plain(&mut self, field: impl std::fmt::Display) {
        self.next_field();
        // Writing into a String cannot fail.
        let _ = write!(self.text, "{field}");
    }

    /// The reading's value at `index`, empty if it has none there; returns how many values
    /// were written (0 or 1).
    fn value(&mut self, reading: &Reading, index: usize) -> u64 {
        match reading.values.get(index).copied().flatten() {
            Some(value) => {
                self.plain(value);
                1
            }
            None => {
                self.next_field();
                0
            }
        }
    }

    fn finish<W: Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.text.push_str("\r\n");
        out.write_all(self.text.as_bytes())?;
        self.text.clear();
        self.empty = true;
        Ok(())
    }
}

/// Writes one meter's CSV file; returns readings and values written.
pub(super) fn write<W: Write>(
    out: &mut W,
    meter: &MeterDescriptor,
    layout: CsvLayout,
    separator: Separator,
    time_zone: Tz,
    rows: impl Iterator<Item = Result<Reading, StorageError>>,
) -> Result<(u64, u64), ExportError> {
    let mut line = Line::new(separator);
    match layout {
        CsvLayout::Standard => {
            line.text("Timestamp");
            for register in &meter.registers {
                if register.unit.is_empty() {
                    line.text(&register.name);
                } else {
                    line.text(&format!("{} [{}]", register.name, register.unit));
                }
            }
        }
        CsvLayout::FullDb => FULL_DB_HEADER.iter().for_each(|h| line.text(h)),
    }
    line.finish(out)?;
    let (mut readings, mut values) = (0, 0);
    for reading in rows {
        let reading = reading?;
        readings += 1;
        let local = local_time(reading.time, time_zone);
        match layout {
            CsvLayout::Standard => {
                line.plain(&local);
                for register in &meter.registers {
                    values += line.value(&reading, register.index);
                }
                line.finish(out)?;
            }
            CsvLayout::FullDb => {
                let utc = DateTime::from_timestamp(reading.time, 0)
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                    .unwrap_or_else(|| reading.time.to_string());
                for register in &meter.registers {
                    line.plain(meter.id);
                    line.text(&meter.secondary);
                    line.text(&meter.name);
                    line.text(&meter.manufacturer);
                    line.text(&meter.medium);
                    line.plain(&utc);
                    line.plain(&local);
                    line.plain(reading.status);
                    line.plain(register.index);
                    line.text(&register.name);
                    line.text(&register.description);
                    line.text(&register.unit);
                    line.plain(register.phase);
                    line.plain(register.divisor);
                    line.plain(register.storage_number);
                    line.plain(register.tariff);
                    values += line.value(&reading, register.index);
                    line.finish(out)?;
                }
            }
        }
    }
    Ok((readings, values))
}
