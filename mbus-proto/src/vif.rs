//! Value information: the primary VIF table, the 0xFB and 0xFD extension tables, plain-text and
//! manufacturer VIFs, and the combinable (orthogonal) VIFE tables of EN 13757-3:2018.
//!
//! [`Vib::info`] maps a VIF (and, for 0xFB/0xFD, its first VIFE) to a [`ValueInfo`]: what is
//! measured ([`Quantity`]), in which [`Unit`], and the power of ten to apply to the raw value.
//! Codes the standard reserves come back as [`Quantity::Reserved`], never as errors.
//! [`Vib::modifiers`] lists the combinable VIFEs that qualify the value ([`Modifier`]: per
//! hour, at phase L1, upper limit, record error, …).
//!
//! The tables follow EN 13757-3:2018 (primary VIF Table 10, 0xFD Table 12 with its second
//! level Table 13, 0xFB Table 14, combinable VIFEs Table 15, their extension Table 16 and the
//! record error codes Table 18). The libmbus-compatible XML keeps libmbus's own, older table in
//! `xml.rs`; the differences are listed in `DEVIATIONS.md`.
//!
//! ```
//! use mbus_proto::vif::{Modifier, Phase, Quantity, Unit, Vib};
//!
//! let vib = Vib { vif: 0x13, vifes: &[], plain_text: None };
//! let info = vib.info();
//! assert_eq!((info.quantity, info.unit, info.exponent), (Quantity::Volume, Unit::CubicMetre, -3));
//! let vib = Vib { vif: 0xFD, vifes: &[0x48], plain_text: None };
//! assert_eq!((vib.info().quantity, vib.info().exponent), (Quantity::Voltage, -1));
//! // Energy (kWh) per hour at phase L2: VIFE 0x22, then 0xFC 0x02 from the extension table.
//! let vib = Vib { vif: 0x86, vifes: &[0xA2, 0xFC, 0x02], plain_text: None };
//! let m: Vec<Modifier> = vib.modifiers().collect();
//! assert_eq!(m, [Modifier::PerHour, Modifier::AtPhase(Phase::L2)]);
//! assert_eq!(m[1].to_string(), "at phase L2");
//! ```

