//! Primary and secondary-address (wildcard) scanners for wired M-Bus.
//!
//! - [`Scanner`]: runs a scan on any [`ScanBus`], at one or every baud rate, with
//!   [`Progress`] events and a [`CancelToken`].
//! - [`primary`]: REQ_UD2 to every primary address ([`PrimaryOptions`]).
//! - [`secondary`]: the adaptive wildcard search ([`SecondaryOptions`]), built to minimise bus
//!   time; its module documentation explains the algorithm.
//! - [`baseline`]: the classic libmbus algorithm, kept for comparison; [`compare`] runs both on
//!   a simulated population next to the physical lower bound.
//! - [`LineState`] in every [`ScanReport`]: a line that garbles every request stops a scan, a
//!   line where nothing answers is reported as silent; [`Scanner::primary_bus_time_bound`] and
//!   [`Scanner::secondary_bus_time_bound`] give the worst-case bus time.
//! - [`bus`]: the small trait the algorithms run against; [`link`] implements it for
//!   `mbus-link`'s [`Master`](mbus_link::Master), hence for serial ports, TCP gateways and the
//!   simulated bus.
//!
//! ```
//! use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig};
//! use mbus_link::Master;
//! use mbus_scan::{Scanner, SecondaryOptions};
//!
//! let meters = Population::new(20, SerialPattern::Random).seed(7).build(&[]);
//! let mut master = Master::new(SimBus::new(SimConfig::default(), meters));
//! let report = Scanner::new(&mut master).secondary(&SecondaryOptions::default())?;
//! assert_eq!(report.meters.len(), 20);
//! println!("{} probes, {:?} on the bus", report.cost.probes(), report.cost.bus_time);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod baseline;
pub mod bus;
pub mod compare;
mod error;
pub mod link;
pub mod primary;
pub mod progress;
pub mod report;
mod scanner;
pub mod secondary;
mod session;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use bus::{Listen, ReadReply, ScanBus, SelectReply};
pub use error::ScanError;
pub use primary::PrimaryOptions;
pub use progress::{CancelToken, Probe, Progress};
pub use report::{FoundMeter, LineState, MeterStatus, ScanCost, ScanReport};
pub use scanner::Scanner;
pub use secondary::SecondaryOptions;
