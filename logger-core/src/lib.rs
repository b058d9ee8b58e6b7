//! The M-Bus data-logger engine.
//!
//! `logger-core` holds everything the logger appliance does apart from its user
//! interfaces: the configuration (logger settings, meters, registers, templates),
//! the read scheduler, the bus arbiter, per-meter status and the event log,
//! storage of readings and their export.
//!
//! - [`engine::Logger`]: owns all of it and reads every meter on its grid slot.
//! - [`config`]: the versioned JSON configuration, validation with field paths, atomic
//!   saves, backup and restore; [`template`]: register templates per meter type;
//!   [`inventory`]: meters from scans or by hand, automatic names.
//! - [`schedule`]: grid-aligned read slots in the logger's time zone (DST rules documented
//!   there); [`clock`]: system or virtual time; [`bus`]: the bus arbiter and meter reads.
//! - [`readout`]: reply telegrams to register values; [`status`] and [`events`]: per-meter
//!   read status, logger state and the persistent event log.
//! - [`storage`] and [`export`]: the readings database and its CSV/JSON export.
//! - [`simulation`]: a simulated installation whose values move on like real meters'.
//! - [`service`]: the engine on its own thread with a handle for user interfaces;
//!   [`views`]: what the CLI and the web show of meters and the logger.
//! - [`bridge`]: the level-converter bridge (the bus on a TCP port for PC software).
//! - [`hardware`]: S0 and PT1000 inputs, fault relays, buttons and state LEDs (simulated or
//!   Linux GPIO/IIO).
//! - [`system`]: network and time settings applied to the OS (systemd-networkd,
//!   systemd-timesyncd), with confirmation and rollback, or as a dry run.
//! - [`upload`]: automatic FTP/FTPS uploads and HTTPS push through a durable spool.
//! - [`bacnet`]: the BACnet/IP server (a device per meter behind a virtual network, COV,
//!   BBMD and foreign-device registration).
//! - [`modbus`]: the Modbus TCP server (a block of registers per meter, float32 and scaled
//!   int32 per value) and its CSV register map; [`meter_index`]: the stable meter index
//!   both servers address meters by.
//! - [`mqtt`], [`postgres`], [`metrics`]: fleet sinks (MQTT with Home Assistant discovery,
//!   a central PostgreSQL database) and the Prometheus exposition; [`fleet`]: what they share.
//! - [`tls`]: the web server's certificate (validation, storage, self-signed on first start).
//!
//! # Embed the logger
//!
//! Open a [`engine::Logger`] on a bus (a [`bus::LinkBus`] around an `mbus_link::Master` for
//! real hardware, a [`simulation::SimInstallation`] for tests) with a clock, scan for meters,
//! add a commit hook for the host program, and run the schedule on a thread of its own:
//!
//! ```no_run
//! use logger_core::bus::LinkBus;
//! use logger_core::clock::SystemClock;
//! use logger_core::engine::{Logger, ScanKind};
//! use mbus_link::mbus_proto::address::BaudRate;
//! use mbus_link::{Device, Master};
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use std::sync::Arc;
//!
//! let transport = "/dev/ttyUSB0".parse::<Device>()?.open(BaudRate::B2400)?;
//! let bus = LinkBus::new(Master::new(transport));
//! let mut logger = Logger::open("/var/lib/mylogger".as_ref(), bus, Arc::new(SystemClock))?;
//! logger.scan(&ScanKind::Secondary(Default::default()), |_| {}, Default::default())?;
//! logger.add_commit_hook(Box::new(|committed| {
//!     println!("{} reading(s) stored", committed.readings.len());
//! }));
//! let stop = Arc::new(AtomicBool::new(false));
//! let engine = std::thread::spawn({
//!     let stop = Arc::clone(&stop);
//!     move || logger.run(&stop)
//! });
//! // … the host program's own work; at shutdown:
//! stop.store(true, Ordering::SeqCst);
//! engine.join().map_err(|_| "engine thread panicked")??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The README runs the same on a simulated installation and a virtual clock.
#![warn(missing_docs)]

/// The version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod export;
pub mod storage;

pub mod atomic;
pub mod bacnet;
pub mod bridge;
pub mod bus;
pub mod clock;
pub mod config;
pub mod email;
pub mod engine;
pub mod events;
pub mod fleet;
pub mod hardware;
pub mod inventory;
pub mod medium;
pub mod meter_index;
pub mod metrics;
pub mod modbus;
pub mod mqtt;
pub mod postgres;
pub mod readout;
pub mod schedule;
pub mod service;
pub mod simulation;
pub mod status;
pub mod system;
pub mod template;
pub mod tls;
pub mod upload;
pub mod views;
mod worker;

#[cfg(test)]
mod test_corpus;

/// The README's code examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
