//! BACnet application-layer PDUs (ASHRAE 135 clause 20.1) and the service requests and
//! answers this server handles (clauses 13, 15, 16, 21).

use super::tag::{write_closing, write_opening, ObjectId, Reader, Value};
use super::DecodeError;

/// Confirmed service SubscribeCOV.
pub const SERVICE_SUBSCRIBE_COV: u8 = 5;
/// Confirmed service ConfirmedCOVNotification.
pub const SERVICE_CONFIRMED_COV_NOTIFICATION: u8 = 1;
/// Confirmed service ReadProperty.
pub const SERVICE_READ_PROPERTY: u8 = 12;
/// Confirmed service ReadPropertyMultiple.
pub const SERVICE_READ_PROPERTY_MULTIPLE: u8 = 14;
/// Unconfirmed service I-Am.
pub const SERVICE_I_AM: u8 = 0;
/// Unconfirmed service I-Have.
pub const SERVICE_I_HAVE: u8 = 1;
/// Unconfirmed service UnconfirmedCOVNotification.
pub const SERVICE_UNCONFIRMED_COV_NOTIFICATION: u8 = 2;
/// Unconfirmed service Who-Has.
pub const SERVICE_WHO_HAS: u8 = 7;
/// Unconfirmed service Who-Is.
pub const SERVICE_WHO_IS: u8 = 8;

/// Largest APDU this server accepts and sends (the B/IP maximum).
pub const MAX_APDU: usize = 1476;

/// The largest APDU a "max-APDU-length-accepted" code of a confirmed request stands for.
pub fn max_apdu_of_code(code: u8) -> usize {
    match code {
        0 => 50,
        1 => 128,
        2 => 206,
        3 => 480,
        4 => 1024,
        _ => MAX_APDU,
    }
}

/// Reject reasons (clause 18.8).
pub mod reject {
    /// Other.
    pub const OTHER: u8 = 0;
    /// Invalid tag.
    pub const INVALID_TAG: u8 = 4;
    /// Missing required parameter.
    pub const MISSING_REQUIRED_PARAMETER: u8 = 5;
    /// Parameter out of range.
    pub const PARAMETER_OUT_OF_RANGE: u8 = 6;
    /// Unrecognized service.
    pub const UNRECOGNIZED_SERVICE: u8 = 9;
}

/// Abort reasons (clause 18.9).
pub mod abort {
    /// Other.
    pub const OTHER: u8 = 0;
    /// Segmentation not supported.
    pub const SEGMENTATION_NOT_SUPPORTED: u8 = 4;
}

/// Error classes and codes (clause 18).
pub mod error {
    /// Error class object.
    pub const CLASS_OBJECT: u32 = 1;
    /// Error class property.
    pub const CLASS_PROPERTY: u32 = 2;
    /// Error class services.
    pub const CLASS_SERVICES: u32 = 5;
    /// Error code unknown-object.
    pub const UNKNOWN_OBJECT: u32 = 31;
    /// Error code unknown-property.
    pub const UNKNOWN_PROPERTY: u32 = 32;
    /// Error code invalid-array-index.
    pub const INVALID_ARRAY_INDEX: u32 = 42;
    /// Error code property-is-not-an-array.
    pub const PROPERTY_IS_NOT_AN_ARRAY: u32 = 50;
    /// Error code cov-subscription-failed.
    pub const COV_SUBSCRIPTION_FAILED: u32 = 43;
    /// Error code service-request-denied.
    pub const SERVICE_REQUEST_DENIED: u32 = 29;
}

