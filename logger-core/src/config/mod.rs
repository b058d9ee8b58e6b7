//! The logger configuration: model, validation, atomic storage, backup and
//! restore.
//!
//! # File format (schema version 2)
//!
//! The configuration is one JSON object, stored as `config.json` in the data directory and
//! used unchanged as the backup file. `version` is required and must be
//! [`CONFIG_VERSION`] or an older version this build converts (see below); every other section
//! may be left out and then takes its default. Unknown fields are rejected, so a misspelt name
//! is reported rather than ignored.
//!
//! Secondary addresses are written as libmbus writes them: 8 ident digits, then the
//! manufacturer, version and medium bytes in wire order (`068558172D2C0104` is a Kamstrup
//! meter, `KAM` being sent as `2D 2C`).
//!
//! # Older versions
//!
//! Version 1 wrote the manufacturer of a secondary address as a 16-bit number, high byte
//! first (`068558172C2D0104` for the same meter). A version-1 document is read, its addresses
//! are converted and it becomes version 2 ([`Config::from_json_migrating`] says what was
//! converted); the logger saves the converted file and notes it once in the event log.
//!
//! ```json
//! {
//!   "version": 2,
//!   "general": { "name": "M-Bus Center", "location": "", "timezone": "Europe/Berlin",
//!                "default_cycle": "15min", "read_timeout_ms": 500, "event_log_capacity": 1000 },
//!   "network": { "eth0": { "dhcp": true, "address": null, "prefix_len": null, "gateway": null },
//!                "eth1": { "dhcp": true, ... }, "dns": ["9.9.9.9"] },
//!   "time": { "ntp_server": "pool.ntp.org" },
//!   "email": { "enabled": false, "server": "", "port": 25, ... },
//!   "uploads": { "file": { "enabled": false, "protocol": "ftp", ... }, "https": { ... } },
//!   "bacnet": { "enabled": false, "start_instance": 1000, "port": 47808, "bbmd": null, "bbmd_ttl_s": 300,
//!               "device_instance": 999, "network_number": 1000, "address": null,
//!               "bbmd_server": false, "bdt": [] },
//!   "modbus": { "enabled": false, "address": null, "port": 502, "block_size": 128, "unit_id": null,
//!               "word_order": "high_first", "int32_decimals": 3, "int32_overrides": [] },
//!   "level_converter": { "enabled": false, "baud": null, "tcp_port": 50000 },
//!   "mqtt": { "enabled": false, "host": "", "port": 0, "tls": false, "topic_base": "mbus", ... },
//!   "postgres": { "enabled": false, "host": "", "database": "mbus", "batch_readings": 1000, ... },
//!   "tls": { "enabled": false },
//!   "meters": [ { "id": 1, "name": "KAM heat 1 6855817", "addressing": "secondary",
//!                 "primary": 1, "secondary": "068558172D2C0104", "baud": 2400, "cycle": null,
//!                 "category": "heat", "reset": { "kind": "off" },
//!                 "registers": [ { "index": 0, "name": "Energy", "description": "Energy",
//!                                  "meter_unit": "Wh", "unit": "kWh", "phase": 0,
//!                                  "divisor": 1000.0, "storage": 0, "tariff": 0, "off": false } ] } ],
//!   "templates": [ { "manufacturer": "KAM", "medium": 4, "version": 1, "values": 12, ... } ]
//! }
//! ```
//!
//! Read cycles are written `10s`, `30s`, `1min` … `150min`, `3h` … `672h`.
//!
//! ```
//! use logger_core::config::Config;
//! let err = Config::from_json(r#"{"version":2,"general":{"read_timeout_ms":5}}"#).unwrap_err();
//! assert_eq!(err.to_string(), "general.read_timeout_ms: must be between 50 and 60000");
//! ```

mod cycle;
mod fleet;
mod meter;
mod modbus;
mod secrets;
mod sections;
mod settings;
mod template;
mod validate;

pub use cycle::{ReadCycle, UnknownCycle};
pub use fleet::{appliance_id, Mqtt, Postgres};
pub use meter::{Addressing, Category, InputSource, Meter, MeterType, Register, ResetMode};
pub use modbus::{Int32Decimals, Modbus, WordOrder, MODBUS_ADDRESS_SPACE};
pub use secrets::SECRET_FIELDS;
pub use sections::SETTINGS_SECTIONS;
pub use settings::{
    Bacnet, Email, FileFormat, FileUpload, General, HttpsPush, Interface, LevelConverter,
    MailSecurity, Network, TimeSettings, UploadProtocol, Uploads, BACNET_MAX_INSTANCE,
};
pub use template::Template;
pub use validate::FieldError;

