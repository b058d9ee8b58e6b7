//! The settings of one input or relay as the appliance's settings pages and API change them:
//! an S0 input (divisor = pulses per unit, unit, logging), a PT1000 input (logging, ADC
//! channel), a relay (which faults switch it). Each is applied to a configuration and
//! validated with it; problems name the field as the page shows it (`s0[1].divisor`,
//! `temperature[2].device`, `relays[1]`), not the configuration path behind it.

use super::config::{IoBackend, Pt1000Channel, RelayPin, MAX_PT1000, MAX_RELAYS, MAX_S0};
use super::relays::RelayRule;
use crate::config::{Config, ConfigError, FieldError, InputSource};
use serde::{Deserialize, Serialize};

/// The settings of S0 input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S0Settings {
    /// Pulses per unit: the stored value is the pulse total divided by it (1000 pulses/kWh
    /// stores kWh).
    pub divisor: f64,
    /// Unit of the stored value.
    #[serde(default)]
    pub unit: String,
    /// Readings stored (else only the current value is kept).
    pub logging: bool,
}

/// The settings of a PT1000 input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TemperatureSettings {
    /// Readings stored (off by default: only the current value is kept).
    pub logging: bool,
    /// The ADC channel (Linux backend); `None` keeps the one configured.
    #[serde(default)]
    pub channel: Option<Pt1000Channel>,
}

fn invalid(path: String, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(vec![FieldError {
        path,
        problem: problem.into(),
    }])
}

/// Checks `config` as a whole; problems under `inner` are renamed to start with `outer`.
fn validated(config: &Config, renames: &[(String, String)]) -> Result<(), ConfigError> {
    config.validate().map_err(|e| {
        ConfigError::Invalid(
            e.problems()
                .into_iter()
                .map(|mut p| {
                    if let Some((inner, outer)) =
                        renames.iter().find(|(inner, _)| p.path.starts_with(inner))
                    {
                        p.path = format!("{outer}{}", &p.path[inner.len()..]);
                    }
                    p
                })
                .collect(),
        )
    })
}

/// The position of the meter that reads `source`.
fn meter_of(config: &Config, source: InputSource, path: &str) -> Result<usize, ConfigError> {
    config
        .meters
        .iter()
        .position(|m| m.input == Some(source))
        .ok_or_else(|| invalid(path.to_string(), "no such input on this logger"))
}

/// Applies `settings` to S0 input `input` (1-based) of `config`.
pub fn set_s0(config: &mut Config, input: u8, settings: &S0Settings) -> Result<(), ConfigError> {
    let path = format!("s0[{input}]");
    if !(1..=MAX_S0 as u8).contains(&input) {
        return Err(invalid(path, "must be input 1 … 4"));
    }
    let index = meter_of(config, InputSource::S0 { input }, &path)?;
    if !(settings.divisor.is_finite() && settings.divisor > 0.0) {
        return Err(invalid(
            format!("{path}.divisor"),
            "must be a positive number",
        ));
    }
    let mut changed = config.clone();
    let meter = &mut changed.meters[index];
    meter.logging = settings.logging;
    if let Some(register) = meter.registers.first_mut() {
        register.divisor = settings.divisor;
        register.unit = settings.unit.trim().to_string();
    }
    validated(
        &changed,
        &[
            (format!("meters[{index}].registers[0]."), format!("{path}.")),
            (format!("meters[{index}]."), format!("{path}.")),
        ],
    )?;
    *config = changed;
    Ok(())
}

/// The pulse total that makes S0 input `input` show `start` (in its unit) with the divisor
/// of `config`.
pub fn s0_start_pulses(config: &Config, input: u8, start: f64) -> Result<u64, ConfigError> {
    let path = format!("s0[{input}].start");
    let index = meter_of(config, InputSource::S0 { input }, &format!("s0[{input}]"))?;
    let divisor = config.meters[index]
        .registers
        .first()
        .map_or(1.0, |r| r.divisor);
    let pulses = (start * divisor).round();
    if !start.is_finite() || start < 0.0 || !(0.0..9.0e15).contains(&pulses) {
        return Err(invalid(path, "must be a number of at least 0"));
    }
    // In range: checked just above.
    Ok(pulses as u64)
}

/// Applies `settings` to PT1000 input `input` (1-based) of `config`.
pub fn set_temperature(
    config: &mut Config,
    input: u8,
    settings: &TemperatureSettings,
) -> Result<(), ConfigError> {
    let path = format!("temperature[{input}]");
    if !(1..=MAX_PT1000 as u8).contains(&input) {
        return Err(invalid(path, "must be input 1 or 2"));
    }
    let index = meter_of(config, InputSource::Pt1000 { input }, &path)?;
    let mut changed = config.clone();
    changed.meters[index].logging = settings.logging;
    let slot = usize::from(input - 1);
    if let Some(channel) = &settings.channel {
        if slot > changed.io.pt1000.len() {
            return Err(invalid(
                format!("{path}.device"),
                format!("set the channel of input {slot} first"),
            ));
        }
        if slot == changed.io.pt1000.len() {
            changed.io.pt1000.push(channel.clone());
        } else {
            changed.io.pt1000[slot] = channel.clone();
        }
    }
    validated(
        &changed,
        &[
            (format!("io.pt1000[{slot}]."), format!("{path}.")),
            (format!("meters[{index}]."), format!("{path}.")),
        ],
    )?;
    *config = changed;
    Ok(())
}

