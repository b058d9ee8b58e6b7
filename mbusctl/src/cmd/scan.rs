//! `mbusctl scan`: find the meters on a bus by primary or secondary address, at one or every
//! baud rate, with progress on standard error; a line that garbles everything or answers nothing
//! is named as such.

use crate::cmd::read::exit_for;
use crate::exit::Exit;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mbus_link::{Device, LinkConfig, Master};
use mbus_proto::address::{BaudRate, Manufacturer, SecondaryMask};
use mbus_proto::app::Header;
use mbus_scan::secondary::{Narrowing, NarrowingError};
use mbus_scan::{
    CancelToken, FoundMeter, LineState, PrimaryOptions, Progress, ScanReport, Scanner,
    SecondaryOptions,
};
use std::io::IsTerminal;
use std::time::Duration;

/// Output formats of `mbusctl scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// The scan report as JSON: `meters` (address, baud, header fields, telegram hex, status),
    /// `cost` (selects, reads, bus seconds), `cancelled` and `line` (`state` ok, silent or
    /// garbled, with `advice` for the last two).
    Json,
}

/// Arguments of `mbusctl scan`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("mode").args(["primary", "secondary"])))]
#[command(group(clap::ArgGroup::new("rate").args(["baud", "all_bauds"])))]
pub struct Args {
    /// Serial port (e.g. /dev/ttyUSB0) or transparent TCP gateway (tcp://HOST:PORT).
    #[arg(long, short = 'd')]
    device: String,
    /// Ask every primary address 0…250.
    #[arg(long)]
    primary: bool,
    /// Wildcard search by secondary address (the default).
    #[arg(long)]
    secondary: bool,
    /// Bus baud rate.
    #[arg(long, short = 'b', default_value = "2400")]
    baud: BaudRate,
    /// Scan at every baud rate, 300 to 38400.
    #[arg(long)]
    all_bauds: bool,
    /// Secondary scan only: search only this mask, written like a secondary address (ident
    /// digits, then manufacturer, version and medium bytes in wire order; F or ? = any nibble).
    #[arg(long, value_parser = parse_mask)]
    mask: Option<SecondaryMask>,
    /// Secondary scan only: identification numbers starting with these digits.
    #[arg(long)]
    ident_prefix: Option<String>,
    /// Secondary scan only: this manufacturer (three letters, e.g. KAM).
    #[arg(long, value_parser = parse_manufacturer)]
    manufacturer: Option<u16>,
    /// Secondary scan only: this version (hex byte, e.g. 0B).
    #[arg(long, value_parser = parse_hex_byte)]
    version: Option<u8>,
    /// Secondary scan only: this medium (hex byte, e.g. 04 for heat).
    #[arg(long, value_parser = parse_hex_byte)]
    medium: Option<u8>,
    /// Secondary scan only: probe silent masks twice and found meters' masks once more, for
    /// noisy buses or meters that miss requests (about twice the bus time).
    #[arg(long)]
    thorough: bool,
    /// Response timeout in milliseconds (default: 330 bit times + 50 ms, plus 250 ms for a TCP
    /// gateway).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    timeout_ms: Option<u64>,
    /// Inter-character timeout in milliseconds: a longer pause ends a reply (default: 11 bit
    /// times, plus 250 ms for a TCP gateway).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    gap_ms: Option<u64>,
    /// Primary scan only: extra attempts after silence.
    #[arg(long, default_value_t = 1)]
    retries: u32,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Show progress on standard error even when it is not a terminal (one line per percent).
    #[arg(long, conflicts_with = "quiet")]
    progress: bool,
    /// Show no progress, not even on a terminal.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn parse_mask(s: &str) -> Result<SecondaryMask, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_manufacturer(s: &str) -> Result<u16, String> {
    let manufacturer: Manufacturer = s.parse().map_err(|e| format!("{e}"))?;
    Ok(manufacturer.code())
}

fn parse_hex_byte(s: &str) -> Result<u8, String> {
    u8::from_str_radix(s, 16).map_err(|_| format!("'{s}' is not a hex byte (00 to FF)"))
}

