//! `mbusctl bench decode DIR`: decoding throughput on this machine, stage by stage, over every
//! `.hex` telegram under a directory. The last line is `decode frames/s: N` for scripts.

use crate::exit::Exit;
use mbus_proto::app::{decode_frame, DecodeError, Telegram};
use mbus_proto::frame::Frame;
use mbus_proto::hex::parse_hex;
use mbus_proto::record::Record;
use mbus_proto::xml::{self, Mode};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Arguments of `mbusctl bench decode`.
#[derive(clap::Args)]
pub struct Args {
    /// Directory searched recursively for `.hex` files, one telegram each.
    dir: PathBuf,
    /// Seconds to run each stage.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
}

/// The telegrams that decode, and their total size in bytes.
struct Telegrams {
    frames: Vec<Vec<u8>>,
    bytes: usize,
}

/// Work done per frame in one stage; returns a count so the work cannot be optimised away.
type Stage = fn(&[u8], &mut Buffers) -> usize;

/// Output buffers reused across frames, as a program decoding a stream would.
#[derive(Default)]
struct Buffers {
    json: Vec<u8>,
    xml: String,
}

const STAGES: [(&str, Stage); 4] = [
    ("parse+iterate", parse_and_iterate),
    ("typed decode", typed_decode),
    ("json", json),
    ("xml", xml_plain),
];

/// Index of the stage whose rate is the summary line.
const SUMMARY_STAGE: usize = 1;

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let telegrams = match load(&args.dir) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("mbusctl bench decode: {e}");
            return Exit::Failure;
        }
    };
    if telegrams.frames.is_empty() {
        eprintln!(
            "mbusctl bench decode: no .hex file under {} holds a decodable telegram",
            args.dir.display()
        );
        return Exit::BadInput;
    }
    println!(
        "{} telegrams, {} bytes, {} s per stage",
        telegrams.frames.len(),
        telegrams.bytes,
        args.seconds
    );
    println!("{:<14} {:>12} {:>9}", "stage", "frames/s", "MB/s");
    let budget = Duration::from_secs(args.seconds);
    let mut summary = 0.0;
    for (i, (name, stage)) in STAGES.iter().enumerate() {
        let (frames_per_s, bytes_per_s) = measure(&telegrams, budget, *stage);
        println!("{name:<14} {frames_per_s:>12.0} {:>9.1}", bytes_per_s / 1e6);
        if i == SUMMARY_STAGE {
            summary = frames_per_s;
        }
    }
    println!("decode frames/s: {}", summary.round() as u64);
    Exit::Ok
}

/// Runs `stage` over all telegrams repeatedly for at least `budget`; returns frames/s and bytes/s.
fn measure(telegrams: &Telegrams, budget: Duration, stage: Stage) -> (f64, f64) {
    let mut buffers = Buffers::default();
    let start = Instant::now();
    let mut passes = 0u64;
    let elapsed = loop {
        for frame in &telegrams.frames {
            black_box(stage(black_box(frame), &mut buffers));
        }
        passes += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            break elapsed.as_secs_f64();
        }
    };
    let frames = passes as f64 * telegrams.frames.len() as f64;
    let bytes = passes as f64 * telegrams.bytes as f64;
    (frames / elapsed, bytes / elapsed)
}

/// Frame parse, application header and record iteration, without decoding values.
fn parse_and_iterate(bytes: &[u8], _: &mut Buffers) -> usize {
    let Ok(frame) = Frame::parse_exact(bytes) else {
        return 0;
    };
    match Telegram::from_frame(&frame) {
        Ok(Telegram::Variable(data)) => data
            .records()
            .map(|r| usize::from(black_box(r).is_ok()))
            .sum(),
        Ok(other) => {
            black_box(other);
            1
        }
        Err(_) => 0,
    }
}

/// Everything an integrator reads: each record's function, storage, tariff, sub-unit, value
/// information, typed value and exact decimal; the counters of fixed data.
fn typed_decode(bytes: &[u8], _: &mut Buffers) -> usize {
    decode_every_value(bytes).unwrap_or(0)
}

fn decode_every_value(bytes: &[u8]) -> Result<usize, DecodeError> {
    let frame = Frame::parse_exact(bytes)?;
    let mut count = 0;
    match Telegram::from_frame(&frame)? {
        Telegram::Variable(data) => {
            black_box(data.header);
            for record in data.records() {
                if let Record::Data(r) = record? {
                    black_box((r.function(), r.storage_number(), r.tariff(), r.subunit()));
                    black_box(r.typed());
                }
                count += 1;
            }
        }
        Telegram::Fixed(fixed) => {
            for i in 0..2 {
                black_box((fixed.counter(i), fixed.unit_code(i)));
                count += 1;
            }
        }
        other => {
            black_box(other);
        }
    }
    Ok(count)
}

/// Full decode and JSON rendering into a reused buffer.
fn json(bytes: &[u8], buffers: &mut Buffers) -> usize {
    buffers.json.clear();
    if let Ok(telegram) = decode_frame(bytes) {
        if serde_json::to_writer(&mut buffers.json, &telegram).is_err() {
            return 0;
        }
    }
    buffers.json.len()
}

/// Full decode and libmbus-style plain XML into a reused buffer.
fn xml_plain(bytes: &[u8], buffers: &mut Buffers) -> usize {
    buffers.xml.clear();
    if let Ok(telegram) = decode_frame(bytes) {
        if xml::write(&telegram, Mode::Plain, &mut buffers.xml).is_err() {
            return 0;
        }
    }
    buffers.xml.len()
}

/// Reads every `.hex` file under `dir` (recursively, in name order) and keeps the telegrams that
/// decode; files that are not hex or not a decodable reply are skipped.
fn load(dir: &Path) -> Result<Telegrams, String> {
    let mut files = Vec::new();
    collect_hex_files(dir, &mut files)?;
    files.sort();
    let mut frames = Vec::new();
    for path in files {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(bytes) = parse_hex(&text) {
            if decode_frame(&bytes).is_ok() {
                frames.push(bytes);
            }
        }
    }
    let bytes = frames.iter().map(Vec::len).sum();
    Ok(Telegrams { frames, bytes })
}

fn collect_hex_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if kind.is_dir() {
            collect_hex_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "hex") {
            out.push(path);
        }
    }
    Ok(())
}
