//! Grid-aligned read schedule.
//!
//! # The grid
//!
//! Read slots lie on a grid of local wall-clock time in the logger's time zone, anchored at
//! Monday 1970-01-05 00:00 local time: a cycle of `c` seconds has a slot at every local time
//! `anchor + k·c`. So 15 min reads at :00, :15, :30, :45; hourly on the full hour; 24 h at
//! local midnight; 48 h at every other local midnight; 168 h on Mondays 00:00; 672 h on every
//! fourth Monday 00:00. Cycles that do not divide a day (90 min divides it, 150 min and 18 h
//! do not) run on continuously from the anchor, so their interval stays even across days.
//!
//! # Daylight-saving changes
//!
//! - **Spring gap** (local times that do not exist, e.g. 02:00–02:59 in Europe/Berlin on the
//!   last Sunday of March): a slot in the gap is read at the instant the gap ends (03:00 new
//!   time); slots that fall on the same instant are one read. With 15 min the reads go on
//!   every 15 real minutes (01:45 CET, 03:00 CEST, 03:15 CEST …); hourly goes 01:00 CET,
//!   03:00 CEST: one real hour apart.
//! - **Autumn repeat** (local times that occur twice, 02:00–02:59 on the last Sunday of
//!   October): a slot is read at both occurrences, first summer time then winter time, so the
//!   reads still come every cycle in real time (hourly: 02:00 CEST, 02:00 CET, 03:00 CET).
//!
//! Readings are stamped with their slot (as an instant in UTC), so the stored times are
//! exactly on the grid however long the bus takes.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use logger_core::config::ReadCycle;
//! use logger_core::schedule::next_slot;
//! let tz: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
//! let now = Utc.with_ymd_and_hms(2026, 6, 1, 10, 7, 12).unwrap(); // 12:07:12 local
//! assert_eq!(next_slot(ReadCycle::M15, tz, now), Utc.with_ymd_and_hms(2026, 6, 1, 10, 15, 0).unwrap());
//! ```

use crate::config::{Config, ReadCycle};
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::BTreeMap;

/// Local time the grid is anchored to: Monday 1970-01-05 00:00.
fn anchor() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1970, 1, 5)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// How far a DST change can move local time (larger than any real one).
const SHIFT_WINDOW_HOURS: i64 = 3;

fn naive_slot(cycle: ReadCycle, k: i64) -> NaiveDateTime {
    anchor() + Duration::seconds(k.saturating_mul(i64::from(cycle.seconds())))
}

fn slot_index_floor(cycle: ReadCycle, naive: NaiveDateTime) -> i64 {
    (naive - anchor())
        .num_seconds()
        .div_euclid(i64::from(cycle.seconds()))
}

/// The instants at which local time `naive` is read: one normally, two when it occurs twice,
/// the end of the gap when it does not occur.
fn instants(tz: Tz, naive: NaiveDateTime) -> [Option<DateTime<Utc>>; 2] {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => [Some(t.with_timezone(&Utc)), None],
        LocalResult::Ambiguous(a, b) => [Some(a.with_timezone(&Utc)), Some(b.with_timezone(&Utc))],
        LocalResult::None => [Some(gap_end(tz, naive)), None],
    }
}

