//! Input meters: the S0 and PT1000 inputs as ordinary configured meters, so they appear
//! wherever a meter does (overview, details, export, uploads and every other consumer of
//! readings) without special cases.
//!
//! As on the reference appliance, the S0 inputs are meters with identification numbers
//! 900 … 903 and the PT1000 inputs 1000 … 1001 (manufacturer `MBC`, this logger; medium
//! "other"). An S0 meter's value is its pulse total (its register's divisor is the pulses per
//! unit, so 1000 pulses/kWh with divisor 1000 stores kWh); a PT1000 meter's value is the
//! temperature in °C, rounded to 0.01 °C. PT1000 meters are not logged by default (only the
//! current value is kept), as on the reference.
//!
//! The engine reads them in its cycle through an [`InputReader`] (see
//! [`crate::engine::Logger::attach_inputs`]); they never touch the bus, so they are read even
//! while the level converter has it.

use super::s0::Ledger;
use super::{HardwareError, PulseCounter, TemperatureInput};
use crate::config::{Addressing, Category, Config, InputSource, Meter, Register, ResetMode};
use crate::readout::{MeterData, RecordValue};
use crate::storage::Decimal;
use mbus_proto::address::{manufacturer_code, SecondaryAddress};
use mbus_proto::record::Function;
use std::path::Path;

/// Identification number of S0 input 1 (inputs 2 … 4 follow).
pub const S0_IDENT: u32 = 900;
/// Identification number of PT1000 input 1 (input 2 follows).
pub const PT1000_IDENT: u32 = 1000;

/// Reads the appliance's inputs for the engine.
pub trait InputReader: Send {
    /// The current value of `source`: pulse total or °C.
    fn read(&mut self, source: InputSource) -> Result<Decimal, HardwareError>;
    /// Persists what must survive a power cut (pulse totals); called after every cycle.
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The secondary address of an input meter.
pub fn input_address(source: InputSource) -> SecondaryAddress {
    let ident = match source {
        InputSource::S0 { input } => S0_IDENT + u32::from(input.saturating_sub(1)),
        InputSource::Pt1000 { input } => PT1000_IDENT + u32::from(input.saturating_sub(1)),
    };
    SecondaryAddress {
        ident,
        manufacturer: manufacturer_code(b"MBC").unwrap_or(0),
        version: 1,
        medium: 0x00,
    }
}

/// A new input meter with id `id` for `source`, named and with its one register as on the
/// reference appliance.
pub fn input_meter(id: u32, source: InputSource) -> Meter {
    let (name, register, logging) = match source {
        InputSource::S0 { input } => (
            format!("S0-Input-{input}"),
            Register {
                index: 0,
                name: format!("S0-{input}"),
                description: "Pulses".into(),
                meter_unit: String::new(),
                unit: String::new(),
                phase: 0,
                divisor: 1.0,
                storage: 0,
                tariff: 0,
                off: false,
            },
            true,
        ),
        InputSource::Pt1000 { input } => (
            format!("Temperatur Sensor-{input}"),
            Register {
                index: 0,
                name: format!("T{input}"),
                description: "Temperature".into(),
                meter_unit: "°C".into(),
                unit: "°C".into(),
                phase: 0,
                divisor: 1.0,
                storage: 0,
                tariff: 0,
                off: false,
            },
            false,
        ),
    };
    Meter {
        id,
        name,
        location: String::new(),
        cost_centre: String::new(),
        comment: String::new(),
        addressing: Addressing::Secondary,
        primary: 0,
        secondary: Some(input_address(source)),
        baud: 2400,
        cycle: None,
        category: Category::Other,
        bacnet_instance: None,
        battery: false,
        reset: ResetMode::Off,
        registers: vec![register],
        input: Some(source),
        logging,
    }
}

/// Adds an input meter for each of `s0` S0 inputs and `pt1000` PT1000 inputs that has none
/// yet; returns the ids added.
pub fn add_input_meters(config: &mut Config, s0: usize, pt1000: usize) -> Vec<u32> {
    let sources = (1..=s0.min(4))
        .map(|i| InputSource::S0 { input: i as u8 })
        .chain((1..=pt1000.min(2)).map(|i| InputSource::Pt1000 { input: i as u8 }));
    let mut added = Vec::new();
    for source in sources {
        if config.meters.iter().any(|m| m.input == Some(source)) {
            continue;
        }
        let id = config.meters.iter().map(|m| m.id).max().unwrap_or(0) + 1;
        config.meters.push(input_meter(id, source));
        added.push(id);
    }
    added
}

/// An input's value as the reply the engine decodes for bus meters: one record.
pub fn input_reply(source: InputSource, value: Decimal) -> MeterData {
    let (quantity, unit) = match source {
        InputSource::S0 { .. } => ("pulses", ""),
        InputSource::Pt1000 { .. } => ("external_temperature", "°C"),
    };
    MeterData {
        secondary: Some(input_address(source)),
        status: 0,
        records: vec![RecordValue {
            quantity,
            unit,
            storage: 0,
            tariff: 0,
            subunit: 0,
            function: Function::Instantaneous,
            value: Some(value),
        }],
    }
}

/// The inputs of a hardware backend, with S0 totals kept across restarts in the data
/// directory.
pub struct HardwareInputs {
    pulses: Box<dyn PulseCounter>,
    temperatures: Box<dyn TemperatureInput>,
    ledger: Ledger,
}

impl HardwareInputs {
    /// Reads `pulses` and `temperatures`; S0 totals persist in `data_dir`.
    pub fn new(
        data_dir: &Path,
        pulses: Box<dyn PulseCounter>,
        temperatures: Box<dyn TemperatureInput>,
    ) -> HardwareInputs {
        let ledger = Ledger::open(data_dir, pulses.inputs());
        HardwareInputs {
            pulses,
            temperatures,
            ledger,
        }
    }

