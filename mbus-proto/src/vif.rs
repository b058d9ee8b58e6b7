//! Value information: the primary VIF table, the 0xFB and 0xFD extension tables, plain-text and
//! manufacturer VIFs, and the combinable (orthogonal) VIFE table of EN 13757-3.
//!
//! [`Vib::info`] maps a VIF (and, for 0xFB/0xFD, its first VIFE) to a [`ValueInfo`]: what is
//! measured ([`Quantity`]), in which [`Unit`], and the power of ten to apply to the raw value.
//! Codes the standard reserves come back as [`Quantity::Reserved`], never as errors.
//!
//! ```
//! use mbus_proto::vif::{Quantity, Unit, Vib};
//!
//! let vib = Vib { vif: 0x13, vifes: &[], plain_text: None };
//! let info = vib.info();
//! assert_eq!((info.quantity, info.unit, info.exponent), (Quantity::Volume, Unit::CubicMetre, -3));
//! let vib = Vib { vif: 0xFD, vifes: &[0x48], plain_text: None };
//! assert_eq!((vib.info().quantity, vib.info().exponent), (Quantity::Voltage, -1));
//! ```

use crate::value::Text;

/// The value information block of a record: VIF, VIFEs and an optional plain-text unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vib<'a> {
    /// The VIF byte.
    pub vif: u8,
    /// The VIFE bytes (at most 10).
    pub vifes: &'a [u8],
    /// For VIF 0x7C / 0xFC: the unit text in wire order (last character first).
    pub plain_text: Option<&'a [u8]>,
}

/// Which table the VIF code was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VifTable {
    /// The primary table (VIF 0x00–0x7B).
    Primary,
    /// The first extension table (VIF 0xFD + VIFE).
    Fd,
    /// The alternate extension table (VIF 0xFB + VIFE).
    Fb,
    /// Plain-text unit (VIF 0x7C / 0xFC).
    PlainText,
    /// Manufacturer-specific VIF (0x7F / 0xFF).
    Manufacturer,
    /// "Any VIF" (0x7E / 0xFE), used in readout requests.
    Any,
}

/// What a record measures.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantity {
    Energy,
    Volume,
    Mass,
    OnTime,
    OperatingTime,
    Power,
    VolumeFlow,
    MassFlow,
    FlowTemperature,
    ReturnTemperature,
    TemperatureDifference,
    ExternalTemperature,
    Pressure,
    /// A date (type G).
    Date,
    /// A date and time (type F/I).
    DateTime,
    HcaUnits,
    AveragingDuration,
    ActualityDuration,
    FabricationNumber,
    EnhancedIdentification,
    BusAddress,
    Credit,
    Debit,
    AccessNumber,
    Medium,
    Manufacturer,
    ParameterSet,
    ModelVersion,
    HardwareVersion,
    FirmwareVersion,
    SoftwareVersion,
    CustomerLocation,
    Customer,
    AccessCodeUser,
    AccessCodeOperator,
    AccessCodeSystemOperator,
    AccessCodeDeveloper,
    Password,
    ErrorFlags,
    ErrorMask,
    DigitalOutput,
    DigitalInput,
    Baudrate,
    ResponseDelay,
    Retry,
    FirstStorageNumber,
    LastStorageNumber,
    StorageBlockSize,
    StorageInterval,
    DurationSinceReadout,
    TariffStart,
    TariffDuration,
    TariffPeriod,
    Dimensionless,
    Voltage,
    Current,
    ResetCounter,
    CumulationCounter,
    ControlSignal,
    DayOfWeek,
    WeekNumber,
    DayChangeTime,
    ParameterActivation,
    SupplierInformation,
    DurationSinceCumulation,
    BatteryOperatingTime,
    BatteryChange,
    /// Daylight-saving rule (type K).
    DaylightSaving,
    ColdWarmTemperatureLimit,
    CumulatedMaxPower,
    /// The unit is given as text in the record.
    PlainText,
    ManufacturerSpecific,
    AnyVif,
    /// A code the standard reserves (the raw code is in [`ValueInfo::code`]).
    Reserved,
}

