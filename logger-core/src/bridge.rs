//! The level-converter bridge (state `rs`): a TCP port that gives PC software (MB-Connect,
//! libmbus's `mbus-tcp-*` tools, `mbusctl … --device tcp://HOST:PORT`) the bus, byte for byte,
//! as a transparent level converter would.
//!
//! When a program connects, the bridge queues at the [`BusArbiter`] like every other user of
//! the bus: a read cycle in progress ends after the meter it is reading (the rest of its slots
//! count as missed), a scan or manual read runs to its end. While the program holds the bus,
//! scheduled reads pause and their slots are counted; when it disconnects, the engine resumes
//! and logs one event with the slots missed. One program at a time: a second connection gets
//! one line of text saying who has the bus and is closed, and the refusal is in the event log.
//!
//! The line runs at the configured baud rate (`level_converter.baud`), or else at the rate the
//! last read left it at; afterwards the engine switches back per meter as usual. The program is
//! the master: the bridge sends its bytes unchanged and forwards what comes back
//! ([`mbus_link::Master::relay`]).
//!
//! ```no_run
//! # use logger_core::{bridge::Bridge, engine::Logger, simulation::SimInstallation};
//! # fn demo(logger: &mut Logger<SimInstallation>) -> Result<(), Box<dyn std::error::Error>> {
//! if let Some(bridge) = Bridge::start_configured(logger)? {
//!     println!("level converter on {}", bridge.local_addr());
//!     // … run the logger …
//!     bridge.stop();
//! }
//! # Ok(()) }
//! ```

use crate::bus::{BusArbiter, MeterBus, Purpose};
use crate::clock::Clock;
use crate::config::LevelConverter;
use crate::engine::Logger;
use crate::events::{EventCode, EventNotice};
use crate::service::ServiceHandle;
use chrono::{DateTime, Utc};
use mbus_proto::address::BaudRate;
use serde::Serialize;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the bridge looks for new connections and for its stop flag.
const POLL: Duration = Duration::from_millis(100);
/// A request split over several TCP segments is gathered while pieces keep coming this fast.
const GATHER: Duration = Duration::from_millis(5);
/// The longest request gathered before it goes on the bus.
const MAX_REQUEST: usize = 512;

/// Why the bridge could not start.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// `level_converter.baud` is not an M-Bus baud rate.
    #[error("level_converter.baud: {0} is not an M-Bus baud rate")]
    Baud(u32),
    /// The TCP port could not be opened.
    #[error("level converter: cannot listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// Where and how the bridge listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeOptions {
    /// Address and port to listen on (all interfaces, port 50000 by default).
    pub listen: SocketAddr,
    /// Line rate while bridging; `None` keeps the rate the bus is at.
    pub baud: Option<BaudRate>,
}

impl BridgeOptions {
    /// The options of the configuration's `level_converter` section, `None` when the bridge
    /// is off.
    pub fn from_config(section: &LevelConverter) -> Result<Option<BridgeOptions>, BridgeError> {
        if !section.enabled {
            return Ok(None);
        }
        let baud = section
            .baud
            .map(|bps| BaudRate::from_bps(bps).map_err(|_| BridgeError::Baud(bps)))
            .transpose()?;
        Ok(Some(BridgeOptions {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), section.tcp_port),
            baud,
        }))
    }
}

/// What the bridge is doing, for status pages and `mbusctl`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BridgeStatus {
    /// The address the bridge listens on.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub listening: Option<SocketAddr>,
    /// The program that has (or waits for) the bus.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub client: Option<SocketAddr>,
    /// Since when it is connected.
    pub since: Option<DateTime<Utc>>,
    /// Whether it has the bus already (else it waits for a transaction to end).
    pub holds_bus: bool,
    /// Connections served since start.
    pub sessions: u64,
    /// Connections refused because another program had the bus.
    pub refused: u64,
    /// Requests relayed since start.
    pub requests: u64,
    /// Bytes relayed back to programs since start.
    pub reply_bytes: u64,
}

/// What the accept loop and the session share.
struct Shared {
    status: Mutex<BridgeStatus>,
    stop: AtomicBool,
    events: mpsc::Sender<EventNotice>,
    clock: Arc<dyn Clock>,
}

impl Shared {
    fn status(&self) -> MutexGuard<'_, BridgeStatus> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self, notice: EventNotice) {
        // The engine is gone only during shutdown; the event has nowhere to go then.
        let _ = self.events.send(notice);
    }
}

