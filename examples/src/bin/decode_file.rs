//! Decodes a capture file (hex text holding one or more frames, as logged by a gateway or
//! pasted from a terminal) and prints each frame as a table:
//! `cargo run -p mbus-examples --bin decode_file -- capture.hex`.

use mbus_link::mbus_proto::app::Telegram;
use mbus_link::mbus_proto::describe::describe;
use mbus_link::mbus_proto::frame::Frames;
use mbus_link::mbus_proto::hex::parse_hex;
use mbus_link::mbus_proto::render::TelegramTable;

fn main() -> std::process::ExitCode {
    mbus_examples::exit("decode_file", run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: decode_file CAPTURE.hex")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let bytes = parse_hex(&text).map_err(|e| format!("{path}: {e}"))?;
    let mut bad = 0;
    for item in Frames::new(&bytes) {
        match item {
            Ok(located) => {
                println!("-- frame {} at byte {}", located.number, located.offset);
                match Telegram::from_frame(&located.frame) {
                    Ok(telegram) => print!("{}", TelegramTable::new(&located.frame, &telegram)),
                    // Requests, acknowledgements and frames without application data.
                    Err(_) => println!("{}", describe(&located.frame)),
                }
            }
            Err(e) => {
                bad += 1;
                println!("-- {e}");
            }
        }
    }
    if bad > 0 {
        return Err(format!("{bad} bad frame(s) in {path}").into());
    }
    Ok(())
}
