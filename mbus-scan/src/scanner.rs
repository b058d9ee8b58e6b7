//! The [`Scanner`]: runs primary, secondary and baseline scans over a [`ScanBus`] at one or
//! every baud rate, with progress events and cancellation.

use crate::baseline;
use crate::bus::{Listen, ReadReply, ScanBus, SelectReply};
use crate::primary::{self, PrimaryOptions};
use crate::progress::{CancelToken, Probe, Progress};
use crate::report::{FoundMeter, LineState, ScanReport};
use crate::secondary::{self, SecondaryOptions};
use core::time::Duration;
use mbus_proto::address::{BaudRate, SecondaryMask};

/// Why a scan could not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError<E: std::error::Error + 'static> {
    /// The bus or device failed (I/O error, bus short circuit, closed connection).
    #[error("bus error during scan: {0}")]
    Bus(#[source] E),
    /// The options name a primary address no meter can have.
    #[error("primary address {0} is outside 0…250")]
    PrimaryAddress(u8),
}

/// The progress callback a scanner holds.
type ProgressFn<'a> = Box<dyn FnMut(&Progress) + 'a>;

/// Why a search stopped early: cancelled, a bus error, or a line that garbles everything.
pub(crate) enum Stop<E> {
    Cancelled,
    Bus(E),
    LineGarbled,
}

/// Garbled outcomes in a row (selects and data requests, no silence and no clean reply in
/// between) after which the line itself is checked. A collision chain of real meters reaches
/// this only on a crowded bus or where several meters share an address prefix; the check then
/// costs two silent selects.
pub(crate) const GARBLED_STREAK: u32 = 8;
/// Selects of an address no meter can have that make up one line check: all of them garbled
/// means the garbage does not come from meters answering.
pub(crate) const LINE_CHECKS: u32 = 2;
/// An address no meter can have: identification digits are BCD, so a nibble `E` there matches
/// no meter, and no nibble is the wildcard `F`.
fn no_meter() -> SecondaryMask {
    SecondaryMask::from_bytes([0xEE; 8])
}

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
        if let Some(&bad) = options.addresses.iter().find(|&&a| a > 250) {
            return Err(ScanError::PrimaryAddress(bad));
        }
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
        mut search: impl FnMut(&mut Session<'_, 'a, B>) -> Result<(), Stop<B::Error>>,
    ) -> Result<ScanReport, ScanError<B::Error>> {
        let bauds = self.rates(bauds);
        let mut session = Session {
            start: self.bus.elapsed(),
            bus: &mut self.bus,
            progress: &mut self.progress,
            cancel: &self.cancel,
            report: ScanReport::default(),
            part: (0, bauds.len()),
            done: 0.0,
            last_probe: None,
            watch: None,
            streak: 0,
            heard: false,
            baud_requests: 0,
            baud_found: 0,
        };
        for (i, &baud) in bauds.iter().enumerate() {
            session.part = (i, bauds.len());
            session.done = 0.0;
            session.watch = None;
            session.streak = 0;
            session.baud_requests = session.report.cost.requests();
            session.baud_found = session.report.meters.len();
            let run = session
                .bus
                .set_baud(baud)
                .map_err(Stop::Bus)
                .and_then(|()| search(&mut session));
            if run.is_ok() {
                session.done = 1.0;
                if let Some(probe) = session.last_probe {
                    session.emit(probe);
                }
            }
            match run {
                Ok(()) => {}
                Err(Stop::Cancelled) => {
                    session.report.cancelled = true;
                    break;
                }
                Err(Stop::Bus(e)) => return Err(ScanError::Bus(e)),
                Err(Stop::LineGarbled) => {
                    session.report.line = LineState::Garbled {
                        baud,
                        streak: session.streak,
                    };
                    break;
                }
            }
        }
        let probes = session.report.cost.requests();
        if !session.heard && probes > 0 && !session.report.cancelled {
            session.report.line = LineState::Silent { probes };
        }
        session.report.cost.bus_time = session.bus.elapsed().saturating_sub(session.start);
        Ok(session.report)
    }
}

/// The state of one running scan, shared by the search algorithms: counts every request,
/// collects meters, reports progress and checks for cancellation.
pub(crate) struct Session<'s, 'a, B: ScanBus> {
    bus: &'s mut B,
    progress: &'s mut Option<ProgressFn<'a>>,
    cancel: &'s CancelToken,
    start: Duration,
    pub(crate) report: ScanReport,
    /// (index of the baud rate being scanned, number of baud rates).
    part: (usize, usize),
    /// Part of the current baud rate's search done, 0.0…1.0.
    done: f64,
    /// The last probe sent, for the closing progress event.
    last_probe: Option<Probe>,
    /// Set by the searches that watch the line for garbage (not the baseline): the request
    /// budget of one baud rate, `(base, per meter found)`.
    watch: Option<(u64, u64)>,
    /// Garbled outcomes in a row.
    streak: u32,
    /// True once any reply (clean or garbled) came back.
    heard: bool,
    /// Requests and meters counted when the current baud rate's search began.
    baud_requests: u64,
    baud_found: usize,
}

