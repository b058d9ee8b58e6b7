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
//! - [`upload`]: automatic FTP/FTPS uploads and HTTPS push through a durable spool.
#![warn(missing_docs)]

pub mod export;
pub mod storage;

pub mod atomic;
pub mod bus;
pub mod clock;
pub mod config;
pub mod email;
pub mod engine;
pub mod events;
pub mod inventory;
pub mod medium;
pub mod readout;
pub mod schedule;
pub mod service;
pub mod simulation;
pub mod status;
pub mod template;
pub mod upload;
pub mod views;

#[cfg(test)]
mod test_corpus;

/// The README's code examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
