//! `mbusctl set-address`: gives one meter a new primary address (SND_UD with VIF 0x7A).

use crate::cmd::bus::{self, BusArgs, MeterArgs};
use crate::exit::Exit;
use serde_json::json;

/// Arguments of `mbusctl set-address`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    meter: MeterArgs,
    /// The new primary address (0…250).
    #[arg(long = "new", value_parser = bus::parse_unicast)]
    new_address: u8,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let mut master = match bus::open("set-address", &args.bus) {
        Ok(m) => m,
        Err(exit) => return exit,
    };
    let new = args.new_address;
    let result = bus::target(&mut master, &args.meter).and_then(|target| {
        master.set_primary_address(target, new)?;
        Ok((
            format!(
                "{} acknowledged: its primary address is now {new}",
                bus::describe(&args.meter)
            ),
            json!({"address": args.meter.address, "secondary": args.meter.secondary.map(|s| s.to_string()), "new_address": new}),
        ))
    });
    bus::finish("set-address", args.bus.json, result)
}
