//! Decode throughput over the libmbus corpus test frames, stage by stage:
//! (a) frame parse + record iteration, (b) full typed decode of every value, (c) JSON, (d) XML
//! (plain); each in frames/s and in MB/s. A comparison group runs the full decode of the
//! `m-bus-parser` crate on the same frames in the same run.
//!
//! `cargo bench -p mbus-proto --bench decode` ends with a summary table and the speed ratio.
//!
//! Wall-clock figures move with the load of a shared machine. For a load-independent ratio,
//! `DECODE_BENCH_PASSES=ours:N` (or `theirs:N`, or `iterate:N` for our parse + record iteration
//! alone) makes the bench binary run N passes of one side's full decode over the compared frames
//! and exit, so that `valgrind --tool=callgrind`
//! counts its instructions; the difference between N and 0 passes, divided by N × frames, is the
//! cost of one frame.

#[path = "../mbus-proto/tests/corpus/mod.rs"]
mod corpus;
#[path = "../mbus-proto/tests/full_decode/mod.rs"]
mod full_decode;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use mbus_proto::app::decode_frame;
use mbus_proto::xml::{self, Mode};
use std::hint::black_box;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// Time spent and passes over the frame set made by one benchmark, summed over its samples.
#[derive(Default, Clone, Copy)]
struct Tally {
    elapsed: Duration,
    passes: u64,
}

impl Tally {
    fn plus(self, other: Tally) -> Tally {
        Tally {
            elapsed: self.elapsed + other.elapsed,
            passes: self.passes + other.passes,
        }
    }

    fn seconds_per_pass(&self) -> Option<f64> {
        (self.passes > 0).then(|| self.elapsed.as_secs_f64() / self.passes as f64)
    }
}

/// A set of frames and their total size.
struct FrameSet {
    frames: Vec<Vec<u8>>,
    bytes: usize,
}

impl FrameSet {
    fn new(frames: Vec<Vec<u8>>) -> Self {
        let bytes = frames.iter().map(Vec::len).sum();
        FrameSet { frames, bytes }
    }
}

/// One stage: work on one frame, with a scratch buffer it may reuse.
type Stage = fn(&[u8], &mut Vec<u8>, &mut String) -> usize;

fn stage_parse_iterate(bytes: &[u8], _: &mut Vec<u8>, _: &mut String) -> usize {
    full_decode::parse_and_iterate(bytes).unwrap_or(0)
}

fn stage_typed_decode(bytes: &[u8], _: &mut Vec<u8>, _: &mut String) -> usize {
    full_decode::full_decode(bytes).unwrap_or(0)
}

fn stage_json(bytes: &[u8], json: &mut Vec<u8>, _: &mut String) -> usize {
    json.clear();
    if let Ok(telegram) = decode_frame(bytes) {
        // Errors (none on this corpus) only mean less output; the length is what is kept.
        let _ = serde_json::to_writer(&mut *json, &telegram);
    }
    json.len()
}

fn stage_xml(bytes: &[u8], _: &mut Vec<u8>, out: &mut String) -> usize {
    out.clear();
    if let Ok(telegram) = decode_frame(bytes) {
        let _ = xml::write(&telegram, Mode::Plain, out);
    }
    out.len()
}

/// `m-bus-parser`'s full decode (as in its own `full_decode` benchmark): frame, application
/// layer, every record with its value and value-information labels and units.
fn stage_theirs(bytes: &[u8], _: &mut Vec<u8>, _: &mut String) -> usize {
    use m_bus_parser::{mbus_data::MbusData, WiredFrame};
    let Ok(parsed) = MbusData::<WiredFrame>::try_from(bytes) else {
        return 0;
    };
    black_box(&parsed.user_data);
    let mut records = 0;
    for record in parsed.data_records.into_iter().flatten() {
        let Ok(record) = record else { continue };
        if let Some(info) = record.value_information() {
            for label in info.labels() {
                black_box(label);
            }
            for unit in info.units() {
                black_box(unit);
            }
        }
        black_box(record.value());
        records += 1;
    }
    records
}

const STAGES: [(&str, Stage); 4] = [
    ("parse+iterate", stage_parse_iterate),
    ("typed decode", stage_typed_decode),
    ("json", stage_json),
    ("xml plain", stage_xml),
];

/// Benchmarks `stage` over every frame of `set` per iteration, adding the time to `tally`.
fn bench_stage(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    set: &FrameSet,
    stage: Stage,
    tally: &mut Tally,
) {
    let mut json = Vec::with_capacity(64 * 1024);
    let mut out = String::with_capacity(64 * 1024);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                for frame in &set.frames {
                    black_box(stage(black_box(frame), &mut json, &mut out));
                }
            }
            let elapsed = start.elapsed();
            tally.elapsed += elapsed;
            tally.passes += iters;
            elapsed
        })
    });
}