impl Quantity {
    /// Stable snake_case name, used in JSON.
    pub fn name(self) -> &'static str {
        use Quantity::*;
        match self {
            Energy => "energy",
            Volume => "volume",
            Mass => "mass",
            OnTime => "on_time",
            OperatingTime => "operating_time",
            Power => "power",
            VolumeFlow => "volume_flow",
            MassFlow => "mass_flow",
            FlowTemperature => "flow_temperature",
            ReturnTemperature => "return_temperature",
            TemperatureDifference => "temperature_difference",
            ExternalTemperature => "external_temperature",
            Pressure => "pressure",
            Date => "date",
            DateTime => "date_time",
            HcaUnits => "hca_units",
            AveragingDuration => "averaging_duration",
            ActualityDuration => "actuality_duration",
            FabricationNumber => "fabrication_number",
            EnhancedIdentification => "enhanced_identification",
            BusAddress => "bus_address",
            Credit => "credit",
            Debit => "debit",
            AccessNumber => "access_number",
            Medium => "medium",
            Manufacturer => "manufacturer",
            ParameterSet => "parameter_set",
            ModelVersion => "model_version",
            HardwareVersion => "hardware_version",
            FirmwareVersion => "firmware_version",
            SoftwareVersion => "software_version",
            CustomerLocation => "customer_location",
            Customer => "customer",
            AccessCodeUser => "access_code_user",
            AccessCodeOperator => "access_code_operator",
            AccessCodeSystemOperator => "access_code_system_operator",
            AccessCodeDeveloper => "access_code_developer",
            Password => "password",
            ErrorFlags => "error_flags",
            ErrorMask => "error_mask",
            DigitalOutput => "digital_output",
            DigitalInput => "digital_input",
            Baudrate => "baudrate",
            ResponseDelay => "response_delay",
            Retry => "retry",
            FirstStorageNumber => "first_storage_number",
            LastStorageNumber => "last_storage_number",
            StorageBlockSize => "storage_block_size",
            StorageInterval => "storage_interval",
            DurationSinceReadout => "duration_since_readout",
            TariffStart => "tariff_start",
            TariffDuration => "tariff_duration",
            TariffPeriod => "tariff_period",
            Dimensionless => "dimensionless",
            Voltage => "voltage",
            Current => "current",
            ResetCounter => "reset_counter",
            CumulationCounter => "cumulation_counter",
            ControlSignal => "control_signal",
            DayOfWeek => "day_of_week",
            WeekNumber => "week_number",
            DayChangeTime => "day_change_time",
            ParameterActivation => "parameter_activation",
            SupplierInformation => "supplier_information",
            DurationSinceCumulation => "duration_since_cumulation",
            BatteryOperatingTime => "battery_operating_time",
            BatteryChange => "battery_change",
            DaylightSaving => "daylight_saving",
            ColdWarmTemperatureLimit => "cold_warm_temperature_limit",
            CumulatedMaxPower => "cumulated_max_power",
            PlainText => "plain_text",
            ManufacturerSpecific => "manufacturer_specific",
            AnyVif => "any_vif",
            Reserved => "reserved",
        }
    }
}

/// The unit of the scaled value.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// No unit (counts, identifiers, flags).
    None,
    WattHour,
    Joule,
    CubicMetre,
    Kilogram,
    Second,
    Minute,
    Hour,
    Day,
    Month,
    Year,
    Watt,
    JoulePerHour,
    CubicMetrePerHour,
    CubicMetrePerMinute,
    CubicMetrePerSecond,
    KilogramPerHour,
    DegreeCelsius,
    Kelvin,
    Bar,
    DegreeFahrenheit,
    CubicFeet,
    UsGallon,
    UsGallonPerMinute,
    UsGallonPerHour,
    Volt,
    Ampere,
    /// Local currency units.
    Currency,
    Baud,
    BitTimes,
    /// Heat cost allocator units.
    HcaUnit,
    /// A date or time value (no unit).
    Date,
}

