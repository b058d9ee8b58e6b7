//! The register template of one meter type, as the configuration holds it; the built-in
//! templates and the template files are in [`crate::template`].

use super::meter::{validate_registers, Meter, MeterType, Register};
use super::validate::Problems;
use serde::{Deserialize, Serialize};

/// A register template for one meter type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Manufacturer letters.
    pub manufacturer: String,
    /// Medium code.
    pub medium: u8,
    /// Version byte.
    pub version: u8,
    /// Number of values the meter sends.
    pub values: u32,
    /// Device designation, e.g. `EMU Professional 3/75`.
    #[serde(default)]
    pub device_name: String,
    /// Meters of this type run on battery.
    #[serde(default)]
    pub battery: bool,
    /// The registers to give such a meter.
    #[serde(default)]
    pub registers: Vec<Register>,
}

impl Template {
    /// The meter type this template is for.
    pub fn key(&self) -> MeterType {
        MeterType {
            manufacturer: self.manufacturer.clone(),
            medium: self.medium,
            version: self.version,
            values: self.values,
        }
    }

    /// Whether the template fits a meter of this type (manufacturer letters compared without
    /// regard to case).
    pub fn matches(&self, kind: &MeterType) -> bool {
        self.manufacturer.eq_ignore_ascii_case(&kind.manufacturer)
            && self.medium == kind.medium
            && self.version == kind.version
            && self.values == kind.values
    }

    /// "Save as template": the meter's registers and battery flag as a template for its type.
    pub fn from_meter(meter: &Meter, kind: MeterType, device_name: &str) -> Template {
        Template {
            manufacturer: kind.manufacturer,
            medium: kind.medium,
            version: kind.version,
            values: kind.values,
            device_name: device_name.to_string(),
            battery: meter.battery,
            registers: meter.registers.clone(),
        }
    }

    /// Gives `meter` this template's registers and battery flag.
    pub fn apply(&self, meter: &mut Meter) {
        meter.registers = self.registers.clone();
        meter.battery = self.battery;
    }

    pub(crate) fn validate(&self, path: &str, p: &mut Problems) {
        let letters_ok = self.manufacturer.len() == 3
            && self.manufacturer.bytes().all(|b| b.is_ascii_uppercase());
        p.check(
            letters_ok,
            format!("{path}.manufacturer"),
            "must be three upper-case letters",
        );
        p.text(format!("{path}.device_name"), &self.device_name, 64, false);
        let rpath = format!("{path}.registers");
        validate_registers(&self.registers, &rpath, p);
        for (i, r) in self.registers.iter().enumerate() {
            p.check(
                r.index < self.values,
                format!("{rpath}[{i}].index"),
                "must be below the template's number of values",
            );
        }
    }
}
