//! Publishing readings to an MQTT broker, with Home Assistant discovery.
//!
//! Every stored reading is published as JSON ([`payload::state_payload`]) to
//! `<topic_base>/<appliance id>/<meter id>/state`, retained and with QoS 1, so a subscriber
//! sees each meter's last state at once. `<topic_base>/<appliance id>/availability` is
//! `online` while the appliance is connected; the broker publishes `offline` (the last will,
//! retained) when the connection dies, and the appliance publishes it itself on a clean stop.
//! With discovery on, each meter is announced to Home Assistant as one device
//! ([`payload::discovery`]), with one sensor per logged register.
//!
//! # Never in the way of reading
//!
//! The read path only wakes the publisher's thread ([`crate::fleet::SinkHandle::hook`]). That
//! thread reads the new readings from the store after its cursor (`mqtt.cursor.json`), writes
//! each wake-up's state messages as one file into the offline queue (the upload spool,
//! `spool/mqtt/`, flushed to disk) and only then advances the cursor. A queue file is removed
//! when the broker has acknowledged every message in it, so nothing is lost while the broker
//! is away or across a crash (a message may be delivered twice, as QoS 1 allows). The queue
//! is bounded (`queue_max_cycles`): when full, the oldest cycles are dropped and an event
//! says so. Connection failures retry with exponential backoff and log one event per
//! incident (it goes when publishing works again); the state is saved to
//! `mqtt-status.json` for `mbusctl status` and the metrics.

pub mod payload;

use crate::clock::Clock;
use crate::config::{appliance_id, Config, ConfigStore, Mqtt};
use crate::events::{EventCode, EventNotice};
use crate::export::MeterDescriptor;
use crate::fleet::{note_failure, SinkHandle, SinkStatus, Wake};
use crate::storage::{Store, DATABASE_FILE_NAME};
use crate::upload::spool::{Cursor, Spool, SpoolEntry, SpoolError};
use crate::upload::tls::CertCheck;
use payload::Topics;
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, Incoming, LastWill, MqttOptions, Outgoing, QoS,
    TlsConfiguration, Transport,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The key of this sink's status file and metrics.
pub const KEY: &str = "mqtt";

/// Timing of the publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublisherOptions {
    /// Wait after the first failure; doubled after each further failure.
    pub backoff_first: Duration,
    /// The longest wait between two connection attempts.
    pub backoff_cap: Duration,
    /// Messages sent and not yet acknowledged at most.
    pub window: usize,
    /// Timeout of the TCP (and TLS) connection.
    pub connect_timeout: Duration,
}

impl Default for PublisherOptions {
    fn default() -> Self {
        PublisherOptions {
            backoff_first: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(15),
            window: 100,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// The broker could not be reached, refused the login or dropped the connection.
    #[error("broker {address}: {reason}")]
    Connection {
        /// Host and port.
        address: String,
        /// What happened.
        reason: String,
    },
    /// The TLS settings cannot be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The offline queue on disk failed.
    #[error(transparent)]
    Queue(#[from] SpoolError),
    /// A queue file is not one this publisher wrote.
    #[error("queue file {0}: not a list of messages")]
    BadQueueFile(PathBuf),
    /// The readings could not be read from the store.
    #[error("readings: {0}")]
    Storage(#[from] crate::storage::StorageError),
}

/// One message of a queue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Message {
    /// Topic.
    t: String,
    /// Payload.
    p: String,
}

/// The offline queue directory in `data_dir`.
pub fn queue_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("spool").join(KEY)
}

fn cursor_path(data_dir: &Path) -> PathBuf {
    data_dir.join("mqtt.cursor.json")
}

/// The topics of a configuration.
pub fn topics(config: &Config) -> Topics {
    let appliance = appliance_id(&config.mqtt.appliance_id, &config.general.name);
    Topics {
        root: format!("{}/{appliance}", config.mqtt.topic_base),
        appliance,
        discovery_prefix: config
            .mqtt
            .discovery
            .then(|| config.mqtt.discovery_prefix.clone()),
    }
}

/// Starts the publisher for the logger in `data_dir`. It follows the configuration file
/// (enabling, disabling or changing `mqtt` applies without a restart) and hands its events
/// to `events`.
pub fn start(
    data_dir: &Path,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<EventNotice>,
    options: PublisherOptions,
) -> SinkHandle {
    let data_dir = data_dir.to_path_buf();
    SinkHandle::spawn("mqtt", move |inbox, stop| {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                tracing::error!(error = %e, "MQTT publisher not started");
                return;
            }
        };
        let mut worker = Worker {
            status: SinkStatus::load(&data_dir, KEY).unwrap_or_else(|| SinkStatus {
                label: "MQTT".into(),
                ..SinkStatus::default()
            }),
            data_dir,
            clock,
            events,
            options,
            settings: None,
            topics: None,
            spool: None,
            store: None,
            link: None,
            failures: 0,
            retry_at: Instant::now(),
            discovered: None,
        };
        runtime.block_on(worker.run(&inbox, &stop));
    })
}