use crate::value::Text;
use core::fmt;

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
    /// The second level of the 0xFD table (VIF 0xFD, VIFE 0xFD, then the code).
    FdSecondLevel,
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
#[non_exhaustive]
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
    /// Unique message identification (called access number before the 2013 edition).
    AccessNumber,
    /// Device type (called medium before the 2013 edition).
    Medium,
    Manufacturer,
    ParameterSet,
    ModelVersion,
    HardwareVersion,
    /// Metrology (firmware) version.
    FirmwareVersion,
    /// Other software version.
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
    SecurityKey,
    DigitalOutput,
    DigitalInput,
    Baudrate,
    ResponseDelay,
    Retry,
    /// Remote control (device specific, e.g. a gas valve).
    RemoteControl,
    FirstStorageNumber,
    LastStorageNumber,
    StorageBlockSize,
    /// Descriptor for tariff and sub-unit.
    TariffSubunitDescriptor,
    StorageInterval,
    OperatorSpecificData,
    /// Time point: second within the minute (0–59).
    TimePointSecond,
    DurationSinceReadout,
    TariffStart,
    TariffDuration,
    TariffPeriod,
    Dimensionless,
    /// Data container for the wireless M-Bus protocol.
    WirelessDataContainer,
    /// Period of nominal data transmissions.
    TransmissionPeriod,
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
    /// Radio signal level.
    RfLevel,
    /// Daylight-saving rule (type K).
    DaylightSaving,
    /// Listening window management (type L).
    ListeningWindow,
    RemainingBatteryLife,
    /// Number of times the meter was stopped.
    MeterStopCount,
    /// Data container for a manufacturer-specific protocol.
    ManufacturerDataContainer,
    /// Currently selected application (0xFD second level).
    SelectedApplication,
    ReactiveEnergy,
    ApparentEnergy,
    ReactivePower,
    ApparentPower,
    RelativeHumidity,
    /// Phase angle between two voltages.
    PhaseVoltageVoltage,
    /// Phase angle between voltage and current.
    PhaseVoltageCurrent,
    Frequency,
    /// Heat cost allocator: resulting rating factor K.
    RatingFactorK,
    /// Heat cost allocator: thermal output rating factor Kq.
    RatingFactorKq,
    /// Heat cost allocator: overall thermal coupling rating factor Kc.
    RatingFactorKc,
    /// Heat cost allocator: room-side thermal coupling rating factor Kcr.
    RatingFactorKcr,
    /// Heat cost allocator: heater-side thermal coupling rating factor Kch.
    RatingFactorKch,
    /// Heat cost allocator: low-temperature rating factor Kt.
    RatingFactorKt,
    /// Heat cost allocator: display output scaling factor KD.
    RatingFactorKd,
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
            SecurityKey => "security_key",
            DigitalOutput => "digital_output",
            DigitalInput => "digital_input",
            Baudrate => "baudrate",
            ResponseDelay => "response_delay",
            Retry => "retry",
            RemoteControl => "remote_control",
            FirstStorageNumber => "first_storage_number",
            LastStorageNumber => "last_storage_number",
            StorageBlockSize => "storage_block_size",
            TariffSubunitDescriptor => "tariff_subunit_descriptor",
            StorageInterval => "storage_interval",
            OperatorSpecificData => "operator_specific_data",
            TimePointSecond => "time_point_second",
            DurationSinceReadout => "duration_since_readout",
            TariffStart => "tariff_start",
            TariffDuration => "tariff_duration",
            TariffPeriod => "tariff_period",
            Dimensionless => "dimensionless",
            WirelessDataContainer => "wireless_data_container",
            TransmissionPeriod => "transmission_period",
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
            RfLevel => "rf_level",
            DaylightSaving => "daylight_saving",
            ListeningWindow => "listening_window",
            RemainingBatteryLife => "remaining_battery_life",
            MeterStopCount => "meter_stop_count",
            ManufacturerDataContainer => "manufacturer_data_container",
            SelectedApplication => "selected_application",
            ReactiveEnergy => "reactive_energy",
            ApparentEnergy => "apparent_energy",
            ReactivePower => "reactive_power",
            ApparentPower => "apparent_power",
            RelativeHumidity => "relative_humidity",
            PhaseVoltageVoltage => "phase_voltage_voltage",
            PhaseVoltageCurrent => "phase_voltage_current",
            Frequency => "frequency",
            RatingFactorK => "rating_factor_k",
            RatingFactorKq => "rating_factor_kq",
            RatingFactorKc => "rating_factor_kc",
            RatingFactorKcr => "rating_factor_kcr",
            RatingFactorKch => "rating_factor_kch",
            RatingFactorKt => "rating_factor_kt",
            RatingFactorKd => "rating_factor_kd",
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
#[non_exhaustive]
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
    /// Not produced by the EN 13757-3:2018 tables (the 0xFB °F codes are reserved there); kept
    /// so that the names stay stable.
    DegreeFahrenheit,
    CubicFeet,
    /// Not produced by the EN 13757-3:2018 tables (0xFB 0x22–0x26 are reserved there); kept so
    /// that the names stay stable.
    UsGallon,
    /// See [`Unit::UsGallon`].
    UsGallonPerMinute,
    /// See [`Unit::UsGallon`].
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
    /// Reactive energy, var-hours.
    VarHour,
    /// Apparent energy, volt-ampere-hours.
    VoltAmpereHour,
    /// Reactive power.
    Var,
    /// Apparent power.
    VoltAmpere,
    /// Calories (energy 10^n MCal is given as 10^(n+6) cal).
    Calorie,
    Percent,
    /// Angle in degrees.
    Degree,
    Hertz,
    /// Radio level in dB relative to 1 mW.
    DecibelMilliwatt,
    /// Steps of 1/4096 (2⁻¹²): the value 4096 is the factor 1.
    Per4096,
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
            VarHour => "varh",
            VoltAmpereHour => "VAh",
            Var => "var",
            VoltAmpere => "VA",
            Calorie => "cal",
            Percent => "%",
            Degree => "°",
            Hertz => "Hz",
            DecibelMilliwatt => "dBm",
            Per4096 => "1/4096",
        }
    }
}

/// The unit's symbol (`Wh`, `m^3/h`, `°C`; empty for none).
impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// The quantity's name in words (`energy`, `flow temperature`, …): [`Quantity::name`] with
/// spaces for underscores.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, word) in self.name().split('_').enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
        }
        Ok(())
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

/// EN 13757-3:2018 Table 10 (primary VIFs).
const fn primary(code: u8) -> Entry {
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
        _ => RESERVED,
    }
}

/// EN 13757-3:2018 Table 12 (VIF 0xFD, main VIFE-code extension table). Code 0x7D selects the
/// second level (Table 13), which [`Vib::info`] reads from the next VIFE.
const fn extension_fd(code: u8) -> Entry {
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
        0x19 => (Q::SecurityKey, Unit::None, 0),
        0x1A => (Q::DigitalOutput, Unit::None, 0),
        0x1B => (Q::DigitalInput, Unit::None, 0),
        0x1C => (Q::Baudrate, Unit::Baud, 0),
        0x1D => (Q::ResponseDelay, Unit::BitTimes, 0),
        0x1E => (Q::Retry, Unit::None, 0),
        0x1F => (Q::RemoteControl, Unit::None, 0),
        0x20 => (Q::FirstStorageNumber, Unit::None, 0),
        0x21 => (Q::LastStorageNumber, Unit::None, 0),
        0x22 => (Q::StorageBlockSize, Unit::None, 0),
        0x23 => (Q::TariffSubunitDescriptor, Unit::None, 0),
        0x24..=0x27 => (Q::StorageInterval, time_unit(code), 0),
        0x28 => (Q::StorageInterval, Unit::Month, 0),
        0x29 => (Q::StorageInterval, Unit::Year, 0),
        0x2A => (Q::OperatorSpecificData, Unit::None, 0),
        0x2B => (Q::TimePointSecond, Unit::Second, 0),
        0x2C..=0x2F => (Q::DurationSinceReadout, time_unit(code), 0),
        0x30 => (Q::TariffStart, Unit::Date, 0),
        0x31..=0x33 => (Q::TariffDuration, time_unit(code), 0),
        0x34..=0x37 => (Q::TariffPeriod, time_unit(code), 0),
        0x38 => (Q::TariffPeriod, Unit::Month, 0),
        0x39 => (Q::TariffPeriod, Unit::Year, 0),
        0x3A => (Q::Dimensionless, Unit::None, 0),
        0x3B => (Q::WirelessDataContainer, Unit::None, 0),
        0x3C..=0x3F => (Q::TransmissionPeriod, time_unit(code), 0),
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
        0x71 => (Q::RfLevel, Unit::DecibelMilliwatt, 0),
        0x72 => (Q::DaylightSaving, Unit::Date, 0),
        0x73 => (Q::ListeningWindow, Unit::None, 0),
        0x74 => (Q::RemainingBatteryLife, Unit::Day, 0),
        0x75 => (Q::MeterStopCount, Unit::None, 0),
        0x76 => (Q::ManufacturerDataContainer, Unit::None, 0),
        _ => RESERVED,
    }
}

