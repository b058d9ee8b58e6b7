//! XML output identical to libmbus's `mbus-parse-hex` (plain) and `mbus-parse-hex -n`
//! (normalized), so scripts written against libmbus keep working.
//!
//! The plain form prints raw values with libmbus's unit descriptions (`Volume (1e-2  m^3)`); the
//! normalized form scales values to SI units using double arithmetic and C's `%f`, because that is
//! what libmbus's files contain. Use [`crate::json`] or the typed API for exact values.
//!
//! Output is appended to a caller-owned `String`, so a loop can reuse one buffer:
//!
//! ```
//! use mbus_proto::app::decode_frame;
//! use mbus_proto::xml::{self, Mode};
//!
//! let frame = [0x68, 0x04, 0x04, 0x68, 0x08, 0x01, 0x70, 0x08, 0x81, 0x16];
//! let telegram = decode_frame(&frame)?;
//! let mut out = String::new();
//! xml::write(&telegram, Mode::Plain, &mut out)?;
//! assert!(out.contains("<Error>Application busy</Error>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::address::manufacturer_letters;
use crate::app::{FixedData, Header, Telegram, VariableData};
use crate::datetime::century_year;
use crate::describe::{ci_meaning, FrameDescription};
use crate::hex;
use crate::names::{fixed_medium_name, fixed_unit_name, medium_name, product_name};
use crate::record::{ByteOrder, DataRecord, ManufacturerData, Record, RecordError};
use crate::value::{int_le, Lvar};
use alloc::string::{String, ToString};

/// Which of libmbus's two XML forms to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Raw values with unit descriptions (`mbus-parse-hex`).
    Plain,
    /// Values scaled to SI units with a `<Quantity>` element (`mbus-parse-hex -n`).
    Normalized,
}

/// Why a telegram cannot be written as XML. On error nothing is appended to the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// A data record is malformed (libmbus prints no XML for such a telegram either).
    #[error("bad record: {0}")]
    Record(#[from] RecordError),
}

const PROLOGUE: &str = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<MBusData>\n\n";
const EPILOGUE: &str = "</MBusData>\n";

