//! The appliance's own inputs and outputs: S0 pulse inputs, PT1000 temperature inputs, fault
//! relays, the two front buttons and the state display/LEDs.
//!
//! Each is a small trait, so the logic above (pulse totals, temperatures, relay rules, button
//! gestures, state display) is the same on every backend:
//!
//! - [`sim`]: simulated inputs driven by the logger's clock (pulse rates, temperature curves,
//!   sensor faults, scripted button presses), for tests on virtual time and `--simulate` demos;
//! - `linux` (Linux only): the GPIO character device (S0 edges with kernel debounce, relay and LED
//!   outputs, buttons) and IIO for the PT1000 ADC.
//!
//! A missing GPIO chip or IIO device, an unknown line or channel, a shorted or open sensor and
//! a bounce storm are each a [`HardwareError`] or a status of the input concerned, never a
//! panic: the logger keeps reading its meters.

pub mod buttons;
pub mod config;
pub mod inputs;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod pt1000;
pub mod relays;
pub mod report;
pub mod s0;
pub mod service;
pub mod settings;
pub mod sim;

use crate::status::LoggerState;
use std::path::PathBuf;

pub use buttons::{Button, ButtonAction, ButtonEdge, ButtonMachine};
pub use config::{IoBackend, IoConfig};

/// Why an input or output of the appliance cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HardwareError {
    /// The GPIO chip does not exist or cannot be opened.
    #[error("GPIO chip {chip}: {reason}")]
    GpioChip {
        /// Its device path.
        chip: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// A configured GPIO line cannot be requested (no such line, in use, no edge support).
    #[error("GPIO chip {chip}, line {line} ({what}): {reason}")]
    GpioLine {
        /// The chip's device path.
        chip: PathBuf,
        /// The line offset.
        line: u32,
        /// What the line is for.
        what: String,
        /// What the system said.
        reason: String,
    },
    /// The IIO device of a temperature input does not exist.
    #[error("IIO device {device}: {reason}")]
    IioDevice {
        /// The device's directory.
        device: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// A configured IIO channel does not exist or gives no number.
    #[error("IIO device {device}, channel {channel}: {reason}")]
    IioChannel {
        /// The device's directory.
        device: PathBuf,
        /// The channel name.
        channel: String,
        /// What is wrong.
        reason: String,
    },
    /// The input or output has no pin or channel in the configuration.
    #[error("{what} {index} is not configured")]
    NotConfigured {
        /// `S0 input`, `temperature input`, `relay` …
        what: &'static str,
        /// Its number (1-based as on the front panel).
        index: usize,
    },
    /// An S0 input sees far more edges than a meter can give (loose wire, interference):
    /// debounced pulses are still counted, but the value is not trusted until it calms down.
    #[error(
        "S0 input {index}: bounce storm (more than {} edges a second; {bounced} ignored so far)",
        s0::STORM_EDGES
    )]
    BounceStorm {
        /// The input (1-based).
        index: usize,
        /// Edges ignored as bounce since start.
        bounced: u64,
    },
    /// What must survive a power cut could not be saved.
    #[error("saving the {what} failed: {reason}")]
    Persist {
        /// What was being saved.
        what: &'static str,
        /// What the system said.
        reason: String,
    },
    /// The sensor reads a resistance that is no temperature.
    #[error("temperature input {index}: {fault}")]
    Sensor {
        /// The input (1-based).
        index: usize,
        /// What the reading means.
        fault: pt1000::SensorFault,
    },
}

/// Counts S0 pulses.
pub trait PulseCounter: Send {
    /// Number of inputs.
    fn inputs(&self) -> usize;
    /// Debounced pulses counted on `input` (0-based) since the backend started.
    fn pulses(&mut self, input: usize) -> Result<u64, HardwareError>;
    /// Edges ignored as bounce on `input` while it is in a bounce storm (see [`s0`]), `None`
    /// when it is calm.
    fn storm(&mut self, _input: usize) -> Option<u64> {
        None
    }
}

