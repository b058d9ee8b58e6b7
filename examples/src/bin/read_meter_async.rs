//! Reads the meter at a primary address with the async (tokio) master, over a serial port or a
//! TCP gateway: `cargo run -p mbus-examples --bin read_meter_async -- DEVICE [PRIMARY=5]
//! [BAUD=2400]`, DEVICE being `/dev/ttyUSB0` or `tcp://HOST:PORT`.

use mbus_link::mbus_proto::address::{BaudRate, PrimaryAddress};
use mbus_link::{AsyncMaster, Device};

fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = runtime
        .map_err(Into::into)
        .and_then(|rt| rt.block_on(run()));
    mbus_examples::exit("read_meter_async", result)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let device: Device = args
        .next()
        .ok_or("usage: read_meter_async DEVICE [PRIMARY] [BAUD]")?
        .parse()?;
    let address: PrimaryAddress = args.next().as_deref().unwrap_or("5").parse()?;
    let baud: BaudRate = args.next().as_deref().unwrap_or("2400").parse()?;

    let mut master = AsyncMaster::new(device.open_async(baud).await?);
    let frames = master.read_primary(address).await?;
    mbus_examples::write_values(&mut std::io::stdout().lock(), &frames)?;
    Ok(())
}
