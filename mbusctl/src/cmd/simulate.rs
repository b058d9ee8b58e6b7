//! `mbusctl simulate`: the simulated bus served in real time as a transparent M-Bus TCP gateway.

use crate::cmd::read::parse_baud;
use crate::exit::Exit;
use mbus_link::sim::{templates, Gateway, Population, SerialPattern, SimBus, SimConfig, SimStats};
use mbus_proto::address::BaudRate;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the serial numbers of the simulated meters are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PopulationKind {
    /// Consecutive serial numbers.
    Sequential,
    /// Random serial numbers.
    Random,
    /// Batches of 5…40 consecutive serials at random places.
    Clustered,
}

impl From<PopulationKind> for SerialPattern {
    fn from(kind: PopulationKind) -> SerialPattern {
        match kind {
            PopulationKind::Sequential => SerialPattern::Sequential,
            PopulationKind::Random => SerialPattern::Random,
            PopulationKind::Clustered => SerialPattern::Clustered,
        }
    }
}

/// Arguments of `mbusctl simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:10001 (port 0 picks a free port; the address in use
    /// is printed on the first line of standard output).
    #[arg(long)]
    listen: String,
    /// Number of meters on the bus (primary addresses 1, 2, …).
    #[arg(long, default_value_t = 10)]
    meters: usize,
    /// Spread of the meters' serial numbers.
    #[arg(long, value_enum, default_value_t = PopulationKind::Sequential)]
    population: PopulationKind,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Baud rate of the bus (and of every meter).
    #[arg(long, default_value = "2400", value_parser = parse_baud)]
    baud: BaudRate,
    /// Directory of .hex telegrams to build the meters from (default: synthetic telegrams).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// This many meters share their primary address with another meter (their replies collide).
    #[arg(long, default_value_t = 0)]
    duplicate_primary: usize,
    /// Probability of each bit being flipped by noise.
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Keep the statistics current in this JSON file (written atomically).
    #[arg(long)]
    stats: Option<PathBuf>,
}

/// What `--stats` holds.
#[derive(serde::Serialize)]
struct StatsFile {
    bus_time_seconds: f64,
    #[serde(flatten)]
    counters: SimStats,
    connections: u64,
    meters: Vec<MeterStats>,
}

#[derive(serde::Serialize)]
struct MeterStats {
    primary: u8,
    secondary: String,
    reads: u64,
}

struct Served {
    gateway: Gateway,
    connections: u64,
}

impl Served {
    fn stats(&self) -> StatsFile {
        let bus = self.gateway.bus();
        StatsFile {
            bus_time_seconds: bus.bus_time().as_secs_f64(),
            counters: bus.stats(),
            connections: self.connections,
            meters: bus
                .meters()
                .iter()
                .map(|m| MeterStats {
                    primary: m.primary(),
                    secondary: m.secondary().to_string(),
                    reads: m.reads(),
                })
                .collect(),
        }
    }
}

type Shared = Arc<Mutex<Served>>;

/// Reply bytes are forwarded in pieces spanning at most this much bus time.
const FORWARD_SLOT: Duration = Duration::from_millis(10);

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let templates = match &args.corpus {
        Some(dir) => match templates::load_dir(dir) {
            Ok(t) if !t.is_empty() => t,
            Ok(_) => {
                eprintln!(
                    "mbusctl simulate: {}: no meter telegrams (.hex) found",
                    dir.display()
                );
                return Exit::BadInput;
            }
            Err(e) => {
                eprintln!("mbusctl simulate: {e}");
                return Exit::BadInput;
            }
        },
        None => Vec::new(),
    };
    let meters = Population::new(args.meters, args.population.into())
        .seed(args.seed)
        .bauds(&[args.baud])
        .duplicates(args.duplicate_primary, 0)
        .build(&templates);
    let config = SimConfig {
        seed: args.seed,
        baud: args.baud,
        noise: args.noise,
        echo: false,
    };
    let shared = Arc::new(Mutex::new(Served {
        gateway: Gateway::new(SimBus::new(config, meters)),
        connections: 0,
    }));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mbusctl simulate: cannot start the runtime: {e}");
            return Exit::Failure;
        }
    };
    runtime.block_on(serve(args, shared))
}

