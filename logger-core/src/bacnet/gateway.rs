//! The gateway's protocol logic without I/O: datagrams in, datagrams out. It answers for
//! the logger's device and, as a router, for the meter devices on the virtual network;
//! keeps COV subscriptions; and plays its B/IP role (plain node, foreign device or BBMD).
//!
//! Who-Is and Who-Has addressed to the gateway itself (unicast or local broadcast, no
//! destination network) are answered for the logger's device and every meter device, so
//! that clients which do not route still find the meters; the meters' answers carry the
//! virtual network and MAC as source, from which clients learn the route. Answers go back
//! the way the question came: a unicast question gets a unicast answer, a broadcast one a
//! broadcast (through the BBMD when registered as foreign device).

use super::apdu::{
    abort, decode_read_multiple, max_apdu_of_code, push_read_multiple_result, reject, Apdu,
    CovNotification, HasObject, IAm, IHave, ReadProperty, ReadResult, SubscribeCov, WhoHas, WhoIs,
    MAX_APDU, SERVICE_CONFIRMED_COV_NOTIFICATION, SERVICE_I_AM, SERVICE_I_HAVE,
    SERVICE_READ_PROPERTY, SERVICE_READ_PROPERTY_MULTIPLE, SERVICE_SUBSCRIBE_COV,
    SERVICE_UNCONFIRMED_COV_NOTIFICATION, SERVICE_WHO_HAS, SERVICE_WHO_IS,
};
use super::bvll::{self, BdtEntry, Bvlc, FdtEntry};
use super::model::{Device, Model, NO_SEGMENTATION, VENDOR_ID};
use super::npdu::{Body, NetAddr, Npdu, GLOBAL_NETWORK, I_AM_ROUTER, WHO_IS_ROUTER};
use super::tag::{ObjectId, OBJECT_ANALOG_INPUT};
use super::DecodeError;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

/// Most COV subscriptions kept at once.
pub const MAX_SUBSCRIPTIONS: usize = 1000;
/// Extra time a BBMD keeps a foreign device beyond its time to live (Annex J.5.2.3).
const FDT_GRACE: Duration = Duration::from_secs(30);
/// Retry delay after a refused foreign-device registration.
const REGISTRATION_RETRY: Duration = Duration::from_secs(30);

/// One datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Destination.
    pub to: SocketAddrV4,
    /// The BVLL message.
    pub bytes: Vec<u8>,
}

/// The gateway's B/IP role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A node on the local B/IP network.
    Plain,
    /// A foreign device registered with a BBMD.
    Foreign {
        /// The BBMD.
        bbmd: SocketAddrV4,
        /// Registration time to live, seconds.
        ttl: u16,
    },
    /// A BBMD with its broadcast distribution table (peer BBMDs).
    Bbmd {
        /// Peer BBMDs.
        peers: Vec<SocketAddrV4>,
    },
}

/// Where an answer goes: the B/IP sender and, for messages a router forwarded, the
/// original network address.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Peer {
    ip: SocketAddrV4,
    route: Option<NetAddr>,
}

#[derive(Debug, Clone)]
struct Subscription {
    peer: Peer,
    process_id: u32,
    /// Device instance; `None` for the logger's own device.
    device: Option<u32>,
    object: ObjectId,
    confirmed: bool,
    expires: Option<Instant>,
}

#[derive(Debug, Clone)]
struct ForeignEntry {
    address: SocketAddrV4,
    ttl: u16,
    expires: Instant,
}

/// The protocol state of the gateway.
#[derive(Debug)]
pub struct Gateway {
    model: Model,
    network: u16,
    local: SocketAddrV4,
    broadcast: SocketAddrV4,
    role: Role,
    registered: bool,
    next_registration: Option<Instant>,
    fdt: Vec<ForeignEntry>,
    subscriptions: Vec<Subscription>,
    next_invoke_id: u8,
}

/// Reject reason for a service request that could not be decoded.
fn reject_reason(e: &DecodeError) -> u8 {
    match e {
        DecodeError::Truncated { .. } => reject::MISSING_REQUIRED_PARAMETER,
        DecodeError::Invalid { .. } => reject::INVALID_TAG,
    }
}

