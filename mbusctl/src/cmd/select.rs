//! `mbusctl select`: one secondary-address select with wildcards (`F` digits), reporting
//! whether exactly the meters matching acknowledged (E5), nobody answered, or several
//! answered at once (collision). The meters that match stay selected for address 253.

use crate::cmd::bus::{self, BusArgs};
use crate::exit::Exit;
use mbus_link::{LinkConfig, ListenAfterFrame, SelectOutcome};
use mbus_proto::address::SecondaryMask;
use serde_json::json;

/// Arguments of `mbusctl select`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    bus: BusArgs,
    /// Secondary address or mask: 16 hex digits as `mbusctl scan` prints them, `F` for any
    /// digit (e.g. 1234FFFFFFFFFFFF).
    #[arg(value_parser = parse_mask)]
    mask: SecondaryMask,
}

fn parse_mask(s: &str) -> Result<SecondaryMask, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let mut master = match bus::open("select", &args.bus) {
        Ok(m) => m,
        Err(exit) => return exit,
    };
    // Every matching meter answers after its own delay: listen to the end of the response
    // window, so an E5 that comes later than one gap after the first still counts.
    let config = LinkConfig {
        listen_after_frame: ListenAfterFrame::Window,
        ..master.config().clone()
    };
    master.set_config(config);
    let mask = args.mask.to_string();
    let result = master
        .select(&args.mask)
        .map_err(bus::BusError::from)
        .and_then(|outcome| match outcome {
            SelectOutcome::Selected => Ok((
                format!("{mask}: selected (E5); address the meter as 253"),
                json!({"mask": mask, "outcome": "selected"}),
            )),
            SelectOutcome::NoReply => Err(bus::BusError::NotSelected(mask.clone())),
            SelectOutcome::Garbled => Err(bus::BusError::SelectGarbled(mask.clone())),
        });
    bus::finish("select", args.bus.json, result)
}
