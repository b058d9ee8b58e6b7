//! Simulated inputs and outputs, driven by the logger's clock (virtual in tests, the system
//! clock in `--simulate` demonstrations): S0 inputs counting at fixed rates, PT1000 sensors
//! following a daily temperature curve (or open or shorted), a script of button presses, and
//! relays and LEDs whose every change is recorded for inspection.

use super::{
    pt1000, ButtonEdge, ButtonInput, HardwareError, Leds, PulseCounter, RelayOutput,
    StateIndicator, TemperatureInput,
};
use crate::clock::Clock;
use chrono::{DateTime, Timelike, Utc};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

fn since(clock: &dyn Clock, start: DateTime<Utc>) -> Duration {
    (clock.now() - start).to_std().unwrap_or_default()
}

/// S0 inputs counting at fixed rates from the moment they were made.
pub struct SimPulses {
    clock: Arc<dyn Clock>,
    start: DateTime<Utc>,
    per_hour: Vec<f64>,
    storms: Arc<Mutex<Vec<Option<u64>>>>,
}

impl SimPulses {
    /// Inputs counting `per_hour[i]` pulses an hour each.
    pub fn new(clock: Arc<dyn Clock>, per_hour: Vec<f64>) -> SimPulses {
        SimPulses {
            start: clock.now(),
            clock,
            storms: Arc::new(Mutex::new(vec![None; per_hour.len()])),
            per_hour,
        }
    }

    /// A handle to put inputs into a bounce storm (`Some(edges ignored)`) and out again.
    pub fn storms(&self) -> Arc<Mutex<Vec<Option<u64>>>> {
        Arc::clone(&self.storms)
    }
}

impl PulseCounter for SimPulses {
    fn inputs(&self) -> usize {
        self.per_hour.len()
    }

    fn pulses(&mut self, input: usize) -> Result<u64, HardwareError> {
        let rate = self
            .per_hour
            .get(input)
            .ok_or(HardwareError::NotConfigured {
                what: "S0 input",
                index: input + 1,
            })?;
        let hours = since(&*self.clock, self.start).as_secs_f64() / 3600.0;
        Ok((rate * hours).floor() as u64)
    }

    fn storm(&mut self, input: usize) -> Option<u64> {
        lock(&self.storms).get(input).copied().flatten()
    }
}

/// What a simulated PT1000 does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SimSensor {
    /// Follows `base` ± `swing` °C over the day (coldest at 06:00 UTC, warmest at 18:00).
    Curve {
        /// Daily mean, °C.
        base: f64,
        /// Half the daily range, °C.
        swing: f64,
    },
    /// Sensor missing or a wire broken.
    Open,
    /// Sensor or cable shorted.
    Shorted,
}

/// PT1000 inputs; their sensors can be changed while running (to inject faults).
pub struct SimTemperatures {
    clock: Arc<dyn Clock>,
    sensors: Arc<Mutex<Vec<SimSensor>>>,
}

impl SimTemperatures {
    /// Inputs with these sensors.
    pub fn new(clock: Arc<dyn Clock>, sensors: Vec<SimSensor>) -> SimTemperatures {
        SimTemperatures {
            clock,
            sensors: Arc::new(Mutex::new(sensors)),
        }
    }

    /// A handle to change the sensors later.
    pub fn sensors(&self) -> Arc<Mutex<Vec<SimSensor>>> {
        Arc::clone(&self.sensors)
    }
}

impl TemperatureInput for SimTemperatures {
    fn inputs(&self) -> usize {
        lock(&self.sensors).len()
    }

    fn resistance(&mut self, input: usize) -> Result<f64, HardwareError> {
        let sensor =
            lock(&self.sensors)
                .get(input)
                .copied()
                .ok_or(HardwareError::NotConfigured {
                    what: "temperature input",
                    index: input + 1,
                })?;
        Ok(match sensor {
            SimSensor::Curve { base, swing } => {
                let now = self.clock.now();
                let day = f64::from(now.num_seconds_from_midnight()) / 86_400.0;
                let phase = (day - 0.25) * std::f64::consts::TAU;
                pt1000::resistance(base - swing * phase.cos())
            }
            SimSensor::Open => 1.0e7,
            SimSensor::Shorted => 0.4,
        })
    }
}

/// Button presses played back as the clock passes them: `(offset from start, edge)`.
pub struct SimButtons {
    clock: Arc<dyn Clock>,
    start: DateTime<Utc>,
    script: Vec<ButtonEdge>,
    next: usize,
}