impl<B: ScanBus> Session<'_, '_, B> {
    pub(crate) fn baud(&self) -> BaudRate {
        self.bus.baud()
    }

    /// Watches the line from now on: a garbled streak triggers a line check, and the requests
    /// at this baud rate stay within `base + per_meter × meters found at this rate`.
    pub(crate) fn watch_line(&mut self, base: u64, per_meter: u64) {
        self.watch = Some((base, per_meter));
    }

    /// Garbled outcomes in a row so far.
    pub(crate) fn streak(&self) -> u32 {
        self.streak
    }

    /// Before each request: cancelled, or (when the line is watched) out of budget.
    fn check(&self) -> Result<(), Stop<B::Error>> {
        if self.cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        if let Some((base, per_meter)) = self.watch {
            let found = (self.report.meters.len() - self.baud_found) as u64;
            let sent = self.report.cost.requests() - self.baud_requests;
            if sent >= base + per_meter * found {
                return Err(Stop::LineGarbled);
            }
        }
        Ok(())
    }

    /// Counts a reply into the garbled streak.
    fn note(&mut self, garbled: bool, silent: bool) {
        self.heard |= !silent;
        self.streak = if garbled { self.streak + 1 } else { 0 };
    }

    /// One secondary select, counted and reported. When the line is watched and this select
    /// ends a garbled streak, the line is checked first and the select then sent again.
    pub(crate) fn select(
        &mut self,
        mask: &SecondaryMask,
        depth: u8,
        listen: Listen,
    ) -> Result<SelectReply, Stop<B::Error>> {
        let reply = self.send_select(mask, depth, listen)?;
        if reply != SelectReply::Garbled || self.watch.is_none() || self.streak < GARBLED_STREAK {
            return Ok(reply);
        }
        // The check deselects every meter; the search expects this mask to be the last select.
        self.check_line()?;
        self.send_select(mask, depth, listen)
    }

    fn send_select(
        &mut self,
        mask: &SecondaryMask,
        depth: u8,
        listen: Listen,
    ) -> Result<SelectReply, Stop<B::Error>> {
        self.check()?;
        self.report.cost.selects += 1;
        let reply = self.bus.select(mask, listen).map_err(Stop::Bus)?;
        self.note(reply == SelectReply::Garbled, reply == SelectReply::Silent);
        self.emit(Probe::Secondary { mask: *mask, depth });
        Ok(reply)
    }

    /// Selects an address no meter can have, up to `LINE_CHECKS` times: garbage every time
    /// means the line garbles everything (noise, a babbling sender, a wrong baud rate, an
    /// echoing converter), and the scan stops. Silence or a clean reply clears the streak.
    pub(crate) fn check_line(&mut self) -> Result<(), Stop<B::Error>> {
        for _ in 0..LINE_CHECKS {
            if self.send_select(&no_meter(), 16, Listen::Gap)? != SelectReply::Garbled {
                self.streak = 0;
                return Ok(());
            }
        }
        Err(Stop::LineGarbled)
    }

    /// One REQ_UD2, counted and reported.
    pub(crate) fn read(
        &mut self,
        address: u8,
        fcb: bool,
        listen: Listen,
        probe: Probe,
    ) -> Result<ReadReply, Stop<B::Error>> {
        self.check()?;
        self.report.cost.reads += 1;
        let reply = self.bus.read(address, fcb, listen).map_err(Stop::Bus)?;
        self.note(reply == ReadReply::Garbled, reply == ReadReply::Silent);
        self.emit(probe);
        Ok(reply)
    }

    /// Records a found meter.
    pub(crate) fn found(&mut self, meter: FoundMeter) {
        self.report.meters.push(meter);
    }

    /// Adds `part` (of the current baud rate's search space) to the progress estimate.
    pub(crate) fn advance(&mut self, part: f64) {
        self.done = (self.done + part).min(1.0);
    }

    fn emit(&mut self, probe: Probe) {
        self.last_probe = Some(probe);
        let Some(callback) = self.progress.as_mut() else {
            return;
        };
        let (index, count) = self.part;
        let event = Progress {
            baud: self.bus.baud(),
            probe,
            probes: self.report.cost.requests(),
            found: self.report.meters.len(),
            bus_time: self.bus.elapsed().saturating_sub(self.start),
            fraction: ((index as f64 + self.done) / count.max(1) as f64).min(1.0),
        };
        callback(&event);
    }
}
