//! What the example programs share: printing the values of the telegrams a meter sent.
//!
//! The programs are in `src/bin/`; each starts with a comment saying what it shows and how to
//! run it.

use mbus_link::mbus_proto::app::{Header, Telegram};
use mbus_link::mbus_proto::record::Record;
use mbus_link::mbus_proto::render::{TelegramTable, ValueText};
use mbus_link::ReplyFrame;
use std::io::Write;
use std::process::ExitCode;

/// Writes one line per data record of `frames` (quantity, storage number, value), after a line
/// naming the meter; telegrams without records (errors, encrypted ones) say why.
pub fn write_values(out: &mut impl Write, frames: &[ReplyFrame]) -> std::io::Result<()> {
    for frame in frames {
        match frame.decode() {
            Ok(Telegram::Variable(data)) => {
                if let Header::Long(h) = data.header {
                    writeln!(
                        out,
                        "meter {:08X} ({}), access {}",
                        h.ident_raw(),
                        h.manufacturer_id(),
                        h.access_number
                    )?;
                }
                for record in data.records() {
                    match record {
                        Ok(Record::Data(r)) => writeln!(
                            out,
                            "  {} (storage {}): {}",
                            r.value_info().quantity,
                            r.storage_number(),
                            ValueText(&r)
                        )?,
                        Ok(Record::Manufacturer(_)) => {}
                        Err(e) => writeln!(out, "  bad record: {e}")?,
                    }
                }
            }
            Ok(other) => write!(out, "{}", TelegramTable::new(&frame.frame(), &other))?,
            Err(e) => writeln!(out, "cannot decode: {e}")?,
        }
    }
    Ok(())
}

/// The exit of a program: success, or its error printed as a sentence (not as `Debug`) after
/// the program's name, and exit code 1.
pub fn exit(program: &str, result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}
