//! `mbus-centerd`: the logger daemon. Runs the `logger-core` engine on a serial level
//! converter, a TCP gateway or a simulated bus, serves the web UI and the REST API, logs what
//! it does and stops cleanly on SIGINT/SIGTERM.
//!
//! ```text
//! mbus-centerd --data-dir /var/lib/mbus-center --device /dev/ttyUSB0 --listen 0.0.0.0:8080
//! mbus-centerd --data-dir ./demo --simulate 20 --cycle 10s
//! mbus-centerd --data-dir ./demo --simulate 20 --tls         # HTTPS (self-signed at first)
//! ```
//!
//! The engine runs on a thread of its own (`logger_core::service`); the web server (see
//! [`web`]) talks to it through a handle. On a data directory without meters the logger first
//! scans the bus by secondary address and adds what it finds (automatic names, templates
//! applied, the scan's reads stored), then reads every meter on its grid. After the scan and
//! after every read cycle the daemon logs one summary line: meters read ok and failed, values
//! stored, the next slot, and the `mbusctl` commands that show and export the data.
//!
//! A bus device that is missing or fails does not stop the daemon: the logger state is `err`,
//! the event log says why, and the device is opened again with backoff.
//!
//! E-mail alarms run alongside (a worker thread, never on the read path): with the
//! configuration's `email` section enabled, incidents mail as `logger_core::email::alarm`
//! describes. On shutdown the worker gets a few seconds to deliver what is queued.
//! Configured uploads (FTP/FTPS/SFTP, HTTPS push) run in a thread of their own too, fed after
//! every read cycle; see `logger_core::upload`. So do the fleet sinks, idle until the
//! configuration enables them: MQTT (`logger_core::mqtt`) and PostgreSQL replication
//! (`logger_core::postgres`). With `--metrics-listen ADDR` it serves Prometheus metrics
//! (`logger_core::metrics`) at `http://ADDR/metrics`. With the configuration's `bacnet`
//! section enabled, a BACnet/IP server (`logger_core::bacnet`) serves the meters to building
//! automation; with the `modbus` section enabled, so does a Modbus TCP server
//! (`logger_core::modbus`).
//! With the `level_converter` section enabled, PC software gets the bus on its TCP port
//! (default 50000) while scheduled reads pause (see `logger_core::bridge`); with an `io`
//! backend, the S0 and PT1000 inputs are read as meters and relays, buttons and display run
//! beside the logger (see `logger_core::hardware`).

mod metrics_http;
mod web;