/// One APDU; service data borrows from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Apdu<'a> {
    /// A confirmed request.
    ConfirmedRequest {
        /// The request is a segment (this server does not take segmented requests).
        segmented: bool,
        /// More segments follow.
        more_follows: bool,
        /// The client accepts a segmented answer.
        segmented_response_accepted: bool,
        /// Code of the most segments the client accepts (0 = unspecified).
        max_segments: u8,
        /// Code of the largest APDU the client accepts (see [`max_apdu_of_code`]).
        max_apdu: u8,
        /// Invoke id the answer must carry.
        invoke_id: u8,
        /// Sequence number and proposed window size of a segment.
        segment: Option<(u8, u8)>,
        /// Service choice.
        service: u8,
        /// Service request.
        data: &'a [u8],
    },
    /// An unconfirmed request.
    UnconfirmedRequest {
        /// Service choice.
        service: u8,
        /// Service request.
        data: &'a [u8],
    },
    /// SimpleACK.
    SimpleAck {
        /// Invoke id of the request.
        invoke_id: u8,
        /// Service acknowledged.
        service: u8,
    },
    /// ComplexACK (unsegmented; a segmented one decodes with its segment fields).
    ComplexAck {
        /// A segment of a longer answer.
        segmented: bool,
        /// More segments follow.
        more_follows: bool,
        /// Invoke id of the request.
        invoke_id: u8,
        /// Sequence number and proposed window size of a segment.
        segment: Option<(u8, u8)>,
        /// Service answered.
        service: u8,
        /// Service answer.
        data: &'a [u8],
    },
    /// SegmentACK.
    SegmentAck {
        /// Negative acknowledgement.
        negative: bool,
        /// Sent by a server.
        server: bool,
        /// Invoke id.
        invoke_id: u8,
        /// Sequence number acknowledged.
        sequence: u8,
        /// Actual window size.
        window: u8,
    },
    /// Error.
    Error {
        /// Invoke id of the request.
        invoke_id: u8,
        /// Service that failed.
        service: u8,
        /// Error class.
        class: u32,
        /// Error code.
        code: u32,
    },
    /// Reject.
    Reject {
        /// Invoke id of the request.
        invoke_id: u8,
        /// Reject reason.
        reason: u8,
    },
    /// Abort.
    Abort {
        /// Sent by the server.
        server: bool,
        /// Invoke id.
        invoke_id: u8,
        /// Abort reason.
        reason: u8,
    },
}

impl<'a> Apdu<'a> {
    /// Decodes an APDU.
    pub fn decode(bytes: &'a [u8]) -> Result<Apdu<'a>, DecodeError> {
        let at = |offset: usize, what: &'static str| -> Result<u8, DecodeError> {
            bytes
                .get(offset)
                .copied()
                .ok_or(DecodeError::Truncated { offset, what })
        };
        let first = at(0, "APDU type")?;
        let flags = first & 0x0F;
        Ok(match first >> 4 {
            0 => {
                let segmented = flags & 0x08 != 0;
                let info = at(1, "max segments and APDU")?;
                let invoke_id = at(2, "invoke id")?;
                let (segment, next) = if segmented {
                    (Some((at(3, "sequence number")?, at(4, "window size")?)), 5)
                } else {
                    (None, 3)
                };
                Apdu::ConfirmedRequest {
                    segmented,
                    more_follows: flags & 0x04 != 0,
                    segmented_response_accepted: flags & 0x02 != 0,
                    max_segments: (info >> 4) & 0x07,
                    max_apdu: info & 0x0F,
                    invoke_id,
                    segment,
                    service: at(next, "service choice")?,
                    data: &bytes[next + 1..],
                }
            }
            1 => Apdu::UnconfirmedRequest {
                service: at(1, "service choice")?,
                data: &bytes[2..],
            },
            2 => {
                let invoke_id = at(1, "invoke id")?;
                let service = at(2, "service choice")?;
                if bytes.len() != 3 {
                    return Err(DecodeError::Invalid {
                        offset: 3,
                        what: "SimpleACK with content",
                    });
                }
                Apdu::SimpleAck { invoke_id, service }
            }
            3 => {
                let segmented = flags & 0x08 != 0;
                let invoke_id = at(1, "invoke id")?;
                let (segment, next) = if segmented {
                    (Some((at(2, "sequence number")?, at(3, "window size")?)), 4)
                } else {
                    (None, 2)
                };
                Apdu::ComplexAck {
                    segmented,
                    more_follows: flags & 0x04 != 0,
                    invoke_id,
                    segment,
                    service: at(next, "service choice")?,
                    data: &bytes[next + 1..],
                }
            }
            4 => Apdu::SegmentAck {
                negative: flags & 0x02 != 0,
                server: flags & 0x01 != 0,
                invoke_id: at(1, "invoke id")?,
                sequence: at(2, "sequence number")?,
                window: at(3, "window size")?,
            },
            5 => {
                let invoke_id = at(1, "invoke id")?;
                let service = at(2, "service choice")?;
                let mut r = Reader::new(&bytes[3..]);
                let (class, code) = match (r.value()?, r.value()?) {
                    (Value::Enumerated(class), Value::Enumerated(code)) => (class, code),
                    _ => {
                        return Err(DecodeError::Invalid {
                            offset: 3,
                            what: "error class and code not enumerated",
                        })
                    }
                };
                Apdu::Error {
                    invoke_id,
                    service,
                    class,
                    code,
                }
            }
            6 => Apdu::Reject {
                invoke_id: at(1, "invoke id")?,
                reason: at(2, "reject reason")?,
            },
            7 => Apdu::Abort {
                server: flags & 0x01 != 0,
                invoke_id: at(1, "invoke id")?,
                reason: at(2, "abort reason")?,
            },
            _ => {
                return Err(DecodeError::Invalid {
                    offset: 0,
                    what: "reserved APDU type",
                })
            }
        })
    }

