//! What the technician commands (`set-address`, `switch-baud`, `reset`, `raw`, `select`)
//! share: the device and baud arguments, opening the master, and printing an outcome as a
//! line of text or as one JSON object.

use crate::cmd::read::{exit_for, parse_secondary};
use crate::exit::Exit;
use mbus_link::{Device, LinkConfig, LinkError, Master, SelectOutcome, Transport};
use mbus_proto::address::{BaudRate, LinkAddress, PrimaryAddress, SecondaryAddress, SecondaryMask};
use serde_json::{json, Value};

/// The bus a command talks to.
#[derive(clap::Args)]
pub struct BusArgs {
    /// Serial port (e.g. /dev/ttyUSB0) or transparent TCP gateway (tcp://HOST:PORT).
    #[arg(long, short = 'd')]
    pub device: String,
    /// Bus baud rate.
    #[arg(long, short = 'b', default_value = "2400")]
    pub baud: BaudRate,
    /// Print one JSON object instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

/// Which meter a command addresses: a primary address or a secondary address (selected
/// first, then addressed as 253).
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("meter").required(true).args(["address", "secondary"])))]
pub struct MeterArgs {
    /// Primary address of the meter (0…250; the broadcast addresses 254 and 255 would reach
    /// every meter at once, which no single-meter command may do).
    #[arg(long, short = 'a')]
    pub address: Option<PrimaryAddress>,
    /// Secondary address of the meter (16 hex digits as `mbusctl scan` prints them).
    #[arg(long, short = 's', value_parser = parse_secondary)]
    pub secondary: Option<SecondaryAddress>,
}

/// A master on the device, or the exit code and a message on stderr.
pub fn open(command: &str, bus: &BusArgs) -> Result<Master<Box<dyn Transport + Send>>, Exit> {
    let device: Device = bus.device.parse().map_err(|e| {
        eprintln!("mbusctl {command}: {e}");
        Exit::Usage
    })?;
    let transport = device.open(bus.baud).map_err(|e| {
        eprintln!("mbusctl {command}: {e}");
        exit_for(&e)
    })?;
    let config = LinkConfig {
        deselect_after_read: true,
        ..LinkConfig::default()
    };
    Ok(Master::with_config(transport, config))
}

/// Why a technician command failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The link failed: no reply, garbled reply, device error.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// No meter acknowledged the select.
    #[error("no meter answered the select of {0}")]
    NotSelected(String),
    /// The select was answered with a garbled reply.
    #[error("the select of {0} was answered garbled: several meters match (collision) or noise")]
    SelectGarbled(String),
}

impl BusError {
    /// The exit code: no reply 4, garbled 5, device 6.
    pub fn exit(&self) -> Exit {
        match self {
            BusError::Link(e) => exit_for(e),
            BusError::NotSelected(_) => Exit::NoReply,
            BusError::SelectGarbled(_) => Exit::Garbled,
        }
    }
}

/// Selects the meter with exactly `address`; the commands that take `--secondary` then
/// address it as 253.
pub fn select_exact(master: &mut BusMaster, address: &SecondaryAddress) -> Result<(), BusError> {
    match master.select(&SecondaryMask::exact(address))? {
        SelectOutcome::Selected => Ok(()),
        SelectOutcome::NoReply => Err(BusError::NotSelected(address.to_string())),
        SelectOutcome::Garbled => Err(BusError::SelectGarbled(address.to_string())),
    }
}

/// The address a command sends to: the primary address, or 253 after selecting the meter.
pub fn target(master: &mut BusMaster, meter: &MeterArgs) -> Result<LinkAddress, BusError> {
    match (meter.address, meter.secondary) {
        (_, Some(secondary)) => {
            select_exact(master, &secondary)?;
            Ok(LinkAddress::Selected)
        }
        (Some(address), None) => Ok(address.into()),
        // clap requires one of the two.
        (None, None) => Err(BusError::NotSelected("no meter".into())),
    }
}

/// The master on the bus, for the commands.
pub type BusMaster = Master<Box<dyn Transport + Send>>;

/// Runs a command addressed to one meter: opens the bus, selects the meter if it is named by
/// secondary address, sends with `send` (to its primary address or 253), and prints the
/// outcome: `done` gives the text and the JSON fields (the meter's addresses are added).
pub fn command_on_meter(
    command: &str,
    bus: &BusArgs,
    meter: &MeterArgs,
    send: impl FnOnce(&mut BusMaster, LinkAddress) -> Result<(), LinkError>,
    done: impl FnOnce(&str) -> (String, Value),
) -> Exit {
    let mut master = match open(command, bus) {
        Ok(m) => m,
        Err(exit) => return exit,
    };
    let result = target(&mut master, meter).and_then(|address| {
        send(&mut master, address)?;
        let (text, mut fields) = done(&describe(meter));
        if let Value::Object(map) = &mut fields {
            map.insert(
                "address".into(),
                json!(meter.address.map(PrimaryAddress::get)),
            );
            map.insert(
                "secondary".into(),
                json!(meter.secondary.map(|s| s.to_string())),
            );
            map.insert(
                "manufacturer".into(),
                json!(meter.secondary.map(|s| letters(&s))),
            );
        }
        Ok((text, fields))
    });
    finish(command, bus.json, result)
}

/// The manufacturer's three letters of a secondary address.
fn letters(address: &SecondaryAddress) -> String {
    String::from_utf8_lossy(&address.manufacturer_letters()).into_owned()
}

/// How a meter is named in messages.
pub fn describe(meter: &MeterArgs) -> String {
    match (meter.address, meter.secondary) {
        (_, Some(s)) => format!("meter {s} ({})", letters(&s)),
        (Some(a), None) => format!("meter at primary address {a}"),
        (None, None) => "no meter".into(),
    }
}

/// Prints a command's outcome: `text` on stdout (or `fields` plus `"ok": true` as JSON) on
/// success; the error on stderr (and as JSON with `"ok": false` and the exit code) on failure.
pub fn finish(command: &str, json_output: bool, result: Result<(String, Value), BusError>) -> Exit {
    match result {
        Ok((text, mut fields)) => {
            if json_output {
                if let Value::Object(map) = &mut fields {
                    map.insert("command".into(), json!(command));
                    map.insert("ok".into(), json!(true));
                }
                println!("{fields}");
            } else {
                println!("{text}");
            }
            Exit::Ok
        }
        Err(e) => {
            let exit = e.exit();
            eprintln!("mbusctl {command}: {e}");
            if json_output {
                let code: u8 = exit.code();
                println!(
                    "{}",
                    json!({"command": command, "ok": false, "error": e.to_string(), "exit_code": code})
                );
            }
            exit
        }
    }
}
