//! Running the appliance's inputs and outputs beside the engine.
//!
//! [`open`] builds the backends the `io` section names; whatever cannot be opened (a missing
//! GPIO chip, an unknown line, a missing IIO device) is reported and replaced by a stand-in
//! that fails with that reason, so the input meters show it as their read error and the
//! logger keeps working. [`IoService::poll`] is one step of the outputs: the relays follow the
//! faults (both edges logged), the front buttons' gestures come back as actions, and the
//! display and LEDs show the logger state. [`start`] wires it all to a logger and runs the
//! service in its own thread.

use super::config::{IoBackend, IoConfig};
use super::inputs::{add_input_meters, HardwareInputs, InputValue, SharedInputs};
use super::relays::{Faults, RelayLogic};
use super::sim::{SimButtons, SimOutputs, SimPulses, SimSensor, SimTemperatures};
use super::{
    leds, ButtonAction, ButtonEdge, ButtonInput, ButtonMachine, HardwareError, Leds, PulseCounter,
    RelayOutput, StateIndicator, TemperatureInput,
};
use crate::bus::MeterBus;
use crate::clock::Clock;
use crate::engine::{Logger, LoggerError, ScanKind};
use crate::events::{EventCode, EventNotice};
use crate::service::ServiceHandle;
use crate::status::{LoggerState, ReadStatus, StatusBoard};
use mbus_proto::address::BaudRate;
use mbus_scan::SecondaryOptions;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// Name of the I/O status file in the data directory (written by the service, read by
/// `mbusctl io`).
pub const IO_STATUS_FILE: &str = "io.json";

/// How often the service runs a step.
const STEP: Duration = Duration::from_millis(100);
/// How often (in steps) it reloads the meters' status (for the unreadable-meter fault) and the
/// inputs' live values.
const STATUS_EVERY: u32 = 10;

/// A backend that could not be opened: every use fails with the reason.
struct Absent {
    inputs: usize,
    reason: HardwareError,
}

impl PulseCounter for Absent {
    fn inputs(&self) -> usize {
        self.inputs
    }
    fn pulses(&mut self, _input: usize) -> Result<u64, HardwareError> {
        Err(self.reason.clone())
    }
}

impl TemperatureInput for Absent {
    fn inputs(&self) -> usize {
        self.inputs
    }
    fn resistance(&mut self, _input: usize) -> Result<f64, HardwareError> {
        Err(self.reason.clone())
    }
}

impl RelayOutput for Absent {
    fn relays(&self) -> usize {
        self.inputs
    }
    fn set_relay(&mut self, _relay: usize, _on: bool) -> Result<(), HardwareError> {
        Err(self.reason.clone())
    }
}

/// No buttons, no display: nothing to do.
struct Nothing;