/// Reads PT1000 sensors.
pub trait TemperatureInput: Send {
    /// Number of inputs.
    fn inputs(&self) -> usize;
    /// The resistance of the sensor on `input` (0-based), in ohms.
    fn resistance(&mut self, input: usize) -> Result<f64, HardwareError>;

    /// The temperature on `input` in °C ([`pt1000::temperature`] of the resistance).
    fn temperature(&mut self, input: usize) -> Result<f64, HardwareError> {
        let ohms = self.resistance(input)?;
        pt1000::temperature(ohms).map_err(|fault| HardwareError::Sensor {
            index: input + 1,
            fault,
        })
    }
}

/// Switches the fault relays.
pub trait RelayOutput: Send {
    /// Number of relays.
    fn relays(&self) -> usize;
    /// Switches relay `relay` (0-based) on (energised) or off.
    fn set_relay(&mut self, relay: usize, on: bool) -> Result<(), HardwareError>;
}

/// Reports the front buttons' edges.
pub trait ButtonInput: Send {
    /// The edges since the last call, oldest first.
    fn edges(&mut self) -> Result<Vec<ButtonEdge>, HardwareError>;
    /// The time now on the clock the edges are stamped with.
    fn now(&self) -> std::time::Duration;
}

/// Shows the logger state on the display and LEDs.
pub trait StateIndicator: Send {
    /// Shows `leds` (computed by [`leds`] for the state and the time).
    fn show(&mut self, leds: Leds) -> Result<(), HardwareError>;
}

/// What the display and the two LEDs show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Leds {
    /// The display text (`idle`, `scan`, `read`, `rs`, `err`).
    pub display: &'static str,
    /// The "Reading" LED.
    pub reading: bool,
    /// The "Scan" LED.
    pub scan: bool,
}

/// The display and LEDs for `state` at `at` (any clock; the idle blink follows its seconds):
/// idle — Reading blinks once a second; scan — both on; read — Reading on; rs — both off;
/// err — both blink together twice a second.
pub fn leds(state: LoggerState, at: std::time::Duration) -> Leds {
    let blink = (at.as_millis() / 500).is_multiple_of(2);
    let fast = (at.as_millis() / 250).is_multiple_of(2);
    let (display, reading, scan) = match state {
        LoggerState::Idle => ("idle", blink, false),
        LoggerState::Scan => ("scan", true, true),
        LoggerState::Read => ("read", true, false),
        LoggerState::Rs => ("rs", false, false),
        LoggerState::Err => ("err", fast, fast),
    };
    Leds {
        display,
        reading,
        scan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_leds_follow_the_reference_table() {
        let at = |ms| Duration::from_millis(ms);
        let idle: Vec<bool> = (0..4)
            .map(|i| leds(LoggerState::Idle, at(i * 500)).reading)
            .collect();
        assert_eq!(idle, [true, false, true, false], "blinks once a second");
        assert!(!leds(LoggerState::Idle, at(0)).scan);
        let on = |s| {
            let l = leds(s, at(0));
            (l.display, l.reading, l.scan)
        };
        assert_eq!(on(LoggerState::Scan), ("scan", true, true));
        assert_eq!(on(LoggerState::Read), ("read", true, false));
        assert_eq!(on(LoggerState::Rs), ("rs", false, false));
        assert_eq!(leds(LoggerState::Err, at(0)).display, "err");
        assert_ne!(
            leds(LoggerState::Err, at(0)).scan,
            leds(LoggerState::Err, at(250)).scan
        );
    }

    struct Fixed(f64);
    impl TemperatureInput for Fixed {
        fn inputs(&self) -> usize {
            1
        }
        fn resistance(&mut self, _input: usize) -> Result<f64, HardwareError> {
            Ok(self.0)
        }
    }

    #[test]
    fn temperatures_come_from_the_resistance_and_faults_name_the_input() {
        assert!((Fixed(1000.0).temperature(0).unwrap()).abs() < 1e-9);
        let err = Fixed(1.0e9).temperature(0).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("temperature input 1: sensor open"),
            "{err}"
        );
    }
}
