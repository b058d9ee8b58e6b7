//! Text for people: a record's value ([`ValueText`]) and the table of a whole reply
//! ([`TelegramTable`]), as `mbusctl decode` and `mbusctl read` print them. Both are
//! `Display` and write through `core::fmt` only, so firmware can print them without a heap.
//!
//! ```
//! use mbus_proto::app::{decode_frame, Telegram};
//! use mbus_proto::frame::Frame;
//! use mbus_proto::record::Record;
//! use mbus_proto::render::{ValueText, TelegramTable};
//!
//! // A reply from primary address 5: energy 12345 kWh (VIF 0x06, 32-bit integer).
//! let bytes = [
//!     0x68, 0x15, 0x15, 0x68, 0x08, 0x05, 0x72, 0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01,
//!     0x04, 0x2A, 0x00, 0x00, 0x00, 0x04, 0x06, 0x39, 0x30, 0x00, 0x00, 0x8E, 0x16,
//! ];
//! let frame = Frame::parse_exact(&bytes)?;
//! let telegram = decode_frame(&bytes)?;
//! if let Telegram::Variable(data) = &telegram {
//!     for record in data.records() {
//!         if let Record::Data(record) = record? {
//!             assert_eq!(ValueText(&record).to_string(), "12345 kWh");
//!         }
//!     }
//! }
//! let table = TelegramTable::new(&frame, &telegram).to_string();
//! assert!(table.contains("Manufacturer KAM"));
//! assert!(table.contains("energy"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::app::{security_mode_name, Header, Telegram};
use crate::describe::describe;
use crate::display::DisplayValue;
use crate::frame::Frame;
use crate::hex::HexBytes;
use crate::names::{fixed_medium_name, fixed_unit_name, medium_name, product_name};
use crate::record::{DataRecord, Record};
use crate::value::{ScaledValue, Value};
use core::fmt::{self, Write};

/// A record's value for people: numbers in the unit a meter display uses, reals in their
/// shortest exact form, impossible dates marked invalid with their raw bytes.
#[derive(Debug, Clone, Copy)]
pub struct ValueText<'r, 'a>(pub &'r DataRecord<'a>);

impl fmt::Display for ValueText<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let info = r.value_info();
        let number = |f: &mut fmt::Formatter<'_>, v: ScaledValue| match info.plain_text {
            Some(t) => write!(f, "{v} {t}"),
            None => match DisplayValue::of_scaled(info.unit, info.exponent, v) {
                Some(d) => write!(f, "{d}"),
                None => write!(f, "{v}"),
            },
        };
        let invalid = |f: &mut fmt::Formatter<'_>, what: &str, fields: &dyn fmt::Display| {
            write!(
                f,
                "invalid ({what}: {fields}, raw {})",
                HexBytes::spaced(r.data)
            )
        };
        match r.value() {
            Value::None => Ok(()),
            Value::Integer(_) | Value::Bcd(_) | Value::Real(_) => match r.scaled_value() {
                Some(v) => number(f, v),
                None => match r.value() {
                    Value::Bcd(b) => write!(
                        f,
                        "invalid BCD {:0width$X}",
                        b.raw,
                        width = usize::from(b.digits)
                    ),
                    Value::Real(x) => write!(f, "not a number ({x})"),
                    _ => Ok(()),
                },
            },
            Value::Date(d) if !d.is_valid() => invalid(f, "no such date", &d),
            Value::Date(d) => write!(f, "{d}"),
            Value::DateTime(t) if t.invalid => invalid(f, "IV flag set", &t),
            Value::DateTime(t) if !t.is_valid() => invalid(f, "no such date/time", &t),
            Value::DateTime(t) if t.summer_time => write!(f, "{t} (summer time)"),
            Value::DateTime(t) => write!(f, "{t}"),
            Value::Time(t) if !t.is_valid() => invalid(f, "no such time", &t),
            Value::Time(t) => write!(f, "{t}"),
            Value::Dst(k) => write!(
                f,
                "DST {:02}-{:02} {:02}h .. {:02}-{:02}, {:+}h, local {:+}h",
                k.begin_month,
                k.begin_day,
                k.begin_hour,
                k.end_month,
                k.end_day,
                k.dst_deviation,
                k.local_deviation
            ),
            Value::Text(t) => write!(f, "\"{t}\""),
            Value::Bytes(b) => write!(f, "{}", HexBytes::spaced(b)),
        }
    }
}

/// The table of a decoded reply: the frame, the header, then one line per record (function,
/// storage number, tariff, sub-unit, quantity with its modifiers, value).
#[derive(Debug, Clone, Copy)]
pub struct TelegramTable<'t, 'a> {
    frame: &'t Frame<'a>,
    telegram: &'t Telegram<'a>,
}

impl<'t, 'a> TelegramTable<'t, 'a> {
    /// The table of `telegram`, decoded from `frame`.
    pub fn new(frame: &'t Frame<'a>, telegram: &'t Telegram<'a>) -> TelegramTable<'t, 'a> {
        TelegramTable { frame, telegram }
    }
}

