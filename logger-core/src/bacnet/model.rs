//! The BACnet objects the gateway serves, built from the configuration, the stored readings
//! and the read status: the logger's device, one device per meter with one analog-input
//! per logged register, and how each property of them is read.

use super::apdu::{error, PropertyRef, MAX_APDU};
use super::tag::{ObjectId, Value, OBJECT_ANALOG_INPUT, OBJECT_DEVICE, WILDCARD_INSTANCE};
use super::units::engineering_unit;
use crate::config::Config;
use crate::medium;
use crate::meter_index::Assignment;
use crate::status::{ReadStatus, StatusBoard};
use crate::storage::Reading;

/// Vendor identifier sent in I-Am and the device objects. No identifier is registered
/// for this project with ASHRAE; 999 is the one commonly used by unregistered
/// implementations and test equipment.
pub const VENDOR_ID: u32 = 999;
/// Vendor name of every device.
pub const VENDOR_NAME: &str = "M-Bus toolkit";
/// BACnet protocol revision implemented.
pub const PROTOCOL_REVISION: u32 = 14;
/// `segmentation-supported`: no-segmentation.
pub const NO_SEGMENTATION: u32 = 3;

/// Property identifiers used here (clause 21, `BACnetPropertyIdentifier`).
pub mod prop {
    /// all
    pub const ALL: u32 = 8;
    /// required
    pub const REQUIRED: u32 = 105;
    /// optional
    pub const OPTIONAL: u32 = 80;
    /// apdu-timeout
    pub const APDU_TIMEOUT: u32 = 11;
    /// application-software-version
    pub const APPLICATION_SOFTWARE_VERSION: u32 = 12;
    /// description
    pub const DESCRIPTION: u32 = 28;
    /// device-address-binding
    pub const DEVICE_ADDRESS_BINDING: u32 = 30;
    /// event-state
    pub const EVENT_STATE: u32 = 36;
    /// firmware-revision
    pub const FIRMWARE_REVISION: u32 = 44;
    /// location
    pub const LOCATION: u32 = 58;
    /// max-apdu-length-accepted
    pub const MAX_APDU_LENGTH_ACCEPTED: u32 = 62;
    /// model-name
    pub const MODEL_NAME: u32 = 70;
    /// number-of-apdu-retries
    pub const NUMBER_OF_APDU_RETRIES: u32 = 73;
    /// object-identifier
    pub const OBJECT_IDENTIFIER: u32 = 75;
    /// object-list
    pub const OBJECT_LIST: u32 = 76;
    /// object-name
    pub const OBJECT_NAME: u32 = 77;
    /// object-type
    pub const OBJECT_TYPE: u32 = 79;
    /// out-of-service
    pub const OUT_OF_SERVICE: u32 = 81;
    /// present-value
    pub const PRESENT_VALUE: u32 = 85;
    /// protocol-object-types-supported
    pub const PROTOCOL_OBJECT_TYPES_SUPPORTED: u32 = 96;
    /// protocol-services-supported
    pub const PROTOCOL_SERVICES_SUPPORTED: u32 = 97;
    /// protocol-version
    pub const PROTOCOL_VERSION: u32 = 98;
    /// reliability
    pub const RELIABILITY: u32 = 103;
    /// segmentation-supported
    pub const SEGMENTATION_SUPPORTED: u32 = 107;
    /// status-flags
    pub const STATUS_FLAGS: u32 = 111;
    /// system-status
    pub const SYSTEM_STATUS: u32 = 112;
    /// units
    pub const UNITS: u32 = 117;
    /// vendor-identifier
    pub const VENDOR_IDENTIFIER: u32 = 120;
    /// vendor-name
    pub const VENDOR_NAME: u32 = 121;
    /// protocol-revision
    pub const PROTOCOL_REVISION: u32 = 139;
    /// database-revision
    pub const DATABASE_REVISION: u32 = 155;
    /// property-list
    pub const PROPERTY_LIST: u32 = 371;
}

