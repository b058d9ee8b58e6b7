//! Shared by the engine tests and benchmarks: a logger on a simulated installation, on a
//! virtual clock, configured and with its meters found by a secondary scan.

use chrono::{DateTime, Utc};
use logger_core::clock::ManualClock;
use logger_core::config::Config;
use logger_core::engine::{Logger, ScanKind, ScanSummary};
use logger_core::simulation::SimInstallation;
use std::path::Path;
use std::sync::Arc;

/// Opens a logger in `dir` on `sim` at `start`, applies `configure` to its configuration and
/// scans the bus by secondary address.
pub fn scanned_logger(
    dir: &Path,
    sim: SimInstallation,
    start: DateTime<Utc>,
    configure: impl FnOnce(&mut Config),
) -> (Logger<SimInstallation>, Arc<ManualClock>, ScanSummary) {
    let clock = Arc::new(ManualClock::new(start));
    let mut logger = Logger::open(dir, sim, clock.clone()).unwrap();
    let mut config = logger.config().clone();
    configure(&mut config);
    logger.set_config(config).unwrap();
    let summary = logger
        .scan(
            &ScanKind::Secondary(Default::default()),
            |_| {},
            Default::default(),
        )
        .unwrap();
    (logger, clock, summary)
}

/// A TCP port free right now on 127.0.0.1.
#[allow(dead_code)] // only the tests with servers listen
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
