//! Values in the unit a meter's own display uses, for people: energy in kWh or MWh rather than
//! Wh × 10³, volume in m³, power in W or kW, flow in m³/h. The CLI's table and the web UI share
//! this one choice.
//!
//! The unit follows the record's VIF exponent (the exponent of the exact decimal), not the
//! magnitude of the reading, so a meter's values keep one unit from reading to reading. The
//! number stays an exact [`Decimal`]: only its exponent moves (and flows per minute or second
//! are multiplied exactly into per hour).
//!
//! ```
//! use mbus_proto::display::DisplayValue;
//! use mbus_proto::value::Decimal;
//! use mbus_proto::vif::Unit;
//!
//! // VIF 0x06: energy in Wh × 10³ → kWh.
//! let v = DisplayValue::of(Unit::WattHour, Decimal::new(12345, 3));
//! assert_eq!(v.to_string(), "12345 kWh");
//! // VIF 0x0F: energy in J × 10⁶ … → MJ … GJ by exponent.
//! assert_eq!(DisplayValue::of(Unit::Joule, Decimal::new(7, 9)).to_string(), "7 GJ");
//! // VIF 0x13: volume in m³ × 10⁻³ stays m³ with three decimals.
//! assert_eq!(DisplayValue::of(Unit::CubicMetre, Decimal::new(12340, -3)).to_string(), "12.340 m³");
//! // Small exponents keep the base unit.
//! assert_eq!(DisplayValue::of(Unit::WattHour, Decimal::new(5, -1)).to_string(), "0.5 Wh");
//! ```

use crate::value::{Decimal, ScaledValue};
use crate::vif::Unit;
use core::fmt;

/// An exact value and the unit symbol to show it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisplayValue {
    /// The value in [`DisplayValue::unit`], exact.
    pub value: Decimal,
    /// Unit symbol for people (`"kWh"`, `"m³"`, `"°C"`; empty for counts).
    pub unit: &'static str,
}

/// Prefix steps of a unit: (smallest exponent, power of ten moved into the prefix, symbol),
/// largest first, ending with the base symbol at step 0.
type Steps = &'static [(i16, i16, &'static str)];

const WATT_HOUR: Steps = &[(6, 6, "MWh"), (3, 3, "kWh"), (i16::MIN, 0, "Wh")];
const JOULE: Steps = &[(9, 9, "GJ"), (6, 6, "MJ"), (3, 3, "kJ"), (i16::MIN, 0, "J")];
const WATT: Steps = &[(6, 6, "MW"), (3, 3, "kW"), (i16::MIN, 0, "W")];
const JOULE_PER_HOUR: Steps = &[
    (9, 9, "GJ/h"),
    (6, 6, "MJ/h"),
    (3, 3, "kJ/h"),
    (i16::MIN, 0, "J/h"),
];
const VAR_HOUR: Steps = &[(6, 6, "Mvarh"), (3, 3, "kvarh"), (i16::MIN, 0, "varh")];
const VOLT_AMPERE_HOUR: Steps = &[(6, 6, "MVAh"), (3, 3, "kVAh"), (i16::MIN, 0, "VAh")];
const VAR: Steps = &[(6, 6, "Mvar"), (3, 3, "kvar"), (i16::MIN, 0, "var")];
const VOLT_AMPERE: Steps = &[(6, 6, "MVA"), (3, 3, "kVA"), (i16::MIN, 0, "VA")];
const CALORIE: Steps = &[
    (9, 9, "Gcal"),
    (6, 6, "Mcal"),
    (3, 3, "kcal"),
    (i16::MIN, 0, "cal"),
];
const KILOGRAM: Steps = &[(3, 3, "t"), (i16::MIN, 0, "kg")];
const KILOGRAM_PER_HOUR: Steps = &[(3, 3, "t/h"), (i16::MIN, 0, "kg/h")];

impl DisplayValue {
    /// `value` (in `unit`, as [`crate::record::DataRecord::decimal`] gives it) in the unit a
    /// meter display uses for its exponent: Wh → kWh from 10³, MWh from 10⁶; J → kJ/MJ/GJ from
    /// 10³/10⁶/10⁹; W → kW/MW; J/h → kJ/h, MJ/h, GJ/h; varh, VAh, var and VA likewise with k and
    /// M; cal → kcal/Mcal/Gcal; kg → t; volume always m³; flow always
    /// m³/h (m³/min and m³/s multiplied exactly); everything else in its own unit.
    pub fn of(unit: Unit, value: Decimal) -> DisplayValue {
        DisplayValue::with_exponent(unit, value.exponent, value)
    }

    /// A record's [`ScaledValue`] (from [`crate::record::DataRecord::scaled_value`]) for
    /// display, the unit chosen by the VIF exponent `exponent` (`ValueInfo::exponent`). An
    /// approximate value from a real keeps the decimal digits the meter sent, so
    /// 231.6 × 10³ W shows as `231.6 kW`, never `231.60000000000002 kW`. `None` if the value
    /// is not finite.
    ///
    /// ```
    /// use mbus_proto::display::DisplayValue;
    /// use mbus_proto::value::{ScaledReal, ScaledValue};
    /// use mbus_proto::vif::Unit;
    ///
    /// let real = ScaledReal { raw: 231.6, exponent: 3, offset: None };
    /// let v = DisplayValue::of_scaled(Unit::Watt, 3, ScaledValue::Approximate(real));
    /// assert_eq!(v.map(|v| v.to_string()).as_deref(), Some("231.6 kW"));
    /// ```
    pub fn of_scaled(unit: Unit, exponent: i8, value: ScaledValue) -> Option<DisplayValue> {
        match value {
            ScaledValue::Exact(d) => Some(DisplayValue::of(unit, d)),
            ScaledValue::Approximate(real) => real
                .to_decimal()
                .map(|d| DisplayValue::with_exponent(unit, i16::from(exponent), d)),
        }
    }

