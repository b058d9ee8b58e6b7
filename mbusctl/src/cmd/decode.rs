//! `mbusctl decode`: hex text in, decoded telegram out as a table for people, JSON for scripts,
//! or libmbus-compatible XML (plain or normalized).

use crate::exit::Exit;
use mbus_proto::app::{security_mode_name, DecodeError, Header, Telegram};
use mbus_proto::frame::Frame;
use mbus_proto::hex::parse_hex;
use mbus_proto::names::{fixed_medium_name, fixed_unit_name, medium_name, product_name};
use mbus_proto::record::{DataRecord, Record};
use mbus_proto::value::Value;
use mbus_proto::xml::{self, Mode};
use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::PathBuf;

/// Output formats of `mbusctl decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table: header, then one row per record.
    Text,
    /// JSON (schema: mbus-proto `docs/json-schema.md`).
    Json,
    /// XML as libmbus's `mbus-parse-hex` prints it.
    Xml,
}

/// Arguments of `mbusctl decode`.
#[derive(clap::Args)]
pub struct Args {
    /// File holding the frame as hex; `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// The frame as hex on the command line instead of a file.
    #[arg(long, conflicts_with = "file")]
    hex: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// With `--format xml`: values scaled to SI units (`mbus-parse-hex -n`).
    #[arg(long)]
    normalized: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    if args.normalized && args.format != Format::Xml {
        eprintln!("mbusctl decode: --normalized only applies to --format xml");
        return Exit::Usage;
    }
    let text = match &args.hex {
        Some(hex) => hex.clone(),
        None => match read_input(args.file.as_deref()) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("mbusctl decode: {e}");
                return Exit::Failure;
            }
        },
    };
    let bytes = match parse_hex(&text) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("mbusctl decode: bad hex: {e}");
            return Exit::BadInput;
        }
    };
    let frame = match Frame::parse_exact(&bytes) {
        Ok(frame) => frame,
        Err(e) => {
            eprintln!("mbusctl decode: bad frame: {e}");
            return Exit::BadInput;
        }
    };
    let telegram = match Telegram::from_frame(&frame).and_then(|t| {
        t.validate()?;
        Ok(t)
    }) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mbusctl decode: bad telegram: {}", describe(&e));
            return Exit::BadInput;
        }
    };
    let output = match args.format {
        Format::Xml => {
            let mode = if args.normalized {
                Mode::Normalized
            } else {
                Mode::Plain
            };
            let mut out = String::with_capacity(4096);
            match xml::write(&telegram, mode, &mut out) {
                Ok(()) => out,
                Err(e) => {
                    eprintln!("mbusctl decode: bad telegram: {e}");
                    return Exit::BadInput;
                }
            }
        }
        Format::Json => match serde_json::to_string_pretty(&telegram) {
            Ok(mut s) => {
                s.push('\n');
                s
            }
            Err(e) => {
                eprintln!("mbusctl decode: bad telegram: {e}");
                return Exit::BadInput;
            }
        },
        Format::Text => text_table(&frame, &telegram),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Exit::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Ok,
        Err(e) => {
            eprintln!("mbusctl decode: writing output: {e}");
            Exit::Failure
        }
    }
}

fn describe(e: &DecodeError) -> String {
    // Every message already names its byte offset ("byte N: ...").
    e.to_string()
}

fn read_input(file: Option<&std::path::Path>) -> std::io::Result<String> {
    match file {
        Some(path) if path.as_os_str() != "-" => std::fs::read_to_string(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        _ => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Ok(text)
        }
    }
}

fn frame_line(frame: &Frame<'_>, out: &mut String) {
    let _ = match frame {
        Frame::Long {
            control,
            address,
            ci,
            data,
        } => writeln!(
            out,
            "Frame      long, C=0x{:02X}, address {address}, CI=0x{ci:02X}, {} data bytes",
            control.0,
            data.len()
        ),
        Frame::Control {
            control,
            address,
            ci,
        } => writeln!(
            out,
            "Frame      control, C=0x{:02X}, address {address}, CI=0x{ci:02X}",
            control.0
        ),
        Frame::Short { control, address } => writeln!(
            out,
            "Frame      short, C=0x{:02X}, address {address}",
            control.0
        ),
        Frame::Ack => writeln!(out, "Frame      ACK (E5)"),
    };
}

fn value_text(r: &DataRecord<'_>) -> String {
    let info = r.value_info();
    let unit = match info.plain_text {
        Some(t) => t.to_string(),
        None => info.unit.symbol().to_owned(),
    };
    let number = |s: String| {
        if unit.is_empty() {
            s
        } else {
            format!("{s} {unit}")
        }
    };
    match r.value() {
        Value::None => String::new(),
        Value::Integer(_) | Value::Bcd(_) => match r.decimal() {
            Some(d) => number(d.to_string()),
            None => match r.value() {
                Value::Bcd(b) => format!(
                    "invalid BCD {:0width$X}",
                    b.raw,
                    width = usize::from(b.digits)
                ),
                _ => String::new(),
            },
        },
        Value::Real(f) => match r.scaled_value() {
            Some(v) => number(v.to_string()),
            None => format!("not a number ({f})"),
        },
        Value::Date(d) => d.to_string(),
        Value::DateTime(t) => {
            let mut s = t.to_string();
            if t.invalid {
                s.push_str(" (invalid)");
            }
            if t.summer_time {
                s.push_str(" (summer time)");
            }
            s
        }
        Value::Time(t) => t.to_string(),
        Value::Dst(k) => format!(
            "DST {:02}-{:02} {:02}h .. {:02}-{:02}, {:+}h, local {:+}h",
            k.begin_month,
            k.begin_day,
            k.begin_hour,
            k.end_month,
            k.end_day,
            k.dst_deviation,
            k.local_deviation
        ),
        Value::Text(t) => format!("\"{t}\""),
        Value::Bytes(b) => hex_bytes(b),
    }
}

