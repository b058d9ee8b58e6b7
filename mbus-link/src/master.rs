//! The sans-IO master: requests in, bytes out; received bytes and time in, results out.
//!
//! A [`MasterCore`] holds what outlives one request (configuration, baud rate, the frame count
//! bit per address, the transport's latency). An [`Operation`] (read, select, reset, …) is a small
//! state machine over exchanges; [`Transaction`] runs one operation and tells the driver what to
//! do next through [`Action`]. The blocking [`Master`](crate::Master) and the async
//! [`AsyncMaster`](crate::AsyncMaster) are thin loops over this.
//!
//! Time is a [`Duration`] since an arbitrary epoch of the driver's clock (a real monotonic
//! clock, or the simulated bus's virtual clock).
//!
//! ```
//! use mbus_link::master::{Action, MasterCore, ops};
//! use mbus_link::LinkConfig;
//! use mbus_proto::address::{BaudRate, PrimaryAddress};
//! use std::time::Duration;
//!
//! let mut core = MasterCore::new(LinkConfig::default(), BaudRate::B2400, Duration::ZERO);
//! let mut tx = core.begin(ops::AckCommand::snd_nke(PrimaryAddress::new(7)?));
//! let Action::Send(bytes) = tx.poll() else { unreachable!() };
//! assert_eq!(bytes, &[0x10, 0x40, 0x07, 0x47, 0x16]);
//! tx.sent(Duration::from_millis(21));
//! let Action::Receive { .. } = tx.poll() else { unreachable!() };
//! tx.received(&[0xE5], None, Duration::from_millis(40));
//! // Default: listen one more gap of silence after the frame, then done.
//! tx.received(&[], None, Duration::from_millis(100));
//! assert!(matches!(tx.poll(), Action::Done(Ok(()))));
//! # Ok::<(), mbus_proto::address::AddressError>(())
//! ```

use crate::config::{
    bit_times, char_times, garbled_drain_limit, EchoMode, LatencyAllowance, LatencyBounds,
    LinkConfig, ListenAfterFrame, BITS_PER_CHAR,
};
use crate::error::{Addressee, GarbleReason, LineError, LinkError};
use crate::telegram::{Reply, ReplyFrame};
use core::time::Duration;
use mbus_proto::address::{BaudRate, SELECTED_ADDRESS};
use mbus_proto::frame::{Frame, Parsed};
use mbus_proto::request;

pub mod ops;

/// The highest primary address a single meter can have.
const LAST_PRIMARY: u8 = 250;

/// What outlives a single request: configuration, the current baud rate, FCB per address,
/// whether each meter's position in its telegram sequence is known, and whether a secondary
/// read left a meter selected.
#[derive(Debug, Clone)]
pub struct MasterCore {
    config: LinkConfig,
    baud: BaudRate,
    latency: LatencyAllowance,
    next_fcb: AddressFlags,
    sequence_known: AddressFlags,
    left_selected: Option<BaudRate>,
}

/// One flag for each value of the address byte (0…255), so every `u8` has its flag.
#[derive(Debug, Clone)]
struct AddressFlags([bool; 256]);

impl AddressFlags {
    const fn all(value: bool) -> AddressFlags {
        AddressFlags([value; 256])
    }

    fn get(&self, address: u8) -> bool {
        // 256 flags: every `u8` is in range.
        self.0
            .get(usize::from(address))
            .copied()
            .unwrap_or_default()
    }

    fn set(&mut self, address: u8, value: bool) {
        if let Some(flag) = self.0.get_mut(usize::from(address)) {
            *flag = value;
        }
    }
}

impl MasterCore {
    /// A master at `baud` over a transport that adds up to `latency` to arrival times
    /// (USB serial adapters, TCP gateways; zero for the simulated bus).
    pub fn new(config: LinkConfig, baud: BaudRate, latency: Duration) -> MasterCore {
        MasterCore {
            config,
            baud,
            latency: LatencyAllowance::fixed(latency),
            next_fcb: AddressFlags::all(true),
            sequence_known: AddressFlags::all(false),
            left_selected: None,
        }
    }

    /// This core with a latency allowance that starts at the `latency` given to
    /// [`MasterCore::new`] and then follows the measured round trip within `bounds` (see
    /// [`LatencyAllowance`]); for TCP gateways.
    pub fn with_adaptive_latency(mut self, bounds: LatencyBounds) -> MasterCore {
        self.latency = LatencyAllowance::adaptive(self.latency.current(), bounds);
        self
    }

    /// The latency allowance in force (added to the default response and inter-character
    /// timeouts).
    pub fn latency(&self) -> Duration {
        self.latency.current()
    }

    /// The configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Replaces the configuration.
    pub fn set_config(&mut self, config: LinkConfig) {
        self.config = config;
    }

    /// The baud rate the master talks at.
    pub fn baud(&self) -> BaudRate {
        self.baud
    }

