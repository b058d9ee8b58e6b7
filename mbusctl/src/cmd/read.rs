//! `mbusctl read`: read every telegram of one meter and print it decoded.

use crate::cmd::decode::{text_table, Format};
use crate::exit::Exit;
use mbus_link::{Device, LinkConfig, LinkError, Master, ReplyFrame, ResetPolicy};
use mbus_proto::address::{BaudRate, PrimaryAddress, SecondaryAddress};
use mbus_proto::xml;

/// When `mbusctl read` sends SND_NKE before reading by primary address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Reset {
    /// Never: REQ_UD2 straight away, as libmbus's request tools do. One exchange less, but a
    /// meter another master left in the middle of its telegram sequence answers from there.
    Never,
    /// When the master does not know where the meter stands in its telegram sequence. A
    /// one-shot read never knows, so this sends SND_NKE first: the read starts at the meter's
    /// first telegram whatever happened on the bus before.
    Unknown,
    /// Before every read.
    Always,
}

impl From<Reset> for ResetPolicy {
    fn from(reset: Reset) -> ResetPolicy {
        match reset {
            Reset::Never => ResetPolicy::Never,
            Reset::Unknown => ResetPolicy::WhenUnknown,
            Reset::Always => ResetPolicy::Always,
        }
    }
}

/// Arguments of `mbusctl read`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("meter").required(true).args(["address", "secondary"])))]
pub struct Args {
    /// Serial port (e.g. /dev/ttyUSB0) or transparent TCP gateway (tcp://HOST:PORT).
    #[arg(long, short = 'd')]
    device: String,
    /// Primary address of the meter (0…250).
    #[arg(long, short = 'a')]
    address: Option<PrimaryAddress>,
    /// Secondary address of the meter as libmbus writes it: 8 ident digits, then manufacturer,
    /// version and medium bytes in wire order (e.g. 123456782D2C0B04 for a KAM meter).
    #[arg(long, short = 's', value_parser = parse_secondary)]
    secondary: Option<SecondaryAddress>,
    /// Bus baud rate.
    #[arg(long, short = 'b', default_value = "2400")]
    baud: BaudRate,
    /// SND_NKE before a read by primary address (a secondary read starts with its select).
    /// The default, `unknown`, resets the meter's telegram sequence, because a one-shot read
    /// cannot know where an earlier read or another master left it; `never` saves that
    /// exchange, like libmbus.
    #[arg(long, value_enum, default_value_t = Reset::Unknown)]
    reset: Reset,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Parses a secondary address argument.
pub fn parse_secondary(s: &str) -> Result<SecondaryAddress, String> {
    s.parse().map_err(|e| format!("{e}"))
}

/// The exit code for a link error.
pub fn exit_for(e: &LinkError) -> Exit {
    match e {
        LinkError::NoReply { .. } | LinkError::BusOverload => Exit::NoReply,
        LinkError::Garbled { .. } | LinkError::UnexpectedFrame { .. } => Exit::Garbled,
        LinkError::InvalidRequest(_) | LinkError::Address(_) => Exit::Usage,
        // The device, the connection, and errors later versions may add.
        _ => Exit::Device,
    }
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let device: Device = match args.device.parse() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("mbusctl read: {e}");
            return Exit::Usage;
        }
    };
    let transport = match device.open(args.baud) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mbusctl read: {e}");
            return exit_for(&e);
        }
    };
    // A one-shot read leaves no meter selected behind it.
    let config = LinkConfig {
        deselect_after_read: true,
        reset_policy: args.reset.into(),
        ..LinkConfig::default()
    };
    let mut master = Master::with_config(transport, config);
    let result = match (args.address, args.secondary) {
        (_, Some(secondary)) => master.read_secondary(&secondary),
        (Some(address), None) => master.read_primary(address),
        (None, None) => {
            eprintln!("mbusctl read: give --address or --secondary");
            return Exit::Usage;
        }
    };
    match result {
        Ok(telegrams) => print(&telegrams, args.format),
        Err(e) => {
            eprintln!("mbusctl read: {device}: {e}");
            exit_for(&e)
        }
    }
}

fn print(telegrams: &[ReplyFrame], format: Format) -> Exit {
    let mut exit = Exit::Ok;
    let mut decode_failed = |i: usize, e: &dyn std::fmt::Display| {
        eprintln!("mbusctl read: telegram {} cannot be decoded: {e}", i + 1);
        exit = Exit::BadInput;
    };
    match format {
        Format::Text => {
            for (i, t) in telegrams.iter().enumerate() {
                println!("telegram {} of {}:", i + 1, telegrams.len());
                match t.decode() {
                    Ok(d) => print!("{}", text_table(&t.frame(), &d)),
                    Err(e) => decode_failed(i, &e),
                }
            }
        }
        Format::Json => {
            let mut values = Vec::with_capacity(telegrams.len());
            for (i, t) in telegrams.iter().enumerate() {
                let value = t
                    .decode()
                    .map_err(|e| e.to_string())
                    .and_then(|d| serde_json::to_value(d).map_err(|e| e.to_string()));
                match value {
                    Ok(v) => values.push(v),
                    Err(e) => {
                        decode_failed(i, &e);
                        values.push(serde_json::json!({ "kind": "undecodable", "error": e }));
                    }
                }
            }
            match serde_json::to_string_pretty(&values) {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("mbusctl read: {e}");
                    return Exit::Failure;
                }
            }
        }
        Format::Xml => {
            for (i, t) in telegrams.iter().enumerate() {
                match t
                    .decode()
                    .map_err(|e| e.to_string())
                    .and_then(|d| xml::to_string(&d, xml::Mode::Plain).map_err(|e| e.to_string()))
                {
                    Ok(text) => print!("{text}"),
                    Err(e) => decode_failed(i, &e),
                }
            }
        }
    }
    exit
}
