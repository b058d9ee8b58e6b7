//! The bus at bit level: 8E1 bit streams of each sender, ANDed in time (wired-AND: any sender
//! pulling to space wins), and a UART that re-frames the resulting line into characters.
//!
//! Time is counted in ticks of 1/614 400 s: 16 ticks per bit at 38 400 baud, 2048 at 300 baud,
//! so every bit boundary at every M-Bus rate falls on a tick.

use super::rng::SimRng;
use crate::error::LineError;
use core::time::Duration;
use mbus_proto::address::BaudRate;

/// Ticks per second of the simulated clock.
pub const TICKS_PER_SECOND: u64 = 614_400;

/// Ticks per bit at `baud`.
pub fn ticks_per_bit(baud: BaudRate) -> u64 {
    TICKS_PER_SECOND / u64::from(baud.bps())
}

/// Ticks to a duration (rounded down to the nanosecond).
pub fn ticks_to_duration(ticks: u64) -> Duration {
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(TICKS_PER_SECOND);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// A duration to ticks (rounded up, so a deadline is never early).
pub fn duration_to_ticks(d: Duration) -> u64 {
    let ticks = (d.as_nanos() * u128::from(TICKS_PER_SECOND)).div_ceil(1_000_000_000);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// The bits one sender puts on the line, from `start`, one every `tpb` ticks.
#[derive(Debug, Clone)]
pub(crate) struct Emission {
    start: u64,
    tpb: u64,
    bits: Vec<bool>,
}

impl Emission {
    /// `bytes` as 8E1 characters back to back: start 0, 8 data bits LSB first, even parity, stop 1.
    pub(crate) fn from_bytes(bytes: &[u8], start: u64, baud: BaudRate) -> Emission {
        let mut bits = Vec::with_capacity(bytes.len() * 11);
        for &b in bytes {
            bits.push(false);
            bits.extend((0..8).map(|i| b >> i & 1 == 1));
            bits.push(b.count_ones() % 2 == 1);
            bits.push(true);
        }
        Emission {
            start,
            tpb: ticks_per_bit(baud),
            bits,
        }
    }

    /// Flips each bit with probability `rate`; returns how many flipped.
    pub(crate) fn add_noise(&mut self, rate: f64, rng: &mut SimRng) -> usize {
        if rate <= 0.0 {
            return 0;
        }
        let mut flipped = 0;
        for bit in &mut self.bits {
            if rng.chance(rate) {
                *bit = !*bit;
                flipped += 1;
            }
        }
        flipped
    }

    pub(crate) fn end(&self) -> u64 {
        self.start + self.bits.len() as u64 * self.tpb
    }

    fn index(&self, t: u64) -> Option<usize> {
        if t < self.start || t >= self.end() {
            return None;
        }
        usize::try_from((t - self.start) / self.tpb).ok()
    }

    fn level(&self, t: u64) -> bool {
        // Outside the emission (or past its bits) the sender leaves the line at mark.
        self.index(t)
            .and_then(|i| self.bits.get(i))
            .is_none_or(|&bit| bit)
    }

    /// The first time at or after `t` this sender pulls the line to space.
    fn next_low(&self, t: u64) -> Option<u64> {
        let from = if t < self.start { 0 } else { self.index(t)? };
        let i = from + self.bits.get(from..)?.iter().position(|&b| !b)?;
        Some(t.max(self.start + i as u64 * self.tpb))
    }

    /// The first time at or after `t` this sender leaves the line at mark.
    fn next_high(&self, t: u64) -> u64 {
        let Some(i) = self.index(t) else { return t };
        match self
            .bits
            .get(i..)
            .and_then(|bits| bits.iter().position(|&b| b))
        {
            Some(0) => t,
            Some(k) => self.start + (i + k) as u64 * self.tpb,
            None => self.end(),
        }
    }
}

/// The slave-to-master line: the wired-AND of every emission.
#[derive(Debug, Clone, Default)]
pub(crate) struct Line {
    emissions: Vec<Emission>,
}

impl Line {
    pub(crate) fn push(&mut self, e: Emission) {
        self.emissions.push(e);
    }

    /// Forgets emissions that ended before `t`.
    pub(crate) fn prune(&mut self, t: u64) {
        self.emissions.retain(|e| e.end() >= t);
    }

    fn level(&self, t: u64) -> bool {
        self.emissions.iter().all(|e| e.level(t))
    }

    fn next_low(&self, t: u64) -> Option<u64> {
        self.emissions.iter().filter_map(|e| e.next_low(t)).min()
    }

    fn next_high(&self, mut t: u64) -> u64 {
        loop {
            let next = self
                .emissions
                .iter()
                .map(|e| e.next_high(t))
                .max()
                .unwrap_or(t);
            if next == t {
                return t;
            }
            t = next;
        }
    }
}

/// A character as a UART delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RxChar {
    pub(crate) byte: u8,
    pub(crate) error: Option<LineError>,
    /// End of the character's stop bit.
    pub(crate) end: u64,
}

/// A receiving UART: waits for a falling edge, samples each bit in its middle.
#[derive(Debug, Clone)]
pub(crate) struct Uart {
    tpb: u64,
    cursor: u64,
    need_idle: bool,
}

impl Uart {
    pub(crate) fn new(baud: BaudRate, from: u64) -> Uart {
        Uart {
            tpb: ticks_per_bit(baud),
            cursor: from,
            need_idle: false,
        }
    }

    pub(crate) fn set_baud(&mut self, baud: BaudRate) {
        self.tpb = ticks_per_bit(baud);
    }

    /// Time up to which the line has been read.
    pub(crate) fn cursor(&self) -> u64 {
        self.cursor
    }

    /// The next character that has completely arrived by `until`, if any. Nothing is consumed
    /// when the answer is `None`, so later emissions are still taken into account.
    pub(crate) fn next_char(&mut self, line: &Line, until: u64) -> Option<RxChar> {
        loop {
            let mut t = self.cursor;
            if self.need_idle {
                t = line.next_high(t);
                if t > until {
                    return None;
                }
            }
            let s = line.next_low(t)?;
            let tpb = self.tpb;
            if s + 11 * tpb > until {
                return None;
            }
            self.need_idle = false;
            let sample = |k: u64| line.level(s + k * tpb + tpb / 2);
            if sample(0) {
                // A glitch shorter than half a bit: no start bit.
                self.cursor = s + tpb / 2;
                continue;
            }
            let mut byte = 0u8;
            for k in 0..8 {
                if sample(k + 1) {
                    byte |= 1 << k;
                }
            }
            let parity = sample(9);
            let stop = sample(10);
            let error = if !stop && byte == 0 && !parity {
                Some(LineError::Break)
            } else if !stop {
                Some(LineError::Framing)
            } else if (byte.count_ones() % 2 == 1) != parity {
                Some(LineError::Parity)
            } else {
                None
            };
            self.cursor = s + 10 * tpb + tpb / 2;
            self.need_idle = !stop;
            return Some(RxChar {
                byte,
                error,
                end: s + 11 * tpb,
            });
        }
    }
}

/// Decodes a whole line with a UART at `baud` (what a meter hears of a request).
pub(crate) fn decode_all(line: &Line, baud: BaudRate, from: u64, until: u64) -> Vec<RxChar> {
    let mut uart = Uart::new(baud, from);
    std::iter::from_fn(|| uart.next_char(line, until)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(parts: &[(&[u8], u64, BaudRate)]) -> Line {
        let mut line = Line::default();
        for &(bytes, start, baud) in parts {
            line.push(Emission::from_bytes(bytes, start, baud));
        }
        line
    }

    fn bytes(chars: &[RxChar]) -> Vec<u8> {
        chars.iter().map(|c| c.byte).collect()
    }

    #[test]
    fn a_clean_stream_decodes_to_itself_at_every_rate() {
        for baud in BaudRate::ALL {
            let data = [0x68, 0x03, 0x03, 0x68, 0x53, 0xFE, 0xBD, 0x00, 0xFF, 0x16];
            let chars = decode_all(&line_of(&[(&data, 100, baud)]), baud, 0, u64::MAX / 2);
            assert_eq!(bytes(&chars), data);
            assert!(chars.iter().all(|c| c.error.is_none()));
            assert_eq!(
                chars.last().unwrap().end,
                100 + 11 * 10 * ticks_per_bit(baud)
            );
        }
    }

    #[test]
    fn identical_acks_at_the_same_offset_read_as_one() {
        let b = BaudRate::B2400;
        let chars = decode_all(&line_of(&[(&[0xE5], 0, b), (&[0xE5], 0, b)]), b, 0, 1 << 40);
        assert_eq!(bytes(&chars), [0xE5]);
        assert_eq!(chars[0].error, None);
    }

    #[test]
    fn acks_offset_by_some_bits_are_anded() {
        let b = BaudRate::B2400;
        let tpb = ticks_per_bit(b);
        // Offset of 3 bits: the second character's bits AND into the first.
        let chars = decode_all(
            &line_of(&[(&[0xE5], 0, b), (&[0xE5], 3 * tpb, b)]),
            b,
            0,
            1 << 40,
        );
        assert!(chars.iter().any(|c| c.byte != 0xE5 || c.error.is_some()));
    }

    #[test]
    fn a_line_held_low_reads_as_break() {
        let b = BaudRate::B2400;
        let chars = decode_all(&line_of(&[(&[0x00, 0x00], 0, b)]), b, 0, 1 << 40);
        // 0x00 has even parity 0 and a stop bit 1: valid characters.
        assert_eq!(bytes(&chars), [0, 0]);
        let mut stuck = Emission::from_bytes(&[0x00], 0, b);
        stuck.bits = vec![false; 40];
        let mut line = Line::default();
        line.push(stuck);
        let chars = decode_all(&line, b, 0, 1 << 40);
        assert_eq!(chars[0].error, Some(LineError::Break));
    }

    proptest::proptest! {
        #[test]
        fn any_clean_stream_decodes_to_itself(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..80),
            rate in 0usize..8,
            start in 0u64..100_000,
        ) {
            let baud = BaudRate::ALL[rate];
            let chars = decode_all(&line_of(&[(&data, start, baud)]), baud, 0, u64::MAX / 2);
            proptest::prop_assert_eq!(bytes(&chars), data);
        }

        #[test]
        fn identical_streams_at_the_same_offset_read_as_one(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..80),
            start in 0u64..100_000,
        ) {
            let b = BaudRate::B2400;
            let chars = decode_all(&line_of(&[(&data, start, b), (&data, start, b)]), b, 0, u64::MAX / 2);
            proptest::prop_assert_eq!(bytes(&chars), data);
        }

        #[test]
        fn offset_streams_never_read_as_the_first_alone(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 20..80),
            offset_bits in 1u64..300,
        ) {
            let b = BaudRate::B2400;
            let tpb = ticks_per_bit(b);
            let other: Vec<u8> = data.iter().map(|x| x.wrapping_add(1)).collect();
            let line = line_of(&[(&data, 0, b), (&other, offset_bits * tpb, b)]);
            let chars = decode_all(&line, b, 0, u64::MAX / 2);
            let clean = chars.iter().all(|c| c.error.is_none());
            proptest::prop_assert!(!(clean && bytes(&chars) == data));
        }
    }

    #[test]
    fn tick_conversions_round_trip() {
        assert_eq!(ticks_per_bit(BaudRate::B300), 2048);
        assert_eq!(ticks_per_bit(BaudRate::B38400), 16);
        assert_eq!(duration_to_ticks(Duration::from_millis(50)), 30_720);
        assert_eq!(ticks_to_duration(614_400), Duration::from_secs(1));
    }
}