/// First instant whose local time is at or after `naive` (the end of the gap `naive` lies in).
fn gap_end(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    let mut lo = naive.and_utc() - Duration::hours(15);
    let mut hi = naive.and_utc() + Duration::hours(15);
    while (hi - lo).num_seconds() > 1 {
        let mid = lo + Duration::seconds((hi - lo).num_seconds() / 2);
        if mid.with_timezone(&tz).naive_local() >= naive {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

fn offset_seconds(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The first slot of `cycle` strictly after `after`.
pub fn next_slot(cycle: ReadCycle, tz: Tz, after: DateTime<Utc>) -> DateTime<Utc> {
    let c = i64::from(cycle.seconds());
    let window = Duration::hours(SHIFT_WINDOW_HOURS);
    let offset = offset_seconds(tz, after);
    // Fast path: no offset change near `after`, the grid maps one to one.
    if c <= 3600
        && offset == offset_seconds(tz, after - window)
        && offset == offset_seconds(tz, after + window + Duration::seconds(c))
    {
        let naive = after.naive_utc() + Duration::seconds(i64::from(offset));
        let k = slot_index_floor(cycle, naive) + 1;
        return naive_slot(cycle, k).and_utc() - Duration::seconds(i64::from(offset));
    }
    let naive_after = after.with_timezone(&tz).naive_local();
    let mut k = slot_index_floor(cycle, naive_after - window);
    let mut best: Option<DateTime<Utc>> = None;
    loop {
        let slot = naive_slot(cycle, k);
        for t in instants(tz, slot).into_iter().flatten() {
            if t > after && best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        }
        if let Some(b) = best {
            if slot > naive_after + window {
                return b;
            }
        }
        k += 1;
    }
}

/// The last slot of `cycle` at or before `at`.
pub fn slot_at_or_before(cycle: ReadCycle, tz: Tz, at: DateTime<Utc>) -> DateTime<Utc> {
    let window = Duration::hours(SHIFT_WINDOW_HOURS);
    let naive_at = at.with_timezone(&tz).naive_local();
    let mut k = slot_index_floor(cycle, naive_at + window);
    let mut best: Option<DateTime<Utc>> = None;
    loop {
        let slot = naive_slot(cycle, k);
        for t in instants(tz, slot).into_iter().flatten() {
            if t <= at && best.is_none_or(|b| t > b) {
                best = Some(t);
            }
        }
        if let Some(b) = best {
            if slot < naive_at - window {
                return b;
            }
        }
        k -= 1;
    }
}

/// A meter's turn to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Meter id.
    pub meter: u32,
    /// The grid slot the reading belongs to (its time stamp).
    pub slot: DateTime<Utc>,
    /// Slots of this meter that passed unread before `slot` because an earlier read cycle
    /// overran (0 normally).
    pub skipped: u32,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    cycle: ReadCycle,
    next: DateTime<Utc>,
}

/// The next slot of every configured meter.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use logger_core::config::{Config, ReadCycle};
/// use logger_core::schedule::Schedule;
/// let mut config = Config::default();
/// config.general.default_cycle = ReadCycle::S10;
/// config.general.timezone = "UTC".into();
/// config.meters.push(serde_json::from_str(r#"{"id":1,"name":"m","addressing":"primary","primary":1}"#).unwrap());
/// let mut schedule = Schedule::default();
/// schedule.sync(&config, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 3).unwrap());
/// assert_eq!(schedule.next_due(), Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 10).unwrap()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    tz: Option<Tz>,
    entries: BTreeMap<u32, Entry>,
}

/// Cap on counting skipped slots one by one (beyond it the count is estimated).
const MAX_EXACT_SKIP_COUNT: u32 = 10_000;

impl Schedule {
    /// Brings the schedule in line with `config`: new meters (and meters whose cycle or the
    /// time zone changed) get their first slot at or after `now`; removed meters are dropped.
    pub fn sync(&mut self, config: &Config, now: DateTime<Utc>) {
        let tz = config.tz();
        let tz_changed = self.tz != Some(tz);
        self.tz = Some(tz);
        let default = config.general.default_cycle;
        self.entries.retain(|id, _| config.meter(*id).is_some());
        for meter in &config.meters {
            let cycle = meter.effective_cycle(default);
            let keep = !tz_changed
                && self
                    .entries
                    .get(&meter.id)
                    .is_some_and(|e| e.cycle == cycle);
            if !keep {
                let next = next_slot(cycle, tz, now - Duration::seconds(1));
                self.entries.insert(meter.id, Entry { cycle, next });
            }
        }
    }

    /// After the clock was set back: a meter whose pending slot lies beyond the first slot
    /// after `now` is moved back to that slot (otherwise it would wait out the jump). In
    /// normal running the pending slot never lies beyond it. A clock set forward needs
    /// nothing here: the passed slots are reported as skipped.
    pub fn follow_clock(&mut self, now: DateTime<Utc>) {
        let Some(tz) = self.tz else { return };
        for entry in self.entries.values_mut() {
            let first = next_slot(entry.cycle, tz, now);
            if entry.next > first {
                entry.next = first;
            }
        }
    }

    /// The earliest pending slot of any meter.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.entries.values().map(|e| e.next).min()
    }

    /// The pending slot of one meter.
    pub fn next_of(&self, meter: u32) -> Option<DateTime<Utc>> {
        self.entries.get(&meter).map(|e| e.next)
    }

    /// Takes every meter whose slot has come (in meter-id order) and moves each to its next
    /// slot. A meter more than one slot behind (an earlier cycle overran) is read for the
    /// latest passed slot and the skipped ones are counted in [`Due::skipped`].
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Due> {
        let Some(tz) = self.tz else { return Vec::new() };
        let mut due = Vec::new();
        for (id, entry) in self.entries.iter_mut() {
            if entry.next > now {
                continue;
            }
            let latest = slot_at_or_before(entry.cycle, tz, now);
            let skipped = count_slots_between(entry.cycle, tz, entry.next, latest);
            due.push(Due {
                meter: *id,
                slot: latest,
                skipped,
            });
            entry.next = next_slot(entry.cycle, tz, latest);
        }
        due
    }
}

/// Number of slots in `[from, to)`.
fn count_slots_between(cycle: ReadCycle, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
    let mut n = 0;
    let mut t = from;
    while t < to {
        if n == MAX_EXACT_SKIP_COUNT {
            let rest = (to - t).num_seconds() / i64::from(cycle.seconds());
            return n.saturating_add(u32::try_from(rest).unwrap_or(u32::MAX));
        }
        n += 1;
        t = next_slot(cycle, tz, t);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Tz {
        "Europe/Berlin".parse().unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn local(t: DateTime<Utc>) -> String {
        t.with_timezone(&berlin())
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    fn series(cycle: ReadCycle, tz: Tz, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = from;
        for _ in 0..n {
            t = next_slot(cycle, tz, t);
            out.push(t);
        }
        out
    }

    #[test]
    fn quarter_hours_and_full_hours_in_local_time() {
        let tz = berlin();
        let start = utc(2026, 6, 1, 10, 7, 12);
        let q: Vec<_> = series(ReadCycle::M15, tz, start, 4)
            .into_iter()
            .map(local)
            .collect();
        assert_eq!(
            q,
            [
                "2026-06-01 12:15:00 CEST",
                "2026-06-01 12:30:00 CEST",
                "2026-06-01 12:45:00 CEST",
                "2026-06-01 13:00:00 CEST"
            ]
        );
        assert_eq!(
            local(next_slot(ReadCycle::M60, tz, start)),
            "2026-06-01 13:00:00 CEST"
        );
        assert_eq!(
            local(next_slot(ReadCycle::S10, tz, start)),
            "2026-06-01 12:07:20 CEST"
        );
        assert_eq!(
            local(next_slot(ReadCycle::H24, tz, start)),
            "2026-06-02 00:00:00 CEST"
        );
        assert_eq!(
            local(next_slot(ReadCycle::H3, tz, start)),
            "2026-06-01 15:00:00 CEST"
        );
    }

    #[test]
    fn a_slot_time_itself_is_not_after_itself() {
        let tz = berlin();
        let slot = utc(2026, 6, 1, 10, 15, 0);
        assert_eq!(
            next_slot(ReadCycle::M15, tz, slot),
            utc(2026, 6, 1, 10, 30, 0)
        );
        assert_eq!(slot_at_or_before(ReadCycle::M15, tz, slot), slot);
        assert_eq!(
            slot_at_or_before(ReadCycle::M15, tz, slot + Duration::seconds(899)),
            slot
        );
    }

    #[test]
    fn long_cycles_use_documented_anchors() {
        let tz = berlin();
        let start = utc(2026, 6, 3, 12, 0, 0); // a Wednesday
        assert_eq!(
            local(next_slot(ReadCycle::H168, tz, start)),
            "2026-06-08 00:00:00 CEST"
        );
        assert_eq!(
            next_slot(ReadCycle::H168, tz, start)
                .with_timezone(&tz)
                .format("%a")
                .to_string(),
            "Mon"
        );
        let days48: Vec<_> = series(ReadCycle::H48, tz, start, 2)
            .into_iter()
            .map(local)
            .collect();
        // Every other local midnight.
        let d0 = days48[0][8..10].parse::<u32>().unwrap();
        let d1 = days48[1][8..10].parse::<u32>().unwrap();
        assert_eq!(d1 - d0, 2);
        assert!(days48.iter().all(|s| s.contains(" 00:00:00 ")));
        let four_weeks = series(ReadCycle::H672, tz, start, 3);
        for w in four_weeks.windows(2) {
            assert_eq!((w[1] - w[0]).num_days(), 28);
        }
        // 150 min runs on across midnight without resetting.
        let s150 = series(ReadCycle::M150, tz, utc(2026, 6, 1, 20, 0, 0), 3);
        for w in s150.windows(2) {
            assert_eq!((w[1] - w[0]).num_minutes(), 150);
        }
    }

    #[test]
    fn spring_gap_in_berlin_keeps_real_time_spacing() {
        let tz = berlin();
        // 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC).
        let q: Vec<_> = series(ReadCycle::M15, tz, utc(2026, 3, 29, 0, 30, 0), 4)
            .into_iter()
            .map(local)
            .collect();
        assert_eq!(
            q,
            [
                "2026-03-29 01:45:00 CET",
                "2026-03-29 03:00:00 CEST",
                "2026-03-29 03:15:00 CEST",
                "2026-03-29 03:30:00 CEST"
            ]
        );
        let h: Vec<_> = series(ReadCycle::M60, tz, utc(2026, 3, 28, 23, 30, 0), 3)
            .into_iter()
            .map(local)
            .collect();
        assert_eq!(
            h,
            [
                "2026-03-29 01:00:00 CET",
                "2026-03-29 03:00:00 CEST",
                "2026-03-29 04:00:00 CEST"
            ]
        );
        let d: Vec<_> = series(ReadCycle::H24, tz, utc(2026, 3, 28, 12, 0, 0), 2)
            .into_iter()
            .map(local)
            .collect();
        assert_eq!(d, ["2026-03-29 00:00:00 CET", "2026-03-30 00:00:00 CEST"]);
        assert_eq!(
            slot_at_or_before(ReadCycle::M15, tz, utc(2026, 3, 29, 1, 5, 0)),
            utc(2026, 3, 29, 1, 0, 0)
        );
    }

    #[test]
    fn autumn_repeat_in_berlin_reads_both_occurrences() {
        let tz = berlin();
        // 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC).
        let h: Vec<_> = series(ReadCycle::M60, tz, utc(2026, 10, 24, 23, 30, 0), 3)
            .into_iter()
            .map(local)
            .collect();
        assert_eq!(
            h,
            [
                "2026-10-25 02:00:00 CEST",
                "2026-10-25 02:00:00 CET",
                "2026-10-25 03:00:00 CET"
            ]
        );
        let q = series(ReadCycle::M15, tz, utc(2026, 10, 24, 23, 50, 0), 9);
        for w in q.windows(2) {
            assert_eq!(
                (w[1] - w[0]).num_minutes(),
                15,
                "{} -> {}",
                local(w[0]),
                local(w[1])
            );
        }
        assert_eq!(local(q[4]), "2026-10-25 02:00:00 CET");
        assert_eq!(
            slot_at_or_before(ReadCycle::M60, tz, utc(2026, 10, 25, 1, 30, 0)),
            utc(2026, 10, 25, 1, 0, 0)
        );
    }

    #[test]
    fn year_boundary() {
        let tz = berlin();
        let s: Vec<_> = series(ReadCycle::M15, tz, utc(2026, 12, 31, 22, 40, 0), 2)
            .into_iter()
            .map(local)
            .collect();
        assert_eq!(s, ["2026-12-31 23:45:00 CET", "2027-01-01 00:00:00 CET"]);
        assert_eq!(
            local(next_slot(ReadCycle::H24, tz, utc(2026, 12, 31, 12, 0, 0))),
            "2027-01-01 00:00:00 CET"
        );
        let ten = series(ReadCycle::S10, tz, utc(2026, 12, 31, 22, 59, 45), 3);
        assert_eq!(local(ten[1]), "2027-01-01 00:00:05 CET".replace("05", "00"));
    }

    #[test]
    fn every_cycle_is_strictly_increasing_over_a_dst_year() {
        let tz = berlin();
        for cycle in ReadCycle::all().filter(|c| c.seconds() >= 1800) {
            let mut t = utc(2026, 1, 1, 0, 0, 0);
            while t < utc(2027, 1, 1, 0, 0, 0) {
                let n = next_slot(cycle, tz, t);
                assert!(n > t, "{cycle}");
                assert_eq!(
                    slot_at_or_before(cycle, tz, n),
                    n,
                    "{cycle} at {}",
                    local(n)
                );
                t = n;
            }
        }
    }

    #[test]
    fn overrun_takes_latest_slot_and_counts_skipped() {
        let mut config = Config::default();
        config.general.default_cycle = ReadCycle::S10;
        config.general.timezone = "UTC".into();
        for id in 1..=2 {
            config.meters.push(
                serde_json::from_str(&format!(
                    r#"{{"id":{id},"name":"m{id}","addressing":"primary","primary":{id}}}"#
                ))
                .unwrap(),
            );
        }
        let mut s = Schedule::default();
        let t0 = utc(2026, 1, 1, 0, 0, 0);
        s.sync(&config, t0);
        assert_eq!(s.next_due(), Some(t0));
        let due = s.take_due(t0);
        assert_eq!(due.len(), 2);
        assert!(due.iter().all(|d| d.slot == t0 && d.skipped == 0));
        assert_eq!(s.next_due(), Some(t0 + Duration::seconds(10)));
        // Reads that end at once leave the schedule alone.
        s.follow_clock(t0);
        s.follow_clock(t0 + Duration::milliseconds(70));
        assert_eq!(s.next_due(), Some(t0 + Duration::seconds(10)));
        assert!(s.take_due(t0 + Duration::milliseconds(70)).is_empty());
        // The bus was busy for 35 s: slots 10 and 20 passed unread, 30 is read late.
        let due = s.take_due(t0 + Duration::seconds(35));
        assert_eq!(due[0].slot, t0 + Duration::seconds(30));
        assert_eq!(due[0].skipped, 2);
        assert_eq!(s.next_of(1), Some(t0 + Duration::seconds(40)));
        // The clock is set back an hour: the meters follow instead of waiting an hour.
        let back = t0 - Duration::hours(1) + Duration::seconds(4);
        s.follow_clock(back);
        assert_eq!(
            s.next_due(),
            Some(t0 - Duration::hours(1) + Duration::seconds(10))
        );
        s.follow_clock(t0 + Duration::seconds(35));
        assert_eq!(
            s.next_due(),
            Some(t0 - Duration::hours(1) + Duration::seconds(10))
        );
    }
}
