//! CSV files: RFC 4180 quoting, CRLF line ends, UTF-8.

use super::{local_time, CsvLayout, ExportError, MeterDescriptor, RegisterDescriptor, Separator};
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

/// The Standard layout's column headings: `<name> [<unit>]` (just the name without a unit).
/// Headings that would repeat (the same quantity at several storage numbers, tariffs or
/// phases) get what tells them apart: ` (storage N)`, ` (tariff N)`, ` (phase N)`, and as a
/// last resort ` (register N)`.
fn headings(registers: &[RegisterDescriptor]) -> Vec<String> {
    let plain: Vec<String> = registers
        .iter()
        .map(|r| {
            if r.unit.is_empty() {
                r.name.clone()
            } else {
                format!("{} [{}]", r.name, r.unit)
            }
        })
        .collect();
    let repeated = |list: &[String], i: usize| list.iter().filter(|h| **h == list[i]).count() > 1;
    let qualified: Vec<String> = (0..plain.len())
        .map(|i| {
            let r = &registers[i];
            if !repeated(&plain, i) {
                return plain[i].clone();
            }
            let mut h = plain[i].clone();
            if r.storage_number != 0 {
                h.push_str(&format!(" (storage {})", r.storage_number));
            }
            if r.tariff != 0 {
                h.push_str(&format!(" (tariff {})", r.tariff));
            }
            if r.phase != 0 {
                h.push_str(&format!(" (phase {})", r.phase));
            }
            h
        })
        .collect();
    (0..qualified.len())
        .map(|i| {
            if repeated(&qualified, i) {
                format!("{} (register {})", qualified[i], registers[i].index)
            } else {
                qualified[i].clone()
            }
        })
        .collect()
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
            for heading in headings(&meter.registers) {
                line.text(&heading);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn register(
        index: usize,
        name: &str,
        unit: &str,
        storage: u64,
        tariff: u32,
    ) -> RegisterDescriptor {
        RegisterDescriptor {
            index,
            name: name.into(),
            description: String::new(),
            unit: unit.into(),
            phase: 0,
            divisor: 1.0,
            storage_number: storage,
            tariff,
        }
    }

    #[test]
    fn repeated_headings_say_what_tells_them_apart() {
        let registers = [
            register(0, "Energy", "kWh", 0, 0),
            register(1, "Volume", "m³", 0, 0),
            register(2, "Energy", "kWh", 1, 0),
            register(3, "Energy", "kWh", 1, 2),
            register(4, "Count", "", 0, 0),
            register(5, "Count", "", 0, 0),
        ];
        assert_eq!(
            headings(&registers),
            [
                "Energy [kWh]",
                "Volume [m³]",
                "Energy [kWh] (storage 1)",
                "Energy [kWh] (storage 1) (tariff 2)",
                "Count (register 4)",
                "Count (register 5)",
            ]
        );
    }
}
