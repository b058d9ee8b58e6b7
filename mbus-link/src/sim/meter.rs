//! A virtual meter: addresses, baud rate, select state, FCB, telegrams, commands, faults.

use super::line::{duration_to_ticks, ticks_per_bit};
use super::rng::SimRng;
use super::templates::TelegramTemplate;
use core::time::Duration;
use mbus_proto::address::{
    BaudRate, SecondaryAddress, SecondaryMask, BROADCAST_NO_REPLY, BROADCAST_REPLY,
    SELECTED_ADDRESS,
};
use mbus_proto::frame::{Control, Frame};
use mbus_proto::request;

/// Battery meters allow only so many readouts per period, then stay silent until the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessLimit {
    /// Readouts (REQ_UD2 answered) per period.
    pub reads: u32,
    /// Length of a period on the bus clock (periods start at bus time 0).
    pub period: Duration,
}

/// A simulated slave.
///
/// ```
/// use mbus_link::sim::{templates, VirtualMeter};
/// use mbus_proto::address::BaudRate;
///
/// let meter = VirtualMeter::new(1, "00001234C5140B04".parse()?, templates::synthetic(0))
///     .with_baud(BaudRate::B9600)
///     .with_response_delay(50);
/// assert_eq!(meter.primary(), 1);
/// assert_eq!(meter.baud(), BaudRate::B9600);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct VirtualMeter {
    primary: u8,
    secondary: SecondaryAddress,
    baud: BaudRate,
    delay_bits: u32,
    template: TelegramTemplate,
    access_limit: Option<AccessLimit>,
    silence_rate: f64,
    garble_rate: f64,
    babbling: bool,
    // State.
    selected: bool,
    last_fcb: Option<bool>,
    current: usize,
    sent_any: bool,
    access_number: u8,
    reads: u64,
    period: u64,
    period_reads: u32,
}

/// The longest burst a babbling meter sends.
pub const BABBLE_MAX_LEN: u64 = 40;

/// What a meter puts on the bus in reply, and at which rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MeterReply {
    pub(crate) bytes: Vec<u8>,
    pub(crate) baud: BaudRate,
    /// Start of the reply after the end of the request, in ticks.
    pub(crate) delay_ticks: u64,
}

impl VirtualMeter {
    /// A meter at 2400 baud answering after 33 bit times, never silent, no access limit.
    pub fn new(
        primary: u8,
        secondary: SecondaryAddress,
        template: TelegramTemplate,
    ) -> VirtualMeter {
        VirtualMeter {
            primary,
            secondary,
            baud: BaudRate::B2400,
            delay_bits: 33,
            template,
            access_limit: None,
            silence_rate: 0.0,
            garble_rate: 0.0,
            babbling: false,
            selected: false,
            last_fcb: None,
            current: 0,
            sent_any: false,
            access_number: 0,
            reads: 0,
            period: 0,
            period_reads: 0,
        }
    }

    /// The rate the meter talks at.
    pub fn with_baud(mut self, baud: BaudRate) -> VirtualMeter {
        self.baud = baud;
        self
    }

    /// Response delay in bit times after the end of a request (clamped to 11…330).
    pub fn with_response_delay(mut self, bits: u32) -> VirtualMeter {
        self.delay_bits = bits.clamp(11, 330);
        self
    }

    /// Stop answering REQ_UD2 after `reads` readouts per `period`.
    pub fn with_access_limit(mut self, reads: u32, period: Duration) -> VirtualMeter {
        self.access_limit = Some(AccessLimit { reads, period });
        self
    }

    /// Ignore each request with probability `rate`.
    pub fn with_silence_rate(mut self, rate: f64) -> VirtualMeter {
        self.silence_rate = rate;
        self
    }

    /// Corrupt each reply (one flipped bit in its checksum) with probability `rate`.
    pub fn with_garble_rate(mut self, rate: f64) -> VirtualMeter {
        self.garble_rate = rate;
        self
    }

    /// A faulty meter that answers every frame it hears, whatever the address, with 1 to
    /// [`BABBLE_MAX_LEN`] random bytes after its response delay: its noise lands on top of the
    /// addressed meter's reply or where silence was expected.
    pub fn with_babbling(mut self) -> VirtualMeter {
        self.babbling = true;
        self
    }

    /// Whether the meter babbles (see [`VirtualMeter::with_babbling`]).
    pub fn is_babbling(&self) -> bool {
        self.babbling
    }

    /// Primary address.
    pub fn primary(&self) -> u8 {
        self.primary
    }

    /// Secondary address.
    pub fn secondary(&self) -> SecondaryAddress {
        self.secondary
    }

    /// Replaces the secondary address.
    pub fn set_secondary(&mut self, secondary: SecondaryAddress) {
        self.secondary = secondary;
    }

    /// Replaces the primary address.
    pub fn set_primary(&mut self, primary: u8) {
        self.primary = primary;
    }

    /// Current baud rate.
    pub fn baud(&self) -> BaudRate {
        self.baud
    }

    /// Response delay in bit times.
    pub fn response_delay(&self) -> u32 {
        self.delay_bits
    }

    /// Whether the meter is selected (answers address 253).
    pub fn is_selected(&self) -> bool {
        self.selected
    }

    /// How many RSP_UD telegrams the meter has sent.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// The telegram template.
    pub fn template(&self) -> &TelegramTemplate {
        &self.template
    }

    /// The telegrams exactly as this meter sends them now (addresses filled in, checksums
    /// computed), for comparison in tests.
    pub fn telegrams(&self) -> Vec<Vec<u8>> {
        (0..self.template.bodies.len())
            .filter_map(|i| self.render(i, self.access_number))
            .collect()
    }