    /// Encodes the APDU.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Apdu::ConfirmedRequest {
                segmented,
                more_follows,
                segmented_response_accepted,
                max_segments,
                max_apdu,
                invoke_id,
                segment,
                service,
                data,
            } => {
                let mut first = 0x00;
                if *segmented {
                    first |= 0x08;
                }
                if *more_follows {
                    first |= 0x04;
                }
                if *segmented_response_accepted {
                    first |= 0x02;
                }
                out.extend_from_slice(&[
                    first,
                    ((max_segments & 0x07) << 4) | (max_apdu & 0x0F),
                    *invoke_id,
                ]);
                if let (true, Some((seq, window))) = (segmented, segment) {
                    out.extend_from_slice(&[*seq, *window]);
                }
                out.push(*service);
                out.extend_from_slice(data);
            }
            Apdu::UnconfirmedRequest { service, data } => {
                out.extend_from_slice(&[0x10, *service]);
                out.extend_from_slice(data);
            }
            Apdu::SimpleAck { invoke_id, service } => {
                out.extend_from_slice(&[0x20, *invoke_id, *service]);
            }
            Apdu::ComplexAck {
                segmented,
                more_follows,
                invoke_id,
                segment,
                service,
                data,
            } => {
                let mut first = 0x30;
                if *segmented {
                    first |= 0x08;
                }
                if *more_follows {
                    first |= 0x04;
                }
                out.extend_from_slice(&[first, *invoke_id]);
                if let (true, Some((seq, window))) = (segmented, segment) {
                    out.extend_from_slice(&[*seq, *window]);
                }
                out.push(*service);
                out.extend_from_slice(data);
            }
            Apdu::SegmentAck {
                negative,
                server,
                invoke_id,
                sequence,
                window,
            } => {
                let first = 0x40 | (u8::from(*negative) << 1) | u8::from(*server);
                out.extend_from_slice(&[first, *invoke_id, *sequence, *window]);
            }
            Apdu::Error {
                invoke_id,
                service,
                class,
                code,
            } => {
                out.extend_from_slice(&[0x50, *invoke_id, *service]);
                Value::Enumerated(*class).encode(&mut out);
                Value::Enumerated(*code).encode(&mut out);
            }
            Apdu::Reject { invoke_id, reason } => {
                out.extend_from_slice(&[0x60, *invoke_id, *reason]);
            }
            Apdu::Abort {
                server,
                invoke_id,
                reason,
            } => {
                out.extend_from_slice(&[0x70 | u8::from(*server), *invoke_id, *reason]);
            }
        }
        out
    }
}

/// Who-Is: asks devices in an instance range (or all) to announce themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhoIs {
    /// Lowest and highest device instance asked for; `None` = all.
    pub range: Option<(u32, u32)>,
}

fn instance(v: u64, at: usize) -> Result<u32, DecodeError> {
    u32::try_from(v)
        .ok()
        .filter(|v| *v <= super::tag::WILDCARD_INSTANCE)
        .ok_or(DecodeError::Invalid {
            offset: at,
            what: "device instance out of range",
        })
}

fn range(r: &mut Reader<'_>) -> Result<Option<(u32, u32)>, DecodeError> {
    if !r.peek_context(0) {
        return Ok(None);
    }
    let at = r.position();
    let low = instance(r.context_unsigned(0)?, at)?;
    let at = r.position();
    let high = instance(r.context_unsigned(1)?, at)?;
    Ok(Some((low, high)))
}

fn push_range(range: Option<(u32, u32)>, out: &mut Vec<u8>) {
    if let Some((low, high)) = range {
        Value::Unsigned(u64::from(low)).encode_context(0, out);
        Value::Unsigned(u64::from(high)).encode_context(1, out);
    }
}

fn finished(r: &Reader<'_>) -> Result<(), DecodeError> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::Invalid {
            offset: r.position(),
            what: "unexpected data after the service parameters",
        })
    }
}

impl WhoIs {
    /// Decodes the service request.
    pub fn decode(data: &[u8]) -> Result<WhoIs, DecodeError> {
        let mut r = Reader::new(data);
        let range = range(&mut r)?;
        finished(&r)?;
        Ok(WhoIs { range })
    }

