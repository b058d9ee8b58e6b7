//! Link configuration: timing per EN 13757-2, retries, echo handling, multi-telegram limit.

use core::time::Duration;
use mbus_proto::address::BaudRate;
use mbus_proto::frame::MAX_FRAME_LEN;

/// Bit times of the slave response window (EN 13757-2: 330 bit times + 50 ms).
pub const RESPONSE_WINDOW_BITS: u32 = 330;
/// The fixed part of the response window.
pub const RESPONSE_WINDOW_EXTRA: Duration = Duration::from_millis(50);
/// Bit times per character on the wire: start, 8 data, even parity, stop.
pub const BITS_PER_CHAR: u32 = 11;

/// The duration of `bits` bit times at `baud`.
pub fn bit_times(bits: u64, baud: BaudRate) -> Duration {
    let nanos = u128::from(bits) * 1_000_000_000 / u128::from(baud.bps());
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The time `chars` characters of 11 bits occupy the line at `baud`.
pub fn char_times(chars: usize, baud: BaudRate) -> Duration {
    bit_times(chars as u64 * u64::from(BITS_PER_CHAR), baud)
}

/// The longest the master keeps receiving a garbled reply after the response window: two
/// maximum-length frames at the slowest rate. Noise or a babbling sender that never pauses for
/// an inter-character timeout holds one request at most this long.
pub fn garbled_drain_limit() -> Duration {
    char_times(2 * MAX_FRAME_LEN, BaudRate::B300)
}

/// Bounds of a latency allowance that adapts to measured round trips (TCP gateways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyBounds {
    /// The allowance never drops below this (gateway packetisation, scheduling jitter).
    pub min: Duration,
    /// The allowance never grows beyond this.
    pub max: Duration,
}

/// Added to the measured round trip for jitter between the replies' pieces.
pub const LATENCY_JITTER_MARGIN: Duration = Duration::from_millis(20);

/// How late bytes may arrive after they crossed the line: the allowance added to the response
/// and inter-character timeouts. Fixed for serial converters and the simulator; for TCP gateways
/// it follows the measured round trip (sans-IO: the master core feeds it measurements).
///
/// Adaptive rule: it starts at the transport's conservative value until a reply has been seen.
/// Each reply gives a sample: the first reply byte's arrival minus the earliest moment the line
/// could have delivered it (end of the request, plus 11 bit times, the fastest a meter may
/// answer, plus one character). The sample also holds the meter's own response time beyond 11
/// bit times, so it bounds the transport's delay from above. The estimate follows a larger
/// sample at once and a smaller one by a quarter of the difference; the allowance is the estimate plus
/// [`LATENCY_JITTER_MARGIN`], within the bounds. A request that met silence makes the next
/// attempt wait with the conservative value again (the path may have become slower).
///
/// Gaps inside a reply keep the conservative value at least
/// ([`LatencyAllowance::within_frame`]): bytes that come end the wait at once.
///
/// After a complete frame the master listens one more gap for a second sender, whose bytes
/// travel the same path as the reply's: that gap needs only the *jitter*, the spread of the
/// lateness of one reply's pieces (arrival time minus the line time of the bytes up to them),
/// estimated the same way. The allowance after a frame
/// ([`LatencyAllowance::after_frame`]) is that jitter plus the margin, within the minimum and
/// the allowance in force.
///
/// ```
/// use mbus_link::config::{LatencyAllowance, LatencyBounds};
/// use std::time::Duration;
///
/// let ms = Duration::from_millis;
/// let mut a = LatencyAllowance::adaptive(ms(250), LatencyBounds { min: ms(20), max: ms(1000) });
/// assert_eq!(a.current(), ms(250));
/// a.observe(ms(5));
/// assert_eq!(a.current(), ms(25));
/// a.observe(ms(60));
/// a.observe_jitter(ms(2));
/// assert_eq!((a.current(), a.after_frame()), (ms(80), ms(22)));
/// a.observe_silence();
/// assert_eq!(a.current(), ms(250));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyAllowance {
    initial: Duration,
    bounds: Option<LatencyBounds>,
    estimate: Option<Duration>,
    jitter: Option<Duration>,
}

/// Follows a larger sample at once and a smaller one by a quarter of the difference.
fn follow(estimate: Option<Duration>, sample: Duration) -> Duration {
    match estimate {
        Some(e) if sample < e => e - (e - sample) / 4,
        _ => sample,
    }
}

impl LatencyAllowance {
    /// A fixed allowance.
    pub fn fixed(latency: Duration) -> LatencyAllowance {
        LatencyAllowance {
            initial: latency,
            bounds: None,
            estimate: None,
            jitter: None,
        }
    }

    /// An allowance that starts at `initial` and then follows measurements within `bounds`.
    pub fn adaptive(initial: Duration, bounds: LatencyBounds) -> LatencyAllowance {
        LatencyAllowance {
            initial,
            bounds: Some(bounds),
            estimate: None,
            jitter: None,
        }
    }

    /// The allowance in force.
    pub fn current(&self) -> Duration {
        match (self.bounds, self.estimate) {
            (Some(b), Some(e)) => (e + LATENCY_JITTER_MARGIN).clamp(b.min, b.max.max(b.min)),
            _ => self.initial,
        }
    }

    /// The allowance for gaps inside a reply (before its frame is complete): never below the
    /// conservative starting value. Such a wait ends early whenever the next bytes come, so it
    /// costs time only when a reply really breaks off, while a piece of a reply that a busy
    /// gateway or network holds back must not cut the frame.
    pub fn within_frame(&self) -> Duration {
        self.current().max(self.initial)
    }