impl Unit {
    /// Symbol (`"Wh"`, `"m^3"`, `"°C"`, …; empty for [`Unit::None`]).
    pub fn symbol(self) -> &'static str {
        use Unit::*;
        match self {
            None | Date => "",
            WattHour => "Wh",
            Joule => "J",
            CubicMetre => "m^3",
            Kilogram => "kg",
            Second => "s",
            Minute => "min",
            Hour => "h",
            Day => "d",
            Month => "month",
            Year => "year",
            Watt => "W",
            JoulePerHour => "J/h",
            CubicMetrePerHour => "m^3/h",
            CubicMetrePerMinute => "m^3/min",
            CubicMetrePerSecond => "m^3/s",
            KilogramPerHour => "kg/h",
            DegreeCelsius => "°C",
            Kelvin => "K",
            Bar => "bar",
            DegreeFahrenheit => "°F",
            CubicFeet => "ft^3",
            UsGallon => "US gal",
            UsGallonPerMinute => "US gal/min",
            UsGallonPerHour => "US gal/h",
            Volt => "V",
            Ampere => "A",
            Currency => "currency",
            Baud => "Bd",
            BitTimes => "bit times",
            HcaUnit => "HCA",
        }
    }
}

/// Meaning of a VIB: quantity, unit and the power of ten that scales the raw value into the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValueInfo<'a> {
    /// The table the code came from.
    pub table: VifTable,
    /// The code within that table (extension bit cleared).
    pub code: u8,
    /// What is measured.
    pub quantity: Quantity,
    /// The unit of `raw × 10^exponent`.
    pub unit: Unit,
    /// Power of ten to apply to the raw value.
    pub exponent: i8,
    /// For plain-text VIFs: the unit text (wire order).
    pub plain_text: Option<Text<'a>>,
}

impl ValueInfo<'_> {
    /// True if the value is a date, time or date-time type (G, F, I, J, K) rather than a number.
    pub fn is_date_time(&self) -> bool {
        matches!(
            self.quantity,
            Quantity::Date
                | Quantity::DateTime
                | Quantity::TariffStart
                | Quantity::BatteryChange
                | Quantity::DaylightSaving
        )
    }

    /// True for the daylight-saving rule (type K).
    pub fn is_dst_rule(&self) -> bool {
        self.quantity == Quantity::DaylightSaving
    }
}

const fn time_unit(nn: u8) -> Unit {
    match nn & 3 {
        0 => Unit::Second,
        1 => Unit::Minute,
        2 => Unit::Hour,
        _ => Unit::Day,
    }
}

const fn long_time_unit(pp: u8) -> Unit {
    match pp & 3 {
        0 => Unit::Hour,
        1 => Unit::Day,
        2 => Unit::Month,
        _ => Unit::Year,
    }
}

const fn primary(code: u8) -> (Quantity, Unit, i8) {
    use Quantity as Q;
    let n = (code & 7) as i8;
    let nn = (code & 3) as i8;
    match code {
        0x00..=0x07 => (Q::Energy, Unit::WattHour, n - 3),
        0x08..=0x0F => (Q::Energy, Unit::Joule, n),
        0x10..=0x17 => (Q::Volume, Unit::CubicMetre, n - 6),
        0x18..=0x1F => (Q::Mass, Unit::Kilogram, n - 3),
        0x20..=0x23 => (Q::OnTime, time_unit(code), 0),
        0x24..=0x27 => (Q::OperatingTime, time_unit(code), 0),
        0x28..=0x2F => (Q::Power, Unit::Watt, n - 3),
        0x30..=0x37 => (Q::Power, Unit::JoulePerHour, n),
        0x38..=0x3F => (Q::VolumeFlow, Unit::CubicMetrePerHour, n - 6),
        0x40..=0x47 => (Q::VolumeFlow, Unit::CubicMetrePerMinute, n - 7),
        0x48..=0x4F => (Q::VolumeFlow, Unit::CubicMetrePerSecond, n - 9),
        0x50..=0x57 => (Q::MassFlow, Unit::KilogramPerHour, n - 3),
        0x58..=0x5B => (Q::FlowTemperature, Unit::DegreeCelsius, nn - 3),
        0x5C..=0x5F => (Q::ReturnTemperature, Unit::DegreeCelsius, nn - 3),
        0x60..=0x63 => (Q::TemperatureDifference, Unit::Kelvin, nn - 3),
        0x64..=0x67 => (Q::ExternalTemperature, Unit::DegreeCelsius, nn - 3),
        0x68..=0x6B => (Q::Pressure, Unit::Bar, nn - 3),
        0x6C => (Q::Date, Unit::Date, 0),
        0x6D => (Q::DateTime, Unit::Date, 0),
        0x6E => (Q::HcaUnits, Unit::HcaUnit, 0),
        0x70..=0x73 => (Q::AveragingDuration, time_unit(code), 0),
        0x74..=0x77 => (Q::ActualityDuration, time_unit(code), 0),
        0x78 => (Q::FabricationNumber, Unit::None, 0),
        0x79 => (Q::EnhancedIdentification, Unit::None, 0),
        0x7A => (Q::BusAddress, Unit::None, 0),
        _ => (Q::Reserved, Unit::None, 0),
    }
}

