//! Linux backends: the GPIO character device (`gpiocdev`) for S0 inputs, relays, LEDs and
//! buttons, and IIO (sysfs) for the PT1000 ADC.
//!
//! S0 lines are requested with rising-edge detection and the kernel's debounce; a thread takes
//! their edge events (kernel time stamps) into a [`Debouncer`] per input, which also spots
//! bounce storms. Outputs are requested once and switched by value. A temperature input reads
//! `<device>/<channel>_raw` and multiplies it by the configured scale or the channel's
//! `<channel>_scale` file, giving ohms.
//!
//! Every failure to open a chip, line, device or channel is a [`HardwareError`] naming it.

use super::config::{ButtonPins, LedPins, Pt1000Channel, RelayPin, S0Pin};
use super::s0::Debouncer;
use super::{
    Button, ButtonEdge, ButtonInput, HardwareError, Leds, PulseCounter, RelayOutput,
    StateIndicator, TemperatureInput,
};
use gpiocdev::line::{EdgeDetection, EdgeKind, EventClock, Value};
use gpiocdev::Request;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The consumer name the lines are requested under (shown by `gpioinfo`).
const CONSUMER: &str = "mbus-center";
/// How often the S0 thread looks for edge events and its stop flag.
const S0_POLL: Duration = Duration::from_millis(10);

fn line_error(chip: &Path, line: u32, what: &str, e: gpiocdev::Error) -> HardwareError {
    match e {
        gpiocdev::Error::GpioChip(path, kind) => HardwareError::GpioChip {
            chip: path,
            reason: kind.to_string(),
        },
        other => HardwareError::GpioLine {
            chip: chip.to_path_buf(),
            line,
            what: what.to_string(),
            reason: other.to_string(),
        },
    }
}

/// How an input line is requested.
struct InputLine<'a> {
    line: u32,
    what: &'a str,
    edges: EdgeDetection,
    debounce: Option<Duration>,
    active_low: bool,
    clock: EventClock,
}

fn request_input(chip: &Path, input: InputLine<'_>) -> Result<Request, HardwareError> {
    let InputLine {
        line,
        what,
        edges,
        debounce,
        active_low,
        clock,
    } = input;
    let mut builder = Request::builder();
    builder
        .on_chip(chip)
        .with_consumer(CONSUMER)
        .with_line(line)
        .as_input()
        .with_edge_detection(edges)
        .with_event_clock(clock);
    if let Some(period) = debounce {
        builder.with_debounce_period(period);
    }
    if active_low {
        builder.as_active_low();
    }
    builder
        .request()
        .map_err(|e| line_error(chip, line, what, e))
}

