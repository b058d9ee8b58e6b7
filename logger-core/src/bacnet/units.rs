//! The BACnet engineering unit of a register's stored unit text.
//!
//! Values are never rescaled for BACnet: a register stored in `GJ` has no BACnet unit of
//! the same scale and is published with `no-units` (its description names the unit), not
//! converted to megajoules. A temperature difference in `K` is `delta-degrees-kelvin`.

/// BACnet `no-units`.
pub const NO_UNITS: u32 = 95;

/// The BACnet engineering unit (clause 21, `BACnetEngineeringUnits`) of a stored unit text
/// such as `kWh`, `m³/h` or `°C`; [`NO_UNITS`] where nothing of the same scale fits.
///
/// ```
/// use logger_core::bacnet::units::{engineering_unit, NO_UNITS};
/// assert_eq!(engineering_unit("kWh"), 19);
/// assert_eq!(engineering_unit("m³/h"), 135);
/// assert_eq!(engineering_unit("GJ"), NO_UNITS);
/// ```
pub fn engineering_unit(unit: &str) -> u32 {
    let unit = unit.trim();
    let normalized = unit.replace("m^3", "m³").replace("m3", "m³");
    match normalized.as_str() {
        "Wh" => 18,
        "kWh" => 19,
        "MWh" => 146,
        "varh" => 203,
        "kvarh" => 204,
        "Mvarh" => 205,
        "VAh" => 239,
        "kVAh" => 240,
        "MVAh" => 241,
        "J" => 16,
        "kJ" => 17,
        "MJ" => 126,
        "W" => 47,
        "kW" => 48,
        "MW" => 49,
        "VA" => 8,
        "kVA" => 9,
        "MVA" => 10,
        "var" => 11,
        "kvar" => 12,
        "Mvar" => 13,
        "V" => 5,
        "kV" => 6,
        "mV" => 124,
        "A" => 3,
        "mA" => 2,
        "Hz" => 27,
        "m³" => 80,
        "l" | "L" => 82,
        "ml" => 197,
        "m³/h" => 135,
        "m³/min" => 165,
        "m³/s" => 85,
        "m³/d" => 249,
        "l/h" => 136,
        "l/min" => 88,
        "l/s" => 87,
        "kg" => 39,
        "g" => 195,
        "kg/h" => 44,
        "kg/min" => 43,
        "kg/s" => 42,
        "°C" | "degC" => 62,
        "K" => 121,
        "bar" => 55,
        "mbar" => 134,
        "Pa" => 53,
        "hPa" => 133,
        "kPa" => 54,
        "s" => 73,
        "min" => 72,
        "h" => 71,
        "d" => 70,
        "%" => 98,
        "%RH" => 29,
        _ => NO_UNITS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_units_of_heat_water_and_electricity_meters() {
        for (text, unit) in [
            ("kWh", 19),
            ("MWh", 146),
            ("Wh", 18),
            ("MJ", 126),
            ("m³", 80),
            ("m3", 80),
            ("m^3/h", 135),
            ("m³/h", 135),
            ("kW", 48),
            ("°C", 62),
            ("K", 121),
            ("V", 5),
            ("A", 3),
            ("l", 82),
            ("h", 71),
            ("d", 70),
            ("bar", 55),
            (" kWh ", 19),
        ] {
            assert_eq!(engineering_unit(text), unit, "{text}");
        }
    }

    #[test]
    fn units_without_a_bacnet_unit_of_the_same_scale_have_none() {
        for text in ["GJ", "", "HCA", "pulses", "kwh"] {
            assert_eq!(engineering_unit(text), NO_UNITS, "{text}");
        }
    }
}
