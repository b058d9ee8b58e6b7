//! Primary scan: one data request per primary address.
//!
//! A REQ_UD2 both detects a meter and fetches its first telegram, so a present meter costs one
//! exchange and an absent one a request plus the response window. Silence is retried
//! `retries` times (a meter may miss a request); a garbled reply is retried at least once
//! before it counts as several meters sharing the address (noise rarely strikes twice).

use crate::bus::{Listen, ReadReply, ScanBus};
use crate::progress::Probe;
use crate::report::{FoundMeter, MeterStatus};
use crate::scanner::{Session, Stop};
use mbus_proto::address::{BaudRate, MAX_PRIMARY};

/// What a primary scan probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryOptions {
    /// The addresses to ask, in order (default 0…250).
    pub addresses: Vec<u8>,
    /// Extra attempts after silence (default 1).
    pub retries: u32,
    /// The baud rates to scan, in order; empty means the bus's current rate.
    pub bauds: Vec<BaudRate>,
}

impl Default for PrimaryOptions {
    fn default() -> Self {
        PrimaryOptions {
            addresses: (0..=MAX_PRIMARY).collect(),
            retries: 1,
            bauds: Vec::new(),
        }
    }
}

pub(crate) fn scan<B: ScanBus>(
    session: &mut Session<'_, '_, B>,
    options: &PrimaryOptions,
) -> Result<(), Stop<B::Error>> {
    let share = 1.0 / options.addresses.len().max(1) as f64;
    for &address in &options.addresses {
        let mut garbled = 0u32;
        let mut silent = 0u32;
        let meter = loop {
            let reply = session.read(address, false, Listen::Gap, Probe::Primary(address))?;
            match reply {
                ReadReply::Telegram(telegram) => {
                    break Some(FoundMeter {
                        baud: session.baud(),
                        primary: Some(address),
                        secondary: telegram.secondary_address(),
                        status: MeterStatus::Ok,
                        telegram: Some(telegram),
                    });
                }
                ReadReply::Silent => silent += 1,
                ReadReply::Garbled => garbled += 1,
            }
            if garbled + silent > options.retries.max(garbled.min(1)) {
                break (silent == 0).then(|| FoundMeter {
                    baud: session.baud(),
                    primary: Some(address),
                    secondary: None,
                    status: MeterStatus::DuplicatePrimary,
                    telegram: None,
                });
            }
        };
        if let Some(meter) = meter {
            session.found(meter);
        }
        session.advance(share);
    }
    Ok(())
}
