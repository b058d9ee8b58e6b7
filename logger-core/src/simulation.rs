//! A simulated installation for demonstrations and tests: a `mbus-link` simulated bus whose
//! meters' values move on with time like real ones, deterministic from a seed.
//!
//! Before each read cycle every virtual meter's telegrams are rewritten for the cycle's time:
//! counters (energy, volume, mass, operating time, heat-cost units, …) grow at a steady
//! per-meter rate; instantaneous values (power, flow, temperatures, pressure, voltage,
//! current) swing around their base value with a daily rhythm and a little seeded noise. The
//! values are a pure function of the time, so a restarted simulation carries on where it was.
//! Historic values (storage number > 0), dates, texts and reals stay as the template has them.

use crate::bus::MeterBus;
use chrono::{DateTime, TimeZone, Utc};
use mbus_link::sim::{
    templates, Population, SerialPattern, SimBus, SimConfig, SimRng, TelegramTemplate, VirtualMeter,
};
use mbus_link::{LinkError, Master, Received, Transport};
use mbus_proto::address::BaudRate;
use mbus_proto::app::decode_frame;
use mbus_proto::app::Telegram;
use mbus_proto::record::{ByteOrder, Record};
use mbus_proto::value::DataCoding;
use mbus_proto::vif::Quantity;

/// How a quantity behaves over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Counter,
    Swing,
    Fixed,
}

fn behaviour(q: Quantity) -> Behaviour {
    use Quantity::*;
    match q {
        Energy | Volume | Mass | OnTime | OperatingTime | HcaUnits | CumulationCounter
        | BatteryOperatingTime => Behaviour::Counter,
        Power
        | VolumeFlow
        | MassFlow
        | FlowTemperature
        | ReturnTemperature
        | TemperatureDifference
        | ExternalTemperature
        | Pressure
        | Voltage
        | Current => Behaviour::Swing,
        _ => Behaviour::Fixed,
    }
}

/// Start of the simulated installation's history: values are computed from the time since.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn unit_interval(z: u64) -> f64 {
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn read_field(data: &[u8], coding: DataCoding, order: ByteOrder) -> Option<i64> {
    let mut bytes = data.to_vec();
    if order == ByteOrder::MsbFirst {
        bytes.reverse();
    }
    match coding {
        DataCoding::Bcd(_) => {
            let mut v: i64 = 0;
            for b in bytes.iter().rev() {
                let (hi, lo) = (b >> 4, b & 0x0F);
                if hi > 9 || lo > 9 {
                    return None;
                }
                v = v
                    .checked_mul(100)?
                    .checked_add(i64::from(hi) * 10 + i64::from(lo))?;
            }
            Some(v)
        }
        DataCoding::Integer(n) if (1..=8).contains(&n) => {
            let mut v: i64 = 0;
            for (i, b) in bytes.iter().enumerate() {
                v |= i64::from(*b) << (8 * i);
            }
            let bits = 8 * u32::from(n);
            if bits < 64 && v & (1 << (bits - 1)) != 0 {
                v -= 1 << bits;
            }
            Some(v)
        }
        _ => None,
    }
}

fn write_field(data: &mut [u8], coding: DataCoding, order: ByteOrder, value: i64) {
    let n = data.len();
    match coding {
        DataCoding::Bcd(_) => {
            let modulus = 10i64.checked_pow(2 * n as u32).unwrap_or(i64::MAX);
            let mut rest = value.rem_euclid(modulus);
            for b in data.iter_mut() {
                let lo = (rest % 10) as u8;
                rest /= 10;
                let hi = (rest % 10) as u8;
                rest /= 10;
                *b = (hi << 4) | lo;
            }
        }
        DataCoding::Integer(_) => {
            for (i, b) in data.iter_mut().enumerate() {
                *b = (value >> (8 * i)) as u8;
            }
        }
        _ => return,
    }
    if order == ByteOrder::MsbFirst {
        data.reverse();
    }
}