/// A running level-converter bridge; [`Bridge::stop`] ends it (a connected program is
/// disconnected and the bus given back).
pub struct Bridge {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// Starts the bridge on the logger's bus: its events go to the logger's event log.
    pub fn start<B: MeterBus + 'static>(
        logger: &mut Logger<B>,
        options: BridgeOptions,
    ) -> Result<Bridge, BridgeError> {
        Bridge::start_on(
            logger.arbiter(),
            options,
            logger.clock(),
            logger.event_sender(),
        )
    }

    /// Starts the bridge when the logger's configuration turns it on (`level_converter`
    /// section); `None` when it is off.
    pub fn start_configured<B: MeterBus + 'static>(
        logger: &mut Logger<B>,
    ) -> Result<Option<Bridge>, BridgeError> {
        match BridgeOptions::from_config(&logger.config().level_converter)? {
            Some(options) => Bridge::start(logger, options).map(Some),
            None => Ok(None),
        }
    }

    /// Starts the bridge on `arbiter`'s bus, telling `events` what happens.
    pub fn start_on<B: MeterBus + 'static>(
        arbiter: Arc<BusArbiter<B>>,
        options: BridgeOptions,
        clock: Arc<dyn Clock>,
        events: mpsc::Sender<EventNotice>,
    ) -> Result<Bridge, BridgeError> {
        let listen_err = |source| BridgeError::Listen {
            address: options.listen,
            source,
        };
        let listener = TcpListener::bind(options.listen).map_err(listen_err)?;
        listener.set_nonblocking(true).map_err(listen_err)?;
        let local_addr = listener.local_addr().map_err(listen_err)?;
        let shared = Arc::new(Shared {
            status: Mutex::new(BridgeStatus {
                listening: Some(local_addr),
                ..BridgeStatus::default()
            }),
            stop: AtomicBool::new(false),
            events,
            clock,
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("level-converter".into())
                .spawn(move || accept_loop(&listener, &shared, &arbiter, options.baud))
                .map_err(listen_err)?
        };
        tracing::info!(%local_addr, "level converter listening");
        Ok(Bridge {
            shared,
            local_addr,
            thread: Some(thread),
        })
    }

    /// The address the bridge listens on (the actual port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// What the bridge is doing.
    pub fn status(&self) -> BridgeStatus {
        self.shared.status().clone()
    }

    /// Disconnects a connected program, gives the bus back and closes the port.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the level-converter thread panicked");
            }
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Name of the level converter's status file in the data directory (written while the
/// daemon runs, read by the web interface and `mbusctl io`).
pub const BRIDGE_STATUS_FILE: &str = "level-converter.json";

/// The level converter as the status file shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelConverterState {
    /// The bridge's own status (`listening` is empty while it is off).
    #[serde(flatten)]
    pub bridge: BridgeStatus,
    /// Why the port could not be opened with the settings in force.
    pub error: Option<String>,
}