/// Encoded COV values, compared byte for byte (a NaN equals itself that way).
fn cov_bytes(values: &[(u32, super::tag::Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (p, v) in values {
        out.extend_from_slice(&p.to_be_bytes());
        v.encode(&mut out);
    }
    out
}

impl Gateway {
    /// A gateway serving `model`, its meters on virtual network `network`, at B/IP address
    /// `local` (for a BBMD the address peers know it by), in `role`.
    pub fn new(
        model: Model,
        network: u16,
        local: SocketAddrV4,
        role: Role,
        now: Instant,
    ) -> Gateway {
        let next_registration = matches!(role, Role::Foreign { .. }).then_some(now);
        Gateway {
            model,
            network,
            local,
            broadcast: SocketAddrV4::new(Ipv4Addr::BROADCAST, local.port()),
            role,
            registered: false,
            next_registration,
            fdt: Vec::new(),
            subscriptions: Vec::new(),
            next_invoke_id: 0,
        }
    }

    /// The served objects.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Whether the BBMD accepted the foreign-device registration.
    pub fn registered(&self) -> bool {
        self.registered
    }

    /// Number of COV subscriptions.
    pub fn subscriptions(&self) -> usize {
        self.subscriptions.len()
    }

    fn device(&self, instance: Option<u32>) -> Option<&Device> {
        match instance {
            None => Some(&self.model.logger),
            Some(i) => self.model.meter(i),
        }
    }

    /// Handles one received datagram from `from`; malformed ones are dropped.
    pub fn handle(&mut self, from: SocketAddrV4, datagram: &[u8], now: Instant) -> Vec<Datagram> {
        let mut out = Vec::new();
        let Ok(bvlc) = Bvlc::decode(datagram) else {
            return out;
        };
        match bvlc {
            Bvlc::OriginalUnicast(npdu) => self.npdu(from, npdu, false, now, &mut out),
            Bvlc::OriginalBroadcast(npdu) => {
                if from == self.local {
                    return out;
                }
                if matches!(self.role, Role::Bbmd { .. }) {
                    self.forward(from, npdu, false, Some(from), &mut out);
                }
                self.npdu(from, npdu, true, now, &mut out);
            }
            Bvlc::Forwarded { source, npdu } => {
                if source == self.local {
                    return out;
                }
                if let Role::Bbmd { peers } = &self.role {
                    if peers.contains(&from) {
                        // From a peer: on to the foreign devices and the local network.
                        let bytes = Bvlc::Forwarded { source, npdu }.encode();
                        for fd in self.fdt.iter().filter(|f| f.address != source) {
                            out.push(Datagram {
                                to: fd.address,
                                bytes: bytes.clone(),
                            });
                        }
                        out.push(Datagram {
                            to: self.broadcast,
                            bytes,
                        });
                    }
                }
                self.npdu(source, npdu, true, now, &mut out);
            }
            Bvlc::DistributeBroadcast(npdu) => {
                let registered = self.fdt.iter().any(|f| f.address == from);
                if matches!(self.role, Role::Bbmd { .. }) && registered {
                    self.forward(from, npdu, true, Some(from), &mut out);
                    self.npdu(from, npdu, true, now, &mut out);
                } else {
                    out.push(result(from, bvll::RESULT_DISTRIBUTE_NAK));
                }
            }
            Bvlc::RegisterForeignDevice(ttl) => {
                if matches!(self.role, Role::Bbmd { .. }) {
                    self.fdt.retain(|f| f.address != from);
                    self.fdt.push(ForeignEntry {
                        address: from,
                        ttl,
                        expires: now + Duration::from_secs(u64::from(ttl)) + FDT_GRACE,
                    });
                    out.push(result(from, bvll::RESULT_SUCCESS));
                } else {
                    out.push(result(from, bvll::RESULT_REGISTER_FD_NAK));
                }
            }
            Bvlc::ReadBdt => match &self.role {
                Role::Bbmd { peers } => {
                    let table = std::iter::once(self.local)
                        .chain(peers.iter().copied())
                        .map(|address| BdtEntry {
                            address,
                            mask: Ipv4Addr::BROADCAST,
                        })
                        .collect();
                    out.push(Datagram {
                        to: from,
                        bytes: Bvlc::ReadBdtAck(table).encode(),
                    });
                }
                _ => out.push(result(from, bvll::RESULT_READ_BDT_NAK)),
            },
            Bvlc::WriteBdt(_) => out.push(result(from, bvll::RESULT_WRITE_BDT_NAK)),
            Bvlc::ReadFdt => {
                if matches!(self.role, Role::Bbmd { .. }) {
                    let table = self
                        .fdt
                        .iter()
                        .map(|f| FdtEntry {
                            address: f.address,
                            ttl: f.ttl,
                            remaining: f
                                .expires
                                .saturating_duration_since(now)
                                .as_secs()
                                .min(u64::from(u16::MAX))
                                as u16,
                        })
                        .collect();
                    out.push(Datagram {
                        to: from,
                        bytes: Bvlc::ReadFdtAck(table).encode(),
                    });
                } else {
                    out.push(result(from, bvll::RESULT_READ_FDT_NAK));
                }
            }
            Bvlc::DeleteFdtEntry(address) => {
                let before = self.fdt.len();
                self.fdt.retain(|f| f.address != address);
                let code = if self.fdt.len() < before {
                    bvll::RESULT_SUCCESS
                } else {
                    bvll::RESULT_DELETE_FDT_NAK
                };
                out.push(result(from, code));
            }
            Bvlc::Result(code) => {
                if let Role::Foreign { bbmd, .. } = self.role {
                    if from == bbmd {
                        match code {
                            bvll::RESULT_SUCCESS => self.registered = true,
                            bvll::RESULT_REGISTER_FD_NAK => {
                                tracing::warn!(%bbmd, "the BBMD refused the foreign-device registration");
                                self.registered = false;
                                self.next_registration = Some(now + REGISTRATION_RETRY);
                            }
                            _ => {}
                        }
                    }
                }
            }
            Bvlc::ReadBdtAck(_) | Bvlc::ReadFdtAck(_) => {}
        }
        out
    }

    /// As a BBMD: sends a broadcast that came from `source` on to the peers, the foreign
    /// devices (except `skip`) and, for one from a foreign device, the local network.
    fn forward(
        &self,
        source: SocketAddrV4,
        npdu: &[u8],
        to_local: bool,
        skip: Option<SocketAddrV4>,
        out: &mut Vec<Datagram>,
    ) {
        let Role::Bbmd { peers } = &self.role else {
            return;
        };
        let bytes = Bvlc::Forwarded { source, npdu }.encode();
        let targets = peers
            .iter()
            .copied()
            .filter(|p| *p != self.local)
            .chain(self.fdt.iter().map(|f| f.address))
            .filter(|t| Some(*t) != skip);
        for to in targets {
            out.push(Datagram {
                to,
                bytes: bytes.clone(),
            });
        }
        if to_local {
            out.push(Datagram {
                to: self.broadcast,
                bytes,
            });
        }
    }

    /// Sends `npdu` as a broadcast in this gateway's role.
    fn send_broadcast(&self, npdu: &[u8], out: &mut Vec<Datagram>) {
        match &self.role {
            Role::Foreign { bbmd, .. } if self.registered => out.push(Datagram {
                to: *bbmd,
                bytes: Bvlc::DistributeBroadcast(npdu).encode(),
            }),
            Role::Bbmd { .. } => {
                out.push(Datagram {
                    to: self.broadcast,
                    bytes: Bvlc::OriginalBroadcast(npdu).encode(),
                });
                self.forward(self.local, npdu, false, None, out);
            }
            _ => out.push(Datagram {
                to: self.broadcast,
                bytes: Bvlc::OriginalBroadcast(npdu).encode(),
            }),
        }
    }

    /// The source network address of `device`'s messages (meters only).
    fn source_of(&self, device: Option<u32>) -> Option<NetAddr> {
        let d = self.device(device)?;
        d.meter.map(|_| NetAddr {
            net: self.network,
            mac: d.mac(),
        })
    }

    fn unicast(&self, peer: &Peer, device: Option<u32>, apdu: &[u8], out: &mut Vec<Datagram>) {
        let npdu = Npdu {
            destination: peer.route.clone(),
            source: self.source_of(device),
            ..Npdu::apdu(apdu)
        };
        out.push(Datagram {
            to: peer.ip,
            bytes: Bvlc::OriginalUnicast(&npdu.encode()).encode(),
        });
    }

    /// An unconfirmed answer, the way the question came.
    fn answer(
        &self,
        peer: &Peer,
        broadcast: bool,
        device: Option<u32>,
        apdu: &[u8],
        out: &mut Vec<Datagram>,
    ) {
        if !broadcast {
            return self.unicast(peer, device, apdu, out);
        }
        let npdu = Npdu {
            destination: peer.route.as_ref().map(|_| NetAddr {
                net: GLOBAL_NETWORK,
                mac: Vec::new(),
            }),
            source: self.source_of(device),
            ..Npdu::apdu(apdu)
        };
        self.send_broadcast(&npdu.encode(), out);
    }

    fn npdu(
        &mut self,
        from: SocketAddrV4,
        bytes: &[u8],
        broadcast: bool,
        now: Instant,
        out: &mut Vec<Datagram>,
    ) {
        let Ok(npdu) = Npdu::decode(bytes) else {
            return;
        };
        let peer = Peer {
            ip: from,
            route: npdu.source.clone(),
        };
        match npdu.body {
            Body::Network {
                kind: WHO_IS_ROUTER,
                data,
                ..
            } => {
                let asked = data.get(..2).map(|n| u16::from_be_bytes([n[0], n[1]]));
                if asked.is_none_or(|n| n == self.network) {
                    let network = self.network.to_be_bytes();
                    let reply = Npdu {
                        destination: peer.route.clone(),
                        body: Body::Network {
                            kind: I_AM_ROUTER,
                            vendor: None,
                            data: &network,
                        },
                        ..Npdu::apdu(&[])
                    }
                    .encode();
                    if broadcast {
                        self.send_broadcast(&reply, out);
                    } else {
                        out.push(Datagram {
                            to: from,
                            bytes: Bvlc::OriginalUnicast(&reply).encode(),
                        });
                    }
                }
            }
            Body::Network { .. } => {}
            Body::Apdu(apdu) => {
                let Ok(apdu) = Apdu::decode(apdu) else {
                    return;
                };
                let meters = || self.model.meters.iter().map(|d| Some(d.instance));
                let everyone = || std::iter::once(None).chain(meters()).collect::<Vec<_>>();
                let targets: Vec<Option<u32>> = match &npdu.destination {
                    None if matches!(apdu, Apdu::UnconfirmedRequest { .. }) => everyone(),
                    None => vec![None],
                    Some(d) if d.net == GLOBAL_NETWORK => everyone(),
                    Some(d) if d.net == self.network && d.mac.is_empty() => meters().collect(),
                    Some(d) if d.net == self.network => self
                        .model
                        .meter_by_mac(&d.mac)
                        .map(|m| vec![Some(m.instance)])
                        .unwrap_or_default(),
                    Some(_) => Vec::new(),
                };
                match apdu {
                    Apdu::UnconfirmedRequest { service, data } => {
                        self.unconfirmed(&peer, broadcast, &targets, service, data, out)
                    }
                    Apdu::ConfirmedRequest { .. } if targets.len() == 1 => {
                        self.confirmed(&peer, targets[0], &apdu, now, out)
                    }
                    _ => {}
                }
            }
        }
    }

    fn unconfirmed(
        &self,
        peer: &Peer,
        broadcast: bool,
        targets: &[Option<u32>],
        service: u8,
        data: &[u8],
        out: &mut Vec<Datagram>,
    ) {
        match service {
            SERVICE_WHO_IS => {
                let Ok(who_is) = WhoIs::decode(data) else {
                    return;
                };
                for &t in targets {
                    let Some(d) = self.device(t).filter(|d| who_is.matches(d.instance)) else {
                        continue;
                    };
                    let i_am = IAm {
                        device: d.id(),
                        max_apdu: MAX_APDU as u32,
                        segmentation: NO_SEGMENTATION,
                        vendor: VENDOR_ID,
                    };
                    let apdu = Apdu::UnconfirmedRequest {
                        service: SERVICE_I_AM,
                        data: &i_am.encode(),
                    }
                    .encode();
                    self.answer(peer, broadcast, t, &apdu, out);
                }
            }
            SERVICE_WHO_HAS => {
                let Ok(who_has) = WhoHas::decode(data) else {
                    return;
                };
                for &t in targets {
                    let Some(d) = self.device(t) else {
                        continue;
                    };
                    if who_has
                        .range
                        .is_some_and(|(low, high)| !(low..=high).contains(&d.instance))
                    {
                        continue;
                    }
                    let found = match &who_has.object {
                        HasObject::Id(id) => d.object_name(*id).map(|name| {
                            let id = if d.is_self(*id) { d.id() } else { *id };
                            (id, name.to_string())
                        }),
                        HasObject::Name(name) => d.find_name(name).map(|id| (id, name.clone())),
                    };
                    if let Some((object, name)) = found {
                        let have = IHave {
                            device: d.id(),
                            object,
                            name,
                        };
                        let apdu = Apdu::UnconfirmedRequest {
                            service: SERVICE_I_HAVE,
                            data: &have.encode(),
                        }
                        .encode();
                        self.answer(peer, broadcast, t, &apdu, out);
                    }
                }
            }
            _ => {}
        }
    }

    fn confirmed(
        &mut self,
        peer: &Peer,
        target: Option<u32>,
        apdu: &Apdu<'_>,
        now: Instant,
        out: &mut Vec<Datagram>,
    ) {
        let Apdu::ConfirmedRequest {
            segmented,
            max_apdu,
            invoke_id,
            service,
            data,
            ..
        } = *apdu
        else {
            return;
        };
        let limit = max_apdu_of_code(max_apdu).min(MAX_APDU);
        let answer = if segmented {
            Apdu::Abort {
                server: true,
                invoke_id,
                reason: abort::SEGMENTATION_NOT_SUPPORTED,
            }
            .encode()
        } else {
            match service {
                SERVICE_READ_PROPERTY => self.read_property(target, invoke_id, data),
                SERVICE_READ_PROPERTY_MULTIPLE => self.read_multiple(target, invoke_id, data),
                SERVICE_SUBSCRIBE_COV => {
                    let (answer, initial) = self.subscribe(peer, target, invoke_id, data, now);
                    self.unicast(peer, target, &answer, out);
                    if let Some(s) = initial {
                        self.notify(&s, now, out);
                    }
                    return;
                }
                _ => Apdu::Reject {
                    invoke_id,
                    reason: reject::UNRECOGNIZED_SERVICE,
                }
                .encode(),
            }
        };
        let answer = if answer.len() > limit {
            Apdu::Abort {
                server: true,
                invoke_id,
                reason: abort::SEGMENTATION_NOT_SUPPORTED,
            }
            .encode()
        } else {
            answer
        };
        self.unicast(peer, target, &answer, out);
    }

    /// The decoded request and the device it is for, or what to answer instead: a Reject
    /// naming why the request does not decode, nothing for a device that does not exist.
    fn request<T>(
        &self,
        target: Option<u32>,
        invoke_id: u8,
        decoded: Result<T, DecodeError>,
    ) -> Result<(T, &Device), Vec<u8>> {
        let request = decoded.map_err(|e| {
            Apdu::Reject {
                invoke_id,
                reason: reject_reason(&e),
            }
            .encode()
        })?;
        let device = self.device(target).ok_or_else(Vec::new)?;
        Ok((request, device))
    }

    fn read_property(&self, target: Option<u32>, invoke_id: u8, data: &[u8]) -> Vec<u8> {
        let (rp, device) = match self.request(target, invoke_id, ReadProperty::decode(data)) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let result = match rp.property.property {
            super::model::prop::ALL
            | super::model::prop::REQUIRED
            | super::model::prop::OPTIONAL => {
                // Only ReadPropertyMultiple expands these.
                Err((
                    super::apdu::error::CLASS_SERVICES,
                    super::apdu::error::SERVICE_REQUEST_DENIED,
                ))
            }
            _ => device.read(rp.object, rp.property, self.model.revision),
        };
        match result {
            Ok(values) => Apdu::ComplexAck {
                segmented: false,
                more_follows: false,
                invoke_id,
                segment: None,
                service: SERVICE_READ_PROPERTY,
                data: &rp.encode_ack(&values),
            }
            .encode(),
            Err((class, code)) => Apdu::Error {
                invoke_id,
                service: SERVICE_READ_PROPERTY,
                class,
                code,
            }
            .encode(),
        }
    }

    fn read_multiple(&self, target: Option<u32>, invoke_id: u8, data: &[u8]) -> Vec<u8> {
        let (specs, device) = match self.request(target, invoke_id, decode_read_multiple(data)) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let mut body = Vec::new();
        for spec in &specs {
            let object = if device.is_self(spec.object) {
                device.id()
            } else {
                spec.object
            };
            let mut results = Vec::new();
            for p in &spec.properties {
                match device.expand(object, p.property) {
                    Err(e) => results.push((*p, ReadResult::Error(e.0, e.1))),
                    Ok(list) if list.len() == 1 && list[0] == p.property => {
                        let r = match device.read(object, *p, self.model.revision) {
                            Ok(v) => ReadResult::Value(v),
                            Err((class, code)) => ReadResult::Error(class, code),
                        };
                        results.push((*p, r));
                    }
                    Ok(list) => {
                        for property in list {
                            let p = super::apdu::PropertyRef {
                                property,
                                index: None,
                            };
                            let r = match device.read(object, p, self.model.revision) {
                                Ok(v) => ReadResult::Value(v),
                                Err((class, code)) => ReadResult::Error(class, code),
                            };
                            results.push((p, r));
                        }
                    }
                }
            }
            push_read_multiple_result(&mut body, object, &results);
        }
        Apdu::ComplexAck {
            segmented: false,
            more_follows: false,
            invoke_id,
            segment: None,
            service: SERVICE_READ_PROPERTY_MULTIPLE,
            data: &body,
        }
        .encode()
    }

    /// Handles SubscribeCOV; returns the answer and, for a new or renewed subscription,
    /// the subscription to send the initial notification for.
    fn subscribe(
        &mut self,
        peer: &Peer,
        target: Option<u32>,
        invoke_id: u8,
        data: &[u8],
        now: Instant,
    ) -> (Vec<u8>, Option<Subscription>) {
        let request = match SubscribeCov::decode(data) {
            Ok(r) => r,
            Err(e) => {
                let reason = reject_reason(&e);
                return (Apdu::Reject { invoke_id, reason }.encode(), None);
            }
        };
        let error = |class, code| {
            Apdu::Error {
                invoke_id,
                service: SERVICE_SUBSCRIBE_COV,
                class,
                code,
            }
            .encode()
        };
        use super::apdu::error;
        let Some(device) = self.device(target) else {
            return (Vec::new(), None);
        };
        if request.object.kind != OBJECT_ANALOG_INPUT
            || device.point(request.object.instance).is_none()
        {
            let code = if device.object_name(request.object).is_some() {
                error::COV_SUBSCRIPTION_FAILED
            } else {
                error::UNKNOWN_OBJECT
            };
            return (error(error::CLASS_OBJECT, code), None);
        }
        let same = |s: &Subscription| {
            s.peer == *peer
                && s.process_id == request.process_id
                && s.device == target
                && s.object == request.object
        };
        self.subscriptions.retain(|s| !same(s));
        let ack = Apdu::SimpleAck {
            invoke_id,
            service: SERVICE_SUBSCRIBE_COV,
        }
        .encode();
        let (Some(confirmed), Some(lifetime)) = (request.issue_confirmed, request.lifetime) else {
            return (ack, None); // a cancellation
        };
        if self.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return (
                error(error::CLASS_SERVICES, error::COV_SUBSCRIPTION_FAILED),
                None,
            );
        }
        let subscription = Subscription {
            peer: peer.clone(),
            process_id: request.process_id,
            device: target,
            object: request.object,
            confirmed,
            expires: (lifetime > 0).then(|| now + Duration::from_secs(u64::from(lifetime))),
        };
        self.subscriptions.push(subscription.clone());
        (ack, Some(subscription))
    }

    fn notify(&mut self, s: &Subscription, now: Instant, out: &mut Vec<Datagram>) {
        let Some(device) = self.device(s.device) else {
            return;
        };
        let Some(values) = device.cov_values(s.object.instance) else {
            return;
        };
        let notification = CovNotification {
            process_id: s.process_id,
            device: device.id(),
            object: s.object,
            time_remaining: s.expires.map_or(0, |e| {
                e.saturating_duration_since(now)
                    .as_secs()
                    .min(u64::from(u32::MAX)) as u32
            }),
            values,
        }
        .encode();
        let apdu = if s.confirmed {
            self.next_invoke_id = self.next_invoke_id.wrapping_add(1);
            Apdu::ConfirmedRequest {
                segmented: false,
                more_follows: false,
                segmented_response_accepted: false,
                max_segments: 0,
                max_apdu: 5,
                invoke_id: self.next_invoke_id,
                segment: None,
                service: SERVICE_CONFIRMED_COV_NOTIFICATION,
                data: &notification,
            }
        } else {
            Apdu::UnconfirmedRequest {
                service: SERVICE_UNCONFIRMED_COV_NOTIFICATION,
                data: &notification,
            }
        }
        .encode();
        self.unicast(&s.peer, s.device, &apdu, out);
    }

    /// Serves `model` from now on; subscribers of inputs whose present-value or
    /// status-flags changed are notified.
    pub fn replace_model(&mut self, model: Model, now: Instant) -> Vec<Datagram> {
        let old = std::mem::replace(&mut self.model, model);
        let mut out = Vec::new();
        self.expire(now);
        let values = |m: &Model, s: &Subscription| {
            let device = match s.device {
                None => Some(&m.logger),
                Some(i) => m.meter(i),
            };
            device
                .and_then(|d| d.cov_values(s.object.instance))
                .map(|v| cov_bytes(&v))
        };
        let changed: Vec<Subscription> = self
            .subscriptions
            .iter()
            .filter(|s| {
                let new = values(&self.model, s);
                new.is_some() && new != values(&old, s)
            })
            .cloned()
            .collect();
        for s in &changed {
            self.notify(s, now, &mut out);
        }
        out
    }

    fn expire(&mut self, now: Instant) {
        self.subscriptions
            .retain(|s| s.expires.is_none_or(|e| e > now));
        self.fdt.retain(|f| f.expires > now);
    }

    /// Timers: expired subscriptions and foreign devices are dropped; a foreign device
    /// (re-)registers with its BBMD at half its time to live.
    pub fn tick(&mut self, now: Instant) -> Vec<Datagram> {
        self.expire(now);
        let mut out = Vec::new();
        if let Role::Foreign { bbmd, ttl } = self.role {
            if self.next_registration.is_some_and(|t| t <= now) {
                out.push(Datagram {
                    to: bbmd,
                    bytes: Bvlc::RegisterForeignDevice(ttl).encode(),
                });
                let half = Duration::from_secs(u64::from(ttl / 2).max(1));
                self.next_registration = Some(now + half);
            }
        }
        out
    }
}

fn result(to: SocketAddrV4, code: u16) -> Datagram {
    Datagram {
        to,
        bytes: Bvlc::Result(code).encode(),
    }
}