/// EN 13757-3:2018 Table 13 (VIF 0xFD, VIFE 0xFD: second level of the main extension table).
const fn extension_fd_second(code: u8) -> Entry {
    match code {
        0x00 => (Quantity::SelectedApplication, Unit::None, 0),
        0x02 => (Quantity::RemainingBatteryLife, Unit::Month, 0),
        0x03 => (Quantity::RemainingBatteryLife, Unit::Year, 0),
        _ => RESERVED,
    }
}

/// EN 13757-3:2018 Table 14 (VIF 0xFB, alternate extension table), each multiple of a unit
/// given as the base unit with its power of ten (MWh as 10^6 Wh, t as 10^3 kg, …).
const fn extension_fb(code: u8) -> Entry {
    use Quantity as Q;
    let n = (code & 1) as i8;
    let nn = (code & 3) as i8;
    match code {
        // Energy 10^(n−1) MWh.
        0x00 | 0x01 => (Q::Energy, Unit::WattHour, n + 5),
        // Reactive energy 10^n kvarh.
        0x02 | 0x03 => (Q::ReactiveEnergy, Unit::VarHour, n + 3),
        // Apparent energy 10^n kVAh.
        0x04 | 0x05 => (Q::ApparentEnergy, Unit::VoltAmpereHour, n + 3),
        // Energy 10^(n−1) GJ.
        0x08 | 0x09 => (Q::Energy, Unit::Joule, n + 8),
        // Energy 10^(nn−1) MCal.
        0x0C..=0x0F => (Q::Energy, Unit::Calorie, nn + 5),
        // Volume 10^(n+2) m³.
        0x10 | 0x11 => (Q::Volume, Unit::CubicMetre, n + 2),
        // Reactive power 10^(nn−3) kvar.
        0x14..=0x17 => (Q::ReactivePower, Unit::Var, nn),
        // Mass 10^(n+2) t.
        0x18 | 0x19 => (Q::Mass, Unit::Kilogram, n + 5),
        // Relative humidity 10^(n−1) %.
        0x1A | 0x1B => (Q::RelativeHumidity, Unit::Percent, n - 1),
        0x20 => (Q::Volume, Unit::CubicFeet, 0),
        0x21 => (Q::Volume, Unit::CubicFeet, -1),
        // Power 10^(n−1) MW.
        0x28 | 0x29 => (Q::Power, Unit::Watt, n + 5),
        0x2A => (Q::PhaseVoltageVoltage, Unit::Degree, -1),
        0x2B => (Q::PhaseVoltageCurrent, Unit::Degree, -1),
        0x2C..=0x2F => (Q::Frequency, Unit::Hertz, nn - 3),
        // Power 10^(n−1) GJ/h.
        0x30 | 0x31 => (Q::Power, Unit::JoulePerHour, n + 8),
        // Apparent power 10^(nn−3) kVA.
        0x34..=0x37 => (Q::ApparentPower, Unit::VoltAmpere, nn),
        0x68 => (Q::RatingFactorK, Unit::Per4096, 0),
        0x69 => (Q::RatingFactorKq, Unit::None, 0),
        0x6A => (Q::RatingFactorKc, Unit::Per4096, 0),
        0x6B => (Q::RatingFactorKcr, Unit::Per4096, 0),
        0x6C => (Q::RatingFactorKch, Unit::Per4096, 0),
        0x6D => (Q::RatingFactorKt, Unit::Per4096, 0),
        0x6E => (Q::RatingFactorKd, Unit::Per4096, 0),
        0x74..=0x77 => (Q::ColdWarmTemperatureLimit, Unit::DegreeCelsius, nn - 3),
        0x78..=0x7F => (Q::CumulatedMaxPower, Unit::Watt, (code & 7) as i8 - 3),
        _ => RESERVED,
    }
}

type Entry = (Quantity, Unit, i8);

const RESERVED: Entry = (Quantity::Reserved, Unit::None, 0);

/// The entry of a 7-bit code in a table built by [`build`].
#[inline]
fn entry(table: &[Entry; 128], code: u8) -> Entry {
    // A 7-bit code is below 128, so the lookup always hits.
    table
        .get(usize::from(code & 0x7F))
        .copied()
        .unwrap_or(RESERVED)
}

