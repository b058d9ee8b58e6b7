//! The event log ("Diagnose"): what happened, from which source, how severe, when
//! it came and when it went. Keeps the newest N entries (1000 by default).
//!
//! # Persistence
//!
//! The log lives in `events.jsonl` in the data directory: one JSON object per line, either
//! `{"add":{…event…}}` or `{"went":{"id":7,"at":"…"}}`. Each line is appended and flushed to
//! disk before the call returns, so a crash loses at most the line being written; a torn last
//! line is ignored on load. When the file holds twice the capacity, it is rewritten (atomically)
//! with only the entries kept.
//!
//! # Incident notifications
//!
//! An [`IncidentSink`] attached with [`EventLog::set_sink`] is told about every event recorded
//! and every condition that went, after the line is on disk. Notifications such as e-mail
//! alarms are derived there, in one place, so they follow the log's one-event-per-incident
//! rule instead of being raised wherever an incident is detected.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use logger_core::events::{EventCode, EventLog};
//! let dir = tempfile::tempdir()?;
//! let t = Utc.with_ymd_and_hms(2026, 2, 8, 11, 30, 32).unwrap();
//! let mut log = EventLog::open(dir.path(), 1000)?;
//! log.record(EventCode::Start, None, "Logger start", t)?;
//! drop(log);
//! let log = EventLog::open(dir.path(), 1000)?;
//! assert_eq!(log.entries().next().unwrap().message, "Logger start");
//! # Ok::<(), std::io::Error>(())
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Severity ("Art").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Kind {
    /// Information.
    I,
    /// Warning.
    W,
    /// Error.
    E,
}

/// What kind of event it is; the number is the reference appliance's event number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventCode {
    /// The logger started.
    Start,
    /// Bus overload / short circuit.
    BusOverload,
    /// An upload started.
    UploadStart,
    /// An upload failed.
    UploadFailed,
    /// An upload finished successfully.
    UploadSuccess,
    /// A meter could not be read.
    MeterReadFailed,
    /// A meter was read but reports error flags.
    MeterErrorFlags,
    /// An e-mail could not be sent.
    EmailFailed,
    /// A read cycle ran past the next slot.
    CycleOverrun,
    /// Readings could not be stored (disk full, card failure).
    StorageFailed,
    /// A configuration file changed on disk was invalid and not taken.
    ConfigRejected,
    /// A meter answers with encrypted records; a key is needed.
    MeterEncrypted,
    /// A configuration of an older schema version was converted and saved.
    ConfigMigrated,
    /// An upload spool was full: its oldest files were dropped.
    UploadSpoolFull,
    /// The bus device (level converter, TCP gateway) is missing or failed; the logger keeps
    /// trying to open it.
    DeviceUnavailable,
    /// A PC program has the bus through the level-converter bridge (goes when it disconnects).
    LevelConverter,
    /// A connection to the level-converter bridge was refused (another program has the bus).
    LevelConverterRefused,
    /// Scheduled reads resumed after level-converter mode, with the read slots missed.
    ReadsResumed,
    /// A fault relay switched or was released.
    RelaySwitched,
    /// A front-button gesture was recognised.
    ButtonAction,
    /// An input or output of the appliance cannot be used (missing GPIO chip or IIO device,
    /// unknown line, an output that failed to switch).
    IoFault,
    /// An S0 input's total was set to a new start value (old and new total in the message).
    S0StartValue,
    /// The level converter's settings took effect (port opened, moved or closed).
    LevelConverterSettings,
    /// The level converter's port could not be opened with the settings saved.
    LevelConverterFailed,
    /// The MQTT broker cannot be reached or refused a message (a condition: it goes when
    /// publishing works again).
    MqttFailed,
    /// The MQTT offline queue was full: its oldest read cycles were dropped.
    MqttQueueFull,
    /// The central PostgreSQL database cannot be reached or refused a batch (a condition).
    PostgresFailed,
}