use clap::Parser;
use logger_core::bacnet::Server as BacnetServer;
use logger_core::bridge::Bridge;
use logger_core::bus::{LinkBus, MeterBus};
use logger_core::clock::SystemClock;
use logger_core::config::ReadCycle;
use logger_core::email::alarm::{AlarmOptions, Alarms};
use logger_core::engine::{Logger, LoggerError};
use logger_core::hardware::service::{self as io, ButtonActions};
use logger_core::metrics::Metrics;
use logger_core::modbus::Server as ModbusServer;
use logger_core::mqtt::{self, PublisherOptions};
use logger_core::postgres::{self, ReplicatorOptions};
use logger_core::service::device::DeviceTransport;
use logger_core::service::{CycleCounts, Service, ServiceHandle, ServiceOptions, Update};
use logger_core::simulation::SimInstallation;
use logger_core::upload::{Uploader, UploaderOptions};
use mbus_link::{Device, Master};
use mbus_proto::address::BaudRate;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// M-Bus Center logger daemon.
#[derive(Parser, Debug)]
#[command(name = "mbus-centerd", version, about)]
struct Args {
    /// Data directory (configuration, readings database, event log, status, web users);
    /// created if missing.
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
    #[arg(long, value_name = "BAUD")]
    baud: Option<BaudRate>,
    /// Seed of the simulation (same seed, same meters and values).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Address of the web UI and REST API (port 0 picks a free port; the log says which).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// On a simulated bus, take no real time for bus traffic (for tests); by default scans and
    /// reads last as long as on a real bus.
    #[arg(long)]
    fast_sim: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics (no login: choose an address only the
    /// scraper can reach, e.g. 127.0.0.1:9898). Off without it.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// Serve HTTPS even when the configuration does not turn TLS on (a self-signed certificate
    /// is generated when none is stored).
    #[arg(long)]
    tls: bool,
}

#[derive(Debug, thiserror::Error)]
enum DaemonError {
    #[error(transparent)]
    Logger(#[from] LoggerError),
    #[error("device: {0}")]
    Device(String),
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
    #[error("web server on {addr}: {source}")]
    Web {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the logger thread ended unexpectedly")]
    LoggerThread,
    #[error("metrics listener on {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
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
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => {
            tracing::info!(
                "restart asked for: exit status {RESTART_STATUS} for the service manager"
            );
            ExitCode::from(RESTART_STATUS)
        }
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Exit status after a restart asked for at the front buttons (the systemd unit restarts the
/// daemon on it).
const RESTART_STATUS: u8 = 75;

/// Runs the daemon; `Ok(true)` when a restart was asked for.
fn start(args: &Args) -> Result<bool, DaemonError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(DaemonError::Signal)?;
    }
    let clock = Arc::new(SystemClock);
    let mut options = ServiceOptions {
        scan_if_empty: true,
        ..ServiceOptions::default()
    };
    match (&args.device, args.simulate) {
        (_, Some(n)) => {
            let baud = args.baud.unwrap_or(BaudRate::B9600);
            tracing::info!(meters = n, %baud, seed = args.seed, real_time = !args.fast_sim, "simulated bus");
            let mut bus = SimInstallation::demo(n, args.seed, baud);
            if !args.fast_sim {
                bus = bus.in_real_time();
            }
            serve(
                Logger::open(&args.data_dir, bus, clock)?,
                options,
                args,
                &stop,
            )
        }
        (Some(device), None) => {
            let device: Device = device
                .parse()
                .map_err(|e: mbus_link::DeviceError| DaemonError::Device(e.to_string()))?;
            let baud = args.baud.unwrap_or(BaudRate::B2400);
            let transport = DeviceTransport::new(device, baud);
            options.device = Some(transport.health());
            let bus = LinkBus::new(Master::new(transport));
            serve(
                Logger::open(&args.data_dir, bus, clock)?,
                options,
                args,
                &stop,
            )
        }
        (None, None) => Err(DaemonError::Device(
            "give --device DEV or --simulate N".into(),
        )),
    }
}

fn serve<B: MeterBus + 'static>(
    mut logger: Logger<B>,
    options: ServiceOptions,
    args: &Args,
    stop: &Arc<AtomicBool>,
) -> Result<bool, DaemonError> {
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
    let uploader = Uploader::start(
        logger.data_dir(),
        Arc::new(SystemClock),
        events,
        UploaderOptions::default(),
    );
    logger.add_commit_hook(uploader.hook());
    // The BACnet/IP server follows the configuration's `bacnet` section (also when it is
    // switched on later) and hears about every committed read cycle.
    let bacnet = match BacnetServer::start(logger.config(), logger.data_dir()) {
        Ok(server) => {
            logger.add_commit_hook(server.hook());
            Some(server)
        }
        Err(e) => {
            tracing::error!(error = %e, "BACnet/IP server not started");
            None
        }
    };
    // The Modbus TCP server likewise follows the `modbus` section.
    let modbus = match ModbusServer::start(logger.config(), logger.data_dir()) {
        Ok(server) => {
            logger.add_commit_hook(server.hook());
            Some(server)
        }
        Err(e) => {
            tracing::error!(error = %e, "Modbus TCP server not started");
            None
        }
    };
    // The level-converter bridge and the appliance's inputs and outputs, when configured; what
    // cannot be opened is logged and the logger runs without it.
    let bridge = Bridge::start_configured(&mut logger)
        .inspect_err(|e| tracing::error!("{e}"))
        .ok()
        .flatten();
    let buttons = ButtonActions::default();
    let restart = buttons.restart_flag();
    let io = io::start(&mut logger, buttons.handler())
        .inspect_err(|e| tracing::error!("appliance I/O: {e}"))
        .ok()
        .flatten();
    // Fleet sinks: idle until enabled in the configuration; woken after every cycle.
    let events = logger.event_sender();
    let mqtt = mqtt::start(
        logger.data_dir(),
        Arc::new(SystemClock),
        events,
        PublisherOptions::default(),
    );
    logger.add_commit_hook(mqtt.hook());
    let events = logger.event_sender();
    let postgres = postgres::start(
        logger.data_dir(),
        Arc::new(SystemClock),
        events,
        ReplicatorOptions::default(),
    );
    logger.add_commit_hook(postgres.hook());
    let metrics = Metrics::new();
    if let Some(addr) = args.metrics_listen {
        let bound = metrics_http::serve(addr, logger.data_dir().to_path_buf(), metrics.clone())
            .map_err(|source| DaemonError::Metrics { addr, source })?;
        tracing::info!(%bound, "metrics at http://{bound}/metrics");
    }
    let service = Service::start(logger, options);
    let handle = service.handle();
    let buttons = buttons.serve(handle.clone(), Arc::clone(stop));
    let stopped = Arc::new(AtomicBool::new(false));
    let reporter = spawn_reporter(handle.clone(), Arc::clone(&stopped), metrics);
    let served = web::serve(handle, args.listen, args.tls, Arc::clone(stop));
    stop.store(true, Ordering::SeqCst);
    if let Some(io) = io {
        io.stop();
    }
    if let Some(bridge) = bridge {
        bridge.stop();
    }
    let _ = buttons.join();
    let logger = service.stop().map_err(|_| DaemonError::LoggerThread);
    // The reporter logs what the logger did until it stopped.
    stopped.store(true, Ordering::SeqCst);
    let _ = reporter.join();
    alarms.shutdown(std::time::Duration::from_secs(5));
    uploader.stop();
    if let Some(bacnet) = bacnet {
        bacnet.stop();
    }
    if let Some(modbus) = modbus {
        modbus.stop();
    }
    mqtt.stop();
    postgres.stop();
    let mut logger = logger?;
    logger.record_notices();
    served.map_err(|source| DaemonError::Web {
        addr: args.listen,
        source,
    })?;
    tracing::info!("stopped");
    Ok(restart.load(Ordering::SeqCst))
}

/// Logs one line per scan and read cycle, from the logger's updates, until `stopped` (the
/// logger thread has ended) and every update is logged.
fn spawn_reporter(
    handle: ServiceHandle,
    stopped: Arc<AtomicBool>,
    metrics: Metrics,
) -> std::thread::JoinHandle<()> {
    let updates = handle.subscribe();
    std::thread::spawn(move || {
        let report = |update: Update| {
            metrics.observe(&update);
            match update {
                Update::Scan(scan) if !scan.running => match &scan.error {
                    None => tracing::info!(
                        found = scan.found,
                        added = scan.added.len(),
                        conflicts = scan.conflicts,
                        "scan done: {}",
                        outcome(&handle, &scan.reads.unwrap_or_default())
                    ),
                    Some(e) => tracing::error!(error = %e, "scan failed"),
                },
                Update::Cycle(counts) => {
                    tracing::info!("read cycle done: {}", outcome(&handle, &counts));
                }
                _ => {}
            }
        };
        loop {
            match updates.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(update) => report(update),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        updates.try_iter().for_each(report);
    })
}

/// What a scan or read cycle did, the next slot, and where to see the data, on one line.
fn outcome(handle: &ServiceHandle, report: &CycleCounts) -> String {
    let snapshot = handle.snapshot();
    let tz = snapshot.config.tz();
    let next = snapshot.next_due.map_or_else(
        || "none".to_string(),
        |t| {
            t.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        },
    );
    let today = chrono::Utc::now().with_timezone(&tz).format("%Y-%m-%d");
    let dir = shell_word(&handle.data_dir().display().to_string());
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
