//! Population generators: many meters with sequential, random or clustered serial numbers,
//! duplicate addresses and mixed baud rates, telegrams drawn from templates.

use super::rng::SimRng;
use super::templates::TelegramTemplate;
use super::VirtualMeter;
use mbus_proto::address::{manufacturer_code, BaudRate, SecondaryAddress, MAX_PRIMARY};
use std::collections::HashSet;

/// How serial numbers (the 8-digit ident) are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SerialPattern {
    /// `first_serial`, `first_serial + 1`, …
    Sequential,
    /// Uniformly random, distinct.
    Random,
    /// Batches of 5…40 consecutive serials at random places (meters installed per delivery).
    Clustered,
}

/// What population to build; [`Population::build`] makes the meters.
///
/// ```
/// use mbus_link::sim::{templates, Population, SerialPattern};
/// let meters = Population::new(20, SerialPattern::Clustered)
///     .seed(7)
///     .build(&[templates::synthetic(0), templates::synthetic(3)]);
/// assert_eq!(meters.len(), 20);
/// assert_eq!(meters[0].primary(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Number of meters.
    pub count: usize,
    /// Serial number spread.
    pub pattern: SerialPattern,
    /// Seed of every random choice.
    pub seed: u64,
    /// First serial for [`SerialPattern::Sequential`].
    pub first_serial: u32,
    /// Baud rates, one drawn at random per meter (empty: 2400).
    pub bauds: Vec<BaudRate>,
    /// Response delays in bit times, drawn uniformly from this range per meter.
    pub delay_bits: (u32, u32),
    /// This many meters get the primary address of another meter.
    pub duplicate_primary: usize,
    /// This many meters get the secondary address of another meter.
    pub duplicate_secondary: usize,
    /// Give every meter primary address 0 (factory default) instead of 1, 2, 3, …
    pub unaddressed: bool,
    /// The first this many meters babble (see [`VirtualMeter::with_babbling`]).
    pub babblers: usize,
    /// The last this many meters are deaf: they never answer.
    pub deaf: usize,
}