    /// Sets the baud rate (the driver must switch the transport too). A change forgets every
    /// meter's telegram sequence position: the same address may be another meter at this rate.
    pub fn set_baud(&mut self, baud: BaudRate) {
        if baud != self.baud {
            self.sequence_known = AddressFlags::all(false);
        }
        self.baud = baud;
    }

    /// The response timeout in force.
    pub fn response_timeout(&self) -> Duration {
        self.config
            .response_timeout_at(self.baud, self.latency.current())
    }

    /// The inter-character timeout in force inside a reply.
    pub fn inter_char_timeout(&self) -> Duration {
        self.config
            .inter_char_timeout_at(self.baud, self.latency.within_frame())
    }

    /// The inter-character timeout after a complete frame (the listen for a second sender).
    pub fn inter_char_timeout_after_frame(&self) -> Duration {
        self.config
            .inter_char_timeout_at(self.baud, self.latency.after_frame())
    }

    /// The FCB the next REQ_UD2 to `address` carries.
    pub fn next_fcb(&self, address: u8) -> bool {
        self.next_fcb.get(address)
    }

    /// Forgets the frame count state of `address` (after SND_NKE or a select: FCB starts at 1).
    pub fn reset_fcb(&mut self, address: u8) {
        self.next_fcb.set(address, true);
    }

    fn toggle_fcb(&mut self, address: u8) {
        self.next_fcb.set(address, !self.next_fcb.get(address));
    }

    /// Whether the master knows where the meter at primary `address` stands in its telegram
    /// sequence: its last read on this master ended cleanly on a telegram without "more records
    /// follow" (or it acknowledged a SND_NKE), and nothing reached it since. Decides the SND_NKE
    /// before a read under [`ResetPolicy::WhenUnknown`](crate::ResetPolicy::WhenUnknown).
    pub fn sequence_known(&self, address: u8) -> bool {
        self.sequence_known.get(address)
    }

    /// Whoever answers at `address` may stand anywhere in its telegram sequence.
    fn forget_sequence(&mut self, address: u8) {
        self.sequence_known.set(address, false);
    }

    /// A request is about to go out: whoever it reaches may change its sequence position
    /// (everyone for 253, 254 and 255, whose meters the master cannot name).
    fn note_request(&mut self, request: &[u8]) {
        match Frame::parse_exact(request).ok().and_then(|f| f.address()) {
            Some(address) if address <= LAST_PRIMARY => self.forget_sequence(address),
            _ => self.sequence_known = AddressFlags::all(false),
        }
    }

    /// `address` acknowledged a SND_NKE: FCB and telegram sequence start over; at 253 the
    /// selected meter is deselected.
    fn link_reset(&mut self, address: u8) {
        self.reset_fcb(address);
        if address <= LAST_PRIMARY {
            self.sequence_known.set(address, true);
        } else if address == SELECTED_ADDRESS {
            self.left_selected = None;
        }
    }

    /// A read of `address` ended cleanly on a telegram without "more records follow".
    fn sequence_complete(&mut self, address: u8) {
        if address <= LAST_PRIMARY {
            self.sequence_known.set(address, true);
        }
    }

    /// A deselect (SND_NKE to 253) is over. Whatever came back, the meter counts as released: a
    /// lost `E5` is no reason to repeat it, and the next select deselects anyway. Only an
    /// overloaded bus is an error.
    fn deselected(&mut self, outcome: Option<&ExchangeOutcome>) -> Result<(), LinkError> {
        self.reset_fcb(SELECTED_ADDRESS);
        if outcome == Some(&ExchangeOutcome::Overload) {
            return Err(LinkError::BusOverload);
        }
        self.link_reset(SELECTED_ADDRESS);
        Ok(())
    }

    /// Whether a secondary read may have left a meter selected (`Some`) and at which rate;
    /// `None` clears it (a select by mask hands the selection to the caller).
    fn set_left_selected(&mut self, left: Option<BaudRate>) {
        self.left_selected = left;
    }

    /// Starts running `op`. If a secondary read left a meter selected (at the current baud rate)
    /// and `op` does not select or deselect by itself, a deselect (SND_NKE to 253) goes first.
    pub fn begin<O: Operation>(&mut self, op: O) -> Transaction<'_, O> {
        let deselect_first = self.left_selected == Some(self.baud) && !op.replaces_selection();
        let state = if deselect_first {
            self.exchange(ExchangeSpec::deselect(Addressee::Primary(SELECTED_ADDRESS)))
        } else {
            TxState::Advance(None)
        };
        Transaction {
            core: self,
            op,
            state,
            deselecting: deselect_first,
        }
    }

    fn exchange(&mut self, spec: ExchangeSpec) -> TxState {
        self.note_request(&spec.request);
        TxState::Exchanging(Box::new(Exchange::new(spec)))
    }
}

/// One request, and whether it calls for a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeSpec {
    /// The bytes to send.
    pub request: Vec<u8>,
    /// False for requests nobody answers (broadcast 255, raw send).
    pub reply_expected: bool,
    /// Who the request is for (for error messages).
    pub target: Addressee,
}