    /// Encodes the service request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push_range(self.range, &mut out);
        out
    }

    /// Whether device `instance` is asked for.
    pub fn matches(&self, instance: u32) -> bool {
        self.range
            .is_none_or(|(low, high)| (low..=high).contains(&instance))
    }
}

/// I-Am: a device announces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IAm {
    /// The device object.
    pub device: ObjectId,
    /// Largest APDU it accepts.
    pub max_apdu: u32,
    /// Segmentation support (3 = none).
    pub segmentation: u32,
    /// Vendor identifier.
    pub vendor: u32,
}

impl IAm {
    /// Encodes the service request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        Value::ObjectId(self.device).encode(&mut out);
        Value::Unsigned(u64::from(self.max_apdu)).encode(&mut out);
        Value::Enumerated(self.segmentation).encode(&mut out);
        Value::Unsigned(u64::from(self.vendor)).encode(&mut out);
        out
    }

    /// Decodes the service request.
    pub fn decode(data: &[u8]) -> Result<IAm, DecodeError> {
        let mut r = Reader::new(data);
        let parsed = (r.value()?, r.value()?, r.value()?, r.value()?);
        finished(&r)?;
        match parsed {
            (
                Value::ObjectId(device),
                Value::Unsigned(max_apdu),
                Value::Enumerated(segmentation),
                Value::Unsigned(vendor),
            ) => Ok(IAm {
                device,
                max_apdu: u32::try_from(max_apdu).unwrap_or(u32::MAX),
                segmentation,
                vendor: u32::try_from(vendor).unwrap_or(u32::MAX),
            }),
            _ => Err(DecodeError::Invalid {
                offset: 0,
                what: "I-Am parameters of the wrong types",
            }),
        }
    }
}

/// What a Who-Has looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HasObject {
    /// An object identifier.
    Id(ObjectId),
    /// An object name.
    Name(String),
}

/// Who-Has: asks which device holds an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoHas {
    /// Device instance range asked; `None` = all.
    pub range: Option<(u32, u32)>,
    /// The object looked for.
    pub object: HasObject,
}

impl WhoHas {
    /// Decodes the service request.
    pub fn decode(data: &[u8]) -> Result<WhoHas, DecodeError> {
        let mut r = Reader::new(data);
        let range = range(&mut r)?;
        let object = if r.peek_context(2) {
            HasObject::Id(r.context_object_id(2)?)
        } else {
            HasObject::Name(r.context_string(3)?)
        };
        finished(&r)?;
        Ok(WhoHas { range, object })
    }

    /// Encodes the service request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push_range(self.range, &mut out);
        match &self.object {
            HasObject::Id(id) => Value::ObjectId(*id).encode_context(2, &mut out),
            HasObject::Name(name) => {
                Value::CharacterString(name.clone()).encode_context(3, &mut out)
            }
        }
        out
    }
}

/// I-Have: a device says it holds an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IHave {
    /// The device.
    pub device: ObjectId,
    /// The object.
    pub object: ObjectId,
    /// The object's name.
    pub name: String,
}

impl IHave {
    /// Encodes the service request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        Value::ObjectId(self.device).encode(&mut out);
        Value::ObjectId(self.object).encode(&mut out);
        Value::CharacterString(self.name.clone()).encode(&mut out);
        out
    }

    /// Decodes the service request.
    pub fn decode(data: &[u8]) -> Result<IHave, DecodeError> {
        let mut r = Reader::new(data);
        let parsed = (r.value()?, r.value()?, r.value()?);
        finished(&r)?;
        match parsed {
            (Value::ObjectId(device), Value::ObjectId(object), Value::CharacterString(name)) => {
                Ok(IHave {
                    device,
                    object,
                    name,
                })
            }
            _ => Err(DecodeError::Invalid {
                offset: 0,
                what: "I-Have parameters of the wrong types",
            }),
        }
    }
}

/// One property reference: property identifier and optional array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertyRef {
    /// Property identifier.
    pub property: u32,
    /// Array index (0 = the array's length).
    pub index: Option<u32>,
}

fn array_index(v: Option<u64>, at: usize) -> Result<Option<u32>, DecodeError> {
    v.map(|v| {
        u32::try_from(v).map_err(|_| DecodeError::Invalid {
            offset: at,
            what: "array index out of range",
        })
    })
    .transpose()
}

/// ReadProperty request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadProperty {
    /// The object.
    pub object: ObjectId,
    /// The property.
    pub property: PropertyRef,
}