/// Tabulates `primary` (which = 0), `extension_fd` (1) or `extension_fb` (2) at compile time.
#[allow(
    clippy::indexing_slicing,
    reason = "runs only in constant evaluation, where an index out of range fails the build"
)]
const fn build(which: u8) -> [Entry; 128] {
    let mut t = [RESERVED; 128];
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

/// The 0xFD code that selects the second level of the main extension table.
const FD_SECOND_LEVEL: u8 = 0x7D;

/// Lower or upper limit, in the limit-related combinable VIFEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The lower limit (bit u = 0).
    Lower,
    /// The upper limit (bit u = 1).
    Upper,
}

/// First or last occurrence, in the limit and duration VIFEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occurrence {
    /// The first one (bit f = 0).
    First,
    /// The last one (bit f = 1).
    Last,
}

/// Begin or end of a period, in the date VIFEs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Its begin (bit b = 0).
    Begin,
    /// Its end (bit b = 1).
    End,
}

/// An electrical phase or pair of phases (EN 13757-3:2018 Table 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Phase L1.
    L1,
    /// Phase L2.
    L2,
    /// Phase L3.
    L3,
    /// Neutral.
    N,
    /// Between L1 and L2.
    L1L2,
    /// Between L2 and L3.
    L2L3,
    /// Between L3 and L1.
    L3L1,
}

impl Phase {
    /// Conventional name: `L1`, `L2`, `L3`, `N`, `L1-L2`, `L2-L3`, `L3-L1`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::L1 => "L1",
            Phase::L2 => "L2",
            Phase::L3 => "L3",
            Phase::N => "N",
            Phase::L1L2 => "L1-L2",
            Phase::L2L3 => "L2-L3",
            Phase::L3L1 => "L3-L1",
        }
    }
}

impl Limit {
    /// `lower` or `upper`.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Lower => "lower",
            Limit::Upper => "upper",
        }
    }

    const fn from_bit(code: u8, mask: u8) -> Limit {
        if code & mask == 0 {
            Limit::Lower
        } else {
            Limit::Upper
        }
    }
}

impl Occurrence {
    /// `first` or `last`.
    pub fn name(self) -> &'static str {
        match self {
            Occurrence::First => "first",
            Occurrence::Last => "last",
        }
    }

    const fn from_bit(code: u8, mask: u8) -> Occurrence {
        if code & mask == 0 {
            Occurrence::First
        } else {
            Occurrence::Last
        }
    }
}

impl Edge {
    /// `begin` or `end`.
    pub fn name(self) -> &'static str {
        match self {
            Edge::Begin => "begin",
            Edge::End => "end",
        }
    }

    const fn from_bit(code: u8) -> Edge {
        if code & 1 == 0 {
            Edge::Begin
        } else {
            Edge::End
        }
    }
}