impl EventCode {
    /// Event number ("Nr").
    pub fn number(self) -> u16 {
        match self {
            EventCode::Start => 0,
            EventCode::BusOverload => 1,
            EventCode::UploadStart => 2,
            EventCode::UploadFailed => 3,
            EventCode::UploadSuccess => 4,
            EventCode::MeterReadFailed => 8,
            EventCode::MeterErrorFlags => 10,
            EventCode::EmailFailed => 12,
            EventCode::CycleOverrun => 14,
            EventCode::StorageFailed => 15,
            EventCode::ConfigRejected => 16,
            EventCode::MeterEncrypted => 17,
            EventCode::ConfigMigrated => 18,
            EventCode::UploadSpoolFull => 19,
            EventCode::DeviceUnavailable => 20,
            EventCode::LevelConverter => 50,
            EventCode::LevelConverterRefused => 51,
            EventCode::ReadsResumed => 52,
            EventCode::RelaySwitched => 53,
            EventCode::ButtonAction => 54,
            EventCode::IoFault => 55,
            EventCode::S0StartValue => 56,
            EventCode::LevelConverterSettings => 57,
            EventCode::LevelConverterFailed => 58,
            EventCode::MqttFailed => 40,
            EventCode::MqttQueueFull => 41,
            EventCode::PostgresFailed => 42,
        }
    }

    /// Severity of this kind of event.
    pub fn kind(self) -> Kind {
        match self {
            EventCode::Start
            | EventCode::UploadStart
            | EventCode::UploadSuccess
            | EventCode::ConfigMigrated
            | EventCode::LevelConverter
            | EventCode::ReadsResumed
            | EventCode::RelaySwitched
            | EventCode::ButtonAction
            | EventCode::S0StartValue
            | EventCode::LevelConverterSettings => Kind::I,
            EventCode::MeterReadFailed
            | EventCode::MeterErrorFlags
            | EventCode::CycleOverrun
            | EventCode::ConfigRejected
            | EventCode::MeterEncrypted
            | EventCode::UploadSpoolFull
            | EventCode::LevelConverterRefused
            | EventCode::IoFault
            | EventCode::LevelConverterFailed
            | EventCode::MqttQueueFull => Kind::W,
            EventCode::BusOverload
            | EventCode::UploadFailed
            | EventCode::EmailFailed
            | EventCode::StorageFailed
            | EventCode::DeviceUnavailable
            | EventCode::MqttFailed
            | EventCode::PostgresFailed => Kind::E,
        }
    }

    /// Source ("Quelle") shown for this kind of event.
    pub fn source(self) -> &'static str {
        match self {
            EventCode::UploadStart
            | EventCode::UploadFailed
            | EventCode::UploadSuccess
            | EventCode::UploadSpoolFull => "Upload",
            EventCode::EmailFailed => "E-Mail",
            EventCode::RelaySwitched
            | EventCode::ButtonAction
            | EventCode::IoFault
            | EventCode::S0StartValue => "I/O",
            EventCode::MqttFailed | EventCode::MqttQueueFull => "MQTT",
            EventCode::PostgresFailed => "PostgreSQL",
            _ => "M-Bus",
        }
    }
}

/// An event another thread (the uploader) hands to the engine, which owns the log and
/// records it in its run loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventNotice {
    /// Record an event (a condition opens for error and warning codes).
    Came {
        /// What happened.
        code: EventCode,
        /// The message shown.
        message: String,
        /// When it happened.
        at: DateTime<Utc>,
    },
    /// Close the open condition of `code` (no meter).
    Went {
        /// The condition that ended.
        code: EventCode,
        /// When it ended.
        at: DateTime<Utc>,
    },
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Sequence number, increasing.
    pub id: u64,
    /// What happened.
    pub code: EventCode,
    /// Where ("Quelle").
    pub source: String,
    /// Severity ("Art").
    pub kind: Kind,
    /// The meter concerned, if any.
    pub meter: Option<u32>,
    /// When it came.
    pub came: DateTime<Utc>,
    /// When the condition went away (conditions only).
    pub went: Option<DateTime<Utc>>,
    /// Text ("Meldung").
    pub message: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    Add(Event),
    Went { id: u64, at: DateTime<Utc> },
}

/// Name of the event-log file in the data directory.
pub const EVENTS_FILE: &str = "events.jsonl";

/// Reads an event-log file: the events with their "went" times applied, and the number of
/// lines. A missing file is an empty log; lines that do not parse (a torn write) are skipped.
fn parse(path: &Path) -> io::Result<(VecDeque<Event>, usize)> {
    let mut events: VecDeque<Event> = VecDeque::new();
    let mut lines = 0;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((events, 0)),
        Err(e) => return Err(e),
    };
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        lines += 1;
        match serde_json::from_slice::<Line>(&line) {
            Ok(Line::Add(e)) => events.push_back(e),
            Ok(Line::Went { id, at }) => {
                if let Some(e) = events.iter_mut().rev().find(|e| e.id == id) {
                    e.went = Some(at);
                }
            }
            Err(_) => {}
        }
    }
    Ok((events, lines))
}