    /// Sets the pulse total of S0 input `input` (1-based), e.g. to the meter's reading when
    /// the input is connected (the "start value").
    pub fn set_s0_total(&mut self, input: u8, total: u64) -> Result<(), HardwareError> {
        let i = usize::from(input.saturating_sub(1));
        let now = self.pulses.pulses(i)?;
        self.ledger.set_total(i, total, now);
        self.ledger.sync().map_err(|e| HardwareError::Persist {
            what: "S0 totals",
            reason: e.to_string(),
        })
    }
}

/// One input's live value for status pages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InputValue {
    /// Input number (1-based).
    pub input: u8,
    /// Pulse total or °C.
    pub value: Option<f64>,
    /// Why there is no value.
    pub error: Option<String>,
}

impl HardwareInputs {
    /// The live values of every input: S0 pulse totals, then temperatures.
    pub fn values(&mut self) -> (Vec<InputValue>, Vec<InputValue>) {
        let s0_inputs = u8::try_from(self.pulses.inputs()).unwrap_or(u8::MAX);
        let pt_inputs = u8::try_from(self.temperatures.inputs()).unwrap_or(u8::MAX);
        let mut read = |source: InputSource, input: u8| match self.read(source) {
            Ok(v) => InputValue {
                input,
                value: Some(v.to_f64()),
                error: None,
            },
            Err(e) => InputValue {
                input,
                value: None,
                error: Some(e.to_string()),
            },
        };
        let s0 = (1..=s0_inputs)
            .map(|i| read(InputSource::S0 { input: i }, i))
            .collect();
        let pt = (1..=pt_inputs)
            .map(|i| read(InputSource::Pt1000 { input: i }, i))
            .collect();
        (s0, pt)
    }
}

/// Inputs shared by the engine (which reads them in its cycle) and the I/O service (which
/// shows their live values).
#[derive(Clone)]
pub struct SharedInputs(pub std::sync::Arc<std::sync::Mutex<HardwareInputs>>);

impl SharedInputs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HardwareInputs> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// See [`HardwareInputs::values`].
    pub fn values(&self) -> (Vec<InputValue>, Vec<InputValue>) {
        self.lock().values()
    }
}

impl InputReader for SharedInputs {
    fn read(&mut self, source: InputSource) -> Result<Decimal, HardwareError> {
        self.lock().read(source)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.lock().sync()
    }
}

impl InputReader for HardwareInputs {
    fn read(&mut self, source: InputSource) -> Result<Decimal, HardwareError> {
        match source {
            InputSource::S0 { input } => {
                let i = usize::from(input.saturating_sub(1));
                let count = self.pulses.pulses(i)?;
                let total = self.ledger.observe(i, count);
                if let Some(bounced) = self.pulses.storm(i) {
                    return Err(HardwareError::BounceStorm {
                        index: i + 1,
                        bounced,
                    });
                }
                Ok(Decimal::new(
                    i64::try_from(total).unwrap_or(i64::MAX).into(),
                    0,
                ))
            }
            InputSource::Pt1000 { input } => {
                let i = usize::from(input.saturating_sub(1));
                let celsius = self.temperatures.temperature(i)?;
                Ok(Decimal::new(((celsius * 100.0).round() as i64).into(), -2))
            }
        }
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.ledger.sync()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::hardware::sim::{SimPulses, SimSensor, SimTemperatures};
    use chrono::{TimeZone, Utc};
    use std::sync::Arc;

    #[test]
    fn a_bounce_storm_withholds_the_value_but_keeps_counting() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 5, 4, 0, 0, 0).unwrap(),
        ));
        let pulses = SimPulses::new(clock.clone(), vec![3600.0]);
        let storms = pulses.storms();
        let temps = SimTemperatures::new(clock.clone(), vec![SimSensor::Shorted]);
        let mut inputs = HardwareInputs::new(dir.path(), Box::new(pulses), Box::new(temps));
        let s0 = InputSource::S0 { input: 1 };
        clock.spend(std::time::Duration::from_secs(10));
        assert_eq!(inputs.read(s0).unwrap(), Decimal::new(10, 0));
        storms.lock().unwrap()[0] = Some(77);
        clock.spend(std::time::Duration::from_secs(10));
        let err = inputs.read(s0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "S0 input 1: bounce storm (more than 50 edges a second; 77 ignored so far)"
        );
        storms.lock().unwrap()[0] = None;
        clock.spend(std::time::Duration::from_secs(10));
        assert_eq!(inputs.read(s0).unwrap(), Decimal::new(30, 0));
        inputs.set_s0_total(1, 5000).unwrap();
        clock.spend(std::time::Duration::from_secs(2));
        assert_eq!(inputs.read(s0).unwrap(), Decimal::new(5002, 0));
        let err = inputs.read(InputSource::Pt1000 { input: 1 }).unwrap_err();
        assert!(err.to_string().contains("sensor shorted"), "{err}");
        assert!(inputs.read(InputSource::S0 { input: 4 }).is_err());
    }
}
