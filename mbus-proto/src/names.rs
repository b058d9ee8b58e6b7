//! Human-readable names: media of the variable and fixed data structures, units of the fixed data
//! structure, and product names of common meters (by manufacturer, version and medium).
//!
//! The texts are the ones the widely used libmbus tools print, so output made with them matches
//! existing scripts.
//!
//! ```
//! use mbus_proto::names::{medium_name, product_name};
//! use mbus_proto::address::manufacturer_code;
//!
//! assert_eq!(medium_name(0x04), Some("Heat: Outlet"));
//! let kam = manufacturer_code(b"KAM").unwrap();
//! assert_eq!(product_name(kam, 0x08, 0x04, [0; 4]), Some("Kamstrup Multical 601"));
//! ```

/// Name of a medium code of the variable data header; `None` for codes without a name.
pub fn medium_name(medium: u8) -> Option<&'static str> {
    Some(match medium {
        0x00 => "Other",
        0x01 => "Oil",
        0x02 => "Electricity",
        0x03 => "Gas",
        0x04 => "Heat: Outlet",
        0x05 => "Steam",
        0x06 => "Warm water (30-90°C)",
        0x07 => "Water",
        0x08 => "Heat Cost Allocator",
        0x09 => "Compressed Air",
        0x0A => "Cooling load meter: Outlet",
        0x0B => "Cooling load meter: Inlet",
        0x0C => "Heat: Inlet",
        0x0D => "Heat / Cooling load meter",
        0x0E => "Bus/System",
        0x0F => "Unknown Medium",
        0x10 => "Irrigation Water",
        0x11 => "Water Logger",
        0x12 => "Gas Logger",
        0x13 => "Gas Converter",
        0x14 => "Calorific value",
        0x15 => "Hot water (>90°C)",
        0x16 => "Cold water",
        0x17 => "Dual water",
        0x18 => "Pressure",
        0x19 => "A/D Converter",
        0x1A => "Smoke Detector",
        0x1B => "Ambient Sensor",
        0x1C => "Gas Detector",
        0x20 => "Breaker: Electricity",
        0x21 => "Valve: Gas or Water",
        0x25 => "Customer Unit: Display Device",
        0x28 => "Waste Water",
        0x29 => "Garbage",
        0x30 => "Service Unit",
        0x36 => "Radio Converter: System",
        0x37 => "Radio Converter: Meter",
        0x22..=0x24 | 0x26 | 0x27 | 0x2A..=0x2F | 0x31..=0x34 | 0x38..=0x3F => "Reserved",
        _ => return None,
    })
}

/// Name of the 4-bit medium code of the fixed data structure.
pub fn fixed_medium_name(medium: u8) -> &'static str {
    match medium & 0x0F {
        0x0 => "Other",
        0x1 => "Oil",
        0x2 => "Electricity",
        0x3 => "Gas",
        0x4 => "Heat",
        0x5 => "Steam",
        0x6 => "Hot Water",
        0x7 => "Water",
        0x8 => "H.C.A.",
        0x9 => "Reserved",
        0xA => "Gas Mode 2",
        0xB => "Heat Mode 2",
        0xC => "Hot Water Mode 2",
        0xD => "Water Mode 2",
        0xE => "H.C.A. Mode 2",
        _ => "Reserved",
    }
}

/// Name of a 6-bit unit code of the fixed data structure.
pub fn fixed_unit_name(code: u8) -> &'static str {
    const NAMES: [&str; 64] = [
        "h,m,s",
        "D,M,Y",
        "Wh",
        "10 Wh",
        "100 Wh",
        "kWh",
        "10 kWh",
        "100 kWh",
        "MWh",
        "10 MWh",
        "100 MWh",
        "kJ",
        "10 kJ",
        "MJ",
        "100 kJ",
        "10 MJ",
        "100 MJ",
        "GJ",
        "10 GJ",
        "100 GJ",
        "W",
        "10 W",
        "100 W",
        "kW",
        "10 kW",
        "100 kW",
        "MW",
        "10 MW",
        "100 MW",
        "kJ/h",
        "10 kJ/h",
        "100 kJ/h",
        "MJ/h",
        "10 MJ/h",
        "100 MJ/h",
        "GJ/h",
        "10 GJ/h",
        "100 GJ/h",
        "ml",
        "10 ml",
        "100 ml",
        "l",
        "10 l",
        "100 l",
        "m^3",
        "10 m^3",
        "100 m^3",
        "ml/h",
        "10 ml/h",
        "100 ml/h",
        "l/h",
        "10 l/h",
        "100 l/h",
        "m^3/h",
        "10 m^3/h",
        "100 m^3/h",
        "1e-3 °C",
        "units for HCA",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved but historic",
        "without units",
    ];
    NAMES
        .get(usize::from(code & 0x3F))
        .copied()
        .unwrap_or("reserved")
}

