//! The read cycles a logger offers.

use core::fmt;
use core::str::FromStr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One of the read cycles the logger offers, from 10 s to 672 h (28 days).
///
/// Written in configuration files as `"10s"`, `"30s"`, `"1min"` … `"150min"`, `"3h"` … `"672h"`.
///
/// ```
/// use logger_core::config::ReadCycle;
/// let cycle: ReadCycle = "15min".parse()?;
/// assert_eq!(cycle, ReadCycle::default());
/// assert_eq!(cycle.seconds(), 900);
/// assert_eq!(ReadCycle::H168.to_string(), "168h");
/// # Ok::<(), logger_core::config::UnknownCycle>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[allow(missing_docs)] // the variant names are the cycle lengths
pub enum ReadCycle {
    S10,
    S30,
    M1,
    M2,
    M3,
    M4,
    M5,
    M10,
    #[default]
    M15,
    M20,
    M30,
    M45,
    M60,
    M90,
    M120,
    M150,
    H3,
    H6,
    H12,
    H18,
    H24,
    H48,
    H168,
    H672,
}

/// The text was not one of the offered read cycles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown read cycle '{0}' (expected one of 10s, 30s, 1min, 2min, 3min, 4min, 5min, 10min, 15min, 20min, 30min, 45min, 60min, 90min, 120min, 150min, 3h, 6h, 12h, 18h, 24h, 48h, 168h, 672h)")]
pub struct UnknownCycle(pub String);

const TABLE: [(ReadCycle, &str, u32); 24] = [
    (ReadCycle::S10, "10s", 10),
    (ReadCycle::S30, "30s", 30),
    (ReadCycle::M1, "1min", 60),
    (ReadCycle::M2, "2min", 120),
    (ReadCycle::M3, "3min", 180),
    (ReadCycle::M4, "4min", 240),
    (ReadCycle::M5, "5min", 300),
    (ReadCycle::M10, "10min", 600),
    (ReadCycle::M15, "15min", 900),
    (ReadCycle::M20, "20min", 1200),
    (ReadCycle::M30, "30min", 1800),
    (ReadCycle::M45, "45min", 2700),
    (ReadCycle::M60, "60min", 3600),
    (ReadCycle::M90, "90min", 5400),
    (ReadCycle::M120, "120min", 7200),
    (ReadCycle::M150, "150min", 9000),
    (ReadCycle::H3, "3h", 10_800),
    (ReadCycle::H6, "6h", 21_600),
    (ReadCycle::H12, "12h", 43_200),
    (ReadCycle::H18, "18h", 64_800),
    (ReadCycle::H24, "24h", 86_400),
    (ReadCycle::H48, "48h", 172_800),
    (ReadCycle::H168, "168h", 604_800),
    (ReadCycle::H672, "672h", 2_419_200),
];

impl ReadCycle {
    /// Every cycle, shortest first.
    pub fn all() -> impl Iterator<Item = ReadCycle> {
        TABLE.iter().map(|(c, _, _)| *c)
    }

    /// Length of the cycle in seconds.
    pub fn seconds(self) -> u32 {
        TABLE[self as usize].2
    }

    /// The cycle of exactly this many seconds, if it is one of the offered ones.
    pub fn from_seconds(seconds: u32) -> Option<ReadCycle> {
        TABLE
            .iter()
            .find(|(_, _, s)| *s == seconds)
            .map(|(c, _, _)| *c)
    }

    fn text(self) -> &'static str {
        TABLE[self as usize].1
    }
}

impl fmt::Display for ReadCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl FromStr for ReadCycle {
    type Err = UnknownCycle;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let alias = match t {
            "1h" => "60min",
            "2h" => "120min",
            "7d" => "168h",
            "28d" => "672h",
            other => other,
        };
        TABLE
            .iter()
            .find(|(_, text, _)| *text == alias)
            .map(|(c, _, _)| *c)
            .ok_or_else(|| UnknownCycle(s.to_string()))
    }
}

impl Serialize for ReadCycle {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text())
    }
}

impl<'de> Deserialize<'de> for ReadCycle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_variant_order_and_round_trips() {
        for (i, (cycle, text, secs)) in TABLE.iter().enumerate() {
            assert_eq!(*cycle as usize, i);
            assert_eq!(cycle.to_string(), *text);
            assert_eq!(text.parse::<ReadCycle>().unwrap(), *cycle);
            assert_eq!(ReadCycle::from_seconds(*secs), Some(*cycle));
        }
        assert_eq!(ReadCycle::all().count(), 24);
    }

    #[test]
    fn unknown_cycle_is_named() {
        let err = "7min".parse::<ReadCycle>().unwrap_err();
        assert!(err.to_string().contains("'7min'"));
        assert_eq!("1h".parse::<ReadCycle>().unwrap(), ReadCycle::M60);
    }
}