impl ReadProperty {
    /// Decodes the service request.
    pub fn decode(data: &[u8]) -> Result<ReadProperty, DecodeError> {
        let mut r = Reader::new(data);
        let object = r.context_object_id(0)?;
        let property = r.context_enumerated(1)?;
        let at = r.position();
        let index = array_index(r.optional_unsigned(2)?, at)?;
        finished(&r)?;
        Ok(ReadProperty {
            object,
            property: PropertyRef { property, index },
        })
    }

    /// Encodes the service request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        Value::ObjectId(self.object).encode_context(0, &mut out);
        Value::Enumerated(self.property.property).encode_context(1, &mut out);
        if let Some(i) = self.property.index {
            Value::Unsigned(u64::from(i)).encode_context(2, &mut out);
        }
        out
    }

    /// Encodes the ComplexACK answer around already encoded `values`.
    pub fn encode_ack(&self, values: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(values.len() + 16);
        Value::ObjectId(self.object).encode_context(0, &mut out);
        Value::Enumerated(self.property.property).encode_context(1, &mut out);
        if let Some(i) = self.property.index {
            Value::Unsigned(u64::from(i)).encode_context(2, &mut out);
        }
        write_opening(&mut out, 3);
        out.extend_from_slice(values);
        write_closing(&mut out, 3);
        out
    }
}

/// One read access specification of a ReadPropertyMultiple request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadAccessSpec {
    /// The object.
    pub object: ObjectId,
    /// The properties asked for (ALL, REQUIRED and OPTIONAL included as given).
    pub properties: Vec<PropertyRef>,
}

/// Decodes a ReadPropertyMultiple request.
pub fn decode_read_multiple(data: &[u8]) -> Result<Vec<ReadAccessSpec>, DecodeError> {
    let mut r = Reader::new(data);
    let mut specs = Vec::new();
    while !r.is_empty() {
        let object = r.context_object_id(0)?;
        r.opening(1)?;
        let mut properties = Vec::new();
        while !r.peek_closing(1) {
            let property = r.context_enumerated(0)?;
            let at = r.position();
            let index = array_index(r.optional_unsigned(1)?, at)?;
            properties.push(PropertyRef { property, index });
        }
        r.closing(1)?;
        if properties.is_empty() {
            return Err(DecodeError::Invalid {
                offset: r.position(),
                what: "read access specification without properties",
            });
        }
        specs.push(ReadAccessSpec { object, properties });
    }
    if specs.is_empty() {
        return Err(DecodeError::Truncated {
            offset: 0,
            what: "read access specification",
        });
    }
    Ok(specs)
}

/// Encodes a ReadPropertyMultiple request.
pub fn encode_read_multiple(specs: &[ReadAccessSpec]) -> Vec<u8> {
    let mut out = Vec::new();
    for spec in specs {
        Value::ObjectId(spec.object).encode_context(0, &mut out);
        write_opening(&mut out, 1);
        for p in &spec.properties {
            Value::Enumerated(p.property).encode_context(0, &mut out);
            if let Some(i) = p.index {
                Value::Unsigned(u64::from(i)).encode_context(1, &mut out);
            }
        }
        write_closing(&mut out, 1);
    }
    out
}

/// The result of reading one property in a ReadPropertyMultiple answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadResult {
    /// The encoded value(s).
    Value(Vec<u8>),
    /// Error class and code.
    Error(u32, u32),
}

/// Appends one object's part of a ReadPropertyMultiple answer.
pub fn push_read_multiple_result(
    out: &mut Vec<u8>,
    object: ObjectId,
    results: &[(PropertyRef, ReadResult)],
) {
    Value::ObjectId(object).encode_context(0, out);
    write_opening(out, 1);
    for (p, result) in results {
        Value::Enumerated(p.property).encode_context(2, out);
        if let Some(i) = p.index {
            Value::Unsigned(u64::from(i)).encode_context(3, out);
        }
        match result {
            ReadResult::Value(bytes) => {
                write_opening(out, 4);
                out.extend_from_slice(bytes);
                write_closing(out, 4);
            }
            ReadResult::Error(class, code) => {
                write_opening(out, 5);
                Value::Enumerated(*class).encode(out);
                Value::Enumerated(*code).encode(out);
                write_closing(out, 5);
            }
        }
    }
    write_closing(out, 1);
}

/// One object's part of a ReadPropertyMultiple answer: each property with its result.
pub type ObjectResults = (ObjectId, Vec<(PropertyRef, ReadResult)>);