fn field_max(coding: DataCoding, len: usize) -> i64 {
    match coding {
        DataCoding::Bcd(_) => 10i64
            .checked_pow(2 * len as u32)
            .map_or(i64::MAX, |m| m - 1),
        _ if len >= 8 => i64::MAX,
        _ => (1i64 << (8 * len - 1)) - 1,
    }
}

/// The telegram `frame` (a complete long frame) with its values moved on to time `at`, seeded
/// by `seed`; `None` if it is not a variable-data reply.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use logger_core::simulation::evolve;
/// let frame = mbus_link::sim::templates::synthetic(0);
/// let meter = mbus_link::sim::VirtualMeter::new(1, frame.header().unwrap(), frame);
/// let telegram = &meter.telegrams()[0];
/// let t = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
/// let now = evolve(telegram, 7, t).unwrap();
/// let later = evolve(telegram, 7, t + Duration::days(1)).unwrap();
/// assert_ne!(now, later);
/// assert_eq!(evolve(telegram, 7, t).unwrap(), now); // a pure function of the time
/// ```
pub fn evolve(frame: &[u8], seed: u64, at: DateTime<Utc>) -> Option<Vec<u8>> {
    let hours = (at - epoch()).num_seconds() as f64 / 3600.0;
    let day_phase = (at.timestamp().rem_euclid(86_400)) as f64 / 86_400.0 * std::f64::consts::TAU;
    let mut edits: Vec<(usize, usize, DataCoding, ByteOrder, i64)> = Vec::new();
    {
        let Telegram::Variable(vd) = decode_frame(frame).ok()? else {
            return None;
        };
        for (i, record) in vd.records().enumerate() {
            let Ok(Record::Data(r)) = record else { break };
            let info = r.value_info();
            if r.storage_number() != 0 || info.is_date_time() {
                continue;
            }
            let coding = r.coding();
            let Some(base) = read_field(r.data, coding, r.byte_order) else {
                continue;
            };
            let h = SimRng::hash(seed ^ SimRng::hash(i as u64 + 1));
            let value = match behaviour(info.quantity) {
                Behaviour::Fixed => continue,
                Behaviour::Counter => {
                    // 0.5 … 2 raw units per hour, more for large counters.
                    let rate = (0.5 + 1.5 * unit_interval(h))
                        * (base.unsigned_abs() as f64 / 20_000.0).max(1.0);
                    let grown = base as f64 + rate * hours.max(0.0);
                    grown.min(i64::MAX as f64) as i64
                }
                Behaviour::Swing => {
                    let phase = unit_interval(SimRng::hash(h)) * std::f64::consts::TAU;
                    let noise = unit_interval(SimRng::hash(h ^ at.timestamp() as u64)) - 0.5;
                    let amplitude = if base == 0 { 10.0 } else { base as f64 * 0.15 };
                    (base as f64 + amplitude * (day_phase + phase).sin() + amplitude * 0.1 * noise)
                        .round() as i64
                }
            };
            let start = (r.data.as_ptr() as usize).checked_sub(frame.as_ptr() as usize)?;
            let len = r.data.len();
            let max = field_max(coding, len);
            let value = if matches!(coding, DataCoding::Bcd(_)) {
                value.rem_euclid(max.saturating_add(1)).max(0)
            } else {
                value.clamp(-max, max)
            };
            edits.push((start, len, coding, r.byte_order, value));
        }
    }
    let mut out = frame.to_vec();
    for (start, len, coding, order, value) in edits {
        write_field(out.get_mut(start..start + len)?, coding, order, value);
    }
    let n = out.len();
    if n >= 6 {
        out[n - 2] = mbus_proto::frame::checksum(&out[4..n - 2]);
    }
    Some(out)
}

