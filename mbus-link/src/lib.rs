//! The master side of wired M-Bus (EN 13757-2): a sans-IO link state machine, transports for
//! serial level converters and TCP gateways (blocking and tokio), and a bit-level simulated bus.
//! [`mbus_proto`] is re-exported, so one dependency reads and decodes.
//!
//! - [`master`]: the sans-IO core (timing, retries, echo suppression, FCB, multi-telegram reads,
//!   collision and garbled-reply detection) and its [`master::ops`].
//! - [`Master`] (blocking) and [`AsyncMaster`] (any async runtime): the same operations over a
//!   [`Transport`] / [`AsyncTransport`]; replies are [`ReplyFrame`]s.
//! - [`relay`]: raw byte access for a transparent level converter ([`Master::relay`]).
//! - `serial`, `tcp`: real transports (features `serial`, `tcp`, async ones with `tokio`);
//!   [`Device`] parses `/dev/ttyUSB0` or `tcp://host:port`.
//! - `sim`: the simulated bus with virtual meters and a virtual clock, and its TCP gateway
//!   server (feature `sim`).
//!
//! # Read a meter over TCP
//!
//! The meter at primary address 5 behind a transparent gateway, every value printed:
//!
//! ```no_run
//! use mbus_link::mbus_proto::address::{BaudRate, PrimaryAddress};
//! use mbus_link::mbus_proto::app::Telegram;
//! use mbus_link::mbus_proto::record::Record;
//! use mbus_link::mbus_proto::render::ValueText;
//! use mbus_link::{Device, Master};
//!
//! let device: Device = "tcp://192.168.1.10:10001".parse()?;
//! let mut master = Master::new(device.open(BaudRate::B2400)?);
//! for frame in master.read_primary(PrimaryAddress::new(5)?)? {
//!     if let Telegram::Variable(data) = frame.decode()? {
//!         for record in data.records() {
//!             if let Record::Data(record) = record? {
//!                 println!("{}: {}", record.value_info().quantity, ValueText(&record));
//!             }
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Read a meter over a serial level converter
//!
//! ```no_run
//! # #[cfg(feature = "serial")] {
//! use mbus_link::mbus_proto::address::BaudRate;
//! use mbus_link::mbus_proto::render::TelegramTable;
//! use mbus_link::serial::SerialTransport;
//! use mbus_link::Master;
//!
//! let mut master = Master::new(SerialTransport::open("/dev/ttyUSB0", BaudRate::B2400)?);
//! for frame in master.read_secondary(&"123456782D2C0B04".parse()?)? {
//!     print!("{}", TelegramTable::new(&frame.frame(), &frame.decode()?));
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Read asynchronously
//!
//! [`AsyncMaster`] has the same methods; with the `tokio` feature [`Device::open_async`]
//! opens either kind of device:
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn read() -> Result<(), Box<dyn std::error::Error>> {
//! use mbus_link::mbus_proto::address::{BaudRate, PrimaryAddress};
//! use mbus_link::{AsyncMaster, Device};
//!
//! let device: Device = "tcp://192.168.1.10:10001".parse()?;
//! let mut master = AsyncMaster::new(device.open_async(BaudRate::B2400).await?);
//! let telegrams = master.read_primary(PrimaryAddress::new(5)?).await?;
//! println!("{} telegram(s), first: {}", telegrams.len(), telegrams[0]);
//! # Ok(())
//! # }
//! ```
//!
//! # Test against a simulated bus
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig};
//! use mbus_link::Master;
//!
//! let meters = Population::new(10, SerialPattern::Random).seed(3).build(&[]);
//! let secondary = meters[4].secondary();
//! let mut master = Master::new(SimBus::new(SimConfig::default(), meters));
//! let telegrams = master.read_secondary(&secondary)?;
//! assert_eq!(telegrams[0].secondary_address(), Some(secondary));
//! println!("bus time: {:?}", master.transport().bus_time());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
pub mod relay;
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
pub use error::{Addressee, GarbleReason, LineError, LinkError};
pub use telegram::{Reply, ReplyFrame, SelectOutcome, DIF_MORE_RECORDS_FOLLOW};
pub use transport::{AsyncTransport, Received, Transport};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