/// Decodes a ReadPropertyMultiple answer (values kept encoded).
pub fn decode_read_multiple_ack(data: &[u8]) -> Result<Vec<ObjectResults>, DecodeError> {
    let mut r = Reader::new(data);
    let mut objects = Vec::new();
    while !r.is_empty() {
        let object = r.context_object_id(0)?;
        r.opening(1)?;
        let mut results = Vec::new();
        while !r.peek_closing(1) {
            let property = r.context_enumerated(2)?;
            let at = r.position();
            let index = array_index(r.optional_unsigned(3)?, at)?;
            let result = if r.peek_opening(4) {
                r.opening(4)?;
                let start = r.position();
                r.skip_to_closing(4)?;
                let end = r.position() - 1;
                ReadResult::Value(data[start..end].to_vec())
            } else {
                r.opening(5)?;
                let class = r.value()?;
                let code = r.value()?;
                r.closing(5)?;
                match (class, code) {
                    (Value::Enumerated(class), Value::Enumerated(code)) => {
                        ReadResult::Error(class, code)
                    }
                    _ => {
                        return Err(DecodeError::Invalid {
                            offset: at,
                            what: "error class and code not enumerated",
                        })
                    }
                }
            };
            results.push((PropertyRef { property, index }, result));
        }
        r.closing(1)?;
        objects.push((object, results));
    }
    Ok(objects)
}

/// SubscribeCOV request; without `issue_confirmed` and `lifetime` it cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeCov {
    /// The subscriber's process identifier.
    pub process_id: u32,
    /// The object to watch.
    pub object: ObjectId,
    /// Confirmed (true) or unconfirmed notifications; `None` for a cancellation.
    pub issue_confirmed: Option<bool>,
    /// Lifetime in seconds (0 = indefinite); `None` for a cancellation.
    pub lifetime: Option<u32>,
}

impl SubscribeCov {
    /// Decodes the service request.
    pub fn decode(data: &[u8]) -> Result<SubscribeCov, DecodeError> {
        let mut r = Reader::new(data);
        let at = r.position();
        let process_id =
            u32::try_from(r.context_unsigned(0)?).map_err(|_| DecodeError::Invalid {
                offset: at,
                what: "process identifier out of range",
            })?;
        let object = r.context_object_id(1)?;
        let issue_confirmed = if r.peek_context(2) {
            Some(r.context_boolean(2)?)
        } else {
            None
        };
        let at = r.position();
        let lifetime = r
            .optional_unsigned(3)?
            .map(|v| {
                u32::try_from(v).map_err(|_| DecodeError::Invalid {
                    offset: at,
                    what: "lifetime out of range",
                })
            })
            .transpose()?;
        finished(&r)?;
        Ok(SubscribeCov {
            process_id,
            object,
            issue_confirmed,
            lifetime,
        })
    }

    /// Encodes the service request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        Value::Unsigned(u64::from(self.process_id)).encode_context(0, &mut out);
        Value::ObjectId(self.object).encode_context(1, &mut out);
        if let Some(c) = self.issue_confirmed {
            Value::Boolean(c).encode_context(2, &mut out);
        }
        if let Some(l) = self.lifetime {
            Value::Unsigned(u64::from(l)).encode_context(3, &mut out);
        }
        out
    }
}

/// A COV notification (confirmed or unconfirmed; same parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct CovNotification {
    /// The subscriber's process identifier.
    pub process_id: u32,
    /// The device sending it.
    pub device: ObjectId,
    /// The object that changed.
    pub object: ObjectId,
    /// Seconds left of the subscription.
    pub time_remaining: u32,
    /// Property identifiers with their new values.
    pub values: Vec<(u32, Value)>,
}

