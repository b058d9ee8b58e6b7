//! The [`Scanner`]: runs primary, secondary and baseline scans over a [`ScanBus`] at one or
//! every baud rate, with progress events and cancellation.

use crate::baseline;
use crate::bus::ScanBus;
use crate::error::ScanError;
use crate::primary::{self, PrimaryOptions};
use crate::progress::{CancelToken, Progress};
use crate::report::ScanReport;
use crate::secondary::{self, SecondaryOptions};
use crate::session::{ProgressFn, Session, Stop};
use core::time::Duration;
use mbus_proto::address::BaudRate;

/// Runs scans on a bus. Build it, attach a progress callback and a cancel token, run scans.
///
/// ```
/// use mbus_link::sim::{SimBus, SimConfig, VirtualMeter, templates};
/// use mbus_link::Master;
/// use mbus_scan::{Scanner, SecondaryOptions};
///
/// let meters = (0..3)
///     .map(|i| {
///         let address = format!("1234567{i}C5140B04").parse()?;
///         Ok(VirtualMeter::new(0, address, templates::synthetic(i as usize)))
///     })
///     .collect::<Result<Vec<_>, mbus_proto::address::AddressError>>()?;
/// let mut master = Master::new(SimBus::new(SimConfig::default(), meters));
/// let mut scanner = Scanner::new(&mut master).on_progress(|p| assert!(p.fraction <= 1.0));
/// let report = scanner.secondary(&SecondaryOptions::default())?;
/// assert_eq!(report.meters.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Scanner<'a, B: ScanBus> {
    bus: B,
    progress: Option<ProgressFn<'a>>,
    cancel: CancelToken,
}

impl<'a, B: ScanBus> Scanner<'a, B> {
    /// A scanner on `bus` (a [`mbus_link::Master`] or a `&mut` to one, or any [`ScanBus`]).
    pub fn new(bus: B) -> Scanner<'a, B> {
        Scanner {
            bus,
            progress: None,
            cancel: CancelToken::new(),
        }
    }

    /// Calls `f` after every probe and every meter found.
    pub fn on_progress(mut self, f: impl FnMut(&Progress) + 'a) -> Scanner<'a, B> {
        self.progress = Some(Box::new(f));
        self
    }

    /// Stops scans (between two probes) once `token` is cancelled; the report then holds what
    /// was found so far and has `cancelled` set.
    pub fn with_cancel(mut self, token: CancelToken) -> Scanner<'a, B> {
        self.cancel = token;
        self
    }

    /// The bus.
    pub fn bus(&self) -> &B {
        &self.bus
    }

    /// Gives the bus back.
    pub fn into_bus(self) -> B {
        self.bus
    }

    /// Primary scan: asks every address of `options` for data (see [`PrimaryOptions`]).
    pub fn primary(&mut self, options: &PrimaryOptions) -> Result<ScanReport, ScanError<B::Error>> {
        self.each_baud(&options.bauds, |s| primary::scan(s, options))
    }

    /// Secondary wildcard scan with the adaptive search of [`crate::secondary`].
    pub fn secondary(
        &mut self,
        options: &SecondaryOptions,
    ) -> Result<ScanReport, ScanError<B::Error>> {
        self.each_baud(&options.bauds, |s| secondary::scan(s, options))
    }

    /// Secondary wildcard scan the way libmbus runs it (see [`crate::baseline`]), for comparison.
    pub fn baseline(
        &mut self,
        options: &SecondaryOptions,
    ) -> Result<ScanReport, ScanError<B::Error>> {
        self.each_baud(&options.bauds, |s| baseline::scan(s, &options.mask))
    }

    /// The most bus time [`Scanner::primary`] with `options` can take: at each baud rate,
    /// [`PrimaryOptions::max_requests`] × [`ScanBus::longest_exchange`].
    pub fn primary_bus_time_bound(&self, options: &PrimaryOptions) -> Duration {
        self.bound(&options.bauds, options.max_requests())
    }

    /// The most bus time [`Scanner::secondary`] with `options` can take when it finds `found`
    /// meters: at each baud rate, [`SecondaryOptions::max_requests`]`(found)` ×
    /// [`ScanBus::longest_exchange`].
    pub fn secondary_bus_time_bound(&self, options: &SecondaryOptions, found: usize) -> Duration {
        self.bound(&options.bauds, SecondaryOptions::max_requests(found))
    }

    fn bound(&self, bauds: &[BaudRate], requests: u64) -> Duration {
        self.rates(bauds)
            .into_iter()
            .map(|b| self.bus.longest_exchange(b) * u32::try_from(requests).unwrap_or(u32::MAX))
            .sum()
    }

    /// The rates a scan runs at: `bauds`, or the bus's current rate when empty.
    fn rates(&self, bauds: &[BaudRate]) -> Vec<BaudRate> {
        if bauds.is_empty() {
            vec![self.bus.baud()]
        } else {
            bauds.to_vec()
        }
    }

    /// Runs `search` at each baud of `bauds` (the bus's current rate when empty).
    fn each_baud(
        &mut self,
        bauds: &[BaudRate],
        search: impl FnMut(&mut Session<'_, 'a, B>) -> Result<(), Stop<B::Error>>,
    ) -> Result<ScanReport, ScanError<B::Error>> {
        let bauds = self.rates(bauds);
        Session::run(
            &mut self.bus,
            &mut self.progress,
            &self.cancel,
            &bauds,
            search,
        )
    }
}
