//! Meters and their registers as configured.

use super::cycle::ReadCycle;
use super::settings::BACNET_MAX_INSTANCE;
use super::validate::Problems;
use crate::medium;
use mbus_proto::address::{BaudRate, SecondaryAddress, MAX_PRIMARY};
use serde::{Deserialize, Serialize};

/// What identifies a meter type: the fields a template must agree on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterType {
    /// Manufacturer letters, e.g. `KAM`.
    pub manufacturer: String,
    /// Medium code.
    pub medium: u8,
    /// Version / generation byte.
    pub version: u8,
    /// Number of values (data records) the meter sends.
    pub values: u32,
}

/// How the logger addresses a meter when reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Addressing {
    /// By primary address 0…250 (must be unique on the bus).
    Primary,
    /// By secondary address (select, then read through address 253).
    #[default]
    Secondary,
}

/// What the logger sends to a meter before reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum ResetMode {
    /// Nothing.
    #[default]
    Off,
    /// A link reset (SND_NKE).
    SndNke,
    /// An application reset, optionally with a subcode.
    ApplicationReset {
        /// Subcode byte sent after CI 0x50.
        subcode: Option<u8>,
    },
}

/// Category of a meter in the overview ("Typ").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Electricity meters.
    Electricity,
    /// Cold-water meters.
    Water,
    /// Warm/hot-water meters.
    WarmWater,
    /// Heat meters and heat-cost allocators.
    Heat,
    /// Cooling meters.
    Cooling,
    /// Gas meters.
    Gas,
    /// Everything else.
    #[default]
    Other,
}

impl Category {
    /// The category a meter of this medium code belongs to by default.
    pub fn for_medium(code: u8) -> Category {
        match code {
            0x02 => Category::Electricity,
            0x03 => Category::Gas,
            0x04 | 0x05 | 0x08 | 0x0C | 0x0D => Category::Heat,
            0x06 | 0x15 => Category::WarmWater,
            0x07 | 0x16 | 0x17 => Category::Water,
            0x0A | 0x0B => Category::Cooling,
            _ => Category::Other,
        }
    }
}

/// One value of a meter that the logger stores: one data record of its reply.
///
/// Stored value = value from the meter / `divisor` (a divisor of 1000 turns Wh into kWh,
/// 0.01 turns hectolitre pulses into litres).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// Position of the record in the meter's reply (all telegrams of a multi-telegram read
    /// counted in order), starting at 0.
    pub index: u32,
    /// Short name.
    pub name: String,
    /// Description ("Bezeichnung"), e.g. `Wirkenergie Bezug`.
    #[serde(default)]
    pub description: String,
    /// Unit the meter sends, e.g. `Wh`.
    #[serde(default)]
    pub meter_unit: String,
    /// Unit of the stored value, e.g. `kWh`.
    #[serde(default)]
    pub unit: String,
    /// Phase 0 (none) … 3.
    #[serde(default)]
    pub phase: u8,
    /// Stored value = meter value / divisor; non-zero and finite.
    #[serde(default = "one")]
    pub divisor: f64,
    /// Storage number ("Mon."): 0 is the current value.
    #[serde(default)]
    pub storage: u64,
    /// Tariff.
    #[serde(default)]
    pub tariff: u32,
    /// Not logged.
    #[serde(default)]
    pub off: bool,
}

fn one() -> f64 {
    1.0
}

impl Register {
    /// Register `index` named `name`: stored as read (divisor 1, no unit), current value,
    /// no phase or tariff, logged.
    pub fn new(index: u32, name: impl Into<String>) -> Register {
        Register {
            index,
            name: name.into(),
            description: String::new(),
            meter_unit: String::new(),
            unit: String::new(),
            phase: 0,
            divisor: 1.0,
            storage: 0,
            tariff: 0,
            off: false,
        }
    }

    /// Applies the divisor to a value from the meter.
    pub fn scale(&self, raw: f64) -> f64 {
        raw / self.divisor
    }

    pub(crate) fn validate(&self, path: &str, p: &mut Problems) {
        p.text(format!("{path}.name"), &self.name, 64, true);
        p.text(format!("{path}.description"), &self.description, 128, false);
        p.text(format!("{path}.meter_unit"), &self.meter_unit, 32, false);
        p.text(format!("{path}.unit"), &self.unit, 32, false);
        p.check(
            self.phase <= 3,
            format!("{path}.phase"),
            "must be between 0 and 3",
        );
        p.check(
            (self.index as usize) < crate::storage::MAX_VALUES,
            format!("{path}.index"),
            "must be below 1024 (values stored per reading)",
        );
        if self.divisor == 0.0 {
            p.add(format!("{path}.divisor"), "must be non-zero");
        } else if !self.divisor.is_finite() {
            p.add(format!("{path}.divisor"), "must be a finite number");
        }
    }
}

/// Checks a list of registers: each valid, indices unique.
pub(crate) fn validate_registers(registers: &[Register], path: &str, p: &mut Problems) {
    for (i, register) in registers.iter().enumerate() {
        let rpath = format!("{path}[{i}]");
        register.validate(&rpath, p);
        if let Some(first) = registers[..i]
            .iter()
            .position(|r| r.index == register.index)
        {
            p.add(
                format!("{rpath}.index"),
                format!("{} is already used by {path}[{first}]", register.index),
            );
        }
    }
}