#[derive(Debug, Clone)]
struct Model {
    primary: u8,
    secondary: mbus_proto::address::SecondaryAddress,
    baud: BaudRate,
    delay: u32,
    name: String,
    telegrams: Vec<Vec<u8>>,
    seed: u64,
}

/// A simulated bus with `n` meters whose values move on with time.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use logger_core::bus::MeterBus;
/// use logger_core::simulation::SimInstallation;
/// let mut sim = SimInstallation::new(3, 42, mbus_proto::address::BaudRate::B2400, &[]);
/// sim.before_cycle(Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap());
/// let secondary = sim.secondaries()[0];
/// assert!(!sim.master().read_secondary(&secondary)?.is_empty());
/// # Ok::<(), mbus_link::LinkError>(())
/// ```
pub struct SimInstallation {
    master: Master<RealTime<SimBus>>,
    models: Vec<Model>,
}

impl std::fmt::Debug for SimInstallation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimInstallation")
            .field("meters", &self.models.len())
            .finish_non_exhaustive()
    }
}

impl SimInstallation {
    /// `n` meters talking at `baud` with primary addresses 1, 2, …, telegrams drawn from
    /// `templates` (the simulator's synthetic heat meters when empty), seeded by `seed`.
    pub fn new(
        n: usize,
        seed: u64,
        baud: BaudRate,
        templates: &[TelegramTemplate],
    ) -> SimInstallation {
        let templates: Vec<TelegramTemplate> = if templates.is_empty() {
            (0..6).map(templates::synthetic).collect()
        } else {
            templates.to_vec()
        };
        let meters = Population::new(n, SerialPattern::Clustered)
            .seed(seed)
            .delay_bits(11, 200)
            .bauds(&[baud])
            .build(&templates);
        let models = meters
            .iter()
            .enumerate()
            .map(|(i, m)| Model {
                primary: m.primary(),
                secondary: m.secondary(),
                baud: m.baud(),
                delay: m.response_delay(),
                name: m.template().name().to_string(),
                telegrams: m.telegrams(),
                seed: SimRng::hash(seed ^ SimRng::hash(0x5EED_0000 + i as u64)),
            })
            .collect();
        let config = SimConfig {
            seed,
            baud,
            ..SimConfig::default()
        };
        SimInstallation {
            master: Master::new(RealTime::new(SimBus::new(config, meters))),
            models,
        }
    }

    /// A demonstration installation of `n` meters of mixed media (heat meters, warm- and
    /// cold-water meters, electricity and gas meters, heat-cost allocators) from plausible
    /// manufacturers; see [`demo_templates`].
    pub fn demo(n: usize, seed: u64, baud: BaudRate) -> SimInstallation {
        SimInstallation::new(n, seed, baud, &demo_templates())
    }

    /// Makes bus operations take as long in real time as they take on the simulated bus (the
    /// reading thread sleeps the bus time off), so scans and read cycles last as on copper.
    /// Without it the simulated bus runs as fast as the CPU allows.
    pub fn in_real_time(mut self) -> SimInstallation {
        self.master.transport_mut().enabled = true;
        self
    }

    /// The meters' secondary addresses, in bus order.
    pub fn secondaries(&self) -> Vec<mbus_proto::address::SecondaryAddress> {
        self.models.iter().map(|m| m.secondary).collect()
    }
}

impl MeterBus for SimInstallation {
    type Transport = RealTime<SimBus>;

    fn master(&mut self) -> &mut Master<RealTime<SimBus>> {
        &mut self.master
    }

    fn before_cycle(&mut self, at: DateTime<Utc>) {
        let bus = &mut self.master.transport_mut().inner;
        let fresh: Vec<VirtualMeter> = self
            .models
            .iter()
            .map(|m| {
                let frames: Vec<Vec<u8>> = m
                    .telegrams
                    .iter()
                    .map(|f| evolve(f, m.seed, at).unwrap_or_else(|| f.clone()))
                    .collect();
                let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
                let template = TelegramTemplate::from_frames(&m.name, &refs)
                    .unwrap_or_else(|_| templates::synthetic(0));
                VirtualMeter::new(m.primary, m.secondary, template)
                    .with_baud(m.baud)
                    .with_response_delay(m.delay)
            })
            .collect();
        *bus.meters_mut() = fresh;
    }
}

