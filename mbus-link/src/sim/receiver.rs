//! The FT1.2 frame receiver behind a meter's UART: characters in, complete frames out.
//!
//! Characters of one frame follow each other without a pause. An idle gap longer than the
//! inter-character limit the link layer uses (one character time, 11 bit times: 4.58 ms at
//! 2400 baud) ends whatever was being assembled, so a partial frame or a burst of garbage is
//! forgotten once the line has been quiet that long, and the next request is heard on its own.
//! A character with a parity or framing error, or bytes that cannot become a frame, discard the
//! frame being assembled; the receiver then hunts for the next start character.

use super::line::{duration_to_ticks, ticks_per_bit, RxChar};
use crate::config::{LinkConfig, BITS_PER_CHAR};
use core::time::Duration;
use mbus_proto::address::BaudRate;
use mbus_proto::frame::{Frame, Parsed};

/// A frame the receiver assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeardFrame {
    /// The frame's bytes.
    pub(crate) bytes: Vec<u8>,
    /// Bus time (ticks) at the end of its last character.
    pub(crate) end: u64,
}

/// One receiver at one baud rate.
#[derive(Debug, Clone)]
pub(crate) struct FrameReceiver {
    baud: BaudRate,
    /// One character time in ticks.
    char_ticks: u64,
    /// The longest idle gap inside a frame, in ticks.
    max_gap: u64,
    buf: Vec<u8>,
    last_end: Option<u64>,
}

/// The longest idle gap (ticks) allowed between two characters of one frame at `baud`: the
/// link layer's inter-character limit without transport latency.
pub(crate) fn max_gap_ticks(baud: BaudRate) -> u64 {
    duration_to_ticks(LinkConfig::default().inter_char_timeout_at(baud, Duration::ZERO))
}

impl FrameReceiver {
    /// An idle receiver listening at `baud`.
    pub(crate) fn new(baud: BaudRate) -> FrameReceiver {
        FrameReceiver {
            baud,
            char_ticks: u64::from(BITS_PER_CHAR) * ticks_per_bit(baud),
            max_gap: max_gap_ticks(baud),
            buf: Vec::new(),
            last_end: None,
        }
    }

    /// The rate it listens at.
    pub(crate) fn baud(&self) -> BaudRate {
        self.baud
    }

    /// Takes one character; returns the frame it completed, if any.
    pub(crate) fn hear(&mut self, c: &RxChar) -> Option<HeardFrame> {
        let start = c.end.saturating_sub(self.char_ticks);
        if self
            .last_end
            .is_some_and(|last| start > last + self.max_gap)
        {
            self.buf.clear();
        }
        self.last_end = Some(c.end);
        if c.error.is_some() {
            self.buf.clear();
            return None;
        }
        self.buf.push(c.byte);
        match Frame::parse(&self.buf) {
            Ok(Parsed::Complete { consumed, .. }) => Some(HeardFrame {
                bytes: self.buf.drain(..consumed).collect(),
                end: c.end,
            }),
            Ok(Parsed::Incomplete { .. }) => None,
            Err(_) => {
                self.buf.clear();
                None
            }
        }
    }

    /// Every frame the characters complete, in order.
    pub(crate) fn hear_all(&mut self, chars: &[RxChar]) -> Vec<HeardFrame> {
        chars.iter().filter_map(|c| self.hear(c)).collect()
    }

    /// Clean characters of `bytes` sent back to back from `start` at this receiver's rate.
    pub(crate) fn chars_of(&self, bytes: &[u8], start: u64) -> Vec<RxChar> {
        bytes
            .iter()
            .zip(1u64..)
            .map(|(&byte, k)| RxChar {
                byte,
                error: None,
                end: start + k * self.char_ticks,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::LineError;
    use mbus_proto::request;

    const B: BaudRate = BaudRate::B2400;

    fn char_ticks() -> u64 {
        11 * ticks_per_bit(B)
    }

    #[test]
    fn the_limit_is_eleven_bit_times() {
        assert_eq!(max_gap_ticks(B), 11 * ticks_per_bit(B));
        assert_eq!(max_gap_ticks(BaudRate::B300), 11 * 2048);
    }

    #[test]
    fn a_request_split_without_a_gap_is_one_frame() {
        let req = request::req_ud2(1, true);
        let mut rx = FrameReceiver::new(B);
        let chars = rx.chars_of(&req, 0);
        assert!(rx.hear_all(&chars[..2]).is_empty());
        let frames = rx.hear_all(&chars[2..]);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].bytes, req.to_vec());
        assert_eq!(frames[0].end, req.len() as u64 * char_ticks());
    }

    #[test]
    fn a_gap_longer_than_the_limit_drops_the_partial_frame() {
        let req = request::req_ud2(1, true);
        let mut rx = FrameReceiver::new(B);
        let partial = rx.chars_of(&req[..2], 0);
        assert!(rx.hear_all(&partial).is_empty());
        // Exactly the limit: still the same frame, so the request is swallowed.
        let at_limit = 2 * char_ticks() + max_gap_ticks(B);
        let mut same = rx.clone();
        let chars = same.chars_of(&req, at_limit);
        assert!(same.hear_all(&chars).is_empty());
        // One tick more: the partial frame is forgotten and the request is heard.
        let chars = rx.chars_of(&req, at_limit + 1);
        let frames = rx.hear_all(&chars);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].bytes, req.to_vec());
    }

    #[test]
    fn a_bad_character_discards_the_frame() {
        let req = request::snd_nke(5);
        let mut rx = FrameReceiver::new(B);
        let mut chars = rx.chars_of(&req, 0);
        chars[2].error = Some(LineError::Parity);
        assert!(rx.hear_all(&chars).is_empty());
        let again = rx.chars_of(&req, chars[4].end);
        assert_eq!(rx.hear_all(&again).len(), 1);
    }
}