pub(crate) use validate::Problems;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The configuration schema version this build writes (it also reads the older ones, see the
/// module documentation).
pub const CONFIG_VERSION: u32 = 2;

/// The oldest schema version this build still reads (and converts).
pub const OLDEST_CONFIG_VERSION: u32 = 1;

/// What reading a configuration of an older schema version converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The version the document was written in.
    pub from_version: u32,
    /// How many secondary addresses were rewritten from the version-1 text form (manufacturer
    /// as a 16-bit number) into libmbus's (manufacturer bytes in wire order).
    pub secondary_addresses: usize,
}

impl std::fmt::Display for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Configuration converted from version {} to {CONFIG_VERSION}: {} secondary address(es) \
             now written as libmbus writes them (manufacturer bytes in wire order)",
            self.from_version, self.secondary_addresses
        )
    }
}

/// Name of the configuration file in the data directory.
pub const CONFIG_FILE: &str = "config.json";

/// The whole logger configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Schema version, [`CONFIG_VERSION`].
    pub version: u32,
    /// Name, location, time zone, default cycle, timeouts.
    #[serde(default)]
    pub general: General,
    /// Network interfaces and DNS.
    #[serde(default)]
    pub network: Network,
    /// Time source.
    #[serde(default)]
    pub time: TimeSettings,
    /// E-mail notifications.
    #[serde(default)]
    pub email: Email,
    /// Automatic uploads.
    #[serde(default)]
    pub uploads: Uploads,
    /// BACnet server.
    #[serde(default)]
    pub bacnet: Bacnet,
    /// Modbus TCP server.
    #[serde(default)]
    pub modbus: Modbus,
    /// Level-converter bridge.
    #[serde(default)]
    pub level_converter: LevelConverter,
    /// The appliance's inputs and outputs (S0, PT1000, relays, buttons, LEDs).
    #[serde(default)]
    pub io: crate::hardware::IoConfig,
    /// Publishing readings to an MQTT broker (off by default).
    #[serde(default)]
    pub mqtt: Mqtt,
    /// Replication into a central PostgreSQL database (off by default).
    #[serde(default)]
    pub postgres: Postgres,
    /// HTTPS for the web UI and API.
    #[serde(default)]
    pub tls: crate::tls::TlsSettings,
    /// Meters with their registers.
    #[serde(default)]
    pub meters: Vec<Meter>,
    /// Register templates per meter type.
    #[serde(default)]
    pub templates: Vec<Template>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: CONFIG_VERSION,
            general: General::default(),
            network: Network::default(),
            time: TimeSettings::default(),
            email: Email::default(),
            uploads: Uploads::default(),
            bacnet: Bacnet::default(),
            modbus: Modbus::default(),
            level_converter: LevelConverter::default(),
            io: Default::default(),
            mqtt: Mqtt::default(),
            postgres: Postgres::default(),
            tls: crate::tls::TlsSettings::default(),
            meters: Vec::new(),
            templates: Vec::new(),
        }
    }
}