/// A connection to the broker and what is in flight on it.
struct Link {
    client: AsyncClient,
    eventloop: EventLoop,
    address: String,
    connected: bool,
    /// Tags of messages handed to the client, in order, not yet given a packet id.
    queued: VecDeque<Option<u64>>,
    /// Packet id → the queue file (by sequence) a message belongs to.
    inflight: HashMap<u16, Option<u64>>,
    /// Queue files being sent, oldest first.
    batches: VecDeque<Batch>,
    /// Sequence of the newest queue file loaded.
    loaded_up_to: Option<u64>,
    /// A clean stop was asked: the offline message is out.
    closing: bool,
}

/// A queue file being published.
struct Batch {
    entry: SpoolEntry,
    messages: Vec<Message>,
    next: usize,
    unacked: usize,
}

struct Worker {
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    events: mpsc::Sender<EventNotice>,
    options: PublisherOptions,
    status: SinkStatus,
    settings: Option<Mqtt>,
    topics: Option<Topics>,
    spool: Option<Spool>,
    store: Option<Store>,
    link: Option<Link>,
    failures: u32,
    retry_at: Instant,
    /// The discovery messages published on the current connection.
    discovered: Option<Vec<(String, String)>>,
}

/// How often the thread looks at its wake-up channel while the connection is idle.
const TICK: Duration = Duration::from_millis(100);

impl Worker {
    async fn run(&mut self, inbox: &mpsc::Receiver<Wake>, stop: &AtomicBool) {
        let mut scan = true;
        loop {
            match inbox.try_recv() {
                Ok(Wake::Readings) => scan = true,
                Ok(Wake::Stop) | Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) => {}
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            if scan {
                scan = false;
                self.follow_config();
                self.enqueue_new();
            }
            if self.settings.is_none() {
                tokio::time::sleep(TICK).await;
                continue;
            }
            if self.link.is_none() {
                if Instant::now() < self.retry_at {
                    tokio::time::sleep(TICK.min(self.retry_at - Instant::now())).await;
                    continue;
                }
                match self.connect() {
                    Ok(link) => self.link = Some(link),
                    Err(e) => {
                        self.failed(&e);
                        continue;
                    }
                }
            }
            self.fill();
            let event = match &mut self.link {
                Some(link) => {
                    tokio::select! {
                        event = link.eventloop.poll() => Some(event),
                        () = tokio::time::sleep(TICK) => None,
                    }
                }
                None => None,
            };
            if let Some(event) = event {
                self.handle(event);
            }
        }
        self.close().await;
    }