/// The events of a data directory's log, newest first, without opening it for writing (for
/// tools looking at a running logger's log).
pub fn read(data_dir: &Path) -> io::Result<Vec<Event>> {
    let (events, _) = parse(&data_dir.join(EVENTS_FILE))?;
    Ok(events.into_iter().rev().collect())
}

/// Told about every change of the log's incidents, right after it is written.
pub trait IncidentSink: Send {
    /// An event was recorded.
    fn came(&mut self, event: &Event);
    /// The condition of `event` went (its `went` time is set).
    fn went(&mut self, event: &Event);
}

/// The attached sink, if any (a named type so the log can stay `Debug`).
#[derive(Default)]
struct Sink(Option<Box<dyn IncidentSink>>);

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Sink(attached)"
        } else {
            "Sink(none)"
        })
    }
}

/// The persistent, bounded event log.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    file: File,
    capacity: usize,
    events: VecDeque<Event>,
    next_id: u64,
    lines: usize,
    sink: Sink,
}

impl EventLog {
    /// Opens (or creates) the log in `data_dir`, keeping the newest `capacity` entries.
    pub fn open(data_dir: &Path, capacity: usize) -> io::Result<EventLog> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(EVENTS_FILE);
        let (events, lines) = parse(&path)?;
        let next_id = events.iter().map(|e| e.id + 1).max().unwrap_or(0);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let mut log = EventLog {
            path,
            file,
            capacity: capacity.max(1),
            events,
            next_id,
            lines,
            sink: Sink::default(),
        };
        log.trim();
        // A torn last line would glue onto the next append: start on a fresh line.
        let len = log.file.metadata()?.len();
        if len > 0 {
            let text = std::fs::read(&log.path)?;
            if text.last() != Some(&b'\n') {
                log.file.write_all(b"\n")?;
            }
        }
        if log.lines > 2 * log.capacity {
            log.compact()?;
        }
        Ok(log)
    }

    fn trim(&mut self) {
        while self.events.len() > self.capacity {
            self.events.pop_front();
        }
    }

    fn append(&mut self, line: &Line) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.file.sync_data()?;
        self.lines += 1;
        if self.lines > 2 * self.capacity {
            self.compact()?;
        }
        Ok(())
    }

    fn compact(&mut self) -> io::Result<()> {
        let mut text = Vec::new();
        for e in &self.events {
            serde_json::to_writer(&mut text, &Line::Add(e.clone())).map_err(io::Error::other)?;
            text.push(b'\n');
        }
        crate::atomic::write(&self.path, &text)?;
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.lines = self.events.len();
        Ok(())
    }

    /// Adds an event of `code` (source and severity from the code); returns its id.
    pub fn record(
        &mut self,
        code: EventCode,
        meter: Option<u32>,
        message: &str,
        at: DateTime<Utc>,
    ) -> io::Result<u64> {
        let event = Event {
            id: self.next_id,
            code,
            source: code.source().to_string(),
            kind: code.kind(),
            meter,
            came: at,
            went: None,
            message: message.to_string(),
        };
        let id = event.id;
        let line = Line::Add(event.clone());
        self.events.push_back(event);
        if let Err(e) = self.append(&line) {
            self.events.pop_back();
            return Err(e);
        }
        self.next_id += 1;
        if let (Some(sink), Some(event)) = (self.sink.0.as_mut(), self.events.back()) {
            sink.came(event);
        }
        self.trim();
        Ok(id)
    }

    /// Attaches the sink told about every event recorded and every condition that went from
    /// now on (replacing an earlier one); `None` detaches it.
    pub fn set_sink(&mut self, sink: Option<Box<dyn IncidentSink>>) {
        self.sink = Sink(sink);
    }

    /// Marks the condition of event `id` as gone at `at` (no effect if it already went or
    /// is no longer kept).
    pub fn went(&mut self, id: u64, at: DateTime<Utc>) -> io::Result<()> {
        let open = self.events.iter().any(|e| e.id == id && e.went.is_none());
        if open {
            self.append(&Line::Went { id, at })?;
            if let Some(e) = self.events.iter_mut().find(|e| e.id == id) {
                e.went = Some(at);
                if let Some(sink) = self.sink.0.as_mut() {
                    sink.went(e);
                }
            }
        }
        Ok(())
    }

    /// The newest event of `code` for `meter` whose condition has not gone.
    pub fn open_condition(&self, code: EventCode, meter: Option<u32>) -> Option<u64> {
        self.events
            .iter()
            .rev()
            .find(|e| e.code == code && e.meter == meter && e.went.is_none())
            .map(|e| e.id)
    }

    /// The kept entries, newest first.
    pub fn entries(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().rev()
    }

    /// Number of kept entries.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Changes how many entries are kept (at least 1), dropping the oldest beyond it.
    pub fn set_capacity(&mut self, capacity: usize) -> io::Result<()> {
        self.capacity = capacity.max(1);
        self.trim();
        self.compact()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 31, 17, 0, 12).unwrap()
    }

    #[test]
    fn keeps_newest_entries_within_capacity_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), 10).unwrap();
        for i in 0..35 {
            log.record(
                EventCode::MeterReadFailed,
                Some(i),
                &format!("meter {i}"),
                t0(),
            )
            .unwrap();
        }
        assert_eq!(log.len(), 10);
        assert_eq!(log.entries().next().unwrap().message, "meter 34");
        assert_eq!(log.entries().last().unwrap().message, "meter 25");
        drop(log);
        let text = std::fs::read_to_string(dir.path().join(EVENTS_FILE)).unwrap();
        assert!(
            text.lines().count() <= 20,
            "compacted: {}",
            text.lines().count()
        );
        let log = EventLog::open(dir.path(), 10).unwrap();
        let ids: Vec<u64> = log.entries().map(|e| e.id).collect();
        assert_eq!(ids, (25..35).rev().collect::<Vec<_>>());
    }

    #[test]
    fn came_and_went_persist() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), 100).unwrap();
        let id = log
            .record(EventCode::MeterReadFailed, Some(3), "no reply", t0())
            .unwrap();
        assert_eq!(
            log.open_condition(EventCode::MeterReadFailed, Some(3)),
            Some(id)
        );
        log.went(id, t0() + Duration::minutes(15)).unwrap();
        assert_eq!(
            log.open_condition(EventCode::MeterReadFailed, Some(3)),
            None
        );
        drop(log);
        let log = EventLog::open(dir.path(), 100).unwrap();
        let e = log.entries().next().unwrap();
        assert_eq!(e.went, Some(t0() + Duration::minutes(15)));
        assert_eq!(
            (e.kind, e.source.as_str(), e.code.number()),
            (Kind::W, "M-Bus", 8)
        );
    }

    /// Collects what a sink is told, as (came?, event id).
    struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<(bool, u64)>>>);

    impl IncidentSink for Recorder {
        fn came(&mut self, event: &Event) {
            self.0.lock().unwrap().push((true, event.id));
        }
        fn went(&mut self, event: &Event) {
            assert!(event.went.is_some());
            self.0.lock().unwrap().push((false, event.id));
        }
    }

    #[test]
    fn the_sink_hears_every_event_and_each_condition_going_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), 100).unwrap();
        let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        log.record(EventCode::Start, None, "before", t0()).unwrap();
        log.set_sink(Some(Box::new(Recorder(heard.clone()))));
        let a = log
            .record(EventCode::MeterReadFailed, Some(1), "no reply", t0())
            .unwrap();
        let b = log
            .record(EventCode::BusOverload, None, "overload", t0())
            .unwrap();
        log.went(a, t0()).unwrap();
        log.went(a, t0()).unwrap();
        assert_eq!(
            *heard.lock().unwrap(),
            vec![(true, a), (true, b), (false, a)]
        );
    }

    #[test]
    fn torn_last_line_is_ignored_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = EventLog::open(dir.path(), 100).unwrap();
        log.record(EventCode::Start, None, "Logger start", t0())
            .unwrap();
        drop(log);
        let path = dir.path().join(EVENTS_FILE);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"add":{"id":1,"code":"sta"#).unwrap();
        drop(f);
        let mut log = EventLog::open(dir.path(), 100).unwrap();
        assert_eq!(log.len(), 1);
        log.record(EventCode::BusOverload, None, "M-Bus overload", t0())
            .unwrap();
        drop(log);
        let log = EventLog::open(dir.path(), 100).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log.entries().next().unwrap().kind, Kind::E);
    }
}
