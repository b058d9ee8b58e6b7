//! `mbusctl simulate`: the simulated bus served in real time as a transparent M-Bus TCP gateway.

use crate::exit::Exit;
use mbus_link::sim::{
    templates, GatewayServer, Population, SerialPattern, SimBus, SimConfig, SimStats,
    TelegramTemplate, VirtualMeter,
};
use mbus_proto::address::BaudRate;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Number of meters on the bus (primary addresses 1, 2, …); ignored with --telegram.
    #[arg(long, default_value_t = 10)]
    meters: usize,
    /// Spread of the meters' serial numbers.
    #[arg(long, value_enum, default_value_t = PopulationKind::Sequential)]
    population: PopulationKind,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Baud rate the gateway's line starts at (and of every meter unless --bauds is given).
    /// The line follows a baud switch of the whole bus the client sends (SND_UD with
    /// CI 0xB8–0xBF to address 254 or 255); switching one meter leaves the line where it is.
    #[arg(long, default_value = "2400")]
    baud: BaudRate,
    /// A mixed population: each meter talks at one of these rates, drawn at random, e.g.
    /// 300,2400,9600. A meter only hears requests sent at its own rate; switch the line with a
    /// broadcast baud switch command to reach the others.
    #[arg(long, value_delimiter = ',')]
    bauds: Vec<BaudRate>,
    /// Directory of .hex telegrams to build the meters from (default: synthetic telegrams).
    #[arg(long, conflicts_with = "telegram")]
    corpus: Option<PathBuf>,
    /// A captured telegram file to replay (repeatable): one meter per file, primary addresses
    /// 1, 2, … in file order (--meters is ignored). The file is hex; it may hold several frames
    /// (whitespace or newlines between them), and then the meter answers them in order as the
    /// client toggles the FCB, repeating a telegram when the FCB did not toggle. Telegrams are
    /// sent as captured except for the addresses and access number, which are the simulated
    /// meter's own: a telegram announcing more records (DIF 0x1F) keeps announcing them, so a
    /// single-telegram file that ends with 0x1F is answered with the same telegram every time.
    /// A file that is not hex or holds anything but slave data frames is refused (exit code 3).
    #[arg(long, value_name = "FILE")]
    telegram: Vec<PathBuf>,
    /// This many meters share their primary address with another meter (their replies collide).
    #[arg(long, default_value_t = 0)]
    duplicate_primary: usize,
    /// Probability of each bit being flipped by noise.
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// The level converter echoes every byte the client sends back to it, before any reply.
    #[arg(long)]
    echo: bool,
    /// The bus is short-circuited for good once this many seconds of bus time have passed:
    /// afterwards nothing answers and the statistics report the short circuit.
    #[arg(long, value_name = "SECONDS")]
    short_circuit_after: Option<f64>,
    /// The first N meters babble: they answer every request they hear, whatever its address,
    /// with random bytes, so replies collide and absent addresses return garbage.
    #[arg(long, value_name = "N", default_value_t = 0)]
    babbler: usize,
    /// The last N meters are deaf: they never answer.
    #[arg(long, value_name = "N", default_value_t = 0)]
    deaf: usize,
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
    short_circuit: bool,
    meters: Vec<MeterStats>,
}

#[derive(serde::Serialize)]
struct MeterStats {
    primary: u8,
    /// As libmbus writes it (manufacturer bytes in wire order).
    secondary: String,
    manufacturer: String,
    baud: u32,
    babbling: bool,
    reads: u64,
}

impl StatsFile {
    fn of(bus: &SimBus, connections: u64) -> StatsFile {
        StatsFile {
            bus_time_seconds: bus.bus_time().as_secs_f64(),
            counters: bus.stats(),
            connections,
            short_circuit: bus.is_short_circuit(),
            meters: bus
                .meters()
                .iter()
                .map(|m| MeterStats {
                    primary: m.primary(),
                    secondary: m.secondary().to_string(),
                    manufacturer: m.secondary().manufacturer_id().to_string(),
                    baud: m.baud().bps(),
                    babbling: m.is_babbling(),
                    reads: m.reads(),
                })
                .collect(),
        }
    }
}