impl ButtonInput for Nothing {
    fn edges(&mut self) -> Result<Vec<ButtonEdge>, HardwareError> {
        Ok(Vec::new())
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl StateIndicator for Nothing {
    fn show(&mut self, _leds: Leds) -> Result<(), HardwareError> {
        Ok(())
    }
}

/// The backends of an `io` section.
pub struct Opened {
    /// S0 inputs.
    pub pulses: Box<dyn PulseCounter>,
    /// PT1000 inputs.
    pub temperatures: Box<dyn TemperatureInput>,
    /// Fault relays.
    pub relays: Box<dyn RelayOutput>,
    /// Front buttons.
    pub buttons: Box<dyn ButtonInput>,
    /// Display and LEDs.
    pub indicator: Box<dyn StateIndicator>,
    /// What could not be opened (each replaced by a stand-in failing with the reason).
    pub problems: Vec<HardwareError>,
}

fn absent(inputs: usize, reason: &HardwareError) -> Box<Absent> {
    Box::new(Absent {
        inputs,
        reason: reason.clone(),
    })
}

/// Opens the backends of `config`, on `clock` for the simulated ones.
pub fn open(config: &IoConfig, clock: Arc<dyn Clock>) -> Opened {
    match config.backend {
        IoBackend::None => Opened {
            pulses: absent(
                0,
                &HardwareError::NotConfigured {
                    what: "S0 input",
                    index: 1,
                },
            ),
            temperatures: absent(
                0,
                &HardwareError::NotConfigured {
                    what: "temperature input",
                    index: 1,
                },
            ),
            relays: absent(
                0,
                &HardwareError::NotConfigured {
                    what: "relay",
                    index: 1,
                },
            ),
            buttons: Box::new(Nothing),
            indicator: Box::new(Nothing),
            problems: Vec::new(),
        },
        IoBackend::Simulated => {
            let s0 = if config.s0.is_empty() {
                4
            } else {
                config.s0.len()
            };
            let pt = if config.pt1000.is_empty() {
                2
            } else {
                config.pt1000.len()
            };
            let relays = if config.relays.is_empty() {
                2
            } else {
                config.relays.len()
            };
            let rates = [1000.0, 250.0, 60.0, 0.0];
            let sensors = [
                SimSensor::Curve {
                    base: 21.0,
                    swing: 2.0,
                },
                SimSensor::Curve {
                    base: 55.0,
                    swing: 8.0,
                },
            ];
            let outputs = SimOutputs::new(relays);
            Opened {
                pulses: Box::new(SimPulses::new(clock.clone(), rates[..s0].to_vec())),
                temperatures: Box::new(SimTemperatures::new(clock.clone(), sensors[..pt].to_vec())),
                relays: Box::new(outputs.clone()),
                buttons: Box::new(SimButtons::new(clock, Vec::new())),
                indicator: Box::new(outputs),
                problems: Vec::new(),
            }
        }
        IoBackend::Linux => open_linux(config),
    }
}

#[cfg(target_os = "linux")]
fn open_linux(config: &IoConfig) -> Opened {
    use super::linux::{GpioButtons, GpioOutputs, GpioPulses, IioTemperatures};
    let chip = Path::new(&config.gpio_chip);
    let mut problems = Vec::new();
    let mut note = |e: HardwareError| {
        tracing::error!("{e}");
        problems.push(e.clone());
        e
    };
    let pulses: Box<dyn PulseCounter> = match GpioPulses::open(chip, &config.s0) {
        Ok(p) => Box::new(p),
        Err(e) => absent(config.s0.len(), &note(e)),
    };
    let temperatures: Box<dyn TemperatureInput> = match IioTemperatures::open(&config.pt1000) {
        Ok(t) => Box::new(t),
        Err(e) => absent(config.pt1000.len(), &note(e)),
    };
    let (relays, indicator): (Box<dyn RelayOutput>, Box<dyn StateIndicator>) =
        match GpioOutputs::open(chip, &config.relays, &config.leds) {
            Ok(o) => {
                // One request serves both roles: relays and LEDs share the chip's outputs.
                let shared = std::sync::Arc::new(std::sync::Mutex::new(o));
                (Box::new(Shared(shared.clone())), Box::new(Shared(shared)))
            }
            Err(e) => (absent(config.relays.len(), &note(e)), Box::new(Nothing)),
        };
    let buttons: Box<dyn ButtonInput> = match GpioButtons::open(chip, &config.buttons) {
        Ok(b) => Box::new(b),
        Err(e) => {
            note(e);
            Box::new(Nothing)
        }
    };
    Opened {
        pulses,
        temperatures,
        relays,
        buttons,
        indicator,
        problems,
    }
}

#[cfg(not(target_os = "linux"))]
fn open_linux(config: &IoConfig) -> Opened {
    let reason = HardwareError::GpioChip {
        chip: PathBuf::from(&config.gpio_chip),
        reason: "GPIO and IIO backends exist on Linux only".into(),
    };
    Opened {
        pulses: absent(config.s0.len(), &reason),
        temperatures: absent(config.pt1000.len(), &reason),
        relays: absent(config.relays.len(), &reason),
        buttons: Box::new(Nothing),
        indicator: Box::new(Nothing),
        problems: vec![reason],
    }
}

/// The Linux outputs used as relays and as LEDs at once.
#[cfg(target_os = "linux")]
struct Shared(std::sync::Arc<std::sync::Mutex<super::linux::GpioOutputs>>);

#[cfg(target_os = "linux")]
impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, super::linux::GpioOutputs> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(target_os = "linux")]
impl RelayOutput for Shared {
    fn relays(&self) -> usize {
        self.lock().relays()
    }
    fn set_relay(&mut self, relay: usize, on: bool) -> Result<(), HardwareError> {
        self.lock().set_relay(relay, on)
    }
}

#[cfg(target_os = "linux")]
impl StateIndicator for Shared {
    fn show(&mut self, leds: Leds) -> Result<(), HardwareError> {
        self.lock().show(leds)
    }
}

/// What the outputs show now (written to [`IO_STATUS_FILE`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IoSnapshot {
    /// The backend in use.
    pub backend: String,
    /// The display and LEDs.
    pub leds: Option<Leds>,
    /// The relays (on = switched by a fault).
    pub relays: Vec<bool>,
    /// The last button gesture recognised.
    pub last_action: Option<ButtonAction>,
    /// What could not be opened or switched.
    pub problems: Vec<String>,
    /// Live S0 pulse totals.
    pub s0: Vec<InputValue>,
    /// Live temperatures, °C.
    pub temperatures: Vec<InputValue>,
}

