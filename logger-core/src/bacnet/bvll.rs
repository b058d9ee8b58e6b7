//! The BACnet/IP virtual link layer (ASHRAE 135 Annex J): the 4-byte BVLC header (type
//! 0x81, function, total length) and the functions of plain nodes, foreign devices and
//! BBMDs.

use super::DecodeError;
use std::net::{Ipv4Addr, SocketAddrV4};

/// BVLC-Result code: success.
pub const RESULT_SUCCESS: u16 = 0x0000;
/// BVLC-Result code: Write-Broadcast-Distribution-Table refused.
pub const RESULT_WRITE_BDT_NAK: u16 = 0x0010;
/// BVLC-Result code: Read-Broadcast-Distribution-Table refused.
pub const RESULT_READ_BDT_NAK: u16 = 0x0020;
/// BVLC-Result code: Register-Foreign-Device refused.
pub const RESULT_REGISTER_FD_NAK: u16 = 0x0030;
/// BVLC-Result code: Read-Foreign-Device-Table refused.
pub const RESULT_READ_FDT_NAK: u16 = 0x0040;
/// BVLC-Result code: Delete-Foreign-Device-Table-Entry refused.
pub const RESULT_DELETE_FDT_NAK: u16 = 0x0050;
/// BVLC-Result code: Distribute-Broadcast-To-Network refused.
pub const RESULT_DISTRIBUTE_NAK: u16 = 0x0060;

/// One entry of a broadcast distribution table: a peer BBMD and its broadcast mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BdtEntry {
    /// The peer's B/IP address.
    pub address: SocketAddrV4,
    /// Broadcast distribution mask (all ones: forward to the peer itself).
    pub mask: Ipv4Addr,
}

/// One entry of a foreign device table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdtEntry {
    /// The foreign device's B/IP address.
    pub address: SocketAddrV4,
    /// Time to live it registered with, seconds.
    pub ttl: u16,
    /// Seconds left before the entry expires (TTL plus the 30 s grace period at
    /// registration).
    pub remaining: u16,
}

/// One BVLL message; NPDUs borrow from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bvlc<'a> {
    /// BVLC-Result with its code.
    Result(u16),
    /// Write-Broadcast-Distribution-Table.
    WriteBdt(Vec<BdtEntry>),
    /// Read-Broadcast-Distribution-Table.
    ReadBdt,
    /// Read-Broadcast-Distribution-Table-Ack.
    ReadBdtAck(Vec<BdtEntry>),
    /// Forwarded-NPDU: a broadcast relayed by a BBMD, with its original source.
    Forwarded {
        /// Where the broadcast came from.
        source: SocketAddrV4,
        /// The NPDU.
        npdu: &'a [u8],
    },
    /// Register-Foreign-Device with its time to live in seconds.
    RegisterForeignDevice(u16),
    /// Read-Foreign-Device-Table.
    ReadFdt,
    /// Read-Foreign-Device-Table-Ack.
    ReadFdtAck(Vec<FdtEntry>),
    /// Delete-Foreign-Device-Table-Entry.
    DeleteFdtEntry(SocketAddrV4),
    /// Distribute-Broadcast-To-Network: a foreign device's broadcast for the BBMD to spread.
    DistributeBroadcast(&'a [u8]),
    /// Original-Unicast-NPDU.
    OriginalUnicast(&'a [u8]),
    /// Original-Broadcast-NPDU.
    OriginalBroadcast(&'a [u8]),
}

fn address(bytes: &[u8]) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]),
        u16::from_be_bytes([bytes[4], bytes[5]]),
    )
}

fn push_address(out: &mut Vec<u8>, a: &SocketAddrV4) {
    out.extend_from_slice(&a.ip().octets());
    out.extend_from_slice(&a.port().to_be_bytes());
}

fn entries<T>(body: &[u8], f: impl Fn(&[u8]) -> T) -> Result<Vec<T>, DecodeError> {
    if !body.len().is_multiple_of(10) {
        return Err(DecodeError::Invalid {
            offset: 4,
            what: "table not a whole number of 10-byte entries",
        });
    }
    Ok(body.chunks(10).map(f).collect())
}

