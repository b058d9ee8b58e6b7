//! The BACnet network layer header (ASHRAE 135 clause 6.2): version, control octet,
//! optional destination and source network addresses, hop count and network-layer
//! messages.

use super::DecodeError;

/// Network number meaning "every network" (global broadcast).
pub const GLOBAL_NETWORK: u16 = 0xFFFF;
/// Network-layer message Who-Is-Router-To-Network.
pub const WHO_IS_ROUTER: u8 = 0x00;
/// Network-layer message I-Am-Router-To-Network.
pub const I_AM_ROUTER: u8 = 0x01;

/// A network address: network number and MAC address (empty MAC = broadcast on that
/// network).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetAddr {
    /// Network number (0xFFFF: all networks).
    pub net: u16,
    /// MAC address on that network, at most 255 bytes; empty for a broadcast.
    pub mac: Vec<u8>,
}

/// What an NPDU carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// An application-layer PDU.
    Apdu(&'a [u8]),
    /// A network-layer message.
    Network {
        /// Message type.
        kind: u8,
        /// Vendor id (message types 0x80 and above).
        vendor: Option<u16>,
        /// The message's content.
        data: &'a [u8],
    },
}

/// One NPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Npdu<'a> {
    /// Destination network and MAC, when the message is routed.
    pub destination: Option<NetAddr>,
    /// Source network and MAC, when a router forwarded the message.
    pub source: Option<NetAddr>,
    /// Hop count (present with a destination).
    pub hop_count: u8,
    /// The sender expects a reply (confirmed requests).
    pub expecting_reply: bool,
    /// Network priority 0…3.
    pub priority: u8,
    /// What it carries.
    pub body: Body<'a>,
}