/// One combinable (orthogonal) VIFE: EN 13757-3:2018 Table 15, with Table 18 (record errors)
/// for E000 xxxx and E001 0101–E001 1100, and Table 16 for the codes after the extension VIFE
/// E111 1100.
///
/// [`Modifier::name`] is a stable snake_case name (used in JSON), `Display` a short human
/// description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// E000 xxxx, E001 0101–E001 1100: the slave reports a record error with this code
    /// (0 = none; Table 18).
    RecordError(u8),
    /// E001 0010: average value.
    AverageValue,
    /// E001 0011: inverse compact profile.
    InverseCompactProfile,
    /// E001 0100: relative deviation.
    RelativeDeviation,
    /// E001 1101: standard conform data content.
    StandardConformData,
    /// E001 1110: compact profile with register numbers.
    CompactProfileWithRegisters,
    /// E001 1111: compact profile.
    CompactProfile,
    /// E010 0000: per second.
    PerSecond,
    /// E010 0001: per minute.
    PerMinute,
    /// E010 0010: per hour.
    PerHour,
    /// E010 0011: per day.
    PerDay,
    /// E010 0100: per week.
    PerWeek,
    /// E010 0101: per month.
    PerMonth,
    /// E010 0110: per year.
    PerYear,
    /// E010 0111: per revolution / measurement.
    PerRevolution,
    /// E010 100p: increment per input pulse on input channel p.
    PerInputPulse(u8),
    /// E010 101p: increment per output pulse on output channel p.
    PerOutputPulse(u8),
    /// E010 1100: per litre.
    PerLitre,
    /// E010 1101: per m³.
    PerCubicMetre,
    /// E010 1110: per kg.
    PerKilogram,
    /// E010 1111: per K.
    PerKelvin,
    /// E011 0000: per kWh.
    PerKilowattHour,
    /// E011 0001: per GJ.
    PerGigajoule,
    /// E011 0010: per kW.
    PerKilowatt,
    /// E011 0011: per (K·l).
    PerKelvinLitre,
    /// E011 0100: per V.
    PerVolt,
    /// E011 0101: per A.
    PerAmpere,
    /// E011 0110: multiplied by s.
    TimesSecond,
    /// E011 0111: multiplied by s/V.
    TimesSecondPerVolt,
    /// E011 1000: multiplied by s/A.
    TimesSecondPerAmpere,
    /// E011 1001: start date(/time) of.
    StartDateTimeOf,
    /// E011 1010: the VIF gives the uncorrected unit (value at metering conditions).
    Uncorrected,
    /// E011 1011: accumulation only of positive contributions (forward flow).
    AccumulationPositive,
    /// E011 1100: accumulation of the absolute value only of negative contributions
    /// (backward flow).
    AccumulationNegative,
    /// E011 1101: reserved for an alternate non-metric unit system.
    NonMetric,
    /// E011 1110: value at base conditions.
    BaseConditions,
    /// E011 1111: OBIS declaration.
    ObisDeclaration,
    /// E100 u000: lower or upper limit value.
    LimitValue(Limit),
    /// E100 u001: number of exceeds of the lower or upper limit.
    LimitExceedCount(Limit),
    /// E100 uf1b: date(/time) of the begin or end of the first or last lower or upper limit
    /// exceed.
    LimitExceedDate(Limit, Occurrence, Edge),
    /// E101 ufnn: duration of the first or last lower or upper limit exceed, in the unit nn
    /// (s, min, h, d).
    LimitExceedDuration(Limit, Occurrence, Unit),
    /// E110 0fnn: duration of the first or last (period), in the unit nn (s, min, h, d).
    DurationOf(Occurrence, Unit),
    /// E110 1u00: value during the lower or upper limit exceed.
    ValueDuringLimitExceed(Limit),
    /// E110 1001: leakage values.
    LeakageValues,
    /// E110 1101: overflow values.
    OverflowValues,
    /// E110 1f1b: date(/time) of the begin or end of the first or last (period).
    DateOf(Occurrence, Edge),
    /// E111 0nnn: multiplicative correction factor 10^(nnn−6).
    MultiplyPow10(i8),
    /// E111 10nn: additive correction constant 10^(nn−3) in the unit of the VIF.
    AddPow10(i8),
    /// E111 1101: multiplicative correction factor 10³.
    Multiply1000,
    /// E111 1110: future value.
    FutureValue,
    /// E111 1111: the following VIFEs and data are manufacturer specific.
    ManufacturerSpecific,
    /// E111 1100 + E000 0001…E000 0111: at a phase, at neutral or between two phases.
    AtPhase(Phase),
    /// E111 1100 + E000 1000…E000 1011: at quadrant Q1…Q4.
    AtQuadrant(u8),
    /// E111 1100 + E000 1100: delta between import and export.
    DeltaImportExport,
    /// E111 1100 + E001 0000: accumulation of the absolute value of both positive and negative
    /// contributions.
    AccumulationAbsolute,
    /// E111 1100 + E001 0001: data presented with type C.
    PresentedAsTypeC,
    /// E111 1100 + E001 0010: data presented with type D.
    PresentedAsTypeD,
    /// E111 1100 + E001 0100: direction from the communication partner to the meter.
    DirectionToMeter,
    /// E111 1100 + E001 0101: direction from the meter to the communication partner.
    DirectionFromMeter,
    /// E111 1100 + a code Table 16 reserves (the code is kept; the extension VIFE alone, when
    /// nothing follows it, gives 0x7F).
    ReservedExtension(u8),
    /// Any other code Table 15 reserves.
    Reserved(u8),
}

/// The combinable VIFE that announces one more VIFE from the extension table (Table 16).
const COMBINABLE_EXTENSION: u8 = 0x7C;

impl Modifier {
    /// Classifies one combinable VIFE byte (extension bit ignored). The extension code
    /// E111 1100 needs the byte after it: see [`Modifier::from_extension`]; alone it is
    /// `ReservedExtension(0x7F)`.
    #[inline]
    pub fn from_vife(vife: u8) -> Modifier {
        use Modifier::*;
        let c = vife & 0x7F;
        match c {
            0x00..=0x0F | 0x15..=0x1C => RecordError(c),
            0x12 => AverageValue,
            0x13 => InverseCompactProfile,
            0x14 => RelativeDeviation,
            0x1D => StandardConformData,
            0x1E => CompactProfileWithRegisters,
            0x1F => CompactProfile,
            0x20 => PerSecond,
            0x21 => PerMinute,
            0x22 => PerHour,
            0x23 => PerDay,
            0x24 => PerWeek,
            0x25 => PerMonth,
            0x26 => PerYear,
            0x27 => PerRevolution,
            0x28 | 0x29 => PerInputPulse(c & 1),
            0x2A | 0x2B => PerOutputPulse(c & 1),
            0x2C => PerLitre,
            0x2D => PerCubicMetre,
            0x2E => PerKilogram,
            0x2F => PerKelvin,
            0x30 => PerKilowattHour,
            0x31 => PerGigajoule,
            0x32 => PerKilowatt,
            0x33 => PerKelvinLitre,
            0x34 => PerVolt,
            0x35 => PerAmpere,
            0x36 => TimesSecond,
            0x37 => TimesSecondPerVolt,
            0x38 => TimesSecondPerAmpere,
            0x39 => StartDateTimeOf,
            0x3A => Uncorrected,
            0x3B => AccumulationPositive,
            0x3C => AccumulationNegative,
            0x3D => NonMetric,
            0x3E => BaseConditions,
            0x3F => ObisDeclaration,
            0x40 | 0x48 => LimitValue(Limit::from_bit(c, 8)),
            0x41 | 0x49 => LimitExceedCount(Limit::from_bit(c, 8)),
            0x42 | 0x43 | 0x46 | 0x47 | 0x4A | 0x4B | 0x4E | 0x4F => LimitExceedDate(
                Limit::from_bit(c, 8),
                Occurrence::from_bit(c, 4),
                Edge::from_bit(c),
            ),
            0x50..=0x5F => LimitExceedDuration(
                Limit::from_bit(c, 8),
                Occurrence::from_bit(c, 4),
                time_unit(c),
            ),
            0x60..=0x67 => DurationOf(Occurrence::from_bit(c, 4), time_unit(c)),
            0x68 | 0x6C => ValueDuringLimitExceed(Limit::from_bit(c, 4)),
            0x69 => LeakageValues,
            0x6D => OverflowValues,
            0x6A | 0x6B | 0x6E | 0x6F => DateOf(Occurrence::from_bit(c, 4), Edge::from_bit(c)),
            0x70..=0x77 => MultiplyPow10((c & 7) as i8 - 6),
            0x78..=0x7B => AddPow10((c & 3) as i8 - 3),
            COMBINABLE_EXTENSION => ReservedExtension(0x7F),
            0x7D => Multiply1000,
            0x7E => FutureValue,
            0x7F => ManufacturerSpecific,
            _ => Reserved(c),
        }
    }

