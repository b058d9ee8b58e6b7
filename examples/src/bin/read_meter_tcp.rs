//! Reads the meter at a primary address through a transparent M-Bus TCP gateway and prints its
//! values (blocking):
//! `cargo run -p mbus-examples --bin read_meter_tcp -- HOST:PORT [PRIMARY=5] [BAUD=2400]`.

use mbus_link::mbus_proto::address::{BaudRate, PrimaryAddress};
use mbus_link::{Device, Master};

fn main() -> std::process::ExitCode {
    mbus_examples::exit("read_meter_tcp", run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let gateway = args
        .next()
        .ok_or("usage: read_meter_tcp HOST:PORT [PRIMARY] [BAUD]")?;
    let address: PrimaryAddress = args.next().as_deref().unwrap_or("5").parse()?;
    let baud: BaudRate = args.next().as_deref().unwrap_or("2400").parse()?;

    let device: Device = format!("tcp://{gateway}").parse()?;
    let mut master = Master::new(device.open(baud)?);
    let frames = master.read_primary(address)?;
    mbus_examples::write_values(&mut std::io::stdout().lock(), &frames)?;
    Ok(())
}
