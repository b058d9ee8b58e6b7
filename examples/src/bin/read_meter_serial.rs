//! Reads the meter at a primary address through a serial level converter and prints its values
//! (blocking): `cargo run -p mbus-examples --bin read_meter_serial -- /dev/ttyUSB0 [PRIMARY=5]
//! [BAUD=2400]`.

use mbus_link::mbus_proto::address::{BaudRate, PrimaryAddress};
use mbus_link::serial::SerialTransport;
use mbus_link::Master;

fn main() -> std::process::ExitCode {
    mbus_examples::exit("read_meter_serial", run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port = args
        .next()
        .ok_or("usage: read_meter_serial PORT [PRIMARY] [BAUD]")?;
    let address: PrimaryAddress = args.next().as_deref().unwrap_or("5").parse()?;
    let baud: BaudRate = args.next().as_deref().unwrap_or("2400").parse()?;

    // 8E1 at `baud`; `Device::open` does the same for a path chosen at run time.
    let mut master = Master::new(SerialTransport::open(&port, baud)?);
    let frames = master.read_primary(address)?;
    mbus_examples::write_values(&mut std::io::stdout().lock(), &frames)?;
    Ok(())
}
