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
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
            register(format!("S0-{input}"), "Pulses", ""),
            true,
        ),
        InputSource::Pt1000 { input } => (
            format!("Temperatur Sensor-{input}"),
            register(format!("T{input}"), "Temperature", "°C"),
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

/// The one register of an input meter: its value as read, divisor 1.
fn register(name: String, description: &str, unit: &str) -> Register {
    Register {
        description: description.into(),
        meter_unit: unit.into(),
        unit: unit.into(),
        ..Register::new(0, name)
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
    data_dir: PathBuf,
}

/// Name prefix of a pending S0 start value in the data directory (`s0-start-1.json` …).
const START_REQUEST: &str = "s0-start-";

/// A start value waiting to be applied.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct StartRequest {
    total: u64,
}

fn start_request_path(data_dir: &Path, input: u8) -> PathBuf {
    data_dir.join(format!("{START_REQUEST}{input}.json"))
}

/// Asks for the pulse total of S0 input `input` (1-based) to become `total`: the running I/O
/// service applies it within a second, or the next start does (so it works with the daemon
/// running or stopped). A later request for the same input replaces one not applied yet;
/// each request is applied once.
pub fn request_s0_start(data_dir: &Path, input: u8, total: u64) -> Result<(), HardwareError> {
    let persist = |e: String| HardwareError::Persist {
        what: "S0 start value",
        reason: e,
    };
    let bytes = serde_json::to_vec(&StartRequest { total }).map_err(|e| persist(e.to_string()))?;
    crate::atomic::write(&start_request_path(data_dir, input), &bytes)
        .map_err(|e| persist(e.to_string()))
}

/// Whether a start value for S0 input `input` waits to be applied.
pub fn s0_start_pending(data_dir: &Path, input: u8) -> bool {
    start_request_path(data_dir, input).exists()
}

/// An applied start value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartApplied {
    /// S0 input (1-based).
    pub input: u8,
    /// The total before.
    pub previous: u64,
    /// The total now.
    pub total: u64,
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
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Sets the pulse total of S0 input `input` (1-based), e.g. to the meter's reading when
    /// the input is connected (the "start value"); pulses from now on count on top of it.
    /// Returns the total before.
    pub fn set_s0_total(&mut self, input: u8, total: u64) -> Result<u64, HardwareError> {
        let i = usize::from(input.saturating_sub(1));
        let now = self.pulses.pulses(i)?;
        let previous = self.ledger.observe(i, now);
        self.ledger.set_total(i, total, now);
        self.ledger.sync().map_err(|e| HardwareError::Persist {
            what: "S0 totals",
            reason: e.to_string(),
        })?;
        Ok(previous)
    }

    /// Applies the start values requested with [`request_s0_start`]. A request is taken
    /// (renamed) before it is read, so it is applied once even if a new one arrives
    /// meanwhile; one that cannot be applied (no such input) is dropped with its error.
    pub fn apply_start_requests(&mut self) -> Vec<Result<StartApplied, HardwareError>> {
        let inputs = u8::try_from(self.pulses.inputs()).unwrap_or(u8::MAX);
        let mut applied = Vec::new();
        for input in 1..=inputs.max(crate::hardware::config::MAX_S0 as u8) {
            let path = start_request_path(&self.data_dir, input);
            let taken = path.with_extension("taken");
            if std::fs::rename(&path, &taken).is_err() {
                continue;
            }
            let request = std::fs::read(&taken)
                .ok()
                .and_then(|b| serde_json::from_slice::<StartRequest>(&b).ok());
            // Gone either way: applied, or unreadable and reported below.
            let _ = std::fs::remove_file(&taken);
            applied.push(match request {
                Some(StartRequest { total }) => {
                    self.set_s0_total(input, total)
                        .map(|previous| StartApplied {
                            input,
                            previous,
                            total,
                        })
                }
                None => Err(HardwareError::Persist {
                    what: "S0 start value",
                    reason: format!("{} is not a start value request", path.display()),
                }),
            });
        }
        applied
    }
}

