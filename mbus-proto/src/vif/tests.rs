//! Table-driven tests of the VIF tables. Every expected row is worked out from the code's
//! definition in EN 13757-3:2018 (e.g. "E000 000n energy 10^(n−1) MWh" gives 10^5 Wh for n = 0),
//! and every code that has no row must decode as reserved.

use super::*;
use Quantity as Q;
use Unit as U;

fn info(vif: u8, vifes: &[u8]) -> (Quantity, Unit, i8) {
    let i = Vib {
        vif,
        vifes,
        plain_text: None,
    }
    .info();
    (i.quantity, i.unit, i.exponent)
}

/// Checks `rows` against the table selected by `vif` (with the code as first VIFE, with and
/// without the extension bit), and that every code without a row is reserved.
fn check_table(vif: u8, rows: &[(u8, Quantity, Unit, i8)]) {
    for code in 0u8..0x80 {
        let expected = rows
            .iter()
            .find(|r| r.0 == code)
            .map_or((Q::Reserved, U::None, 0), |r| (r.1, r.2, r.3));
        if vif == 0xFD && code == FD_SECOND_LEVEL {
            continue;
        }
        assert_eq!(
            info(vif, &[code]),
            expected,
            "VIF {vif:02X} code {code:02X}"
        );
        let vifes = [code | 0x80, 0x00];
        let got = Vib {
            vif,
            vifes: &vifes,
            plain_text: None,
        }
        .info();
        assert_eq!(
            (got.quantity, got.unit, got.exponent, got.code),
            (expected.0, expected.1, expected.2, code),
            "VIF {vif:02X} code {code:02X} with a VIFE after it"
        );
    }
    let mut codes: Vec<u8> = rows.iter().map(|r| r.0).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), rows.len(), "a code is listed twice");
}