fn hex_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{x:02X}");
    }
    s
}

/// The human-readable table of a decoded telegram, as `decode --format text` prints it.
pub(crate) fn text_table(frame: &Frame<'_>, telegram: &Telegram<'_>) -> String {
    let mut out = String::new();
    frame_line(frame, &mut out);
    match telegram {
        Telegram::Error(e) => {
            let _ = writeln!(
                out,
                "Error      code {} ({})",
                e.code,
                e.description().unwrap_or("unknown")
            );
        }
        Telegram::Alarm(status) => {
            let _ = writeln!(out, "Alarm      status 0x{status:02X}");
        }
        Telegram::Fixed(f) => {
            let _ = writeln!(out, "Id         {:08X}", f.ident_raw());
            let _ = writeln!(
                out,
                "Medium     {} ({})",
                fixed_medium_name(f.medium()),
                f.medium()
            );
            let _ = writeln!(
                out,
                "Access     {}   Status 0x{:02X} ({} values)",
                f.access_number,
                f.status,
                if f.stored_values() {
                    "stored"
                } else {
                    "actual"
                }
            );
            let _ = writeln!(out, "\n  #  value        unit");
            for i in 0..2 {
                let v = f
                    .counter(i)
                    .map_or_else(|| "invalid BCD".to_owned(), |v| v.to_string());
                let _ = writeln!(out, "{i:>3}  {v:<12} {}", fixed_unit_name(f.unit_code(i)));
            }
        }
        Telegram::Encrypted(e) => {
            header_lines(&e.header, &mut out);
            let _ = writeln!(
                out,
                "Encrypted  security mode {} ({}), {} byte(s) of ciphertext; records need the meter's key",
                e.mode,
                security_mode_name(e.mode),
                e.payload.len()
            );
        }
        Telegram::Variable(v) => {
            header_lines(&v.header, &mut out);
            let _ = writeln!(
                out,
                "\n  #  function       stor tarif  sub  quantity                      value"
            );
            for (i, r) in v.records().enumerate() {
                match r {
                    Ok(Record::Data(r)) => {
                        let info = r.value_info();
                        let mut q = match info.plain_text {
                            Some(t) => format!("\"{t}\" (plain-text unit)"),
                            None => info.quantity.name().replace('_', " "),
                        };
                        for m in r.vib.modifiers() {
                            let _ = write!(q, ", {m}");
                        }
                        let _ = writeln!(
                            out,
                            "{i:>3}  {:<13} {:>5} {:>5} {:>4}  {q:<29} {}",
                            r.function().name(),
                            r.storage_number(),
                            r.tariff(),
                            r.subunit(),
                            value_text(&r)
                        );
                    }
                    Ok(Record::Manufacturer(m)) => {
                        let what = if m.more_records_follow() {
                            "manufacturer data, more records follow"
                        } else {
                            "manufacturer data"
                        };
                        let _ = writeln!(out, "{i:>3}  {what}: {}", hex_bytes(m.data));
                    }
                    // Records were validated before; an error here cannot happen, but print it
                    // rather than hide it.
                    Err(e) => {
                        let _ = writeln!(out, "{i:>3}  error: {e}");
                    }
                }
            }
        }
    }
    out
}

/// The header lines of a variable data structure, plain or encrypted.
fn header_lines(header: &Header, out: &mut String) {
    match *header {
        Header::Long(h) => {
            let m = h.manufacturer_letters();
            let _ = writeln!(
                out,
                "Id         {:08X}   Manufacturer {}{}{}   Version {}",
                h.ident_raw(),
                char::from(m[0]),
                char::from(m[1]),
                char::from(m[2]),
                h.version
            );
            if let Some(p) = product_name(h.manufacturer, h.version, h.medium, h.ident_bcd) {
                let _ = writeln!(out, "Product    {p}");
            }
            let _ = writeln!(
                out,
                "Medium     {} (0x{:02X})",
                medium_name(h.medium).unwrap_or("unknown"),
                h.medium
            );
        }
        Header::Short(_) => {
            let _ = writeln!(out, "Header     short (CI 0x7A)");
        }
        Header::None => {
            let _ = writeln!(out, "Header     none (CI 0x78)");
        }
    }
    if let (Some(a), Some(s)) = (header.access_number(), header.status()) {
        let _ = writeln!(out, "Access     {a}   Status 0x{s:02X}");
    }
}
