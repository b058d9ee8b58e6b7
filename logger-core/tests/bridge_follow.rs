//! The level converter follows its saved settings without a restart: switching it on opens
//! the port, a new port moves it (a connected program is let go), switching it off closes it;
//! each change is in the event log and in the status file. Over real TCP on 127.0.0.1.

use chrono::{TimeZone, Utc};
use logger_core::bridge::{BridgeFollower, LevelConverterState};
use logger_core::engine::Logger;
use logger_core::events::EventCode;
use logger_core::service::{Service, ServiceHandle, ServiceOptions};
use logger_core::simulation::SimInstallation;
use mbus_proto::address::BaudRate;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::free_port;

/// A logger in `dir` on a simulated bus of `meters` meters, its meters found.
fn logger(dir: &Path, meters: usize) -> Logger<SimInstallation> {
    let start = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap();
    let bus = SimInstallation::new(meters, 1, BaudRate::B2400, &[]);
    support::scanned_logger(dir, bus, start, |_| {}).0
}

fn connect(port: u16) -> std::io::Result<TcpStream> {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    )
}

/// Waits (at most 10 s) until `done` holds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn set(handle: &ServiceHandle, enabled: bool, port: u16) {
    handle
        .edit_config(move |config| {
            config.level_converter.enabled = enabled;
            config.level_converter.tcp_port = port;
            Ok(())
        })
        .unwrap();
}

fn state(dir: &Path) -> LevelConverterState {
    LevelConverterState::load(dir)
}

#[test]
fn saved_settings_open_move_and_close_the_port_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut logger = logger(dir.path(), 2);
    let follower = BridgeFollower::new(&mut logger);
    let service = Service::start(logger, ServiceOptions::default());
    let handle = service.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let thread = follower.follow(handle.clone(), Arc::clone(&stop));
    let first = free_port();
    let second = std::iter::repeat_with(free_port)
        .find(|p| *p != first)
        .unwrap();
    assert!(connect(first).is_err(), "off by default");

    set(&handle, true, first);
    let mut program = None;
    eventually("the first port is open", || {
        program = connect(first).ok();
        program.is_some()
    });
    let mut program = program.unwrap();
    eventually("the status file names the program", || {
        let s = state(dir.path());
        s.bridge.client.is_some() && s.bridge.since.is_some()
    });
    assert_eq!(state(dir.path()).bridge.listening.unwrap().port(), first);

    set(&handle, true, second);
    eventually("the second port is open", || connect(second).is_ok());
    program
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    // The program on the old port was let go: its connection ends.
    assert!(
        program.read_to_end(&mut rest).is_ok(),
        "closed, not timed out"
    );
    assert!(connect(first).is_err(), "the old port is closed");
    eventually("the status file shows the new port", || {
        state(dir.path()).bridge.listening.map(|a| a.port()) == Some(second)
    });

    set(&handle, false, second);
    eventually("the port is closed", || connect(second).is_err());
    eventually("the status file shows it off", || {
        state(dir.path()).bridge.listening.is_none()
    });

    stop.store(true, Ordering::SeqCst);
    thread.join().unwrap();
    let mut logger = service.stop().unwrap();
    logger.record_notices();
    let changes: Vec<String> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::LevelConverterSettings)
        .map(|e| e.message.clone())
        .collect();
    // Newest first.
    assert_eq!(
        changes,
        [
            "Level converter switched off: port closed".to_string(),
            format!("Level converter listening on TCP port {second} (the bus's rate)"),
            format!("Level converter listening on TCP port {first} (the bus's rate)"),
        ]
    );
    assert_eq!(EventCode::LevelConverterSettings.number(), 57);
}

#[test]
fn a_port_that_cannot_be_opened_is_reported_and_the_next_save_tries_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut logger = logger(dir.path(), 1);
    let mut follower = BridgeFollower::new(&mut logger);
    let taken = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut section = logger.config().level_converter.clone();
    section.enabled = true;
    section.tcp_port = port;
    follower.apply(&section);
    let failed = follower.state();
    assert!(failed.bridge.listening.is_none());
    assert!(
        failed.error.as_deref().unwrap().contains("cannot listen"),
        "{failed:?}"
    );
    drop(taken);
    follower.apply(&section);
    assert_eq!(follower.local_addr().map(|a| a.port()), Some(port));
    assert_eq!(follower.state().error, None);
    logger.record_notices();
    let codes: Vec<u16> = logger.events().entries().map(|e| e.code.number()).collect();
    assert!(codes.contains(&58) && codes.contains(&57), "{codes:?}");
}