#[rustfmt::skip]
const FB_ROWS: &[(u8, Quantity, Unit, i8)] = &[
    // E000 000n energy 10^(n−1) MWh = 10^(n+5) Wh.
    (0x00, Q::Energy, U::WattHour, 5), (0x01, Q::Energy, U::WattHour, 6),
    // E000 001n reactive energy 10^n kvarh.
    (0x02, Q::ReactiveEnergy, U::VarHour, 3), (0x03, Q::ReactiveEnergy, U::VarHour, 4),
    // E000 010n apparent energy 10^n kVAh.
    (0x04, Q::ApparentEnergy, U::VoltAmpereHour, 3), (0x05, Q::ApparentEnergy, U::VoltAmpereHour, 4),
    // E000 100n energy 10^(n−1) GJ = 10^(n+8) J.
    (0x08, Q::Energy, U::Joule, 8), (0x09, Q::Energy, U::Joule, 9),
    // E000 11nn energy 10^(nn−1) MCal = 10^(nn+5) cal.
    (0x0C, Q::Energy, U::Calorie, 5), (0x0D, Q::Energy, U::Calorie, 6),
    (0x0E, Q::Energy, U::Calorie, 7), (0x0F, Q::Energy, U::Calorie, 8),
    // E001 000n volume 10^(n+2) m³.
    (0x10, Q::Volume, U::CubicMetre, 2), (0x11, Q::Volume, U::CubicMetre, 3),
    // E001 01nn reactive power 10^(nn−3) kvar = 10^nn var.
    (0x14, Q::ReactivePower, U::Var, 0), (0x15, Q::ReactivePower, U::Var, 1),
    (0x16, Q::ReactivePower, U::Var, 2), (0x17, Q::ReactivePower, U::Var, 3),
    // E001 100n mass 10^(n+2) t = 10^(n+5) kg.
    (0x18, Q::Mass, U::Kilogram, 5), (0x19, Q::Mass, U::Kilogram, 6),
    // E001 101n relative humidity 10^(n−1) %.
    (0x1A, Q::RelativeHumidity, U::Percent, -1), (0x1B, Q::RelativeHumidity, U::Percent, 0),
    // E010 0000 volume feet³, E010 0001 volume 0.1 feet³.
    (0x20, Q::Volume, U::CubicFeet, 0), (0x21, Q::Volume, U::CubicFeet, -1),
    // E010 100n power 10^(n−1) MW = 10^(n+5) W.
    (0x28, Q::Power, U::Watt, 5), (0x29, Q::Power, U::Watt, 6),
    // E010 1010 / E010 1011 phase angles in 0.1°.
    (0x2A, Q::PhaseVoltageVoltage, U::Degree, -1), (0x2B, Q::PhaseVoltageCurrent, U::Degree, -1),
    // E010 11nn frequency 10^(nn−3) Hz.
    (0x2C, Q::Frequency, U::Hertz, -3), (0x2D, Q::Frequency, U::Hertz, -2),
    (0x2E, Q::Frequency, U::Hertz, -1), (0x2F, Q::Frequency, U::Hertz, 0),
    // E011 000n power 10^(n−1) GJ/h = 10^(n+8) J/h.
    (0x30, Q::Power, U::JoulePerHour, 8), (0x31, Q::Power, U::JoulePerHour, 9),
    // E011 01nn apparent power 10^(nn−3) kVA = 10^nn VA.
    (0x34, Q::ApparentPower, U::VoltAmpere, 0), (0x35, Q::ApparentPower, U::VoltAmpere, 1),
    (0x36, Q::ApparentPower, U::VoltAmpere, 2), (0x37, Q::ApparentPower, U::VoltAmpere, 3),
    // E110 1000 … E110 1110 heat cost allocator rating factors (steps of 2^-12, Kq plain).
    (0x68, Q::RatingFactorK, U::Per4096, 0), (0x69, Q::RatingFactorKq, U::None, 0),
    (0x6A, Q::RatingFactorKc, U::Per4096, 0), (0x6B, Q::RatingFactorKcr, U::Per4096, 0),
    (0x6C, Q::RatingFactorKch, U::Per4096, 0), (0x6D, Q::RatingFactorKt, U::Per4096, 0),
    (0x6E, Q::RatingFactorKd, U::Per4096, 0),
    // E111 01nn cold/warm temperature limit 10^(nn−3) °C.
    (0x74, Q::ColdWarmTemperatureLimit, U::DegreeCelsius, -3),
    (0x75, Q::ColdWarmTemperatureLimit, U::DegreeCelsius, -2),
    (0x76, Q::ColdWarmTemperatureLimit, U::DegreeCelsius, -1),
    (0x77, Q::ColdWarmTemperatureLimit, U::DegreeCelsius, 0),
    // E111 1nnn cumulative count max power 10^(nnn−3) W.
    (0x78, Q::CumulatedMaxPower, U::Watt, -3), (0x79, Q::CumulatedMaxPower, U::Watt, -2),
    (0x7A, Q::CumulatedMaxPower, U::Watt, -1), (0x7B, Q::CumulatedMaxPower, U::Watt, 0),
    (0x7C, Q::CumulatedMaxPower, U::Watt, 1), (0x7D, Q::CumulatedMaxPower, U::Watt, 2),
    (0x7E, Q::CumulatedMaxPower, U::Watt, 3), (0x7F, Q::CumulatedMaxPower, U::Watt, 4),
];

