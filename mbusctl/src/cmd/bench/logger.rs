//! `mbusctl bench logger`: a synthetic installation read every 15 minutes is stored and
//! exported; prints ingest and export speed, bytes per value and peak memory.

use crate::exit::Exit;
use chrono::{TimeZone, Utc};
use logger_core::export::{export_zip, CsvLayout, ExportOptions, Filter, Format, Separator};
use logger_core::storage::{MeterId, Reading, Store, SyntheticInstallation, DATABASE_FILE_NAME};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `mbusctl bench logger`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of meters.
    #[arg(long, default_value_t = 250)]
    meters: u32,
    /// Registers per meter.
    #[arg(long, default_value_t = 10)]
    registers: usize,
    /// Days of 15-minute readings.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Directory for the database and the export (a fresh one under the system temporary
    /// directory if not given; removed afterwards unless given).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Peak resident memory of this process in KiB (Linux `VmHWM`), if known.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Restarts the peak-memory measurement (Linux `clear_refs`); false where unsupported.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn per_second(count: u64, time: Duration) -> f64 {
    count as f64 / time.as_secs_f64().max(1e-9)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "unknown".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

/// Runs the benchmark.
pub fn run(args: Args) -> Exit {
    let (dir, remove) = match args.dir {
        Some(dir) => (dir, false),
        None => (
            std::env::temp_dir().join(format!("mbusctl-bench-logger-{}", std::process::id())),
            true,
        ),
    };
    let result = measure(args.meters, args.registers, args.days, &dir);
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("mbusctl bench logger: {e}");
            Exit::Failure
        }
    }
}

fn measure(
    meters: u32,
    registers: usize,
    days: u32,
    dir: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let db = dir.join(DATABASE_FILE_NAME);
    if db.exists() {
        return Err(format!("{} exists already; give an empty --dir", db.display()).into());
    }
    let site = SyntheticInstallation {
        meters,
        registers,
        interval: 900,
        start: Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .ok_or("bad start time")?
            .timestamp(),
    };
    let per_day = site.readings_per_meter(1);
    println!(
        "synthetic installation: {meters} meters x {registers} registers, every 15 min, {days} days"
    );
    let mut store = Store::open(&db)?;
    let mut ingest = Duration::ZERO;
    let mut values = 0u64;
    for day in 0..u64::from(days) {
        // One day of all meters per transaction; generating it is not timed.
        let batch: Vec<Reading> = (0..site.meters)
            .flat_map(|m| site.batch(MeterId(m), day * per_day, per_day))
            .collect();
        values += batch
            .iter()
            .map(|r| r.values.iter().flatten().count() as u64)
            .sum::<u64>();
        let start = Instant::now();
        store.append_batch(&batch)?;
        ingest += start.elapsed();
        if (day + 1) % 30 == 0 {
            eprintln!("  stored {} of {days} days", day + 1);
        }
    }
    store.checkpoint()?;
    let stats = store.stats()?;
    println!(
        "ingest: {values} values in {:.2} s = {:.2} M values/s (peak memory {})",
        ingest.as_secs_f64(),
        per_second(values, ingest) / 1e6,
        mib(peak_kib())
    );
    println!(
        "disk: {} bytes for {} values = {:.2} bytes/value",
        stats.database_bytes,
        stats.values,
        stats.bytes_per_value()
    );
    let peak_reset = reset_peak();
    let options = ExportOptions {
        from: 0,
        to: i64::MAX,
        format: Format::Csv {
            layout: CsvLayout::Standard,
            separator: Separator::Semicolon,
        },
        filter: Filter::All,
        time_zone: chrono_tz::Europe::Berlin,
        exported_at: Utc::now(),
    };
    let zip_path = dir.join("export.zip");
    let start = Instant::now();
    let summary = export_zip(
        &store,
        &site.meter_descriptors(),
        &options,
        BufWriter::new(File::create(&zip_path)?),
    )?;
    let export = start.elapsed();
    let exported: u64 = summary.files.iter().map(|f| f.values).sum();
    println!(
        "export (CSV standard, all values): {exported} values in {:.2} s = {:.2} M values/s, \
         {} files, {} bytes zipped, peak memory {}{}",
        export.as_secs_f64(),
        per_second(exported, export) / 1e6,
        summary.files.len(),
        std::fs::metadata(&zip_path)?.len(),
        mib(peak_kib()),
        if peak_reset { "" } else { " (whole run)" }
    );
    Ok(())
}