impl Population {
    /// `count` meters with the given serial pattern, seed 0, 2400 baud, delays 11…330 bit
    /// times, primary addresses 1, 2, … (0 beyond 250), no duplicates.
    pub fn new(count: usize, pattern: SerialPattern) -> Population {
        Population {
            count,
            pattern,
            seed: 0,
            first_serial: 10_000_000,
            bauds: Vec::new(),
            delay_bits: (11, 330),
            duplicate_primary: 0,
            duplicate_secondary: 0,
            unaddressed: false,
            babblers: 0,
            deaf: 0,
        }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Population {
        self.seed = seed;
        self
    }

    /// Sets the baud rates to draw from.
    pub fn bauds(mut self, bauds: &[BaudRate]) -> Population {
        self.bauds = bauds.to_vec();
        self
    }

    /// Sets the range of response delays (bit times).
    pub fn delay_bits(mut self, lo: u32, hi: u32) -> Population {
        self.delay_bits = (lo, hi);
        self
    }

    /// Sets how many duplicate primary and secondary addresses there are.
    pub fn duplicates(mut self, primary: usize, secondary: usize) -> Population {
        self.duplicate_primary = primary;
        self.duplicate_secondary = secondary;
        self
    }

    /// Sets how many meters babble (the first ones) and how many are deaf (the last ones).
    pub fn faults(mut self, babblers: usize, deaf: usize) -> Population {
        self.babblers = babblers;
        self.deaf = deaf;
        self
    }

    /// The serial numbers the population uses (distinct, in meter order).
    pub fn serials(&self) -> Vec<u32> {
        let mut rng = SimRng::new(self.seed ^ 0x5E81_A150);
        const SPACE: u64 = 100_000_000;
        let mut used = HashSet::with_capacity(self.count);
        let mut out = Vec::with_capacity(self.count);
        match self.pattern {
            SerialPattern::Sequential => {
                out.extend(
                    (0..self.count as u64)
                        .map(|i| ((u64::from(self.first_serial) + i) % SPACE) as u32),
                );
            }
            SerialPattern::Random => {
                while out.len() < self.count.min(SPACE as usize) {
                    let s = (rng.next_u64() % SPACE) as u32;
                    if used.insert(s) {
                        out.push(s);
                    }
                }
            }
            SerialPattern::Clustered => {
                while out.len() < self.count.min(SPACE as usize) {
                    let batch = rng.range(5, 40);
                    let start = rng.next_u64() % SPACE;
                    for i in 0..batch {
                        let s = ((start + i) % SPACE) as u32;
                        if out.len() < self.count && used.insert(s) {
                            out.push(s);
                        }
                    }
                }
            }
        }
        out
    }

    /// Builds the meters; templates are assigned at random (synthetic ones when `templates` is
    /// empty). Manufacturer, version and medium come from each template's header when it has one.
    pub fn build(&self, templates: &[TelegramTemplate]) -> Vec<VirtualMeter> {
        self.build_with(self.count, |_, rng| match rng.pick(templates) {
            Some(template) => template.clone(),
            None => super::templates::synthetic(rng.next_u64() as usize % 64),
        })
    }

    /// Builds one meter per template, in order (`count` is ignored): the meter with primary
    /// address 1 answers with the first template, 2 with the second, … Serial numbers, rates,
    /// delays and faults are chosen as by [`Population::build`].
    ///
    /// ```
    /// use mbus_link::sim::{templates, Population, SerialPattern};
    /// let meters = Population::new(0, SerialPattern::Sequential)
    ///     .build_each(&[templates::synthetic(4), templates::synthetic(9)]);
    /// assert_eq!(meters.len(), 2);
    /// assert_eq!(meters[1].template().name(), "synthetic-9");
    /// ```
    pub fn build_each(&self, templates: &[TelegramTemplate]) -> Vec<VirtualMeter> {
        self.build_with(templates.len(), |i, _| {
            // `i` counts up to `templates.len()`, so the template is always there.
            templates
                .get(i)
                .cloned()
                .unwrap_or_else(|| super::templates::synthetic(i))
        })
    }

    /// `count` meters, meter `i` answering with `template_for(i, rng)`.
    fn build_with(
        &self,
        count: usize,
        mut template_for: impl FnMut(usize, &mut SimRng) -> TelegramTemplate,
    ) -> Vec<VirtualMeter> {
        let mut rng = SimRng::new(self.seed);
        let serials = Population {
            count,
            ..self.clone()
        }
        .serials();
        let mut meters: Vec<VirtualMeter> = serials
            .iter()
            .enumerate()
            .map(|(i, &serial)| {
                let template = template_for(i, &mut rng);
                let header = template.header();
                let secondary = SecondaryAddress {
                    ident: serial,
                    manufacturer: header.map_or_else(
                        || manufacturer_code(b"SIM").unwrap_or(0),
                        |h| h.manufacturer,
                    ),
                    version: header.map_or(1, |h| h.version),
                    medium: header.map_or(4, |h| h.medium),
                };
                let primary = if self.unaddressed || i >= usize::from(MAX_PRIMARY) {
                    0
                } else {
                    (i + 1) as u8
                };
                let baud = rng.pick(&self.bauds).copied().unwrap_or(BaudRate::B2400);
                let (lo, hi) = self.delay_bits;
                let delay = rng.range(u64::from(lo), u64::from(hi)) as u32;
                VirtualMeter::new(primary, secondary, template)
                    .with_baud(baud)
                    .with_response_delay(delay)
            })
            .collect();
        let n = meters.len();
        // The last meters take the addresses of the first ones: meter n-1 those of meter 0, …
        let (front, back) = meters.split_at_mut(n / 2);
        for (k, (first, last)) in front.iter().zip(back.iter_mut().rev()).enumerate() {
            if k < self.duplicate_primary {
                last.set_primary(first.primary());
            }
            if k < self.duplicate_secondary {
                last.set_secondary(first.secondary());
            }
        }
        let babblers = self.babblers.min(n);
        for (i, meter) in meters.iter_mut().enumerate() {
            if i < babblers {
                *meter = meter.clone().with_babbling();
            } else if i >= n.saturating_sub(self.deaf) {
                *meter = meter.clone().with_silence_rate(1.0);
            }
        }
        meters
    }
}