impl ExchangeSpec {
    /// A request that calls for a reply.
    pub fn request(request: &[u8], target: Addressee) -> ExchangeSpec {
        ExchangeSpec {
            request: request.to_vec(),
            reply_expected: true,
            target,
        }
    }

    /// A request nobody answers.
    pub fn send_only(request: &[u8], target: Addressee) -> ExchangeSpec {
        ExchangeSpec {
            request: request.to_vec(),
            reply_expected: false,
            target,
        }
    }

    /// SND_NKE to 253: deselects the selected meter.
    fn deselect(target: Addressee) -> ExchangeSpec {
        ExchangeSpec::request(&request::snd_nke(SELECTED_ADDRESS), target)
    }
}

/// The result of one exchange, after retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeOutcome {
    /// The request went out; no reply was expected.
    Sent,
    /// A valid reply arrived.
    Reply(Reply),
    /// Nothing arrived within the response timeout, on every attempt.
    Silence {
        /// How many times the request was sent.
        attempts: u32,
    },
    /// Bytes arrived that are no valid reply.
    Garbled(GarbleReason),
    /// The converter reported a bus overload.
    Overload,
}

/// The next step of an [`Operation`].
#[derive(Debug)]
pub enum Step<T> {
    /// Perform this exchange, then call [`Operation::advance`] with its outcome.
    Exchange(ExchangeSpec),
    /// Switch the master (and transport) to this baud rate, then call `advance` with `None`.
    SetBaud(BaudRate),
    /// The operation has finished.
    Done(Result<T, LinkError>),
}

/// A link-layer operation: a small state machine over exchanges.
pub trait Operation {
    /// What the operation yields.
    type Output;
    /// Called first with `None`, then with the outcome of each exchange it asked for.
    fn advance(
        &mut self,
        core: &mut MasterCore,
        last: Option<ExchangeOutcome>,
    ) -> Step<Self::Output>;

    /// True if the operation selects or deselects at address 253 itself, so a meter an earlier
    /// secondary read left selected need not be deselected before it (default false).
    fn replaces_selection(&self) -> bool {
        false
    }
}

/// What the driver must do next.
#[derive(Debug)]
pub enum Action<'a, T> {
    /// Discard stale input, write these bytes, then call [`Transaction::sent`].
    Send(&'a [u8]),
    /// Wait for bytes until `deadline`, then call [`Transaction::received`] (with no bytes when
    /// the deadline passed).
    Receive {
        /// When to give up waiting.
        deadline: Duration,
    },
    /// Switch the transport to this rate, then call [`Transaction::baud_set`].
    SetBaud(BaudRate),
    /// Finished: the operation's result. Polling again yields an error.
    Done(Result<T, LinkError>),
}

/// One operation in progress.
pub struct Transaction<'c, O: Operation> {
    core: &'c mut MasterCore,
    op: O,
    state: TxState,
    /// The current exchange is the deselect that goes before the operation.
    deselecting: bool,
}

enum TxState {
    Advance(Option<ExchangeOutcome>),
    Exchanging(Box<Exchange>),
    SettingBaud,
    Finished,
}

