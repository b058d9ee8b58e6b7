//! `mbusctl raw`: sends bytes given as hex and prints the reply (E5, or the frame as hex and
//! decoded), for requests no other command builds.

use crate::cmd::bus::{self, BusArgs};
use crate::cmd::decode::text_table;
use crate::exit::Exit;
use mbus_link::Reply;
use mbus_proto::app::Telegram as AppTelegram;
use mbus_proto::hex::{parse_hex, HexBytes};
use serde_json::json;

/// Arguments of `mbusctl raw`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    bus: BusArgs,
    /// The bytes to send, as hex (e.g. "10 5B 01 5C 16"; separators and 0x prefixes allowed).
    hex: String,
    /// Send only; do not wait for a reply (for broadcasts to address 255).
    #[arg(long)]
    no_reply: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let request = match parse_hex(&args.hex) {
        Ok(bytes) if !bytes.is_empty() => bytes,
        Ok(_) => {
            eprintln!("mbusctl raw: nothing to send: the hex is empty");
            return Exit::Usage;
        }
        Err(e) => {
            eprintln!("mbusctl raw: {e}");
            return Exit::BadInput;
        }
    };
    let mut master = match bus::open("raw", &args.bus) {
        Ok(m) => m,
        Err(exit) => return exit,
    };
    let sent = HexBytes::spaced(&request).to_string();
    let result = if args.no_reply {
        master.send_only(&request).map(|()| {
            (
                format!("sent {sent}"),
                json!({"request": sent, "reply": null}),
            )
        })
    } else {
        master.transact(&request).map(|reply| match reply {
            Reply::Ack => (
                "E5 (acknowledged)".to_string(),
                json!({"request": sent, "reply": "E5", "kind": "ack"}),
            ),
            Reply::Frame(telegram) => {
                let bytes = HexBytes::spaced(telegram.bytes()).to_string();
                let frame = telegram.frame();
                let decoded = match AppTelegram::from_frame(&frame) {
                    Ok(app) => text_table(&frame, &app),
                    Err(e) => format!("(no application data: {e})\n"),
                };
                (
                    format!("{bytes}\n{decoded}"),
                    json!({"request": sent, "reply": bytes, "kind": "frame"}),
                )
            }
        })
    };
    bus::finish("raw", args.bus.json, result.map_err(bus::BusError::from))
}
