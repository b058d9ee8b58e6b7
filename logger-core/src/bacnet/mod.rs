//! BACnet/IP (ASHRAE 135, Annex J) for building-management systems: the logger is a BACnet
//! device and a router to a virtual network on which every meter is a device of its own,
//! with one analog-input per logged register.
//!
//! - Devices: the logger's own (`bacnet.device_instance`) and one per meter, instance =
//!   `bacnet.start_instance` + the meter's index, kept in `meter-index.json` (see
//!   [`crate::meter_index`]); a meter's own `bacnet_instance` overrides it. Meter devices sit on
//!   virtual network `bacnet.network_number`, MAC = their instance in three bytes.
//! - Objects ([`model`]): device properties clients read (object-list, vendor, model,
//!   firmware, protocol-services-supported, max-APDU 1476, no segmentation, …); per logged
//!   register an analog-input with present-value (the stored value of the last reading),
//!   units from the register's unit ([`units`]), object-name, description, status-flags
//!   and reliability (fault when the meter's last read failed), out-of-service.
//! - Services ([`gateway`]): Who-Is/I-Am (ranges), Who-Has/I-Have, ReadProperty,
//!   ReadPropertyMultiple (ALL, REQUIRED, OPTIONAL), SubscribeCOV with confirmed or
//!   unconfirmed notifications after each read cycle that changed a value; other
//!   confirmed services are rejected, too-long answers aborted (no segmentation),
//!   unknown objects and properties answered with errors; malformed datagrams dropped.
//! - B/IP roles: plain node, foreign device of a BBMD (`bacnet.bbmd`, re-registering at
//!   half the time to live), or BBMD (`bacnet.bbmd_server`, peers in `bacnet.bdt`).
//! - [`server::Server`]: the UDP thread; [`Server::hook`] feeds it the engine's commits.
//!
//! The wire encoding is implemented here: [`bvll`], [`npdu`], [`apdu`] and [`tag`], each
//! with encode/decode round-trip tests; the decoders are fuzzed (`fuzz/`, target
//! `bacnet`). The maintained Rust BACnet stacks serve one device from an object database
//! of their own behind an async runtime; a gateway with a routed virtual network of devices
//! whose values live in the readings store fits them poorly.

pub mod apdu;
pub mod bvll;
pub mod gateway;
pub mod model;
pub mod npdu;
pub mod server;
pub mod tag;
pub mod units;

pub use server::{BacnetError, Server};

/// Why a BACnet message could not be decoded; offsets count from the start of the part
/// being decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The message ends before `what`.
    #[error("truncated at byte {offset}: {what} missing")]
    Truncated {
        /// Where the missing part should start.
        offset: usize,
        /// What is missing.
        what: &'static str,
    },
    /// The bytes at `offset` are not valid.
    #[error("byte {offset}: {what}")]
    Invalid {
        /// Where the problem is.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
}

/// Decodes a datagram as far as it goes: BVLL, NPDU, APDU and, for the services this
/// server handles, the service request. What fuzzing runs; never panics.
pub fn decode_all(datagram: &[u8]) -> Result<(), DecodeError> {
    let npdu = match bvll::Bvlc::decode(datagram)? {
        bvll::Bvlc::OriginalUnicast(n)
        | bvll::Bvlc::OriginalBroadcast(n)
        | bvll::Bvlc::DistributeBroadcast(n)
        | bvll::Bvlc::Forwarded { npdu: n, .. } => n,
        _ => return Ok(()),
    };
    let npdu = npdu::Npdu::decode(npdu)?;
    let npdu::Body::Apdu(apdu) = npdu.body else {
        return Ok(());
    };
    match apdu::Apdu::decode(apdu)? {
        apdu::Apdu::ConfirmedRequest { service, data, .. } => match service {
            apdu::SERVICE_READ_PROPERTY => apdu::ReadProperty::decode(data).map(drop),
            apdu::SERVICE_READ_PROPERTY_MULTIPLE => apdu::decode_read_multiple(data).map(drop),
            apdu::SERVICE_SUBSCRIBE_COV => apdu::SubscribeCov::decode(data).map(drop),
            apdu::SERVICE_CONFIRMED_COV_NOTIFICATION => {
                apdu::CovNotification::decode(data).map(drop)
            }
            _ => Ok(()),
        },
        apdu::Apdu::UnconfirmedRequest { service, data } => match service {
            apdu::SERVICE_WHO_IS => apdu::WhoIs::decode(data).map(drop),
            apdu::SERVICE_WHO_HAS => apdu::WhoHas::decode(data).map(drop),
            apdu::SERVICE_I_AM => apdu::IAm::decode(data).map(drop),
            apdu::SERVICE_I_HAVE => apdu::IHave::decode(data).map(drop),
            apdu::SERVICE_UNCONFIRMED_COV_NOTIFICATION => {
                apdu::CovNotification::decode(data).map(drop)
            }
            _ => Ok(()),
        },
        apdu::Apdu::ComplexAck { service, data, .. }
            if service == apdu::SERVICE_READ_PROPERTY_MULTIPLE =>
        {
            apdu::decode_read_multiple_ack(data).map(drop)
        }
        _ => Ok(()),
    }
}