impl<'a> Bvlc<'a> {
    /// The BVLC function code.
    pub fn function(&self) -> u8 {
        match self {
            Bvlc::Result(_) => 0x00,
            Bvlc::WriteBdt(_) => 0x01,
            Bvlc::ReadBdt => 0x02,
            Bvlc::ReadBdtAck(_) => 0x03,
            Bvlc::Forwarded { .. } => 0x04,
            Bvlc::RegisterForeignDevice(_) => 0x05,
            Bvlc::ReadFdt => 0x06,
            Bvlc::ReadFdtAck(_) => 0x07,
            Bvlc::DeleteFdtEntry(_) => 0x08,
            Bvlc::DistributeBroadcast(_) => 0x09,
            Bvlc::OriginalUnicast(_) => 0x0A,
            Bvlc::OriginalBroadcast(_) => 0x0B,
        }
    }

    /// Decodes one datagram.
    pub fn decode(datagram: &'a [u8]) -> Result<Bvlc<'a>, DecodeError> {
        if datagram.len() < 4 {
            return Err(DecodeError::Truncated {
                offset: datagram.len(),
                what: "BVLC header",
            });
        }
        if datagram[0] != 0x81 {
            return Err(DecodeError::Invalid {
                offset: 0,
                what: "BVLC type other than BACnet/IP (0x81)",
            });
        }
        let length = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
        if length != datagram.len() {
            return Err(DecodeError::Invalid {
                offset: 2,
                what: "BVLC length differs from the datagram's",
            });
        }
        let body = &datagram[4..];
        let exact = |n: usize, what| {
            if body.len() == n {
                Ok(())
            } else {
                Err(DecodeError::Invalid { offset: 4, what })
            }
        };
        Ok(match datagram[1] {
            0x00 => {
                exact(2, "BVLC-Result not 2 bytes")?;
                Bvlc::Result(u16::from_be_bytes([body[0], body[1]]))
            }
            0x01 => Bvlc::WriteBdt(entries(body, bdt_entry)?),
            0x02 => {
                exact(0, "Read-BDT with content")?;
                Bvlc::ReadBdt
            }
            0x03 => Bvlc::ReadBdtAck(entries(body, bdt_entry)?),
            0x04 => {
                if body.len() < 6 {
                    return Err(DecodeError::Truncated {
                        offset: datagram.len(),
                        what: "Forwarded-NPDU source address",
                    });
                }
                Bvlc::Forwarded {
                    source: address(body),
                    npdu: &body[6..],
                }
            }
            0x05 => {
                exact(2, "Register-Foreign-Device not 2 bytes")?;
                Bvlc::RegisterForeignDevice(u16::from_be_bytes([body[0], body[1]]))
            }
            0x06 => {
                exact(0, "Read-FDT with content")?;
                Bvlc::ReadFdt
            }
            0x07 => Bvlc::ReadFdtAck(entries(body, |e| FdtEntry {
                address: address(e),
                ttl: u16::from_be_bytes([e[6], e[7]]),
                remaining: u16::from_be_bytes([e[8], e[9]]),
            })?),
            0x08 => {
                exact(6, "Delete-FDT-Entry not 6 bytes")?;
                Bvlc::DeleteFdtEntry(address(body))
            }
            0x09 => Bvlc::DistributeBroadcast(body),
            0x0A => Bvlc::OriginalUnicast(body),
            0x0B => Bvlc::OriginalBroadcast(body),
            _ => {
                return Err(DecodeError::Invalid {
                    offset: 1,
                    what: "unknown BVLC function",
                })
            }
        })
    }

    /// Encodes the message into a datagram.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0x81, self.function(), 0, 0];
        match self {
            Bvlc::Result(code) => out.extend_from_slice(&code.to_be_bytes()),
            Bvlc::WriteBdt(table) | Bvlc::ReadBdtAck(table) => {
                for e in table {
                    push_address(&mut out, &e.address);
                    out.extend_from_slice(&e.mask.octets());
                }
            }
            Bvlc::ReadBdt | Bvlc::ReadFdt => {}
            Bvlc::Forwarded { source, npdu } => {
                push_address(&mut out, source);
                out.extend_from_slice(npdu);
            }
            Bvlc::RegisterForeignDevice(ttl) => out.extend_from_slice(&ttl.to_be_bytes()),
            Bvlc::ReadFdtAck(table) => {
                for e in table {
                    push_address(&mut out, &e.address);
                    out.extend_from_slice(&e.ttl.to_be_bytes());
                    out.extend_from_slice(&e.remaining.to_be_bytes());
                }
            }
            Bvlc::DeleteFdtEntry(a) => push_address(&mut out, a),
            Bvlc::DistributeBroadcast(npdu)
            | Bvlc::OriginalUnicast(npdu)
            | Bvlc::OriginalBroadcast(npdu) => out.extend_from_slice(npdu),
        }
        let len = (out.len() as u16).to_be_bytes();
        out[2] = len[0];
        out[3] = len[1];
        out
    }
}