/// One RSP_UD long frame from a meter of `manufacturer` and `medium` with these data
/// records (DIF, VIF, data …); the ident number is a placeholder the population rewrites.
fn demo_frame(manufacturer: &[u8; 3], version: u8, medium: u8, records: &[u8]) -> Vec<u8> {
    let man = mbus_proto::address::manufacturer_code(manufacturer).unwrap_or(0);
    let mut body = vec![0x08, 0x01, 0x72, 0x01, 0x00, 0x00, 0x00];
    body.extend_from_slice(&man.to_le_bytes());
    body.extend_from_slice(&[version, medium, 0x01, 0x00, 0x00, 0x00]);
    body.extend_from_slice(records);
    let len = body.len() as u8;
    let mut frame = vec![0x68, len, len, 0x68];
    frame.extend_from_slice(&body);
    frame.push(mbus_proto::frame::checksum(&body));
    frame.push(0x16);
    frame
}

/// A demonstration meter model: name, manufacturer, version, medium, data records.
type DemoModel<'a> = (&'a str, &'a [u8; 3], u8, u8, &'a [u8]);

/// The telegrams of the demonstration installation, one per meter model: a Kamstrup heat
/// meter (energy, volume, power, flow, flow and return temperature, last month's energy),
/// Zenner warm-water and Sensus cold-water meters (volume, flow), an ABB electricity meter
/// (energy, power), an Elster gas meter (volume) and a Qundis heat-cost allocator (units).
/// Counters grow and instantaneous values swing as [`evolve`] describes; the heat meter is
/// listed twice so that heat is the largest group, as in most buildings.
pub fn demo_templates() -> Vec<TelegramTemplate> {
    let le = |v: u32| v.to_le_bytes();
    let le16 = |v: u16| v.to_le_bytes();
    let mut heat = vec![0x04, 0x06];
    heat.extend_from_slice(&le(12_345)); // energy, kWh
    heat.extend_from_slice(&[0x04, 0x13]);
    heat.extend_from_slice(&le(456_789)); // volume, l
    heat.extend_from_slice(&[0x02, 0x2B]);
    heat.extend_from_slice(&le16(2_500)); // power, W
    heat.extend_from_slice(&[0x02, 0x3B]);
    heat.extend_from_slice(&le16(450)); // flow, l/h
    heat.extend_from_slice(&[0x02, 0x5A]);
    heat.extend_from_slice(&le16(650)); // flow temperature, 0.1 °C
    heat.extend_from_slice(&[0x02, 0x5E]);
    heat.extend_from_slice(&le16(420)); // return temperature, 0.1 °C
    heat.extend_from_slice(&[0x44, 0x06]);
    heat.extend_from_slice(&le(11_800)); // energy at the last due date, kWh
    let mut warm = vec![0x04, 0x13];
    warm.extend_from_slice(&le(123_456));
    warm.extend_from_slice(&[0x02, 0x3B]);
    warm.extend_from_slice(&le16(120));
    let mut cold = vec![0x04, 0x13];
    cold.extend_from_slice(&le(234_567));
    cold.extend_from_slice(&[0x02, 0x3B]);
    cold.extend_from_slice(&le16(300));
    let mut electricity = vec![0x04, 0x04];
    electricity.extend_from_slice(&le(1_234_567)); // energy, 10 Wh
    electricity.extend_from_slice(&[0x04, 0x2B]);
    electricity.extend_from_slice(&le(1_500)); // power, W
    let mut gas = vec![0x04, 0x14];
    gas.extend_from_slice(&le(345_678)); // volume, 0.01 m³
    let mut hca = vec![0x04, 0x6E];
    hca.extend_from_slice(&le(1_234)); // heat-cost allocation units
    let models: [DemoModel; 7] = [
        ("heat", b"KAM", 0x0A, 0x04, &heat),
        ("heat", b"KAM", 0x0A, 0x04, &heat),
        ("warm-water", b"ZRI", 0x01, 0x06, &warm),
        ("cold-water", b"SEN", 0x07, 0x07, &cold),
        ("electricity", b"ABB", 0x02, 0x02, &electricity),
        ("gas", b"ELS", 0x03, 0x03, &gas),
        ("heat-cost-allocator", b"QDS", 0x35, 0x08, &hca),
    ];
    models
        .iter()
        .filter_map(|(name, man, version, medium, records)| {
            let frame = demo_frame(man, *version, *medium, records);
            TelegramTemplate::from_frames(name, &[&frame]).ok()
        })
        .collect()
}