impl SimButtons {
    /// Plays `script` (edges with times since now, in order).
    pub fn new(clock: Arc<dyn Clock>, script: Vec<ButtonEdge>) -> SimButtons {
        SimButtons {
            start: clock.now(),
            clock,
            script,
            next: 0,
        }
    }
}

impl ButtonInput for SimButtons {
    fn edges(&mut self) -> Result<Vec<ButtonEdge>, HardwareError> {
        let now = since(&*self.clock, self.start);
        let due = self.script[self.next..]
            .iter()
            .take_while(|e| e.at <= now)
            .count();
        let edges = self.script[self.next..self.next + due].to_vec();
        self.next += due;
        Ok(edges)
    }

    fn now(&self) -> Duration {
        since(&*self.clock, self.start)
    }
}

/// Relays and LEDs that record what they were told.
#[derive(Clone, Default)]
pub struct SimOutputs {
    relays: Arc<Mutex<Vec<bool>>>,
    shown: Arc<Mutex<Vec<Leds>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimOutputs {
    /// `relays` relays, all released.
    pub fn new(relays: usize) -> SimOutputs {
        SimOutputs {
            relays: Arc::new(Mutex::new(vec![false; relays])),
            shown: Arc::default(),
        }
    }

    /// The relays' states now.
    pub fn relay_states(&self) -> Vec<bool> {
        lock(&self.relays).clone()
    }

    /// Every change of the display and LEDs, oldest first.
    pub fn shown(&self) -> Vec<Leds> {
        lock(&self.shown).clone()
    }
}

impl RelayOutput for SimOutputs {
    fn relays(&self) -> usize {
        lock(&self.relays).len()
    }

    fn set_relay(&mut self, relay: usize, on: bool) -> Result<(), HardwareError> {
        let mut relays = lock(&self.relays);
        let slot = relays.get_mut(relay).ok_or(HardwareError::NotConfigured {
            what: "relay",
            index: relay + 1,
        })?;
        *slot = on;
        Ok(())
    }
}

impl StateIndicator for SimOutputs {
    fn show(&mut self, leds: Leds) -> Result<(), HardwareError> {
        let mut shown = lock(&self.shown);
        if shown.last() != Some(&leds) {
            shown.push(leds);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::hardware::Button;
    use chrono::TimeZone;

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 5, 4, 6, 0, 0).unwrap(),
        ))
    }

    #[test]
    fn pulses_and_temperatures_follow_virtual_time() {
        let clock = clock();
        let mut pulses = SimPulses::new(clock.clone(), vec![1000.0, 0.0]);
        let mut temps = SimTemperatures::new(
            clock.clone(),
            vec![SimSensor::Curve {
                base: 20.0,
                swing: 5.0,
            }],
        );
        assert!(
            (temps.temperature(0).unwrap() - 15.0).abs() < 1e-6,
            "coldest at 06:00"
        );
        clock.spend(Duration::from_secs(12 * 3600));
        assert_eq!(pulses.pulses(0).unwrap(), 12_000);
        assert_eq!(pulses.pulses(1).unwrap(), 0);
        assert!(pulses.pulses(2).is_err());
        assert!(
            (temps.temperature(0).unwrap() - 25.0).abs() < 1e-6,
            "warmest at 18:00"
        );
        temps.sensors().lock().unwrap()[0] = SimSensor::Open;
        assert!(temps
            .temperature(0)
            .unwrap_err()
            .to_string()
            .contains("sensor open"));
        assert!(matches!(
            temps.temperature(1),
            Err(HardwareError::NotConfigured { index: 2, .. })
        ));
    }

    #[test]
    fn scripted_presses_arrive_when_their_time_has_come() {
        let clock = clock();
        let edge = |pressed, secs| ButtonEdge {
            button: Button::Red,
            pressed,
            at: Duration::from_secs(secs),
        };
        let mut buttons = SimButtons::new(clock.clone(), vec![edge(true, 1), edge(false, 7)]);
        assert!(buttons.edges().unwrap().is_empty());
        clock.spend(Duration::from_secs(2));
        assert_eq!(buttons.edges().unwrap(), vec![edge(true, 1)]);
        clock.spend(Duration::from_secs(10));
        assert_eq!(buttons.edges().unwrap(), vec![edge(false, 7)]);
        assert!(buttons.edges().unwrap().is_empty());
    }
}
