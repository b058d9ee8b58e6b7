//! Side-by-side runs of the adaptive secondary scan and the libmbus baseline on one simulated
//! population, with the physical lower bound of bus time: what `mbusctl bench scan` prints.

use crate::report::ScanReport;
use crate::secondary::SecondaryOptions;
use crate::{ScanError, Scanner};
use core::time::Duration;
use mbus_link::config::{bit_times, char_times};
use mbus_link::sim::{SimBus, SimConfig, VirtualMeter};
use mbus_link::{LinkError, Master};
use mbus_proto::request;

/// The outcome of [`on_sim`].
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Meters on the simulated bus.
    pub meters: usize,
    /// See [`lower_bound`].
    pub lower_bound: Duration,
    /// The adaptive scan.
    pub ours: ScanReport,
    /// The libmbus baseline.
    pub baseline: ScanReport,
}

impl Comparison {
    /// Bus time of the adaptive scan divided by the baseline's.
    pub fn bus_time_ratio(&self) -> f64 {
        ratio(self.ours.cost.bus_time, self.baseline.cost.bus_time)
    }

    /// Probes (selects, every repetition counted) of the adaptive scan divided by the
    /// baseline's.
    pub fn probe_ratio(&self) -> f64 {
        self.ours.cost.probes() as f64 / self.baseline.cost.probes().max(1) as f64
    }
}

/// `a / b` in seconds; 0 when `b` is zero.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        0.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

/// Runs both scans, each on a fresh simulated bus holding `meters`, at `config`'s baud rate
/// (or the rates `options` lists).
///
/// ```
/// use mbus_link::sim::{Population, SerialPattern, SimConfig};
/// use mbus_scan::{compare, SecondaryOptions};
///
/// let meters = Population::new(15, SerialPattern::Sequential).build(&[]);
/// let c = compare::on_sim(&meters, &SimConfig::default(), &SecondaryOptions::default())?;
/// assert_eq!(c.ours.meters.len(), 15);
/// assert!(c.bus_time_ratio() < 0.5);
/// assert!(c.ours.cost.bus_time > c.lower_bound);
/// # Ok::<(), mbus_scan::ScanError<mbus_link::LinkError>>(())
/// ```
pub fn on_sim(
    meters: &[VirtualMeter],
    config: &SimConfig,
    options: &SecondaryOptions,
) -> Result<Comparison, ScanError<LinkError>> {
    let run = |baseline: bool| {
        let mut master = Master::new(SimBus::new(config.clone(), meters.to_vec()));
        let mut scanner = Scanner::new(&mut master);
        if baseline {
            scanner.baseline(options)
        } else {
            scanner.secondary(options)
        }
    };
    Ok(Comparison {
        meters: meters.len(),
        lower_bound: lower_bound(meters),
        ours: run(false)?,
        baseline: run(true)?,
    })
}

/// The least bus time any secondary scan needs for these meters: per meter one select, its
/// `E5`, one REQ_UD2 and its first telegram, at the meter's baud rate, each reply after the
/// meter's own response delay (physics: no scan can make a meter answer sooner).
pub fn lower_bound(meters: &[VirtualMeter]) -> Duration {
    let select_len = request::select_secondary(&mbus_proto::address::SecondaryMask::ALL).len();
    let req_len = request::req_ud2(0, false).len();
    meters
        .iter()
        .map(|m| {
            let reply = m.telegrams().first().map_or(0, Vec::len);
            let turnaround = bit_times(u64::from(m.response_delay()), m.baud());
            char_times(select_len + 1 + req_len + reply, m.baud()) + turnaround * 2
        })
        .sum()
}