#[rustfmt::skip]
const FD_ROWS: &[(u8, Quantity, Unit, i8)] = &[
    // E000 00nn credit / E000 01nn debit, 10^(nn−3) currency units.
    (0x00, Q::Credit, U::Currency, -3), (0x01, Q::Credit, U::Currency, -2),
    (0x02, Q::Credit, U::Currency, -1), (0x03, Q::Credit, U::Currency, 0),
    (0x04, Q::Debit, U::Currency, -3), (0x05, Q::Debit, U::Currency, -2),
    (0x06, Q::Debit, U::Currency, -1), (0x07, Q::Debit, U::Currency, 0),
    (0x08, Q::AccessNumber, U::None, 0), (0x09, Q::Medium, U::None, 0),
    (0x0A, Q::Manufacturer, U::None, 0), (0x0B, Q::ParameterSet, U::None, 0),
    (0x0C, Q::ModelVersion, U::None, 0), (0x0D, Q::HardwareVersion, U::None, 0),
    (0x0E, Q::FirmwareVersion, U::None, 0), (0x0F, Q::SoftwareVersion, U::None, 0),
    (0x10, Q::CustomerLocation, U::None, 0), (0x11, Q::Customer, U::None, 0),
    (0x12, Q::AccessCodeUser, U::None, 0), (0x13, Q::AccessCodeOperator, U::None, 0),
    (0x14, Q::AccessCodeSystemOperator, U::None, 0), (0x15, Q::AccessCodeDeveloper, U::None, 0),
    (0x16, Q::Password, U::None, 0), (0x17, Q::ErrorFlags, U::None, 0),
    (0x18, Q::ErrorMask, U::None, 0), (0x19, Q::SecurityKey, U::None, 0),
    (0x1A, Q::DigitalOutput, U::None, 0), (0x1B, Q::DigitalInput, U::None, 0),
    (0x1C, Q::Baudrate, U::Baud, 0), (0x1D, Q::ResponseDelay, U::BitTimes, 0),
    (0x1E, Q::Retry, U::None, 0), (0x1F, Q::RemoteControl, U::None, 0),
    (0x20, Q::FirstStorageNumber, U::None, 0), (0x21, Q::LastStorageNumber, U::None, 0),
    (0x22, Q::StorageBlockSize, U::None, 0), (0x23, Q::TariffSubunitDescriptor, U::None, 0),
    // E010 01nn storage interval s … d, E010 1000 months, E010 1001 years.
    (0x24, Q::StorageInterval, U::Second, 0), (0x25, Q::StorageInterval, U::Minute, 0),
    (0x26, Q::StorageInterval, U::Hour, 0), (0x27, Q::StorageInterval, U::Day, 0),
    (0x28, Q::StorageInterval, U::Month, 0), (0x29, Q::StorageInterval, U::Year, 0),
    (0x2A, Q::OperatorSpecificData, U::None, 0), (0x2B, Q::TimePointSecond, U::Second, 0),
    // E010 11nn duration since last readout s … d.
    (0x2C, Q::DurationSinceReadout, U::Second, 0), (0x2D, Q::DurationSinceReadout, U::Minute, 0),
    (0x2E, Q::DurationSinceReadout, U::Hour, 0), (0x2F, Q::DurationSinceReadout, U::Day, 0),
    // E011 0000 start of tariff, E011 00nn (nn ≥ 1) duration of tariff min … d.
    (0x30, Q::TariffStart, U::Date, 0), (0x31, Q::TariffDuration, U::Minute, 0),
    (0x32, Q::TariffDuration, U::Hour, 0), (0x33, Q::TariffDuration, U::Day, 0),
    // E011 01nn period of tariff s … d, E011 1000 months, E011 1001 years.
    (0x34, Q::TariffPeriod, U::Second, 0), (0x35, Q::TariffPeriod, U::Minute, 0),
    (0x36, Q::TariffPeriod, U::Hour, 0), (0x37, Q::TariffPeriod, U::Day, 0),
    (0x38, Q::TariffPeriod, U::Month, 0), (0x39, Q::TariffPeriod, U::Year, 0),
    (0x3A, Q::Dimensionless, U::None, 0), (0x3B, Q::WirelessDataContainer, U::None, 0),
    // E011 11nn period of nominal data transmissions s … d.
    (0x3C, Q::TransmissionPeriod, U::Second, 0), (0x3D, Q::TransmissionPeriod, U::Minute, 0),
    (0x3E, Q::TransmissionPeriod, U::Hour, 0), (0x3F, Q::TransmissionPeriod, U::Day, 0),
    // E100 nnnn 10^(nnnn−9) V.
    (0x40, Q::Voltage, U::Volt, -9), (0x41, Q::Voltage, U::Volt, -8),
    (0x42, Q::Voltage, U::Volt, -7), (0x43, Q::Voltage, U::Volt, -6),
    (0x44, Q::Voltage, U::Volt, -5), (0x45, Q::Voltage, U::Volt, -4),
    (0x46, Q::Voltage, U::Volt, -3), (0x47, Q::Voltage, U::Volt, -2),
    (0x48, Q::Voltage, U::Volt, -1), (0x49, Q::Voltage, U::Volt, 0),
    (0x4A, Q::Voltage, U::Volt, 1), (0x4B, Q::Voltage, U::Volt, 2),
    (0x4C, Q::Voltage, U::Volt, 3), (0x4D, Q::Voltage, U::Volt, 4),
    (0x4E, Q::Voltage, U::Volt, 5), (0x4F, Q::Voltage, U::Volt, 6),
    // E101 nnnn 10^(nnnn−12) A.
    (0x50, Q::Current, U::Ampere, -12), (0x51, Q::Current, U::Ampere, -11),
    (0x52, Q::Current, U::Ampere, -10), (0x53, Q::Current, U::Ampere, -9),
    (0x54, Q::Current, U::Ampere, -8), (0x55, Q::Current, U::Ampere, -7),
    (0x56, Q::Current, U::Ampere, -6), (0x57, Q::Current, U::Ampere, -5),
    (0x58, Q::Current, U::Ampere, -4), (0x59, Q::Current, U::Ampere, -3),
    (0x5A, Q::Current, U::Ampere, -2), (0x5B, Q::Current, U::Ampere, -1),
    (0x5C, Q::Current, U::Ampere, 0), (0x5D, Q::Current, U::Ampere, 1),
    (0x5E, Q::Current, U::Ampere, 2), (0x5F, Q::Current, U::Ampere, 3),
    (0x60, Q::ResetCounter, U::None, 0), (0x61, Q::CumulationCounter, U::None, 0),
    (0x62, Q::ControlSignal, U::None, 0), (0x63, Q::DayOfWeek, U::None, 0),
    (0x64, Q::WeekNumber, U::None, 0), (0x65, Q::DayChangeTime, U::Date, 0),
    (0x66, Q::ParameterActivation, U::None, 0), (0x67, Q::SupplierInformation, U::None, 0),
    // E110 10pp duration since last cumulation h … years, E110 11pp battery operating time.
    (0x68, Q::DurationSinceCumulation, U::Hour, 0), (0x69, Q::DurationSinceCumulation, U::Day, 0),
    (0x6A, Q::DurationSinceCumulation, U::Month, 0), (0x6B, Q::DurationSinceCumulation, U::Year, 0),
    (0x6C, Q::BatteryOperatingTime, U::Hour, 0), (0x6D, Q::BatteryOperatingTime, U::Day, 0),
    (0x6E, Q::BatteryOperatingTime, U::Month, 0), (0x6F, Q::BatteryOperatingTime, U::Year, 0),
    (0x70, Q::BatteryChange, U::Date, 0), (0x71, Q::RfLevel, U::DecibelMilliwatt, 0),
    (0x72, Q::DaylightSaving, U::Date, 0), (0x73, Q::ListeningWindow, U::None, 0),
    (0x74, Q::RemainingBatteryLife, U::Day, 0), (0x75, Q::MeterStopCount, U::None, 0),
    (0x76, Q::ManufacturerDataContainer, U::None, 0),
];