    /// The allowance for the listen after a complete frame: the measured jitter plus the
    /// margin, within the minimum and [`LatencyAllowance::current`]; the current allowance
    /// until a reply's jitter has been measured (and always for a fixed allowance).
    pub fn after_frame(&self) -> Duration {
        let current = self.current();
        match (self.bounds, self.jitter) {
            (Some(b), Some(j)) => (j + LATENCY_JITTER_MARGIN).max(b.min).min(current),
            _ => current,
        }
    }

    /// A measured round trip beyond the line (see the type's documentation).
    pub fn observe(&mut self, sample: Duration) {
        if self.bounds.is_some() {
            self.estimate = Some(follow(self.estimate, sample));
        }
    }

    /// The measured spread of the lateness of one reply's pieces.
    pub fn observe_jitter(&mut self, spread: Duration) {
        if self.bounds.is_some() {
            self.jitter = Some(follow(self.jitter, spread));
        }
    }

    /// An attempt met silence: wait with the conservative value until the next measurement.
    pub fn observe_silence(&mut self) {
        self.estimate = None;
        self.jitter = None;
    }
}

/// How the master treats a level converter that echoes the request back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EchoMode {
    /// No echo: every received byte belongs to the reply.
    Off,
    /// The converter always echoes: the request must come back first, exactly.
    On,
    /// Strip the request when the received bytes start with exactly the request (default).
    #[default]
    Auto,
}

/// What the master does after a complete, valid frame arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListenAfterFrame {
    /// Return at once.
    Return,
    /// Wait one inter-character timeout of silence, so a second sender that follows closely is
    /// seen as a collision (default).
    #[default]
    Gap,
    /// Wait until the whole response window has passed, so late replies of slower meters are seen
    /// as collisions too (for scanners; costs the full window per request).
    Window,
}

/// How often a request is repeated, separately for silence and for garbled replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Extra attempts when nothing came back.
    pub on_silence: u32,
    /// Extra attempts when the reply was garbled (a collision repeats itself: keep this low).
    pub on_garbled: u32,
}

impl Default for RetryPolicy {
    /// Two retries on silence, none on garbled replies.
    fn default() -> Self {
        RetryPolicy {
            on_silence: 2,
            on_garbled: 0,
        }
    }
}

/// When a primary-address read starts with SND_NKE, so it begins at the meter's first telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResetPolicy {
    /// Before every read.
    Always,
    /// Only when the master does not know where the meter stands in its telegram sequence
    /// (default): on first contact, after a read that failed, was interrupted or stopped at the
    /// telegram limit, after any other request to the address, after anything sent to 253, 254
    /// or 255 (selects, deselects, broadcasts) and after a baud-rate change. A read that ended
    /// cleanly on a telegram without "more records follow" leaves it known, so the next read
    /// goes without SND_NKE.
    #[default]
    WhenUnknown,
    /// Never (another master may have left a meter mid-sequence).
    Never,
}

/// Timing and behaviour of a master. `None` timing fields are derived from the baud rate and the
/// transport's latency (see [`LinkConfig::response_timeout_at`]).
///
/// ```
/// use mbus_link::LinkConfig;
/// use mbus_proto::address::BaudRate;
/// use std::time::Duration;
///
/// let config = LinkConfig::default();
/// // 330 bit times at 2400 baud = 137.5 ms, plus 50 ms.
/// assert_eq!(
///     config.response_timeout_at(BaudRate::B2400, Duration::ZERO),
///     Duration::from_micros(187_500)
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// Time from the end of the request to the first reply byte; default 330 bit times + 50 ms
    /// + the transport's latency.
    pub response_timeout: Option<Duration>,
    /// A gap longer than this ends (or cuts) a frame; default 11 bit times + the transport's latency.
    pub inter_char_timeout: Option<Duration>,
    /// Retries for silence and for garbled replies.
    pub retries: RetryPolicy,
    /// Echo suppression.
    pub echo: EchoMode,
    /// Behaviour after a complete frame.
    pub listen_after_frame: ListenAfterFrame,
    /// When a primary-address read starts with SND_NKE (default [`ResetPolicy::WhenUnknown`]).
    pub reset_policy: ResetPolicy,
    /// At most this many telegrams per multi-telegram read (default 16; at least one is read).
    pub max_telegrams: usize,
    /// Send SND_NKE to 253 right after each secondary-address read (default false). Off, the
    /// meter stays selected while secondary reads follow one another (each select deselects
    /// every meter it does not match); before any other operation the master deselects first.
    /// Call [`Master::deselect`](crate::Master::deselect) at the end of a batch of secondary
    /// reads so no meter stays selected while the master is idle.
    pub deselect_after_read: bool,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            response_timeout: None,
            inter_char_timeout: None,
            retries: RetryPolicy::default(),
            echo: EchoMode::Auto,
            listen_after_frame: ListenAfterFrame::Gap,
            reset_policy: ResetPolicy::WhenUnknown,
            max_telegrams: 16,
            deselect_after_read: false,
        }
    }
}

impl LinkConfig {
    /// The response timeout in force at `baud` over a transport with `latency`.
    pub fn response_timeout_at(&self, baud: BaudRate, latency: Duration) -> Duration {
        self.response_timeout.unwrap_or_else(|| {
            bit_times(u64::from(RESPONSE_WINDOW_BITS), baud) + RESPONSE_WINDOW_EXTRA + latency
        })
    }

    /// The inter-character timeout in force at `baud` over a transport with `latency`.
    pub fn inter_char_timeout_at(&self, baud: BaudRate, latency: Duration) -> Duration {
        self.inter_char_timeout
            .unwrap_or_else(|| bit_times(u64::from(BITS_PER_CHAR), baud) + latency)
    }
}
