//! The master side of wired M-Bus (EN 13757-2): a sans-IO link state machine, transports for
//! serial level converters and TCP gateways (blocking and tokio), and a bit-level simulated bus.
//!
//! - [`master`]: the sans-IO core (timing, retries, echo suppression, FCB, multi-telegram reads,
//!   collision and garbled-reply detection) and its [`master::ops`].
//! - [`Master`] (blocking) and [`AsyncMaster`] (tokio): the same operations over a
//!   [`Transport`] / [`AsyncTransport`].
//! - [`serial`], [`tcp`]: real transports; [`Device`] parses `/dev/ttyUSB0` or `tcp://host:port`.
//! - [`sim`]: the simulated bus with virtual meters and a virtual clock.
//!
//! ```
//! use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig};
//! use mbus_link::Master;
//!
//! let meters = Population::new(10, SerialPattern::Random).seed(3).build(&[]);
//! let secondary = meters[4].secondary();
//! let mut master = Master::new(SimBus::new(SimConfig::default(), meters));
//! let telegrams = master.read_secondary(&secondary)?;
//! assert_eq!(telegrams[0].secondary_address(), Some(secondary));
//! println!("bus time: {:?}", master.transport().bus_time());
//! # Ok::<(), mbus_link::LinkError>(())
//! ```
#![warn(missing_docs)]
// Library code never panics on input: no unwrap/expect/panic!, no indexing that could go out
// of range (tests are exempt).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

/// The protocol crate this one speaks, re-exported so one dependency gives both.
pub use mbus_proto;

mod asynchronous;
mod blocking;
pub mod config;
#[cfg(any(feature = "serial", feature = "tcp"))]
mod connection;
mod device;
pub mod error;
pub mod master;
#[cfg(feature = "serial")]
pub mod serial;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "tcp")]
pub mod tcp;
mod telegram;
pub mod transport;

pub use asynchronous::AsyncMaster;
pub use blocking::Master;
pub use config::{
    EchoMode, LatencyAllowance, LatencyBounds, LinkConfig, ListenAfterFrame, ResetPolicy,
    RetryPolicy,
};
#[cfg(all(feature = "tokio", any(feature = "serial", feature = "tcp")))]
pub use device::AsyncDeviceTransport;
pub use device::{Device, DeviceError};
pub use error::{GarbleReason, LineError, LinkError, Target};
pub use telegram::{Reply, ReplyFrame, SelectOutcome, DIF_MORE_RECORDS_FOLLOW};
pub use transport::{AsyncTransport, Received, Transport};
