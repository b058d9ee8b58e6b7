//! Compound date and time types of EN 13757-3 Annex A: G (CP16 date), F (CP32 date and time),
//! I (CP48 date and time with seconds), J (CP24 time of day) and K (CP32 daylight-saving rule).
//!
//! All decoders take the bytes in wire order (least significant byte first) and never fail: every
//! bit pattern decodes to a value; flags such as "invalid" are reported, not turned into errors.
//!
//! ```
//! use mbus_proto::datetime::{Date, DateTime};
//!
//! let date = Date::from_cp16([0xDF, 0x1C]);
//! assert_eq!((date.year, date.month, date.day), (2014, 12, 31));
//! let stamp = DateTime::from_cp32([0x1A, 0x2F, 0x65, 0x11]);
//! assert_eq!(stamp.to_string(), "2011-01-05T15:26:00");
//! ```

use core::fmt;

/// The year of a compound type from its 7-bit field: 0…80 are 2000…2080, 81…127 are 1981…2027
/// (the century rule libmbus applies; meters built before 2000 send 81…99).
pub fn century_year(y: u8) -> u16 {
    let y = u16::from(y & 0x7F);
    if y <= 80 {
        2000 + y
    } else {
        1900 + y
    }
}

fn year_of(low: u8, high: u8) -> u16 {
    century_year(((low & 0xE0) >> 5) | ((high & 0xF0) >> 1))
}

/// A calendar date (type G, and the date part of F and I). Fields are as transmitted, so a meter
/// may send values outside the calendar (e.g. month 0 or 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Date {
    /// Year (see [`century_year`]).
    pub year: u16,
    /// Month 1…12 as sent (0…15 possible).
    pub month: u8,
    /// Day of month 1…31 as sent (0 possible).
    pub day: u8,
}

impl Date {
    /// Decodes type G (CP16).
    pub fn from_cp16(b: [u8; 2]) -> Date {
        Date {
            year: year_of(b[0], b[1]),
            month: b[1] & 0x0F,
            day: b[0] & 0x1F,
        }
    }

    /// True if every field is 0x00 / "not specified" as some meters send for an unset date.
    pub fn is_unset(&self) -> bool {
        self.day == 0 && self.month == 0 && self.year == 2000
    }

    /// True if the date exists in the calendar (month 1…12, day 1…the month's length, leap
    /// years counted).
    ///
    /// ```
    /// use mbus_proto::datetime::Date;
    ///
    /// assert!(Date { year: 2024, month: 2, day: 29 }.is_valid());
    /// assert!(!Date { year: 2023, month: 2, day: 29 }.is_valid());
    /// assert!(!Date { year: 2027, month: 15, day: 31 }.is_valid()); // FF FF, "no date"
    /// ```
    pub fn is_valid(&self) -> bool {
        let leap = self.year.is_multiple_of(4)
            && (!self.year.is_multiple_of(100) || self.year.is_multiple_of(400));
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1..=days).contains(&self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A time of day (type J, and the time part of F and I).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time {
    /// Hour 0…23 as sent (0…31 possible).
    pub hour: u8,
    /// Minute 0…59 as sent (0…63 possible).
    pub minute: u8,
    /// Second 0…59 as sent (0…63 possible); always 0 for type F.
    pub second: u8,
}

impl Time {
    /// Decodes type J (CP24): second, minute, hour.
    pub fn from_cp24(b: [u8; 3]) -> Time {
        Time {
            hour: b[2] & 0x1F,
            minute: b[1] & 0x3F,
            second: b[0] & 0x3F,
        }
    }
}

impl Time {
    /// True if hour, minute and second are within 0…23, 0…59, 0…59.
    pub fn is_valid(&self) -> bool {
        self.hour < 24 && self.minute < 60 && self.second < 60
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// A date and time (types F and I) with its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// The date.
    pub date: Date,
    /// The time of day.
    pub time: Time,
    /// The "time invalid" flag (IV) was set.
    pub invalid: bool,
    /// The summer-time flag (SU) was set.
    pub summer_time: bool,
}

impl DateTime {
    /// Decodes type F (CP32): minute, hour, day, month/year. The hundred-year field (bits 5–6
    /// of the hour byte) is honoured: when it is not 0 the year is 1900 + 100 × hundred-year +
    /// year field; when it is 0 (what meters send that predate it) the century rule of
    /// [`century_year`] applies.
    ///
    /// ```
    /// use mbus_proto::datetime::DateTime;
    ///
    /// // 2110-01-05 15:26: year field 10, hundred-year 2.
    /// assert_eq!(DateTime::from_cp32([0x1A, 0x4F, 0x45, 0x11]).to_string(), "2110-01-05T15:26:00");
    /// // The same without the hundred-year bits: 2010.
    /// assert_eq!(DateTime::from_cp32([0x1A, 0x0F, 0x45, 0x11]).to_string(), "2010-01-05T15:26:00");
    /// ```
    pub fn from_cp32(b: [u8; 4]) -> DateTime {
        let mut date = Date::from_cp16([b[2], b[3]]);
        let hundred_years = u16::from((b[1] >> 5) & 0x03);
        if hundred_years != 0 {
            let field = ((b[2] & 0xE0) >> 5) | ((b[3] & 0xF0) >> 1);
            date.year = 1900 + 100 * hundred_years + u16::from(field);
        }
        DateTime {
            date,
            time: Time {
                hour: b[1] & 0x1F,
                minute: b[0] & 0x3F,
                second: 0,
            },
            invalid: b[0] & 0x80 != 0,
            summer_time: b[1] & 0x80 != 0,
        }
    }

    /// Decodes type I (CP48): second, minute, hour, day, month/year, week/flags.
    pub fn from_cp48(b: [u8; 6]) -> DateTime {
        DateTime {
            date: Date::from_cp16([b[3], b[4]]),
            time: Time {
                hour: b[2] & 0x1F,
                minute: b[1] & 0x3F,
                second: b[0] & 0x3F,
            },
            invalid: b[1] & 0x80 != 0,
            summer_time: b[0] & 0x40 != 0,
        }
    }
}

impl DateTime {
    /// True if the "invalid" flag is clear and date and time exist in the calendar.
    pub fn is_valid(&self) -> bool {
        !self.invalid && self.date.is_valid() && self.time.is_valid()
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{}", self.date, self.time)
    }
}

/// A daylight-saving rule (type K, CP32): when summer time begins and ends and by how much the
/// clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DstRule {
    /// Hour at which summer time begins.
    pub begin_hour: u8,
    /// Day of month on which summer time begins.
    pub begin_day: u8,
    /// Month in which summer time begins.
    pub begin_month: u8,
    /// Day of month on which summer time ends.
    pub end_day: u8,
    /// Month in which summer time ends.
    pub end_month: u8,
    /// Deviation of local time from UTC in hours (signed).
    pub local_deviation: i8,
    /// Deviation of summer time from normal time in hours (signed).
    pub dst_deviation: i8,
}

/// `summer time 03-25 02:00 to 10-25, +1 h (local time UTC+2 h)`: begin (month-day hour),
/// end (month-day), the summer-time shift and the local deviation from UTC.
impl fmt::Display for DstRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "summer time {:02}-{:02} {:02}:00 to {:02}-{:02}, {:+} h (local time UTC{:+} h)",
            self.begin_month,
            self.begin_day,
            self.begin_hour,
            self.end_month,
            self.end_day,
            self.dst_deviation,
            self.local_deviation
        )
    }
}

