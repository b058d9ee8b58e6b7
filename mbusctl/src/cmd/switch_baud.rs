//! `mbusctl switch-baud`: switches one meter to another baud rate (CI 0xB8–0xBF). The meter
//! acknowledges at the old rate and answers at the new one from then on.

use crate::cmd::bus::{self, BusArgs, MeterArgs};
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
    #[arg(long = "to")]
    to: BaudRate,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let (from, to) = (args.bus.baud.bps(), args.to);
    bus::command_on_meter(
        "switch-baud",
        &args.bus,
        &args.meter,
        |master, target| master.switch_baud(target, to),
        |meter| {
            (
                format!(
                    "{meter} acknowledged: it now talks at {} baud (was {from})",
                    to.bps()
                ),
                json!({"from_baud": from, "to_baud": to.bps()}),
            )
        },
    )
}