/// The meters the arguments describe, or the exit code after the error was printed.
fn build_meters(args: &Args) -> Result<Vec<VirtualMeter>, Exit> {
    let count = if args.telegram.is_empty() {
        args.meters
    } else {
        args.telegram.len()
    };
    if args.babbler + args.deaf > count {
        eprintln!(
            "mbusctl simulate: --babbler {} and --deaf {} need at least {} meters, there are {count}",
            args.babbler,
            args.deaf,
            args.babbler + args.deaf
        );
        return Err(Exit::Usage);
    }
    let bauds = if args.bauds.is_empty() {
        vec![args.baud]
    } else {
        args.bauds.clone()
    };
    let population = Population::new(args.meters, args.population.into())
        .seed(args.seed)
        .bauds(&bauds)
        .duplicates(args.duplicate_primary, 0)
        .faults(args.babbler, args.deaf);
    if !args.telegram.is_empty() {
        let files = args
            .telegram
            .iter()
            .map(|path| templates::load_file(path))
            .collect::<Result<Vec<TelegramTemplate>, _>>()
            .map_err(|e| {
                eprintln!("mbusctl simulate: {e}");
                Exit::BadInput
            })?;
        return Ok(population.build_each(&files));
    }
    let corpus = match &args.corpus {
        Some(dir) => match templates::load_dir(dir) {
            Ok(t) if !t.is_empty() => t,
            Ok(_) => {
                eprintln!(
                    "mbusctl simulate: {}: no meter telegrams (.hex) found",
                    dir.display()
                );
                return Err(Exit::BadInput);
            }
            Err(e) => {
                eprintln!("mbusctl simulate: {e}");
                return Err(Exit::BadInput);
            }
        },
        None => Vec::new(),
    };
    Ok(population.build(&corpus))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let meters = match build_meters(&args) {
        Ok(meters) => meters,
        Err(exit) => return exit,
    };
    let config = SimConfig {
        seed: args.seed,
        baud: args.baud,
        noise: args.noise,
        echo: args.echo,
    };
    let mut bus = SimBus::new(config, meters);
    if let Some(seconds) = args.short_circuit_after {
        match Duration::try_from_secs_f64(seconds) {
            Ok(after) => bus.short_circuit_from(after),
            Err(_) => {
                eprintln!(
                    "mbusctl simulate: --short-circuit-after {seconds}: not a duration in seconds"
                );
                return Exit::Usage;
            }
        }
    }
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
    if let Some(path) = &args.stats {
        if let Err(e) = write_stats(path, &StatsFile::of(&bus, 0)) {
            eprintln!("mbusctl simulate: {e}");
            return Exit::Failure;
        }
    }
    let meters = bus.meters().len();
    let server = match start_server(&args, bus) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("mbusctl simulate: cannot listen on {}: {e}", args.listen);
            return Exit::Device;
        }
    };
    println!("listening on {}", server.local_addr());
    eprintln!(
        "simulating {meters} meter(s), line at {} baud; stop with Ctrl-C",
        args.baud
    );
    if let Err(e) = runtime.block_on(stop_requested()) {
        eprintln!("mbusctl simulate: cannot watch for Ctrl-C and SIGTERM: {e}");
        return Exit::Failure;
    }
    let connections = server.connections();
    let bus = server.stop();
    let summary = StatsFile::of(&bus, connections);
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
    if summary.short_circuit {
        println!("bus short-circuited");
    }
    if let Some(path) = &args.stats {
        if let Err(e) = write_stats(path, &summary) {
            eprintln!("mbusctl simulate: {e}");
            return Exit::Failure;
        }
    }
    Exit::Ok
}

/// The gateway server on `--listen`; with `--stats` it rewrites the file after every exchange.
fn start_server(args: &Args, bus: SimBus) -> std::io::Result<GatewayServer> {
    let Some(path) = args.stats.clone() else {
        return GatewayServer::start(&args.listen, bus);
    };
    GatewayServer::start_observed(&args.listen, bus, move |bus, connections| {
        if let Err(e) = write_stats(&path, &StatsFile::of(bus, connections)) {
            eprintln!("mbusctl simulate: {e}");
        }
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_requested() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}

/// Writes the statistics to `path` atomically.
fn write_stats(path: &Path, stats: &StatsFile) -> Result<(), String> {
    let json = serde_json::to_string_pretty(stats).map_err(|e| e.to_string())?;
    logger_core::atomic::write(path, (json + "\n").as_bytes())
        .map_err(|e| format!("cannot write statistics to {}: {e}", path.display()))
}
