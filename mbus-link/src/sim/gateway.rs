//! Serving the simulated bus behind a byte stream, as a transparent M-Bus gateway or a serial
//! device does: request bytes in, reply bytes out with the bus time they finish arriving.

use super::{ReceivedChar, SimBus};
use core::time::Duration;
use mbus_proto::frame::{Frame, Parsed};

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

/// A simulated bus behind a byte stream. Bytes are collected until they form a frame (or can no
/// longer become one, then they go on the bus as they are); each request is put on the bus at
/// the given time and the replies are returned.
///
/// ```
/// use mbus_link::sim::{Gateway, SimBus, SimConfig, VirtualMeter, templates};
/// use mbus_proto::request;
/// use std::time::Duration;
///
/// let meter = VirtualMeter::new(1, "00000001C5140B04".parse()?, templates::synthetic(0));
/// let mut gateway = Gateway::new(SimBus::new(SimConfig::default(), vec![meter]));
/// let nke = request::snd_nke(1);
/// assert!(gateway.feed(&nke[..2], Duration::ZERO).is_empty()); // incomplete: wait
/// let replies = gateway.feed(&nke[2..], Duration::from_millis(5));
/// assert_eq!(replies[0].bytes(), [0xE5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gateway {
    bus: SimBus,
    pending: Vec<u8>,
}

impl Gateway {
    /// Serves `bus`.
    pub fn new(bus: SimBus) -> Gateway {
        Gateway {
            bus,
            pending: Vec::new(),
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

    /// Bytes from the master arriving at bus time `now`; returns the replies of every request
    /// they completed.
    pub fn feed(&mut self, bytes: &[u8], now: Duration) -> Vec<GatewayReply> {
        self.pending.extend_from_slice(bytes);
        self.bus.advance_to(now);
        let mut replies = Vec::new();
        loop {
            let take = match Frame::parse(&self.pending) {
                Ok(Parsed::Complete { consumed, .. }) => consumed,
                Ok(Parsed::Incomplete { .. }) => break,
                Err(_) => self.pending.len(),
            };
            let request: Vec<u8> = self.pending.drain(..take).collect();
            self.bus.advance_to(now);
            let end = self.bus.transmit(&request);
            replies.push(GatewayReply {
                chars: self.bus.drain_replies(),
                request_end: end,
            });
        }
        replies
    }
}