    /// Reloads the configuration; a change of the `mqtt` section (or of what discovery
    /// announces) drops the connection so the next one uses it.
    fn follow_config(&mut self) -> Option<Config> {
        let config = match ConfigStore::new(&self.data_dir).load_or_default() {
            Ok(config) => config,
            Err(e) => {
                tracing::error!(error = %e, "MQTT: configuration not readable");
                return None;
            }
        };
        let settings = config.mqtt.enabled.then(|| config.mqtt.clone());
        if settings != self.settings {
            self.link = None;
            self.retry_at = Instant::now();
            self.failures = 0;
            self.settings = settings;
            self.spool = None;
            if self.settings.is_some() {
                match Spool::open(
                    &queue_dir(&self.data_dir),
                    config.mqtt.queue_max_cycles as usize,
                ) {
                    Ok(spool) => self.spool = Some(spool),
                    Err(e) => {
                        tracing::error!(error = %e, "MQTT queue not usable");
                        self.settings = None;
                    }
                }
            }
        }
        self.topics = self.settings.as_ref().map(|_| topics(&config));
        if let (Some(link), Some(sent)) = (&self.link, &self.discovered) {
            if link.connected && *sent != self.discovery(&config) {
                // Meters or registers changed: announce them again.
                self.discovered = None;
            }
        }
        Some(config)
    }

    fn discovery(&self, config: &Config) -> Vec<(String, String)> {
        let Some(topics) = &self.topics else {
            return Vec::new();
        };
        let Some(prefix) = &topics.discovery_prefix else {
            return Vec::new();
        };
        config
            .meters
            .iter()
            .flat_map(|m| payload::discovery(topics, prefix, m))
            .collect()
    }

    fn store(&mut self) -> Result<&Store, MqttError> {
        let store = match self.store.take() {
            Some(store) => store,
            None => Store::open_existing(self.data_dir.join(DATABASE_FILE_NAME))?,
        };
        Ok(self.store.insert(store))
    }

    /// Writes the state messages of the readings stored after the cursor into one queue
    /// file, then advances the cursor. A meter never published starts at its newest reading.
    fn enqueue_new(&mut self) {
        if self.settings.is_none() {
            return;
        }
        let Ok(config) = ConfigStore::new(&self.data_dir).load_or_default() else {
            return;
        };
        let Some(topics) = self.topics.clone() else {
            return;
        };
        let path = cursor_path(&self.data_dir);
        let mut cursor = Cursor::load(&path);
        let mut messages = Vec::new();
        for meter in &config.meters {
            let descriptor = MeterDescriptor::from_config(meter);
            match self.new_readings(&descriptor, &mut cursor, &topics) {
                Ok(mut m) => messages.append(&mut m),
                Err(e) => {
                    tracing::error!(error = %e, meter = meter.id, "MQTT: readings not queued")
                }
            }
        }
        if messages.is_empty() {
            return;
        }
        let mut bytes = Vec::new();
        for m in &messages {
            if serde_json::to_writer(&mut bytes, m).is_ok() {
                bytes.push(b'\n');
            }
        }
        let Some(spool) = &mut self.spool else {
            return;
        };
        match spool.push("state.jsonl", &bytes) {
            Ok(outcome) => {
                if outcome.dropped > 0 {
                    self.status.dropped += outcome.dropped as u64;
                    self.notify(EventNotice::Came {
                        code: EventCode::MqttQueueFull,
                        message: format!(
                            "MQTT queue full: the {} oldest read cycle(s) dropped",
                            outcome.dropped
                        ),
                        at: self.clock.now(),
                    });
                }
                if let Err(e) = cursor.save(&path) {
                    tracing::error!(error = %e, "MQTT: saving the cursor failed");
                }
            }
            Err(e) => tracing::error!(error = %e, "MQTT: queueing readings failed"),
        }
        self.save_status();
    }

    fn new_readings(
        &mut self,
        meter: &MeterDescriptor,
        cursor: &mut Cursor,
        topics: &Topics,
    ) -> Result<Vec<Message>, MqttError> {
        let id = meter.id.0;
        let store = self.store()?;
        let after = match cursor.meters.get(&id) {
            Some(&t) => t,
            None => match store.last_reading(meter.id)? {
                Some(r) => r.time - 1,
                None => return Ok(Vec::new()),
            },
        };
        let mut messages = Vec::new();
        for reading in store.readings(meter.id, after.saturating_add(1), i64::MAX)? {
            let reading = reading?;
            cursor.meters.insert(id, reading.time);
            messages.push(Message {
                t: topics.state(id),
                p: payload::state_payload(meter, &reading),
            });
        }
        Ok(messages)
    }