/// A transport that, when enabled, lets real time keep pace with its clock: after every
/// operation the calling thread sleeps until as much real time has passed as bus time since
/// the last moment both agreed (time spent idle between operations is not made up for).
#[derive(Debug)]
pub struct RealTime<T> {
    inner: T,
    enabled: bool,
    /// (real instant, bus time) at which both clocks were last aligned.
    anchor: Option<(std::time::Instant, std::time::Duration)>,
}

impl<T: Transport> RealTime<T> {
    /// Wraps `inner`, pacing off.
    pub fn new(inner: T) -> RealTime<T> {
        RealTime {
            inner,
            enabled: false,
            anchor: None,
        }
    }

    /// Before an operation: aligns both clocks again if real time ran ahead (the bus was
    /// idle), so idle time is not made up for.
    fn begin(&mut self) {
        if !self.enabled {
            return;
        }
        let bus = self.inner.now();
        let real = std::time::Instant::now();
        let behind = match self.anchor {
            Some((real0, bus0)) => real0 + bus.saturating_sub(bus0) < real,
            None => true,
        };
        if behind {
            self.anchor = Some((real, bus));
        }
    }

    /// After an operation: sleeps until real time has caught up with the bus time.
    fn pace(&mut self) {
        let Some((real0, bus0)) = self.anchor.filter(|_| self.enabled) else {
            return;
        };
        let target = real0 + self.inner.now().saturating_sub(bus0);
        let real = std::time::Instant::now();
        if target > real {
            std::thread::sleep(target - real);
        }
    }
}

