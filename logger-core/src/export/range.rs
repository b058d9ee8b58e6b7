//! Export ranges as users give them: dates or local date-times.

use super::ExportError;
use chrono::{LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use std::str::FromStr;

/// One end of an export range: a calendar date (`2024-01-31`, the whole day) or a local date
/// and time (`2024-01-31T12:00` or `2024-01-31 12:00:30`) in the logger's time zone.
///
/// ```
/// use logger_core::export::Bound;
///
/// let tz = chrono_tz::Europe::Berlin;
/// let from: Bound = "2024-01-01".parse()?;
/// let to: Bound = "2024-01-31".parse()?;
/// // From local midnight of 1 Jan to the end of 31 Jan (exclusive midnight of 1 Feb).
/// assert_eq!(from.start(tz)?, 1_704_063_600);
/// assert_eq!(to.end(tz)?, 1_706_742_000);
/// # Ok::<(), logger_core::export::ExportError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// A whole local day.
    Date(NaiveDate),
    /// A local wall-clock time.
    DateTime(NaiveDateTime),
}

impl FromStr for Bound {
    type Err = ExportError;

    fn from_str(text: &str) -> Result<Bound, ExportError> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(Bound::Date(date));
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ] {
            if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
                return Ok(Bound::DateTime(time));
            }
        }
        Err(ExportError::BadBound(format!(
            "{text:?} is not a date (YYYY-MM-DD) or local time (YYYY-MM-DDTHH:MM[:SS])"
        )))
    }
}

impl Bound {
    /// The first instant included when this bound starts a range (unix seconds): the start of
    /// the day, or the time itself.
    pub fn start(self, time_zone: Tz) -> Result<i64, ExportError> {
        match self {
            Bound::Date(date) => instant(date.and_time(chrono::NaiveTime::MIN), time_zone),
            Bound::DateTime(time) => instant(time, time_zone),
        }
    }

    /// The first instant no longer included when this bound ends a range: the start of the
    /// next day (the day itself is included), or the time itself.
    pub fn end(self, time_zone: Tz) -> Result<i64, ExportError> {
        match self {
            Bound::Date(date) => {
                let next = date.succ_opt().ok_or_else(|| {
                    ExportError::BadBound(format!("{date} is the last representable day"))
                })?;
                instant(next.and_time(chrono::NaiveTime::MIN), time_zone)
            }
            Bound::DateTime(time) => instant(time, time_zone),
        }
    }
}

/// The instant of a local wall-clock time: the earlier one where the clock repeats an hour,
/// the first valid time after a gap where it skips one.
fn instant(local: NaiveDateTime, time_zone: Tz) -> Result<i64, ExportError> {
    let mut probe = local;
    for _ in 0..=96 {
        match time_zone.from_local_datetime(&probe) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return Ok(t.timestamp()),
            LocalResult::None => probe += TimeDelta::minutes(15),
        }
    }
    Err(ExportError::BadBound(format!(
        "{local} does not exist in time zone {}",
        time_zone.name()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    #[test]
    fn dates_and_times_parse() {
        assert_eq!(
            "2024-03-31".parse::<Bound>().unwrap(),
            Bound::Date(NaiveDate::from_ymd_opt(2024, 3, 31).unwrap())
        );
        assert!(matches!(
            "2024-03-31T02:30".parse::<Bound>(),
            Ok(Bound::DateTime(_))
        ));
        assert!(matches!(
            "2024-03-31 02:30:10".parse::<Bound>(),
            Ok(Bound::DateTime(_))
        ));
        let err = "31.03.2024".parse::<Bound>().unwrap_err();
        assert!(err.to_string().contains("31.03.2024"), "{err}");
        assert!("2024-02-30".parse::<Bound>().is_err());
    }

    #[test]
    fn dst_days_have_their_true_length() {
        let spring: Bound = "2024-03-31".parse().unwrap();
        assert_eq!(
            spring.end(Berlin).unwrap() - spring.start(Berlin).unwrap(),
            23 * 3600
        );
        let autumn: Bound = "2024-10-27".parse().unwrap();
        assert_eq!(
            autumn.end(Berlin).unwrap() - autumn.start(Berlin).unwrap(),
            25 * 3600
        );
        // 02:30 does not exist on the spring day: the range starts at 03:00 CEST = 01:00 UTC.
        let gap: Bound = "2024-03-31T02:30".parse().unwrap();
        assert_eq!(gap.start(Berlin).unwrap(), 1_711_846_800);
        // 02:30 happens twice in autumn: the first (CEST, 00:30 UTC) is taken.
        let twice: Bound = "2024-10-27T02:30".parse().unwrap();
        assert_eq!(twice.start(Berlin).unwrap(), 1_729_989_000);
    }
}