impl LevelConverterState {
    /// The state stored in `data_dir` (default: off).
    pub fn load(data_dir: &std::path::Path) -> LevelConverterState {
        std::fs::read(data_dir.join(BRIDGE_STATUS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
}

/// The level converter following the configuration: [`BridgeFollower::apply`] opens, moves or
/// closes the port as the `level_converter` section says, so saved settings take effect
/// without a restart (a program connected to the old port is disconnected first). Each
/// change is in the event log, and so is a port that cannot be opened (the logger keeps
/// reading; the next save tries again).
pub struct BridgeFollower<B: MeterBus + 'static> {
    arbiter: Arc<BusArbiter<B>>,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<EventNotice>,
    data_dir: std::path::PathBuf,
    bridge: Option<Bridge>,
    options: Option<BridgeOptions>,
    error: Option<String>,
}

impl<B: MeterBus + 'static> BridgeFollower<B> {
    /// A follower for `logger`'s bus, port closed; call [`BridgeFollower::apply`] with the
    /// configuration.
    pub fn new(logger: &mut Logger<B>) -> BridgeFollower<B> {
        BridgeFollower {
            arbiter: logger.arbiter(),
            clock: logger.clock(),
            events: logger.event_sender(),
            data_dir: logger.data_dir().to_path_buf(),
            bridge: None,
            options: None,
            error: None,
        }
    }

    fn notify(&self, code: EventCode, message: String) {
        // The engine is gone only during shutdown; the event has nowhere to go then.
        let _ = self.events.send(EventNotice::Came {
            code,
            message,
            at: self.clock.now(),
        });
    }

    /// Makes the bridge match `section`; nothing happens when the settings in force are the
    /// same (a connected program keeps the bus).
    pub fn apply(&mut self, section: &LevelConverter) {
        let wanted = match BridgeOptions::from_config(section) {
            Ok(o) => o,
            Err(e) => {
                self.failed(e);
                return;
            }
        };
        if wanted == self.options && (self.bridge.is_some() || wanted.is_none()) {
            return;
        }
        if let Some(old) = self.bridge.take() {
            old.stop();
        }
        self.options = wanted;
        self.error = None;
        let Some(options) = wanted else {
            self.notify(
                EventCode::LevelConverterSettings,
                "Level converter switched off: port closed".into(),
            );
            return;
        };
        match Bridge::start_on(
            Arc::clone(&self.arbiter),
            options,
            Arc::clone(&self.clock),
            self.events.clone(),
        ) {
            Ok(bridge) => {
                let baud = options
                    .baud
                    .map_or_else(|| "the bus's rate".to_string(), |b| format!("{b} baud"));
                self.notify(
                    EventCode::LevelConverterSettings,
                    format!(
                        "Level converter listening on TCP port {} ({baud})",
                        bridge.local_addr().port()
                    ),
                );
                self.bridge = Some(bridge);
            }
            Err(e) => self.failed(e),
        }
    }

    fn failed(&mut self, e: BridgeError) {
        tracing::error!("{e}");
        self.notify(EventCode::LevelConverterFailed, e.to_string());
        self.error = Some(e.to_string());
    }

    /// The address the bridge listens on, while it is on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.bridge.as_ref().map(Bridge::local_addr)
    }

    /// What the bridge is doing now.
    pub fn state(&self) -> LevelConverterState {
        LevelConverterState {
            bridge: self.bridge.as_ref().map(Bridge::status).unwrap_or_default(),
            error: self.error.clone(),
        }
    }

    fn write_state(&self, state: &LevelConverterState) {
        match serde_json::to_vec_pretty(state) {
            Ok(bytes) => {
                if let Err(e) =
                    crate::atomic::write(&self.data_dir.join(BRIDGE_STATUS_FILE), &bytes)
                {
                    tracing::warn!(error = %e, "writing the level converter's status");
                }
            }
            Err(e) => tracing::warn!(error = %e, "level converter status"),
        }
    }

    /// Follows the configuration of the logger behind `handle` in a thread of its own until
    /// `stop` is set: every configuration change is applied at once, and the status file is
    /// kept up to date. The port closes when the thread ends.
    pub fn follow(mut self, handle: ServiceHandle, stop: Arc<AtomicBool>) -> JoinHandle<()> {
        let updates = handle.subscribe();
        std::thread::spawn(move || {
            self.apply(&handle.snapshot().config.level_converter);
            let mut written = None;
            while !stop.load(Ordering::SeqCst) {
                match updates.recv_timeout(POLL) {
                    Ok(crate::service::Update::Config) => {
                        self.apply(&handle.snapshot().config.level_converter);
                    }
                    Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                let state = self.state();
                if written.as_ref() != Some(&state) {
                    self.write_state(&state);
                    written = Some(state);
                }
            }
            if let Some(bridge) = self.bridge.take() {
                bridge.stop();
            }
            self.write_state(&LevelConverterState::default());
        })
    }
}

fn accept_loop<B: MeterBus + 'static>(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    arbiter: &Arc<BusArbiter<B>>,
    baud: Option<BaudRate>,
) {
    let mut session: Option<JoinHandle<()>> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        if session.as_ref().is_some_and(JoinHandle::is_finished) {
            if let Some(done) = session.take() {
                if done.join().is_err() {
                    tracing::error!("a level-converter session panicked");
                }
            }
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                if session.is_some() {
                    refuse(stream, peer, shared);
                    continue;
                }
                {
                    let mut status = shared.status();
                    status.client = Some(peer);
                    status.since = Some(shared.clock.now());
                    status.sessions += 1;
                }
                let shared = Arc::clone(shared);
                let arbiter = Arc::clone(arbiter);
                let spawned = std::thread::Builder::new()
                    .name("level-converter session".into())
                    .spawn(move || serve(stream, peer, &shared, &arbiter, baud));
                match spawned {
                    Ok(handle) => session = Some(handle),
                    Err(e) => tracing::error!(error = %e, "cannot start a level-converter session"),
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(e) => {
                tracing::warn!(error = %e, "level converter: accept failed");
                std::thread::sleep(POLL);
            }
        }
    }
    if let Some(session) = session {
        if session.join().is_err() {
            tracing::error!("a level-converter session panicked");
        }
    }
}