const DEVICE_REQUIRED: &[u32] = &[
    prop::OBJECT_IDENTIFIER,
    prop::OBJECT_NAME,
    prop::OBJECT_TYPE,
    prop::SYSTEM_STATUS,
    prop::VENDOR_NAME,
    prop::VENDOR_IDENTIFIER,
    prop::MODEL_NAME,
    prop::FIRMWARE_REVISION,
    prop::APPLICATION_SOFTWARE_VERSION,
    prop::PROTOCOL_VERSION,
    prop::PROTOCOL_REVISION,
    prop::PROTOCOL_SERVICES_SUPPORTED,
    prop::PROTOCOL_OBJECT_TYPES_SUPPORTED,
    prop::OBJECT_LIST,
    prop::MAX_APDU_LENGTH_ACCEPTED,
    prop::SEGMENTATION_SUPPORTED,
    prop::APDU_TIMEOUT,
    prop::NUMBER_OF_APDU_RETRIES,
    prop::DEVICE_ADDRESS_BINDING,
    prop::DATABASE_REVISION,
    prop::PROPERTY_LIST,
];
const DEVICE_OPTIONAL: &[u32] = &[prop::DESCRIPTION, prop::LOCATION];
const INPUT_REQUIRED: &[u32] = &[
    prop::OBJECT_IDENTIFIER,
    prop::OBJECT_NAME,
    prop::OBJECT_TYPE,
    prop::PRESENT_VALUE,
    prop::STATUS_FLAGS,
    prop::EVENT_STATE,
    prop::OUT_OF_SERVICE,
    prop::UNITS,
    prop::PROPERTY_LIST,
];
const INPUT_OPTIONAL: &[u32] = &[prop::DESCRIPTION, prop::RELIABILITY];

/// Services this server executes, as bits of `protocol-services-supported`: subscribeCOV
/// (5), readProperty (12), readPropertyMultiple (14), who-Has (33), who-Is (34).
const SERVICES_SUPPORTED: &[usize] = &[5, 12, 14, 33, 34];
/// Length of the services bit string at protocol revision 14.
const SERVICES_BITS: usize = 41;
/// Length of the object-types bit string at protocol revision 14.
const OBJECT_TYPES_BITS: usize = 56;

/// `reliability` values used.
pub mod reliability {
    /// no-fault-detected
    pub const NO_FAULT: u32 = 0;
    /// unreliable-other: no value stored (never read, or the meter did not deliver it)
    pub const UNRELIABLE_OTHER: u32 = 7;
    /// configuration-error: the meter answers encrypted and no key is configured
    pub const CONFIGURATION_ERROR: u32 = 10;
    /// communication-failure: the meter's last read failed
    pub const COMMUNICATION_FAILURE: u32 = 12;
}

/// One analog-input: a logged register.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Instance number: the register's index in the meter's reply.
    pub instance: u32,
    /// Object name (unique in its device).
    pub name: String,
    /// Description: the register's description and its unit.
    pub description: String,
    /// BACnet engineering unit.
    pub units: u32,
    /// Present value: the stored value of the last reading, `None` if there is none.
    pub value: Option<f32>,
}

/// The state of a meter device's data, shared by its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// The meter's last read status.
    pub status: ReadStatus,
}

impl Health {
    /// `status-flags` of an input with or without a value: in-alarm, fault, overridden,
    /// out-of-service.
    pub fn status_flags(self, has_value: bool) -> Vec<bool> {
        vec![
            false,
            self.reliability(has_value) != reliability::NO_FAULT,
            false,
            false,
        ]
    }

    /// `reliability` of an input with or without a value.
    pub fn reliability(self, has_value: bool) -> u32 {
        match self.status {
            ReadStatus::Failed => reliability::COMMUNICATION_FAILURE,
            ReadStatus::Encrypted => reliability::CONFIGURATION_ERROR,
            _ if !has_value => reliability::UNRELIABLE_OTHER,
            _ => reliability::NO_FAULT,
        }
    }
}

/// A device object and its inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// Device instance.
    pub instance: u32,
    /// The meter's id (`None` for the logger's own device).
    pub meter: Option<u32>,
    /// Object name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Location.
    pub location: String,
    /// Model name.
    pub model: String,
    /// Health of the meter's data.
    pub health: Health,
    /// The analog-inputs, by instance.
    pub points: Vec<Point>,
}