impl fmt::Display for TelegramTable<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Frame      {}", describe(self.frame))?;
        match self.telegram {
            Telegram::Error(e) => writeln!(
                f,
                "Error      code {} ({})",
                e.code,
                e.description().unwrap_or("unknown")
            ),
            Telegram::Alarm(status) => writeln!(f, "Alarm      status 0x{status:02X}"),
            Telegram::Fixed(d) => {
                writeln!(f, "Id         {:08X}", d.ident_raw())?;
                writeln!(
                    f,
                    "Medium     {} ({})",
                    fixed_medium_name(d.medium()),
                    d.medium()
                )?;
                let kind = if d.stored_values() {
                    "stored"
                } else {
                    "actual"
                };
                writeln!(
                    f,
                    "Access     {}   Status 0x{:02X} ({kind} values)",
                    d.access_number, d.status
                )?;
                writeln!(f, "\n  #  value        unit")?;
                for i in 0..2 {
                    let unit = fixed_unit_name(d.unit_code(i));
                    match d.counter(i) {
                        Some(v) => writeln!(f, "{i:>3}  {v:<12} {unit}")?,
                        None => writeln!(f, "{i:>3}  {:<12} {unit}", "invalid BCD")?,
                    }
                }
                Ok(())
            }
            Telegram::Encrypted(e) => {
                header_lines(f, &e.header)?;
                writeln!(
                    f,
                    "Encrypted  security mode {} ({}), {} byte(s) of ciphertext; records need the meter's key",
                    e.mode,
                    security_mode_name(e.mode),
                    e.payload.len()
                )
            }
            Telegram::Variable(v) => {
                header_lines(f, &v.header)?;
                writeln!(
                    f,
                    "\n  #  function       stor tarif  sub  quantity                      value"
                )?;
                for (i, r) in v.records().enumerate() {
                    match r {
                        Ok(Record::Data(r)) => {
                            write!(
                                f,
                                "{i:>3}  {:<13} {:>5} {:>5} {:>4}  ",
                                r.function().name(),
                                r.storage_number(),
                                r.tariff(),
                                r.subunit(),
                            )?;
                            padded(f, 29, |w| quantity(w, &r))?;
                            writeln!(f, " {}", ValueText(&r))?;
                        }
                        Ok(Record::Manufacturer(m)) => {
                            let what = if m.more_records_follow() {
                                "manufacturer data, more records follow"
                            } else {
                                "manufacturer data"
                            };
                            writeln!(f, "{i:>3}  {what}: {}", HexBytes::spaced(m.data))?;
                        }
                        // Records are validated when the telegram is decoded; print an error
                        // rather than hide it.
                        Err(e) => writeln!(f, "{i:>3}  error: {e}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The quantity column: the quantity (or plain-text unit) and every modifier.
fn quantity(w: &mut dyn Write, r: &DataRecord<'_>) -> fmt::Result {
    let info = r.value_info();
    match info.plain_text {
        Some(t) => write!(w, "\"{t}\" (plain-text unit)")?,
        None => write!(w, "{}", info.quantity)?,
    }
    for m in r.vib.modifiers() {
        write!(w, ", {m}")?;
    }
    Ok(())
}

/// Writes `content`, then spaces up to `width` characters (nothing when it is wider).
fn padded(
    f: &mut fmt::Formatter<'_>,
    width: usize,
    content: impl FnOnce(&mut dyn Write) -> fmt::Result,
) -> fmt::Result {
    struct Counting<'f, 'g> {
        inner: &'f mut fmt::Formatter<'g>,
        chars: usize,
    }
    impl Write for Counting<'_, '_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.chars += s.chars().count();
            self.inner.write_str(s)
        }
    }
    let mut counting = Counting { inner: f, chars: 0 };
    content(&mut counting)?;
    for _ in counting.chars..width {
        f.write_str(" ")?;
    }
    Ok(())
}

/// The header lines of a variable data structure, plain or encrypted.
fn header_lines(f: &mut fmt::Formatter<'_>, header: &Header) -> fmt::Result {
    match *header {
        Header::Long(h) => {
            writeln!(
                f,
                "Id         {:08X}   Manufacturer {}   Version {}",
                h.ident_raw(),
                h.manufacturer_id(),
                h.version
            )?;
            if let Some(p) = product_name(h.manufacturer, h.version, h.medium, h.ident_bcd) {
                writeln!(f, "Product    {p}")?;
            }
            writeln!(
                f,
                "Medium     {} (0x{:02X})",
                medium_name(h.medium).unwrap_or("unknown"),
                h.medium
            )?;
        }
        Header::Short(_) => writeln!(f, "Header     short (CI 0x7A)")?,
        Header::None => writeln!(f, "Header     none (CI 0x78)")?,
    }
    if let (Some(a), Some(s)) = (header.access_number(), header.status()) {
        writeln!(f, "Access     {a}   Status 0x{s:02X}")?;
    }
    Ok(())
}
