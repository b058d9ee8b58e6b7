//! The simulated M-Bus: virtual meters on a bit-level wired-AND line with a virtual clock.
//!
//! - Characters are 8E1 bit streams (11 bit times at the sender's rate); every sender's stream
//!   starts at its own time and all are ANDed, so identical `E5`s at the same offset read as one
//!   `E5`, different delays give extra or wrong characters, and long replies corrupt. The
//!   master's UART re-frames the line and reports parity, framing and break errors.
//! - Meters hear the master through their own UART and an FT1.2 frame receiver: a request may
//!   arrive in pieces, and an idle gap longer than the link layer's inter-character limit
//!   (11 bit times, 4.58 ms at 2400 baud) discards a partial frame.
//! - Meters answer after their own response delay; requests and timeouts advance the virtual
//!   clock instead of sleeping, so [`Master`](crate::Master) operations run as fast as the CPU.
//! - Noise flips bits at a seeded rate; a short circuit makes the converter report overload.
//! - Everything is deterministic from [`SimConfig::seed`].
//!
//! ```
//! use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig};
//! use mbus_link::{LinkConfig, ListenAfterFrame, Master, SelectOutcome};
//! use mbus_proto::address::SecondaryMask;
//!
//! let meters = Population::new(3, SerialPattern::Sequential).seed(1).build(&[]);
//! let config = LinkConfig { listen_after_frame: ListenAfterFrame::Window, ..LinkConfig::default() };
//! let mut master = Master::with_config(SimBus::new(SimConfig::default(), meters), config);
//! // All three match the wildcard and answer at different delays: a collision.
//! assert_eq!(master.select(&SecondaryMask::ALL)?, SelectOutcome::Garbled);
//! assert!(master.transport().stats().collisions >= 1);
//! # Ok::<(), mbus_link::LinkError>(())
//! ```

mod gateway;
mod line;
mod meter;
mod population;
mod receiver;
mod rng;
#[cfg(feature = "tcp")]
mod server;
pub mod templates;

pub use gateway::{Gateway, GatewayReply};
pub use line::{duration_to_ticks, ticks_to_duration, TICKS_PER_SECOND};
pub use meter::{AccessLimit, VirtualMeter, BABBLE_MAX_LEN};
pub use population::{Population, SerialPattern};
pub use rng::SimRng;
#[cfg(feature = "tcp")]
pub use server::{GatewayServer, FORWARD_SLOT};
pub use templates::TelegramTemplate;

use crate::error::{LineError, LinkError};
use crate::transport::{AsyncTransport, Received, Transport};
use core::time::Duration;
use line::{decode_all, Emission, Line, Uart};
use mbus_proto::address::BaudRate;
use mbus_proto::frame::Frame;
use receiver::{FrameReceiver, HeardFrame};

/// Why a simulator input is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// Telegram text is not hex.
    #[error("{name}: bad hex: {source}")]
    Hex {
        /// TelegramTemplate or file name.
        name: String,
        /// The hex error.
        source: mbus_proto::hex::HexError,
    },
    /// Telegram bytes are not a valid frame.
    #[error("{name}: not a valid frame: {source}")]
    Frame {
        /// TelegramTemplate or file name.
        name: String,
        /// The frame error.
        source: mbus_proto::frame::FrameError,
    },
    /// A frame is valid but not a slave's long data frame.
    #[error("{name}: not a slave data frame (long frame, RSP_UD)")]
    NotADataFrame {
        /// TelegramTemplate or file name.
        name: String,
    },
    /// Adding the "more records follow" marker would exceed the frame size.
    #[error("{name}: telegram too long to carry the 'more records follow' marker")]
    TooLong {
        /// TelegramTemplate or file name.
        name: String,
    },
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Bus-wide settings of the simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seed of every random choice (noise, silence, garbling).
    pub seed: u64,
    /// The master's initial baud rate.
    pub baud: BaudRate,
    /// Probability of each bit on the line being flipped (both directions).
    pub noise: f64,
    /// Model a level converter that echoes the master's request back to it.
    pub echo: bool,
}

impl Default for SimConfig {
    /// Seed 0, 2400 baud, no noise, no echo.
    fn default() -> Self {
        SimConfig {
            seed: 0,
            baud: BaudRate::B2400,
            noise: 0.0,
            echo: false,
        }
    }
}

/// What the simulated bus counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SimStats {
    /// Bus time on the virtual clock, nanoseconds.
    pub bus_time_ns: u64,
    /// Transmissions the master put on the bus (a request, or each piece of one a gateway
    /// forwarded as it arrived).
    pub requests: u64,
    /// Bytes the master sent.
    pub request_bytes: u64,
    /// Replies meters sent (each meter's reply counts once).
    pub replies: u64,
    /// Bytes meters sent.
    pub reply_bytes: u64,
    /// Requests answered by two or more meters at once (their replies share the line).
    pub collisions: u64,
    /// Characters the master's UART received.
    pub received_chars: u64,
    /// Of those, characters with a parity, framing or break error.
    pub line_errors: u64,
    /// Bits flipped by noise.
    pub noise_flips: u64,
}

