//! What a scan found: meters with their addresses, baud rate and first telegram, and the cost.

use core::time::Duration;
use mbus_link::ReplyFrame;
use mbus_proto::address::{BaudRate, SecondaryAddress};
use mbus_proto::app::{self, Header};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// How a found meter answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundStatus {
    /// It answered alone and its first telegram was read.
    Ok,
    /// Several meters share this secondary address: even the fully specified select collides.
    DuplicateSecondary,
    /// Several meters share this primary address: their replies collide on every attempt.
    DuplicatePrimary,
    /// It acknowledges selects but never answers a data request; its secondary address comes
    /// from the select mask that isolated it.
    Unreadable,
    /// Its address has `F` nibbles (manufacturer, version, medium) exactly where another meter's
    /// address differs, so every select reaching it reaches the other one too: detected, with
    /// its address, but never read alone.
    Shadowed,
}

/// One meter (or group of meters sharing an address) found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundMeter {
    /// The baud rate it answered at.
    pub baud: BaudRate,
    /// Its primary address: the probed one (primary scan) or the A field of its telegram.
    pub primary: Option<u8>,
    /// Its secondary address: from the telegram header, or from the select mask.
    pub secondary: Option<SecondaryAddress>,
    /// How it answered.
    pub status: FoundStatus,
    /// Its first telegram, when one could be read.
    pub telegram: Option<ReplyFrame>,
}

impl FoundMeter {
    /// The application-layer header of the first telegram (long header with the secondary
    /// address, short header, or none), when a telegram was read and decodes.
    pub fn header(&self) -> Option<Header> {
        let telegram = self.telegram.as_ref()?;
        app::Telegram::from_frame(&telegram.frame())
            .ok()?
            .header()
            .copied()
    }
}

/// Serialized with the header fields spelled out and the telegram as hex, for JSON output.
impl Serialize for FoundMeter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let long = match self.header() {
            Some(Header::Long(h)) => Some(h),
            _ => None,
        };
        let header = self.header();
        let mut s = serializer.serialize_struct("FoundMeter", 11)?;
        s.serialize_field("baud", &self.baud.bps())?;
        s.serialize_field("primary", &self.primary)?;
        s.serialize_field("secondary", &self.secondary.map(|a| a.to_string()))?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field(
            "manufacturer",
            &long.map(|h| String::from_utf8_lossy(&h.manufacturer_letters()).into_owned()),
        )?;
        s.serialize_field("version", &long.map(|h| h.version))?;
        s.serialize_field("medium", &long.map(|h| h.medium))?;
        s.serialize_field("access_number", &header.and_then(|h| h.access_number()))?;
        s.serialize_field("status_byte", &header.and_then(|h| h.status()))?;
        s.serialize_field("telegram", &self.telegram.as_ref().map(|t| t.to_string()))?;
        s.end()
    }
}

/// Counters of a scan: what it cost on the bus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanCost {
    /// Secondary selects sent.
    pub selects: u64,
    /// Data requests (REQ_UD2) sent.
    pub reads: u64,
    /// Bus time used.
    #[serde(serialize_with = "seconds")]
    pub bus_time: Duration,
}

impl ScanCost {
    /// Probes: secondary-address selects sent, every repetition counted (a silent mask sent
    /// twice is two probes). Data requests are not probes; see [`ScanCost::requests`].
    pub fn probes(&self) -> u64 {
        self.selects
    }

    /// Requests sent in all: selects plus data requests.
    pub fn requests(&self) -> u64 {
        self.selects + self.reads
    }
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What the line looked like to a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LineState {
    /// Replies came back, or nothing can be said (the scan was cancelled first).
    #[default]
    Ok,
    /// Not one byte came back to any request of the scan (the all-wildcard select of a
    /// secondary scan is sent several times before the bus counts as empty).
    Silent {
        /// Requests sent in all.
        probes: u64,
    },
    /// The line garbles every request: garbled replies without a clean one in between, and an
    /// address no meter can have came back garbled too (or a secondary search spent its whole
    /// request budget without finding the meters to explain its collisions). The scan stopped
    /// there.
    Garbled {
        /// The baud rate being scanned when the scan stopped.
        baud: BaudRate,
        /// Garbled outcomes in a row when it stopped.
        streak: u32,
    },
}

impl LineState {
    /// What a technician should check, for a silent or garbled line.
    pub fn advice(&self) -> Option<&'static str> {
        match self {
            LineState::Ok => None,
            LineState::Silent { .. } => Some(
                "no reply at all: check the bus power (converter or gateway supply), the wiring, \
                 the baud rate, and that the gateway is in transparent M-Bus mode",
            ),
            LineState::Garbled { .. } => Some(
                "every request came back garbled: likely noise on the line, a babbling meter \
                 talking over the others, a wrong baud rate, or a level converter echoing the \
                 requests",
            ),
        }
    }
}

/// Serialized as `{"state": "ok" | "silent" | "garbled", …, "advice": …}`.
impl Serialize for LineState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("LineState", 5)?;
        match self {
            LineState::Ok => s.serialize_field("state", "ok")?,
            LineState::Silent { probes } => {
                s.serialize_field("state", "silent")?;
                s.serialize_field("probes", probes)?;
            }
            LineState::Garbled { baud, streak } => {
                s.serialize_field("state", "garbled")?;
                s.serialize_field("baud", &baud.bps())?;
                s.serialize_field("streak", streak)?;
            }
        }
        if let Some(advice) = self.advice() {
            s.serialize_field("advice", advice)?;
        }
        s.end()
    }
}

/// The result of a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// Everything found, in the order found.
    pub meters: Vec<FoundMeter>,
    /// What the scan cost.
    pub cost: ScanCost,
    /// True when the scan was cancelled before it finished.
    pub cancelled: bool,
    /// Whether the line answered sensibly; a garbled line stops the scan.
    pub line: LineState,
}