const fn extension_fd(code: u8) -> (Quantity, Unit, i8) {
    use Quantity as Q;
    let nn = (code & 3) as i8;
    let nnnn = (code & 0x0F) as i8;
    match code {
        0x00..=0x03 => (Q::Credit, Unit::Currency, nn - 3),
        0x04..=0x07 => (Q::Debit, Unit::Currency, nn - 3),
        0x08 => (Q::AccessNumber, Unit::None, 0),
        0x09 => (Q::Medium, Unit::None, 0),
        0x0A => (Q::Manufacturer, Unit::None, 0),
        0x0B => (Q::ParameterSet, Unit::None, 0),
        0x0C => (Q::ModelVersion, Unit::None, 0),
        0x0D => (Q::HardwareVersion, Unit::None, 0),
        0x0E => (Q::FirmwareVersion, Unit::None, 0),
        0x0F => (Q::SoftwareVersion, Unit::None, 0),
        0x10 => (Q::CustomerLocation, Unit::None, 0),
        0x11 => (Q::Customer, Unit::None, 0),
        0x12 => (Q::AccessCodeUser, Unit::None, 0),
        0x13 => (Q::AccessCodeOperator, Unit::None, 0),
        0x14 => (Q::AccessCodeSystemOperator, Unit::None, 0),
        0x15 => (Q::AccessCodeDeveloper, Unit::None, 0),
        0x16 => (Q::Password, Unit::None, 0),
        0x17 => (Q::ErrorFlags, Unit::None, 0),
        0x18 => (Q::ErrorMask, Unit::None, 0),
        0x1A => (Q::DigitalOutput, Unit::None, 0),
        0x1B => (Q::DigitalInput, Unit::None, 0),
        0x1C => (Q::Baudrate, Unit::Baud, 0),
        0x1D => (Q::ResponseDelay, Unit::BitTimes, 0),
        0x1E => (Q::Retry, Unit::None, 0),
        0x20 => (Q::FirstStorageNumber, Unit::None, 0),
        0x21 => (Q::LastStorageNumber, Unit::None, 0),
        0x22 => (Q::StorageBlockSize, Unit::None, 0),
        0x24..=0x27 => (Q::StorageInterval, time_unit(code), 0),
        0x28 => (Q::StorageInterval, Unit::Month, 0),
        0x29 => (Q::StorageInterval, Unit::Year, 0),
        0x2C..=0x2F => (Q::DurationSinceReadout, time_unit(code), 0),
        0x30 => (Q::TariffStart, Unit::Date, 0),
        0x31..=0x33 => (Q::TariffDuration, time_unit(code), 0),
        0x34..=0x37 => (Q::TariffPeriod, time_unit(code), 0),
        0x38 => (Q::TariffPeriod, Unit::Month, 0),
        0x39 => (Q::TariffPeriod, Unit::Year, 0),
        0x3A => (Q::Dimensionless, Unit::None, 0),
        0x40..=0x4F => (Q::Voltage, Unit::Volt, nnnn - 9),
        0x50..=0x5F => (Q::Current, Unit::Ampere, nnnn - 12),
        0x60 => (Q::ResetCounter, Unit::None, 0),
        0x61 => (Q::CumulationCounter, Unit::None, 0),
        0x62 => (Q::ControlSignal, Unit::None, 0),
        0x63 => (Q::DayOfWeek, Unit::None, 0),
        0x64 => (Q::WeekNumber, Unit::None, 0),
        0x65 => (Q::DayChangeTime, Unit::Date, 0),
        0x66 => (Q::ParameterActivation, Unit::None, 0),
        0x67 => (Q::SupplierInformation, Unit::None, 0),
        0x68..=0x6B => (Q::DurationSinceCumulation, long_time_unit(code), 0),
        0x6C..=0x6F => (Q::BatteryOperatingTime, long_time_unit(code), 0),
        0x70 => (Q::BatteryChange, Unit::Date, 0),
        0x71 => (Q::DaylightSaving, Unit::Date, 0),
        _ => (Q::Reserved, Unit::None, 0),
    }
}

