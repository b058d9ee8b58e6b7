//! Scans a bus by secondary address and prints a table of the meters found, with progress on
//! standard error: `cargo run -p mbus-examples --bin scan_table -- DEVICE [BAUD=2400]`.
//! The scan runs on its own thread, so the caller stays free (here it prints progress events;
//! a GUI or a server would do its own work) and can cancel it.

use mbus_link::mbus_proto::address::BaudRate;
use mbus_link::{Device, Master};
use mbus_scan::{CancelToken, Progress, Scanner, SecondaryOptions};
use std::sync::mpsc;

fn main() -> std::process::ExitCode {
    mbus_examples::exit("scan_table", run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let device: Device = args
        .next()
        .ok_or("usage: scan_table DEVICE [BAUD]")?
        .parse()?;
    let baud: BaudRate = args.next().as_deref().unwrap_or("2400").parse()?;
    let transport = device.open(baud)?;

    let cancel = CancelToken::new();
    let (progress_tx, progress_rx) = mpsc::channel::<Progress>();
    let scan = {
        let cancel = cancel.clone();
        std::thread::spawn(move || {
            let mut master = Master::new(transport);
            Scanner::new(&mut master)
                .on_progress(move |p| {
                    let _ = progress_tx.send(*p);
                })
                .with_cancel(cancel)
                .secondary(&SecondaryOptions::default())
        })
    };
    for p in progress_rx {
        eprint!("\r{:3.0}%  {} found", p.fraction * 100.0, p.found);
    }
    eprintln!();
    let report = scan.join().map_err(|_| "the scan thread panicked")??;

    println!(
        "{:<18} {:>7} {:<4} {:>5}  status",
        "secondary", "primary", "man", "baud"
    );
    for m in &report.meters {
        let secondary = m.secondary.map(|s| s.to_string()).unwrap_or_default();
        let maker = m
            .secondary
            .map(|s| s.manufacturer_id().to_string())
            .unwrap_or_default();
        let primary = m.primary.map(|p| p.to_string()).unwrap_or_default();
        println!(
            "{secondary:<18} {primary:>7} {maker:<4} {:>5}  {:?}",
            m.baud, m.status
        );
    }
    println!(
        "{} meter(s), {} probes, {:.1} s on the bus{}",
        report.meters.len(),
        report.cost.probes(),
        report.cost.bus_time.as_secs_f64(),
        report
            .line
            .advice()
            .map(|a| format!("; {a}"))
            .unwrap_or_default()
    );
    Ok(())
}