/// Why a configuration could not be loaded, validated or saved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not valid JSON, or a field of the wrong type or with an unknown name.
    #[error("{path}: {message} (line {line}, column {column})")]
    Parse {
        /// Path of the field being read (`.` for the document itself).
        path: String,
        /// What the JSON reader found wrong.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The file is of a schema version this build does not read.
    #[error("version: unsupported configuration version {found} (this build reads versions {OLDEST_CONFIG_VERSION} to {CONFIG_VERSION})")]
    Version {
        /// The version found in the file.
        found: u64,
    },
    /// Fields hold values that are not allowed.
    #[error("{}", join(.0))]
    Invalid(Vec<FieldError>),
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ConfigError {
    /// Each field problem as one line, `path: problem`.
    pub fn messages(&self) -> Vec<String> {
        self.problems().iter().map(ToString::to_string).collect()
    }

    /// The individual field problems (one entry for a parse or version error).
    pub fn problems(&self) -> Vec<FieldError> {
        match self {
            ConfigError::Invalid(v) => v.clone(),
            ConfigError::Parse { path, message, .. } => vec![FieldError {
                path: path.clone(),
                problem: message.clone(),
            }],
            ConfigError::Version { found } => vec![FieldError {
                path: "version".into(),
                problem: format!("unsupported version {found}"),
            }],
            ConfigError::Io { path, source } => vec![FieldError {
                path: path.display().to_string(),
                problem: source.to_string(),
            }],
        }
    }
}

impl Config {
    /// Parses and fully validates a configuration (a `config.json` or a backup file); an older
    /// schema version is converted (see [`Config::from_json_migrating`]).
    ///
    /// Never panics; every problem is reported with the path of the field.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        Config::from_json_migrating(text).map(|(config, _)| config)
    }

    /// [`Config::from_json`], also saying what was converted if the document was written in an
    /// older schema version (`None` for a current one).
    ///
    /// ```
    /// use logger_core::config::Config;
    /// let old = r#"{"version": 1, "meters": [{"id": 1, "name": "Heat", "addressing": "secondary",
    ///               "secondary": "068558172C2D0104"}]}"#;
    /// let (config, migration) = Config::from_json_migrating(old).unwrap();
    /// assert_eq!(config.meters[0].secondary.unwrap().to_string(), "068558172D2C0104");
    /// assert_eq!(migration.unwrap().secondary_addresses, 1);
    /// ```
    pub fn from_json_migrating(text: &str) -> Result<(Config, Option<Migration>), ConfigError> {
        let document: serde_json::Value =
            serde_json::from_str(text).map_err(|e| parse_error(".".into(), &e))?;
        let Some(object) = document.as_object() else {
            return Err(ConfigError::Invalid(vec![FieldError {
                path: ".".into(),
                problem: "must be a JSON object".into(),
            }]));
        };
        match object.get("version") {
            None => {
                return Err(ConfigError::Invalid(vec![FieldError {
                    path: "version".into(),
                    problem: format!("missing (this build reads versions {OLDEST_CONFIG_VERSION} to {CONFIG_VERSION})"),
                }]))
            }
            Some(serde_json::Value::Number(n))
                if n.as_u64().is_some_and(|v| {
                    (u64::from(OLDEST_CONFIG_VERSION)..=u64::from(CONFIG_VERSION)).contains(&v)
                }) => {}
            Some(serde_json::Value::Number(n)) => {
                return Err(ConfigError::Version {
                    found: n.as_u64().unwrap_or(u64::MAX),
                })
            }
            Some(_) => {
                return Err(ConfigError::Invalid(vec![FieldError {
                    path: "version".into(),
                    problem: "must be a number".into(),
                }]))
            }
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let mut config: Config = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            parse_error(path, e.inner())
        })?;
        let migration = config.migrate();
        config.validate()?;
        Ok((config, migration))
    }

    /// Brings a document of an older schema version up to [`CONFIG_VERSION`].
    fn migrate(&mut self) -> Option<Migration> {
        let from_version = self.version;
        if from_version >= CONFIG_VERSION {
            return None;
        }
        // Version 1 text put the manufacturer high byte first; read as today's text (wire
        // order), its two bytes came out swapped.
        let mut secondary_addresses = 0;
        for address in self.meters.iter_mut().filter_map(|m| m.secondary.as_mut()) {
            address.manufacturer = address.manufacturer.swap_bytes();
            secondary_addresses += 1;
        }
        self.version = CONFIG_VERSION;
        Some(Migration {
            from_version,
            secondary_addresses,
        })
    }

    /// The configuration as pretty-printed JSON (the backup file).
    pub fn to_json(&self) -> String {
        // Serializing plain data structures with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every field; returns all problems found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Problems::default();
        if self.version != CONFIG_VERSION {
            p.add("version", format!("must be {CONFIG_VERSION}"));
        }
        self.general.validate(&mut p);
        self.network.validate(&mut p);
        self.time.validate(&mut p);
        self.email.validate(&mut p);
        self.uploads.validate(&mut p);
        self.bacnet.validate(&mut p, self.meters.len());
        self.modbus.validate(&mut p, &self.meters);
        self.level_converter.validate(&mut p);
        self.io.validate(&mut p);
        self.mqtt.validate(&mut p);
        self.postgres.validate(&mut p);
        for (i, meter) in self.meters.iter().enumerate() {
            let path = format!("meters[{i}]");
            meter.validate(&path, &mut p);
            let earlier = &self.meters[..i];
            if let Some(j) = earlier.iter().position(|m| m.id == meter.id) {
                p.add(
                    format!("{path}.id"),
                    format!("{} is already used by meters[{j}]", meter.id),
                );
            }
            if let Some(sec) = meter.secondary {
                if let Some(j) = earlier.iter().position(|m| m.secondary == Some(sec)) {
                    p.add(
                        format!("{path}.secondary"),
                        format!("{sec} is already used by meters[{j}]"),
                    );
                }
            }
            if let Some(source) = meter.input {
                if let Some(j) = earlier.iter().position(|m| m.input == Some(source)) {
                    p.add(
                        format!("{path}.input"),
                        format!("the same input is already read by meters[{j}]"),
                    );
                }
            }
            if meter.addressing == Addressing::Primary {
                if let Some(j) = earlier
                    .iter()
                    .position(|m| m.addressing == Addressing::Primary && m.primary == meter.primary)
                {
                    p.add(
                        format!("{path}.primary"),
                        format!("{} is already used by meters[{j}]", meter.primary),
                    );
                }
            }
        }
        for (i, template) in self.templates.iter().enumerate() {
            let path = format!("templates[{i}]");
            template.validate(&path, &mut p);
            if let Some(j) = self.templates[..i]
                .iter()
                .position(|t| t.key() == template.key())
            {
                p.add(
                    path,
                    format!("same meter type as templates[{j}] (one template per type)"),
                );
            }
        }
        if p.errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(p.errors))
        }
    }

    /// The meter with this id.
    pub fn meter(&self, id: u32) -> Option<&Meter> {
        self.meters.iter().find(|m| m.id == id)
    }

    /// An id no meter uses yet.
    pub fn next_meter_id(&self) -> u32 {
        self.meters
            .iter()
            .map(|m| m.id)
            .max()
            .map_or(1, |m| m.saturating_add(1))
    }

    /// The time zone of the read grid.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.general.tz()
    }
}