const fn extension_fb(code: u8) -> (Quantity, Unit, i8) {
    use Quantity as Q;
    let n = (code & 1) as i8;
    let nn = (code & 3) as i8;
    match code {
        0x00 | 0x01 => (Q::Energy, Unit::WattHour, n + 5),
        0x08 | 0x09 => (Q::Energy, Unit::Joule, n + 8),
        0x10 | 0x11 => (Q::Volume, Unit::CubicMetre, n + 2),
        0x18 | 0x19 => (Q::Mass, Unit::Kilogram, n + 5),
        0x21 => (Q::Volume, Unit::CubicFeet, -1),
        0x22 | 0x23 => (Q::Volume, Unit::UsGallon, n - 1),
        0x24 => (Q::VolumeFlow, Unit::UsGallonPerMinute, -3),
        0x25 => (Q::VolumeFlow, Unit::UsGallonPerMinute, 0),
        0x26 => (Q::VolumeFlow, Unit::UsGallonPerHour, 0),
        0x28 | 0x29 => (Q::Power, Unit::Watt, n + 5),
        0x30 | 0x31 => (Q::Power, Unit::JoulePerHour, n + 8),
        0x58..=0x5B => (Q::FlowTemperature, Unit::DegreeFahrenheit, nn - 3),
        0x5C..=0x5F => (Q::ReturnTemperature, Unit::DegreeFahrenheit, nn - 3),
        0x60..=0x63 => (Q::TemperatureDifference, Unit::DegreeFahrenheit, nn - 3),
        0x64..=0x67 => (Q::ExternalTemperature, Unit::DegreeFahrenheit, nn - 3),
        0x70..=0x73 => (Q::ColdWarmTemperatureLimit, Unit::DegreeFahrenheit, nn - 3),
        0x74..=0x77 => (Q::ColdWarmTemperatureLimit, Unit::DegreeCelsius, nn - 3),
        0x78..=0x7F => (Q::CumulatedMaxPower, Unit::Watt, (code & 7) as i8 - 3),
        _ => (Q::Reserved, Unit::None, 0),
    }
}

type Entry = (Quantity, Unit, i8);

/// Tabulates `primary` (which = 0), `extension_fd` (1) or `extension_fb` (2) at compile time.
const fn build(which: u8) -> [Entry; 128] {
    let mut t = [(Quantity::Reserved, Unit::None, 0i8); 128];
    let mut i = 0;
    while i < 128 {
        t[i] = match which {
            0 => primary(i as u8),
            1 => extension_fd(i as u8),
            _ => extension_fb(i as u8),
        };
        i += 1;
    }
    t
}

/// The primary, 0xFD and 0xFB tables, indexed by the 7-bit code.
static PRIMARY: [Entry; 128] = build(0);
static FD: [Entry; 128] = build(1);
static FB: [Entry; 128] = build(2);

/// One combinable (orthogonal) VIFE, EN 13757-3 table "VIFE codes for reports of record errors"
/// and "combinable VIFE".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// E00x xxxx: the slave reports a record error with this code (0 = none).
    RecordError(u8),
    /// E010 0000 … E010 0111: per second / minute / hour / day / week / month / year /
    /// revolution (index 0…7).
    PerTime(u8),
    /// E010 100p: increment per input pulse on channel p.
    PerInputPulse(u8),
    /// E010 101p: increment per output pulse on channel p.
    PerOutputPulse(u8),
    /// E010 1100 … E011 1000: per litre, m³, kg, K, kWh, GJ, kW, K·l, V, A, × s, × s/V, × s/A
    /// (index 0…12).
    PerUnit(u8),
    /// E011 1001: start date/time of.
    StartDateTimeOf,
    /// E011 1010: VIF contains an uncorrected unit.
    Uncorrected,
    /// E011 1011: accumulation only if positive contributions.
    AccumulationPositive,
    /// E011 1100: accumulation of absolute value only if negative contributions.
    AccumulationNegative,
    /// E100 u000 … E110 1xxx: limit values, limit exceed counts, dates and durations
    /// (the 7-bit code).
    Limit(u8),
    /// E111 0nnn: multiplicative correction factor 10^(nnn−6).
    MultiplyPow10(i8),
    /// E111 10nn: additive correction constant 10^(nn−3) in the unit of the VIF.
    AddPow10(i8),
    /// E111 1101: multiplicative correction factor 1000.
    Multiply1000,
    /// E111 1110: future value.
    FutureValue,
    /// E111 1111: the following VIFEs and data are manufacturer specific.
    ManufacturerSpecific,
    /// Any other (reserved) code.
    Reserved(u8),
}