/// Sets which faults switch relay `relay` (1-based). On the simulated backend a relay without
/// a configured line gets the next free one; on Linux its line must be configured first.
pub fn set_relay(config: &mut Config, relay: u8, rule: RelayRule) -> Result<(), ConfigError> {
    let path = format!("relays[{relay}]");
    if !(1..=MAX_RELAYS as u8).contains(&relay) {
        return Err(invalid(path, "must be relay 1 or 2"));
    }
    let slot = usize::from(relay - 1);
    let mut changed = config.clone();
    let io = &mut changed.io;
    if slot >= io.relays.len() && io.backend != IoBackend::Simulated {
        return Err(invalid(
            path,
            "has no GPIO line configured (io.relays in the configuration)",
        ));
    }
    while io.relays.len() <= slot {
        let used: Vec<u32> = io
            .s0
            .iter()
            .map(|p| p.line)
            .chain(io.relays.iter().map(|r| r.line))
            .chain(
                [
                    io.buttons.red,
                    io.buttons.blue,
                    io.leds.reading,
                    io.leds.scan,
                ]
                .into_iter()
                .flatten(),
            )
            .collect();
        let line = (0..).find(|l| !used.contains(l)).unwrap_or(0);
        io.relays.push(RelayPin {
            line,
            active_low: false,
            rule: RelayRule::default(),
        });
    }
    io.relays[slot].rule = rule;
    validated(
        &changed,
        &[(format!("io.relays[{slot}]."), format!("{path}."))],
    )?;
    *config = changed;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::inputs::add_input_meters;

    fn appliance() -> Config {
        let mut config = Config::default();
        config.io.backend = IoBackend::Simulated;
        add_input_meters(&mut config, 4, 2);
        config
    }

    #[test]
    fn input_settings_change_their_meter_and_problems_name_the_page_field() {
        let mut config = appliance();
        let s0 = S0Settings {
            divisor: 1000.0,
            unit: " kWh ".into(),
            logging: false,
        };
        set_s0(&mut config, 2, &s0).unwrap();
        let meter = &config.meters[1];
        assert_eq!(meter.input, Some(InputSource::S0 { input: 2 }));
        assert_eq!(meter.registers[0].divisor, 1000.0);
        assert_eq!(meter.registers[0].unit, "kWh");
        assert!(!meter.logging);
        assert_eq!(s0_start_pulses(&config, 2, 12.5).unwrap(), 12_500);
        assert_eq!(
            s0_start_pulses(&config, 2, -1.0).unwrap_err().messages(),
            ["s0[2].start: must be a number of at least 0"]
        );
        let bad = S0Settings {
            divisor: 0.0,
            ..s0.clone()
        };
        assert_eq!(
            set_s0(&mut config, 1, &bad).unwrap_err().messages(),
            ["s0[1].divisor: must be a positive number"]
        );
        assert_eq!(
            set_s0(&mut config, 5, &s0).unwrap_err().messages(),
            ["s0[5]: must be input 1 … 4"]
        );

        let channel = Pt1000Channel {
            device: "../etc".into(),
            channel: "in_resistance0".into(),
            scale: None,
        };
        let t = TemperatureSettings {
            logging: true,
            channel: Some(channel),
        };
        let before = config.clone();
        assert_eq!(
            set_temperature(&mut config, 1, &t).unwrap_err().messages(),
            ["temperature[1].device: must be an IIO device name such as iio:device0"]
        );
        assert_eq!(config, before, "nothing changes on an error");
        let t = TemperatureSettings {
            logging: true,
            channel: None,
        };
        set_temperature(&mut config, 2, &t).unwrap();
        assert!(config.meters[5].logging);

        let rule = RelayRule {
            on_overload: false,
            on_read_failure: true,
        };
        set_relay(&mut config, 2, rule).unwrap();
        assert_eq!(config.io.relays.len(), 2);
        assert_eq!(config.io.relays[1].rule, rule);
        assert_ne!(config.io.relays[0].line, config.io.relays[1].line);
        config.io.backend = IoBackend::Linux;
        config.io.relays.clear();
        assert_eq!(
            set_relay(&mut config, 1, rule).unwrap_err().messages(),
            ["relays[1]: has no GPIO line configured (io.relays in the configuration)"]
        );
    }
}