/// Appends the XML of `telegram` to `out`.
///
/// Telegram kinds libmbus does not decode are written in the same style: CI 0x76/0x77 like
/// 0x72/0x73, CI 0x7A/0x78 with the header fields they have, an alarm (CI 0x71) as an `<Alarm>`
/// element (see `DEVIATIONS.md`).
pub fn write(telegram: &Telegram<'_>, mode: Mode, out: &mut String) -> Result<(), XmlError> {
    let start = out.len();
    let result = match telegram {
        Telegram::Variable(v) => write_variable(v, mode, out),
        Telegram::Encrypted(e) => {
            out.push_str(PROLOGUE);
            write_slave_information(&e.header, Some(e.mode), out);
            out.push_str(EPILOGUE);
            Ok(())
        }
        Telegram::Fixed(f) => {
            write_fixed(f, out);
            Ok(())
        }
        Telegram::Error(e) => {
            out.push_str(PROLOGUE);
            out.push_str("    <SlaveInformation>\n        <Error>");
            match e.description() {
                Some(d) => push_escaped(out, d),
                None => {
                    out.push_str("Unknown error (0x");
                    push_hex2(out, e.code);
                    out.push(')');
                }
            }
            out.push_str("</Error>\n    </SlaveInformation>\n\n");
            out.push_str(EPILOGUE);
            Ok(())
        }
        Telegram::Alarm(status) => {
            out.push_str(PROLOGUE);
            out.push_str("    <SlaveInformation>\n        <Alarm>");
            push_hex2(out, *status);
            out.push_str("</Alarm>\n    </SlaveInformation>\n\n");
            out.push_str(EPILOGUE);
            Ok(())
        }
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Appends a small XML document for a frame without application data (`E5`, a short frame, a
/// master request), where libmbus prints nothing (see `DEVIATIONS.md`):
///
/// ```text
/// <MBusFrame>
///     <Type>SHORT</Type>            ACK, SHORT, CONTROL or LONG
///     <Control>7B</Control>         C field, hex
///     <Function>REQ_UD2</Function>  SND_NKE, SND_UD, REQ_UD1, REQ_UD2, RSP_UD or "function 0xN"
///     <Direction>master to slave</Direction>
///     <FCB>1</FCB><FCV>1</FCV>      (ACD/DFC for slave frames)
///     <Address>1</Address>
///     <CI>50</CI><CIMeaning>application reset</CIMeaning>   control and long frames
///     <Data>52 78 56</Data>         long frames, hex in wire order
/// </MBusFrame>
/// ```
///
/// Elements that do not apply are left out; `E5` gives just `<Type>ACK</Type>`.
pub fn write_frame(frame: &FrameDescription<'_>, out: &mut String) {
    out.push_str("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<MBusFrame>\n    <Type>");
    out.push_str(frame.kind.name());
    out.push_str("</Type>\n");
    if let Some(c) = frame.control {
        out.push_str("    <Control>");
        push_hex2(out, c.raw);
        out.push_str("</Control>\n    <Function>");
        push_escaped(out, &c.function.to_string());
        out.push_str("</Function>\n    <Direction>");
        out.push_str(c.direction());
        out.push_str("</Direction>\n");
        let (a, b) = c.flag_names();
        for (name, bit) in [(a, c.fcb_or_acd), (b, c.fcv_or_dfc)] {
            out.push_str("    <");
            out.push_str(name);
            out.push('>');
            out.push(if bit { '1' } else { '0' });
            out.push_str("</");
            out.push_str(name);
            out.push_str(">\n");
        }
    }
    if let Some(a) = frame.address {
        out.push_str("    <Address>");
        push_int(out, i64::from(a));
        out.push_str("</Address>\n");
    }
    if let Some(ci) = frame.ci {
        out.push_str("    <CI>");
        push_hex2(out, ci);
        out.push_str("</CI>\n");
        if let Some(m) = ci_meaning(ci) {
            out.push_str("    <CIMeaning>");
            push_escaped(out, m);
            out.push_str("</CIMeaning>\n");
        }
    }
    if !frame.data.is_empty() {
        out.push_str("    <Data>");
        push_hex_dump(out, frame.data.iter().copied());
        out.push_str("</Data>\n");
    }
    out.push_str("</MBusFrame>\n");
}

/// Convenience: the XML of `telegram` in a new `String`.
pub fn to_string(telegram: &Telegram<'_>, mode: Mode) -> Result<String, XmlError> {
    let mut s = String::with_capacity(4096);
    write(telegram, mode, &mut s)?;
    Ok(s)
}

fn write_variable(v: &VariableData<'_>, mode: Mode, out: &mut String) -> Result<(), XmlError> {
    out.push_str(PROLOGUE);
    write_slave_information(&v.header, None, out);
    for (id, record) in v.records().enumerate() {
        let record = record?;
        out.push_str("    <DataRecord id=\"");
        push_int(out, id as i64);
        out.push_str("\">\n");
        match (mode, record) {
            (Mode::Plain, Record::Manufacturer(m)) => plain_manufacturer(&m, out),
            (Mode::Plain, Record::Data(r)) => plain_record(&r, out),
            (Mode::Normalized, Record::Manufacturer(m)) => normalized_manufacturer(&m, out),
            (Mode::Normalized, Record::Data(r)) => normalized_record(&r, out),
        }
        out.push_str("    </DataRecord>\n\n");
    }
    out.push_str(EPILOGUE);
    Ok(())
}

/// The `<SlaveInformation>` element of a variable data structure; `encrypted` adds an
/// `<Encryption>` element with the security mode of an encrypted one.
fn write_slave_information(header: &Header, encrypted: Option<u8>, out: &mut String) {
    out.push_str("    <SlaveInformation>\n");
    match *header {
        Header::Long(h) => {
            out.push_str("        <Id>");
            push_hex(out, u64::from(h.ident_raw()));
            out.push_str("</Id>\n        <Manufacturer>");
            for c in manufacturer_letters(h.manufacturer) {
                out.push(char::from(c));
            }
            out.push_str("</Manufacturer>\n        <Version>");
            push_int(out, i64::from(h.version));
            out.push_str("</Version>\n        <ProductName>");
            if let Some(p) = product_name(h.manufacturer, h.version, h.medium, h.ident_bcd) {
                push_escaped(out, p);
            }
            out.push_str("</ProductName>\n        <Medium>");
            match medium_name(h.medium) {
                Some(m) => push_escaped(out, m),
                None => {
                    out.push_str("Unknown medium (0x");
                    push_hex2_lower(out, h.medium);
                    out.push(')');
                }
            }
            out.push_str("</Medium>\n");
        }
        Header::Short(_) | Header::None => {}
    }
    if let (Some(access), Some(status)) = (header.access_number(), header.status()) {
        out.push_str("        <AccessNumber>");
        push_int(out, i64::from(access));
        out.push_str("</AccessNumber>\n        <Status>");
        push_hex2(out, status);
        out.push_str("</Status>\n        <Signature>");
        let sig = match *header {
            Header::Long(h) => h.signature,
            Header::Short(h) => h.signature,
            Header::None => 0,
        };
        push_hex2(out, (sig >> 8) as u8);
        push_hex2(out, sig as u8);
        out.push_str("</Signature>\n");
    }
    if let Some(mode) = encrypted {
        out.push_str("        <Encryption>");
        push_int(out, i64::from(mode));
        out.push_str("</Encryption>\n");
    }
    out.push_str("    </SlaveInformation>\n\n");
}

fn write_fixed(f: &FixedData, out: &mut String) {
    out.push_str(PROLOGUE);
    out.push_str("    <SlaveInformation>\n        <Id>");
    push_hex(out, u64::from(f.ident_raw()));
    out.push_str("</Id>\n        <Medium>");
    push_escaped(out, fixed_medium_name(f.medium()));
    out.push_str("</Medium>\n        <AccessNumber>");
    push_int(out, i64::from(f.access_number));
    out.push_str("</AccessNumber>\n        <Status>");
    push_hex2(out, f.status);
    out.push_str("</Status>\n    </SlaveInformation>\n\n");
    let function = if f.stored_values() {
        "Stored value"
    } else {
        "Actual value"
    };
    for (i, counter) in f.counters.iter().enumerate() {
        out.push_str("    <DataRecord id=\"");
        push_int(out, i as i64);
        out.push_str("\">\n        <Function>");
        out.push_str(function);
        out.push_str("</Function>\n        <Unit>");
        push_escaped(out, fixed_unit_name(f.unit_code(i)));
        out.push_str("</Unit>\n        <Value>");
        if f.counters_binary() {
            push_int(out, int_le(counter));
        } else {
            push_hex(out, u64::from(u32::from_le_bytes(*counter)));
        }
        out.push_str("</Value>\n    </DataRecord>\n\n");
    }
    out.push_str(EPILOGUE);
}

fn manufacturer_function(m: &ManufacturerData<'_>) -> &'static str {
    if m.more_records_follow() {
        "More records follow"
    } else {
        "Manufacturer specific"
    }
}

fn plain_manufacturer(m: &ManufacturerData<'_>, out: &mut String) {
    out.push_str("        <Function>");
    out.push_str(manufacturer_function(m));
    out.push_str("</Function>\n        <Value>");
    push_hex_dump(out, m.data.iter().copied());
    out.push_str("</Value>\n");
}

fn normalized_manufacturer(m: &ManufacturerData<'_>, out: &mut String) {
    out.push_str("        <Function>");
    out.push_str(manufacturer_function(m));
    out.push_str(
        "</Function>\n        <StorageNumber>0</StorageNumber>\n        <Unit></Unit>\n        <Quantity></Quantity>\n        <Value>",
    );
    push_hex_dump(out, m.data.iter().copied());
    out.push_str("</Value>\n");
}

fn function_name(dif: u8) -> &'static str {
    match dif & 0x30 {
        0x00 => "Instantaneous value",
        0x10 => "Maximum value",
        0x20 => "Minimum value",
        _ => "Value during error state",
    }
}

fn push_dib(r: &DataRecord<'_>, out: &mut String) {
    out.push_str("        <Function>");
    out.push_str(function_name(r.dif));
    out.push_str("</Function>\n        <StorageNumber>");
    push_int(out, storage_number(r));
    out.push_str("</StorageNumber>\n");
    if !r.difes.is_empty() {
        out.push_str("        <Tariff>");
        push_int(out, tariff(r));
        out.push_str("</Tariff>\n        <Device>");
        push_int(out, device(r));
        out.push_str("</Device>\n");
    }
}

// libmbus shifts each DIFE's storage nibble as a 32-bit `int`, so from the eighth DIFE on its
// storage number loses bits; we print the exact value (41 bits at most with 10 DIFEs; tariff 20
// bits, device 10 bits), the typed getters' result (see DEVIATIONS.md).
fn storage_number(r: &DataRecord<'_>) -> i64 {
    r.storage_number() as i64
}

fn tariff(r: &DataRecord<'_>) -> i64 {
    i64::from(r.tariff())
}

fn device(r: &DataRecord<'_>) -> i64 {
    i64::from(r.subunit())
}

fn plain_record(r: &DataRecord<'_>, out: &mut String) {
    push_dib(r, out);
    out.push_str("        <Unit>");
    push_unit_description(r, out);
    out.push_str("</Unit>\n        <Value>");
    push_plain_value(r, out);
    out.push_str("</Value>\n");
}

/// True when libmbus prints the 4/6-byte value as a date and time.
fn is_date_time_vib(r: &DataRecord<'_>) -> bool {
    let vife = r.vib.vifes.first().map_or(0, |v| v & 0x7F);
    r.vib.vif & 0x7F == 0x6D || (r.vib.vif == 0xFD && (vife == 0x30 || vife == 0x70))
}

/// Date fields the way libmbus's `struct tm` decoding produces them: (year, month, day, hour,
/// minute, second), all zero (year 1900, month 1) when the "invalid" bit is set.
fn tm_fields(data: &[u8]) -> (i32, i32, i32, i32, i32, i32) {
    let date = |lo: u8, hi: u8| {
        (
            i32::from(century_year(((lo & 0xE0) >> 5) | ((hi & 0xF0) >> 1))),
            i32::from(hi & 0x0F),
            i32::from(lo & 0x1F),
        )
    };
    match *data {
        [s, m, h, d, mo, _] => {
            if m & 0x80 != 0 {
                return (1900, 1, 0, 0, 0, 0);
            }
            let (y, mo, d) = date(d, mo);
            (
                y,
                mo,
                d,
                i32::from(h & 0x1F),
                i32::from(m & 0x3F),
                i32::from(s & 0x3F),
            )
        }
        [m, h, d, mo] => {
            if m & 0x80 != 0 {
                return (1900, 1, 0, 0, 0, 0);
            }
            let (y, mo, d) = date(d, mo);
            (y, mo, d, i32::from(h & 0x1F), i32::from(m & 0x3F), 0)
        }
        [d, mo] => {
            let (y, mo, d) = date(d, mo);
            (y, mo, d, 0, 0, 0)
        }
        _ => (1900, 1, 0, 0, 0, 0),
    }
}

fn push_date(out: &mut String, data: &[u8]) {
    let (y, mo, d, ..) = tm_fields(data);
    push_padded(out, y, 4);
    out.push('-');
    push_padded(out, mo, 2);
    out.push('-');
    push_padded(out, d, 2);
}

fn push_date_time(out: &mut String, data: &[u8], zulu: bool) {
    let (y, mo, d, h, mi, s) = tm_fields(data);
    push_padded(out, y, 4);
    out.push('-');
    push_padded(out, mo, 2);
    out.push('-');
    push_padded(out, d, 2);
    out.push('T');
    push_padded(out, h, 2);
    out.push(':');
    push_padded(out, mi, 2);
    out.push(':');
    push_padded(out, s, 2);
    if zulu {
        out.push('Z');
    }
}

/// The string libmbus prints for values that are not numbers, or `None` for numeric values.
/// Shared by both modes (dates differ only by the trailing `Z` of the normalized form).
fn push_text_value(r: &DataRecord<'_>, out: &mut String, normalized: bool) -> bool {
    match r.dif & 0x0F {
        0x00 => true,
        0x02 if r.vib.vif & 0x7F == 0x6C => {
            push_date(out, lsb_first(r, &mut [0; 8]));
            true
        }
        0x04 | 0x06 if is_date_time_vib(r) => {
            push_date_time(out, lsb_first(r, &mut [0; 8]), normalized);
            true
        }
        0x0D => {
            match r.lvar.map(Lvar::from_byte) {
                Some(Lvar::Text(_)) => push_escaped_rev(out, r.data),
                _ => push_hex_dump(out, r.data.iter().rev().copied()),
            }
            true
        }
        0x0F => {
            push_hex_dump(out, r.data.iter().copied());
            true
        }
        _ => false,
    }
}

fn push_plain_value(r: &DataRecord<'_>, out: &mut String) {
    if push_text_value(r, out, false) {
        return;
    }
    let mut buf = [0; 8];
    let data = lsb_first(r, &mut buf);
    match r.dif & 0x0F {
        0x01..=0x04 | 0x06 | 0x07 => push_int(out, int_le(data)),
        0x05 => push_f64_fixed6(out, f64::from(real32(data))),
        // A value during error state is printed as its raw digits in hex (a leading F is no
        // sign there); any other BCD value as the number libmbus's digit reader makes of it
        // (a high nibble above 9 counts as 0, a leading F is a minus sign, -0 is 0).
        0x09..=0x0C | 0x0E if r.dif & 0x30 == 0x30 => push_hex(out, bcd_raw(data)),
        0x09..=0x0C | 0x0E => push_int(out, bcd_decimal(data)),
        _ => {
            out.push_str("Unknown DIF (0x");
            push_hex2_lower(out, r.dif);
            out.push(')');
        }
    }
}

/// The fixed-size data field in LSB-first order (CI 0x76 sends it MSB first).
fn lsb_first<'b>(r: &DataRecord<'b>, buf: &'b mut [u8; 8]) -> &'b [u8] {
    if r.byte_order == ByteOrder::LsbFirst || r.data.len() > 8 {
        return r.data;
    }
    let n = r.data.len();
    for (o, &b) in buf.iter_mut().zip(r.data.iter().rev()) {
        *o = b;
    }
    buf.get(..n).unwrap_or(r.data)
}

fn real32(data: &[u8]) -> f32 {
    let mut b = [0u8; 4];
    for (o, &d) in b.iter_mut().zip(data) {
        *o = d;
    }
    f32::from_le_bytes(b)
}

fn bcd_raw(data: &[u8]) -> u64 {
    data.iter()
        .take(8)
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// True if the most significant BCD digit is the minus sign 0xF.
fn bcd_negative(data: &[u8]) -> bool {
    data.last().is_some_and(|b| b >> 4 == 0xF)
}

/// BCD read digit by digit in decimal as libmbus's normalizer does: a high nibble above 9 counts
/// as 0, a low nibble is added as is, a leading 0xF makes the value negative.
fn bcd_decimal(data: &[u8]) -> i64 {
    let v = data.iter().rev().fold(0i64, |acc, &b| {
        let hi = if b >> 4 < 0xA { i64::from(b >> 4) } else { 0 };
        acc.wrapping_mul(10)
            .wrapping_add(hi)
            .wrapping_mul(10)
            .wrapping_add(i64::from(b & 0x0F))
    });
    if bcd_negative(data) {
        -v
    } else {
        v
    }
}

/// libmbus's text for a unit-prefix exponent.
fn push_prefix(out: &mut String, exp: i32) {
    match exp {
        0 => {}
        -3 => out.push('m'),
        -6 => out.push_str("my"),
        1 => out.push_str("10 "),
        2 => out.push_str("100 "),
        3 => out.push('k'),
        4 => out.push_str("10 k"),
        5 => out.push_str("100 k"),
        6 => out.push('M'),
        9 => out.push('G'),
        _ => {
            out.push_str("1e");
            push_int(out, i64::from(exp));
            out.push(' ');
        }
    }
}

fn push_time_unit(out: &mut String, nn: u8) {
    out.push_str(match nn & 3 {
        0 => "(seconds)",
        1 => "(minutes)",
        2 => "(hours)",
        _ => "(days)",
    });
}

fn duration_nn(nn: u8) -> &'static str {
    match nn & 3 {
        0 => "second(s)",
        1 => "minute(s)",
        2 => "hour(s)",
        _ => "day(s)",
    }
}

fn duration_pp(pp: u8) -> &'static str {
    match pp & 3 {
        0 => "hour(s)",
        1 => "day(s)",
        2 => "month(s)",
        _ => "year(s)",
    }
}

/// Text of a primary VIF, as libmbus describes it.
fn push_primary_description(out: &mut String, vif: u8) {
    let code = vif & 0x7F;
    let n = i32::from(code & 7);
    let nn = i32::from(code & 3);
    let mut simple = |s: &str, exp: i32, tail: &str| {
        out.push_str(s);
        push_prefix(out, exp);
        out.push_str(tail);
    };
    match code {
        0x00..=0x07 => simple("Energy (", n - 3, "Wh)"),
        0x08..=0x0F => simple("Energy (", n, "J)"),
        0x10..=0x17 => simple("Volume (", n - 6, " m^3)"),
        0x18..=0x1F => simple("Mass (", n - 3, "kg)"),
        0x28..=0x2F => simple("Power (", n - 3, "W)"),
        0x30..=0x37 => simple("Power (", n, "J/h)"),
        0x38..=0x3F => simple("Volume flow (", n - 6, " m^3/h)"),
        0x40..=0x47 => simple("Volume flow (", n - 7, " m^3/min)"),
        0x48..=0x4F => simple("Volume flow (", n - 9, " m^3/s)"),
        0x50..=0x57 => simple("Mass flow (", n - 3, " kg/h)"),
        0x58..=0x5B => simple("Flow temperature (", nn - 3, "deg C)"),
        0x5C..=0x5F => simple("Return temperature (", nn - 3, "deg C)"),
        0x60..=0x63 => simple("Temperature Difference (", nn - 3, " deg C)"),
        0x64..=0x67 => simple("External temperature (", nn - 3, " deg C)"),
        0x68..=0x6B => simple("Pressure (", nn - 3, " bar)"),
        0x20..=0x27 | 0x70..=0x77 => {
            out.push_str(match code & 0x7C {
                0x20 => "On time ",
                0x24 => "Operating time ",
                0x70 => "Averaging Duration ",
                _ => "Actuality Duration ",
            });
            push_time_unit(out, code);
        }
        0x6C => out.push_str("Time Point (date)"),
        0x6D => out.push_str("Time Point (time &amp; date)"),
        0x6E => out.push_str("Units for H.C.A."),
        0x6F => out.push_str("Reserved"),
        0x7C => out.push_str("Custom VIF"),
        0x78 => out.push_str("Fabrication number"),
        0x7A => out.push_str("Bus Address"),
        0x7F => out.push_str("Manufacturer specific"),
        _ => {
            out.push_str("Unknown (VIF=0x");
            push_hex2(out, vif);
            out.push(')');
        }
    }
}

fn push_reserved(out: &mut String, vife: u8) {
    out.push_str("Reserved (0x");
    push_hex2_lower(out, vife);
    out.push(')');
}

fn push_fb_description(out: &mut String, vife: u8) {
    let code = vife & 0x7F;
    let tenth = if code & 1 == 0 { "0.1 " } else { "" };
    let nn = i32::from(code & 3);
    let mut around = |head: &str, exp: i32, tail: &str| {
        out.push_str(head);
        push_prefix(out, exp);
        out.push_str(tail);
    };
    match code {
        0x00 | 0x01 => {
            out.push_str("Energy (");
            out.push_str(tenth);
            out.push_str("MWh)");
        }
        0x08 | 0x09 => {
            out.push_str("Energy (");
            out.push_str(tenth);
            out.push_str("GJ)");
        }
        0x10 | 0x11 => around("Volume (", i32::from(code & 1) + 2, "m3)"),
        0x18 | 0x19 => around("Mass (", i32::from(code & 1) + 2, "t)"),
        0x21 => out.push_str("Volume (0.1 feet^3)"),
        0x22 | 0x23 => {
            out.push_str("Volume (");
            out.push_str(tenth);
            out.push_str("american gallon)");
        }
        0x24 => out.push_str("Volume flow (0.001 american gallon/min)"),
        0x25 => out.push_str("Volume flow (american gallon/min)"),
        0x26 => out.push_str("Volume flow (american gallon/h)"),
        0x28 | 0x29 => {
            out.push_str("Power (");
            out.push_str(tenth);
            out.push_str("MW)");
        }
        0x30 | 0x31 => {
            out.push_str("Power (");
            out.push_str(tenth);
            out.push_str("GJ/h)");
        }
        0x58..=0x5B => around("Flow Temperature (", nn - 3, " degree F)"),
        0x5C..=0x5F => around("Return Temperature (", nn - 3, " degree F)"),
        0x60..=0x63 => around("Temperature Difference (", nn - 3, " degree F)"),
        0x64..=0x67 => around("External Temperature (", nn - 3, " degree F)"),
        0x70..=0x73 => around("Cold / Warm Temperature Limit (", nn - 3, " degree F)"),
        0x74..=0x77 => around("Cold / Warm Temperature Limit (", nn - 3, " degree C)"),
        0x78..=0x7F => around("cumul. count max power (", i32::from(code & 7) - 3, " W)"),
        0x02..=0x07
        | 0x0A..=0x0F
        | 0x12..=0x17
        | 0x1A..=0x20
        | 0x27
        | 0x2A..=0x2F
        | 0x32..=0x4F
        | 0x52..=0x57
        | 0x68..=0x6F => push_reserved(out, vife),
        _ => {
            out.push_str("Unrecognized VIF 0xFB extension: 0x");
            push_hex2_lower(out, vife);
        }
    }
}

fn push_fd_description(out: &mut String, vife: u8) {
    let code = vife & 0x7F;
    let nn = code & 3;
    let fixed = match code {
        0x08 => "Access Number (transmission count)",
        0x09 => "Medium (as in fixed header)",
        0x0A => "Manufacturer (as in fixed header)",
        0x0B => "Parameter set identification",
        0x0C => "Model / Version",
        0x0D => "Hardware version",
        0x0E => "Firmware version",
        0x0F => "Software version",
        0x10 => "Customer location",
        0x11 => "Customer",
        0x12 => "Access Code User",
        0x13 => "Access Code Operator",
        0x14 => "Access Code System Operator",
        0x15 => "Access Code Developer",
        0x16 => "Password",
        0x17 => "Error flags",
        0x18 => "Error mask",
        0x1A => "Digital output (binary)",
        0x1B => "Digital input (binary)",
        0x1C => "Baudrate",
        0x1D => "response delay time",
        0x1E => "Retry",
        0x20 => "First storage # for cyclic storage",
        0x21 => "Last storage # for cyclic storage",
        0x22 => "Size of storage block",
        0x28 => "Storage interval month(s)",
        0x29 => "Storage interval year(s)",
        0x30 => "Start (date/time) of tariff",
        0x38 => "Period of tariff months(s)",
        0x39 => "Period of tariff year(s)",
        0x3A => "dimensionless / no VIF",
        0x60 => "Reset counter",
        0x61 => "Cumulation counter",
        0x62 => "Control signal",
        0x63 => "Day of week",
        0x64 => "Week number",
        0x65 => "Time point of day change",
        0x66 => "State of parameter activation",
        0x67 => "Special supplier information",
        0x70 => "Date and time of battery change",
        0x19 | 0x1F | 0x23 | 0x2A | 0x2B | 0x3B..=0x3F => "Reserved",
        _ => "",
    };
    if !fixed.is_empty() {
        out.push_str(fixed);
        return;
    }
    // A duration: what it is, then its unit from the last two bits.
    let duration = match code {
        0x24..=0x27 => Some(("Storage interval ", duration_nn(nn))),
        0x2C..=0x2F => Some(("Duration since last readout ", duration_nn(nn))),
        0x31..=0x33 => Some(("Duration of tariff ", duration_nn(nn))),
        0x34..=0x37 => Some(("Period of tariff ", duration_nn(nn))),
        0x68..=0x6B => Some(("Duration since last cumulation ", duration_pp(nn))),
        0x6C..=0x6F => Some(("Operating time battery ", duration_pp(nn))),
        _ => None,
    };
    if let Some((what, unit)) = duration {
        out.push_str(what);
        out.push_str(unit);
        return;
    }
    match code {
        0x00..=0x03 => {
            out.push_str("Credit of ");
            push_prefix(out, i32::from(nn) - 3);
            out.push_str(" of the nominal local legal currency units");
        }
        0x04..=0x07 => {
            out.push_str("Debit of ");
            push_prefix(out, i32::from(nn) - 3);
            out.push_str(" of the nominal local legal currency units");
        }
        0x40..=0x4F => {
            push_prefix(out, i32::from(code & 0x0F) - 9);
            out.push_str(" V");
        }
        0x50..=0x5F => {
            push_prefix(out, i32::from(code & 0x0F) - 12);
            out.push_str(" A");
        }
        _ => out.push_str("Reserved VIF extension"),
    }
}

fn push_unit_description(r: &DataRecord<'_>, out: &mut String) {
    let vib = &r.vib;
    match vib.vif {
        0xFB | 0xFD => match vib.vifes.first() {
            None => out.push_str("Missing VIF extension"),
            Some(&e) if vib.vif == 0xFB => push_fb_description(out, e),
            Some(&e) => push_fd_description(out, e),
        },
        0x7C => push_escaped_rev(out, vib.plain_text.unwrap_or(&[])),
        0xFC if vib.vifes.first().is_some_and(|e| e & 0x78 == 0x70) => {
            let n = vib.vifes.first().map_or(0, |e| i32::from(e & 7));
            push_prefix(out, n - 6);
            out.push(' ');
            push_escaped_rev(out, vib.plain_text.unwrap_or(&[]));
        }
        vif => push_primary_description(out, vif),
    }
}

/// Normalization entry: SI unit, quantity name and scale factor (as libmbus's double table).
struct Norm {
    unit: &'static str,
    quantity: &'static str,
    factor: f64,
}

const POW10: [f64; 22] = [
    1.0e-12, 1.0e-11, 1.0e-10, 1.0e-9, 1.0e-8, 1.0e-7, 1.0e-6, 1.0e-5, 1.0e-4, 1.0e-3, 1.0e-2,
    1.0e-1, 1.0e0, 1.0e1, 1.0e2, 1.0e3, 1.0e4, 1.0e5, 1.0e6, 1.0e7, 1.0e8, 1.0e9,
];

fn p10(e: i32) -> f64 {
    usize::try_from(e + 12)
        .ok()
        .and_then(|i| POW10.get(i).copied())
        .unwrap_or(1.0)
}

const SECONDS: [f64; 4] = [1.0, 60.0, 3600.0, 86400.0];
const LONG_SECONDS: [f64; 4] = [3600.0, 86400.0, 2629743.83, 31556926.0];

/// The length in seconds of the time unit the low two bits of `code` select from `units`.
fn seconds(units: &[f64; 4], code: u8) -> f64 {
    // Two bits select one of four, so the lookup always hits.
    units.get(usize::from(code & 3)).copied().unwrap_or(1.0)
}

fn norm(unit: &'static str, quantity: &'static str, factor: f64) -> Option<Norm> {
    Some(Norm {
        unit,
        quantity,
        factor,
    })
}

fn primary_norm(code: u8) -> Option<Norm> {
    let n = i32::from(code & 7);
    let nn = i32::from(code & 3);
    let t = seconds(&SECONDS, code);
    match code {
        0x00..=0x07 => norm("Wh", "Energy", p10(n - 3)),
        0x08..=0x0F => norm("J", "Energy", p10(n)),
        0x10..=0x17 => norm("m^3", "Volume", p10(n - 6)),
        0x18..=0x1F => norm("kg", "Mass", p10(n - 3)),
        0x20..=0x23 => norm("s", "On time", t),
        0x24..=0x27 => norm("s", "Operating time", t),
        0x28..=0x2F => norm("W", "Power", p10(n - 3)),
        0x30..=0x37 => norm("J/h", "Power", p10(n)),
        0x38..=0x3F => norm("m^3/h", "Volume flow", p10(n - 6)),
        0x40..=0x47 => norm("m^3/min", "Volume flow", p10(n - 7)),
        0x48..=0x4F => norm("m^3/s", "Volume flow", p10(n - 9)),
        0x50..=0x57 => norm("kg/h", "Mass flow", p10(n - 3)),
        0x58..=0x5B => norm("°C", "Flow temperature", p10(nn - 3)),
        0x5C..=0x5F => norm("°C", "Return temperature", p10(nn - 3)),
        0x60..=0x63 => norm("K", "Temperature difference", p10(nn - 3)),
        0x64..=0x67 => norm("°C", "External temperature", p10(nn - 3)),
        0x68..=0x6B => norm("bar", "Pressure", p10(nn - 3)),
        0x6C => norm("-", "Time point (date)", 1.0),
        0x6D => norm("-", "Time point (date & time)", 1.0),
        0x6E => norm("Units for H.C.A.", "H.C.A.", 1.0),
        0x6F => norm("Reserved", "Reserved", 0.0),
        0x70..=0x73 => norm("s", "Averaging Duration", t),
        0x74..=0x77 => norm("s", "Actuality Duration", t),
        0x78 => norm("", "Fabrication No", 1.0),
        0x79 => norm("", "(Enhanced) Identification", 1.0),
        0x7A => norm("", "Bus Address", 1.0),
        0x7E => norm("", "Any VIF", 1.0),
        0x7F => norm("", "Manufacturer specific", 1.0),
        _ => None,
    }
}

fn fd_norm(code: u8) -> Option<Norm> {
    let nn = i32::from(code & 3);
    let t = seconds(&SECONDS, code);
    let lt = seconds(&LONG_SECONDS, code);
    let reserved = norm("Reserved", "Reserved", 1.0);
    match code {
        0x00..=0x03 => norm("Currency units", "Credit", p10(nn - 3)),
        0x04..=0x07 => norm("Currency units", "Debit", p10(nn - 3)),
        0x08 => norm("", "Access Number (transmission count)", 1.0),
        0x09 => norm("", "Medium", 1.0),
        0x0A => norm("", "Manufacturer", 1.0),
        0x0B => norm("", "Parameter set identification", 1.0),
        0x0C => norm("", "Model / Version", 1.0),
        0x0D => norm("", "Hardware version", 1.0),
        0x0E => norm("", "Firmware version", 1.0),
        0x0F => norm("", "Software version", 1.0),
        0x10 => norm("", "Customer location", 1.0),
        0x11 => norm("", "Customer", 1.0),
        0x12 => norm("", "Access Code User", 1.0),
        0x13 => norm("", "Access Code Operator", 1.0),
        0x14 => norm("", "Access Code System Operator", 1.0),
        0x15 => norm("", "Access Code Developer", 1.0),
        0x16 => norm("", "Password", 1.0),
        0x17 => norm("", "Error flags", 1.0),
        0x18 => norm("", "Error mask", 1.0),
        0x1A => norm("", "Digital Output", 1.0),
        0x1B => norm("", "Digital Input", 1.0),
        0x1C => norm("Baud", "Baudrate", 1.0),
        0x1D => norm("Bittimes", "Response delay time", 1.0),
        0x1E => norm("", "Retry", 1.0),
        0x20 => norm("", "First storage # for cyclic storage", 1.0),
        0x21 => norm("", "Last storage # for cyclic storage", 1.0),
        0x22 => norm("", "Size of storage block", 1.0),
        0x24..=0x27 => norm("s", "Storage interval", t),
        0x28 => norm("s", "Storage interval", 2629743.83),
        0x29 => norm("s", "Storage interval", 31556926.0),
        0x2C..=0x2F => norm("s", "Duration since last readout", t),
        0x31..=0x33 => norm("s", "Duration of tariff", t),
        0x34..=0x37 => norm("s", "Period of tariff", t),
        0x38 => norm("s", "Period of tariff", 2629743.83),
        0x39 => norm("s", "Period of tariff", 31556926.0),
        0x3A => norm("", "Dimensionless", 1.0),
        0x40..=0x4F => norm("V", "Voltage", p10(i32::from(code & 0x0F) - 9)),
        0x50..=0x5F => norm("A", "Current", p10(i32::from(code & 0x0F) - 12)),
        0x60 => norm("", "Reset counter", 1.0),
        0x61 => norm("", "Cumulation counter", 1.0),
        0x62 => norm("", "Control signal", 1.0),
        0x63 => norm("", "Day of week", 1.0),
        0x64 => norm("", "Week number", 1.0),
        0x65 => norm("", "Time point of day change", 1.0),
        0x66 => norm("", "State of parameter activation", 1.0),
        0x67 => norm("", "Special supplier information", 1.0),
        0x68..=0x6B => norm("s", "Duration since last cumulation", lt),
        0x6C..=0x6F => norm("s", "Operating time battery", lt),
        0x70 => norm("", "Date and time of battery change", 1.0),
        _ => reserved,
    }
}

fn fb_norm(code: u8) -> Option<Norm> {
    let nn = i32::from(code & 3);
    let reserved = norm("Reserved", "Reserved", 1.0);
    match code {
        0x00 => norm("Wh", "Energy", 1.0e5),
        0x01 => norm("Wh", "Energy", 1.0e6),
        0x08 => norm("Reserved", "Energy", 1.0e8),
        0x09 => norm("Reserved", "Energy", 1.0e9),
        0x10 => norm("m^3", "Volume", 1.0e2),
        0x11 => norm("m^3", "Volume", 1.0e3),
        0x18 => norm("kg", "Mass", 1.0e5),
        0x19 => norm("kg", "Mass", 1.0e6),
        0x21 => norm("feet^3", "Volume", 1.0e-1),
        0x22 => norm("American gallon", "Volume", 1.0e-1),
        0x23 => norm("American gallon", "Volume", 1.0e0),
        0x24 => norm("American gallon/min", "Volume flow", 1.0e-3),
        0x25 => norm("American gallon/min", "Volume flow", 1.0e0),
        0x26 => norm("American gallon/h", "Volume flow", 1.0e0),
        0x28 => norm("W", "Power", 1.0e5),
        0x29 => norm("W", "Power", 1.0e6),
        0x30 => norm("J", "Power", 1.0e8),
        0x31 => norm("J", "Power", 1.0e9),
        0x58..=0x5B => norm("°F", "Flow temperature", p10(nn - 3)),
        0x5C..=0x5F => norm("°F", "Return temperature", p10(nn - 3)),
        0x60..=0x63 => norm("°F", "Temperature difference", p10(nn - 3)),
        0x64..=0x67 => norm("°F", "External temperature", p10(nn - 3)),
        0x70..=0x73 => norm("°F", "Cold / Warm Temperature Limit", p10(nn - 3)),
        0x74..=0x77 => norm("°C", "Cold / Warm Temperature Limit", p10(nn - 3)),
        // libmbus's table lists 10^-3 for both 0x78 and 0x79.
        0x78 => norm("W", "Cumul count max power", 1.0e-3),
        0x79..=0x7F => norm("W", "Cumul count max power", p10(i32::from(code & 7) - 3)),
        _ => reserved,
    }
}

/// The raw numeric value libmbus's normalizer computes before scaling, or `None` when it fails.
fn normalized_raw(r: &DataRecord<'_>) -> Option<f64> {
    let mut buf = [0; 8];
    let data = lsb_first(r, &mut buf);
    Some(match r.dif & 0x0F {
        0x01..=0x04 | 0x06 | 0x07 => int_le(data) as f64,
        0x05 => f64::from(real32(data)),
        0x09..=0x0C | 0x0E => bcd_decimal(data) as f64,
        _ => return None,
    })
}

fn normalized_record(r: &DataRecord<'_>, out: &mut String) {
    let vib = &r.vib;
    // Value decoding first: libmbus drops the whole record when it fails.
    let coding = r.dif & 0x0F;
    if coding == 0x08 {
        return;
    }
    let first_vife = vib.vifes.first().map(|e| e & 0x7F);
    let table = match vib.vif {
        0xFD => match first_vife {
            Some(c) => fd_norm(c),
            None => return,
        },
        0xFB => match first_vife {
            Some(c) => fb_norm(c),
            None => return,
        },
        0x7C | 0xFC => norm("-", "", 1.0),
        vif => primary_norm(vif & 0x7F),
    };
    let Some(entry) = table else { return };
    push_dib(r, out);
    out.push_str("        <Unit>");
    push_escaped(out, entry.unit);
    out.push_str("</Unit>\n        <Quantity>");
    if vib.vif & 0x7F == 0x7C {
        push_escaped_rev(out, vib.plain_text.unwrap_or(&[]));
    } else {
        push_escaped(out, entry.quantity);
    }
    out.push_str("</Quantity>\n        <Value>");
    if !push_text_value(r, out, true) {
        let raw = normalized_raw(r).unwrap_or(0.0);
        let mut v = if vib.vif & 0x7F == 0x7C {
            raw
        } else {
            raw * entry.factor
        };
        if vib.vif & 0x80 != 0 && vib.vif != 0xFD && vib.vif != 0xFB {
            if let Some(&e) = vib.vifes.first() {
                match e & 0x7F {
                    0x70..=0x77 => v *= p10(i32::from(e & 7) - 6),
                    0x78..=0x7B => v += p10(i32::from(e & 3) - 3),
                    0x7D => v *= 1000.0,
                    _ => {}
                }
            }
        }
        push_f64_fixed6(out, v);
    }
    out.push_str("</Value>\n");
}

// ---- low-level writers -------------------------------------------------------------------

fn push_int(out: &mut String, v: i64) {
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(v));
}

fn push_padded(out: &mut String, v: i32, width: usize) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v);
    for _ in s.len()..width {
        out.push('0');
    }
    out.push_str(s);
}