impl DstRule {
    /// Decodes type K: byte 0 = begin hour (5 bits) and sign bits, byte 1 = begin day (5 bits)
    /// and deviation, byte 2 = begin month / end month nibbles, byte 3 = end day (5 bits) and
    /// local deviation.
    pub fn from_cp32(b: [u8; 4]) -> DstRule {
        let sign = |negative: bool, v: u8| -> i8 {
            // Masked to at most 3 bits, so the cast cannot overflow.
            let v = (v & 0x07) as i8;
            if negative {
                -v
            } else {
                v
            }
        };
        DstRule {
            begin_hour: b[0] & 0x1F,
            begin_day: b[1] & 0x1F,
            begin_month: b[2] & 0x0F,
            end_month: b[2] >> 4,
            end_day: b[3] & 0x1F,
            dst_deviation: sign(b[0] & 0x80 != 0, b[1] >> 5),
            local_deviation: sign(b[0] & 0x40 != 0, b[3] >> 5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_g_date() {
        // 31.12.2014: day 31 = 0x1F, year 14 = 0b0001110 -> low bits 110 in byte 0, high 0001 in byte 1.
        let d = Date::from_cp16([0xDF, 0x1C]);
        assert_eq!((d.year, d.month, d.day), (2014, 12, 31));
        assert_eq!(d.to_string(), "2014-12-31");
        assert!(Date::from_cp16([0, 0]).is_unset());
    }

    #[test]
    fn type_f_date_time() {
        let t = DateTime::from_cp32([0x1A, 0x2F, 0x65, 0x11]);
        assert_eq!(t.to_string(), "2011-01-05T15:26:00");
        assert!(!t.invalid);
        let t = DateTime::from_cp32([0x9A, 0xAF, 0x65, 0x11]);
        assert!(t.invalid && t.summer_time);
        assert!(!t.is_valid());
        // Hundred-year field 1 with year field 96: 2096 (1996 without it); field 3, year 0: 2200.
        let t = DateTime::from_cp32([0x00, 0x20, 0x01, 0xC1]);
        assert_eq!(t.date.year, 2096);
        assert_eq!(
            DateTime::from_cp32([0x00, 0x60, 0x01, 0x01]).date.year,
            2200
        );
        assert!(DateTime::from_cp32([0x00, 0x60, 0x01, 0x01]).is_valid());
        // Hour 24 and month 13 do not exist.
        assert!(!DateTime::from_cp32([0x00, 0x18, 0x01, 0x01]).is_valid());
        assert!(!DateTime::from_cp32([0x00, 0x00, 0x01, 0x0D]).is_valid());
    }

    #[test]
    fn type_i_date_time() {
        let t = DateTime::from_cp48([0x45, 0x1A, 0x0F, 0x65, 0x11, 0x00]);
        assert_eq!(t.to_string(), "2011-01-05T15:26:05");
        assert!(t.summer_time);
    }

    #[test]
    fn century_rule() {
        assert_eq!(century_year(0), 2000);
        assert_eq!(century_year(80), 2080);
        assert_eq!(century_year(96), 1996);
        assert_eq!(century_year(127), 2027);
    }

    #[test]
    fn type_j_time() {
        assert_eq!(Time::from_cp24([0x3B, 0x3B, 0x17]).to_string(), "23:59:59");
    }

    #[test]
    fn type_k_rule() {
        let k = DstRule::from_cp32([0x02, 0x39, 0xA3, 0x59]);
        assert_eq!((k.begin_hour, k.begin_day, k.begin_month), (2, 25, 3));
        assert_eq!((k.end_day, k.end_month), (25, 10));
        assert_eq!((k.dst_deviation, k.local_deviation), (1, 2));
        assert_eq!(
            k.to_string(),
            "summer time 03-25 02:00 to 10-25, +1 h (local time UTC+2 h)"
        );
    }
}
