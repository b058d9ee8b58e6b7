//! `mbusctl reset`: link reset (SND_NKE) or application reset (CI 0x50, optionally with a
//! subcode) of one meter; `--broadcast` sends SND_NKE to address 255, which no meter answers.

use crate::cmd::bus::{self, BusArgs, MeterArgs};
use crate::exit::Exit;
use mbus_proto::address::LinkAddress;
use serde_json::json;

/// Arguments of `mbusctl reset`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["address", "secondary", "broadcast"])))]
pub struct Args {
    #[command(flatten)]
    bus: BusArgs,
    /// Primary address of the meter (0…250).
    #[arg(long, short = 'a')]
    address: Option<mbus_proto::address::PrimaryAddress>,
    /// Secondary address of the meter (16 hex digits as `mbusctl scan` prints them).
    #[arg(long, short = 's', value_parser = crate::cmd::read::parse_secondary)]
    secondary: Option<mbus_proto::address::SecondaryAddress>,
    /// SND_NKE to every meter (address 255, nobody answers); link reset only.
    #[arg(long, conflicts_with = "application")]
    broadcast: bool,
    /// Application reset (CI 0x50) instead of the link reset.
    #[arg(long)]
    application: bool,
    /// Subcode of the application reset (0x00–0xFF, e.g. 0x10 for "all"), decimal or 0x-hex.
    #[arg(long, requires = "application", value_parser = parse_byte)]
    subcode: Option<u8>,
}

fn parse_byte(s: &str) -> Result<u8, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("'{s}' is not a byte (0…255 or 0x00…0xFF)"))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let (kind, name) = if args.application {
        ("application reset", "application")
    } else {
        ("link reset (SND_NKE)", "link")
    };
    if args.broadcast {
        let mut master = match bus::open("reset", &args.bus) {
            Ok(m) => m,
            Err(exit) => return exit,
        };
        let result = master
            .snd_nke(LinkAddress::BroadcastNoReply)
            .map_err(bus::BusError::from)
            .map(|()| {
                (
                    format!("{kind} sent to every meter (address 255, no answer expected)"),
                    json!({"broadcast": true, "kind": name}),
                )
            });
        return bus::finish("reset", args.bus.json, result);
    }
    let meter = MeterArgs {
        address: args.address,
        secondary: args.secondary,
    };
    let subcode = args.subcode;
    bus::command_on_meter(
        "reset",
        &args.bus,
        &meter,
        |master, target| {
            if args.application {
                master.application_reset(target, subcode)
            } else {
                master.snd_nke(target)
            }
        },
        |meter| {
            (
                format!("{meter} acknowledged the {kind}"),
                json!({"kind": name, "subcode": subcode}),
            )
        },
    )
}
