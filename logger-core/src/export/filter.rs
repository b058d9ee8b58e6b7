//! Thinning a stream of readings to the last one per calendar period.

use super::Filter;
use crate::storage::{Reading, StorageError};
use chrono::{Datelike, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

/// Passes on the last reading of every hour, day or month of the given time zone (or every
/// reading for [`Filter::All`]) from a time-ordered stream, holding only one reading back.
///
/// ```
/// use logger_core::export::{Filter, LastPerPeriod};
/// use logger_core::storage::{MeterId, Reading, StorageError};
///
/// let at = |time| Ok::<_, StorageError>(Reading { meter: MeterId(1), time, status: 0, values: vec![] });
/// // 21:00 UTC on 1 Jan 2024 is 22:00 in Berlin; 23:00 and 23:30 UTC are 00:00 and 00:30 on 2 Jan.
/// let stream = vec![at(1_704_146_400 - 3600), at(1_704_150_000), at(1_704_151_800)];
/// let days: Vec<i64> = LastPerPeriod::new(stream.into_iter(), Filter::Day, chrono_tz::Europe::Berlin)
///     .map(|r| r.unwrap().time)
///     .collect();
/// assert_eq!(days, vec![1_704_146_400 - 3600, 1_704_151_800]);
/// ```
pub struct LastPerPeriod<I> {
    inner: I,
    filter: Filter,
    time_zone: Tz,
    pending: Option<(Period, Reading)>,
}

/// A calendar period: local year, month, day, hour and UTC offset (fields below the filter's
/// unit are zero). The offset keeps the two 02:00 hours of an autumn DST change apart.
type Period = (i32, u32, u32, u32, i32);

impl<I> LastPerPeriod<I> {
    /// Filters `inner`, which must yield readings in time order.
    pub fn new(inner: I, filter: Filter, time_zone: Tz) -> LastPerPeriod<I> {
        LastPerPeriod {
            inner,
            filter,
            time_zone,
            pending: None,
        }
    }

    fn period(&self, time: i64) -> Period {
        let Some(local) = self.time_zone.timestamp_opt(time, 0).single() else {
            return (0, 0, 0, 0, 0);
        };
        match self.filter {
            Filter::Hour => (
                local.year(),
                local.month(),
                local.day(),
                local.hour(),
                local.offset().fix().local_minus_utc(),
            ),
            Filter::Day => (local.year(), local.month(), local.day(), 0, 0),
            Filter::Month => (local.year(), local.month(), 0, 0, 0),
            Filter::All => (0, 0, 0, 0, 0),
        }
    }
}

impl<I: Iterator<Item = Result<Reading, StorageError>>> Iterator for LastPerPeriod<I> {
    type Item = Result<Reading, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.filter == Filter::All {
            return self.inner.next();
        }
        loop {
            match self.inner.next() {
                Some(Ok(reading)) => {
                    let period = self.period(reading.time);
                    match self.pending.replace((period, reading)) {
                        Some((previous, done)) if previous != period => return Some(Ok(done)),
                        _ => {}
                    }
                }
                Some(Err(e)) => return Some(Err(e)),
                None => return self.pending.take().map(|(_, reading)| Ok(reading)),
            }
        }
    }
}