/// One character as the master's UART received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedChar {
    /// The byte.
    pub byte: u8,
    /// Parity, framing or break error.
    pub error: Option<LineError>,
    /// Bus time at the end of its stop bit.
    pub at: Duration,
}

/// The simulated bus with its meters. Implements [`Transport`] and [`AsyncTransport`], so a
/// [`Master`](crate::Master) or [`AsyncMaster`](crate::AsyncMaster) drives it directly.
#[derive(Debug, Clone)]
pub struct SimBus {
    config: SimConfig,
    meters: Vec<VirtualMeter>,
    rng: SimRng,
    now: u64,
    baud: BaudRate,
    line: Line,
    uart: Uart,
    short_circuit: bool,
    short_from: Option<u64>,
    receivers: Vec<FrameReceiver>,
    stats: SimStats,
}

impl SimBus {
    /// A bus with these meters.
    pub fn new(config: SimConfig, meters: Vec<VirtualMeter>) -> SimBus {
        SimBus {
            rng: SimRng::new(config.seed),
            baud: config.baud,
            uart: Uart::new(config.baud, 0),
            config,
            meters,
            now: 0,
            line: Line::default(),
            short_circuit: false,
            short_from: None,
            receivers: Vec::new(),
            stats: SimStats::default(),
        }
    }

    /// Exact bus time on the virtual clock.
    pub fn bus_time(&self) -> Duration {
        ticks_to_duration(self.now)
    }

    /// The counters, with the current bus time.
    pub fn stats(&self) -> SimStats {
        SimStats {
            bus_time_ns: u64::try_from(self.bus_time().as_nanos()).unwrap_or(u64::MAX),
            ..self.stats.clone()
        }
    }

    /// The meters.
    pub fn meters(&self) -> &[VirtualMeter] {
        &self.meters
    }

    /// The meters, to change them between requests.
    pub fn meters_mut(&mut self) -> &mut Vec<VirtualMeter> {
        &mut self.meters
    }

    /// Per-meter read counts (RSP_UD telegrams sent), in meter order.
    pub fn read_counts(&self) -> Vec<u64> {
        self.meters.iter().map(VirtualMeter::reads).collect()
    }

    /// Shorts the bus (or removes the short).
    pub fn set_short_circuit(&mut self, shorted: bool) {
        self.short_circuit = shorted;
    }

    /// Shorts the bus from bus time `at` on, for good (a cable damaged during operation).
    pub fn short_circuit_from(&mut self, at: Duration) {
        self.short_from = Some(duration_to_ticks(at));
    }

    /// Whether the bus is shorted now.
    pub fn is_short_circuit(&self) -> bool {
        self.short_circuit || self.short_from.is_some_and(|at| self.now >= at)
    }

    /// Sets the bit-flip probability.
    pub fn set_noise(&mut self, rate: f64) {
        self.config.noise = rate;
    }

    /// Lets bus time pass (idle line) up to `t`; earlier times are ignored.
    pub fn advance_to(&mut self, t: Duration) {
        self.now = self.now.max(duration_to_ticks(t));
    }

    /// Puts a master request on the bus at the current bus time; meters hear it and schedule
    /// their replies. Returns the bus time at the end of the request.
    pub fn transmit(&mut self, bytes: &[u8]) -> Duration {
        let start = self.now;
        let mut request = Emission::from_bytes(bytes, start, self.baud);
        self.stats.noise_flips += request.add_noise(self.config.noise, &mut self.rng) as u64;
        let end = request.end();
        self.stats.requests += 1;
        self.stats.request_bytes += bytes.len() as u64;
        self.line.prune(self.uart.cursor());
        if self.config.echo {
            self.line.push(request.clone());
        }
        if !self.is_short_circuit() {
            self.deliver(request, end);
        }
        self.now = end;
        ticks_to_duration(end)
    }

