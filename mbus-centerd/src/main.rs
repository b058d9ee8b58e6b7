//! `mbus-centerd`: the logger daemon. Runs the `logger-core` engine headless on a serial
//! level converter, a TCP gateway or a simulated bus; logs what it does; stops cleanly on
//! SIGINT/SIGTERM.
//!
//! ```text
//! mbus-centerd --data-dir /var/lib/mbus-center --device /dev/ttyUSB0
//! mbus-centerd --data-dir ./demo --simulate 20 --cycle 10s
//! ```
//!
//! On a data directory without meters it first scans the bus by secondary address and adds
//! what it finds (automatic names, templates applied, the scan's reads stored), then reads
//! every meter on its grid. After the scan and after every read cycle it logs one summary
//! line: meters read ok and failed, values stored, the next slot, and the `mbusctl` commands
//! that show and export the data.
//!
//! E-mail alarms run alongside (a worker thread, never on the read path): with the
//! configuration's `email` section enabled, incidents mail as `logger_core::email::alarm`
//! describes. On shutdown the worker gets a few seconds to deliver what is queued.
//! Configured uploads (FTP/FTPS/SFTP, HTTPS push) run in a thread of their own too, fed after
//! every read cycle; see `logger_core::upload`.

use clap::Parser;
use logger_core::bus::{LinkBus, MeterBus};
use logger_core::clock::{Clock, SystemClock};
use logger_core::config::ReadCycle;
use logger_core::email::alarm::{AlarmOptions, Alarms};
use logger_core::engine::{CycleReport, Logger, LoggerError, ScanKind};
use logger_core::simulation::SimInstallation;
use logger_core::upload::{Uploader, UploaderOptions};
use mbus_link::{Device, Master};
use mbus_proto::address::BaudRate;
use mbus_scan::{CancelToken, Progress};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// M-Bus Center logger daemon.
#[derive(Parser, Debug)]
#[command(name = "mbus-centerd", version, about)]
struct Args {
    /// Data directory (configuration, readings database, event log, status); created if missing.
    #[arg(long, value_name = "DIR", default_value = "mbus-center-data")]
    data_dir: PathBuf,
    /// Run on a simulated bus with this many meters instead of a device.
    #[arg(long, value_name = "N", conflicts_with = "device")]
    simulate: Option<usize>,
    /// Serial port (e.g. /dev/ttyUSB0) or TCP gateway (tcp://host:port).
    #[arg(long, value_name = "DEV", required_unless_present = "simulate")]
    device: Option<String>,
    /// Set the default read cycle (10s, 30s, 1min … 150min, 3h … 672h) and save it.
    #[arg(long, value_name = "CYCLE")]
    cycle: Option<ReadCycle>,
    /// Baud rate of the device (default 2400) or of the simulated meters (default 9600, so
    /// that 20 meters fit in a 10 s cycle).
    #[arg(long, value_name = "BAUD", value_parser = parse_baud)]
    baud: Option<BaudRate>,
    /// Seed of the simulation (same seed, same meters and values).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn parse_baud(s: &str) -> Result<BaudRate, String> {
    let bps: u32 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    BaudRate::from_bps(bps).map_err(|e| e.to_string())
}

#[derive(Debug, thiserror::Error)]
enum DaemonError {
    #[error(transparent)]
    Logger(#[from] LoggerError),
    #[error("device: {0}")]
    Device(String),
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    match start(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: &Args) -> Result<(), DaemonError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(DaemonError::Signal)?;
    }
    let clock = Arc::new(SystemClock);
    match (&args.device, args.simulate) {
        (_, Some(n)) => {
            let baud = args.baud.unwrap_or(BaudRate::B9600);
            tracing::info!(meters = n, %baud, seed = args.seed, "simulated bus");
            let bus = SimInstallation::new(n, args.seed, baud, &[]);
            serve(
                Logger::open(&args.data_dir, bus, clock.clone())?,
                clock,
                args,
                &stop,
            )
        }
        (Some(device), None) => {
            let device: Device = device
                .parse()
                .map_err(|e: mbus_link::DeviceError| DaemonError::Device(e.to_string()))?;
            let baud = args.baud.unwrap_or(BaudRate::B2400);
            let transport = device
                .open(baud)
                .map_err(|e| DaemonError::Device(e.to_string()))?;
            tracing::info!(%device, %baud, "bus opened");
            let bus = LinkBus::new(Master::new(transport));
            serve(
                Logger::open(&args.data_dir, bus, clock.clone())?,
                clock,
                args,
                &stop,
            )
        }
        (None, None) => Err(DaemonError::Device(
            "give --device DEV or --simulate N".into(),
        )),
    }
}