/// The outputs (and the buttons) the service drives.
pub struct Outputs {
    /// Fault relays.
    pub relays: Box<dyn RelayOutput>,
    /// Front buttons.
    pub buttons: Box<dyn ButtonInput>,
    /// Display and LEDs.
    pub indicator: Box<dyn StateIndicator>,
}

/// The outputs' logic: relays, buttons, display.
pub struct IoService {
    relays: Box<dyn RelayOutput>,
    buttons: Box<dyn ButtonInput>,
    indicator: Box<dyn StateIndicator>,
    logic: RelayLogic,
    machine: ButtonMachine,
    events: mpsc::Sender<EventNotice>,
    clock: Arc<dyn Clock>,
    snapshot: IoSnapshot,
}

impl IoService {
    /// The service over `outputs` (the inputs go to the engine); relay rules from `config`;
    /// events, including the `problems` met opening the backends, go to `events`.
    pub fn new(
        config: &IoConfig,
        outputs: Outputs,
        problems: &[HardwareError],
        clock: Arc<dyn Clock>,
        events: mpsc::Sender<EventNotice>,
    ) -> IoService {
        let Outputs {
            relays,
            buttons,
            indicator,
        } = outputs;
        let mut rules: Vec<_> = config.relays.iter().map(|r| r.rule).collect();
        rules.resize(relays.relays(), Default::default());
        for p in problems {
            // The engine is gone only during shutdown; the event has nowhere to go then.
            let _ = events.send(EventNotice::Came {
                code: EventCode::IoFault,
                message: p.to_string(),
                at: clock.now(),
            });
        }
        IoService {
            snapshot: IoSnapshot {
                backend: format!("{:?}", config.backend).to_lowercase(),
                relays: vec![false; relays.relays()],
                problems: problems.iter().map(ToString::to_string).collect(),
                ..IoSnapshot::default()
            },
            relays,
            buttons,
            indicator,
            logic: RelayLogic::new(rules),
            machine: ButtonMachine::new(),
            events,
            clock,
        }
    }

    fn notify(&self, code: EventCode, message: String) {
        let _ = self.events.send(EventNotice::Came {
            code,
            message,
            at: self.clock.now(),
        });
    }

