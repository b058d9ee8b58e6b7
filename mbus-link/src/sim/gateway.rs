//! Serving the simulated bus behind a byte stream, as a transparent M-Bus gateway or a serial
//! device does: request bytes in, reply bytes out with the bus time they finish arriving.

use super::line::duration_to_ticks;
use super::receiver::FrameReceiver;
use super::{ReceivedChar, SimBus};
use core::time::Duration;
use mbus_proto::address::{BaudRate, BROADCAST_NO_REPLY, BROADCAST_REPLY};
use mbus_proto::frame::{Control, Frame};

/// What the bus sent back to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayReply {
    /// Reply characters as the master's UART received them, with their arrival times
    /// (characters with line errors included).
    pub chars: Vec<ReceivedChar>,
    /// Bus time when the request had been sent.
    pub request_end: Duration,
}

impl GatewayReply {
    /// The reply bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.chars.iter().map(|c| c.byte).collect()
    }

    /// The reply in pieces of at most `slot` bus time each, with the time the piece's last byte
    /// arrived: what a gateway forwarding in real time writes, and when.
    pub fn pieces(&self, slot: Duration) -> Vec<(Duration, Vec<u8>)> {
        let mut out: Vec<(Duration, Vec<u8>)> = Vec::new();
        let mut piece_start = Duration::ZERO;
        for c in &self.chars {
            match out.last_mut() {
                Some((at, bytes)) if c.at <= piece_start + slot => {
                    *at = c.at;
                    bytes.push(c.byte);
                }
                _ => {
                    piece_start = c.at;
                    out.push((c.at, vec![c.byte]));
                }
            }
        }
        out
    }
}

/// A simulated bus behind a byte stream, as a transparent gateway: bytes from the master go on
/// the bus as they arrive (back to back when they arrive faster than the line carries them), so
/// a request split over several pieces is one frame on the bus while a pause longer than the
/// meters' inter-character limit cuts it, exactly as on copper. The replies and echoes the bus
/// carries back are returned.
///
/// The line follows a baud switch of the whole bus: after a SND_UD with CI 0xB8–0xBF to the
/// broadcast addresses (254, 255) the gateway talks at the new rate, as a master does after
/// switching every meter. Switching one meter leaves the line for the others where it is.
///
/// ```
/// use mbus_link::sim::{Gateway, SimBus, SimConfig, VirtualMeter, templates};
/// use mbus_proto::request;
/// use std::time::Duration;
///
/// let meter = VirtualMeter::new(1, "00000001C5140B04".parse()?, templates::synthetic(0));
/// let mut gateway = Gateway::new(SimBus::new(SimConfig::default(), vec![meter]));
/// let nke = request::snd_nke(1);
/// assert!(gateway.feed(&nke[..2], Duration::ZERO).is_none()); // incomplete: nothing back
/// let reply = gateway.feed(&nke[2..], Duration::from_millis(5));
/// assert_eq!(reply.map(|r| r.bytes()), Some(vec![0xE5]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gateway {
    bus: SimBus,
    /// Follows the master's own frames, to notice baud switches.
    monitor: FrameReceiver,
}

impl Gateway {
    /// Serves `bus`.
    pub fn new(bus: SimBus) -> Gateway {
        Gateway {
            monitor: FrameReceiver::new(bus.baud),
            bus,
        }
    }

    /// The bus.
    pub fn bus(&self) -> &SimBus {
        &self.bus
    }

    /// The bus, mutably.
    pub fn bus_mut(&mut self) -> &mut SimBus {
        &mut self.bus
    }

    /// Bytes from the master arriving at bus time `now` go on the bus; returns what came back
    /// (replies, echo), or `None` when nothing did.
    pub fn feed(&mut self, bytes: &[u8], now: Duration) -> Option<GatewayReply> {
        if bytes.is_empty() {
            return None;
        }
        self.bus.advance_to(now);
        if self.monitor.baud() != self.bus.baud {
            self.monitor = FrameReceiver::new(self.bus.baud);
        }
        let start = duration_to_ticks(self.bus.bus_time());
        let request_end = self.bus.transmit(bytes);
        let chars = self.bus.drain_replies();
        let sent = self.monitor.chars_of(bytes, start);
        for heard in self.monitor.hear_all(&sent) {
            if let Some(baud) = baud_switch(&heard.bytes) {
                self.bus.switch_baud(baud);
                self.monitor = FrameReceiver::new(baud);
            }
        }
        (!chars.is_empty()).then_some(GatewayReply { chars, request_end })
    }
}

/// The new rate a master frame commands the whole bus to, if it is a broadcast baud switch.
fn baud_switch(bytes: &[u8]) -> Option<BaudRate> {
    match Frame::parse_exact(bytes).ok()? {
        Frame::Control {
            control,
            address,
            ci,
        }
        | Frame::Long {
            control,
            address,
            ci,
            ..
        } if control.is_from_master()
            && control.function() == Control::SND_UD.function()
            && matches!(address, BROADCAST_REPLY | BROADCAST_NO_REPLY) =>
        {
            BaudRate::from_switch_ci(ci)
        }
        _ => None,
    }
}