impl Device {
    /// The device's object identifier.
    pub fn id(&self) -> ObjectId {
        ObjectId::new(OBJECT_DEVICE, self.instance)
    }

    /// The MAC address of a meter device on the virtual network: its instance in three
    /// bytes, most significant first.
    pub fn mac(&self) -> Vec<u8> {
        self.instance.to_be_bytes()[1..].to_vec()
    }

    /// The point with analog-input instance `instance`.
    pub fn point(&self, instance: u32) -> Option<&Point> {
        self.points
            .binary_search_by_key(&instance, |p| p.instance)
            .ok()
            .map(|i| &self.points[i])
    }

    /// Whether `object` is this device's device object (the wildcard instance included).
    pub fn is_self(&self, object: ObjectId) -> bool {
        object.kind == OBJECT_DEVICE
            && (object.instance == self.instance || object.instance == WILDCARD_INSTANCE)
    }

    /// The object identifier and name of an object of this device looked up by name.
    pub fn find_name(&self, name: &str) -> Option<ObjectId> {
        if self.name == name {
            return Some(self.id());
        }
        self.points
            .iter()
            .find(|p| p.name == name)
            .map(|p| ObjectId::new(OBJECT_ANALOG_INPUT, p.instance))
    }

    /// The name of `object` if this device has it.
    pub fn object_name(&self, object: ObjectId) -> Option<&str> {
        if self.is_self(object) {
            Some(&self.name)
        } else if object.kind == OBJECT_ANALOG_INPUT {
            self.point(object.instance).map(|p| p.name.as_str())
        } else {
            None
        }
    }

    /// The properties an ALL, REQUIRED or OPTIONAL reference stands for, or the property
    /// itself; `Err` for an unknown object.
    pub fn expand(&self, object: ObjectId, property: u32) -> Result<Vec<u32>, (u32, u32)> {
        let (required, optional) = if self.is_self(object) {
            (DEVICE_REQUIRED, DEVICE_OPTIONAL)
        } else if object.kind == OBJECT_ANALOG_INPUT && self.point(object.instance).is_some() {
            (INPUT_REQUIRED, INPUT_OPTIONAL)
        } else {
            return Err((error::CLASS_OBJECT, error::UNKNOWN_OBJECT));
        };
        Ok(match property {
            prop::ALL => required.iter().chain(optional).copied().collect(),
            prop::REQUIRED => required.to_vec(),
            prop::OPTIONAL => optional.to_vec(),
            other => vec![other],
        })
    }

    /// Reads one property of one of this device's objects, encoded with application tags.
    pub fn read(
        &self,
        object: ObjectId,
        p: PropertyRef,
        revision: u32,
    ) -> Result<Vec<u8>, (u32, u32)> {
        let mut out = Vec::new();
        if self.is_self(object) {
            self.read_device(p, revision, &mut out)?;
        } else if object.kind == OBJECT_ANALOG_INPUT {
            let point = self
                .point(object.instance)
                .ok_or((error::CLASS_OBJECT, error::UNKNOWN_OBJECT))?;
            self.read_point(point, p, &mut out)?;
        } else {
            return Err((error::CLASS_OBJECT, error::UNKNOWN_OBJECT));
        }
        Ok(out)
    }