impl<O: Operation> Transaction<'_, O> {
    /// The next thing the driver must do.
    pub fn poll(&mut self) -> Action<'_, O::Output> {
        loop {
            match &mut self.state {
                TxState::Advance(last) => {
                    let last = last.take();
                    match self.op.advance(self.core, last) {
                        Step::Exchange(spec) => self.state = self.core.exchange(spec),
                        Step::SetBaud(baud) => {
                            self.core.set_baud(baud);
                            self.state = TxState::SettingBaud;
                        }
                        Step::Done(result) => {
                            self.state = TxState::Finished;
                            return Action::Done(result);
                        }
                    }
                }
                TxState::Exchanging(ex) if ex.outcome.is_some() => {
                    let outcome = ex.outcome.take();
                    if !std::mem::take(&mut self.deselecting) {
                        self.state = TxState::Advance(outcome);
                        continue;
                    }
                    // The deselect before the operation.
                    if let Err(e) = self.core.deselected(outcome.as_ref()) {
                        self.state = TxState::Finished;
                        return Action::Done(Err(e));
                    }
                    self.state = TxState::Advance(None);
                }
                _ => break,
            }
        }
        let timing = Timing::of(self.core);
        match &self.state {
            TxState::Exchanging(ex) => ex.action(&timing),
            TxState::SettingBaud => Action::SetBaud(self.core.baud()),
            _ => Action::Done(Err(LinkError::InvalidRequest(
                "the operation has already finished".into(),
            ))),
        }
    }

    /// The request went out; `tx_end` is when its last bit leaves the line.
    pub fn sent(&mut self, tx_end: Duration) {
        if let TxState::Exchanging(ex) = &mut self.state {
            ex.sent(tx_end);
        }
    }

    /// Bytes arrived (possibly none, when the deadline passed) at time `now`, with the line
    /// error the transport reported for them, if any.
    pub fn received(&mut self, bytes: &[u8], error: Option<LineError>, now: Duration) {
        if let TxState::Exchanging(ex) = &self.state {
            self.measure(ex.first_bytes_since(bytes, error), now);
        }
        let timing = Timing::of(self.core);
        if let TxState::Exchanging(ex) = &mut self.state {
            let (heard_nothing, was_complete) = match &ex.phase {
                Phase::Wait(rx) => (bytes.is_empty() && rx.last_at.is_none(), rx.complete),
                Phase::Send => (false, false),
            };
            ex.received(bytes, error, now, &timing);
            let attempt_over = matches!(ex.phase, Phase::Send) || ex.outcome.is_some();
            if heard_nothing && attempt_over {
                self.core.latency.observe_silence();
            }
            if let Phase::Wait(rx) = &ex.phase {
                if rx.complete && !was_complete && rx.garbled.is_none() {
                    // A whole frame arrived: its pieces' spread is a jitter sample, in time
                    // for the listen that follows it.
                    self.core.latency.observe_jitter(rx.spread());
                }
            }
        }
    }

    /// The first reply bytes of an attempt (request ended at `tx_end`) arrived at `now`: one
    /// round-trip measurement for the latency allowance.
    fn measure(&mut self, tx_end: Option<Duration>, now: Duration) {
        let Some(tx_end) = tx_end else { return };
        let baud = self.core.baud();
        let earliest = tx_end + bit_times(u64::from(BITS_PER_CHAR), baud) + char_times(1, baud);
        self.core.latency.observe(now.saturating_sub(earliest));
    }

    /// The transport now runs at the rate of the last [`Action::SetBaud`].
    pub fn baud_set(&mut self) {
        if let TxState::SettingBaud = self.state {
            self.state = TxState::Advance(None);
        }
    }
}

struct Timing {
    response: Duration,
    gap: Duration,
    gap_after_frame: Duration,
    char_time: Duration,
    baud: BaudRate,
    echo: EchoMode,
    listen: ListenAfterFrame,
    retries_silence: u32,
    retries_garbled: u32,
}

impl Timing {
    fn of(core: &MasterCore) -> Timing {
        Timing {
            response: core.response_timeout(),
            gap: core.inter_char_timeout(),
            gap_after_frame: core.inter_char_timeout_after_frame(),
            char_time: char_times(1, core.baud()),
            baud: core.baud(),
            echo: core.config.echo,
            listen: core.config.listen_after_frame,
            retries_silence: core.config.retries.on_silence,
            retries_garbled: core.config.retries.on_garbled,
        }
    }
}

/// One request/reply exchange with retries.
struct Exchange {
    spec: ExchangeSpec,
    attempts: u32,
    garbled_attempts: u32,
    phase: Phase,
    outcome: Option<ExchangeOutcome>,
}

enum Phase {
    Send,
    Wait(Rx),
}

/// Reception state of one attempt.
struct Rx {
    tx_end: Duration,
    buf: Vec<u8>,
    echo_done: bool,
    last_at: Option<Duration>,
    garbled: Option<GarbleReason>,
    complete: bool,
    /// Lowest and highest lateness of the reply's pieces (see [`Rx::spread`]).
    lateness: Option<(Duration, Duration)>,
}

impl Exchange {
    fn new(spec: ExchangeSpec) -> Exchange {
        Exchange {
            spec,
            attempts: 0,
            garbled_attempts: 0,
            phase: Phase::Send,
            outcome: None,
        }
    }