    /// Classifies the VIFE that follows the extension code E111 1100 (Table 16; extension bit
    /// ignored).
    #[inline]
    pub fn from_extension(vife: u8) -> Modifier {
        use Modifier::*;
        let c = vife & 0x7F;
        match c {
            0x01 => AtPhase(Phase::L1),
            0x02 => AtPhase(Phase::L2),
            0x03 => AtPhase(Phase::L3),
            0x04 => AtPhase(Phase::N),
            0x05 => AtPhase(Phase::L1L2),
            0x06 => AtPhase(Phase::L2L3),
            0x07 => AtPhase(Phase::L3L1),
            0x08..=0x0B => AtQuadrant(c - 0x07),
            0x0C => DeltaImportExport,
            0x10 => AccumulationAbsolute,
            0x11 => PresentedAsTypeC,
            0x12 => PresentedAsTypeD,
            0x14 => DirectionToMeter,
            0x15 => DirectionFromMeter,
            _ => ReservedExtension(c),
        }
    }

    /// True for the "date (/time) of …" modifiers (start of, limit exceed, first/last
    /// begin/end): the record's data field then holds that date in type G (16 bit), F (32 bit)
    /// or I (48 bit), not a value of the quantity.
    #[inline]
    pub fn is_date_of(self) -> bool {
        matches!(
            self,
            Modifier::StartDateTimeOf | Modifier::LimitExceedDate(..) | Modifier::DateOf(..)
        )
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

    /// Stable snake_case name of the kind of modifier (parameters such as the phase or the
    /// exponent are not part of it), used as `kind` in JSON.
    pub fn name(self) -> &'static str {
        use Modifier::*;
        match self {
            RecordError(_) => "record_error",
            AverageValue => "average_value",
            InverseCompactProfile => "inverse_compact_profile",
            RelativeDeviation => "relative_deviation",
            StandardConformData => "standard_conform_data",
            CompactProfileWithRegisters => "compact_profile_with_registers",
            CompactProfile => "compact_profile",
            PerSecond => "per_second",
            PerMinute => "per_minute",
            PerHour => "per_hour",
            PerDay => "per_day",
            PerWeek => "per_week",
            PerMonth => "per_month",
            PerYear => "per_year",
            PerRevolution => "per_revolution",
            PerInputPulse(_) => "per_input_pulse",
            PerOutputPulse(_) => "per_output_pulse",
            PerLitre => "per_litre",
            PerCubicMetre => "per_cubic_metre",
            PerKilogram => "per_kilogram",
            PerKelvin => "per_kelvin",
            PerKilowattHour => "per_kilowatt_hour",
            PerGigajoule => "per_gigajoule",
            PerKilowatt => "per_kilowatt",
            PerKelvinLitre => "per_kelvin_litre",
            PerVolt => "per_volt",
            PerAmpere => "per_ampere",
            TimesSecond => "times_second",
            TimesSecondPerVolt => "times_second_per_volt",
            TimesSecondPerAmpere => "times_second_per_ampere",
            StartDateTimeOf => "start_date_time_of",
            Uncorrected => "uncorrected",
            AccumulationPositive => "accumulation_positive",
            AccumulationNegative => "accumulation_negative",
            NonMetric => "non_metric",
            BaseConditions => "base_conditions",
            ObisDeclaration => "obis_declaration",
            LimitValue(_) => "limit_value",
            LimitExceedCount(_) => "limit_exceed_count",
            LimitExceedDate(..) => "limit_exceed_date",
            LimitExceedDuration(..) => "limit_exceed_duration",
            DurationOf(..) => "duration_of",
            ValueDuringLimitExceed(_) => "value_during_limit_exceed",
            LeakageValues => "leakage_values",
            OverflowValues => "overflow_values",
            DateOf(..) => "date_of",
            MultiplyPow10(_) => "multiplicative_correction",
            AddPow10(_) => "additive_correction",
            Multiply1000 => "multiplicative_correction_1000",
            FutureValue => "future_value",
            ManufacturerSpecific => "manufacturer_specific",
            AtPhase(_) => "at_phase",
            AtQuadrant(_) => "at_quadrant",
            DeltaImportExport => "delta_import_export",
            AccumulationAbsolute => "accumulation_absolute",
            PresentedAsTypeC => "presented_as_type_c",
            PresentedAsTypeD => "presented_as_type_d",
            DirectionToMeter => "direction_to_meter",
            DirectionFromMeter => "direction_from_meter",
            ReservedExtension(_) => "reserved_extension",
            Reserved(_) => "reserved",
        }
    }
}

