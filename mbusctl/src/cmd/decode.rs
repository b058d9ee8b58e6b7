//! `mbusctl decode`: hex text in, decoded frames out as a table for people, JSON for scripts,
//! or libmbus-compatible XML (plain or normalized). The input may hold any number of frames of
//! any kind; a bad one is reported with its number and offset and the rest still decode.

use crate::exit::Exit;
use mbus_proto::app::{DecodeError, Telegram};
use mbus_proto::describe::{describe, FrameDescription};
use mbus_proto::frame::{Frame, Frames, Located, StreamError};
use mbus_proto::hex::parse_hex;
use mbus_proto::render::TelegramTable;
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
    /// File holding the frames as hex (one per line or back to back); `-` or nothing reads
    /// standard input.
    file: Option<PathBuf>,
    /// The frames as hex on the command line instead of a file.
    #[arg(long, conflicts_with = "file")]
    hex: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// With `--format xml`: values scaled to SI units (`mbus-parse-hex -n`).
    #[arg(long)]
    normalized: bool,
}

/// One frame of the input, decoded as far as it goes.
enum Decoded<'a> {
    /// A slave's reply with its application layer.
    Reply(Telegram<'a>),
    /// A frame without application data (`E5`, short frame, master request).
    Link(FrameDescription<'a>),
}

/// A frame of the input that could not be decoded.
struct Failure {
    number: usize,
    offset: usize,
    message: String,
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
    let mode = if args.normalized {
        Mode::Normalized
    } else {
        Mode::Plain
    };
    let items: Vec<Result<(Located<'_>, Decoded<'_>), Failure>> =
        Frames::new(&bytes).map(decode_one).collect();
    let total = items.len();
    let mut output = String::with_capacity(4096);
    let mut json_items = Vec::new();
    let mut failures = Vec::new();
    for item in items {
        let (at, decoded) = match item {
            Ok(ok) => ok,
            Err(f) => {
                failures.push(f);
                continue;
            }
        };
        let rendered = match args.format {
            Format::Xml => xml_of(&decoded, mode, &mut output),
            Format::Json => json_of(&decoded).map(|v| json_items.push((at.number, v))),
            Format::Text => {
                if total > 1 {
                    let _ = writeln!(
                        output,
                        "{}=== frame {} of {total}, byte {} ===",
                        if output.is_empty() { "" } else { "\n" },
                        at.number,
                        at.offset
                    );
                }
                match &decoded {
                    Decoded::Reply(telegram) => {
                        output.push_str(&text_table(&at.frame, telegram));
                    }
                    Decoded::Link(d) => {
                        let _ = writeln!(output, "Frame      {d}");
                    }
                }
                Ok(())
            }
        };
        if let Err(message) = rendered {
            failures.push(Failure {
                number: at.number,
                offset: at.offset,
                message: format!("frame {} at byte {}: {message}", at.number, at.offset),
            });
        }
    }
    if args.format == Format::Json {
        // One frame: its object, as always; several: an array in input order, bad frames
        // included.
        for f in &failures {
            let bad = serde_json::json!({
                "kind": "bad_frame",
                "number": f.number,
                "offset": f.offset,
                "error": f.message,
            });
            json_items.push((f.number, bad));
        }
        json_items.sort_by_key(|(number, _)| *number);
        let mut values: Vec<serde_json::Value> = json_items.into_iter().map(|(_, v)| v).collect();
        let document = match values.len() {
            _ if total > 1 => Some(serde_json::Value::Array(values)),
            1 if failures.is_empty() => values.pop(),
            _ => None,
        };
        if let Some(document) = document {
            push_pretty_json(&document, &mut output);
        }
    }
    for f in &failures {
        eprintln!("mbusctl decode: {}", f.message);
    }
    if total > 1 && !failures.is_empty() {
        eprintln!(
            "mbusctl decode: {} of {total} frames could not be decoded",
            failures.len()
        );
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("mbusctl decode: writing output: {e}");
            Exit::Failure
        }
        _ if failures.is_empty() => Exit::Ok,
        _ => Exit::BadInput,
    }
}

/// Decodes one item of the frame stream: a reply down to its records, any other frame to its
/// description.
fn decode_one<'a>(
    item: Result<Located<'a>, StreamError>,
) -> Result<(Located<'a>, Decoded<'a>), Failure> {
    let at = match item {
        Ok(at) => at,
        Err(e) => {
            let message = match e {
                StreamError::BadFrame {
                    number,
                    offset,
                    error,
                    ..
                } => format!("frame {number} at byte {offset}: bad frame: {error}"),
                _ => e.to_string(),
            };
            return Err(Failure {
                number: e.number(),
                offset: e.offset(),
                message,
            });
        }
    };
    let description = describe(&at.frame);
    if !description.is_reply() {
        return Ok((at, Decoded::Link(description)));
    }
    match Telegram::from_frame(&at.frame).and_then(|t| {
        t.validate()?;
        Ok(t)
    }) {
        Ok(t) => Ok((at, Decoded::Reply(t))),
        Err(e) => Err(Failure {
            number: at.number,
            offset: at.offset,
            message: format!(
                "frame {} at byte {}: bad telegram: {}",
                at.number,
                at.offset,
                describe_error(&e)
            ),
        }),
    }
}

fn xml_of(decoded: &Decoded<'_>, mode: Mode, out: &mut String) -> Result<(), String> {
    match decoded {
        Decoded::Reply(telegram) => {
            xml::write(telegram, mode, out).map_err(|e| format!("bad telegram: {e}"))
        }
        Decoded::Link(d) => {
            xml::write_frame(d, out);
            Ok(())
        }
    }
}

fn json_of(decoded: &Decoded<'_>) -> Result<serde_json::Value, String> {
    let value = match decoded {
        Decoded::Reply(telegram) => serde_json::to_value(telegram),
        Decoded::Link(d) => serde_json::to_value(d),
    };
    value.map_err(|e| format!("bad telegram: {e}"))
}

/// Pretty JSON of `value` with a final newline.
fn push_pretty_json(value: &serde_json::Value, out: &mut String) {
    if let Ok(s) = serde_json::to_string_pretty(value) {
        out.push_str(&s);
        out.push('\n');
    }
}

fn describe_error(e: &DecodeError) -> String {
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

/// The human-readable table of a decoded telegram, as `decode --format text` prints it.
pub(crate) fn text_table(frame: &Frame<'_>, telegram: &Telegram<'_>) -> String {
    TelegramTable::new(frame, telegram).to_string()
}
