//! The `io` section of the configuration: which backend drives the appliance's inputs and
//! outputs, and on Linux which GPIO lines and IIO channels they are wired to.
//!
//! ```json
//! "io": {
//!   "backend": "linux",
//!   "gpio_chip": "/dev/gpiochip0",
//!   "s0": [ { "line": 17, "debounce_ms": 20 }, { "line": 27, "debounce_ms": 20 } ],
//!   "pt1000": [ { "device": "iio:device0", "channel": "in_resistance0", "scale": null } ],
//!   "relays": [ { "line": 5, "active_low": false, "rule": { "on_overload": true, "on_read_failure": true } } ],
//!   "buttons": { "red": 6, "blue": 13, "active_low": true },
//!   "leds": { "reading": 19, "scan": 26 }
//! }
//! ```
//!
//! The section may be left out: the default backend `none` has no inputs and outputs.

use super::relays::RelayRule;
use crate::config::Problems;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most S0 inputs (as on the reference appliance).
pub const MAX_S0: usize = 4;
/// Most PT1000 inputs.
pub const MAX_PT1000: usize = 2;
/// Most relays.
pub const MAX_RELAYS: usize = 2;

/// What drives the inputs and outputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum IoBackend {
    /// None: no inputs or outputs (a plain PC).
    #[default]
    None,
    /// Simulated inputs and outputs (demonstrations, tests).
    Simulated,
    /// GPIO character device and IIO (Linux).
    Linux,
}

/// An S0 input's GPIO line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct S0Pin {
    /// GPIO line offset on the chip.
    pub line: u32,
    /// Debounce time in milliseconds (1 … 1000, default 20).
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u32,
}

fn default_debounce_ms() -> u32 {
    20
}

/// A PT1000 input's ADC channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Pt1000Channel {
    /// IIO device name under `/sys/bus/iio/devices` (e.g. `iio:device0`).
    pub device: String,
    /// Channel name (e.g. `in_resistance0`): `<channel>_raw` is read.
    pub channel: String,
    /// Ohms per raw count; `null` takes the channel's `<channel>_scale` file (or 1).
    #[serde(default)]
    pub scale: Option<f64>,
}

/// A relay's GPIO line and rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RelayPin {
    /// GPIO line offset on the chip.
    pub line: u32,
    /// The relay is energised by a low level.
    #[serde(default)]
    pub active_low: bool,
    /// Which faults switch it.
    #[serde(default)]
    pub rule: RelayRule,
}

/// The front buttons' GPIO lines.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ButtonPins {
    /// The red button.
    pub red: Option<u32>,
    /// The blue button.
    pub blue: Option<u32>,
    /// Pressed reads low (button to ground with a pull-up).
    pub active_low: bool,
}

/// The LEDs' GPIO lines.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct LedPins {
    /// The "Reading" LED.
    pub reading: Option<u32>,
    /// The "Scan" LED.
    pub scan: Option<u32>,
}

/// The `io` configuration section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct IoConfig {
    /// What drives the inputs and outputs.
    pub backend: IoBackend,
    /// The GPIO character device.
    pub gpio_chip: String,
    /// S0 inputs 1 … 4.
    pub s0: Vec<S0Pin>,
    /// PT1000 inputs 1 … 2.
    pub pt1000: Vec<Pt1000Channel>,
    /// Relays 1 … 2.
    pub relays: Vec<RelayPin>,
    /// Front buttons.
    pub buttons: ButtonPins,
    /// State LEDs.
    pub leds: LedPins,
}

impl Default for IoConfig {
    fn default() -> Self {
        IoConfig {
            backend: IoBackend::None,
            gpio_chip: "/dev/gpiochip0".into(),
            s0: Vec::new(),
            pt1000: Vec::new(),
            relays: Vec::new(),
            buttons: ButtonPins::default(),
            leds: LedPins::default(),
        }
    }
}

fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
        && s != "."
        && s != ".."
}