/// The wrapped transport, for what only it offers (the simulated bus's meters and faults).
impl<T> std::ops::Deref for RealTime<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> std::ops::DerefMut for RealTime<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: Transport> Transport for RealTime<T> {
    fn now(&self) -> std::time::Duration {
        self.inner.now()
    }
    fn latency(&self) -> std::time::Duration {
        self.inner.latency()
    }
    fn baud(&self) -> BaudRate {
        self.inner.baud()
    }
    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        self.inner.set_baud(baud)
    }
    fn clear_input(&mut self) -> Result<(), LinkError> {
        self.inner.clear_input()
    }
    fn send(&mut self, bytes: &[u8]) -> Result<std::time::Duration, LinkError> {
        self.begin();
        let result = self.inner.send(bytes);
        self.pace();
        result
    }
    fn receive(
        &mut self,
        buf: &mut [u8],
        deadline: std::time::Duration,
    ) -> Result<Received, LinkError> {
        self.begin();
        let result = self.inner.receive(buf, deadline);
        self.pace();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readout::MeterData;
    use chrono::Duration;

    fn synthetic_frame() -> Vec<u8> {
        let t = templates::synthetic(2);
        VirtualMeter::new(3, t.header().unwrap(), t)
            .telegrams()
            .remove(0)
    }

    #[test]
    fn counters_grow_and_swinging_values_stay_near_base() {
        let frame = synthetic_frame();
        let base = MeterData::decode(&[&frame]).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut last_energy = None;
        for h in 0..48 {
            let f = evolve(&frame, 11, t + Duration::hours(h)).unwrap();
            let d = MeterData::decode(&[&f]).unwrap();
            assert_eq!(d.records.len(), base.records.len());
            let energy = d.records[0].value.unwrap().to_f64();
            if let Some(prev) = last_energy {
                assert!(energy >= prev, "energy must not fall");
            }
            last_energy = Some(energy);
            let flow_t = d.records[4].value.unwrap().to_f64();
            let base_t = base.records[4].value.unwrap().to_f64();
            assert!(
                (flow_t - base_t).abs() <= base_t * 0.2,
                "{flow_t} vs {base_t}"
            );
        }
        let first = MeterData::decode(&[evolve(&frame, 11, t).unwrap()]).unwrap();
        assert!(last_energy.unwrap() > first.records[0].value.unwrap().to_f64());
    }

    #[test]
    fn in_real_time_a_read_lasts_at_least_its_bus_time() {
        // Pacing is about wall time, so this test measures it: only from below, which a busy
        // machine cannot make fail.
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let mut fast = SimInstallation::demo(1, 2, BaudRate::B2400);
        fast.before_cycle(at);
        let secondary = fast.secondaries()[0];
        let t0 = fast.bus_time();
        fast.master().read_secondary(&secondary).unwrap();
        let bus = fast.bus_time() - t0;
        assert!(bus > std::time::Duration::from_millis(100), "{bus:?}");

        let mut paced = SimInstallation::demo(1, 2, BaudRate::B2400).in_real_time();
        paced.before_cycle(at);
        let started = std::time::Instant::now();
        paced.master().read_secondary(&secondary).unwrap();
        assert!(
            started.elapsed() >= bus * 9 / 10,
            "{:?} < {bus:?}",
            started.elapsed()
        );
    }

    #[test]
    fn the_demonstration_mixes_media_and_every_model_decodes_and_grows() {
        let templates = demo_templates();
        assert_eq!(templates.len(), 7);
        let sim = SimInstallation::demo(40, 3, BaudRate::B2400);
        let media: std::collections::BTreeSet<u8> =
            sim.secondaries().iter().map(|s| s.medium).collect();
        assert_eq!(
            media.into_iter().collect::<Vec<_>>(),
            vec![0x02, 0x03, 0x04, 0x06, 0x07, 0x08]
        );
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        for template in &templates {
            let header = template.header().unwrap();
            let frame = VirtualMeter::new(1, header, template.clone())
                .telegrams()
                .remove(0);
            let now = MeterData::decode(&[evolve(&frame, 1, t).unwrap()]).unwrap();
            let later =
                MeterData::decode(&[evolve(&frame, 1, t + Duration::days(7)).unwrap()]).unwrap();
            let first = |d: &MeterData| d.records[0].value.unwrap().to_f64();
            assert!(first(&later) > first(&now), "{}", template.name());
        }
    }

    #[test]
    fn corpus_telegrams_keep_decoding_after_evolution() {
        let dir = crate::test_corpus::frames_dir();
        let Ok(list) = mbus_link::sim::templates::load_dir(&dir) else {
            return;
        };
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        let mut evolved = 0;
        for template in list {
            let Some(header) = template.header() else {
                continue;
            };
            for frame in VirtualMeter::new(1, header, template).telegrams() {
                let Ok(before) = MeterData::decode(&[&frame]) else {
                    continue;
                };
                if let Some(after) = evolve(&frame, 5, t) {
                    let after = MeterData::decode(&[&after]).unwrap();
                    assert_eq!(after.records.len(), before.records.len());
                    evolved += 1;
                }
            }
        }
        assert!(evolved > 20, "{evolved}");
    }
}