    /// One step: relays follow `faults` (each change logged), the display shows `state`, and
    /// the button gestures completed since the last step are returned (and logged).
    pub fn poll(&mut self, state: LoggerState, faults: Faults) -> Vec<ButtonAction> {
        for change in self.logic.update(faults) {
            let text = if change.on {
                format!("Relay {} switched: {}", change.relay + 1, change.reason)
            } else {
                format!("Relay {} released: {}", change.relay + 1, change.reason)
            };
            tracing::info!("{text}");
            match self.relays.set_relay(change.relay, change.on) {
                Ok(()) => self.notify(EventCode::RelaySwitched, text),
                Err(e) => self.notify(
                    EventCode::IoFault,
                    format!("{text}, but switching failed: {e}"),
                ),
            }
        }
        self.snapshot.relays = self.logic.states().to_vec();
        let now = self.buttons.now();
        let shown = leds(state, now);
        if self.snapshot.leds != Some(shown) {
            if let Err(e) = self.indicator.show(shown) {
                tracing::warn!(error = %e, "state display");
            }
            self.snapshot.leds = Some(shown);
        }
        let mut actions = Vec::new();
        match self.buttons.edges() {
            Ok(edges) => {
                for edge in edges {
                    actions.extend(self.machine.edge(edge));
                }
            }
            Err(e) => tracing::warn!(error = %e, "front buttons"),
        }
        actions.extend(self.machine.tick(now));
        for action in &actions {
            let text = match action {
                ButtonAction::ScanAllBauds => "Button: scan over all baud rates requested",
                ButtonAction::NetworkSetup => "Button: network configuration mode requested",
                ButtonAction::Restart => "Button: restart requested",
            };
            tracing::info!("{text}");
            self.notify(EventCode::ButtonAction, text.to_string());
            self.snapshot.last_action = Some(*action);
        }
        actions
    }

    /// Applies the S0 start values requested since the last step (see
    /// [`super::inputs::request_s0_start`]), each logged with the totals before and after.
    pub fn apply_start_values(&self, inputs: &SharedInputs) {
        for outcome in inputs.apply_start_requests() {
            match outcome {
                Ok(done) => {
                    let text = format!(
                        "S0 input {}: start value set to {} pulses (was {})",
                        done.input, done.total, done.previous
                    );
                    tracing::info!("{text}");
                    self.notify(EventCode::S0StartValue, text);
                }
                Err(e) => self.notify(
                    EventCode::IoFault,
                    format!("S0 start value not applied: {e}"),
                ),
            }
        }
    }

    /// What the outputs show now.
    pub fn snapshot(&self) -> &IoSnapshot {
        &self.snapshot
    }
}

/// Carries the front buttons' gestures from the I/O thread to the logger: a scan over all baud
/// rates is started through the service handle, a restart stops the daemon (which then exits
/// for its service manager to start it again), network configuration mode is only logged
/// (the web interface offers the settings).
#[derive(Debug)]
pub struct ButtonActions {
    sender: mpsc::Sender<ButtonAction>,
    inbox: mpsc::Receiver<ButtonAction>,
    restart: Arc<AtomicBool>,
}

impl Default for ButtonActions {
    fn default() -> Self {
        let (sender, inbox) = mpsc::channel();
        ButtonActions {
            sender,
            inbox,
            restart: Arc::default(),
        }
    }
}

impl ButtonActions {
    /// The gesture handler for [`start`].
    pub fn handler(&self) -> impl FnMut(ButtonAction) + Send + 'static {
        let sender = self.sender.clone();
        move |action| {
            // The receiving thread is gone only during shutdown.
            let _ = sender.send(action);
        }
    }

    /// Whether a restart was asked for (read after the daemon stopped).
    pub fn restart_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.restart)
    }

    /// Carries the gestures out until `stop` is set: scans through `handle`, a restart sets
    /// the restart flag and `stop`.
    pub fn serve(self, handle: ServiceHandle, stop: Arc<AtomicBool>) -> JoinHandle<()> {
        let ButtonActions {
            sender,
            inbox,
            restart,
        } = self;
        drop(sender);
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let action = match inbox.recv_timeout(STEP) {
                    Ok(action) => action,
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                match action {
                    ButtonAction::ScanAllBauds => {
                        let all = SecondaryOptions {
                            bauds: BaudRate::ALL.to_vec(),
                            ..SecondaryOptions::default()
                        };
                        if let Err(e) = handle.start_scan(ScanKind::Secondary(all)) {
                            tracing::warn!(error = %e, "scan asked for at the buttons");
                        }
                    }
                    ButtonAction::Restart => {
                        restart.store(true, Ordering::SeqCst);
                        stop.store(true, Ordering::SeqCst);
                    }
                    ButtonAction::NetworkSetup => {}
                }
            }
        })
    }
}