impl CovNotification {
    /// Encodes the service request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        Value::Unsigned(u64::from(self.process_id)).encode_context(0, &mut out);
        Value::ObjectId(self.device).encode_context(1, &mut out);
        Value::ObjectId(self.object).encode_context(2, &mut out);
        Value::Unsigned(u64::from(self.time_remaining)).encode_context(3, &mut out);
        write_opening(&mut out, 4);
        for (property, value) in &self.values {
            Value::Enumerated(*property).encode_context(0, &mut out);
            write_opening(&mut out, 2);
            value.encode(&mut out);
            write_closing(&mut out, 2);
        }
        write_closing(&mut out, 4);
        out
    }

    /// Decodes the service request (one primitive value per property).
    pub fn decode(data: &[u8]) -> Result<CovNotification, DecodeError> {
        let mut r = Reader::new(data);
        let number = |v: u64, at| {
            u32::try_from(v).map_err(|_| DecodeError::Invalid {
                offset: at,
                what: "number out of range",
            })
        };
        let process_id = number(r.context_unsigned(0)?, 0)?;
        let device = r.context_object_id(1)?;
        let object = r.context_object_id(2)?;
        let at = r.position();
        let time_remaining = number(r.context_unsigned(3)?, at)?;
        r.opening(4)?;
        let mut values = Vec::new();
        while !r.peek_closing(4) {
            let property = r.context_enumerated(0)?;
            r.optional_unsigned(1)?;
            r.opening(2)?;
            let value = r.value()?;
            r.closing(2)?;
            r.optional_unsigned(3)?;
            values.push((property, value));
        }
        r.closing(4)?;
        finished(&r)?;
        Ok(CovNotification {
            process_id,
            device,
            object,
            time_remaining,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tag::{OBJECT_ANALOG_INPUT, OBJECT_DEVICE};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_apdu_type_round_trips() {
        let data = [0x0C, 0x02, 0x00, 0x00, 0x08];
        let apdus = vec![
            Apdu::ConfirmedRequest {
                segmented: false,
                more_follows: false,
                segmented_response_accepted: true,
                max_segments: 0,
                max_apdu: 5,
                invoke_id: 1,
                segment: None,
                service: SERVICE_READ_PROPERTY,
                data: &data,
            },
            Apdu::ConfirmedRequest {
                segmented: true,
                more_follows: true,
                segmented_response_accepted: false,
                max_segments: 7,
                max_apdu: 3,
                invoke_id: 200,
                segment: Some((3, 4)),
                service: SERVICE_READ_PROPERTY_MULTIPLE,
                data: &data,
            },
            Apdu::UnconfirmedRequest {
                service: SERVICE_WHO_IS,
                data: &[],
            },
            Apdu::SimpleAck {
                invoke_id: 9,
                service: SERVICE_SUBSCRIBE_COV,
            },
            Apdu::ComplexAck {
                segmented: false,
                more_follows: false,
                invoke_id: 9,
                segment: None,
                service: SERVICE_READ_PROPERTY,
                data: &data,
            },
            Apdu::ComplexAck {
                segmented: true,
                more_follows: false,
                invoke_id: 9,
                segment: Some((1, 2)),
                service: SERVICE_READ_PROPERTY,
                data: &data,
            },
            Apdu::SegmentAck {
                negative: true,
                server: true,
                invoke_id: 4,
                sequence: 5,
                window: 6,
            },
            Apdu::Error {
                invoke_id: 3,
                service: SERVICE_READ_PROPERTY,
                class: error::CLASS_OBJECT,
                code: error::UNKNOWN_OBJECT,
            },
            Apdu::Reject {
                invoke_id: 3,
                reason: reject::UNRECOGNIZED_SERVICE,
            },
            Apdu::Abort {
                server: true,
                invoke_id: 3,
                reason: abort::SEGMENTATION_NOT_SUPPORTED,
            },
        ];
        for apdu in apdus {
            assert_eq!(Apdu::decode(&apdu.encode()).unwrap(), apdu);
        }
    }

    #[test]
    fn read_property_request_matches_the_standard_example() {
        // ReadProperty of analog-input 5, present-value (clause F.3.5 layout).
        let rp = ReadProperty {
            object: ObjectId::new(OBJECT_ANALOG_INPUT, 5),
            property: PropertyRef {
                property: 85,
                index: None,
            },
        };
        assert_eq!(rp.encode(), [0x0C, 0x00, 0x00, 0x00, 0x05, 0x19, 0x55]);
        assert_eq!(ReadProperty::decode(&rp.encode()).unwrap(), rp);
        let with_index = ReadProperty {
            property: PropertyRef {
                property: 76,
                index: Some(0),
            },
            ..rp
        };
        assert_eq!(
            ReadProperty::decode(&with_index.encode()).unwrap(),
            with_index
        );
        let ack = rp.encode_ack(&[0x44, 0x42, 0x90, 0, 0]);
        assert_eq!(&ack[7..], &[0x3E, 0x44, 0x42, 0x90, 0, 0, 0x3F]);
    }

    #[test]
    fn unconfirmed_services_round_trip() {
        for w in [
            WhoIs { range: None },
            WhoIs {
                range: Some((3, 4_194_303)),
            },
        ] {
            assert_eq!(WhoIs::decode(&w.encode()).unwrap(), w);
        }
        assert!(WhoIs {
            range: Some((5, 9))
        }
        .matches(9));
        assert!(!WhoIs {
            range: Some((5, 9))
        }
        .matches(10));
        let i_am = IAm {
            device: ObjectId::new(OBJECT_DEVICE, 1000),
            max_apdu: 1476,
            segmentation: 3,
            vendor: 999,
        };
        assert_eq!(IAm::decode(&i_am.encode()).unwrap(), i_am);
        for object in [
            HasObject::Id(ObjectId::new(OBJECT_ANALOG_INPUT, 2)),
            HasObject::Name("Energy".into()),
        ] {
            let w = WhoHas {
                range: Some((1, 2)),
                object,
            };
            assert_eq!(WhoHas::decode(&w.encode()).unwrap(), w);
        }
        let have = IHave {
            device: ObjectId::new(OBJECT_DEVICE, 7),
            object: ObjectId::new(OBJECT_ANALOG_INPUT, 2),
            name: "Wärme".into(),
        };
        assert_eq!(IHave::decode(&have.encode()).unwrap(), have);
    }

    #[test]
    fn read_multiple_request_and_answer_round_trip() {
        let specs = vec![
            ReadAccessSpec {
                object: ObjectId::new(OBJECT_DEVICE, 1000),
                properties: vec![
                    PropertyRef {
                        property: 76,
                        index: Some(0),
                    },
                    PropertyRef {
                        property: 8,
                        index: None,
                    },
                ],
            },
            ReadAccessSpec {
                object: ObjectId::new(OBJECT_ANALOG_INPUT, 1),
                properties: vec![PropertyRef {
                    property: 85,
                    index: None,
                }],
            },
        ];
        assert_eq!(
            decode_read_multiple(&encode_read_multiple(&specs)).unwrap(),
            specs
        );
        let results = vec![
            (
                PropertyRef {
                    property: 85,
                    index: None,
                },
                ReadResult::Value(vec![0x44, 0x42, 0x90, 0, 0]),
            ),
            (
                PropertyRef {
                    property: 76,
                    index: Some(3),
                },
                ReadResult::Error(error::CLASS_PROPERTY, error::INVALID_ARRAY_INDEX),
            ),
        ];
        let mut out = Vec::new();
        push_read_multiple_result(&mut out, specs[1].object, &results);
        assert_eq!(
            decode_read_multiple_ack(&out).unwrap(),
            vec![(specs[1].object, results)]
        );
        assert!(decode_read_multiple(&[]).is_err());
        // An object with an empty property list is malformed.
        assert!(decode_read_multiple(&[0x0C, 0, 0, 0, 1, 0x1E, 0x1F]).is_err());
    }

    #[test]
    fn cov_subscription_and_notification_round_trip() {
        for s in [
            SubscribeCov {
                process_id: 18,
                object: ObjectId::new(OBJECT_ANALOG_INPUT, 10),
                issue_confirmed: Some(true),
                lifetime: Some(0),
            },
            SubscribeCov {
                process_id: 18,
                object: ObjectId::new(OBJECT_ANALOG_INPUT, 10),
                issue_confirmed: None,
                lifetime: None,
            },
        ] {
            assert_eq!(SubscribeCov::decode(&s.encode()).unwrap(), s);
        }
        let n = CovNotification {
            process_id: 18,
            device: ObjectId::new(OBJECT_DEVICE, 4),
            object: ObjectId::new(OBJECT_ANALOG_INPUT, 10),
            time_remaining: 0,
            values: vec![
                (85, Value::Real(65.0)),
                (111, Value::BitString(vec![false; 4])),
            ],
        };
        assert_eq!(CovNotification::decode(&n.encode()).unwrap(), n);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_any_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            if let Ok(a) = Apdu::decode(&bytes) {
                let again = a.encode();
                prop_assert_eq!(Apdu::decode(&again).unwrap(), a);
            }
            let _ = WhoIs::decode(&bytes);
            let _ = IAm::decode(&bytes);
            let _ = WhoHas::decode(&bytes);
            let _ = IHave::decode(&bytes);
            let _ = ReadProperty::decode(&bytes);
            let _ = decode_read_multiple(&bytes);
            let _ = decode_read_multiple_ack(&bytes);
            let _ = SubscribeCov::decode(&bytes);
            let _ = CovNotification::decode(&bytes);
        }

        #[test]
        fn who_is_ranges_round_trip(low in 0u32..=4_194_303, high in 0u32..=4_194_303) {
            let w = WhoIs { range: Some((low, high)) };
            prop_assert_eq!(WhoIs::decode(&w.encode()).unwrap(), w);
        }
    }
}