impl Modifier {
    /// Classifies one combinable VIFE byte (extension bit ignored).
    #[inline]
    pub fn from_vife(vife: u8) -> Modifier {
        let c = vife & 0x7F;
        match c {
            0x00..=0x1F => Modifier::RecordError(c),
            0x20..=0x27 => Modifier::PerTime(c - 0x20),
            0x28 | 0x29 => Modifier::PerInputPulse(c & 1),
            0x2A | 0x2B => Modifier::PerOutputPulse(c & 1),
            0x2C..=0x38 => Modifier::PerUnit(c - 0x2C),
            0x39 => Modifier::StartDateTimeOf,
            0x3A => Modifier::Uncorrected,
            0x3B => Modifier::AccumulationPositive,
            0x3C => Modifier::AccumulationNegative,
            0x40..=0x6F => Modifier::Limit(c),
            0x70..=0x77 => Modifier::MultiplyPow10((c & 7) as i8 - 6),
            0x78..=0x7B => Modifier::AddPow10((c & 3) as i8 - 3),
            0x7D => Modifier::Multiply1000,
            0x7E => Modifier::FutureValue,
            0x7F => Modifier::ManufacturerSpecific,
            _ => Modifier::Reserved(c),
        }
    }

    /// The power of ten this modifier multiplies the value by (0 for non-scaling modifiers).
    #[inline]
    pub fn scale(self) -> i8 {
        match self {
            Modifier::MultiplyPow10(e) => e,
            Modifier::Multiply1000 => 3,
            _ => 0,
        }
    }
}

/// Iterator over the combinable VIFEs of a VIB.
#[derive(Debug, Clone)]
pub struct Modifiers<'a> {
    vifes: core::slice::Iter<'a, u8>,
    stopped: bool,
}

impl Iterator for Modifiers<'_> {
    type Item = Modifier;

    #[inline]
    fn next(&mut self) -> Option<Modifier> {
        if self.stopped {
            return None;
        }
        let m = Modifier::from_vife(*self.vifes.next()?);
        if m == Modifier::ManufacturerSpecific {
            // Everything after 0xFF is manufacturer defined.
            self.stopped = true;
        }
        Some(m)
    }
}

impl<'a> Vib<'a> {
    /// Which table the VIF selects.
    #[inline]
    pub fn table(&self) -> VifTable {
        match self.vif {
            0xFD => VifTable::Fd,
            0xFB => VifTable::Fb,
            v if v & 0x7F == 0x7C => VifTable::PlainText,
            v if v & 0x7F == 0x7F => VifTable::Manufacturer,
            v if v & 0x7F == 0x7E => VifTable::Any,
            _ => VifTable::Primary,
        }
    }

