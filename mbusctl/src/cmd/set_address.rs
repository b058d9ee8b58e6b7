//! `mbusctl set-address`: gives one meter a new primary address (SND_UD with VIF 0x7A).

use crate::cmd::bus::{self, BusArgs, MeterArgs};
use crate::exit::Exit;
use mbus_proto::address::PrimaryAddress;
use serde_json::json;

/// Arguments of `mbusctl set-address`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    meter: MeterArgs,
    /// The new primary address (0…250).
    #[arg(long = "new")]
    new_address: PrimaryAddress,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let new = args.new_address;
    bus::command_on_meter(
        "set-address",
        &args.bus,
        &args.meter,
        |master, target| master.set_primary_address(target, new),
        |meter| {
            (
                format!("{meter} acknowledged: its primary address is now {new}"),
                json!({"new_address": new.get()}),
            )
        },
    )
}