/// One input's live value for status pages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InputValue {
    /// Input number (1-based).
    pub input: u8,
    /// Pulse total or °C.
    pub value: Option<f64>,
    /// The sensor's resistance in ohms (PT1000 inputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resistance: Option<f64>,
    /// Why there is no value.
    pub error: Option<String>,
}

impl HardwareInputs {
    /// The live values of every input: S0 pulse totals, then temperatures.
    pub fn values(&mut self) -> (Vec<InputValue>, Vec<InputValue>) {
        let s0_inputs = u8::try_from(self.pulses.inputs()).unwrap_or(u8::MAX);
        let pt_inputs = u8::try_from(self.temperatures.inputs()).unwrap_or(u8::MAX);
        let mut read = |source: InputSource, input: u8| {
            let resistance = match source {
                InputSource::S0 { .. } => None,
                InputSource::Pt1000 { .. } => {
                    self.temperatures.resistance(usize::from(input - 1)).ok()
                }
            };
            match self.read(source) {
                Ok(v) => InputValue {
                    input,
                    value: Some(v.to_f64()),
                    resistance,
                    error: None,
                },
                Err(e) => InputValue {
                    input,
                    value: None,
                    resistance,
                    error: Some(e.to_string()),
                },
            }
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

    /// See [`HardwareInputs::apply_start_requests`].
    pub fn apply_start_requests(&self) -> Vec<Result<StartApplied, HardwareError>> {
        self.lock().apply_start_requests()
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

    #[test]
    fn a_start_value_is_applied_once_and_pulses_count_on_top_of_it_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 5, 4, 0, 0, 0).unwrap(),
        ));
        let open = |clock: &Arc<ManualClock>| {
            let pulses = SimPulses::new(clock.clone(), vec![3600.0, 0.0]);
            let temps = SimTemperatures::new(clock.clone(), Vec::new());
            HardwareInputs::new(dir.path(), Box::new(pulses), Box::new(temps))
        };
        let s0 = InputSource::S0 { input: 1 };
        let mut inputs = open(&clock);
        clock.spend(std::time::Duration::from_secs(7));
        assert!(
            inputs.apply_start_requests().is_empty(),
            "nothing asked for"
        );
        request_s0_start(dir.path(), 1, 1000).unwrap();
        // A later request replaces one not applied yet.
        request_s0_start(dir.path(), 1, 2000).unwrap();
        assert!(s0_start_pending(dir.path(), 1));
        let applied: Vec<StartApplied> = inputs
            .apply_start_requests()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            applied,
            [StartApplied {
                input: 1,
                previous: 7,
                total: 2000
            }]
        );
        assert!(!s0_start_pending(dir.path(), 1));
        // Applying again finds nothing: the pulses since are not lost or counted twice.
        clock.spend(std::time::Duration::from_secs(5));
        assert!(inputs.apply_start_requests().is_empty());
        assert_eq!(inputs.read(s0).unwrap(), Decimal::new(2005, 0));
        assert_eq!(
            inputs.read(s0).unwrap(),
            Decimal::new(2005, 0),
            "read twice"
        );
        inputs.sync().unwrap();
        clock.spend(std::time::Duration::from_secs(3));
        assert_eq!(inputs.read(s0).unwrap(), Decimal::new(2008, 0));
        inputs.sync().unwrap();
        drop(inputs);
        // Asked for while the daemon is stopped: applied once at the next start, on top of
        // nothing counted twice.
        request_s0_start(dir.path(), 2, 40).unwrap();
        let mut inputs = open(&clock);
        assert_eq!(inputs.read(s0).unwrap(), Decimal::new(2008, 0), "persisted");
        let applied = inputs.apply_start_requests();
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].as_ref().unwrap().total, 40);
        assert_eq!(
            inputs.read(InputSource::S0 { input: 2 }).unwrap(),
            Decimal::new(40, 0)
        );
        // A request for an input the backend does not have is dropped with its reason.
        request_s0_start(dir.path(), 4, 1).unwrap();
        let applied = inputs.apply_start_requests();
        assert!(applied[0].is_err(), "{applied:?}");
        assert!(!s0_start_pending(dir.path(), 4));
    }
}