impl<'a> Npdu<'a> {
    /// A local NPDU carrying `apdu`, without network addresses.
    pub fn apdu(apdu: &'a [u8]) -> Npdu<'a> {
        Npdu {
            destination: None,
            source: None,
            hop_count: 255,
            expecting_reply: false,
            priority: 0,
            body: Body::Apdu(apdu),
        }
    }

    /// Decodes an NPDU.
    pub fn decode(bytes: &'a [u8]) -> Result<Npdu<'a>, DecodeError> {
        let mut pos = 0usize;
        let mut take = |n: usize, what: &'static str| -> Result<&'a [u8], DecodeError> {
            let end = pos + n;
            let slice = bytes
                .get(pos..end)
                .ok_or(DecodeError::Truncated { offset: pos, what })?;
            pos = end;
            Ok(slice)
        };
        let header = take(2, "NPDU version and control")?;
        if header[0] != 0x01 {
            return Err(DecodeError::Invalid {
                offset: 0,
                what: "NPDU protocol version other than 1",
            });
        }
        let control = header[1];
        if control & 0x50 != 0 {
            return Err(DecodeError::Invalid {
                offset: 1,
                what: "reserved NPDU control bits set",
            });
        }
        let mut read_addr = |what| -> Result<NetAddr, DecodeError> {
            let head = take(3, what)?;
            let net = u16::from_be_bytes([head[0], head[1]]);
            let mac = take(usize::from(head[2]), what)?.to_vec();
            Ok(NetAddr { net, mac })
        };
        let destination = if control & 0x20 != 0 {
            Some(read_addr("destination network address")?)
        } else {
            None
        };
        let source = if control & 0x08 != 0 {
            let s = read_addr("source network address")?;
            if s.net == GLOBAL_NETWORK || s.mac.is_empty() {
                return Err(DecodeError::Invalid {
                    offset: 2,
                    what: "source network address is a broadcast",
                });
            }
            Some(s)
        } else {
            None
        };
        let hop_count = if destination.is_some() {
            take(1, "hop count")?[0]
        } else {
            255
        };
        let body = if control & 0x80 != 0 {
            let kind = take(1, "network message type")?[0];
            let vendor = if kind >= 0x80 {
                let v = take(2, "network message vendor id")?;
                Some(u16::from_be_bytes([v[0], v[1]]))
            } else {
                None
            };
            Body::Network {
                kind,
                vendor,
                data: &bytes[pos..],
            }
        } else {
            Body::Apdu(&bytes[pos..])
        };
        Ok(Npdu {
            destination,
            source,
            hop_count,
            expecting_reply: control & 0x04 != 0,
            priority: control & 0x03,
            body,
        })
    }

    /// Encodes the NPDU.
    pub fn encode(&self) -> Vec<u8> {
        let mut control = self.priority & 0x03;
        if self.expecting_reply {
            control |= 0x04;
        }
        if self.source.is_some() {
            control |= 0x08;
        }
        if self.destination.is_some() {
            control |= 0x20;
        }
        if matches!(self.body, Body::Network { .. }) {
            control |= 0x80;
        }
        let mut out = vec![0x01, control];
        for a in [&self.destination, &self.source].into_iter().flatten() {
            out.extend_from_slice(&a.net.to_be_bytes());
            let len = a.mac.len().min(255);
            out.push(len as u8);
            out.extend_from_slice(&a.mac[..len]);
        }
        if self.destination.is_some() {
            out.push(self.hop_count);
        }
        match &self.body {
            Body::Apdu(apdu) => out.extend_from_slice(apdu),
            Body::Network { kind, vendor, data } => {
                out.push(*kind);
                if let Some(v) = vendor {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                out.extend_from_slice(data);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn routed_apdu_round_trips_with_both_addresses() {
        let apdu = [0x10, 0x08];
        let n = Npdu {
            destination: Some(NetAddr {
                net: 7,
                mac: vec![0x00, 0x03, 0xE8],
            }),
            source: Some(NetAddr {
                net: 5,
                mac: vec![192, 168, 0, 1, 0xBA, 0xC0],
            }),
            hop_count: 254,
            expecting_reply: true,
            priority: 2,
            body: Body::Apdu(&apdu),
        };
        let bytes = n.encode();
        assert_eq!(&bytes[..5], &[0x01, 0x2E, 0x00, 0x07, 0x03]);
        assert_eq!(Npdu::decode(&bytes).unwrap(), n);
    }

    #[test]
    fn network_messages_round_trip() {
        for (kind, vendor) in [(I_AM_ROUTER, None), (0x80, Some(260))] {
            let data = [0x00, 0x64];
            let n = Npdu {
                body: Body::Network {
                    kind,
                    vendor,
                    data: &data,
                },
                ..Npdu::apdu(&[])
            };
            assert_eq!(Npdu::decode(&n.encode()).unwrap(), n);
        }
        // Who-Is-Router-To-Network, no network given.
        let n = Npdu::decode(&[0x01, 0x80, 0x00]).unwrap();
        assert_eq!(
            n.body,
            Body::Network {
                kind: WHO_IS_ROUTER,
                vendor: None,
                data: &[]
            }
        );
    }

    #[test]
    fn malformed_npdus_are_rejected() {
        for bad in [
            &[][..],
            &[0x02, 0x00],
            &[0x01, 0x40],
            &[0x01, 0x20, 0x00, 0x07, 0x02, 0x01],
            &[0x01, 0x20, 0x00, 0x07, 0x00],
            &[0x01, 0x08, 0xFF, 0xFF, 0x01, 0x01],
            &[0x01, 0x08, 0x00, 0x05, 0x00],
            &[0x01, 0x80],
            &[0x01, 0x80, 0x80, 0x01],
        ] {
            assert!(Npdu::decode(bad).is_err(), "{bad:02X?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            if let Ok(n) = Npdu::decode(&bytes) {
                // What decodes encodes to an NPDU that decodes the same.
                let again = n.encode();
                prop_assert_eq!(Npdu::decode(&again).unwrap(), n);
            }
        }
    }
}
