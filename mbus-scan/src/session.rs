//! The state of one running scan, shared by the search algorithms ([`crate::primary`],
//! [`crate::secondary`], [`crate::baseline`]) and driven by the [`Scanner`](crate::Scanner):
//! it counts every request, collects meters, reports progress, checks for cancellation and
//! watches the line for garbage.

use crate::bus::{Listen, ReadReply, ScanBus, SelectReply};
use crate::error::ScanError;
use crate::progress::{CancelToken, Probe, Progress};
use crate::report::{FoundMeter, LineState, ScanReport};
use core::time::Duration;
use mbus_proto::address::{BaudRate, LinkAddress, SecondaryMask};

/// The progress callback a scanner holds.
pub(crate) type ProgressFn<'a> = Box<dyn FnMut(&Progress) + 'a>;

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

impl<'s, 'a, B: ScanBus> Session<'s, 'a, B> {
    /// Runs `search` at each baud of `bauds` on `bus` and returns the report.
    pub(crate) fn run(
        bus: &'s mut B,
        progress: &'s mut Option<ProgressFn<'a>>,
        cancel: &'s CancelToken,
        bauds: &[BaudRate],
        mut search: impl FnMut(&mut Session<'s, 'a, B>) -> Result<(), Stop<B::Error>>,
    ) -> Result<ScanReport, ScanError<B::Error>> {
        let mut session = Session {
            start: bus.elapsed(),
            bus,
            progress,
            cancel,
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
        address: LinkAddress,
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
