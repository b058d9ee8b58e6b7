//! Reads every meter of a simulated bus by primary and by secondary address and prints what the
//! bus counted: `cargo run -p mbus-link --example simulated_bus -- [METERS] [SEED]`.

use mbus_link::mbus_proto::address::PrimaryAddress;
use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig};
use mbus_link::{LinkError, Master};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(20), |a| a.parse())?;
    let seed: u64 = args.next().map_or(Ok(1), |a| a.parse())?;
    let meters = Population::new(count, SerialPattern::Clustered)
        .seed(seed)
        .build(&[]);
    let mut master = Master::new(SimBus::new(SimConfig::default(), meters));

    let addresses: Vec<_> = master
        .transport()
        .meters()
        .iter()
        .map(|m| (m.primary(), m.secondary()))
        .collect();
    for (primary, secondary) in &addresses {
        let by_primary = master.read_primary(PrimaryAddress::new(*primary)?);
        let by_secondary = master.read_secondary(secondary);
        let show = |r: &Result<Vec<mbus_link::ReplyFrame>, LinkError>| match r {
            Ok(t) => format!("{} telegram(s), {} bytes", t.len(), t[0].bytes().len()),
            Err(e) => e.to_string(),
        };
        println!(
            "{primary:>3} {secondary}: {} | {}",
            show(&by_primary),
            show(&by_secondary)
        );
    }
    let stats = master.transport().stats();
    println!(
        "bus time {:.3} s, {} requests ({} bytes), {} replies ({} bytes), {} collisions",
        master.transport().bus_time().as_secs_f64(),
        stats.requests,
        stats.request_bytes,
        stats.replies,
        stats.reply_bytes,
        stats.collisions
    );
    Ok(())
}
