//! `mbusctl switch-baud`: switches one meter to another baud rate (CI 0xB8–0xBF). The meter
//! acknowledges at the old rate and answers at the new one from then on.

use crate::cmd::bus::{self, BusArgs, MeterArgs};
use crate::cmd::read::parse_baud;
use crate::exit::Exit;
use mbus_proto::address::BaudRate;
use serde_json::json;

/// Arguments of `mbusctl switch-baud`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    meter: MeterArgs,
    /// The meter's new baud rate (300, 600, 1200, 2400, 4800, 9600, 19200, 38400).
    #[arg(long = "to", value_parser = parse_baud)]
    to: BaudRate,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let mut master = match bus::open("switch-baud", &args.bus) {
        Ok(m) => m,
        Err(exit) => return exit,
    };
    let to = args.to;
    let result = bus::target(&mut master, &args.meter).and_then(|target| {
        master.switch_baud(target, to)?;
        Ok((
            format!(
                "{} acknowledged: it now talks at {} baud (was {})",
                bus::describe(&args.meter),
                to.bps(),
                args.bus.baud.bps()
            ),
            json!({"address": args.meter.address, "secondary": args.meter.secondary.map(|s| s.to_string()), "from_baud": args.bus.baud.bps(), "to_baud": to.bps()}),
        ))
    });
    bus::finish("switch-baud", args.bus.json, result)
}