    fn read_device(
        &self,
        p: PropertyRef,
        revision: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), (u32, u32)> {
        let list_len = 1 + self.points.len();
        let object_at = |i: usize| {
            if i == 0 {
                self.id()
            } else {
                ObjectId::new(OBJECT_ANALOG_INPUT, self.points[i - 1].instance)
            }
        };
        match p.property {
            prop::OBJECT_LIST => {
                return array(p.index, list_len, |i| Value::ObjectId(object_at(i)), out)
            }
            prop::PROPERTY_LIST => {
                return property_list(DEVICE_REQUIRED, DEVICE_OPTIONAL, p.index, out)
            }
            _ => {}
        }
        let value = match p.property {
            prop::OBJECT_IDENTIFIER => Value::ObjectId(self.id()),
            prop::OBJECT_NAME => Value::CharacterString(self.name.clone()),
            prop::OBJECT_TYPE => Value::Enumerated(u32::from(OBJECT_DEVICE)),
            prop::SYSTEM_STATUS => Value::Enumerated(0),
            prop::VENDOR_NAME => Value::CharacterString(VENDOR_NAME.into()),
            prop::VENDOR_IDENTIFIER => Value::Unsigned(u64::from(VENDOR_ID)),
            prop::MODEL_NAME => Value::CharacterString(self.model.clone()),
            prop::FIRMWARE_REVISION | prop::APPLICATION_SOFTWARE_VERSION => {
                Value::CharacterString(env!("CARGO_PKG_VERSION").into())
            }
            prop::PROTOCOL_VERSION => Value::Unsigned(1),
            prop::PROTOCOL_REVISION => Value::Unsigned(u64::from(PROTOCOL_REVISION)),
            prop::PROTOCOL_SERVICES_SUPPORTED => Value::BitString(
                (0..SERVICES_BITS)
                    .map(|i| SERVICES_SUPPORTED.contains(&i))
                    .collect(),
            ),
            prop::PROTOCOL_OBJECT_TYPES_SUPPORTED => Value::BitString(
                (0..OBJECT_TYPES_BITS)
                    .map(|i| {
                        i == usize::from(OBJECT_ANALOG_INPUT) || i == usize::from(OBJECT_DEVICE)
                    })
                    .collect(),
            ),
            prop::MAX_APDU_LENGTH_ACCEPTED => Value::Unsigned(MAX_APDU as u64),
            prop::SEGMENTATION_SUPPORTED => Value::Enumerated(NO_SEGMENTATION),
            prop::APDU_TIMEOUT => Value::Unsigned(3000),
            prop::NUMBER_OF_APDU_RETRIES => Value::Unsigned(3),
            prop::DEVICE_ADDRESS_BINDING => return no_index(p), // an empty list
            prop::DATABASE_REVISION => Value::Unsigned(u64::from(revision)),
            prop::DESCRIPTION => Value::CharacterString(self.description.clone()),
            prop::LOCATION => Value::CharacterString(self.location.clone()),
            _ => return Err((error::CLASS_PROPERTY, error::UNKNOWN_PROPERTY)),
        };
        no_index(p)?;
        value.encode(out);
        Ok(())
    }

    fn read_point(
        &self,
        point: &Point,
        p: PropertyRef,
        out: &mut Vec<u8>,
    ) -> Result<(), (u32, u32)> {
        if p.property == prop::PROPERTY_LIST {
            return property_list(INPUT_REQUIRED, INPUT_OPTIONAL, p.index, out);
        }
        let has_value = point.value.is_some();
        let value = match p.property {
            prop::OBJECT_IDENTIFIER => {
                Value::ObjectId(ObjectId::new(OBJECT_ANALOG_INPUT, point.instance))
            }
            prop::OBJECT_NAME => Value::CharacterString(point.name.clone()),
            prop::OBJECT_TYPE => Value::Enumerated(u32::from(OBJECT_ANALOG_INPUT)),
            prop::PRESENT_VALUE => Value::Real(point.value.unwrap_or(f32::NAN)),
            prop::STATUS_FLAGS => Value::BitString(self.health.status_flags(has_value)),
            prop::EVENT_STATE => Value::Enumerated(0),
            prop::OUT_OF_SERVICE => Value::Boolean(false),
            prop::UNITS => Value::Enumerated(point.units),
            prop::DESCRIPTION => Value::CharacterString(point.description.clone()),
            prop::RELIABILITY => Value::Enumerated(self.health.reliability(has_value)),
            _ => return Err((error::CLASS_PROPERTY, error::UNKNOWN_PROPERTY)),
        };
        no_index(p)?;
        value.encode(out);
        Ok(())
    }

    /// The values a COV notification of input `instance` carries: present-value and
    /// status-flags.
    pub fn cov_values(&self, instance: u32) -> Option<Vec<(u32, Value)>> {
        let point = self.point(instance)?;
        Some(vec![
            (
                prop::PRESENT_VALUE,
                Value::Real(point.value.unwrap_or(f32::NAN)),
            ),
            (
                prop::STATUS_FLAGS,
                Value::BitString(self.health.status_flags(point.value.is_some())),
            ),
        ])
    }
}