    fn render(&self, index: usize, access_number: u8) -> Option<Vec<u8>> {
        let body = self.template.bodies.get(index)?;
        let mut data = body.data.clone();
        if matches!(body.ci, 0x72 | 0x76) {
            if let Some(head) = data.get_mut(..9) {
                let [i0, i1, i2, i3, m0, m1, version, medium] = self.secondary.to_bytes();
                head.copy_from_slice(&[i0, i1, i2, i3, m0, m1, version, medium, access_number]);
            }
        }
        request::rsp_ud(self.primary, body.ci, &data)
            .ok()
            .map(|f| f.to_vec())
    }

    fn reset_link(&mut self) {
        self.last_fcb = None;
        self.sent_any = false;
        self.current = 0;
    }

    fn addressed(&self, address: u8) -> bool {
        (address == self.primary && address <= 250)
            || (address == SELECTED_ADDRESS && self.selected)
            || address == BROADCAST_REPLY
            || address == BROADCAST_NO_REPLY
    }

    /// Handles a frame heard on the bus at bus time `now` (ticks); returns the reply, if any.
    pub(crate) fn handle(
        &mut self,
        frame: &Frame<'_>,
        now: u64,
        rng: &mut SimRng,
    ) -> Option<MeterReply> {
        let address = frame.address()?;
        let control = frame.control()?;
        if !control.is_from_master() {
            return None;
        }
        let reply_baud = self.baud;
        let delay_ticks = u64::from(self.delay_bits) * ticks_per_bit(reply_baud);
        if self.babbling {
            let len = rng.range(1, BABBLE_MAX_LEN);
            return Some(MeterReply {
                bytes: (0..len).map(|_| rng.next_u64() as u8).collect(),
                baud: reply_baud,
                delay_ticks,
            });
        }
        let bytes = match *frame {
            Frame::Short { .. } if control.function() == Control::SND_NKE.function() => {
                if !self.addressed(address) {
                    return None;
                }
                self.reset_link();
                if address == SELECTED_ADDRESS {
                    self.selected = false;
                }
                request::ack().to_vec()
            }
            Frame::Short { .. } if control.function() == Control::REQ_UD2.function() => {
                if !self.addressed(address) || !self.access_granted(now) {
                    return None;
                }
                self.next_telegram(control)?
            }
            Frame::Short { .. } if control.function() == Control::REQ_UD1.function() => {
                if !self.addressed(address) {
                    return None;
                }
                request::ack().to_vec()
            }
            Frame::Long {
                ci: request::CI_SELECT,
                data,
                ..
            } if address == SELECTED_ADDRESS => {
                let mask: [u8; 8] = data.try_into().ok()?;
                let matches = SecondaryMask::from_bytes(mask).matches(&self.secondary);
                self.selected = matches;
                if !matches {
                    return None;
                }
                self.reset_link();
                request::ack().to_vec()
            }
            Frame::Control { ci, .. } | Frame::Long { ci, .. }
                if control.function() == Control::SND_UD.function() =>
            {
                if !self.addressed(address) {
                    return None;
                }
                let data = match *frame {
                    Frame::Long { data, .. } => data,
                    _ => &[],
                };
                self.command(ci, data);
                request::ack().to_vec()
            }
            _ => return None,
        };
        if address == BROADCAST_NO_REPLY || rng.chance(self.silence_rate) {
            return None;
        }
        if bytes.len() > 1 {
            // An RSP_UD telegram goes out (acknowledgements are one byte).
            self.reads += 1;
        }
        let mut bytes = bytes;
        if rng.chance(self.garble_rate) {
            let last = bytes
                .len()
                .saturating_sub(if bytes.len() > 1 { 2 } else { 1 });
            if let Some(b) = bytes.get_mut(last) {
                *b ^= 1 << rng.range(0, 7);
            }
        }
        Some(MeterReply {
            bytes,
            baud: reply_baud,
            delay_ticks,
        })
    }

    /// SND_UD commands: application reset, baud switch, set address, other data.
    fn command(&mut self, ci: u8, data: &[u8]) {
        if ci == request::CI_APPLICATION_RESET {
            self.reset_link();
        } else if let Some(baud) = BaudRate::from_switch_ci(ci) {
            // The acknowledgement still goes out at the old rate (the reply baud is taken first).
            self.baud = baud;
        } else if ci == request::CI_DATA_SEND {
            if let [0x01, request::VIF_BUS_ADDRESS, new] = *data {
                self.primary = new;
            }
        }
    }

    fn access_granted(&mut self, now: u64) -> bool {
        let Some(limit) = self.access_limit else {
            return true;
        };
        let period_ticks = duration_to_ticks(limit.period).max(1);
        let period = now / period_ticks;
        if period != self.period {
            self.period = period;
            self.period_reads = 0;
        }
        if self.period_reads >= limit.reads {
            return false;
        }
        self.period_reads += 1;
        true
    }

    /// FCB handling: repeat the last telegram when FCB did not toggle, advance when it did.
    fn next_telegram(&mut self, control: Control) -> Option<Vec<u8>> {
        let count = self.template.bodies.len();
        let repeat = control.fcv() && self.sent_any && self.last_fcb == Some(control.fcb());
        if !repeat {
            if self.sent_any && control.fcv() {
                self.current = (self.current + 1) % count;
            }
            self.access_number = self.access_number.wrapping_add(1);
        }
        if control.fcv() {
            self.last_fcb = Some(control.fcb());
        }
        self.sent_any = true;
        self.render(self.current, self.access_number)
    }
}