#[test]
fn fb_table_every_code() {
    check_table(0xFB, FB_ROWS);
}

#[test]
fn fd_table_every_code() {
    check_table(0xFD, FD_ROWS);
}

#[test]
fn fd_second_level_every_code() {
    let rows: &[(u8, Quantity, Unit)] = &[
        (0x00, Q::SelectedApplication, U::None),
        (0x02, Q::RemainingBatteryLife, U::Month),
        (0x03, Q::RemainingBatteryLife, U::Year),
    ];
    for code in 0u8..0x80 {
        let expected = rows
            .iter()
            .find(|r| r.0 == code)
            .map_or((Q::Reserved, U::None, 0), |r| (r.1, r.2, 0));
        let vib = Vib {
            vif: 0xFD,
            vifes: &[0xFD, code],
            plain_text: None,
        };
        let i = vib.info();
        assert_eq!((i.quantity, i.unit, i.exponent), expected, "{code:02X}");
        assert_eq!((i.table, i.code), (VifTable::FdSecondLevel, code));
        assert_eq!(vib.modifiers().count(), 0);
    }
    // A combinable VIFE after the second-level code is a modifier, not the code.
    let vib = Vib {
        vif: 0xFD,
        vifes: &[0xFD, 0x82, 0x74],
        plain_text: None,
    };
    assert_eq!(vib.info().quantity, Q::RemainingBatteryLife);
    assert_eq!(vib.info().exponent, -2);
    assert_eq!(
        vib.modifiers().collect::<Vec<_>>(),
        [Modifier::MultiplyPow10(-2)]
    );
    assert_eq!(info(0xFD, &[0xFD]).0, Q::Reserved);
}

