//! Primary scan: one data request per primary address.
//!
//! A REQ_UD2 both detects a meter and fetches its first telegram, so a present meter costs one
//! exchange and an absent one a request plus the response window. Silence is retried
//! `retries` times (a meter may miss a request); a garbled reply is retried at least once
//! before it counts as several meters sharing the address (noise rarely strikes twice).

use crate::bus::{Listen, ReadReply, ScanBus};
use crate::progress::Probe;
use crate::report::{FoundMeter, FoundStatus};
use crate::session::{Session, Stop, GARBLED_STREAK, LINE_CHECKS};
use mbus_proto::address::{BaudRate, PrimaryAddress, MAX_PRIMARY};

/// What a primary scan probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryOptions {
    /// The addresses to ask, in order (default 0…250).
    pub addresses: Vec<PrimaryAddress>,
    /// Extra attempts after silence (default 1).
    pub retries: u32,
    /// The baud rates to scan, in order; empty means the bus's current rate.
    pub bauds: Vec<BaudRate>,
}

impl Default for PrimaryOptions {
    fn default() -> Self {
        PrimaryOptions {
            addresses: (0..=MAX_PRIMARY)
                .filter_map(|a| PrimaryAddress::new(a).ok())
                .collect(),
            retries: 1,
            bauds: Vec::new(),
        }
    }
}

impl PrimaryOptions {
    /// The most requests a primary scan with these options sends at one baud rate: every
    /// address asked at most `1 + max(retries, 1)` times (a garbled reply is asked again at
    /// least once), plus two line-check selects per eight garbled replies.
    ///
    /// ```
    /// use mbus_scan::PrimaryOptions;
    /// // 251 addresses × 2 attempts, plus 2 × ⌊502 / 8⌋ line checks.
    /// assert_eq!(PrimaryOptions::default().max_requests(), 502 + 2 * 62);
    /// ```
    pub fn max_requests(&self) -> u64 {
        let attempts = self.addresses.len() as u64 * (1 + u64::from(self.retries.max(1)));
        attempts + u64::from(LINE_CHECKS) * (attempts / u64::from(GARBLED_STREAK))
    }
}

pub(crate) fn scan<B: ScanBus>(
    session: &mut Session<'_, '_, B>,
    options: &PrimaryOptions,
) -> Result<(), Stop<B::Error>> {
    session.watch_line(options.max_requests(), 0);
    let share = 1.0 / options.addresses.len().max(1) as f64;
    // Addresses garbled on every attempt wait here while the garbled streak lasts: a line that
    // garbles everything must not show up as a list of shared addresses.
    let mut shared: Vec<FoundMeter> = Vec::new();
    for &address in &options.addresses {
        let mut garbled = 0u32;
        let mut silent = 0u32;
        let meter = loop {
            let reply = session.read(
                address.into(),
                false,
                Listen::Gap,
                Probe::Primary(address.get()),
            )?;
            match reply {
                ReadReply::Telegram(telegram) => {
                    break Some(FoundMeter {
                        baud: session.baud(),
                        primary: Some(address.get()),
                        secondary: telegram.secondary_address(),
                        status: FoundStatus::Ok,
                        telegram: Some(telegram),
                    });
                }
                ReadReply::Silent => silent += 1,
                ReadReply::Garbled => garbled += 1,
            }
            if garbled + silent > options.retries.max(garbled.min(1)) {
                break (silent == 0).then(|| FoundMeter {
                    baud: session.baud(),
                    primary: Some(address.get()),
                    secondary: None,
                    status: FoundStatus::DuplicatePrimary,
                    telegram: None,
                });
            }
        };
        match meter {
            Some(m) if m.status == FoundStatus::DuplicatePrimary => shared.push(m),
            other => {
                flush(session, &mut shared);
                if let Some(m) = other {
                    session.found(m);
                }
            }
        }
        if session.streak() >= GARBLED_STREAK {
            session.check_line()?;
            flush(session, &mut shared);
        }
        session.advance(share);
    }
    flush(session, &mut shared);
    Ok(())
}

/// Records the shared addresses held back while a garbled streak lasted.
fn flush<B: ScanBus>(session: &mut Session<'_, '_, B>, shared: &mut Vec<FoundMeter>) {
    for m in shared.drain(..) {
        session.found(m);
    }
}