    /// Every meter listens at its own rate: its UART decodes the request and its frame receiver
    /// assembles frames across requests (a request may arrive in pieces), forgetting a partial
    /// frame after an idle gap. Meters at the same rate hear the same characters, so they share
    /// one receiver per rate. Each meter answers the frames addressed to it.
    fn deliver(&mut self, request: Emission, end: u64) {
        let mut heard = Line::default();
        heard.push(request);
        let mut frames: Vec<(BaudRate, Vec<HeardFrame>)> = Vec::new();
        for baud in self.meters.iter().map(VirtualMeter::baud) {
            if frames.iter().any(|(b, _)| *b == baud) {
                continue;
            }
            let chars = decode_all(&heard, baud, 0, end + 11 * line::ticks_per_bit(baud));
            if !self.receivers.iter().any(|r| r.baud() == baud) {
                self.receivers.push(FrameReceiver::new(baud));
            }
            if let Some(receiver) = self.receivers.iter_mut().find(|r| r.baud() == baud) {
                frames.push((baud, receiver.hear_all(&chars)));
            }
        }
        let mut replies = 0u32;
        for meter in &mut self.meters {
            let baud = meter.baud();
            let Some((_, heard_frames)) = frames.iter().find(|(b, _)| *b == baud) else {
                continue;
            };
            for heard_frame in heard_frames {
                let Ok(frame) = Frame::parse_exact(&heard_frame.bytes) else {
                    continue;
                };
                let Some(reply) = meter.handle(&frame, heard_frame.end, &mut self.rng) else {
                    continue;
                };
                let mut emission = Emission::from_bytes(
                    &reply.bytes,
                    heard_frame.end + reply.delay_ticks,
                    reply.baud,
                );
                self.stats.noise_flips +=
                    emission.add_noise(self.config.noise, &mut self.rng) as u64;
                self.stats.replies += 1;
                self.stats.reply_bytes += reply.bytes.len() as u64;
                replies += 1;
                self.line.push(emission);
            }
        }
        if replies >= 2 {
            self.stats.collisions += 1;
        }
    }

    /// The next character the master's UART completes by `deadline`; the clock moves to its
    /// end, or to `deadline` when there is none.
    pub fn next_char(&mut self, deadline: Duration) -> Option<ReceivedChar> {
        let until = duration_to_ticks(deadline);
        match self.uart.next_char(&self.line, until) {
            Some(c) => {
                self.now = self.now.max(c.end);
                self.stats.received_chars += 1;
                if c.error.is_some() {
                    self.stats.line_errors += 1;
                }
                Some(ReceivedChar {
                    byte: c.byte,
                    error: c.error,
                    at: ticks_to_duration(c.end),
                })
            }
            None => {
                self.now = self.now.max(until);
                None
            }
        }
    }

    /// Every character still to come from the replies on the line, in order; the clock moves to
    /// the end of the last one (used to serve the bus over TCP).
    pub fn drain_replies(&mut self) -> Vec<ReceivedChar> {
        let horizon = ticks_to_duration(u64::MAX / 4);
        let mut out = Vec::new();
        let before = self.now;
        let mut last = before;
        while let Some(c) = self.next_char(horizon) {
            last = duration_to_ticks(c.at);
            out.push(c);
        }
        self.now = last.max(before);
        out
    }

    fn discard_arrived(&mut self) {
        let now = self.bus_time();
        while self
            .uart
            .next_char(&self.line, duration_to_ticks(now))
            .is_some()
        {}
    }

    fn receive_into(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        if self.is_short_circuit() {
            return Ok(Received {
                len: 0,
                error: Some(LineError::Overload),
                at: self.bus_time(),
            });
        }
        let Some(slot) = buf.first_mut() else {
            return Ok(Received {
                len: 0,
                error: None,
                at: self.bus_time(),
            });
        };
        match self.next_char(deadline) {
            Some(c) => {
                *slot = c.byte;
                Ok(Received {
                    len: 1,
                    error: c.error,
                    at: c.at,
                })
            }
            None => Ok(Received {
                len: 0,
                error: None,
                at: self.bus_time(),
            }),
        }
    }

    fn switch_baud(&mut self, baud: BaudRate) {
        self.baud = baud;
        self.uart.set_baud(baud);
    }
}

impl Transport for SimBus {
    fn now(&self) -> Duration {
        self.bus_time()
    }

    fn latency(&self) -> Duration {
        Duration::ZERO
    }

    fn baud(&self) -> BaudRate {
        self.baud
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        self.switch_baud(baud);
        Ok(())
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        self.discard_arrived();
        Ok(())
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        Ok(self.transmit(bytes))
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        self.receive_into(buf, deadline)
    }
}

/// The same bus driven from async code: every call returns at once (the clock is virtual), so
/// each one is the blocking [`Transport`] call.
impl AsyncTransport for SimBus {
    fn now(&self) -> Duration {
        Transport::now(self)
    }

    fn latency(&self) -> Duration {
        Transport::latency(self)
    }

    fn baud(&self) -> BaudRate {
        Transport::baud(self)
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        Transport::set_baud(self, baud)
    }

    async fn clear_input(&mut self) -> Result<(), LinkError> {
        Transport::clear_input(self)
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        Transport::send(self, bytes)
    }

    async fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        Transport::receive(self, buf, deadline)
    }
}