fn no_index(p: PropertyRef) -> Result<(), (u32, u32)> {
    match p.index {
        None => Ok(()),
        Some(_) => Err((error::CLASS_PROPERTY, error::PROPERTY_IS_NOT_AN_ARRAY)),
    }
}

/// An array property: the whole array, its length (index 0) or one element (1-based).
fn array(
    index: Option<u32>,
    len: usize,
    element: impl Fn(usize) -> Value,
    out: &mut Vec<u8>,
) -> Result<(), (u32, u32)> {
    match index {
        None => (0..len).for_each(|i| element(i).encode(out)),
        Some(0) => Value::Unsigned(len as u64).encode(out),
        Some(i) if (i as usize) <= len => element(i as usize - 1).encode(out),
        Some(_) => return Err((error::CLASS_PROPERTY, error::INVALID_ARRAY_INDEX)),
    }
    Ok(())
}

fn property_list(
    required: &[u32],
    optional: &[u32],
    index: Option<u32>,
    out: &mut Vec<u8>,
) -> Result<(), (u32, u32)> {
    // The list leaves out object-identifier, object-name, object-type and itself.
    let listed: Vec<u32> = required
        .iter()
        .chain(optional)
        .copied()
        .filter(|p| {
            ![
                prop::OBJECT_IDENTIFIER,
                prop::OBJECT_NAME,
                prop::OBJECT_TYPE,
                prop::PROPERTY_LIST,
            ]
            .contains(p)
        })
        .collect();
    array(index, listed.len(), |i| Value::Enumerated(listed[i]), out)
}

/// Everything the gateway serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The logger's own device (the router to the virtual network).
    pub logger: Device,
    /// The meter devices on the virtual network, by instance.
    pub meters: Vec<Device>,
    /// `database-revision`: changes whenever objects, names or units change.
    pub revision: u32,
}

impl Model {
    /// Builds the model from the configuration, the device numbering, the read status and
    /// each meter's last stored reading (`last_reading(meter id)`, for example
    /// [`crate::storage::Store::last_reading`]). Values are the stored ones, as the logger
    /// stored them.
    pub fn load(
        config: &Config,
        assignment: &Assignment,
        board: &StatusBoard,
        mut last_reading: impl FnMut(u32) -> Option<Reading>,
    ) -> Model {
        let bacnet = &config.bacnet;
        let logger = Device {
            instance: bacnet.device_instance,
            meter: None,
            name: config.general.name.clone(),
            description: format!(
                "M-Bus data logger; its meters are devices on BACnet network {}",
                bacnet.network_number
            ),
            location: config.general.location.clone(),
            model: "M-Bus Center logger".into(),
            health: Health {
                status: ReadStatus::Ok,
            },
            points: Vec::new(),
        };
        let mut meters = Vec::with_capacity(config.meters.len());
        for meter in &config.meters {
            let Some(instance) = assignment.instance(meter, bacnet.start_instance) else {
                continue;
            };
            let last = last_reading(meter.id);
            let mut points: Vec<Point> = Vec::new();
            for register in meter.registers.iter().filter(|r| !r.off) {
                let value = last
                    .as_ref()
                    .and_then(|r| r.values.get(register.index as usize).copied().flatten())
                    .map(|d| d.to_f64() as f32);
                let units = engineering_unit(&register.unit);
                let mut description = if register.description.trim().is_empty() {
                    register.name.clone()
                } else {
                    register.description.clone()
                };
                if !register.unit.is_empty() {
                    description.push_str(&format!(" [{}]", register.unit));
                }
                let duplicate = meter
                    .registers
                    .iter()
                    .filter(|r| !r.off && r.name == register.name)
                    .count()
                    > 1;
                let name = if duplicate {
                    format!("{} #{}", register.name, register.index)
                } else {
                    register.name.clone()
                };
                points.push(Point {
                    instance: register.index,
                    name,
                    description,
                    units,
                    value,
                });
            }
            points.sort_by_key(|p| p.instance);
            let (model, description) = match meter.secondary {
                Some(s) => (
                    format!("{} {}", meter.manufacturer(), medium::name(s.medium)),
                    format!(
                        "M-Bus meter, secondary address {s}, manufacturer {}, version {}, medium {}",
                        meter.manufacturer(),
                        s.version,
                        medium::name(s.medium)
                    ),
                ),
                None => (
                    "M-Bus meter".into(),
                    format!("M-Bus meter at primary address {}", meter.primary),
                ),
            };
            meters.push(Device {
                instance,
                meter: Some(meter.id),
                name: meter.name.clone(),
                description,
                location: meter.location.clone(),
                model,
                health: Health {
                    status: board.meter(meter.id).status,
                },
                points,
            });
        }
        meters.sort_by_key(|d| d.instance);
        meters.dedup_by_key(|d| d.instance);
        let mut model = Model {
            logger,
            meters,
            revision: 0,
        };
        model.revision = model.structure_hash();
        model
    }