async fn serve(args: Args, shared: Shared) -> Exit {
    let listener = match TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mbusctl simulate: cannot listen on {}: {e}", args.listen);
            return Exit::Device;
        }
    };
    let stats_path = args.stats.clone();
    if let Some(path) = &stats_path {
        if let Err(e) = write_stats(path, &shared) {
            eprintln!("mbusctl simulate: {e}");
            return Exit::Failure;
        }
    }
    match listener.local_addr() {
        Ok(addr) => println!("listening on {addr}"),
        Err(e) => {
            eprintln!("mbusctl simulate: {e}");
            return Exit::Device;
        }
    }
    eprintln!(
        "simulating {} meter(s) at {} baud; stop with Ctrl-C",
        args.meters, args.baud
    );
    let start = tokio::time::Instant::now();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mbusctl simulate: cannot watch SIGTERM: {e}");
                return Exit::Failure;
            }
        };
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    eprintln!("connection from {peer}");
                    if let Ok(mut s) = shared.lock() {
                        s.connections += 1;
                    }
                    let shared = Arc::clone(&shared);
                    let stats_path = stats_path.clone();
                    tokio::spawn(async move {
                        if let Err(e) = connection(stream, shared, start, stats_path).await {
                            eprintln!("connection from {peer}: {e}");
                        }
                    });
                }
                Err(e) => eprintln!("mbusctl simulate: accept failed: {e}"),
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    let summary = match shared.lock() {
        Ok(s) => s.stats(),
        Err(_) => {
            eprintln!("mbusctl simulate: statistics lost (a connection task failed)");
            return Exit::Failure;
        }
    };
    println!("bus time: {:.3} s", summary.bus_time_seconds);
    println!(
        "requests: {} ({} bytes), replies: {} ({} bytes)",
        summary.counters.requests,
        summary.counters.request_bytes,
        summary.counters.replies,
        summary.counters.reply_bytes
    );
    println!(
        "collisions: {}, line errors: {}, connections: {}",
        summary.counters.collisions, summary.counters.line_errors, summary.connections
    );
    if let Some(path) = &stats_path {
        if let Err(e) = write_stats(path, &shared) {
            eprintln!("mbusctl simulate: {e}");
            return Exit::Failure;
        }
    }
    Exit::Ok
}

/// Serves one TCP client: request bytes onto the bus, replies back after their bus time.
async fn connection(
    mut stream: TcpStream,
    shared: Shared,
    start: tokio::time::Instant,
    stats_path: Option<PathBuf>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let replies = {
            let mut served = shared
                .lock()
                .map_err(|_| std::io::Error::other("simulator state poisoned"))?;
            served.gateway.feed(&buf[..n], start.elapsed())
        };
        // Forward the reply as it crosses the bus, in pieces of a few milliseconds.
        for reply in replies {
            for (at, bytes) in reply.pieces(FORWARD_SLOT) {
                tokio::time::sleep_until(start + at).await;
                stream.write_all(&bytes).await?;
            }
        }
        if let Some(path) = &stats_path {
            write_stats(path, &shared).map_err(std::io::Error::other)?;
        }
    }
}

/// Writes the statistics to `path` atomically (temporary file, then rename).
fn write_stats(path: &Path, shared: &Shared) -> Result<(), String> {
    let stats = shared
        .lock()
        .map_err(|_| "simulator state poisoned".to_string())?
        .stats();
    let json = serde_json::to_string_pretty(&stats).map_err(|e| e.to_string())?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, json + "\n")
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write statistics to {}: {e}", path.display()))
}