fn parse_error(path: String, e: &serde_json::Error) -> ConfigError {
    let message = e.to_string();
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_string(),
        None => message,
    };
    ConfigError::Parse {
        path: if path.is_empty() { ".".into() } else { path },
        message,
        line: e.line(),
        column: e.column(),
    }
}

/// The configuration file of a data directory: loads, validates and saves atomically.
#[derive(Debug, Clone)]
pub struct ConfigStore {
    path: PathBuf,
}

impl ConfigStore {
    /// The configuration file in `data_dir` (created with defaults by [`ConfigStore::load_or_default`]).
    pub fn new(data_dir: &Path) -> ConfigStore {
        ConfigStore {
            path: data_dir.join(CONFIG_FILE),
        }
    }

    /// Path of the configuration file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads and validates the stored configuration; a missing file gives the defaults. An
    /// older schema version is converted in memory (the file stays as it is).
    pub fn load_or_default(&self) -> Result<Config, ConfigError> {
        self.load_migrating().map(|(config, _)| config)
    }

    /// [`ConfigStore::load_or_default`], also saying what was converted from an older schema
    /// version; the caller decides whether to save the converted configuration.
    /// A file written with looser permissions (by hand, or by an older build) is restricted
    /// to its owner.
    pub fn load_migrating(&self) -> Result<(Config, Option<Migration>), ConfigError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => {
                if let Err(e) = crate::atomic::make_private(&self.path) {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot restrict the configuration file to its owner");
                }
                Config::from_json_migrating(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Config::default(), None)),
            Err(source) => Err(ConfigError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Validates `config` and replaces the stored file atomically; an invalid configuration
    /// is not written.
    pub fn save(&self, config: &Config) -> Result<(), ConfigError> {
        config.validate()?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ConfigError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // The file holds the upload and e-mail passwords: owner only.
        crate::atomic::write_private(&self.path, config.to_json().as_bytes()).map_err(|source| {
            ConfigError::Io {
                path: self.path.clone(),
                source,
            }
        })
    }

    /// Restores a backup: parses and validates `backup` completely, then replaces the stored
    /// configuration atomically. On any error the stored configuration is unchanged.
    pub fn restore(&self, backup: &str) -> Result<Config, ConfigError> {
        let config = Config::from_json(backup)?;
        self.save(&config)?;
        Ok(config)
    }
}
