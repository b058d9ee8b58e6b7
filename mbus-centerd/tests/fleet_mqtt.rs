//! The daemon publishing to a real mosquitto broker on 127.0.0.1 over TLS with a login: state
//! messages hold the stored values, states and discovery configurations are retained, the
//! last will says `offline` after SIGKILL, and readings stored while the broker was down all
//! arrive after it is back.

mod support;

use logger_core::config::ConfigStore;
use logger_core::export::MeterDescriptor;
use logger_core::mqtt::payload::state_payload;
use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use support::fleet::{
    free_port, sample, scrape, wait_until, Mosquitto, Subscriber, MQTT_PASSWORD, MQTT_USER,
};
use support::Daemon;

const ROOT: &str = "mbus/site-a";

fn configure(data: &Path, broker: &Mosquitto) {
    std::fs::create_dir_all(data).unwrap();
    let store = ConfigStore::new(data);
    let mut config = store.load_or_default().unwrap();
    let mqtt = &mut config.mqtt;
    mqtt.enabled = true;
    mqtt.host = "127.0.0.1".into();
    // TLS with the broker's private CA, and a login.
    mqtt.port = broker.tls_port;
    mqtt.tls = true;
    mqtt.ca_file = Some(broker.ca_file().display().to_string());
    mqtt.username = MQTT_USER.into();
    mqtt.password = MQTT_PASSWORD.into();
    mqtt.appliance_id = "site-a".into();
    mqtt.keep_alive_s = 5;
    store.save(&config).unwrap();
}

fn daemon(data: &Path, metrics_port: u16) -> Daemon {
    Daemon::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--simulate",
        "2",
        "--cycle",
        "10s",
        "--metrics-listen",
        &format!("127.0.0.1:{metrics_port}"),
    ])
}

/// Every stored reading of the data directory as (meter, state message payload).
fn stored_states(data: &Path) -> BTreeSet<(u32, String)> {
    let config = ConfigStore::new(data).load_or_default().unwrap();
    let store = Store::open_existing(data.join(DATABASE_FILE_NAME)).unwrap();
    let mut out = BTreeSet::new();
    for meter in &config.meters {
        let descriptor = MeterDescriptor::from_config(meter);
        for reading in store.readings(MeterId(meter.id), 0, i64::MAX).unwrap() {
            out.insert((meter.id, state_payload(&descriptor, &reading.unwrap())));
        }
    }
    out
}

fn time_of(payload: &str) -> String {
    let v: Value = serde_json::from_str(payload).unwrap();
    v["time"].as_str().unwrap().to_owned()
}

/// The fields Home Assistant needs to make a sensor on a device from a discovery config.
fn check_discovery(config: &Value, topic: &str) {
    for field in ["name", "unique_id", "state_topic", "value_template"] {
        assert!(
            config[field].is_string(),
            "{topic}: {field} missing in {config}"
        );
    }
    let device = &config["device"];
    assert!(
        device["identifiers"]
            .as_array()
            .is_some_and(|ids| !ids.is_empty()),
        "{topic}: device.identifiers"
    );
    for field in ["name", "manufacturer", "model", "serial_number"] {
        assert!(device[field].is_string(), "{topic}: device.{field}");
    }
    let state_class = config["state_class"].as_str();
    assert!(
        matches!(state_class, None | Some("measurement" | "total_increasing")),
        "{topic}: state_class {state_class:?}"
    );
    // Energy and volume totals must be total_increasing in their HA units.
    match config["device_class"].as_str() {
        Some("energy") => {
            assert!(["Wh", "kWh", "MWh", "GJ", "MJ", "kJ", "J"]
                .contains(&config["unit_of_measurement"].as_str().unwrap()));
        }
        Some("water" | "gas" | "volume") => {
            assert!(["m³", "L", "ft³", "gal"]
                .contains(&config["unit_of_measurement"].as_str().unwrap()));
        }
        Some("temperature") => {
            assert_eq!(state_class, Some("measurement"), "{topic}");
        }
        _ => {}
    }
    assert!(config["state_topic"].as_str().unwrap().starts_with(ROOT));
}

