//! The classic libmbus secondary scan, reproduced faithfully as the benchmark baseline.
//!
//! This is how `mbus_scan_2nd_address_range` runs:
//!
//! - nibbles are split most significant first (display position 0…15), always with the values
//!   0–9 only, also in manufacturer, version and medium (so meters that differ only in a nibble
//!   A–F there are never separated);
//! - a collision descends to the next position, a clean `E5` is followed by REQ_UD2 to 253 and
//!   the meter's address is taken from the reply;
//! - a silent select is sent twice (`max_search_retry` = 1);
//! - every receive waits up to three empty serial reads (`VTIME` of the baud rate) for the first
//!   byte, and after every frame the receive loop runs again until it times out
//!   (`mbus_purge_frames`), so anything else on the line counts as a collision.

use crate::bus::{Listen, ReadReply, ScanBus, SelectReply};
use crate::progress::Probe;
use crate::report::{FoundMeter, FoundStatus};
use crate::session::{Session, Stop};
use core::time::Duration;
use mbus_link::ReplyFrame;
use mbus_proto::address::{BaudRate, LinkAddress, SecondaryMask};
use mbus_proto::frame::Frame;

/// Extra select attempts after silence (libmbus `max_search_retry` default).
const MAX_SEARCH_RETRY: u32 = 1;
/// Empty reads before libmbus's serial receive gives up.
const EMPTY_READS: u32 = 3;

/// libmbus's receive timeout at `baud`: three empty reads of the `VTIME` it configures.
pub fn receive_timeout(baud: BaudRate) -> Duration {
    let vtime_tenths: u64 = match baud {
        BaudRate::B300 => 13,
        BaudRate::B600 => 8,
        BaudRate::B1200 => 5,
        BaudRate::B2400 | BaudRate::B4800 => 3,
        BaudRate::B9600 | BaudRate::B19200 | BaudRate::B38400 => 2,
    };
    Duration::from_millis(vtime_tenths * 100 * u64::from(EMPTY_READS))
}

/// What one libmbus probe concluded.
enum Outcome {
    Nothing,
    Single(ReplyFrame),
    Collision,
}

pub(crate) fn scan<B: ScanBus>(
    session: &mut Session<'_, '_, B>,
    mask: &SecondaryMask,
) -> Result<(), Stop<B::Error>> {
    let listen = Listen::Linger(receive_timeout(session.baud()));
    scan_range(session, 0, *mask, listen, 1.0)
}

fn scan_range<B: ScanBus>(
    session: &mut Session<'_, '_, B>,
    position: usize,
    mask: SecondaryMask,
    listen: Listen,
    weight: f64,
) -> Result<(), Stop<B::Error>> {
    if position >= 16 {
        return Ok(());
    }
    let values = match mask.nibble(position) {
        0xF => 0..=9,
        _ if position < 15 => return scan_range(session, position + 1, mask, listen, weight),
        fixed => fixed..=fixed,
    };
    let share = weight / values.clone().count() as f64;
    for value in values {
        let probe_mask = mask.with_nibble(position, value);
        match probe(session, &probe_mask, position, listen)? {
            Outcome::Single(telegram) => {
                let meter = FoundMeter {
                    baud: session.baud(),
                    primary: telegram.address(),
                    secondary: telegram.secondary_address(),
                    status: FoundStatus::Ok,
                    telegram: Some(telegram),
                };
                session.found(meter);
                session.advance(share);
            }
            Outcome::Collision => scan_range(session, position + 1, probe_mask, listen, share)?,
            Outcome::Nothing => session.advance(share),
        }
    }
    Ok(())
}

/// `mbus_probe_secondary_address`: select, retry on silence, read on a single `E5`.
fn probe<B: ScanBus>(
    session: &mut Session<'_, '_, B>,
    mask: &SecondaryMask,
    position: usize,
    listen: Listen,
) -> Result<Outcome, Stop<B::Error>> {
    let depth = position as u8 + 1;
    for _ in 0..=MAX_SEARCH_RETRY {
        match session.select(mask, depth, listen)? {
            SelectReply::Silent => continue,
            SelectReply::Garbled => return Ok(Outcome::Collision),
            SelectReply::Ack => {
                let probe = Probe::Secondary { mask: *mask, depth };
                return Ok(
                    match session.read(LinkAddress::Selected, false, listen, probe)? {
                        ReadReply::Silent => Outcome::Nothing,
                        ReadReply::Garbled => Outcome::Collision,
                        ReadReply::Telegram(t) if matches!(t.frame(), Frame::Long { .. }) => {
                            Outcome::Single(t)
                        }
                        ReadReply::Telegram(_) => Outcome::Nothing,
                    },
                );
            }
        }
    }
    Ok(Outcome::Nothing)
}
