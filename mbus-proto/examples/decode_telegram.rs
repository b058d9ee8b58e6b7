//! Decoding a meter's reply as an integrator does: hex text in (as a level converter or log file
//! shows it), the frame checked, the header read, every record printed with its exact value, and
//! the whole telegram as JSON.
//!
//! Run with `cargo run -p mbus-proto --example decode_telegram [HEX]`; without an argument it
//! decodes a heat meter's RSP_UD built into the example.

use mbus_proto::app::{Header, Telegram};
use mbus_proto::frame::{Frame, Parsed};
use mbus_proto::hex::parse_hex;
use mbus_proto::record::Record;
use mbus_proto::value::Value;

/// A heat meter's RSP_UD (CI 0x72): ident 12345678, manufacturer KAM, medium heat; energy,
/// volume, power, flow and return temperature, a stored date, then manufacturer data.
const HEAT_METER_REPLY: &str = "
    68 2E 2E 68 08 05 72 78 56 34 12 2D 2C 01 04 2A 00 00 00
    04 06 10 27 00 00   04 13 39 30 00 00   02 2B 64 00
    02 5A E8 03   02 5E 2C 01   42 6C DF 1C   0F 01 02
    FC 16";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = std::env::args()
        .nth(1)
        .unwrap_or_else(|| HEAT_METER_REPLY.to_owned());
    let bytes = parse_hex(&text)?;

    // A serial receiver calls `Frame::parse` on what has arrived so far: `Incomplete` tells how
    // many bytes to wait for, `Complete` how many the frame used.
    let frame = match Frame::parse(&bytes)? {
        Parsed::Complete { frame, consumed } => {
            println!("frame: {consumed} of {} bytes", bytes.len());
            frame
        }
        Parsed::Incomplete { needed } => {
            return Err(format!("telegram is cut short: {needed} more byte(s) needed").into())
        }
    };
    if let Some(address) = frame.address() {
        println!("primary address: {address}");
    }

    let telegram = Telegram::from_frame(&frame)?;
    match &telegram {
        Telegram::Variable(data) => {
            if let Header::Long(header) = &data.header {
                let letters = header.manufacturer_letters();
                println!(
                    "meter {} from {}, version {}, medium 0x{:02X}, access number {}",
                    header.secondary_address()?,
                    String::from_utf8_lossy(&letters),
                    header.version,
                    header.medium,
                    header.access_number
                );
            }
            for record in data.records() {
                match record? {
                    Record::Data(r) => {
                        let info = r.value_info();
                        let shown = match (r.scaled_value(), r.value()) {
                            (Some(number), _) => format!("{number} {}", info.unit.symbol()),
                            (None, Value::Date(date)) => date.to_string(),
                            (None, Value::DateTime(stamp)) => stamp.to_string(),
                            (None, other) => format!("{other:?}"),
                        };
                        println!(
                            "  {:<20} storage {} tariff {} {:?}: {shown}",
                            info.quantity.name(),
                            r.storage_number(),
                            r.tariff(),
                            r.function(),
                        );
                    }
                    Record::Manufacturer(m) => {
                        println!(
                            "  manufacturer data: {} byte(s), more records follow: {}",
                            m.data.len(),
                            m.more_records_follow()
                        );
                    }
                }
            }
        }
        other => println!("{other:?}"),
    }

    println!("{}", serde_json::to_string_pretty(&telegram)?);
    Ok(())
}