/// A configured meter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Meter {
    /// Stable identifier (unique in the configuration; keys the stored readings).
    pub id: u32,
    /// Name shown in the overview and used in export file names.
    pub name: String,
    /// Where the meter is installed.
    #[serde(default)]
    pub location: String,
    /// Cost centre.
    #[serde(default)]
    pub cost_centre: String,
    /// Free comment.
    #[serde(default)]
    pub comment: String,
    /// Primary or secondary addressing.
    #[serde(default)]
    pub addressing: Addressing,
    /// Primary address 0…250.
    #[serde(default)]
    pub primary: u8,
    /// Secondary address (16 characters as libmbus writes them: ident digits, then
    /// manufacturer, version and medium bytes in wire order, e.g. `068558172D2C0104` for `KAM`);
    /// required with secondary addressing.
    #[serde(default, with = "secondary_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub secondary: Option<SecondaryAddress>,
    /// Baud rate (default 2400).
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// Own read cycle; `None` uses the logger's default.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cycle: Option<ReadCycle>,
    /// Overview category ("Typ").
    #[serde(default)]
    pub category: Category,
    /// BACnet device instance; `None` numbers it from the BACnet start instance.
    #[serde(default)]
    pub bacnet_instance: Option<u32>,
    /// Battery-powered (limit reads).
    #[serde(default)]
    pub battery: bool,
    /// Link or application reset before each read.
    #[serde(default)]
    pub reset: ResetMode,
    /// The registers, one per record of the reply.
    #[serde(default)]
    pub registers: Vec<Register>,
    /// An input meter: its values come from one of the appliance's own inputs instead of the
    /// bus (`None` for bus meters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<InputSource>,
    /// Readings are stored (off: only the current value and status are kept).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub logging: bool,
}

fn default_baud() -> u32 {
    2400
}

fn yes() -> bool {
    true
}

fn is_yes(v: &bool) -> bool {
    *v
}

/// Which of the appliance's inputs an input meter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum InputSource {
    /// S0 pulse input 1 … 4: the value is the pulse total (the register's divisor is the
    /// pulses per unit).
    S0 {
        /// Input number on the front panel.
        input: u8,
    },
    /// PT1000 input 1 … 2: the value is the temperature in °C.
    Pt1000 {
        /// Input number on the front panel.
        input: u8,
    },
}

impl InputSource {
    /// The input number (1-based) and the largest allowed.
    fn number(&self) -> (u8, u8) {
        match self {
            InputSource::S0 { input } => (*input, 4),
            InputSource::Pt1000 { input } => (*input, 2),
        }
    }
}

impl Meter {
    /// The meter's baud rate (validation guarantees it is an M-Bus rate; 2400 otherwise).
    pub fn baud_rate(&self) -> BaudRate {
        BaudRate::from_bps(self.baud).unwrap_or(BaudRate::B2400)
    }

    /// The read cycle in effect: the meter's own or the logger default.
    pub fn effective_cycle(&self, default: ReadCycle) -> ReadCycle {
        self.cycle.unwrap_or(default)
    }

    /// Manufacturer letters, `"???"` if the secondary address is not known.
    pub fn manufacturer(&self) -> String {
        self.secondary
            .map(|s| String::from_utf8_lossy(&s.manufacturer_letters()).into_owned())
            .unwrap_or_else(|| "???".to_string())
    }

    /// Medium code from the secondary address (0x0F "unknown" if not known).
    pub fn medium(&self) -> u8 {
        self.secondary.map(|s| s.medium).unwrap_or(0x0F)
    }

    /// The meter's type for template matching: from its secondary address and its number of
    /// registers (one per record of its reply); `None` without secondary address or registers.
    pub fn meter_type(&self) -> Option<MeterType> {
        let s = self.secondary?;
        if self.registers.is_empty() {
            return None;
        }
        Some(MeterType {
            manufacturer: self.manufacturer(),
            medium: s.medium,
            version: s.version,
            values: u32::try_from(self.registers.len()).unwrap_or(u32::MAX),
        })
    }

    /// Medium name, e.g. `Heat: Outlet`.
    pub fn medium_name(&self) -> &'static str {
        medium::name(self.medium())
    }

    pub(crate) fn validate(&self, path: &str, p: &mut Problems) {
        p.text(format!("{path}.name"), &self.name, 64, true);
        p.text(format!("{path}.location"), &self.location, 128, false);
        p.text(format!("{path}.cost_centre"), &self.cost_centre, 64, false);
        p.text(format!("{path}.comment"), &self.comment, 256, false);
        p.check(
            self.primary <= MAX_PRIMARY,
            format!("{path}.primary"),
            "must be between 0 and 250",
        );
        if self.addressing == Addressing::Secondary && self.secondary.is_none() {
            p.add(
                format!("{path}.secondary"),
                "required with secondary addressing",
            );
        }
        p.check(
            BaudRate::from_bps(self.baud).is_ok(),
            format!("{path}.baud"),
            "must be 300, 600, 1200, 2400, 4800, 9600, 19200 or 38400",
        );
        if let Some(instance) = self.bacnet_instance {
            p.check(
                instance <= BACNET_MAX_INSTANCE,
                format!("{path}.bacnet_instance"),
                "must be at most 4194302",
            );
        }
        validate_registers(&self.registers, &format!("{path}.registers"), p);
        if let Some(source) = &self.input {
            let (n, max) = source.number();
            p.check(
                (1..=max).contains(&n),
                format!("{path}.input.input"),
                if max == 4 {
                    "must be between 1 and 4"
                } else {
                    "must be between 1 and 2"
                },
            );
        }
    }
}

/// Serde helper: an optional secondary address as its 16-character text.
pub(crate) mod secondary_text {
    use mbus_proto::address::SecondaryAddress;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<SecondaryAddress>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(address) => s.serialize_some(&address.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SecondaryAddress>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(None),
            Some(t) => t.parse().map(Some).map_err(serde::de::Error::custom),
        }
    }
}