/// True when `m-bus-parser` decodes the frame without panicking.
fn theirs_survives(bytes: &[u8]) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        stage_theirs(bytes, &mut Vec::new(), &mut String::new())
    }))
    .is_ok()
}

fn configured() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args()
}

fn main() {
    let all = corpus::frames("test-frames");
    let total = all.len();
    let ours: Vec<Vec<u8>> = all
        .into_iter()
        .filter(|(_, bytes)| decode_frame(bytes).is_ok())
        .map(|(_, bytes)| bytes)
        .collect();
    let set = FrameSet::new(ours);

    // m-bus-parser panics on some inputs; such frames leave both sides of the comparison.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let comparable: Vec<Vec<u8>> = set
        .frames
        .iter()
        .filter(|bytes| theirs_survives(bytes))
        .cloned()
        .collect();
    std::panic::set_hook(hook);
    let excluded = set.frames.len() - comparable.len();
    let compare = FrameSet::new(comparable);

    if let Ok(spec) = std::env::var("DECODE_BENCH_PASSES") {
        count_passes(&spec, &compare);
        return;
    }

    let mut c = configured();
    let mut per_frame = [Tally::default(); STAGES.len()];
    let mut per_byte = [Tally::default(); STAGES.len()];
    let mut group = c.benchmark_group("decode/frames");
    group.throughput(Throughput::Elements(set.frames.len() as u64));
    for ((name, stage), tally) in STAGES.iter().zip(&mut per_frame) {
        bench_stage(&mut group, name, &set, *stage, tally);
    }
    group.finish();
    let mut group = c.benchmark_group("decode/bytes");
    group.throughput(Throughput::Bytes(set.bytes as u64));
    for ((name, stage), tally) in STAGES.iter().zip(&mut per_byte) {
        bench_stage(&mut group, name, &set, *stage, tally);
    }
    group.finish();

    let mut ours_tally = Tally::default();
    let mut theirs_tally = Tally::default();
    let mut group = c.benchmark_group("compare/full-decode");
    group.throughput(Throughput::Elements(compare.frames.len() as u64));
    bench_stage(
        &mut group,
        "mbus-proto",
        &compare,
        stage_typed_decode,
        &mut ours_tally,
    );
    bench_stage(
        &mut group,
        "m-bus-parser",
        &compare,
        stage_theirs,
        &mut theirs_tally,
    );
    group.finish();
    c.final_summary();

    println!();
    println!(
        "corpus test frames: {total}, decoded: {} ({} bytes); compared with m-bus-parser: {} \
         ({excluded} excluded because m-bus-parser panics on them)",
        set.frames.len(),
        set.bytes,
        compare.frames.len()
    );
    println!("{:<16} {:>14} {:>10}", "stage", "frames/s", "MB/s");
    for (i, (name, _)) in STAGES.iter().enumerate() {
        // Both groups ran the same work: pool their samples for one consistent pair of figures.
        let pooled = per_frame[i].plus(per_byte[i]);
        let frames = pooled
            .seconds_per_pass()
            .map(|s| set.frames.len() as f64 / s);
        let mb = pooled
            .seconds_per_pass()
            .map(|s| set.bytes as f64 / s / 1e6);
        println!("{name:<16} {:>14} {:>10}", show(frames, 0), show(mb, 1));
    }
    let rate = |t: &Tally| {
        t.seconds_per_pass()
            .map(|s| compare.frames.len() as f64 / s)
    };
    let (ours, theirs) = (rate(&ours_tally), rate(&theirs_tally));
    println!("{:<16} {:>14}", "m-bus-parser", show(theirs, 0));
    println!("{:<16} {:>14}", "mbus-proto", show(ours, 0));
    if let (Some(ours), Some(theirs)) = (ours, theirs) {
        println!(
            "full decode ratio mbus-proto / m-bus-parser: {:.2}x",
            ours / theirs
        );
    }
}

/// Runs the passes `spec` (`ours:N`, `theirs:N` or `iterate:N`) asks for and prints how many records they
/// decoded.
fn count_passes(spec: &str, set: &FrameSet) {
    let (side, passes) = spec.split_once(':').unwrap_or((spec, "1"));
    let passes: u64 = passes
        .parse()
        .expect("DECODE_BENCH_PASSES=ours:N or theirs:N");
    let stage: Stage = match side {
        "ours" => stage_typed_decode,
        "iterate" => stage_parse_iterate,
        "theirs" => stage_theirs,
        other => panic!("DECODE_BENCH_PASSES: unknown side {other:?} (ours, theirs, iterate)"),
    };
    let (mut json, mut out) = (Vec::new(), String::new());
    let mut records = 0;
    for _ in 0..passes {
        for frame in &set.frames {
            records += black_box(stage(black_box(frame), &mut json, &mut out));
        }
    }
    println!(
        "{side}: {passes} passes over {} frames, {records} records",
        set.frames.len()
    );
}

fn show(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}