    fn connect(&mut self) -> Result<Link, MqttError> {
        let (Some(settings), Some(topics)) = (&self.settings, &self.topics) else {
            return Err(MqttError::Connection {
                address: String::new(),
                reason: "not configured".into(),
            });
        };
        let port = settings.port_or_default();
        let address = format!("{}:{port}", settings.host);
        let client_id = format!("mbus-{}", topics.appliance);
        let mut options = MqttOptions::new(client_id, settings.host.clone(), port);
        options
            .set_keep_alive(Duration::from_secs(u64::from(settings.keep_alive_s)))
            .set_clean_session(true)
            .set_max_packet_size(1 << 20, 1 << 20)
            .set_inflight(u16::try_from(self.options.window).unwrap_or(u16::MAX))
            .set_last_will(LastWill::new(
                topics.availability(),
                "offline",
                QoS::AtLeastOnce,
                true,
            ));
        if !settings.username.is_empty() {
            options.set_credentials(settings.username.clone(), settings.password.clone());
        }
        if settings.tls {
            let check = CertCheck::from_settings(
                settings.ca_file.as_deref(),
                settings.accept_invalid_certs,
            );
            let config = check
                .client_config()
                .map_err(|e| MqttError::Tls(e.to_string()))?;
            options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(config)));
        }
        let (client, mut eventloop) = AsyncClient::new(options, 4 * self.options.window + 16);
        let mut network = eventloop.network_options();
        network.set_connection_timeout(self.options.connect_timeout.as_secs().max(1));
        eventloop.set_network_options(network);
        self.discovered = None;
        Ok(Link {
            client,
            eventloop,
            address,
            connected: false,
            queued: VecDeque::new(),
            inflight: HashMap::new(),
            batches: VecDeque::new(),
            loaded_up_to: None,
            closing: false,
        })
    }

    /// Hands the client what fits in the window: availability and discovery after a
    /// connect, then queued state messages oldest first.
    fn fill(&mut self) {
        let Some(link) = &self.link else {
            return;
        };
        if !link.connected || link.closing {
            return;
        }
        if self.discovered.is_none() {
            let Ok(config) = ConfigStore::new(&self.data_dir).load_or_default() else {
                return;
            };
            let messages = self.discovery(&config);
            let Some(topics) = &self.topics else {
                return;
            };
            let mut all = vec![(topics.availability(), "online".to_owned())];
            all.extend(messages.iter().cloned());
            let Some(link) = &mut self.link else {
                return;
            };
            for (topic, payload) in all {
                // Not part of a queue file: a lost one is sent again on the next connect.
                if link
                    .client
                    .try_publish(topic, QoS::AtLeastOnce, true, payload)
                    .is_ok()
                {
                    link.queued.push_back(None);
                }
            }
            self.discovered = Some(messages);
        }
        let window = self.options.window;
        loop {
            let Some(link) = &mut self.link else {
                return;
            };
            if link.queued.len() + link.inflight.len() >= window {
                return;
            }
            let next = link.batches.iter_mut().find(|b| b.next < b.messages.len());
            match next {
                Some(batch) => {
                    let m = &batch.messages[batch.next];
                    if link
                        .client
                        .try_publish(m.t.clone(), QoS::AtLeastOnce, true, m.p.clone())
                        .is_err()
                    {
                        return;
                    }
                    batch.next += 1;
                    link.queued.push_back(Some(batch.entry.sequence()));
                }
                None => {
                    if !self.load_batch() {
                        return;
                    }
                }
            }
        }
    }

    /// Loads the next queue file after those in flight; false when there is none.
    fn load_batch(&mut self) -> bool {
        let (Some(spool), Some(link)) = (&self.spool, &mut self.link) else {
            return false;
        };
        let pending = match spool.pending() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "MQTT: reading the queue failed");
                return false;
            }
        };
        let Some(entry) = pending
            .into_iter()
            .find(|e| link.loaded_up_to.is_none_or(|s| e.sequence() > s))
        else {
            return false;
        };
        link.loaded_up_to = Some(entry.sequence());
        let messages = match read_batch(&entry) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "MQTT: dropping an unreadable queue file");
                let _ = spool.remove(&entry);
                return true;
            }
        };
        if messages.is_empty() {
            let _ = spool.remove(&entry);
            return true;
        }
        let unacked = messages.len();
        link.batches.push_back(Batch {
            entry,
            messages,
            next: 0,
            unacked,
        });
        true
    }

    fn handle(&mut self, event: Result<Event, ConnectionError>) {
        let Some(link) = &mut self.link else {
            return;
        };
        match event {
            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                link.connected = true;
                self.status.connected = true;
                tracing::info!(broker = %link.address, "MQTT connected");
                if self.failures > 0 {
                    self.failures = 0;
                    self.notify(EventNotice::Went {
                        code: EventCode::MqttFailed,
                        at: self.clock.now(),
                    });
                }
                self.save_status();
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                let tag = link.queued.pop_front().flatten();
                link.inflight.insert(pkid, tag);
            }
            Ok(Event::Incoming(Incoming::PubAck(ack))) => {
                if let Some(tag) = link.inflight.remove(&ack.pkid) {
                    self.acked(tag);
                }
            }
            Ok(_) => {}
            Err(e) => {
                let error = MqttError::Connection {
                    address: link.address.clone(),
                    reason: e.to_string(),
                };
                self.link = None;
                self.failed(&error);
            }
        }
    }

    /// A message of queue file `tag` (or an unqueued one) was acknowledged.
    fn acked(&mut self, tag: Option<u64>) {
        self.status.delivered += 1;
        let (Some(link), Some(spool)) = (&mut self.link, &self.spool) else {
            return;
        };
        let Some(sequence) = tag else {
            return;
        };
        let Some(pos) = link
            .batches
            .iter()
            .position(|b| b.entry.sequence() == sequence)
        else {
            return;
        };
        let batch = &mut link.batches[pos];
        batch.unacked = batch.unacked.saturating_sub(1);
        if batch.unacked == 0 && batch.next == batch.messages.len() {
            if let Err(e) = spool.remove(&batch.entry) {
                tracing::error!(error = %e, "MQTT: removing a delivered queue file failed");
            }
            link.batches.remove(pos);
            if link.batches.is_empty() && link.queued.is_empty() {
                self.status.last_success = Some(self.clock.now());
            }
            self.save_status();
        }
    }

    fn failed(&mut self, error: &MqttError) {
        let now = self.clock.now();
        let came = note_failure(
            (&mut self.failures, &mut self.retry_at),
            (self.options.backoff_first, self.options.backoff_cap),
            &mut self.status,
            (EventCode::MqttFailed, "MQTT publishing failed"),
            error,
            now,
        );
        if let Some(notice) = came {
            self.notify(notice);
        }
        self.save_status();
    }

    /// On a clean stop: publishes `offline`, disconnects and waits a moment for both.
    async fn close(&mut self) {
        let Some(link) = &mut self.link else {
            return;
        };
        if link.connected {
            link.closing = true;
            if let Some(topics) = &self.topics {
                let _ = link.client.try_publish(
                    topics.availability(),
                    QoS::AtLeastOnce,
                    true,
                    "offline",
                );
            }
            let _ = link.client.try_disconnect();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, link.eventloop.poll()).await
            {
                if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        }
        self.link = None;
        self.status.connected = false;
        self.save_status();
    }

    fn notify(&self, notice: EventNotice) {
        if self.events.send(notice).is_err() {
            tracing::warn!("the event log is gone; MQTT event not recorded");
        }
    }

    fn save_status(&mut self) {
        if let Some(spool) = &self.spool {
            self.status.pending = spool.len().unwrap_or(0) as u64;
        }
        if let Err(e) = self.status.save(&self.data_dir, KEY) {
            tracing::error!(error = %e, "saving the MQTT status failed");
        }
    }
}

fn read_batch(entry: &SpoolEntry) -> Result<Vec<Message>, MqttError> {
    let text = std::fs::read_to_string(&entry.path).map_err(|source| {
        MqttError::Queue(SpoolError::Io {
            path: entry.path.clone(),
            source,
        })
    })?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).map_err(|_| MqttError::BadQueueFile(entry.path.clone())))
        .collect()
}