fn serve<B: MeterBus>(
    mut logger: Logger<B>,
    clock: Arc<dyn Clock>,
    args: &Args,
    stop: &AtomicBool,
) -> Result<(), DaemonError> {
    let alarms = Alarms::start(
        logger.config(),
        Arc::new(SystemClock),
        AlarmOptions::default(),
    );
    logger.attach_alarms(alarms.clone());
    if let Some(cycle) = args.cycle {
        let mut config = logger.config().clone();
        config.general.default_cycle = cycle;
        logger.set_config(config)?;
        tracing::info!(%cycle, "default read cycle set");
    }
    if logger.config().meters.is_empty() {
        tracing::info!("no meters configured: scanning by secondary address");
        let cancel = CancelToken::new();
        let on_signal = cancel.clone();
        let mut logged = 0;
        let progress = |p: &Progress| {
            // The scanner calls this after every probe: stop promptly on a signal.
            if stop.load(Ordering::SeqCst) {
                on_signal.cancel();
            }
            let quarter = (p.fraction * 4.0) as u32;
            if quarter > logged {
                logged = quarter;
                tracing::info!(percent = quarter * 25, found = p.found, "scanning");
            }
        };
        match logger.scan(&ScanKind::Secondary(Default::default()), progress, cancel) {
            Ok(summary) => tracing::info!(
                found = summary.found,
                added = summary.added.len(),
                conflicts = summary.conflicts,
                "scan done: {}",
                outcome(&logger, &summary.reads)
            ),
            // A failing bus must not stop the daemon: it keeps running and reports.
            Err(e) => tracing::error!(error = %e, "scan failed"),
        }
    }
    let config = logger.config();
    tracing::info!(
        name = %config.general.name,
        meters = config.meters.len(),
        cycle = %config.general.default_cycle,
        timezone = %config.general.timezone,
        next = ?logger.next_due(),
        "reading"
    );
    // Uploads run in their own thread; the read loop only hands each cycle over.
    let events = logger.event_sender();
    let uploader = Uploader::start(logger.data_dir(), clock, events, UploaderOptions::default());
    logger.add_commit_hook(uploader.hook());
    let ran = logger.run_reporting(stop, |logger, report| {
        tracing::info!("read cycle done: {}", outcome(logger, report));
    });
    alarms.shutdown(std::time::Duration::from_secs(5));
    uploader.stop();
    logger.record_notices();
    ran?;
    tracing::info!("stopped");
    Ok(())
}

/// What a scan or read cycle did, the next slot, and where to see the data, on one line.
fn outcome<B: MeterBus>(logger: &Logger<B>, report: &CycleReport) -> String {
    let tz = logger.config().tz();
    let next = logger.next_due().map_or_else(
        || "none".to_string(),
        |t| {
            t.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        },
    );
    let today = chrono::Utc::now().with_timezone(&tz).format("%Y-%m-%d");
    let dir = shell_word(&logger.data_dir().display().to_string());
    format!(
        "{} meter(s) read ok, {} failed, {} values stored; next read {next}; \
         see `mbusctl meters --data-dir {dir}`, \
         `mbusctl export --data-dir {dir} --from {today} --to {today} --out readings.zip`",
        report.read, report.failed, report.values
    )
}

/// `word` as the shell takes it: quoted if it holds anything but plain path characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:=,@".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