    fn action<T>(&self, timing: &Timing) -> Action<'_, T> {
        match &self.phase {
            Phase::Send => Action::Send(&self.spec.request),
            Phase::Wait(rx) => Action::Receive {
                deadline: rx.deadline(timing),
            },
        }
    }

    /// When these are the first clean bytes of the current attempt: when its request ended.
    fn first_bytes_since(&self, bytes: &[u8], error: Option<LineError>) -> Option<Duration> {
        match &self.phase {
            Phase::Wait(rx) if rx.last_at.is_none() && !bytes.is_empty() && error.is_none() => {
                Some(rx.tx_end)
            }
            _ => None,
        }
    }

    fn sent(&mut self, tx_end: Duration) {
        if !matches!(self.phase, Phase::Send) {
            return;
        }
        self.attempts += 1;
        if !self.spec.reply_expected {
            self.outcome = Some(ExchangeOutcome::Sent);
            return;
        }
        self.phase = Phase::Wait(Rx {
            tx_end,
            buf: Vec::new(),
            echo_done: false,
            last_at: None,
            garbled: None,
            complete: false,
            lateness: None,
        });
    }

    fn received(&mut self, bytes: &[u8], error: Option<LineError>, now: Duration, t: &Timing) {
        let Phase::Wait(rx) = &mut self.phase else {
            return;
        };
        if error == Some(LineError::Overload) {
            self.outcome = Some(ExchangeOutcome::Overload);
            return;
        }
        if !bytes.is_empty() {
            rx.take(bytes, error, now, &self.spec.request, t);
            // A garbled reply that keeps going is drained, but not forever (noise, stuck line).
            let drain_limit = rx.tx_end + t.response + garbled_drain_limit();
            let drained_too_long = rx.garbled.is_some() && now > drain_limit;
            if drained_too_long || (rx.complete && t.listen == ListenAfterFrame::Return) {
                self.finish(t);
            }
            return;
        }
        if now >= rx.deadline(t) {
            self.finish(t);
        }
    }

    /// The attempt is over: decide, and retry or report.
    fn finish(&mut self, t: &Timing) {
        let Phase::Wait(rx) = &mut self.phase else {
            return;
        };
        let verdict = rx.verdict();
        match verdict {
            Verdict::Silence if self.attempts <= t.retries_silence => self.phase = Phase::Send,
            Verdict::Silence => {
                self.outcome = Some(ExchangeOutcome::Silence {
                    attempts: self.attempts,
                })
            }
            Verdict::Garbled(_) if self.garbled_attempts < t.retries_garbled => {
                self.garbled_attempts += 1;
                self.phase = Phase::Send;
            }
            Verdict::Garbled(reason) => self.outcome = Some(ExchangeOutcome::Garbled(reason)),
            Verdict::Reply(reply) => self.outcome = Some(ExchangeOutcome::Reply(reply)),
        }
    }
}

enum Verdict {
    Silence,
    Garbled(GarbleReason),
    Reply(Reply),
}

impl Rx {
    fn deadline(&self, t: &Timing) -> Duration {
        let window_end = self.tx_end + t.response;
        let Some(last) = self.last_at else {
            return window_end;
        };
        let gap_end = last + t.char_time + t.gap;
        if !self.echo_done || (self.buf.is_empty() && self.garbled.is_none()) {
            // Only (part of) the echo so far: the reply window still runs.
            return gap_end.max(window_end);
        }
        if self.complete && t.listen == ListenAfterFrame::Window {
            return gap_end.max(window_end);
        }
        if self.complete && self.garbled.is_none() {
            return last + t.char_time + t.gap_after_frame;
        }
        gap_end
    }

    /// The spread of the lateness of the reply's pieces so far: each piece's arrival minus the
    /// line time of the reply bytes up to its end.
    fn spread(&self) -> Duration {
        self.lateness
            .map_or(Duration::ZERO, |(lo, hi)| hi.saturating_sub(lo))
    }

    fn take(
        &mut self,
        bytes: &[u8],
        error: Option<LineError>,
        now: Duration,
        request: &[u8],
        t: &Timing,
    ) {
        self.last_at = Some(now);
        self.buf.extend_from_slice(bytes);
        if let Some(e) = error {
            self.garbled.get_or_insert(GarbleReason::Line(e));
        }
        if !self.echo_done {
            self.strip_echo(request, t.echo);
            if !self.echo_done {
                return;
            }
        }
        // Reply bytes so far (the echo stripped): how late this piece is against their line time.
        let offset = now.saturating_sub(char_times(self.buf.len(), t.baud));
        self.lateness = Some(match self.lateness {
            Some((lo, hi)) => (lo.min(offset), hi.max(offset)),
            None => (offset, offset),
        });
        if self.garbled.is_some() {
            return;
        }
        match Frame::parse(&self.buf) {
            Err(e) => self.garbled = Some(GarbleReason::Frame(e)),
            Ok(Parsed::Incomplete { .. }) => {}
            Ok(Parsed::Complete { consumed, .. }) if consumed < self.buf.len() => {
                self.garbled = Some(GarbleReason::TrailingBytes {
                    count: self.buf.len() - consumed,
                });
            }
            Ok(Parsed::Complete { .. }) => self.complete = true,
        }
    }

    fn strip_echo(&mut self, request: &[u8], mode: EchoMode) {
        let n = self.buf.len().min(request.len());
        let prefix_matches = self.buf.get(..n) == request.get(..n);
        match mode {
            EchoMode::Off => self.echo_done = true,
            _ if prefix_matches && self.buf.len() >= request.len() => {
                self.buf.drain(..request.len());
                self.echo_done = true;
            }
            _ if prefix_matches => {}
            EchoMode::On => {
                self.echo_done = true;
                self.garbled.get_or_insert(GarbleReason::EchoMismatch);
            }
            EchoMode::Auto => self.echo_done = true,
        }
    }