#[test]
fn primary_table() {
    assert_eq!(info(0x06, &[]), (Q::Energy, U::WattHour, 3));
    assert_eq!(info(0x0E, &[]), (Q::Energy, U::Joule, 6));
    assert_eq!(info(0x14, &[]), (Q::Volume, U::CubicMetre, -2));
    assert_eq!(info(0x22, &[]), (Q::OnTime, U::Hour, 0));
    assert_eq!(info(0x2E, &[]), (Q::Power, U::Watt, 3));
    assert_eq!(info(0x3B, &[]), (Q::VolumeFlow, U::CubicMetrePerHour, -3));
    assert_eq!(info(0x59, &[]), (Q::FlowTemperature, U::DegreeCelsius, -2));
    assert_eq!(info(0x61, &[]), (Q::TemperatureDifference, U::Kelvin, -2));
    assert_eq!(info(0x6D, &[]), (Q::DateTime, U::Date, 0));
    assert_eq!(info(0x78, &[]), (Q::FabricationNumber, U::None, 0));
    assert_eq!(info(0x7B, &[]), (Q::Reserved, U::None, 0));
    assert_eq!(info(0xFF, &[0x01]).0, Q::ManufacturerSpecific);
    assert_eq!(info(0xFD, &[]).0, Q::Reserved);
}

