//! Runs the logger engine inside another program: opens a logger in a data directory on a
//! simulated installation of 5 meters (or on a real bus: `DEVICE`), finds the meters with a
//! secondary scan, reads them every 15 minutes and hands each stored cycle to the host program
//! through a commit hook. On the simulated installation time is virtual, so a day passes in a
//! moment: `cargo run -p mbus-examples --bin embedded_logger -- DATA_DIR [DEVICE]`.

use chrono::{Duration, TimeZone, Utc};
use logger_core::bus::LinkBus;
use logger_core::clock::{Clock, ManualClock, SystemClock};
use logger_core::config::ReadCycle;
use logger_core::engine::{Logger, ScanKind};
use logger_core::simulation::SimInstallation;
use logger_core::storage::MeterId;
use mbus_link::mbus_proto::address::BaudRate;
use mbus_link::{Device, Master};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

fn main() -> std::process::ExitCode {
    mbus_examples::exit("embedded_logger", run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data_dir: PathBuf = args
        .next()
        .ok_or("usage: embedded_logger DATA_DIR [DEVICE]")?
        .into();
    match args.next() {
        None => {
            // Virtual time: the run below takes no real time.
            let start = Utc
                .with_ymd_and_hms(2026, 5, 4, 0, 0, 0)
                .single()
                .ok_or("bad date")?;
            let clock = Arc::new(ManualClock::new(start));
            let bus = SimInstallation::new(5, 1, BaudRate::B2400, &[]);
            let mut logger = Logger::open(&data_dir, bus, clock)?;
            let cycles = prepare(&mut logger)?;
            logger.run_until(start + Duration::days(1))?;
            report(&logger, &cycles)
        }
        Some(device) => {
            let transport = device.parse::<Device>()?.open(BaudRate::B2400)?;
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let mut logger = Logger::open(&data_dir, LinkBus::new(Master::new(transport)), clock)?;
            let cycles = prepare(&mut logger)?;
            // A real program stops the logger from its own shutdown path; here Ctrl-C does.
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            std::thread::spawn(move || {
                let _ = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(tokio::signal::ctrl_c()));
                flag.store(true, Ordering::SeqCst);
            });
            logger.run(&stop)?;
            report(&logger, &cycles)
        }
    }
}

/// Reads every 15 minutes, finds the meters, and installs the hook through which the host
/// program learns of every stored cycle.
fn prepare<B: logger_core::bus::MeterBus>(
    logger: &mut Logger<B>,
) -> Result<mpsc::Receiver<usize>, Box<dyn std::error::Error>> {
    let mut config = logger.config().clone();
    config.general.default_cycle = ReadCycle::M15;
    logger.set_config(config)?;
    let summary = logger.scan(
        &ScanKind::Secondary(Default::default()),
        |_| {},
        Default::default(),
    )?;
    println!("scan found {} meter(s)", summary.found);
    let (cycles_tx, cycles_rx) = mpsc::channel();
    // The hook runs on the read thread: it only hands the news on.
    logger.add_commit_hook(Box::new(move |committed| {
        let _ = cycles_tx.send(committed.readings.len());
    }));
    Ok(cycles_rx)
}

/// What the host program saw, and the last reading of each meter from the store.
fn report<B: logger_core::bus::MeterBus>(
    logger: &Logger<B>,
    cycles: &mpsc::Receiver<usize>,
) -> Result<(), Box<dyn std::error::Error>> {
    let stored: Vec<usize> = cycles.try_iter().collect();
    println!(
        "{} read cycle(s) committed, {} reading(s)",
        stored.len(),
        stored.iter().sum::<usize>()
    );
    for meter in &logger.config().meters {
        if let Some(reading) = logger.store().last_reading(MeterId(meter.id))? {
            let values: Vec<String> = reading
                .values
                .iter()
                .map(|v| v.map_or_else(|| "-".to_string(), |d| d.to_string()))
                .collect();
            println!("meter {} ({}): {}", meter.id, meter.name, values.join(" "));
        }
    }
    Ok(())
}
