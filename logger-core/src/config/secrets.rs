//! The secrets of a configuration (upload, e-mail, MQTT and PostgreSQL passwords, the HTTPS
//! push token): left
//! out of backups unless asked for, and kept when a settings form or a backup leaves them
//! empty.

use super::{Config, ConfigError};

/// The paths of the secret fields: the upload, e-mail, MQTT and PostgreSQL passwords and the
/// HTTPS push token.
pub const SECRET_FIELDS: [&str; 5] = [
    "email.password",
    "uploads.file.password",
    "uploads.https.token",
    "mqtt.password",
    "postgres.password",
];

impl Config {
    /// Every secret field, in the order of [`SECRET_FIELDS`].
    fn secrets_mut(&mut self) -> [&mut String; 5] {
        [
            &mut self.email.password,
            &mut self.uploads.file.password,
            &mut self.uploads.https.token,
            &mut self.mqtt.password,
            &mut self.postgres.password,
        ]
    }

    /// This configuration with every secret emptied.
    pub fn without_secrets(&self) -> Config {
        let mut config = self.clone();
        for secret in config.secrets_mut() {
            secret.clear();
        }
        config
    }

    /// Fills every empty secret with the one of `current`, so that a form or a backup without
    /// secrets does not erase the stored passwords.
    pub fn keep_secrets_from(&mut self, current: &Config) {
        let mut current = current.clone();
        for (mine, theirs) in self.secrets_mut().into_iter().zip(current.secrets_mut()) {
            if mine.is_empty() {
                std::mem::swap(mine, theirs);
            }
        }
    }

    /// The backup file: the configuration as JSON, with the secrets only if `secrets`.
    pub fn backup_json(&self, secrets: bool) -> String {
        if secrets {
            self.to_json()
        } else {
            self.without_secrets().to_json()
        }
    }

    /// Reads a backup to replace `current`: fully validated (every problem with its field
    /// path); secrets the backup leaves empty are taken from `current`.
    pub fn from_backup(backup: &str, current: &Config) -> Result<Config, ConfigError> {
        let mut config = Config::from_json(backup)?;
        config.keep_secrets_from(current);
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_secrets() -> Config {
        let mut c = Config::default();
        c.email.password = "mail-pw".into();
        c.uploads.file.password = "ftp-pw".into();
        c.uploads.https.token = "push-secret".into();
        c.mqtt.password = "broker-pw".into();
        c.postgres.password = "db-pw".into();
        c
    }

    #[test]
    fn backups_leave_secrets_out_unless_asked() {
        let c = with_secrets();
        let without = c.backup_json(false);
        for secret in ["mail-pw", "ftp-pw", "push-secret", "broker-pw", "db-pw"] {
            assert!(!without.contains(secret), "{secret} in {without}");
            assert!(c.backup_json(true).contains(secret));
        }
        assert_eq!(Config::from_json(&c.backup_json(true)).unwrap(), c);
    }

    #[test]
    fn restoring_a_backup_without_secrets_keeps_the_stored_ones() {
        let current = with_secrets();
        let mut backup = current.without_secrets();
        backup.general.name = "Restored".into();
        backup.uploads.https.token = "new-token".into();
        let restored = Config::from_backup(&backup.to_json(), &current).unwrap();
        assert_eq!(restored.general.name, "Restored");
        assert_eq!(restored.email.password, "mail-pw");
        assert_eq!(restored.uploads.file.password, "ftp-pw");
        assert_eq!(restored.uploads.https.token, "new-token");
        let e =
            Config::from_backup(r#"{"version":2,"general":{"name":""}}"#, &current).unwrap_err();
        assert_eq!(e.problems()[0].path, "general.name");
    }
}