/// Every single-byte combinable VIFE code (Table 15 with Table 18 for the error codes).
#[rustfmt::skip]
fn combinable_expected(code: u8) -> Modifier {
    use Modifier as M;
    use Limit::{Lower, Upper};
    use Occurrence::{First, Last};
    use Edge::{Begin, End};
    match code {
        0x00..=0x0F | 0x15..=0x1C => M::RecordError(code),
        0x10 | 0x11 => M::Reserved(code),
        0x12 => M::AverageValue,
        0x13 => M::InverseCompactProfile,
        0x14 => M::RelativeDeviation,
        0x1D => M::StandardConformData,
        0x1E => M::CompactProfileWithRegisters,
        0x1F => M::CompactProfile,
        0x20 => M::PerSecond, 0x21 => M::PerMinute, 0x22 => M::PerHour, 0x23 => M::PerDay,
        0x24 => M::PerWeek, 0x25 => M::PerMonth, 0x26 => M::PerYear, 0x27 => M::PerRevolution,
        0x28 => M::PerInputPulse(0), 0x29 => M::PerInputPulse(1),
        0x2A => M::PerOutputPulse(0), 0x2B => M::PerOutputPulse(1),
        0x2C => M::PerLitre, 0x2D => M::PerCubicMetre, 0x2E => M::PerKilogram,
        0x2F => M::PerKelvin, 0x30 => M::PerKilowattHour, 0x31 => M::PerGigajoule,
        0x32 => M::PerKilowatt, 0x33 => M::PerKelvinLitre, 0x34 => M::PerVolt,
        0x35 => M::PerAmpere, 0x36 => M::TimesSecond, 0x37 => M::TimesSecondPerVolt,
        0x38 => M::TimesSecondPerAmpere, 0x39 => M::StartDateTimeOf, 0x3A => M::Uncorrected,
        0x3B => M::AccumulationPositive, 0x3C => M::AccumulationNegative, 0x3D => M::NonMetric,
        0x3E => M::BaseConditions, 0x3F => M::ObisDeclaration,
        // E100 u000, E100 u001, E100 uf1b (E100 u10x reserved).
        0x40 => M::LimitValue(Lower), 0x48 => M::LimitValue(Upper),
        0x41 => M::LimitExceedCount(Lower), 0x49 => M::LimitExceedCount(Upper),
        0x42 => M::LimitExceedDate(Lower, First, Begin),
        0x43 => M::LimitExceedDate(Lower, First, End),
        0x46 => M::LimitExceedDate(Lower, Last, Begin),
        0x47 => M::LimitExceedDate(Lower, Last, End),
        0x4A => M::LimitExceedDate(Upper, First, Begin),
        0x4B => M::LimitExceedDate(Upper, First, End),
        0x4E => M::LimitExceedDate(Upper, Last, Begin),
        0x4F => M::LimitExceedDate(Upper, Last, End),
        0x44 | 0x45 | 0x4C | 0x4D => M::Reserved(code),
        // E101 ufnn.
        0x50 => M::LimitExceedDuration(Lower, First, U::Second),
        0x51 => M::LimitExceedDuration(Lower, First, U::Minute),
        0x52 => M::LimitExceedDuration(Lower, First, U::Hour),
        0x53 => M::LimitExceedDuration(Lower, First, U::Day),
        0x54 => M::LimitExceedDuration(Lower, Last, U::Second),
        0x55 => M::LimitExceedDuration(Lower, Last, U::Minute),
        0x56 => M::LimitExceedDuration(Lower, Last, U::Hour),
        0x57 => M::LimitExceedDuration(Lower, Last, U::Day),
        0x58 => M::LimitExceedDuration(Upper, First, U::Second),
        0x59 => M::LimitExceedDuration(Upper, First, U::Minute),
        0x5A => M::LimitExceedDuration(Upper, First, U::Hour),
        0x5B => M::LimitExceedDuration(Upper, First, U::Day),
        0x5C => M::LimitExceedDuration(Upper, Last, U::Second),
        0x5D => M::LimitExceedDuration(Upper, Last, U::Minute),
        0x5E => M::LimitExceedDuration(Upper, Last, U::Hour),
        0x5F => M::LimitExceedDuration(Upper, Last, U::Day),
        // E110 0fnn.
        0x60 => M::DurationOf(First, U::Second), 0x61 => M::DurationOf(First, U::Minute),
        0x62 => M::DurationOf(First, U::Hour), 0x63 => M::DurationOf(First, U::Day),
        0x64 => M::DurationOf(Last, U::Second), 0x65 => M::DurationOf(Last, U::Minute),
        0x66 => M::DurationOf(Last, U::Hour), 0x67 => M::DurationOf(Last, U::Day),
        // E110 1u00, E110 1001, E110 1101, E110 1f1b.
        0x68 => M::ValueDuringLimitExceed(Lower), 0x6C => M::ValueDuringLimitExceed(Upper),
        0x69 => M::LeakageValues, 0x6D => M::OverflowValues,
        0x6A => M::DateOf(First, Begin), 0x6B => M::DateOf(First, End),
        0x6E => M::DateOf(Last, Begin), 0x6F => M::DateOf(Last, End),
        // E111 0nnn factor 10^(nnn−6), E111 10nn offset 10^(nn−3).
        0x70 => M::MultiplyPow10(-6), 0x71 => M::MultiplyPow10(-5),
        0x72 => M::MultiplyPow10(-4), 0x73 => M::MultiplyPow10(-3),
        0x74 => M::MultiplyPow10(-2), 0x75 => M::MultiplyPow10(-1),
        0x76 => M::MultiplyPow10(0), 0x77 => M::MultiplyPow10(1),
        0x78 => M::AddPow10(-3), 0x79 => M::AddPow10(-2),
        0x7A => M::AddPow10(-1), 0x7B => M::AddPow10(0),
        0x7C => M::ReservedExtension(0x7F),
        0x7D => M::Multiply1000,
        0x7E => M::FutureValue,
        _ => M::ManufacturerSpecific,
    }
}