fn request_output(
    chip: &Path,
    line: u32,
    what: &str,
    active_low: bool,
) -> Result<Request, HardwareError> {
    let mut builder = Request::builder();
    builder
        .on_chip(chip)
        .with_consumer(CONSUMER)
        .with_line(line)
        .as_output(Value::Inactive);
    if active_low {
        builder.as_active_low();
    }
    builder
        .request()
        .map_err(|e| line_error(chip, line, what, e))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// S0 inputs on GPIO lines.
pub struct GpioPulses {
    inputs: Arc<Vec<Mutex<Debouncer>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl GpioPulses {
    /// Requests the S0 lines on `chip` and starts counting.
    pub fn open(chip: &Path, pins: &[S0Pin]) -> Result<GpioPulses, HardwareError> {
        let mut requests = Vec::new();
        for (i, pin) in pins.iter().enumerate() {
            let debounce = Duration::from_millis(u64::from(pin.debounce_ms));
            let what = format!("S0 input {}", i + 1);
            requests.push(request_input(
                chip,
                InputLine {
                    line: pin.line,
                    what: &what,
                    edges: EdgeDetection::RisingEdge,
                    debounce: Some(debounce),
                    active_low: false,
                    clock: EventClock::Monotonic,
                },
            )?);
        }
        let inputs: Arc<Vec<Mutex<Debouncer>>> = Arc::new(
            pins.iter()
                .map(|p| {
                    Mutex::new(Debouncer::new(Duration::from_millis(u64::from(
                        p.debounce_ms,
                    ))))
                })
                .collect(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (inputs, stop) = (Arc::clone(&inputs), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("s0-inputs".into())
                .spawn(move || count_edges(&requests, &inputs, &stop))
                .map_err(|e| HardwareError::GpioChip {
                    chip: chip.to_path_buf(),
                    reason: format!("cannot start the S0 thread: {e}"),
                })?
        };
        Ok(GpioPulses {
            inputs,
            stop,
            thread: Some(thread),
        })
    }
}

fn count_edges(requests: &[Request], inputs: &[Mutex<Debouncer>], stop: &AtomicBool) {
    let start = std::time::Instant::now();
    while !stop.load(Ordering::SeqCst) {
        for (request, input) in requests.iter().zip(inputs) {
            while let Ok(true) = request.has_edge_event() {
                match request.read_edge_event() {
                    Ok(event) => {
                        lock(input).edge(Duration::from_nanos(event.timestamp_ns));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "S0 edge event unreadable");
                        break;
                    }
                }
            }
        }
        // Kernel time stamps are CLOCK_MONOTONIC, which the process's monotonic clock follows
        // closely enough to end a bounce storm after a calm second.
        let now =
            Duration::from_nanos(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        for input in inputs {
            let mut d = lock(input);
            if d.in_storm() {
                d.calm_down(now);
            }
        }
        std::thread::sleep(S0_POLL);
    }
}

impl Drop for GpioPulses {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the S0 thread panicked");
            }
        }
    }
}

impl PulseCounter for GpioPulses {
    fn inputs(&self) -> usize {
        self.inputs.len()
    }

    fn pulses(&mut self, input: usize) -> Result<u64, HardwareError> {
        self.inputs
            .get(input)
            .map(|d| lock(d).pulses())
            .ok_or(HardwareError::NotConfigured {
                what: "S0 input",
                index: input + 1,
            })
    }

    fn storm(&mut self, input: usize) -> Option<u64> {
        let d = lock(self.inputs.get(input)?);
        d.in_storm().then(|| d.bounced())
    }
}

/// Relays and state LEDs on GPIO lines.
pub struct GpioOutputs {
    relays: Vec<(u32, Request)>,
    reading: Option<(u32, Request)>,
    scan: Option<(u32, Request)>,
}

impl GpioOutputs {
    /// Requests the relay and LED lines on `chip`, all off.
    pub fn open(
        chip: &Path,
        relays: &[RelayPin],
        leds: &LedPins,
    ) -> Result<GpioOutputs, HardwareError> {
        let relays = relays
            .iter()
            .enumerate()
            .map(|(i, r)| {
                request_output(chip, r.line, &format!("relay {}", i + 1), r.active_low)
                    .map(|req| (r.line, req))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let led = |line: Option<u32>, what: &str| {
            line.map(|l| request_output(chip, l, what, false).map(|req| (l, req)))
                .transpose()
        };
        Ok(GpioOutputs {
            relays,
            reading: led(leds.reading, "Reading LED")?,
            scan: led(leds.scan, "Scan LED")?,
        })
    }
}

fn set(output: &(u32, Request), on: bool) -> Result<(), HardwareError> {
    let value = if on { Value::Active } else { Value::Inactive };
    output
        .1
        .set_value(output.0, value)
        .map_err(|e| HardwareError::GpioLine {
            chip: PathBuf::new(),
            line: output.0,
            what: "output".into(),
            reason: e.to_string(),
        })
}

impl RelayOutput for GpioOutputs {
    fn relays(&self) -> usize {
        self.relays.len()
    }

    fn set_relay(&mut self, relay: usize, on: bool) -> Result<(), HardwareError> {
        let output = self.relays.get(relay).ok_or(HardwareError::NotConfigured {
            what: "relay",
            index: relay + 1,
        })?;
        set(output, on)
    }
}

impl StateIndicator for GpioOutputs {
    fn show(&mut self, leds: Leds) -> Result<(), HardwareError> {
        if let Some(o) = &self.reading {
            set(o, leds.reading)?;
        }
        if let Some(o) = &self.scan {
            set(o, leds.scan)?;
        }
        Ok(())
    }
}

/// The front buttons on GPIO lines.
pub struct GpioButtons {
    lines: Vec<(Button, Request)>,
}

impl GpioButtons {
    /// Requests the button lines on `chip` with edge detection on both edges.
    pub fn open(chip: &Path, pins: &ButtonPins) -> Result<GpioButtons, HardwareError> {
        let mut lines = Vec::new();
        for (button, line, what) in [
            (Button::Red, pins.red, "red button"),
            (Button::Blue, pins.blue, "blue button"),
        ] {
            if let Some(line) = line {
                let req = request_input(
                    chip,
                    InputLine {
                        line,
                        what,
                        edges: EdgeDetection::BothEdges,
                        debounce: Some(Duration::from_millis(30)),
                        active_low: pins.active_low,
                        clock: EventClock::Realtime,
                    },
                )?;
                lines.push((button, req));
            }
        }
        Ok(GpioButtons { lines })
    }
}

impl ButtonInput for GpioButtons {
    fn edges(&mut self) -> Result<Vec<ButtonEdge>, HardwareError> {
        let mut edges = Vec::new();
        for (button, request) in &self.lines {
            while let Ok(true) = request.has_edge_event() {
                let Ok(event) = request.read_edge_event() else {
                    break;
                };
                edges.push(ButtonEdge {
                    button: *button,
                    pressed: event.kind == EdgeKind::Rising,
                    at: Duration::from_nanos(event.timestamp_ns),
                });
            }
        }
        edges.sort_by_key(|e| e.at);
        Ok(edges)
    }

    /// Button edges are stamped with the real-time clock: time since the Unix epoch.
    fn now(&self) -> Duration {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// Where IIO devices appear.
pub const IIO_ROOT: &str = "/sys/bus/iio/devices";

/// PT1000 inputs on IIO ADC channels.
pub struct IioTemperatures {
    channels: Vec<(PathBuf, Pt1000Channel)>,
}

impl IioTemperatures {
    /// The channels under [`IIO_ROOT`]; each device directory must exist.
    pub fn open(channels: &[Pt1000Channel]) -> Result<IioTemperatures, HardwareError> {
        IioTemperatures::open_in(Path::new(IIO_ROOT), channels)
    }

    /// The channels under `root` (a copy of the sysfs layout in tests).
    pub fn open_in(
        root: &Path,
        channels: &[Pt1000Channel],
    ) -> Result<IioTemperatures, HardwareError> {
        let channels = channels
            .iter()
            .map(|c| {
                let dir = root.join(&c.device);
                if dir.is_dir() {
                    Ok((dir, c.clone()))
                } else {
                    Err(HardwareError::IioDevice {
                        device: dir,
                        reason: "no such device (driver not loaded, or a different number)".into(),
                    })
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IioTemperatures { channels })
    }
}

fn read_number(dir: &Path, channel: &str, file: &str) -> Result<Option<f64>, HardwareError> {
    let path = dir.join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(HardwareError::IioChannel {
                device: dir.to_path_buf(),
                channel: channel.into(),
                reason: format!("{file}: {e}"),
            })
        }
    };
    text.trim()
        .parse::<f64>()
        .map(Some)
        .map_err(|_| HardwareError::IioChannel {
            device: dir.to_path_buf(),
            channel: channel.into(),
            reason: format!("{file} holds {:?}, not a number", text.trim()),
        })
}

impl TemperatureInput for IioTemperatures {
    fn inputs(&self) -> usize {
        self.channels.len()
    }

    fn resistance(&mut self, input: usize) -> Result<f64, HardwareError> {
        let (dir, ch) = self
            .channels
            .get(input)
            .ok_or(HardwareError::NotConfigured {
                what: "temperature input",
                index: input + 1,
            })?;
        let raw =
            read_number(dir, &ch.channel, &format!("{}_raw", ch.channel))?.ok_or_else(|| {
                HardwareError::IioChannel {
                    device: dir.clone(),
                    channel: ch.channel.clone(),
                    reason: "no such channel".into(),
                }
            })?;
        let scale = match ch.scale {
            Some(s) => s,
            None => read_number(dir, &ch.channel, &format!("{}_scale", ch.channel))?.unwrap_or(1.0),
        };
        Ok(raw * scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_gpio_chip_is_an_error_naming_it() {
        let pins = [S0Pin {
            line: 3,
            debounce_ms: 20,
        }];
        let chip = Path::new("/dev/gpiochip-that-does-not-exist");
        let err = GpioPulses::open(chip, &pins).err().unwrap();
        assert!(
            matches!(&err, HardwareError::GpioChip { chip: c, .. } if c == chip)
                || matches!(&err, HardwareError::GpioLine { line: 3, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("gpiochip-that-does-not-exist"),
            "{err}"
        );
        assert!(GpioOutputs::open(
            chip,
            &[],
            &LedPins {
                reading: Some(1),
                scan: None
            }
        )
        .is_err());
    }

    #[test]
    fn iio_channels_give_ohms_and_missing_pieces_are_named() {
        let root = tempfile::tempdir().unwrap();
        let dev = root.path().join("iio:device0");
        std::fs::create_dir(&dev).unwrap();
        std::fs::write(dev.join("in_resistance0_raw"), "138506\n").unwrap();
        std::fs::write(dev.join("in_resistance0_scale"), "0.01\n").unwrap();
        std::fs::write(dev.join("in_resistance1_raw"), "1000\n").unwrap();
        std::fs::write(dev.join("in_voltage2_raw"), "garbage").unwrap();
        let ch = |channel: &str, scale| Pt1000Channel {
            device: "iio:device0".into(),
            channel: channel.into(),
            scale,
        };
        let mut t = IioTemperatures::open_in(
            root.path(),
            &[
                ch("in_resistance0", None),
                ch("in_resistance1", None),
                ch("in_voltage2", None),
                ch("in_resistance9", Some(2.0)),
            ],
        )
        .unwrap();
        assert!((t.temperature(0).unwrap() - 100.0).abs() < 0.01);
        assert!(t.temperature(1).unwrap().abs() < 1e-9, "no scale file: 1");
        assert!(t
            .resistance(2)
            .unwrap_err()
            .to_string()
            .contains("not a number"));
        assert!(t
            .resistance(3)
            .unwrap_err()
            .to_string()
            .contains("no such channel"));
        let missing = IioTemperatures::open_in(
            root.path(),
            &[Pt1000Channel {
                device: "iio:device7".into(),
                channel: "in_resistance0".into(),
                scale: None,
            }],
        )
        .err()
        .unwrap();
        assert!(missing.to_string().contains("iio:device7"), "{missing}");
    }
}