    /// The meter device with `instance`.
    pub fn meter(&self, instance: u32) -> Option<&Device> {
        self.meters
            .binary_search_by_key(&instance, |d| d.instance)
            .ok()
            .map(|i| &self.meters[i])
    }

    /// The meter device whose virtual-network MAC is `mac`.
    pub fn meter_by_mac(&self, mac: &[u8]) -> Option<&Device> {
        let [a, b, c] = mac else {
            return None;
        };
        self.meter(u32::from_be_bytes([0, *a, *b, *c]))
    }

    /// A hash of what clients cache (objects, names, units), as `database-revision`.
    fn structure_hash(&self) -> u32 {
        // FNV-1a: stable across builds and platforms, unlike the std hasher.
        let mut h: u32 = 0x811C_9DC5;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                h ^= u32::from(*b);
                h = h.wrapping_mul(0x0100_0193);
            }
        };
        for d in std::iter::once(&self.logger).chain(&self.meters) {
            feed(&d.instance.to_be_bytes());
            feed(d.name.as_bytes());
            for p in &d.points {
                feed(&p.instance.to_be_bytes());
                feed(p.name.as_bytes());
                feed(&p.units.to_be_bytes());
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::super::tag::Reader;
    use super::*;

    fn device() -> Device {
        Device {
            instance: 1000,
            meter: Some(1),
            name: "Heat 1".into(),
            description: "meter".into(),
            location: "cellar".into(),
            model: "KAM heat".into(),
            health: Health {
                status: ReadStatus::Ok,
            },
            points: vec![
                Point {
                    instance: 0,
                    name: "Energy".into(),
                    description: "Energy [kWh]".into(),
                    units: 19,
                    value: Some(1234.5),
                },
                Point {
                    instance: 3,
                    name: "Volume".into(),
                    description: "Volume [m³]".into(),
                    units: 80,
                    value: None,
                },
            ],
        }
    }

    fn read(
        d: &Device,
        object: ObjectId,
        property: u32,
        index: Option<u32>,
    ) -> Result<Vec<Value>, (u32, u32)> {
        let bytes = d.read(object, PropertyRef { property, index }, 7)?;
        let mut r = Reader::new(&bytes);
        let mut values = Vec::new();
        while !r.is_empty() {
            values.push(r.value().unwrap());
        }
        Ok(values)
    }

    #[test]
    fn device_object_list_whole_by_length_and_by_element() {
        let d = device();
        let dev = d.id();
        assert_eq!(
            read(&d, dev, prop::OBJECT_LIST, None).unwrap(),
            vec![
                Value::ObjectId(dev),
                Value::ObjectId(ObjectId::new(OBJECT_ANALOG_INPUT, 0)),
                Value::ObjectId(ObjectId::new(OBJECT_ANALOG_INPUT, 3)),
            ]
        );
        assert_eq!(
            read(&d, dev, prop::OBJECT_LIST, Some(0)).unwrap(),
            vec![Value::Unsigned(3)]
        );
        assert_eq!(
            read(&d, dev, prop::OBJECT_LIST, Some(3)).unwrap(),
            vec![Value::ObjectId(ObjectId::new(OBJECT_ANALOG_INPUT, 3))]
        );
        assert_eq!(
            read(&d, dev, prop::OBJECT_LIST, Some(4)),
            Err((error::CLASS_PROPERTY, error::INVALID_ARRAY_INDEX))
        );
        assert_eq!(
            read(&d, dev, prop::VENDOR_NAME, Some(1)),
            Err((error::CLASS_PROPERTY, error::PROPERTY_IS_NOT_AN_ARRAY))
        );
        // The wildcard instance is the device itself.
        let wildcard = ObjectId::new(OBJECT_DEVICE, WILDCARD_INSTANCE);
        assert_eq!(
            read(&d, wildcard, prop::OBJECT_IDENTIFIER, None).unwrap(),
            vec![Value::ObjectId(dev)]
        );
    }

    #[test]
    fn every_listed_device_and_input_property_is_readable() {
        let d = device();
        let input = ObjectId::new(OBJECT_ANALOG_INPUT, 0);
        for object in [d.id(), input] {
            for p in d.expand(object, prop::ALL).unwrap() {
                assert!(read(&d, object, p, None).is_ok(), "{object:?} property {p}");
            }
        }
        assert_eq!(
            read(&d, input, prop::PRESENT_VALUE, None).unwrap(),
            vec![Value::Real(1234.5)]
        );
        assert_eq!(
            read(&d, input, prop::UNITS, None).unwrap(),
            vec![Value::Enumerated(19)]
        );
        assert_eq!(
            read(&d, d.id(), prop::SEGMENTATION_SUPPORTED, None).unwrap(),
            vec![Value::Enumerated(NO_SEGMENTATION)]
        );
        let services = read(&d, d.id(), prop::PROTOCOL_SERVICES_SUPPORTED, None).unwrap();
        let Value::BitString(bits) = &services[0] else {
            panic!("{services:?}")
        };
        let set: Vec<usize> = (0..bits.len()).filter(|i| bits[*i]).collect();
        assert_eq!(set, SERVICES_SUPPORTED);
        assert_eq!(
            read(&d, input, prop::LOCATION, None),
            Err((error::CLASS_PROPERTY, error::UNKNOWN_PROPERTY))
        );
        assert_eq!(
            read(
                &d,
                ObjectId::new(OBJECT_ANALOG_INPUT, 1),
                prop::PRESENT_VALUE,
                None
            ),
            Err((error::CLASS_OBJECT, error::UNKNOWN_OBJECT))
        );
        assert_eq!(
            d.expand(input, prop::REQUIRED).unwrap(),
            INPUT_REQUIRED.to_vec()
        );
        assert_eq!(
            d.expand(input, prop::OPTIONAL).unwrap(),
            INPUT_OPTIONAL.to_vec()
        );
    }

    #[test]
    fn status_flags_and_reliability_follow_the_read_status() {
        let mut d = device();
        let input = ObjectId::new(OBJECT_ANALOG_INPUT, 0);
        let missing = ObjectId::new(OBJECT_ANALOG_INPUT, 3);
        let flags = |d: &Device, o| read(d, o, prop::STATUS_FLAGS, None).unwrap();
        let rel = |d: &Device, o| read(d, o, prop::RELIABILITY, None).unwrap();
        assert_eq!(flags(&d, input), vec![Value::BitString(vec![false; 4])]);
        assert_eq!(
            rel(&d, input),
            vec![Value::Enumerated(reliability::NO_FAULT)]
        );
        assert_eq!(
            flags(&d, missing),
            vec![Value::BitString(vec![false, true, false, false])]
        );
        assert_eq!(
            rel(&d, missing),
            vec![Value::Enumerated(reliability::UNRELIABLE_OTHER)]
        );
        d.health.status = ReadStatus::Failed;
        assert_eq!(
            flags(&d, input),
            vec![Value::BitString(vec![false, true, false, false])]
        );
        assert_eq!(
            rel(&d, input),
            vec![Value::Enumerated(reliability::COMMUNICATION_FAILURE)]
        );
        d.health.status = ReadStatus::Encrypted;
        assert_eq!(
            rel(&d, input),
            vec![Value::Enumerated(reliability::CONFIGURATION_ERROR)]
        );
        assert_eq!(d.mac(), vec![0x00, 0x03, 0xE8]);
        assert_eq!(d.find_name("Volume"), Some(missing));
        assert_eq!(d.object_name(input), Some("Energy"));
    }
}