/// What a record error code means (EN 13757-3:2018 Table 18), `None` for reserved codes.
pub fn record_error_description(code: u8) -> Option<&'static str> {
    Some(match code {
        0x00 => "none",
        0x01 => "too many DIFEs",
        0x02 => "storage number not implemented",
        0x03 => "unit number not implemented",
        0x04 => "tariff number not implemented",
        0x05 => "function not implemented",
        0x06 => "data class not implemented",
        0x07 => "data size not implemented",
        0x0B => "too many VIFEs",
        0x0C => "illegal VIF group",
        0x0D => "illegal VIF exponent",
        0x0E => "VIF/DIF mismatch",
        0x0F => "unimplemented action",
        0x15 => "no data available (undefined value)",
        0x16 => "data overflow",
        0x17 => "data underflow",
        0x18 => "data error",
        0x1C => "premature end of record",
        _ => return None,
    })
}

impl fmt::Display for Modifier {
    /// A short human description: `per hour`, `at phase L1`, `upper limit value`,
    /// `record error: data overflow`, `correction factor 10^-3`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Modifier::*;
        let text = match *self {
            RecordError(c) => {
                return match record_error_description(c) {
                    Some(d) => write!(f, "record error: {d}"),
                    None => write!(f, "record error: reserved code 0x{c:02X}"),
                }
            }
            AverageValue => "average value",
            InverseCompactProfile => "inverse compact profile",
            RelativeDeviation => "relative deviation",
            StandardConformData => "standard conform data content",
            CompactProfileWithRegisters => "compact profile with register numbers",
            CompactProfile => "compact profile",
            PerSecond => "per second",
            PerMinute => "per minute",
            PerHour => "per hour",
            PerDay => "per day",
            PerWeek => "per week",
            PerMonth => "per month",
            PerYear => "per year",
            PerRevolution => "per revolution/measurement",
            PerInputPulse(p) => return write!(f, "increment per input pulse on channel {p}"),
            PerOutputPulse(p) => return write!(f, "increment per output pulse on channel {p}"),
            PerLitre => "per litre",
            PerCubicMetre => "per m^3",
            PerKilogram => "per kg",
            PerKelvin => "per K",
            PerKilowattHour => "per kWh",
            PerGigajoule => "per GJ",
            PerKilowatt => "per kW",
            PerKelvinLitre => "per (K·l)",
            PerVolt => "per V",
            PerAmpere => "per A",
            TimesSecond => "multiplied by s",
            TimesSecondPerVolt => "multiplied by s/V",
            TimesSecondPerAmpere => "multiplied by s/A",
            StartDateTimeOf => "start date/time of",
            Uncorrected => "uncorrected unit (value at metering conditions)",
            AccumulationPositive => "accumulation only of positive contributions",
            AccumulationNegative => {
                "accumulation of absolute values only of negative contributions"
            }
            NonMetric => "alternate non-metric unit system",
            BaseConditions => "value at base conditions",
            ObisDeclaration => "OBIS declaration",
            LimitValue(l) => return write!(f, "{} limit value", l.name()),
            LimitExceedCount(l) => return write!(f, "number of exceeds of {} limit", l.name()),
            LimitExceedDate(l, o, e) => {
                return write!(
                    f,
                    "date/time of {} of {} {} limit exceed",
                    e.name(),
                    o.name(),
                    l.name()
                )
            }
            LimitExceedDuration(l, o, u) => {
                return write!(
                    f,
                    "duration of {} {} limit exceed ({})",
                    o.name(),
                    l.name(),
                    u.symbol()
                )
            }
            DurationOf(o, u) => return write!(f, "duration of {} ({})", o.name(), u.symbol()),
            ValueDuringLimitExceed(l) => {
                return write!(f, "value during {} limit exceed", l.name())
            }
            LeakageValues => "leakage values",
            OverflowValues => "overflow values",
            DateOf(o, e) => return write!(f, "date/time of {} of {}", e.name(), o.name()),
            MultiplyPow10(e) => return write!(f, "correction factor 10^{e}"),
            AddPow10(e) => return write!(f, "correction offset 10^{e} (unit of the VIF)"),
            Multiply1000 => "correction factor 10^3",
            FutureValue => "future value",
            ManufacturerSpecific => "manufacturer specific",
            AtPhase(Phase::N) => "at neutral",
            AtPhase(p @ (Phase::L1L2 | Phase::L2L3 | Phase::L3L1)) => {
                return write!(f, "between phases {}", p.name())
            }
            AtPhase(p) => return write!(f, "at phase {}", p.name()),
            AtQuadrant(q) => return write!(f, "at quadrant Q{q}"),
            DeltaImportExport => "delta between import and export",
            AccumulationAbsolute => "accumulation of absolute values",
            PresentedAsTypeC => "presented as type C",
            PresentedAsTypeD => "presented as type D",
            DirectionToMeter => "direction to the meter",
            DirectionFromMeter => "direction from the meter",
            ReservedExtension(c) => return write!(f, "reserved extension code 0x{c:02X}"),
            Reserved(c) => return write!(f, "reserved code 0x{c:02X}"),
        };
        f.write_str(text)
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
        let vife = *self.vifes.next()?;
        let m = if vife & 0x7F == COMBINABLE_EXTENSION {
            match self.vifes.next() {
                Some(&next) => Modifier::from_extension(next),
                None => Modifier::ReservedExtension(0x7F),
            }
        } else {
            Modifier::from_vife(vife)
        };
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
            0xFD if self.vifes.first().map(|e| e & 0x7F) == Some(FD_SECOND_LEVEL) => {
                VifTable::FdSecondLevel
            }
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
            let (quantity, unit, exponent) = entry(&PRIMARY, self.vif);
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
        let code_at = |i: usize| self.vifes.get(i).map(|e| e & 0x7F);
        let (code, (quantity, unit, exponent)) = match table {
            VifTable::Primary => {
                let c = self.vif & 0x7F;
                (c, entry(&PRIMARY, c))
            }
            VifTable::Fd | VifTable::Fb => match code_at(0) {
                Some(c) => {
                    let t = if table == VifTable::Fd { &FD } else { &FB };
                    (c, entry(t, c))
                }
                None => (0x7F, RESERVED),
            },
            VifTable::FdSecondLevel => match code_at(1) {
                Some(c) => (c, extension_fd_second(c)),
                None => (0x7F, RESERVED),
            },
            VifTable::PlainText => (0x7C, (Quantity::PlainText, Unit::None, 0)),
            VifTable::Manufacturer => (0x7F, (Quantity::ManufacturerSpecific, Unit::None, 0)),
            VifTable::Any => (0x7E, (Quantity::AnyVif, Unit::None, 0)),
        };
        let combinable = self.combinable(table);
        let scale = correction_scale(combinable);
        // A duration or a count of the quantity's limit events is not in the quantity's unit.
        let (unit, exponent) = match counted_unit(combinable) {
            Some(counted) => (counted, 0),
            None => (unit, exponent),
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

    /// The combinable VIFEs: all VIFEs for primary and plain-text VIFs, the VIFEs after the
    /// code for 0xFB/0xFD (after the second-level code for 0xFD 0xFD), none for manufacturer
    /// VIFs. A VIFE E111 1100 and the VIFE after it form one modifier (Table 16).
    #[inline]
    pub fn modifiers(&self) -> Modifiers<'a> {
        Modifiers {
            vifes: self.combinable(self.table()).iter(),
            stopped: false,
        }
    }