/// The search mask: `--mask`, narrowed by the field options.
fn mask_of(args: &Args) -> Result<SecondaryMask, NarrowingError> {
    Narrowing {
        ident_prefix: args.ident_prefix.clone().unwrap_or_default(),
        manufacturer: args.manufacturer,
        version: args.version,
        medium: args.medium,
    }
    .apply(args.mask.unwrap_or(SecondaryMask::ALL))
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let narrowed = args.mask.is_some()
        || args.ident_prefix.is_some()
        || args.manufacturer.is_some()
        || args.version.is_some()
        || args.medium.is_some()
        || args.thorough;
    if args.primary && narrowed {
        eprintln!("mbusctl scan: --mask, --ident-prefix, --manufacturer, --version, --medium and --thorough apply to secondary scans only");
        return Exit::Usage;
    }
    let mask = match mask_of(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("mbusctl scan: {e}");
            return Exit::Usage;
        }
    };
    let device: Device = match args.device.parse() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("mbusctl scan: {e}");
            return Exit::Usage;
        }
    };
    let transport = match device.open(args.baud) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mbusctl scan: {e}");
            return exit_for(&e);
        }
    };
    let bauds = if args.all_bauds {
        BaudRate::ALL.to_vec()
    } else {
        vec![args.baud]
    };
    let cancel = CancelToken::new();
    stop_on_interrupt(cancel.clone());
    let mut master = Master::with_config(
        transport,
        LinkConfig {
            response_timeout: args.timeout_ms.map(Duration::from_millis),
            inter_char_timeout: args.gap_ms.map(Duration::from_millis),
            ..LinkConfig::default()
        },
    );
    let mut display = Display::new(args.progress, args.quiet);
    let mut scanner = Scanner::new(&mut master)
        .with_cancel(cancel.clone())
        .on_progress(|p| display.show(p));
    let result = if args.primary {
        scanner.primary(&PrimaryOptions {
            retries: args.retries,
            bauds,
            ..PrimaryOptions::default()
        })
    } else {
        scanner.secondary(&SecondaryOptions {
            mask,
            bauds,
            thorough: args.thorough,
        })
    };
    drop(scanner);
    display.finish();
    match result {
        Ok(report) => {
            let exit = print(&report, args.format);
            if let LineState::Garbled { baud, .. } = report.line {
                eprintln!(
                    "mbusctl scan: {device} at {baud} baud: {}",
                    report.line.advice().unwrap_or_default()
                );
            }
            if report.cancelled || cancel.is_cancelled() {
                Exit::Interrupted
            } else {
                exit
            }
        }
        Err(mbus_scan::ScanError::Bus(e)) => {
            eprintln!("mbusctl scan: {device}: {e}");
            exit_for(&e)
        }
        Err(e) => {
            eprintln!("mbusctl scan: {e}");
            Exit::Usage
        }
    }
}

/// Cancels the scan on SIGINT (Ctrl-C) or SIGTERM: it stops after the probe in flight and the
/// meters found so far are printed.
fn stop_on_interrupt(cancel: CancelToken) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(runtime) = runtime {
            if runtime.block_on(interrupted()) {
                cancel.cancel();
            }
        }
    });
}

/// Waits for SIGINT or SIGTERM; false if neither can be watched.
async fn interrupted() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.is_ok(),
            r = term.recv() => r.is_some(),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

/// Where progress goes: a bar on a terminal's standard error, plain lines on a standard error
/// that is not a terminal (with `--progress`), or nowhere.
enum Display {
    Bar(ProgressBar),
    Lines { last_percent: Option<u32> },
    Off,
}

impl Display {
    fn new(force: bool, quiet: bool) -> Display {
        if quiet {
            Display::Off
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Display::Bar(bar)
        } else if force {
            Display::Lines { last_percent: None }
        } else {
            Display::Off
        }
    }

    fn show(&mut self, p: &Progress) {
        let message = format!(
            "{} baud, {} found, {} requests, {:.1} s bus time",
            p.baud,
            p.found,
            p.probes,
            p.bus_time.as_secs_f64()
        );
        match self {
            Display::Bar(bar) => {
                bar.set_position((p.fraction * 1000.0) as u64);
                bar.set_message(message);
            }
            Display::Lines { last_percent } => {
                let percent = (p.fraction * 100.0) as u32;
                if *last_percent != Some(percent) {
                    *last_percent = Some(percent);
                    eprintln!("scan: {percent:>3}% {message}");
                }
            }
            Display::Off => {}
        }
    }

    fn finish(&self) {
        if let Display::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

fn print(report: &ScanReport, format: Format) -> Exit {
    match format {
        Format::Json => match serde_json::to_string_pretty(report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("mbusctl scan: cannot write JSON: {e}");
                return Exit::Failure;
            }
        },
        Format::Text => {
            println!(
                "{:<5} {:>7} {:<16} {:<4} {:>3} {:>3} {:<19} {:>6}",
                "baud", "primary", "secondary", "man", "ver", "med", "status", "bytes"
            );
            for meter in &report.meters {
                println!("{}", row(meter));
            }
            println!(
                "{} found with {} selects and {} reads in {:.1} s of bus time{}",
                report.meters.len(),
                report.cost.selects,
                report.cost.reads,
                report.cost.bus_time.as_secs_f64(),
                if report.cancelled { " (cancelled)" } else { "" }
            );
            if let Some(advice) = report.line.advice() {
                println!("note: {advice}");
            }
        }
    }
    if matches!(report.line, LineState::Garbled { .. }) {
        Exit::Garbled
    } else if report.meters.is_empty() {
        Exit::NoReply
    } else {
        Exit::Ok
    }
}

fn row(meter: &FoundMeter) -> String {
    let (man, ver, med) = match meter.header() {
        Some(Header::Long(h)) => (
            String::from_utf8_lossy(&h.manufacturer_letters()).into_owned(),
            format!("{:02X}", h.version),
            format!("{:02X}", h.medium),
        ),
        _ => ("-".into(), "-".into(), "-".into()),
    };
    let status = serde_json::to_value(meter.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "{:<5} {:>7} {:<16} {:<4} {:>3} {:>3} {:<19} {:>6}",
        meter.baud.bps(),
        meter.primary.map_or_else(|| "-".into(), |p| p.to_string()),
        meter
            .secondary
            .map_or_else(|| "-".into(), |s| s.to_string()),
        man,
        ver,
        med,
        status,
        meter
            .telegram
            .as_ref()
            .map_or_else(|| "-".into(), |t| t.bytes().len().to_string()),
    )
}