    /// Quantity, unit and exponent of this VIB, with multiplicative correction VIFEs
    /// (E111 0nnn, E111 1101) folded into the exponent.
    #[inline]
    pub fn info(&self) -> ValueInfo<'a> {
        if self.vif < 0x7C {
            // Fast path: primary VIF without extensions.
            let (quantity, unit, exponent) = PRIMARY[usize::from(self.vif)];
            return ValueInfo {
                table: VifTable::Primary,
                code: self.vif,
                quantity,
                unit,
                exponent,
                plain_text: None,
            };
        }
        let table = self.table();
        let reserved = (Quantity::Reserved, Unit::None, 0);
        let (code, (quantity, unit, exponent)) = match table {
            VifTable::Primary => {
                let c = self.vif & 0x7F;
                (c, PRIMARY[usize::from(c)])
            }
            VifTable::Fd | VifTable::Fb => match self.vifes.first() {
                Some(&e) => {
                    let c = e & 0x7F;
                    let t = if table == VifTable::Fd { &FD } else { &FB };
                    (c, t[usize::from(c)])
                }
                None => (0x7F, reserved),
            },
            VifTable::PlainText => (0x7C, (Quantity::PlainText, Unit::None, 0)),
            VifTable::Manufacturer => (0x7F, (Quantity::ManufacturerSpecific, Unit::None, 0)),
            VifTable::Any => (0x7E, (Quantity::AnyVif, Unit::None, 0)),
        };
        let scale: i8 = if self.vifes.is_empty() {
            0
        } else {
            self.modifiers().map(Modifier::scale).sum()
        };
        ValueInfo {
            table,
            code,
            quantity,
            unit,
            exponent: exponent + scale,
            plain_text: self.plain_text.map(Text),
        }
    }

    /// The combinable VIFEs: all VIFEs for primary and plain-text VIFs, the VIFEs after the first
    /// for 0xFB/0xFD, none for manufacturer VIFs.
    #[inline]
    pub fn modifiers(&self) -> Modifiers<'a> {
        let rest: &'a [u8] = match self.table() {
            VifTable::Fd | VifTable::Fb => self.vifes.get(1..).unwrap_or(&[]),
            VifTable::Manufacturer => &[],
            _ => self.vifes,
        };
        Modifiers {
            vifes: rest.iter(),
            stopped: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(vif: u8, vifes: &[u8]) -> (Quantity, Unit, i8) {
        let i = Vib {
            vif,
            vifes,
            plain_text: None,
        }
        .info();
        (i.quantity, i.unit, i.exponent)
    }

    #[test]
    fn primary_table() {
        assert_eq!(info(0x06, &[]), (Quantity::Energy, Unit::WattHour, 3));
        assert_eq!(info(0x0E, &[]), (Quantity::Energy, Unit::Joule, 6));
        assert_eq!(info(0x14, &[]), (Quantity::Volume, Unit::CubicMetre, -2));
        assert_eq!(info(0x22, &[]), (Quantity::OnTime, Unit::Hour, 0));
        assert_eq!(info(0x2E, &[]), (Quantity::Power, Unit::Watt, 3));
        assert_eq!(
            info(0x3B, &[]),
            (Quantity::VolumeFlow, Unit::CubicMetrePerHour, -3)
        );
        assert_eq!(
            info(0x59, &[]),
            (Quantity::FlowTemperature, Unit::DegreeCelsius, -2)
        );
        assert_eq!(
            info(0x61, &[]),
            (Quantity::TemperatureDifference, Unit::Kelvin, -2)
        );
        assert_eq!(info(0x6D, &[]), (Quantity::DateTime, Unit::Date, 0));
        assert_eq!(
            info(0x78, &[]),
            (Quantity::FabricationNumber, Unit::None, 0)
        );
        assert_eq!(info(0x7B, &[]), (Quantity::Reserved, Unit::None, 0));
        assert_eq!(info(0xFF, &[0x01]).0, Quantity::ManufacturerSpecific);
    }

    #[test]
    fn extension_tables() {
        assert_eq!(info(0xFD, &[0x17]), (Quantity::ErrorFlags, Unit::None, 0));
        assert_eq!(info(0xFD, &[0x59]), (Quantity::Current, Unit::Ampere, -3));
        assert_eq!(info(0xFD, &[0x49]), (Quantity::Voltage, Unit::Volt, 0));
        assert_eq!(info(0xFB, &[0x00]), (Quantity::Energy, Unit::WattHour, 5));
        assert_eq!(info(0xFB, &[0x1A]), (Quantity::Reserved, Unit::None, 0));
        assert_eq!(info(0xFD, &[]).0, Quantity::Reserved);
    }

    #[test]
    fn combinable_vifes_scale() {
        assert_eq!(
            info(0x93, &[0x74]),
            (Quantity::Volume, Unit::CubicMetre, -5)
        );
        assert_eq!(info(0x86, &[0x7D]), (Quantity::Energy, Unit::WattHour, 6));
        assert_eq!(info(0xFD, &[0xC8, 0x74]).2, -3);
        assert_eq!(Modifier::from_vife(0x22), Modifier::PerTime(2));
        assert_eq!(Modifier::from_vife(0xFB), Modifier::AddPow10(0));
        assert_eq!(Modifier::from_vife(0x7F), Modifier::ManufacturerSpecific);
    }
}