    /// The VIFEs after the VIF code of `table` (see [`Vib::modifiers`]).
    #[inline]
    fn combinable(&self, table: VifTable) -> &'a [u8] {
        let skip = match table {
            VifTable::Fd | VifTable::Fb => 1,
            VifTable::FdSecondLevel => 2,
            VifTable::Manufacturer => self.vifes.len(),
            _ => 0,
        };
        self.vifes.get(skip..).unwrap_or(&[])
    }
}

/// The sum of the multiplicative corrections (E111 0nnn: nnn−6, E111 1101: 3) among combinable
/// VIFEs: what `modifiers().map(Modifier::scale).sum()` gives, without classifying each code.
#[inline]
/// The unit of a record whose combinable VIFEs make it a duration ("duration of limit exceed",
/// "duration of first/last": the VIFE's time unit) or a count ("number of exceeds": no unit)
/// instead of a value of the VIF's quantity; `None` for every other record.
fn counted_unit(vifes: &[u8]) -> Option<Unit> {
    if vifes.is_empty() {
        return None;
    }
    Modifiers {
        vifes: vifes.iter(),
        stopped: false,
    }
    .find_map(|m| match m {
        Modifier::LimitExceedDuration(_, _, unit) | Modifier::DurationOf(_, unit) => Some(unit),
        Modifier::LimitExceedCount(_) => Some(Unit::None),
        _ => None,
    })
}

fn correction_scale(vifes: &[u8]) -> i8 {
    let mut scale = 0i8;
    let mut i = 0;
    while let Some(&v) = vifes.get(i) {
        match v & 0x7F {
            c @ 0x70..=0x77 => scale = scale.saturating_add((c & 7) as i8 - 6),
            0x7D => scale = scale.saturating_add(3),
            // The extension code takes the next VIFE with it.
            COMBINABLE_EXTENSION => i += 1,
            0x7F => break,
            _ => {}
        }
        i += 1;
    }
    scale
}

#[cfg(test)]
mod tests;
