//! Fleet sinks: publishing readings to an MQTT broker and replicating them into a central
//! PostgreSQL database. Both are off until enabled.

use super::validate::Problems;
use serde::{Deserialize, Serialize};

/// Publishing every reading to an MQTT broker (with Home Assistant discovery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Mqtt {
    /// Publishing on or off.
    pub enabled: bool,
    /// Broker host name or IP address.
    pub host: String,
    /// Broker port (0 = 1883, or 8883 with TLS).
    pub port: u16,
    /// Connect with TLS.
    pub tls: bool,
    /// TLS: PEM file with the certificate authorities to trust instead of the public ones.
    pub ca_file: Option<String>,
    /// TLS: accept any broker certificate without checking it. INSECURE; for tests only.
    pub accept_invalid_certs: bool,
    /// Login user (empty = no login).
    pub username: String,
    /// Login password.
    pub password: String,
    /// First topic level(s): readings go to `<topic_base>/<appliance_id>/<meter id>/state`.
    pub topic_base: String,
    /// This appliance in topics and unique ids (empty = derived from the logger name).
    pub appliance_id: String,
    /// Publish Home Assistant discovery configurations (one device per meter).
    pub discovery: bool,
    /// Home Assistant's discovery prefix.
    pub discovery_prefix: String,
    /// Keep-alive interval in seconds (5…3600).
    pub keep_alive_s: u16,
    /// Most read cycles waiting in the offline queue on disk; when full the oldest are dropped.
    pub queue_max_cycles: u32,
}

impl Default for Mqtt {
    fn default() -> Self {
        Mqtt {
            enabled: false,
            host: String::new(),
            port: 0,
            tls: false,
            ca_file: None,
            accept_invalid_certs: false,
            username: String::new(),
            password: String::new(),
            topic_base: "mbus".into(),
            appliance_id: String::new(),
            discovery: true,
            discovery_prefix: "homeassistant".into(),
            keep_alive_s: 30,
            queue_max_cycles: 10_000,
        }
    }
}

/// Whether `topic` is a valid MQTT topic name to publish under: non-empty levels, no
/// wildcards, no leading or trailing slash.
fn topic_ok(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 200
        && topic
            .split('/')
            .all(|level| !level.is_empty() && !level.contains(['+', '#']))
        && !topic.chars().any(char::is_control)
}

/// Whether `id` is usable as an appliance id (topic level, key, unique id part).
fn id_ok(id: &str) -> bool {
    id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

impl Mqtt {
    /// The broker port in force.
    pub fn port_or_default(&self) -> u16 {
        match (self.port, self.tls) {
            (0, false) => 1883,
            (0, true) => 8883,
            (port, _) => port,
        }
    }

    pub(crate) fn validate(&self, p: &mut Problems) {
        p.check(
            id_ok(&self.appliance_id),
            "mqtt.appliance_id",
            "must be at most 64 letters, digits, '-' or '_'",
        );
        p.check(
            topic_ok(&self.topic_base),
            "mqtt.topic_base",
            "must be topic levels separated by '/', without '+', '#' or empty levels",
        );
        p.check(
            topic_ok(&self.discovery_prefix),
            "mqtt.discovery_prefix",
            "must be topic levels separated by '/', without '+', '#' or empty levels",
        );
        p.check(
            (5..=3600).contains(&self.keep_alive_s),
            "mqtt.keep_alive_s",
            "must be between 5 and 3600",
        );
        p.check(
            (1..=1_000_000).contains(&self.queue_max_cycles),
            "mqtt.queue_max_cycles",
            "must be between 1 and 1000000",
        );
        p.text("mqtt.username", &self.username, 128, false);
        if let Some(ca) = &self.ca_file {
            p.text("mqtt.ca_file", ca, 255, true);
            p.check(
                !self.accept_invalid_certs,
                "mqtt.accept_invalid_certs",
                "must be false when a ca_file is given",
            );
        }
        if self.enabled {
            p.host("mqtt.host", &self.host);
        }
    }
}

/// Replicating readings, meters and events into a central PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Postgres {
    /// Replication on or off.
    pub enabled: bool,
    /// Database server host name or IP address.
    pub host: String,
    /// Server port (0 = 5432).
    pub port: u16,
    /// Database name.
    pub database: String,
    /// Login user.
    pub username: String,
    /// Login password.
    pub password: String,
    /// Connect with TLS (required when on).
    pub tls: bool,
    /// TLS: PEM file with the certificate authorities to trust instead of the public ones.
    pub ca_file: Option<String>,
    /// TLS: accept any server certificate without checking it. INSECURE; for tests only.
    pub accept_invalid_certs: bool,
    /// This appliance's key in the shared tables (empty = derived from the logger name).
    pub appliance_id: String,
    /// Most readings sent in one transaction (backfill and catch-up go in such batches).
    pub batch_readings: u32,
    /// Make the readings table a TimescaleDB hypertable with compression when the
    /// extension is installed in the database.
    pub timescale: bool,
}