fn bdt_entry(e: &[u8]) -> BdtEntry {
    BdtEntry {
        address: address(e),
        mask: Ipv4Addr::new(e[6], e[7], e[8], e[9]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(a: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(a), port)
    }

    #[test]
    fn every_function_round_trips() {
        let npdu = [0x01, 0x04, 0x10, 0x08];
        let messages = vec![
            Bvlc::Result(RESULT_REGISTER_FD_NAK),
            Bvlc::WriteBdt(vec![BdtEntry {
                address: addr([10, 0, 0, 1], 47808),
                mask: Ipv4Addr::BROADCAST,
            }]),
            Bvlc::ReadBdt,
            Bvlc::ReadBdtAck(vec![]),
            Bvlc::Forwarded {
                source: addr([192, 168, 1, 9], 47809),
                npdu: &npdu,
            },
            Bvlc::RegisterForeignDevice(300),
            Bvlc::ReadFdt,
            Bvlc::ReadFdtAck(vec![FdtEntry {
                address: addr([127, 0, 0, 1], 40000),
                ttl: 60,
                remaining: 85,
            }]),
            Bvlc::DeleteFdtEntry(addr([1, 2, 3, 4], 5)),
            Bvlc::DistributeBroadcast(&npdu),
            Bvlc::OriginalUnicast(&npdu),
            Bvlc::OriginalBroadcast(&npdu),
        ];
        for m in messages {
            let bytes = m.encode();
            assert_eq!(bytes[0], 0x81);
            assert_eq!(
                usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
                bytes.len()
            );
            assert_eq!(Bvlc::decode(&bytes).unwrap(), m);
        }
    }

    #[test]
    fn annex_j_example_bytes() {
        // Register-Foreign-Device with TTL 60 s.
        assert_eq!(
            Bvlc::RegisterForeignDevice(60).encode(),
            [0x81, 0x05, 0x00, 0x06, 0x00, 0x3C]
        );
        assert_eq!(
            Bvlc::decode(&[0x81, 0x0A, 0x00, 0x06, 0x01, 0x00]).unwrap(),
            Bvlc::OriginalUnicast(&[0x01, 0x00])
        );
    }

    #[test]
    fn malformed_headers_are_rejected() {
        for bad in [
            &[0x81, 0x0A, 0x00][..],
            &[0x82, 0x0A, 0x00, 0x04],
            &[0x81, 0x0A, 0x00, 0x05],
            &[0x81, 0x0D, 0x00, 0x04],
            &[0x81, 0x00, 0x00, 0x05, 0x00],
            &[0x81, 0x04, 0x00, 0x08, 1, 2, 3, 4],
            &[0x81, 0x03, 0x00, 0x07, 1, 2, 3],
        ] {
            assert!(Bvlc::decode(bad).is_err(), "{bad:02X?}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(m) = Bvlc::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }
    }
}
