//! `mbusctl decode`: hex text in, decoded frame out.

use crate::exit::Exit;
use mbus_proto::frame::Frame;
use mbus_proto::hex::parse_hex;
use std::io::Read;
use std::path::PathBuf;

/// Arguments of `mbusctl decode`.
#[derive(clap::Args)]
pub struct Args {
    /// File holding the frame as hex; `-` or nothing reads standard input.
    file: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let text = match read_input(args.file.as_deref()) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("mbusctl decode: {e}");
            return Exit::Failure;
        }
    };
    let bytes = match parse_hex(&text) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("mbusctl decode: bad hex: {e}");
            return Exit::BadInput;
        }
    };
    match Frame::parse_exact(&bytes) {
        Ok(frame) => {
            println!("{frame:?}");
            Exit::Ok
        }
        Err(e) => {
            eprintln!("mbusctl decode: bad frame: {e}");
            Exit::BadInput
        }
    }
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
