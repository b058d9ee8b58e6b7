//! Synthetic readings of a whole installation, for benchmarks, load tests and demos.

use super::{Decimal, MeterId, Reading};
use crate::export::{MeterDescriptor, RegisterDescriptor};

/// A made-up installation: `meters` meters with `registers` registers each, read every
/// `interval` seconds from `start` on. Readings are computed, not stored, so any amount can be
/// generated in bounded memory; they look like real data to the codec: rising energy and
/// volume counters with three decimals, wandering temperatures and power, a constant
/// register (serial number), so sizes and speeds measured with them are representative.
///
/// ```
/// use logger_core::storage::{MeterId, SyntheticInstallation};
///
/// let site = SyntheticInstallation { meters: 2, registers: 10, interval: 900, start: 1_704_067_200 };
/// assert_eq!(site.readings_per_meter(1), 96);
/// let r = site.reading(MeterId(1), 5);
/// assert_eq!((r.time, r.values.len()), (1_704_067_200 + 5 * 900, 10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticInstallation {
    /// Number of meters (ids `0..meters`).
    pub meters: u32,
    /// Registers per meter.
    pub registers: usize,
    /// Seconds between readings.
    pub interval: i64,
    /// Time of the first reading, unix seconds UTC.
    pub start: i64,
}

fn mix(x: u64) -> u64 {
    mbus_link::sim::SimRng::hash(x)
}

impl SyntheticInstallation {
    /// Readings per meter over `days` days.
    pub fn readings_per_meter(&self, days: u32) -> u64 {
        (i64::from(days) * 86_400 / self.interval.max(1)) as u64
    }

    /// The `index`-th reading of `meter`.
    pub fn reading(&self, meter: MeterId, index: u64) -> Reading {
        let k = index as i64;
        let values = (0..self.registers)
            .map(|r| {
                let seed = u64::from(meter.0) << 40 ^ (r as u64) << 32;
                let noise = mix(seed ^ index) as i64;
                let value = match r % 5 {
                    // Counters (kWh, m³ with three decimals): rising by a varying amount.
                    0 | 1 => {
                        let rate = 200 + (mix(seed) % 2000) as i64;
                        Decimal::new(
                            (10_000_000
                                + (mix(seed) % 1_000_000) as i64
                                + k * rate
                                + noise.rem_euclid(rate))
                            .into(),
                            -3,
                        )
                    }
                    // Temperatures in °C with two decimals, drifting slowly.
                    2 => Decimal::new(
                        (4_000 + (k % 600 - 300).abs() + noise.rem_euclid(20)).into(),
                        -2,
                    ),
                    // Power in W, whole numbers.
                    3 => Decimal::new(noise.rem_euclid(25_000).into(), 0),
                    // A constant register, e.g. a fabrication number.
                    _ => Decimal::new((i64::from(meter.0) * 1_000 + r as i64).into(), 0),
                };
                // Every 500th value is missing, as when a meter skips a record.
                (noise.rem_euclid(500) != 0).then_some(value)
            })
            .collect();
        Reading {
            meter,
            time: self.start + k * self.interval,
            status: 0,
            values,
        }
    }

    /// How the export describes the meters (ids `0..meters`).
    pub fn meter_descriptors(&self) -> Vec<MeterDescriptor> {
        const KINDS: [(&str, &str); 5] = [
            ("Energy", "kWh"),
            ("Volume", "m³"),
            ("Flow temperature", "°C"),
            ("Power", "W"),
            ("Fabrication number", ""),
        ];
        (0..self.meters)
            .map(|m| MeterDescriptor {
                id: MeterId(m),
                name: format!("Meter {m}"),
                secondary: (10_000_000 + m).to_string(),
                manufacturer: "EMU".to_owned(),
                medium: "Heat".to_owned(),
                registers: (0..self.registers)
                    .map(|r| RegisterDescriptor {
                        index: r,
                        name: KINDS[r % 5].0.to_owned(),
                        description: String::new(),
                        unit: KINDS[r % 5].1.to_owned(),
                        phase: 0,
                        divisor: 1.0,
                        storage_number: 0,
                        tariff: (r / 5) as u32,
                    })
                    .collect(),
            })
            .collect()
    }

    /// Readings `first..first + count` of `meter`, a batch for [`super::Store::append_batch`].
    pub fn batch(&self, meter: MeterId, first: u64, count: u64) -> Vec<Reading> {
        (first..first + count)
            .map(|i| self.reading(meter, i))
            .collect()
    }
}