    /// `value` in the display unit that the VIF exponent `exponent` selects.
    fn with_exponent(unit: Unit, exponent: i16, value: Decimal) -> DisplayValue {
        let steps: Steps = match unit {
            Unit::WattHour => WATT_HOUR,
            Unit::Joule => JOULE,
            Unit::Watt => WATT,
            Unit::JoulePerHour => JOULE_PER_HOUR,
            Unit::VarHour => VAR_HOUR,
            Unit::VoltAmpereHour => VOLT_AMPERE_HOUR,
            Unit::Var => VAR,
            Unit::VoltAmpere => VOLT_AMPERE,
            Unit::Calorie => CALORIE,
            Unit::Kilogram => KILOGRAM,
            Unit::KilogramPerHour => KILOGRAM_PER_HOUR,
            Unit::CubicMetrePerMinute | Unit::CubicMetrePerSecond => {
                let factor = if unit == Unit::CubicMetrePerMinute {
                    60
                } else {
                    3600
                };
                return match value.mantissa.checked_mul(factor) {
                    Some(m) => DisplayValue {
                        value: Decimal::new(m, value.exponent),
                        unit: "m³/h",
                    },
                    None => DisplayValue {
                        value,
                        unit: people_symbol(unit),
                    },
                };
            }
            _ => {
                return DisplayValue {
                    value,
                    unit: people_symbol(unit),
                }
            }
        };
        let (_, shift, symbol) = steps
            .iter()
            .copied()
            .find(|&(min, _, _)| exponent >= min)
            .unwrap_or((0, 0, people_symbol(unit)));
        DisplayValue {
            value: Decimal::new(value.mantissa, value.exponent - shift),
            unit: symbol,
        }
    }
}

/// The symbol people read: superscripts instead of `^3`.
fn people_symbol(unit: Unit) -> &'static str {
    match unit {
        Unit::CubicMetre => "m³",
        Unit::CubicMetrePerHour => "m³/h",
        Unit::CubicMetrePerMinute => "m³/min",
        Unit::CubicMetrePerSecond => "m³/s",
        Unit::CubicFeet => "ft³",
        other => other.symbol(),
    }
}

impl fmt::Display for DisplayValue {
    /// The number in plain notation, a space and the unit (no space when there is no unit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unit.is_empty() {
            write!(f, "{}", self.value)
        } else {
            write!(f, "{} {}", self.value, self.unit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(unit: Unit, mantissa: i128, exponent: i16) -> String {
        DisplayValue::of(unit, Decimal::new(mantissa, exponent)).to_string()
    }

    #[test]
    fn energy_steps_follow_the_exponent() {
        assert_eq!(shown(Unit::WattHour, 1234, 0), "1234 Wh");
        assert_eq!(shown(Unit::WattHour, 1234, 2), "123400 Wh");
        assert_eq!(shown(Unit::WattHour, 1234, 3), "1234 kWh");
        assert_eq!(shown(Unit::WattHour, 1234, 4), "12340 kWh");
        assert_eq!(shown(Unit::WattHour, 1234, 5), "123400 kWh");
        assert_eq!(shown(Unit::WattHour, 1234, 6), "1234 MWh");
        assert_eq!(shown(Unit::WattHour, 1234, 7), "12340 MWh");
        assert_eq!(shown(Unit::Joule, 5, 3), "5 kJ");
        assert_eq!(shown(Unit::Joule, 5, 6), "5 MJ");
        assert_eq!(shown(Unit::JoulePerHour, 5, 9), "5 GJ/h");
        assert_eq!(shown(Unit::VarHour, 1234, 3), "1234 kvarh");
        assert_eq!(shown(Unit::VoltAmpere, 5, 6), "5 MVA");
        assert_eq!(shown(Unit::Calorie, 2, 7), "20 Mcal");
    }

    #[test]
    fn power_flow_volume_mass_temperature() {
        assert_eq!(shown(Unit::Watt, 25, -1), "2.5 W");
        assert_eq!(shown(Unit::Watt, 25, 3), "25 kW");
        assert_eq!(shown(Unit::CubicMetre, 56108, -2), "561.08 m³");
        assert_eq!(shown(Unit::CubicMetrePerHour, 1234, -3), "1.234 m³/h");
        assert_eq!(shown(Unit::CubicMetrePerMinute, 2, -3), "0.120 m³/h");
        assert_eq!(shown(Unit::CubicMetrePerSecond, 1, -6), "0.003600 m³/h");
        assert_eq!(shown(Unit::Kilogram, 3, 3), "3 t");
        assert_eq!(shown(Unit::DegreeCelsius, 2155, -2), "21.55 °C");
        assert_eq!(shown(Unit::Kelvin, -35, -1), "-3.5 K");
        assert_eq!(shown(Unit::None, 7, 0), "7");
    }
}