/// Tells a second program who has the bus, closes its connection and logs the refusal.
fn refuse(mut stream: TcpStream, peer: SocketAddr, shared: &Shared) {
    let holder = {
        let mut status = shared.status();
        status.refused += 1;
        status.client
    };
    let holder = holder.map_or_else(|| "another program".to_string(), |c| c.to_string());
    let reason = format!(
        "level converter busy: {holder} has the bus (one program at a time); connection from {peer} refused"
    );
    tracing::warn!("{reason}");
    // Best effort: the program may be gone already.
    let _ = stream.write_all(format!("{reason}\r\n").as_bytes());
    let _ = stream.shutdown(Shutdown::Both);
    shared.notify(EventNotice::Came {
        code: EventCode::LevelConverterRefused,
        message: format!("Level converter: {reason}"),
        at: shared.clock.now(),
    });
}

/// One program's session: waits for the bus, relays until it disconnects (or the bridge
/// stops), gives the bus back.
fn serve<B: MeterBus>(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    arbiter: &BusArbiter<B>,
    baud: Option<BaudRate>,
) {
    tracing::info!(%peer, "level converter: program connected, waiting for the bus");
    let mut bus = arbiter.acquire(Purpose::Bridge);
    shared.status().holds_bus = true;
    bus.before_cycle(shared.clock.now());
    let master = bus.master();
    let previous = master.baud();
    let line = baud.unwrap_or(previous);
    if let Err(e) = master.set_baud(line) {
        tracing::warn!(error = %e, %line, "level converter: cannot switch the line rate");
    }
    shared.notify(EventNotice::Came {
        code: EventCode::LevelConverter,
        message: format!(
            "Level converter: {peer} has the bus at {} baud; scheduled reads paused",
            master.baud()
        ),
        at: shared.clock.now(),
    });
    let outcome = relay_session(&mut stream, shared, master);
    match &outcome {
        Ok(()) => tracing::info!(%peer, "level converter: program disconnected"),
        Err(e) => tracing::warn!(%peer, error = %e, "level converter: session ended"),
    }
    if master.baud() != previous {
        if let Err(e) = master.set_baud(previous) {
            tracing::warn!(error = %e, "level converter: cannot restore the line rate");
        }
    }
    drop(bus);
    let _ = stream.shutdown(Shutdown::Both);
    {
        let mut status = shared.status();
        status.client = None;
        status.since = None;
        status.holds_bus = false;
    }
    shared.notify(EventNotice::Went {
        code: EventCode::LevelConverter,
        at: shared.clock.now(),
    });
}

/// Why a session ended early.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("bus: {0}")]
    Link(#[from] mbus_link::LinkError),
}

/// Relays requests from the program to the bus and replies back until the program
/// disconnects or the bridge stops.
fn relay_session<T: mbus_link::Transport>(
    stream: &mut TcpStream,
    shared: &Shared,
    master: &mut mbus_link::Master<T>,
) -> Result<(), SessionError> {
    stream.set_nodelay(true)?;
    let mut request = Vec::with_capacity(MAX_REQUEST);
    let mut buf = [0u8; MAX_REQUEST];
    while !shared.stop.load(Ordering::SeqCst) {
        stream.set_read_timeout(Some(POLL))?;
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        request.clear();
        request.extend_from_slice(&buf[..n]);
        let open = gather(stream, &mut request)?;
        let mut written = Ok(());
        let seen = master.relay(&request, |reply| {
            if written.is_ok() {
                written = stream.write_all(reply);
            }
        })?;
        if seen.overload {
            tracing::warn!("level converter: bus overload (short circuit)");
        }
        {
            let mut status = shared.status();
            status.requests += 1;
            status.reply_bytes += seen.bytes as u64;
        }
        written?;
        if !open {
            return Ok(());
        }
    }
    Ok(())
}

