//! Serves a simulated bus as a transparent M-Bus TCP gateway, for trying a program against
//! meters without hardware: `cargo run -p mbus-examples --bin serve_simulated_bus --
//! [LISTEN=127.0.0.1:0] [METERS=10]`. The first line of output is `listening on ADDRESS`; the
//! server runs until its standard input closes (or Ctrl-C). An integration test does the same
//! in-process with `GatewayServer::start` (see `tests/programs.rs`).

use mbus_link::sim::{GatewayServer, Population, SerialPattern, SimBus, SimConfig};
use std::io::{BufRead, Write};

fn main() -> std::process::ExitCode {
    mbus_examples::exit("serve_simulated_bus", run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let count: usize = args.next().as_deref().unwrap_or("10").parse()?;

    let meters = Population::new(count, SerialPattern::Sequential).build(&[]);
    let server = GatewayServer::start(&listen, SimBus::new(SimConfig::default(), meters))?;
    println!("listening on {}", server.local_addr());
    std::io::stdout().flush()?;

    // Until standard input ends: a test closes it, a person presses Ctrl-D.
    for line in std::io::stdin().lock().lines() {
        line?;
    }
    let connections = server.connections();
    let bus = server.stop();
    let stats = bus.stats();
    println!(
        "{connections} connection(s), {} request(s), {} replies, {:.3} s bus time",
        stats.requests,
        stats.replies,
        bus.bus_time().as_secs_f64()
    );
    Ok(())
}