#[test]
fn combinable_table_every_code() {
    for code in 0u8..0x80 {
        let expected = combinable_expected(code);
        assert_eq!(Modifier::from_vife(code), expected, "{code:02X}");
        assert_eq!(
            Modifier::from_vife(code | 0x80),
            expected,
            "{code:02X} with E bit"
        );
        // The same code after a primary VIF, as the only VIFE.
        let vib = Vib {
            vif: 0x84,
            vifes: &[code],
            plain_text: None,
        };
        let got: Vec<Modifier> = vib.modifiers().collect();
        assert_eq!(got, [expected], "{code:02X} after VIF 0x84");
        assert!(!expected.name().is_empty());
        assert!(!expected.to_string().is_empty());
    }
}

#[test]
fn combinable_extension_every_code() {
    use Modifier as M;
    for code in 0u8..0x80 {
        let expected = match code {
            0x01 => M::AtPhase(Phase::L1),
            0x02 => M::AtPhase(Phase::L2),
            0x03 => M::AtPhase(Phase::L3),
            0x04 => M::AtPhase(Phase::N),
            0x05 => M::AtPhase(Phase::L1L2),
            0x06 => M::AtPhase(Phase::L2L3),
            0x07 => M::AtPhase(Phase::L3L1),
            0x08 => M::AtQuadrant(1),
            0x09 => M::AtQuadrant(2),
            0x0A => M::AtQuadrant(3),
            0x0B => M::AtQuadrant(4),
            0x0C => M::DeltaImportExport,
            0x10 => M::AccumulationAbsolute,
            0x11 => M::PresentedAsTypeC,
            0x12 => M::PresentedAsTypeD,
            0x14 => M::DirectionToMeter,
            0x15 => M::DirectionFromMeter,
            _ => M::ReservedExtension(code),
        };
        let vib = Vib {
            vif: 0xFD,
            vifes: &[0xC9, 0xFC, code | 0x80, 0x22],
            plain_text: None,
        };
        let got: Vec<Modifier> = vib.modifiers().collect();
        assert_eq!(got, [expected, M::PerHour], "extension code {code:02X}");
    }
}

#[test]
fn modifier_names_and_descriptions() {
    use Modifier as M;
    let cases = [
        (M::PerHour, "per_hour", "per hour"),
        (M::AtPhase(Phase::L1), "at_phase", "at phase L1"),
        (M::AtPhase(Phase::N), "at_phase", "at neutral"),
        (M::AtPhase(Phase::L2L3), "at_phase", "between phases L2-L3"),
        (
            M::RecordError(0x01),
            "record_error",
            "record error: too many DIFEs",
        ),
        (
            M::RecordError(0x16),
            "record_error",
            "record error: data overflow",
        ),
        (
            M::RecordError(0x09),
            "record_error",
            "record error: reserved code 0x09",
        ),
        (
            M::MultiplyPow10(-3),
            "multiplicative_correction",
            "correction factor 10^-3",
        ),
        (
            M::LimitExceedDate(Limit::Upper, Occurrence::Last, Edge::End),
            "limit_exceed_date",
            "date/time of end of last upper limit exceed",
        ),
        (
            M::LimitExceedDuration(Limit::Lower, Occurrence::First, U::Minute),
            "limit_exceed_duration",
            "duration of first lower limit exceed (min)",
        ),
        (
            M::AccumulationAbsolute,
            "accumulation_absolute",
            "accumulation of absolute values",
        ),
        (
            M::PerInputPulse(1),
            "per_input_pulse",
            "increment per input pulse on channel 1",
        ),
        (M::Reserved(0x10), "reserved", "reserved code 0x10"),
    ];
    for (m, name, text) in cases {
        assert_eq!(m.name(), name);
        assert_eq!(m.to_string(), text);
    }
}

