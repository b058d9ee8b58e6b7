//! JSON files: one document per meter, readings one per line.

use super::{local_time, ExportError, ExportOptions, Filter, MeterDescriptor};
use crate::storage::{Reading, StorageError};
use std::io::Write;

/// A JSON string literal.
fn string(text: &str) -> String {
    // Serializing a &str cannot fail.
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

fn filter_name(filter: Filter) -> &'static str {
    match filter {
        Filter::Hour => "hour",
        Filter::Day => "day",
        Filter::Month => "month",
        Filter::All => "all",
    }
}

/// Writes one meter's JSON document; returns readings and values written.
pub(super) fn write<W: Write>(
    out: &mut W,
    meter: &MeterDescriptor,
    options: &ExportOptions,
    rows: impl Iterator<Item = Result<Reading, StorageError>>,
) -> Result<(u64, u64), ExportError> {
    write!(
        out,
        "{{\n\"meter\": {{\"id\": {}, \"name\": {}, \"secondary\": {}, \"manufacturer\": {}, \"medium\": {}}},\n",
        meter.id,
        string(&meter.name),
        string(&meter.secondary),
        string(&meter.manufacturer),
        string(&meter.medium)
    )?;
    write!(
        out,
        "\"time_zone\": {},\n\"filter\": \"{}\",\n\"registers\": [",
        string(options.time_zone.name()),
        filter_name(options.filter)
    )?;
    for (i, r) in meter.registers.iter().enumerate() {
        write!(
            out,
            "{}\n  {{\"index\": {}, \"name\": {}, \"description\": {}, \"unit\": {}, \"phase\": {}, \
             \"divisor\": {}, \"storage_number\": {}, \"tariff\": {}}}",
            if i == 0 { "" } else { "," },
            r.index,
            string(&r.name),
            string(&r.description),
            string(&r.unit),
            r.phase,
            // Rust prints finite f64 without exponent, which is valid JSON.
            if r.divisor.is_finite() { r.divisor.to_string() } else { "null".to_owned() },
            r.storage_number,
            r.tariff
        )?;
    }
    out.write_all(b"\n],\n\"readings\": [")?;
    let (mut readings, mut values) = (0u64, 0u64);
    let mut line = String::with_capacity(256);
    for reading in rows {
        let reading = reading?;
        line.clear();
        line.push_str(if readings == 0 { "\n  " } else { ",\n  " });
        readings += 1;
        line.push_str("{\"time\": \"");
        line.push_str(&local_time(reading.time, options.time_zone));
        line.push_str("\", \"status\": ");
        line.push_str(&reading.status.to_string());
        line.push_str(", \"values\": [");
        for (i, register) in meter.registers.iter().enumerate() {
            if i > 0 {
                line.push_str(", ");
            }
            match reading.values.get(register.index).copied().flatten() {
                Some(value) => {
                    values += 1;
                    line.push_str(&value.to_string());
                }
                None => line.push_str("null"),
            }
        }
        line.push_str("]}");
        out.write_all(line.as_bytes())?;
    }
    out.write_all(b"\n]\n}\n")?;
    Ok((readings, values))
}