    fn verdict(&mut self) -> Verdict {
        if let Some(reason) = self.garbled.take() {
            return Verdict::Garbled(reason);
        }
        if !self.echo_done {
            // Received a prefix of the request and then nothing: no reply after a cut echo.
            return if self.buf.is_empty() {
                Verdict::Silence
            } else {
                Verdict::Garbled(GarbleReason::EchoMismatch)
            };
        }
        if self.buf.is_empty() {
            return Verdict::Silence;
        }
        match Frame::parse(&self.buf) {
            Ok(Parsed::Complete {
                frame: Frame::Ack, ..
            }) => Verdict::Reply(Reply::Ack),
            Ok(Parsed::Complete { .. }) => match ReplyFrame::new(std::mem::take(&mut self.buf)) {
                Ok(t) => Verdict::Reply(Reply::Frame(t)),
                Err(e) => Verdict::Garbled(GarbleReason::Frame(e)),
            },
            Ok(Parsed::Incomplete { needed }) => Verdict::Garbled(GarbleReason::Cut {
                received: self.buf.len(),
                needed,
            }),
            Err(e) => Verdict::Garbled(GarbleReason::Frame(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ops::{AckCommand, ReadAll, Transact};
    use super::*;
    use crate::config::{EchoMode, RetryPolicy};
    use mbus_proto::request;

    fn core(config: LinkConfig) -> MasterCore {
        MasterCore::new(config, BaudRate::B2400, Duration::ZERO)
    }

    fn at(a: u8) -> mbus_proto::address::LinkAddress {
        mbus_proto::address::LinkAddress::try_from(a).unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Drives `op`: the request goes out at 0 (ends at 20 ms), `reply` arrives at 40 ms, then
    /// silence until every deadline passes.
    fn drive<O: Operation>(
        core: &mut MasterCore,
        op: O,
        reply: &[u8],
    ) -> (Result<O::Output, LinkError>, Vec<Vec<u8>>) {
        let mut sent = Vec::new();
        let mut tx = core.begin(op);
        let mut now = Duration::ZERO;
        let mut pending_reply = Some(reply.to_vec());
        loop {
            match tx.poll() {
                Action::Send(bytes) => {
                    sent.push(bytes.to_vec());
                    now += ms(20);
                    tx.sent(now);
                }
                Action::Receive { deadline } => match pending_reply.take() {
                    Some(r) if !r.is_empty() => {
                        now += ms(20);
                        tx.received(&r, None, now);
                    }
                    _ => {
                        now = now.max(deadline);
                        tx.received(&[], None, now);
                    }
                },
                Action::SetBaud(_) => tx.baud_set(),
                Action::Done(result) => return (result, sent),
            }
        }
    }

    #[test]
    fn silence_is_retried_with_identical_bytes_then_reported() {
        let mut c = core(LinkConfig::default());
        let (result, sent) = drive(&mut c, ReadAll::primary(at(9)), &[]);
        assert!(matches!(
            result,
            Err(LinkError::NoReply {
                address: Addressee::Primary(9),
                attempts: 3
            })
        ));
        assert_eq!(sent, vec![request::snd_nke(9).to_vec(); 3]);
    }

    #[test]
    fn converter_echo_modes() {
        let nke = request::snd_nke(1).to_vec();
        let echoed: Vec<u8> = nke.iter().copied().chain([0xE5]).collect();
        for mode in [EchoMode::On, EchoMode::Auto] {
            let mut c = core(LinkConfig {
                echo: mode,
                ..LinkConfig::default()
            });
            assert!(
                drive(&mut c, AckCommand::snd_nke(at(1)), &echoed).0.is_ok(),
                "{mode:?}"
            );
        }
        // Auto also works without echo; On insists on it.
        let mut c = core(LinkConfig::default());
        assert!(drive(&mut c, AckCommand::snd_nke(at(1)), &[0xE5]).0.is_ok());
        let mut c = core(LinkConfig {
            echo: EchoMode::On,
            ..LinkConfig::default()
        });
        assert!(matches!(
            drive(&mut c, AckCommand::snd_nke(at(1)), &[0xE5]).0,
            Err(LinkError::Garbled {
                reason: GarbleReason::EchoMismatch,
                ..
            })
        ));
    }

    #[test]
    fn a_frame_cut_by_a_gap_is_garbled_not_silence() {
        let rsp = request::rsp_ud(1, 0x72, &[0; 20]).unwrap();
        let mut c = core(LinkConfig::default());
        let (result, sent) = drive(
            &mut c,
            Transact::new(&request::req_ud2(1, true)),
            &rsp[..10],
        );
        match result {
            Err(LinkError::Garbled {
                reason: GarbleReason::Cut { received, needed },
                ..
            }) => {
                assert_eq!(received, 10);
                assert_eq!(needed, rsp.len() - 10);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sent.len(), 1, "garbled replies are not retried by default");
    }

    #[test]
    fn garbled_retries_follow_their_own_policy() {
        let mut c = core(LinkConfig {
            retries: RetryPolicy {
                on_silence: 0,
                on_garbled: 2,
            },
            ..LinkConfig::default()
        });
        let (result, sent) = drive(&mut c, AckCommand::snd_nke(at(1)), &[0xE5, 0xE5]);
        // The double ack was retried once; the retry met silence, which is not retried here.
        assert!(matches!(
            result,
            Err(LinkError::NoReply { attempts: 2, .. })
        ));
        assert_eq!(sent.len(), 2);
        let mut c = core(LinkConfig::default());
        let (result, sent) = drive(&mut c, AckCommand::snd_nke(at(1)), &[0xE5, 0xE5]);
        assert!(matches!(
            result,
            Err(LinkError::Garbled {
                reason: GarbleReason::TrailingBytes { count: 1 },
                ..
            })
        ));
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn line_errors_and_overload() {
        let mut c = core(LinkConfig::default());
        let mut tx = c.begin(AckCommand::snd_nke(at(1)));
        assert!(matches!(tx.poll(), Action::Send(_)));
        tx.sent(ms(20));
        tx.received(&[0xE5], Some(LineError::Parity), ms(30));
        tx.received(&[], None, ms(500));
        assert!(matches!(
            tx.poll(),
            Action::Done(Err(LinkError::Garbled {
                reason: GarbleReason::Line(LineError::Parity),
                ..
            }))
        ));
        assert!(matches!(
            tx.poll(),
            Action::Done(Err(LinkError::InvalidRequest(_)))
        ));

        let mut tx = c.begin(AckCommand::snd_nke(at(1)));
        assert!(matches!(tx.poll(), Action::Send(_)));
        tx.sent(ms(20));
        tx.received(&[], Some(LineError::Overload), ms(21));
        assert!(matches!(
            tx.poll(),
            Action::Done(Err(LinkError::BusOverload))
        ));
    }

    #[test]
    fn deadlines_follow_the_timing_rules() {
        let mut c = core(LinkConfig::default());
        let mut tx = c.begin(AckCommand::snd_nke(at(1)));
        assert!(matches!(tx.poll(), Action::Send(_)));
        tx.sent(ms(100));
        // Response window: 330 bits at 2400 baud + 50 ms after the end of the request.
        let Action::Receive { deadline } = tx.poll() else {
            panic!()
        };
        assert_eq!(deadline, ms(100) + Duration::from_micros(187_500));
        tx.received(&[0xE5], None, ms(150));
        // Then one character time plus an 11-bit gap.
        let Action::Receive { deadline } = tx.poll() else {
            panic!()
        };
        assert_eq!(deadline, ms(150) + Duration::from_nanos(2 * 4_583_333));

        let mut c = core(LinkConfig {
            listen_after_frame: ListenAfterFrame::Return,
            response_timeout: Some(ms(1000)),
            ..LinkConfig::default()
        });
        let mut tx = c.begin(AckCommand::snd_nke(at(1)));
        assert!(matches!(tx.poll(), Action::Send(_)));
        tx.sent(ms(10));
        assert!(matches!(tx.poll(), Action::Receive { deadline } if deadline == ms(1010)));
        tx.received(&[0xE5], None, ms(20));
        assert!(matches!(tx.poll(), Action::Done(Ok(()))));
    }

    /// One SND_NKE exchange on the virtual clock: the request ends at `start` + 20 ms; the
    /// `E5` arrives `lateness` after the earliest moment the line could deliver it (end of the
    /// request + 11 bit times + one character), unless that is past the response window, which
    /// counts as silence. Returns the result, the number of attempts and when it finished.
    fn nke_with_lateness(
        c: &mut MasterCore,
        start: Duration,
        lateness: Duration,
    ) -> (Result<(), LinkError>, usize, Duration) {
        let earliest = bit_times(u64::from(BITS_PER_CHAR), c.baud()) + char_times(1, c.baud());
        let mut tx = c.begin(AckCommand::snd_nke(at(1)));
        let (mut now, mut attempts, mut reply_at) = (start, 0, None);
        loop {
            match tx.poll() {
                Action::Send(_) => {
                    attempts += 1;
                    now += ms(20);
                    tx.sent(now);
                    reply_at = Some(now + earliest + lateness);
                }
                Action::Receive { deadline } => match reply_at.take() {
                    Some(at) if at <= deadline => {
                        now = at;
                        tx.received(&[0xE5], None, now);
                    }
                    _ => {
                        now = deadline;
                        tx.received(&[], None, now);
                    }
                },
                Action::SetBaud(_) => tx.baud_set(),
                Action::Done(result) => return (result, attempts, now),
            }
        }
    }

    #[test]
    fn the_latency_allowance_follows_the_measured_round_trip() {
        let bounds = LatencyBounds {
            min: ms(20),
            max: ms(1000),
        };
        let mut c = MasterCore::new(LinkConfig::default(), BaudRate::B2400, ms(250))
            .with_adaptive_latency(bounds);
        assert_eq!(c.latency(), ms(250), "conservative until measured");
        let char_and_gap = char_times(1, BaudRate::B2400) * 2;

        // A gateway 5 ms late: the allowance becomes 25 ms at once, and the listen after the
        // E5 (a reply in one piece, no jitter) needs only the 20 ms margin.
        let (result, attempts, end) = nke_with_lateness(&mut c, ms(0), ms(5));
        assert!(result.is_ok() && attempts == 1);
        assert_eq!(c.latency(), ms(25));
        let e5_at = ms(20) + char_and_gap + ms(5);
        assert_eq!(end, e5_at + char_and_gap + ms(20));

        // Faster still: the estimate comes down by a quarter of the difference per reply.
        assert!(nke_with_lateness(&mut c, ms(1000), ms(1)).0.is_ok());
        assert_eq!(c.latency(), ms(24));

        // Slower: followed at once.
        assert!(nke_with_lateness(&mut c, ms(2000), ms(100)).0.is_ok());
        assert_eq!(c.latency(), ms(120));

        // A path that became much slower: the first attempt's window (330 bit times + 50 ms +
        // 120 ms) passes in silence, the retry waits with the conservative 250 ms and hears the
        // reply; the allowance then follows the new round trip.
        let (result, attempts, _) = nke_with_lateness(&mut c, ms(3000), ms(300));
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(attempts, 2);
        assert_eq!(c.latency(), ms(320));

        // The listen after a complete frame needs only the jitter between a reply's pieces:
        // after a single-piece reply the margin (20 ms) rather than the allowance.
        assert!(nke_with_lateness(&mut c, ms(2500), ms(100)).0.is_ok());
        assert_eq!(c.latency(), ms(270));
        assert_eq!(
            c.inter_char_timeout_after_frame(),
            bit_times(11, BaudRate::B2400) + ms(20)
        );
        // A reply in two pieces, the second 15 ms later than its line time explains.
        let rsp = request::rsp_ud(1, 0x72, &[0; 40]).unwrap();
        let (first, second) = rsp.split_at(20);
        let mut tx = c.begin(Transact::new(&request::req_ud2(1, true)));
        assert!(matches!(tx.poll(), Action::Send(_)));
        tx.sent(ms(2800));
        let at = ms(2900);
        tx.received(first, None, at);
        let line = |n: usize| char_times(n, BaudRate::B2400);
        let second_at = at - line(first.len()) + line(rsp.len()) + ms(15);
        tx.received(second, None, second_at);
        let Action::Receive { deadline } = tx.poll() else {
            panic!()
        };
        tx.received(&[], None, deadline);
        assert!(matches!(tx.poll(), Action::Done(Ok(_))));
        assert_eq!(
            c.inter_char_timeout_after_frame(),
            bit_times(11, BaudRate::B2400) + ms(35)
        );

        // Gaps inside a reply never drop below the conservative 250 ms: a held-back piece of a
        // reply must not cut the frame.
        assert_eq!(
            c.inter_char_timeout(),
            bit_times(11, BaudRate::B2400) + ms(250).max(c.latency())
        );

        // Bounds: never below the minimum, never above the maximum.
        assert!(nke_with_lateness(&mut c, ms(5000), ms(0)).0.is_ok());
        assert!(c.latency() >= ms(20));
        let mut a = LatencyAllowance::adaptive(ms(250), bounds);
        a.observe(ms(5000));
        assert_eq!(a.current(), ms(1000));
        a.observe(Duration::ZERO);
        assert!(a.current() <= ms(1000));

        // Serial converters and the simulator keep their fixed allowance.
        let mut fixed = MasterCore::new(LinkConfig::default(), BaudRate::B2400, ms(20));
        assert!(nke_with_lateness(&mut fixed, ms(0), ms(1)).0.is_ok());
        assert_eq!(fixed.latency(), ms(20));
    }

    #[test]
    fn fcb_toggles_per_telegram_and_resets_with_snd_nke() {
        let mut c = core(LinkConfig {
            reset_policy: crate::ResetPolicy::Never,
            ..LinkConfig::default()
        });
        let rsp = request::rsp_ud(4, 0x78, &[0x01, 0xFD, 0x17, 0x00]).unwrap();
        let (result, sent) = drive(&mut c, ReadAll::primary(at(4)), &rsp);
        assert_eq!(result.unwrap().len(), 1);
        assert_eq!(sent, vec![request::req_ud2(4, true).to_vec()]);
        assert!(!c.next_fcb(4));
        let (_, sent) = drive(&mut c, ReadAll::primary(at(4)), &rsp);
        assert_eq!(sent, vec![request::req_ud2(4, false).to_vec()]);
        assert!(drive(&mut c, AckCommand::snd_nke(at(4)), &[0xE5]).0.is_ok());
        assert!(c.next_fcb(4));
    }

    #[test]
    fn a_data_request_answered_by_an_ack_is_an_unexpected_frame() {
        let mut c = core(LinkConfig::default());
        let (result, _) = drive(&mut c, super::ops::RequestUd2::new(at(3), true), &[0xE5]);
        let err = result.unwrap_err();
        assert!(matches!(err, LinkError::UnexpectedFrame { .. }));
        assert_eq!(
            err.to_string(),
            "unexpected reply from primary address 3: expected an RSP_UD data frame, got E5"
        );
    }
}