impl Default for Postgres {
    fn default() -> Self {
        Postgres {
            enabled: false,
            host: String::new(),
            port: 0,
            database: "mbus".into(),
            username: String::new(),
            password: String::new(),
            tls: false,
            ca_file: None,
            accept_invalid_certs: false,
            appliance_id: String::new(),
            batch_readings: 1000,
            timescale: true,
        }
    }
}

impl Postgres {
    /// The server port in force.
    pub fn port_or_default(&self) -> u16 {
        if self.port == 0 {
            5432
        } else {
            self.port
        }
    }

    pub(crate) fn validate(&self, p: &mut Problems) {
        p.check(
            id_ok(&self.appliance_id),
            "postgres.appliance_id",
            "must be at most 64 letters, digits, '-' or '_'",
        );
        p.check(
            (1..=100_000).contains(&self.batch_readings),
            "postgres.batch_readings",
            "must be between 1 and 100000",
        );
        p.text("postgres.username", &self.username, 128, false);
        if let Some(ca) = &self.ca_file {
            p.text("postgres.ca_file", ca, 255, true);
            p.check(
                !self.accept_invalid_certs,
                "postgres.accept_invalid_certs",
                "must be false when a ca_file is given",
            );
        }
        if self.enabled {
            p.host("postgres.host", &self.host);
            p.text("postgres.database", &self.database, 63, true);
            p.text("postgres.username", &self.username, 128, true);
        }
    }
}

/// The appliance id a sink uses: `explicit` if set, else the logger name reduced to
/// lower-case letters, digits and '-' (`"M-Bus Center"` → `m-bus-center`).
pub fn appliance_id(explicit: &str, logger_name: &str) -> String {
    if !explicit.is_empty() {
        return explicit.to_owned();
    }
    let mut id = String::new();
    for c in logger_name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-');
    if id.is_empty() {
        "logger".to_owned()
    } else {
        id.chars().take(64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn sinks_are_off_by_default_and_old_documents_still_load() {
        let config = Config::from_json(r#"{"version":2}"#).unwrap();
        assert!(!config.mqtt.enabled);
        assert!(!config.postgres.enabled);
        assert_eq!(config.mqtt.port_or_default(), 1883);
        assert_eq!(config.postgres.port_or_default(), 5432);
    }

    #[test]
    fn bad_sink_settings_are_reported_with_field_paths() {
        let text = r#"{"version":2,
            "mqtt":{"enabled":true,"host":"","topic_base":"a/+/b","appliance_id":"x y","keep_alive_s":1},
            "postgres":{"enabled":true,"host":"db","database":"","username":"","batch_readings":0}}"#;
        let problems: Vec<String> = Config::from_json(text)
            .unwrap_err()
            .problems()
            .into_iter()
            .map(|p| p.path)
            .collect();
        for path in [
            "mqtt.host",
            "mqtt.topic_base",
            "mqtt.appliance_id",
            "mqtt.keep_alive_s",
            "postgres.database",
            "postgres.username",
            "postgres.batch_readings",
        ] {
            assert!(problems.iter().any(|p| p == path), "{path}: {problems:?}");
        }
        assert!(!problems.iter().any(|p| p == "postgres.host"));
    }

    #[test]
    fn appliance_ids_come_from_the_name_unless_given() {
        assert_eq!(appliance_id("", "M-Bus Center"), "m-bus-center");
        assert_eq!(appliance_id("", "  Haus 7 / Keller "), "haus-7-keller");
        assert_eq!(appliance_id("", "äöü"), "logger");
        assert_eq!(appliance_id("site-12", "M-Bus Center"), "site-12");
    }
}