impl IoConfig {
    pub(crate) fn validate(&self, p: &mut Problems) {
        p.check(
            self.gpio_chip.starts_with("/dev/") && !self.gpio_chip.contains(".."),
            "io.gpio_chip",
            "must be a device path under /dev (e.g. /dev/gpiochip0)",
        );
        p.check(self.s0.len() <= MAX_S0, "io.s0", "at most 4 S0 inputs");
        p.check(
            self.pt1000.len() <= MAX_PT1000,
            "io.pt1000",
            "at most 2 PT1000 inputs",
        );
        p.check(
            self.relays.len() <= MAX_RELAYS,
            "io.relays",
            "at most 2 relays",
        );
        let mut lines: BTreeMap<u32, String> = BTreeMap::new();
        let mut line = |p: &mut Problems, path: String, offset: u32| {
            if let Some(other) = lines.get(&offset) {
                p.add(
                    path.to_string(),
                    format!("line {offset} is already used by {other}"),
                );
            } else {
                lines.insert(offset, path);
            }
        };
        for (i, pin) in self.s0.iter().enumerate() {
            line(p, format!("io.s0[{i}].line"), pin.line);
            p.check(
                (1..=1000).contains(&pin.debounce_ms),
                format!("io.s0[{i}].debounce_ms"),
                "must be between 1 and 1000",
            );
        }
        for (i, ch) in self.pt1000.iter().enumerate() {
            p.check(
                plain_name(&ch.device),
                format!("io.pt1000[{i}].device"),
                "must be an IIO device name such as iio:device0",
            );
            p.check(
                plain_name(&ch.channel) && ch.channel.starts_with("in_"),
                format!("io.pt1000[{i}].channel"),
                "must be an input channel name such as in_resistance0",
            );
            if let Some(scale) = ch.scale {
                p.check(
                    scale.is_finite() && scale > 0.0,
                    format!("io.pt1000[{i}].scale"),
                    "must be a positive number",
                );
            }
        }
        for (i, relay) in self.relays.iter().enumerate() {
            line(p, format!("io.relays[{i}].line"), relay.line);
        }
        for (what, pin) in [
            ("io.buttons.red", self.buttons.red),
            ("io.buttons.blue", self.buttons.blue),
            ("io.leds.reading", self.leds.reading),
            ("io.leds.scan", self.leds.scan),
        ] {
            if let Some(offset) = pin {
                line(p, what.to_string(), offset);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn configurations_without_the_section_load_and_mistakes_name_their_field() {
        let config = Config::from_json(r#"{"version":2}"#).unwrap();
        assert_eq!(config.io, super::IoConfig::default());
        let text = r#"{"version":2,"io":{"backend":"linux",
            "s0":[{"line":17},{"line":17,"debounce_ms":0}],
            "pt1000":[{"device":"../x","channel":"in_resistance0"},{"device":"iio:device0","channel":"in_voltage1","scale":-1}],
            "relays":[{"line":5},{"line":6},{"line":7}],
            "buttons":{"red":5}}}"#;
        let problems = Config::from_json(text).unwrap_err().messages();
        assert_eq!(
            problems,
            [
                "io.relays: at most 2 relays",
                "io.s0[1].line: line 17 is already used by io.s0[0].line",
                "io.s0[1].debounce_ms: must be between 1 and 1000",
                "io.pt1000[0].device: must be an IIO device name such as iio:device0",
                "io.pt1000[1].scale: must be a positive number",
                "io.buttons.red: line 5 is already used by io.relays[0].line",
            ]
        );
        let good = r#"{"version":2,"io":{"backend":"simulated","s0":[{"line":1}],
            "relays":[{"line":2,"rule":{"on_overload":true,"on_read_failure":false}}]}}"#;
        let config = Config::from_json(good).unwrap();
        assert_eq!(config.io.s0[0].debounce_ms, 20);
        assert!(!config.io.relays[0].rule.on_read_failure);
    }
}