fn push_hex2(out: &mut String, b: u8) {
    out.push(hex::digit(b >> 4));
    out.push(hex::digit(b));
}

fn push_hex2_lower(out: &mut String, b: u8) {
    out.push(hex::digit_lower(b >> 4));
    out.push(hex::digit_lower(b));
}

/// `%X`: uppercase hex without leading zeros.
fn push_hex(out: &mut String, v: u64) {
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        out.push(hex::digit((v >> (shift * 4)) as u8));
    }
}

fn push_hex_dump(out: &mut String, bytes: impl Iterator<Item = u8>) {
    let mut first = true;
    for b in bytes {
        if !first {
            out.push(' ');
        }
        first = false;
        push_hex2(out, b);
    }
}

fn push_escaped_byte(out: &mut String, b: u8) {
    match b {
        b'&' => out.push_str("&amp;"),
        b'<' => out.push_str("&lt;"),
        b'>' => out.push_str("&gt;"),
        b'"' => out.push_str("&quot;"),
        0x00..=0x1F | 0x7F => out.push(' '),
        // Bytes above 0x7F are taken as ISO-8859-1, the encoding the prologue declares.
        _ => out.push(char::from(b)),
    }
}

/// XML-escapes one of our own names (product, medium, unit texts): `&`, `<`, `>`, `"`.
fn push_escaped(out: &mut String, s: &str) {
    if !s.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"')) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

/// Escapes wire-order text (last character first), reading it back to front.
fn push_escaped_rev(out: &mut String, s: &[u8]) {
    for &b in s.iter().rev() {
        if b == 0 {
            break;
        }
        push_escaped_byte(out, b);
    }
}

/// C's `printf("%f", v)`.
fn push_f64_fixed6(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str(if v.is_sign_negative() { "-nan" } else { "nan" });
        return;
    }
    if v.is_infinite() {
        out.push_str(if v < 0.0 { "-inf" } else { "inf" });
        return;
    }
    // Integral and small enough for an `i64` (the check needs no `libm`, so it builds without std).
    if v.abs() < 9.0e15 && (v as i64) as f64 == v {
        if v == 0.0 && v.is_sign_negative() {
            out.push('-');
        }
        push_int(out, v as i64);
        out.push_str(".000000");
        return;
    }
    use core::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(out, "{v:.6}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_f() {
        let f = |v: f64| {
            let mut s = String::new();
            push_f64_fixed6(&mut s, v);
            s
        };
        assert_eq!(f(561.08), "561.080000");
        assert_eq!(f(37351000.0), "37351000.000000");
        assert_eq!(f(-0.0), "-0.000000");
        assert_eq!(f(1.0000005), "1.000001");
        assert_eq!(f(0.0000005), "0.000000");
        assert_eq!(f(1e20), "100000000000000000000.000000");
    }

    #[test]
    fn unit_descriptions() {
        let d = |vif: u8, vifes: &[u8], text: Option<&[u8]>| {
            let mut data = vec![0x01, vif];
            if let Some(t) = text {
                data.push(t.len() as u8);
                data.extend_from_slice(t);
            }
            data.extend_from_slice(vifes);
            data.push(0);
            let telegram = Telegram::parse(0x78, &data, 0).unwrap();
            let Telegram::Variable(v) = telegram else {
                panic!()
            };
            let Some(Ok(Record::Data(r))) = v.records().next() else {
                panic!()
            };
            let mut s = String::new();
            push_unit_description(&r, &mut s);
            s
        };
        assert_eq!(d(0x13, &[], None), "Volume (m m^3)");
        assert_eq!(d(0x14, &[], None), "Volume (1e-2  m^3)");
        assert_eq!(d(0x06, &[], None), "Energy (kWh)");
        assert_eq!(d(0x2B, &[], None), "Power (W)");
        assert_eq!(d(0x5A, &[], None), "Flow temperature (1e-1 deg C)");
        assert_eq!(d(0x22, &[], None), "On time (hours)");
        assert_eq!(d(0x79, &[], None), "Unknown (VIF=0x79)");
        assert_eq!(d(0xFB, &[0x00], None), "Energy (0.1 MWh)");
        assert_eq!(d(0xFB, &[0x01], None), "Energy (MWh)");
        assert_eq!(d(0xFB, &[0x11], None), "Volume (km3)");
        assert_eq!(d(0xFB, &[0x1A], None), "Reserved (0x1a)");
        assert_eq!(
            d(0xFB, &[0x50], None),
            "Unrecognized VIF 0xFB extension: 0x50"
        );
        assert_eq!(d(0xFB, &[0x7B], None), "cumul. count max power ( W)");
        assert_eq!(d(0xFD, &[0x0E], None), "Firmware version");
        assert_eq!(d(0xFD, &[0x26], None), "Storage interval hour(s)");
        assert_eq!(d(0xFD, &[0x48], None), "1e-1  V");
        assert_eq!(d(0xFD, &[0x59], None), "m A");
        assert_eq!(d(0xFD, &[0x6D], None), "Operating time battery day(s)");
        assert_eq!(d(0xFD, &[0x74], None), "Reserved VIF extension");
        assert_eq!(d(0x7C, &[], Some(b"Dc")), "cD");
        assert_eq!(d(0xFC, &[0x74], Some(b"HR%")), "1e-2  %RH");
        assert_eq!(d(0xFC, &[0x20], Some(b"x")), "Custom VIF");
    }

    #[test]
    fn prefixes() {
        let p = |e: i32| {
            let mut s = String::new();
            push_prefix(&mut s, e);
            s
        };
        assert_eq!(p(-2), "1e-2 ");
        assert_eq!(p(-3), "m");
        assert_eq!(p(0), "");
        assert_eq!(p(4), "10 k");
    }

    fn xml(ci: u8, data: &[u8], mode: Mode) -> String {
        let telegram = Telegram::parse(ci, data, 7).unwrap();
        to_string(&telegram, mode).unwrap()
    }

    #[test]
    fn msb_first_telegram_renders_like_lsb_first() {
        let lsb = [
            0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x04, 0x2A, 0x00, 0x34, 0x12, // header
            0x04, 0x14, 0x2C, 0xDB, 0x00, 0x00, // volume 561.08 m^3
            0x04, 0x6D, 0x1A, 0x2F, 0x65, 0x11, // 2011-01-05T15:26
        ];
        let msb = [
            0x12, 0x34, 0x56, 0x78, 0x2C, 0x2D, 0x01, 0x04, 0x2A, 0x00, 0x12, 0x34, //
            0x04, 0x14, 0x00, 0x00, 0xDB, 0x2C, //
            0x04, 0x6D, 0x11, 0x65, 0x2F, 0x1A,
        ];
        for mode in [Mode::Plain, Mode::Normalized] {
            assert_eq!(xml(0x72, &lsb, mode), xml(0x76, &msb, mode));
        }
        let plain = xml(0x72, &lsb, Mode::Plain);
        assert!(plain.contains("<Id>12345678</Id>"));
        assert!(plain.contains("<Signature>1234</Signature>"));
        assert!(plain.contains("<Value>56108</Value>"));
        assert!(plain.contains("<Value>2011-01-05T15:26:00</Value>"));
        assert!(xml(0x72, &lsb, Mode::Normalized).contains("<Value>561.080000</Value>"));
    }

    #[test]
    fn short_header_no_header_and_alarm() {
        let short = xml(
            0x7A,
            &[0x2A, 0x00, 0x00, 0x00, 0x01, 0xFD, 0x17, 0x05],
            Mode::Plain,
        );
        assert!(short.contains("<AccessNumber>42</AccessNumber>"));
        assert!(!short.contains("<Id>"));
        assert!(short.contains("<Unit>Error flags</Unit>"));
        let none = xml(0x78, &[0x01, 0xFD, 0x17, 0x05], Mode::Plain);
        assert!(none.contains("    <SlaveInformation>\n    </SlaveInformation>"));
        let alarm = xml(0x71, &[0x03], Mode::Plain);
        assert!(alarm.contains("<Alarm>03</Alarm>"));
    }

    /// The `<Value>` (or another element) of the only record of a CI 0x78 telegram.
    fn element(records: &[u8], mode: Mode, name: &str) -> String {
        let out = xml(0x78, records, mode);
        let open = format!("<{name}>");
        let start = out.find(&open).map(|i| i + open.len()).unwrap_or(0);
        let end = out[start..].find("</").map_or(out.len(), |i| start + i);
        out[start..end].to_owned()
    }

    fn typed(records: &[u8]) -> crate::record::DataRecord<'_> {
        match crate::record::Records::new(records, 0).next() {
            Some(Ok(Record::Data(r))) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn error_state_bcd_prints_raw_digits_in_plain_mode() {
        let record = [0x3A, 0x13, 0x98, 0xF7];
        assert_eq!(element(&record, Mode::Plain, "Value"), "F798");
        assert_eq!(
            element(&record, Mode::Plain, "Function"),
            "Value during error state"
        );
        // The normalizer reads digits as libmbus does: a leading F is a minus sign.
        assert_eq!(element(&record, Mode::Normalized, "Value"), "-0.798000");
        // Small error values keep no leading zeros, like %X.
        assert_eq!(
            element(&[0x3A, 0x13, 0x98, 0x00], Mode::Plain, "Value"),
            "98"
        );
    }

    #[test]
    fn negative_zero_bcd_is_zero() {
        let record = [0x0A, 0x13, 0x00, 0xF0];
        assert_eq!(element(&record, Mode::Plain, "Value"), "0");
        assert_eq!(element(&record, Mode::Normalized, "Value"), "0.000000");
        assert_eq!(
            element(&[0x0A, 0x13, 0x01, 0xF0], Mode::Plain, "Value"),
            "-1"
        );
    }

    #[test]
    fn invalid_bcd_digit_reads_as_libmbus_reads_it() {
        // A7 50: the high nibble A counts as 0 in the XML; the typed decode calls it invalid.
        let record = [0x0A, 0x13, 0x50, 0xA7];
        assert_eq!(element(&record, Mode::Plain, "Value"), "750");
        assert_eq!(element(&record, Mode::Normalized, "Value"), "0.750000");
        let r = typed(&record);
        assert_eq!(r.decimal(), None);
        assert!(matches!(r.value(), crate::value::Value::Bcd(b) if b.value().is_none()));
    }

    #[test]
    fn hundred_year_field_is_ignored_in_xml_only() {
        // Type F 2110-01-05 15:26 (year field 10, hundred-year 2).
        let record = [0x04, 0x6D, 0x1A, 0x4F, 0x45, 0x11];
        assert_eq!(
            element(&record, Mode::Plain, "Value"),
            "2010-01-05T15:26:00"
        );
        assert_eq!(
            element(&record, Mode::Normalized, "Value"),
            "2010-01-05T15:26:00Z"
        );
        let crate::value::Value::DateTime(t) = typed(&record).value() else {
            panic!()
        };
        assert_eq!(t.to_string(), "2110-01-05T15:26:00");
    }

    #[test]
    fn storage_number_of_eight_difes_is_exact() {
        // Storage bit in the DIF and 0xF in each of 8 DIFEs: 33 bits, 0x1FFFFFFFF (libmbus
        // shifts the eighth nibble by 29 in a 32-bit int and loses the top bits).
        let mut record = vec![0xC4];
        record.extend_from_slice(&[0x8F; 7]);
        record.extend_from_slice(&[0x0F, 0x13, 0, 0, 0, 0]);
        assert_eq!(typed(&record).storage_number(), 0x1_FFFF_FFFF);
        for mode in [Mode::Plain, Mode::Normalized] {
            assert_eq!(element(&record, mode, "StorageNumber"), "8589934591");
        }
    }

    #[test]
    fn plain_text_unit_of_128_characters_is_printed_whole() {
        let unit: Vec<u8> = (0..128u8).map(|i| b'A' + i % 26).collect();
        let mut record = vec![0x04, 0x7C, 128];
        record.extend_from_slice(&unit);
        record.extend_from_slice(&[1, 0, 0, 0]);
        let reading_order: String = unit.iter().rev().map(|&b| char::from(b)).collect();
        assert_eq!(element(&record, Mode::Plain, "Unit"), reading_order);
        assert_eq!(
            element(&record, Mode::Normalized, "Quantity"),
            reading_order
        );
    }

    #[test]
    fn application_error_in_normalized_mode() {
        let out = xml(0x70, &[0x08], Mode::Normalized);
        assert!(out.contains("<Error>Application busy</Error>"), "{out}");
        assert_eq!(out, xml(0x70, &[0x08], Mode::Plain));
    }

    #[test]
    fn bad_record_writes_nothing() {
        let telegram = Telegram::parse(0x78, &[0x8B], 7).unwrap();
        let mut out = String::from("x");
        assert_eq!(
            write(&telegram, Mode::Plain, &mut out),
            Err(XmlError::Record(RecordError::PrematureEndAtDif {
                offset: 7
            }))
        );
        assert_eq!(out, "x");
    }

    #[test]
    fn frames_without_application_data() {
        let xml_of = |bytes: &[u8]| {
            let frame = crate::frame::Frame::parse_exact(bytes).unwrap();
            let mut out = String::new();
            write_frame(&crate::describe::describe(&frame), &mut out);
            out
        };
        assert_eq!(
            xml_of(&[0xE5]),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<MBusFrame>\n    \
             <Type>ACK</Type>\n</MBusFrame>\n"
        );
        let short = xml_of(&[0x10, 0x7B, 0x01, 0x7C, 0x16]);
        assert!(short.contains(
            "<Type>SHORT</Type>\n    <Control>7B</Control>\n    <Function>REQ_UD2</Function>\n    \
             <Direction>master to slave</Direction>\n    <FCB>1</FCB>\n    <FCV>1</FCV>\n    \
             <Address>1</Address>\n</MBusFrame>"
        ));
        let control = xml_of(&[0x68, 0x03, 0x03, 0x68, 0x53, 0xFE, 0x50, 0xA1, 0x16]);
        assert!(control.contains("<CI>50</CI>\n    <CIMeaning>application reset</CIMeaning>"));
        assert!(!control.contains("<Data>"));
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        push_escaped(&mut s, "a&b<\"c\">°");
        assert_eq!(s, "a&amp;b&lt;&quot;c&quot;&gt;°");
        s.clear();
        push_escaped_rev(&mut s, b"\x01>a");
        assert_eq!(s, "a&gt; ");
        s.clear();
        push_escaped_rev(&mut s, b"CB\0A");
        assert_eq!(s, "A");
    }
}