/// The faults the relays follow, from the logger state and the meters' status.
pub fn faults(state: LoggerState, status: &StatusBoard) -> Faults {
    Faults {
        overload: state == LoggerState::Err,
        unreadable: status
            .meters
            .values()
            .filter(|m| m.status == ReadStatus::Failed)
            .count(),
    }
}

/// The I/O service running beside a logger; [`IoRunner::stop`] ends it.
pub struct IoRunner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IoRunner {
    /// Ends the service thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the I/O thread panicked");
            }
        }
    }
}

impl Drop for IoRunner {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Starts the appliance's inputs and outputs for `logger` as its `io` section says: adds the
/// input meters the backend has (once; they are ordinary meters afterwards), attaches the
/// inputs to the engine, and runs relays, buttons and display in a thread that hands button
/// gestures to `on_action`. `None` when the section's backend is `none`.
pub fn start<B: MeterBus + 'static>(
    logger: &mut Logger<B>,
    on_action: impl FnMut(ButtonAction) + Send + 'static,
) -> Result<Option<IoRunner>, LoggerError> {
    let config = logger.config().io.clone();
    if config.backend == IoBackend::None {
        return Ok(None);
    }
    let clock = logger.clock();
    let opened = open(&config, clock.clone());
    let mut whole = logger.config().clone();
    let added = add_input_meters(
        &mut whole,
        opened.pulses.inputs(),
        opened.temperatures.inputs(),
    );
    if !added.is_empty() {
        tracing::info!(added = added.len(), "input meters added");
        logger.set_config(whole)?;
    }
    let inputs = SharedInputs(Arc::new(std::sync::Mutex::new(HardwareInputs::new(
        logger.data_dir(),
        opened.pulses,
        opened.temperatures,
    ))));
    logger.attach_inputs(Box::new(inputs.clone()));
    let outputs = Outputs {
        relays: opened.relays,
        buttons: opened.buttons,
        indicator: opened.indicator,
    };
    let service = IoService::new(
        &config,
        outputs,
        &opened.problems,
        clock,
        logger.event_sender(),
    );
    let arbiter = logger.arbiter();
    let state = move || arbiter.state();
    let stop = Arc::new(AtomicBool::new(false));
    let data_dir = logger.data_dir().to_path_buf();
    let thread = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("appliance-io".into())
            .spawn(move || run(service, &inputs, state, &data_dir, &stop, on_action))
            .map_err(|source| LoggerError::Io {
                path: PathBuf::from("appliance-io thread"),
                source,
            })?
    };
    Ok(Some(IoRunner {
        stop,
        thread: Some(thread),
    }))
}