#[test]
fn modifiers_stop_after_manufacturer_specific_and_handle_a_lone_extension() {
    let vib = Vib {
        vif: 0x84,
        vifes: &[0xA2, 0xFF, 0xFC, 0x01],
        plain_text: None,
    };
    let got: Vec<Modifier> = vib.modifiers().collect();
    assert_eq!(got, [Modifier::PerHour, Modifier::ManufacturerSpecific]);
    let vib = Vib {
        vif: 0x84,
        vifes: &[0x7C],
        plain_text: None,
    };
    let got: Vec<Modifier> = vib.modifiers().collect();
    assert_eq!(got, [Modifier::ReservedExtension(0x7F)]);
    // Manufacturer VIFs have no combinable VIFEs.
    let vib = Vib {
        vif: 0xFF,
        vifes: &[0x22],
        plain_text: None,
    };
    assert_eq!(vib.modifiers().count(), 0);
}

#[test]
fn combinable_vifes_scale() {
    assert_eq!(info(0x93, &[0x74]), (Q::Volume, U::CubicMetre, -5));
    assert_eq!(info(0x86, &[0x7D]), (Q::Energy, U::WattHour, 6));
    assert_eq!(info(0xFD, &[0xC8, 0x74]).2, -3);
    // A phase extension (0xFC 0x7D) does not scale: its second byte is not 0x7D = 10^3.
    assert_eq!(info(0x86, &[0xFC, 0x7D]), (Q::Energy, U::WattHour, 3));
    assert_eq!(Modifier::from_vife(0xFB), Modifier::AddPow10(0));
}

#[test]
fn record_error_descriptions_cover_table_18() {
    let described: Vec<u8> = (0u8..0x20)
        .filter(|&c| record_error_description(c).is_some())
        .collect();
    assert_eq!(
        described,
        [
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x15,
            0x16, 0x17, 0x18, 0x1C
        ]
    );
}

#[test]
fn correction_scale_agrees_with_the_modifiers() {
    for a in 0u8..=0xFF {
        for b in 0u8..=0xFF {
            for vifes in [[a | 0x80, b, 0x00], [a | 0x80, b | 0x80, 0x74]] {
                let vib = Vib {
                    vif: 0x84,
                    vifes: &vifes,
                    plain_text: None,
                };
                let expected: i8 = vib.modifiers().map(Modifier::scale).sum();
                assert_eq!(correction_scale(&vifes), expected, "{vifes:02X?}");
                // A duration or count of limit events drops the VIF's own exponent.
                let base = if counted_unit(&vifes).is_some() { 0 } else { 1 };
                assert_eq!(vib.info().exponent, base + expected, "{vifes:02X?}");
            }
        }
    }
}

#[test]
fn durations_and_counts_of_limit_exceeds_are_in_their_own_unit() {
    let info = |vifes: &[u8]| {
        let i = Vib {
            vif: 0xBB, // volume flow, m³/h × 10^-3
            vifes,
            plain_text: None,
        }
        .info();
        (i.quantity, i.unit, i.exponent)
    };
    // 0x50: duration of first lower limit exceed, seconds.
    assert_eq!(info(&[0x50]), (Quantity::VolumeFlow, Unit::Second, 0));
    // 0x66: duration of last, hours.
    assert_eq!(info(&[0x66]), (Quantity::VolumeFlow, Unit::Hour, 0));
    // 0x49: number of exceeds of the upper limit.
    assert_eq!(info(&[0x49]), (Quantity::VolumeFlow, Unit::None, 0));
    // 0x48: the upper limit itself is a volume flow.
    assert_eq!(
        info(&[0x48]),
        (Quantity::VolumeFlow, Unit::CubicMetrePerHour, -3)
    );
}