#[test]
fn publishes_retained_states_with_discovery_last_will_and_catches_up_after_an_outage() {
    let work = tempfile::tempdir().unwrap();
    let mut broker = Mosquitto::start(&work.path().join("broker"));
    let data = work.path().join("data");
    configure(&data, &broker);
    // A persistent session: the broker keeps what arrives while this client is away.
    let all = Subscriber::start(broker.port, "collector", false, &["mbus/#"]);

    let mut first = daemon(&data, free_port());
    first.wait_for_cycles(2);
    let config = ConfigStore::new(&data).load_or_default().unwrap();
    assert_eq!(config.meters.len(), 2);
    let states: Vec<String> = config
        .meters
        .iter()
        .map(|m| format!("{ROOT}/{}/state", m.id))
        .collect();
    wait_until("states of both meters", Duration::from_secs(20), || {
        states.iter().all(|t| all.on(t).len() >= 2)
    });
    // Each message is exactly a stored reading (values as stored, never rescaled).
    let stored = stored_states(&data);
    for topic in &states {
        for (_, payload, _) in all.on(topic) {
            let v: Value = serde_json::from_str(&payload).unwrap();
            let meter = v["meter"].as_u64().unwrap() as u32;
            assert!(stored.contains(&(meter, payload.clone())), "{payload}");
            assert!(v["values"].as_object().is_some_and(|m| !m.is_empty()));
        }
    }

    // A new subscriber gets the retained last state, availability and discovery at once.
    let late = Subscriber::start(broker.port, "late", true, &["mbus/#", "homeassistant/#"]);
    wait_until("retained messages", Duration::from_secs(10), || {
        states.iter().all(|t| !late.on(t).is_empty())
            && late.all().iter().any(|m| m.0.starts_with("homeassistant/"))
    });
    std::thread::sleep(Duration::from_millis(500));
    let availability = late.on(&format!("{ROOT}/availability"));
    assert_eq!(availability.last().map(|m| m.1.as_str()), Some("online"));
    let mut seen = BTreeSet::new();
    for (topic, _, retained) in late.all() {
        // What a new subscriber gets first on every topic is the retained message.
        if seen.insert(topic.clone()) {
            assert!(retained, "{topic}");
        }
    }
    let discovery: Vec<_> = late
        .all()
        .into_iter()
        .filter(|m| m.0.starts_with("homeassistant/sensor/"))
        .collect();
    let registers: usize = config
        .meters
        .iter()
        .map(|m| m.registers.iter().filter(|r| !r.off).count())
        .sum();
    assert_eq!(discovery.len(), registers);
    let mut devices = BTreeSet::new();
    let mut classes = BTreeSet::new();
    for (topic, payload, _) in &discovery {
        assert!(topic.ends_with("/config"));
        let v: Value = serde_json::from_str(payload).unwrap();
        check_discovery(&v, topic);
        devices.insert(v["device"]["identifiers"][0].as_str().unwrap().to_owned());
        if let Some(c) = v["state_class"].as_str() {
            classes.insert((
                v["device_class"].as_str().unwrap_or("").to_owned(),
                c.to_owned(),
            ));
        }
    }
    assert_eq!(devices.len(), 2, "one device per meter");
    assert!(
        classes.iter().any(|(_, c)| c == "total_increasing"),
        "{classes:?}"
    );
    drop(late);

    // SIGKILL: the broker publishes the last will.
    first.kill();
    wait_until("the last will", Duration::from_secs(20), || {
        all.on(&format!("{ROOT}/availability"))
            .last()
            .is_some_and(|m| m.1 == "offline")
    });

    // The broker goes away for several cycles; nothing stored meanwhile is lost.
    let metrics_port = free_port();
    let mut second = daemon(&data, metrics_port);
    second.wait_for_cycles(1);
    broker.stop();
    second.wait_for_cycles(3);
    broker.restart();
    second.wait_for_cycles(1);
    let expected = stored_states(&data);
    wait_until("everything delivered", Duration::from_secs(45), || {
        let got: BTreeSet<(u32, String)> = all
            .all()
            .into_iter()
            .filter(|m| m.0.ends_with("/state"))
            .map(|m| {
                let v: Value = serde_json::from_str(&m.1).unwrap();
                (v["meter"].as_u64().unwrap() as u32, m.1)
            })
            .collect();
        // A meter is published from its first reading after the sink started (the scan's
        // readings before it are history): from then on, nothing is missing.
        let first = |meter: u32| {
            got.iter()
                .filter(|g| g.0 == meter)
                .map(|g| time_of(&g.1))
                .min()
        };
        expected
            .iter()
            .filter(|s| first(s.0).is_some_and(|t| time_of(&s.1) >= t))
            .all(|s| got.contains(s))
            && expected.difference(&got).count() <= 2
    });
    // The metrics show the sink connected and what it delivered.
    wait_until(
        "the sink connected in the metrics",
        Duration::from_secs(10),
        || {
            let samples = scrape(metrics_port);
            sample(&samples, "mbus_sink_connected", &[("sink", "mqtt")]) == Some(1.0)
                && sample(&samples, "mbus_sink_delivered_total", &[("sink", "mqtt")])
                    .is_some_and(|v| v > 0.0)
                && sample(&samples, "mbus_sink_errors_total", &[("sink", "mqtt")])
                    .is_some_and(|v| v >= 1.0)
        },
    );
    assert!(second.terminate().success());
    let status: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("mqtt-status.json")).unwrap())
            .unwrap();
    assert!(status["errors"].as_u64().unwrap() >= 1, "{status}");
    let events = logger_core::events::read(&data).unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.code == logger_core::events::EventCode::MqttFailed)
        .collect();
    assert_eq!(failed.len(), 1, "one event per outage: {failed:?}");
    assert!(failed[0].went.is_some(), "the outage ended");
    // The clean stop said offline itself.
    wait_until(
        "offline after the clean stop",
        Duration::from_secs(10),
        || {
            all.on(&format!("{ROOT}/availability"))
                .last()
                .is_some_and(|m| m.1 == "offline")
        },
    );
}