fn run(
    mut service: IoService,
    inputs: &SharedInputs,
    state: impl Fn() -> LoggerState,
    data_dir: &Path,
    stop: &AtomicBool,
    mut on_action: impl FnMut(ButtonAction),
) {
    let mut status = StatusBoard::load(data_dir);
    let mut written: Option<IoSnapshot> = None;
    let mut step: u32 = 0;
    while !stop.load(Ordering::SeqCst) {
        if step.is_multiple_of(STATUS_EVERY) {
            status = StatusBoard::load(data_dir);
            service.apply_start_values(inputs);
            (service.snapshot.s0, service.snapshot.temperatures) = inputs.values();
        }
        step = step.wrapping_add(1);
        for action in service.poll(state(), faults(state(), &status)) {
            on_action(action);
        }
        if written.as_ref() != Some(service.snapshot()) {
            let snapshot = service.snapshot().clone();
            match serde_json::to_vec_pretty(&snapshot) {
                Ok(bytes) => {
                    if let Err(e) = crate::atomic::write(&data_dir.join(IO_STATUS_FILE), &bytes) {
                        tracing::warn!(error = %e, "writing the I/O status");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "I/O status"),
            }
            written = Some(snapshot);
        }
        std::thread::sleep(STEP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::hardware::relays::RelayRule;
    use crate::hardware::{config::RelayPin, Button};
    use chrono::{TimeZone, Utc};

    #[test]
    fn relays_buttons_and_display_on_virtual_time() {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap(),
        ));
        let mut config = IoConfig {
            backend: IoBackend::Simulated,
            ..IoConfig::default()
        };
        config.relays = vec![
            RelayPin {
                line: 1,
                active_low: false,
                rule: RelayRule::default(),
            },
            RelayPin {
                line: 2,
                active_low: false,
                rule: RelayRule {
                    on_overload: true,
                    on_read_failure: false,
                },
            },
        ];
        let outputs = SimOutputs::new(2);
        let edge = |button, pressed, secs| ButtonEdge {
            button,
            pressed,
            at: Duration::from_secs(secs),
        };
        let buttons = SimButtons::new(
            clock.clone(),
            vec![edge(Button::Red, true, 1), edge(Button::Red, false, 7)],
        );
        let (events, inbox) = mpsc::channel();
        let mut service = IoService::new(
            &config,
            Outputs {
                relays: Box::new(outputs.clone()),
                buttons: Box::new(buttons),
                indicator: Box::new(outputs.clone()),
            },
            &[],
            clock.clone(),
            events,
        );
        let step = |service: &mut IoService, state, faults| {
            clock.spend(Duration::from_millis(500));
            service.poll(state, faults)
        };
        assert!(step(&mut service, LoggerState::Idle, Faults::default()).is_empty());
        let one_failed = Faults {
            overload: false,
            unreadable: 1,
        };
        step(&mut service, LoggerState::Read, one_failed);
        assert_eq!(outputs.relay_states(), [true, false]);
        let overload = Faults {
            overload: true,
            unreadable: 1,
        };
        step(&mut service, LoggerState::Err, overload);
        assert_eq!(outputs.relay_states(), [true, true]);
        let mut actions = Vec::new();
        for _ in 0..14 {
            actions.extend(step(&mut service, LoggerState::Idle, Faults::default()));
        }
        assert_eq!(outputs.relay_states(), [false, false]);
        assert_eq!(actions, [ButtonAction::ScanAllBauds], "red held 6 s");
        let shown: Vec<&str> = outputs.shown().iter().map(|l| l.display).collect();
        assert!(
            shown.starts_with(&["idle", "read", "err", "idle"]),
            "{shown:?}"
        );
        let messages: Vec<String> = inbox
            .try_iter()
            .map(|n| match n {
                EventNotice::Came { message, .. } => message,
                EventNotice::Went { .. } => String::new(),
            })
            .collect();
        assert_eq!(
            messages,
            [
                "Relay 1 switched: 1 meter(s) unreadable",
                "Relay 2 switched: M-Bus overload",
                "Relay 1 released: fault cleared",
                "Relay 2 released: fault cleared",
                "Button: scan over all baud rates requested",
            ]
        );
        assert_eq!(
            service.snapshot().last_action,
            Some(ButtonAction::ScanAllBauds)
        );
    }

    #[test]
    fn a_missing_gpio_chip_becomes_a_stand_in_with_the_reason() {
        let config = IoConfig {
            backend: IoBackend::Linux,
            gpio_chip: "/dev/gpiochip-missing".into(),
            s0: vec![super::super::config::S0Pin {
                line: 4,
                debounce_ms: 20,
            }],
            ..IoConfig::default()
        };
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let mut opened = open(&config, clock);
        assert_eq!(opened.problems.len(), 1, "{:?}", opened.problems);
        assert_eq!(opened.pulses.inputs(), 1);
        let err = opened.pulses.pulses(0).unwrap_err();
        assert!(err.to_string().contains("gpiochip-missing"), "{err}");
    }
}