const fn code_of(l: &[u8; 3]) -> u16 {
    (((l[0] - 64) as u16) << 10) | (((l[1] - 64) as u16) << 5) | ((l[2] - 64) as u16)
}

fn is(code: u16, letters: &[u8; 3]) -> bool {
    code == code_of(letters)
}

/// Product name of a meter from its manufacturer code, version, medium and identification number
/// (wire order; some manufacturers encode the model in its top byte); `None` if unknown.
pub fn product_name(
    manufacturer: u16,
    version: u8,
    medium: u8,
    ident_bcd: [u8; 4],
) -> Option<&'static str> {
    let m = manufacturer;
    let name = if is(m, b"ABB") {
        match version {
            0x02 => "ABB Delta-Meter",
            0x20 => "ABB B21 113-100",
            _ => return None,
        }
    } else if is(m, b"ACW") {
        match version {
            0x09 => "Itron CF Echo 2",
            0x0A => "Itron CF 51",
            0x0B => "Itron CF 55",
            0x0E => "Itron BM +m",
            0x0F => "Itron CF 800",
            0x14 => "Itron CYBLE M-Bus 1.4",
            _ => return None,
        }
    } else if is(m, b"AMT") {
        match version {
            0xC0.. => "Aquametro CALEC ST",
            0x80.. => "Aquametro CALEC MB",
            0x40.. => "Aquametro SAPHIR",
            _ => "Aquametro AMTRON",
        }
    } else if is(m, b"BEC") {
        match (medium, version) {
            (0x02, 0x00) => "Berg DCMi",
            (0x02, 0x07) => "Berg BLMi",
            (0x0F, 0x71) => "Berg BMB-10S0",
            _ => return None,
        }
    } else if is(m, b"EFE") {
        match version {
            0x00 if medium == 0x06 => "Engelmann WaterStar",
            0x00 => "Engelmann / Elster SensoStar 2",
            0x01 => "Engelmann SensoStar 2C",
            _ => return None,
        }
    } else if is(m, b"ELS") {
        match version {
            0x02 => "Elster TMP-A",
            0x0A => "Elster Falcon",
            0x2F => "Elster F96 Plus",
            _ => return None,
        }
    } else if is(m, b"ELV") {
        match version {
            0x14..=0x1D => "Elvaco CMa10",
            0x32..=0x3B => "Elvaco CMa11",
            _ => return None,
        }
    } else if is(m, b"EMH") {
        match version {
            0x00 => "EMH DIZ",
            _ => return None,
        }
    } else if is(m, b"EMU") {
        match (medium, version) {
            (0x02, 0x10) => "EMU Professional 3/75 M-Bus",
            _ => return None,
        }
    } else if is(m, b"GAV") {
        match (medium, version) {
            (0x02, 0x2D..=0x30) => "Carlo Gavazzi EM24",
            (0x02, 0x39 | 0x3A) => "Carlo Gavazzi EM21",
            (0x02, 0x40) => "Carlo Gavazzi EM33",
            _ => return None,
        }
    } else if is(m, b"GMC") {
        match version {
            0xE6 => "GMC-I A230 EMMOD 206",
            _ => return None,
        }
    } else if is(m, b"KAM") {
        match version {
            0x01 => "Kamstrup 382 (6850-005)",
            0x08 => "Kamstrup Multical 601",
            _ => return None,
        }
    } else if is(m, b"SLB") {
        match version {
            0x02 => "Allmess Megacontrol CF-50",
            0x06 => "CF Compact / Integral MK MaXX",
            _ => return None,
        }
    } else if is(m, b"HYD") {
        match version {
            0x28 => "ABB F95 Typ US770",
            0x2F => "Hydrometer Sharky 775",
            _ => return None,
        }
    } else if is(m, b"JAN") {
        match (medium, version) {
            (0x02, 0x09) => "Janitza UMG 96S",
            _ => return None,
        }
    } else if is(m, b"LUG") {
        match version {
            0x02 => "Landis & Gyr Ultraheat 2WR5",
            0x03 => "Landis & Gyr Ultraheat 2WR6",
            0x04 => "Landis & Gyr Ultraheat UH50",
            0x07 => "Landis & Gyr Ultraheat T230",
            _ => return None,
        }
    } else if is(m, b"LSE") {
        match version {
            0x99 => "Siemens WFH21",
            _ => return None,
        }
    } else if is(m, b"NZR") {
        match version {
            0x01 => "NZR DHZ 5/63",
            0x50 => "NZR IC-M2",
            _ => return None,
        }
    } else if is(m, b"RAM") {
        match version {
            0x03 => "Rossweiner ETK/ETW Modularis",
            _ => return None,
        }
    } else if is(m, b"REL") {
        match version {
            0x08 => "Relay PadPuls M1",
            0x12 => "Relay PadPuls M4",
            0x20 => "Relay Padin 4",
            0x30 => "Relay AnDi 4",
            0x40 => "Relay PadPuls M2",
            _ => return None,
        }
    } else if is(m, b"RKE") {
        match version {
            0x69 => "Ista sensonic II mbus",
            _ => return None,
        }
    } else if is(m, b"SBC") {
        match ident_bcd[3] {
            0x10 | 0x19 => "Saia-Burgess ALE3",
            0x11 => "Saia-Burgess AWD3",
            _ => return None,
        }
    } else if is(m, b"SEO") || is(m, b"GTE") {
        match ident_bcd[3] {
            0x30 => "Sensoco PT100",
            0x41 => "Sensoco 2-NTC",
            0x45 => "Sensoco Laser Light",
            0x48 => "Sensoco ADIO",
            0x51 | 0x61 => "Sensoco THU",
            0x80 => "Sensoco PulseCounter for E-Meter",
            _ => return None,
        }
    } else if is(m, b"SEN") {
        match version {
            0x08 | 0x19 => "Sensus PolluCom E",
            0x0B => "Sensus PolluTherm",
            0x0E => "Sensus PolluStat E",
            _ => return None,
        }
    } else if is(m, b"SON") {
        match version {
            0x0D => "Sontex Supercal 531",
            _ => return None,
        }
    } else if is(m, b"SPX") {
        match version {
            0x31 | 0x34 => "Sensus PolluTherm",
            _ => return None,
        }
    } else if is(m, b"SVM") {
        match version {
            0x08 => "Elster F2 / Deltamess F2",
            0x09 => "Elster F4 / Kamstrup SVM F22",
            _ => return None,
        }
    } else if is(m, b"TCH") {
        match version {
            0x26 => "Techem m-bus S",
            0x40 => "Techem ultra S3",
            _ => return None,
        }
    } else if is(m, b"WZG") {
        match version {
            0x03 => "Modularis ETW-EAX",
            _ => return None,
        }
    } else if is(m, b"ZRM") {
        match version {
            0x81 => "Minol Minocal C2",
            0x82 => "Minol Minocal WR3",
            _ => return None,
        }
    } else {
        return None;
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::manufacturer_code;

    #[test]
    fn media() {
        assert_eq!(medium_name(0x07), Some("Water"));
        assert_eq!(medium_name(0x2B), Some("Reserved"));
        assert_eq!(medium_name(0x99), None);
        assert_eq!(fixed_medium_name(4), "Heat");
        assert_eq!(fixed_unit_name(0x05), "kWh");
        assert_eq!(fixed_unit_name(0x29), "l");
        assert_eq!(fixed_unit_name(0x3E), "reserved but historic");
    }

    #[test]
    fn products() {
        let code = |l: &[u8; 3]| manufacturer_code(l).unwrap();
        assert_eq!(
            product_name(code(b"EFE"), 0, 0x06, [0; 4]),
            Some("Engelmann WaterStar")
        );
        assert_eq!(
            product_name(code(b"AMT"), 0xC8, 0, [0; 4]),
            Some("Aquametro CALEC ST")
        );
        assert_eq!(
            product_name(code(b"SBC"), 0, 0, [0, 0, 0, 0x19]),
            Some("Saia-Burgess ALE3")
        );
        assert_eq!(product_name(code(b"XYZ"), 0, 0, [0; 4]), None);
    }
}
