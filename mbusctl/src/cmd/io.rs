//! `mbusctl io`: the appliance's inputs and outputs as a logger data directory shows them —
//! live S0 totals and temperatures, relays, display, button gestures, problems, the input
//! meters' read status and the level converter's settings.

use crate::cmd::meters::emit;
use crate::exit::Exit;
use logger_core::hardware::inputs::request_s0_start;
use logger_core::hardware::report::io_report;
use logger_core::hardware::settings::s0_start_pulses;
use serde_json::Value;
use std::fmt::Write;
use std::path::PathBuf;

/// Arguments of `mbusctl io`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the logger.
    #[arg(long)]
    data_dir: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Set the start value of this S0 input (1 … 4) to `--start` (instead of showing the
    /// report): the running logger applies it within a second (or its next start does), logs
    /// it, and counts later pulses on top of it.
    #[arg(long, value_name = "INPUT", requires = "start")]
    s0_input: Option<u8>,
    /// The start value, in the input's unit (pulses / divisor).
    #[arg(long, value_name = "VALUE", requires = "s0_input")]
    start: Option<f64>,
}

/// `--s0-input N --start V`.
fn set_start(data_dir: &std::path::Path, input: u8, start: f64) -> Exit {
    let config = match logger_core::config::ConfigStore::new(data_dir).load_or_default() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mbusctl io: {e}");
            return Exit::BadInput;
        }
    };
    let pulses = match s0_start_pulses(&config, input, start) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("mbusctl io: {e}");
            return Exit::BadInput;
        }
    };
    match request_s0_start(data_dir, input, pulses) {
        Ok(()) => emit(
            "io",
            &format!(
                "S0 input {input}: start value {start} ({pulses} pulses) requested; the running \
                 logger applies it within a second, else its next start\n"
            ),
        ),
        Err(e) => {
            eprintln!("mbusctl io: {e}");
            Exit::Failure
        }
    }
}

fn values(out: &mut String, title: &str, list: &Value, unit: &str) {
    let Some(list) = list.as_array().filter(|l| !l.is_empty()) else {
        return;
    };
    let _ = write!(out, "{title}:");
    for v in list {
        let input = &v["input"];
        match v["value"].as_f64() {
            Some(x) => {
                let _ = write!(out, "  {input}: {x}{unit}");
            }
            None => {
                let _ = write!(out, "  {input}: {}", v["error"].as_str().unwrap_or("?"));
            }
        }
    }
    out.push('\n');
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    if let (Some(input), Some(start)) = (args.s0_input, args.start) {
        return set_start(&args.data_dir, input, start);
    }
    let report = match io_report(&args.data_dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mbusctl io: {e}");
            return Exit::BadInput;
        }
    };
    if args.json {
        return match serde_json::to_string_pretty(&report) {
            Ok(text) => emit("io", &format!("{text}\n")),
            Err(e) => {
                eprintln!("mbusctl io: {e}");
                Exit::Failure
            }
        };
    }
    let mut out = String::new();
    let backend = serde_json::to_value(report.backend).unwrap_or(Value::Null);
    let _ = writeln!(out, "backend: {}", backend.as_str().unwrap_or("?"));
    match &report.service {
        None => {
            let _ = writeln!(out, "I/O service: has not run in this data directory");
        }
        Some(service) => {
            let leds = &service["leds"];
            let on = |b: &Value| {
                if b.as_bool() == Some(true) {
                    "on"
                } else {
                    "off"
                }
            };
            let _ = writeln!(
                out,
                "display: {}  Reading LED: {}  Scan LED: {}",
                leds["display"].as_str().unwrap_or("-"),
                on(&leds["reading"]),
                on(&leds["scan"])
            );
            if let Some(relays) = service["relays"].as_array().filter(|r| !r.is_empty()) {
                let states: Vec<String> = relays
                    .iter()
                    .enumerate()
                    .map(|(i, r)| format!("{} {}", i + 1, on(r)))
                    .collect();
                let _ = writeln!(out, "relays: {}", states.join(", "));
            }
            values(&mut out, "S0 pulses", &service["s0"], "");
            values(&mut out, "temperatures", &service["temperatures"], " °C");
            if let Some(action) = service["last_action"].as_str() {
                let _ = writeln!(out, "last button gesture: {action}");
            }
            for problem in service["problems"].as_array().into_iter().flatten() {
                let _ = writeln!(out, "problem: {}", problem.as_str().unwrap_or("?"));
            }
        }
    }
    for m in &report.inputs {
        let _ = writeln!(
            out,
            "meter {} {} ({}): logging {}, {}{}",
            m.id,
            m.name,
            m.input,
            if m.logging { "on" } else { "off" },
            m.status,
            m.last_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    let lc = &report.level_converter;
    if lc.enabled {
        let baud = lc.baud.map_or_else(
            || "the bus's current rate".to_string(),
            |b| format!("{b} baud"),
        );
        let _ = writeln!(out, "level converter: TCP port {} at {baud}", lc.tcp_port);
        if let Some(error) = &lc.state.error {
            let _ = writeln!(out, "level converter problem: {error}");
        }
        if let (Some(client), Some(since)) = (lc.state.bridge.client, lc.state.bridge.since) {
            let _ = writeln!(out, "level converter client: {client} since {since}");
        }
        let _ = writeln!(out, "read slots missed (last session): {}", lc.missed_slots);
    } else {
        let _ = writeln!(out, "level converter: off");
    }
    emit("io", &out)
}