/// Adds the rest of a request that arrives in several pieces; returns whether the connection
/// is still open.
fn gather(stream: &mut TcpStream, request: &mut Vec<u8>) -> std::io::Result<bool> {
    stream.set_read_timeout(Some(GATHER))?;
    let mut buf = [0u8; MAX_REQUEST];
    while request.len() < MAX_REQUEST {
        match stream.read(&mut buf[..MAX_REQUEST - request.len()]) {
            Ok(0) => return Ok(false),
            Ok(n) => request.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::simulation::SimInstallation;
    use chrono::TimeZone;
    use mbus_proto::request;

    fn bridge(
        meters: usize,
    ) -> (
        Bridge,
        Arc<BusArbiter<SimInstallation>>,
        mpsc::Receiver<EventNotice>,
    ) {
        let arbiter = Arc::new(BusArbiter::new(SimInstallation::new(
            meters,
            3,
            BaudRate::B2400,
            &[],
        )));
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap(),
        ));
        let (events, inbox) = mpsc::channel();
        let options = BridgeOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            baud: Some(BaudRate::B2400),
        };
        let bridge = Bridge::start_on(Arc::clone(&arbiter), options, clock, events).unwrap();
        (bridge, arbiter, inbox)
    }

    fn exchange(stream: &mut TcpStream, request: &[u8], expect: usize) -> Vec<u8> {
        stream.write_all(request).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reply = vec![0u8; expect];
        stream.read_exact(&mut reply).unwrap();
        reply
    }

    #[test]
    fn options_follow_the_configuration_section() {
        let mut section = LevelConverter::default();
        assert_eq!(BridgeOptions::from_config(&section).unwrap(), None);
        section.enabled = true;
        section.baud = Some(9600);
        let options = BridgeOptions::from_config(&section).unwrap().unwrap();
        assert_eq!(options.listen.port(), 50_000);
        assert_eq!(options.baud, Some(BaudRate::B9600));
        section.baud = Some(1234);
        assert!(matches!(
            BridgeOptions::from_config(&section),
            Err(BridgeError::Baud(1234))
        ));
    }

    #[test]
    fn one_program_gets_the_bus_a_second_is_refused_with_the_reason() {
        let (bridge, arbiter, inbox) = bridge(2);
        let mut first = TcpStream::connect(bridge.local_addr()).unwrap();
        assert_eq!(exchange(&mut first, &request::snd_nke(1), 1), [0xE5]);
        assert!(arbiter.bridged());
        assert_eq!(arbiter.state(), crate::status::LoggerState::Rs);

        let mut second = TcpStream::connect(bridge.local_addr()).unwrap();
        second
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut text = String::new();
        second.read_to_string(&mut text).unwrap();
        let holder = first.local_addr().unwrap().to_string();
        assert!(text.starts_with("level converter busy: "), "{text}");
        assert!(text.contains(&format!("{holder} has the bus")), "{text}");

        // The first program still has the bus: a read request returns the meter's frame.
        let head = exchange(&mut first, &request::req_ud2(2, true), 4);
        assert_eq!((head[0], head[3]), (0x68, 0x68));
        let status = bridge.status();
        assert_eq!(status.client.map(|c| c.to_string()), Some(holder.clone()));
        assert_eq!((status.sessions, status.refused), (1, 1));
        assert!(status.holds_bus);

        drop(first);
        while arbiter.bridged() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let notices: Vec<EventNotice> = inbox.try_iter().collect();
        let codes: Vec<EventCode> = notices
            .iter()
            .map(|n| match n {
                EventNotice::Came { code, .. } | EventNotice::Went { code, .. } => *code,
            })
            .collect();
        assert_eq!(
            codes,
            [
                EventCode::LevelConverter,
                EventCode::LevelConverterRefused,
                EventCode::LevelConverter
            ]
        );
        assert!(matches!(&notices[2], EventNotice::Went { .. }));
        bridge.stop();
    }

    #[test]
    fn stopping_the_bridge_disconnects_the_program_and_frees_the_bus() {
        let (bridge, arbiter, _inbox) = bridge(1);
        let mut program = TcpStream::connect(bridge.local_addr()).unwrap();
        assert_eq!(exchange(&mut program, &request::snd_nke(1), 1), [0xE5]);
        bridge.stop();
        assert!(!arbiter.bridged());
        let mut rest = Vec::new();
        program
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(program.read_to_end(&mut rest).unwrap_or(0), 0);
    }
}
