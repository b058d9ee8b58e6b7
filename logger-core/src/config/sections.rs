//! Replacing one settings section of a configuration (what a settings form or
//! `POST /api/v1/settings/{section}` changes), checked as a whole.

use super::{Config, ConfigError};

/// The settings sections that can be replaced one at a time, in the order of the file.
pub const SETTINGS_SECTIONS: [&str; 11] = [
    "general",
    "network",
    "time",
    "email",
    "uploads",
    "bacnet",
    "modbus",
    "level_converter",
    "tls",
    "mqtt",
    "postgres",
];

impl Config {
    /// This configuration with `section` (one of [`SETTINGS_SECTIONS`]) replaced by `value`
    /// (its JSON; left-out fields take their defaults). The result is parsed and validated as a
    /// whole, so problems name the field with its section (`general.name`); secrets `value`
    /// leaves empty keep the ones of `self`.
    ///
    /// ```
    /// use logger_core::config::Config;
    /// let config = Config::default();
    /// let changed = config.with_section("general", serde_json::json!({"name": "Boiler room"})).unwrap();
    /// assert_eq!(changed.general.name, "Boiler room");
    /// let e = config.with_section("bacnet", serde_json::json!({"port": 0})).unwrap_err();
    /// assert_eq!(e.problems()[0].path, "bacnet.port");
    /// ```
    pub fn with_section(
        &self,
        section: &str,
        value: serde_json::Value,
    ) -> Result<Config, ConfigError> {
        if !SETTINGS_SECTIONS.contains(&section) {
            return Err(ConfigError::Invalid(vec![super::FieldError {
                path: "section".into(),
                problem: format!(
                    "no settings section {section:?} (one of {})",
                    SETTINGS_SECTIONS.join(", ")
                ),
            }]));
        }
        let mut document = serde_json::to_value(self).map_err(|e| {
            ConfigError::Invalid(vec![super::FieldError {
                path: ".".into(),
                problem: e.to_string(),
            }])
        })?;
        document[section] = value;
        let mut config = Config::from_json(&document.to_string())?;
        config.keep_secrets_from(self);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_checked_as_a_whole_and_secrets_are_kept() {
        let mut current = Config::default();
        current.email.password = "pw".into();
        current.general.name = "Old".into();
        let changed = current
            .with_section(
                "email",
                serde_json::json!({"server": "smtp.example", "port": 587}),
            )
            .unwrap();
        assert_eq!(changed.email.port, 587);
        assert_eq!(changed.email.password, "pw");
        assert_eq!(changed.general.name, "Old");
        let e = current
            .with_section(
                "general",
                serde_json::json!({"name": "", "read_timeout_ms": "x"}),
            )
            .unwrap_err();
        assert_eq!(e.problems()[0].path, "general.read_timeout_ms");
        let e = current
            .with_section("meters", serde_json::json!([]))
            .unwrap_err();
        assert_eq!(e.problems()[0].path, "section");
    }
}
