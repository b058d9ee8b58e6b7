//! A small behavioural model of a bus for the algorithms' unit tests: meters match selects,
//! equal response delays give one clean `E5`, different ones garble; scripted noise and missed
//! requests; time counted in characters and response windows.

use crate::bus::{Listen, ReadReply, ScanBus, SelectReply};
use core::convert::Infallible;
use core::time::Duration;
use mbus_link::config::{bit_times, char_times, RESPONSE_WINDOW_BITS, RESPONSE_WINDOW_EXTRA};
use mbus_link::ReplyFrame;
use mbus_proto::address::{BaudRate, LinkAddress, SecondaryAddress, SecondaryMask};
use mbus_proto::request;

pub(crate) struct ModelMeter {
    pub address: SecondaryAddress,
    pub primary: u8,
    pub baud: BaudRate,
    /// Response delay in bit times; equal delays make `E5`s overlap exactly.
    pub delay_bits: u32,
    /// Which of the requests meant for it (1 = the first) this meter ignores.
    pub misses: Vec<u32>,
    heard: u32,
    /// False for a meter that acknowledges selects but never answers REQ_UD2.
    pub readable: bool,
}

impl ModelMeter {
    pub fn new(address: &str, delay_bits: u32) -> ModelMeter {
        ModelMeter {
            address: address.parse().expect("valid test address"),
            primary: 0,
            baud: BaudRate::B2400,
            delay_bits,
            misses: Vec::new(),
            heard: 0,
            readable: true,
        }
    }

    fn telegram(&self) -> ReplyFrame {
        let mut data = self.address.to_bytes().to_vec();
        data.extend_from_slice(&[0x01, 0x00, 0x00, 0x00, 0x04, 0x13, 0x2A, 0x00, 0x00, 0x00]);
        let frame = request::rsp_ud(self.primary, 0x72, &data).expect("small frame");
        ReplyFrame::new(frame.to_vec()).expect("valid frame")
    }
}

pub(crate) struct ModelBus {
    pub meters: Vec<ModelMeter>,
    selected: Vec<bool>,
    baud: BaudRate,
    now: Duration,
    requests: u64,
    /// Request numbers (1-based) whose reply noise garbles.
    pub noise: Vec<u64>,
    /// (request number, meter index): noise on that request keeps that meter from hearing it.
    pub deaf: Vec<(u64, usize)>,
}

impl ModelBus {
    pub fn new(meters: Vec<ModelMeter>) -> ModelBus {
        let selected = vec![false; meters.len()];
        ModelBus {
            meters,
            selected,
            baud: BaudRate::B2400,
            now: Duration::ZERO,
            requests: 0,
            noise: Vec::new(),
            deaf: Vec::new(),
        }
    }

    fn window(&self) -> Duration {
        bit_times(u64::from(RESPONSE_WINDOW_BITS), self.baud) + RESPONSE_WINDOW_EXTRA
    }

    /// Indices of the meters that hear this request and would answer.
    fn hearing(&mut self, wants: impl Fn(usize, &ModelMeter) -> bool) -> Vec<usize> {
        let mut out = Vec::new();
        for i in 0..self.meters.len() {
            if self.meters[i].baud != self.baud || !wants(i, &self.meters[i]) {
                continue;
            }
            let m = &mut self.meters[i];
            m.heard += 1;
            if m.misses.contains(&m.heard) || self.deaf.contains(&(self.requests, i)) {
                continue;
            }
            out.push(i);
        }
        out
    }

    /// Advances the clock over the reply and the listening after it; returns true if noise hit.
    fn reply_time(&mut self, answering: &[usize], chars: usize, listen: Listen) -> bool {
        let noisy = self.noise.contains(&self.requests);
        let window = self.window();
        let first = answering.iter().map(|&i| self.meters[i].delay_bits).min();
        let Some(first) = first else {
            self.now += match listen {
                Listen::Linger(t) => t,
                _ => window,
            };
            return noisy;
        };
        let end = bit_times(u64::from(first), self.baud) + char_times(chars, self.baud);
        self.now += match listen {
            Listen::Gap => end,
            Listen::Window => end.max(window),
            Listen::Linger(t) => end + t,
        };
        noisy
    }
}

impl ScanBus for ModelBus {
    type Error = Infallible;

    fn baud(&self) -> BaudRate {
        self.baud
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), Infallible> {
        self.baud = baud;
        Ok(())
    }

    fn select(&mut self, mask: &SecondaryMask, listen: Listen) -> Result<SelectReply, Infallible> {
        self.requests += 1;
        self.now += char_times(17, self.baud);
        // Meters that do not match deselect themselves; a matching meter may miss the request.
        for (i, m) in self.meters.iter().enumerate() {
            if m.baud == self.baud && !mask.matches(&m.address) {
                self.selected[i] = false;
            }
        }
        let acks = self.hearing(|_, m| mask.matches(&m.address));
        for &i in &acks {
            self.selected[i] = true;
        }
        let noisy = self.reply_time(&acks, 1, listen);
        let delays: Vec<u32> = acks.iter().map(|&i| self.meters[i].delay_bits).collect();
        Ok(match delays.first() {
            _ if noisy => SelectReply::Garbled,
            None => SelectReply::Silent,
            Some(d) if delays.iter().all(|x| x == d) => SelectReply::Ack,
            Some(_) => SelectReply::Garbled,
        })
    }

    fn read(
        &mut self,
        address: LinkAddress,
        _fcb: bool,
        listen: Listen,
    ) -> Result<ReadReply, Infallible> {
        self.requests += 1;
        self.now += char_times(5, self.baud);
        let selected = self.selected.clone();
        let answering = self.hearing(|i, m| {
            m.readable
                && match address {
                    LinkAddress::Selected => selected[i],
                    other => m.primary == other.byte(),
                }
        });
        let telegram = answering.first().map(|&i| self.meters[i].telegram());
        let chars = telegram.as_ref().map_or(0, |t| t.bytes().len());
        let noisy = self.reply_time(&answering, chars, listen);
        Ok(match telegram {
            _ if noisy => ReadReply::Garbled,
            None => ReadReply::Silent,
            Some(t) if answering.len() == 1 => ReadReply::Telegram(t),
            Some(_) => ReadReply::Garbled,
        })
    }

    fn elapsed(&self) -> Duration {
        self.now
    }

    fn longest_exchange(&self, baud: BaudRate) -> Duration {
        char_times(17 + mbus_proto::frame::MAX_FRAME_LEN, baud)
            + bit_times(u64::from(RESPONSE_WINDOW_BITS), baud)
            + RESPONSE_WINDOW_EXTRA
    }
}
