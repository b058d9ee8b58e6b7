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
//!
//! # Scan asynchronously
//!
//! A scan takes seconds to minutes of bus time. Run it on its own thread (or in tokio's
//! `spawn_blocking`); progress events come back through a channel while the caller goes on, and
//! a [`CancelToken`] stops the scan between two probes, keeping what was found:
//!
//! ```
//! use mbus_link::sim::{Population, SerialPattern, SimBus, SimConfig};
//! use mbus_link::Master;
//! use mbus_scan::{CancelToken, Progress, Scanner, SecondaryOptions};
//! use std::sync::mpsc;
//!
//! let meters = Population::new(8, SerialPattern::Clustered).seed(2).build(&[]);
//! let mut master = Master::new(SimBus::new(SimConfig::default(), meters));
//! let cancel = CancelToken::new();
//! let (progress_tx, progress_rx) = mpsc::channel::<Progress>();
//! let scan = std::thread::spawn({
//!     let cancel = cancel.clone();
//!     move || {
//!         Scanner::new(&mut master)
//!             .on_progress(move |p| {
//!                 let _ = progress_tx.send(*p);
//!             })
//!             .with_cancel(cancel)
//!             .secondary(&SecondaryOptions::default())
//!     }
//! });
//! // The caller stays free: here it follows the progress (a UI would redraw, a server serve).
//! let mut last = 0.0;
//! for p in progress_rx {
//!     last = p.fraction;
//! }
//! let report = scan.join().map_err(|_| "scan thread panicked")??;
//! assert_eq!(report.meters.len(), 8);
//! assert_eq!(last, 1.0);
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
pub use report::{FoundMeter, FoundStatus, LineState, ScanCost, ScanReport};
pub use scanner::Scanner;
pub use secondary::SecondaryOptions;

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
