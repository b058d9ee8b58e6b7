//! Raw byte access for a transparent level converter: the bytes a PC program sends go on the bus
//! unchanged, and whatever the line carries back (replies, echoes, collisions, line errors) is
//! handed on as it arrives. Nothing is parsed; the program on the other end is the master.
//!
//! The only decision taken here is when an exchange is over: the reply window of the standard
//! (330 bit times + 50 ms, plus the transport's latency) after the request has left, and then as
//! long as characters keep coming with pauses shorter than the inter-character timeout. An echo
//! of the request therefore never ends the exchange before the meter had its chance to answer.

use crate::blocking::Master;
use crate::error::{LineError, LinkError};
use crate::transport::Transport;

/// The most reply bytes one exchange forwards: a babbling sender ends the exchange here
/// (more than the longest multi-frame burst a request can cause).
pub const MAX_RELAYED: usize = 4096;

/// What one relayed exchange saw on the line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    /// Bytes handed on.
    pub bytes: usize,
    /// Characters the UART received with a parity, framing or break error (handed on too).
    pub line_errors: usize,
    /// The level converter reported a bus overload (short circuit).
    pub overload: bool,
}

impl<T: Transport> Master<T> {
    /// Sends `request` unchanged and passes every byte the line carries back to `forward`, piece
    /// by piece as it arrives, until the exchange is over (see the [module](crate::relay)
    /// documentation). The link state of the master (frame count bits, selection) is not
    /// touched: the caller speaks the protocol.
    ///
    /// ```
    /// use mbus_link::sim::{SimBus, SimConfig, VirtualMeter, templates};
    /// use mbus_link::Master;
    ///
    /// let meter = VirtualMeter::new(5, "12345678C5140B04".parse()?, templates::synthetic(0));
    /// let mut master = Master::new(SimBus::new(SimConfig::default(), vec![meter]));
    /// let mut reply = Vec::new();
    /// let seen = master.relay(&mbus_proto::request::snd_nke(5), |b| reply.extend_from_slice(b))?;
    /// assert_eq!(reply, [0xE5]);
    /// assert_eq!(seen.bytes, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn relay(
        &mut self,
        request: &[u8],
        mut forward: impl FnMut(&[u8]),
    ) -> Result<Relayed, LinkError> {
        let baud = self.baud();
        let latency = self.transport().latency();
        let window = self.config().response_timeout_at(baud, latency);
        let gap = self.config().inter_char_timeout_at(baud, latency);
        let transport = self.transport_mut();
        transport.clear_input()?;
        let sent = transport.send(request)?;
        let window_end = sent + window;
        let mut deadline = window_end;
        let mut seen = Relayed::default();
        let mut buf = [0u8; 256];
        while seen.bytes < MAX_RELAYED {
            let r = transport.receive(&mut buf, deadline)?;
            match r.error {
                Some(LineError::Overload) => {
                    seen.overload = true;
                    break;
                }
                Some(_) => seen.line_errors += 1,
                None => {}
            }
            if r.len == 0 {
                if r.at >= deadline {
                    break;
                }
                continue;
            }
            // A transport never reports more than the buffer holds; if one did, stop there.
            let Some(bytes) = buf.get(..r.len) else {
                break;
            };
            forward(bytes);
            seen.bytes += r.len;
            deadline = (r.at + gap).max(window_end);
        }
        Ok(seen)
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::sim::{templates, SimBus, SimConfig, VirtualMeter};
    use mbus_proto::frame::Frame;
    use mbus_proto::request;

    fn bus(meters: &[(u8, &str)]) -> Master<SimBus> {
        let meters = meters
            .iter()
            .enumerate()
            .map(|(i, (primary, secondary))| {
                VirtualMeter::new(
                    *primary,
                    secondary.parse().unwrap(),
                    templates::synthetic(i),
                )
            })
            .collect();
        Master::new(SimBus::new(SimConfig::default(), meters))
    }

    #[test]
    fn a_read_request_comes_back_as_the_meters_whole_frame() {
        let mut master = bus(&[(7, "00000007C5140B04")]);
        let mut reply = Vec::new();
        let seen = master
            .relay(&request::req_ud2(7, true), |b| reply.extend_from_slice(b))
            .unwrap();
        assert_eq!(seen.bytes, reply.len());
        assert_eq!(seen.line_errors, 0);
        match Frame::parse_exact(&reply).unwrap() {
            Frame::Long { address, .. } => assert_eq!(address, 7),
            other => panic!("expected a long frame, got {other:?}"),
        }
    }

    #[test]
    fn silence_ends_after_the_reply_window_and_collisions_are_passed_on() {
        let mut master = bus(&[(1, "00000001C5140B04"), (1, "00000002C5140B04")]);
        let t0 = master.transport().bus_time();
        let mut reply = Vec::new();
        let seen = master
            .relay(&request::snd_nke(9), |b| reply.extend_from_slice(b))
            .unwrap();
        assert_eq!(seen, Relayed::default());
        let window = master
            .config()
            .response_timeout_at(master.baud(), std::time::Duration::ZERO);
        assert!(master.transport().bus_time() - t0 >= window);
        // Two meters at address 1 answer the SND_NKE together: the wired-AND of both E5s
        // arrives as it is (E5 & E5 is E5, so this one survives intact).
        let seen = master
            .relay(&request::snd_nke(1), |b| reply.extend_from_slice(b))
            .unwrap();
        assert_eq!(reply, [0xE5]);
        assert_eq!(seen.bytes, 1);
    }

    #[test]
    fn a_short_circuit_is_reported_not_hidden() {
        let mut master = bus(&[(1, "00000001C5140B04")]);
        master.transport_mut().set_short_circuit(true);
        let seen = master.relay(&request::snd_nke(1), |_| {}).unwrap();
        assert!(seen.overload);
        assert_eq!(seen.bytes, 0);
    }
}
