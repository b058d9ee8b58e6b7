//! `mbusctl config export|import`: backup and restore of a logger's whole configuration as
//! JSON. An import is validated completely first; a bad file changes nothing and the error
//! names the field and the problem. `mbusctl config modbus-map` writes the Modbus TCP
//! register map (CSV) of the configuration.

use crate::exit::Exit;
use logger_core::config::{ConfigError, ConfigStore};
use std::io::{Read, Write};
use std::path::PathBuf;

/// Arguments of `mbusctl config`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Write the configuration (backup) to FILE (`-` for standard output). The backup holds
    /// the passwords and tokens of uploads, e-mail, MQTT and PostgreSQL, so FILE is created
    /// readable and writable by its owner only (mode 0600); with `--without-secrets` they are
    /// left out and FILE gets the usual permissions.
    Export {
        /// Data directory of the logger.
        #[arg(long)]
        data_dir: PathBuf,
        /// Leave the passwords and tokens out (an import keeps the stored ones).
        #[arg(long)]
        without_secrets: bool,
        /// Backup file to write.
        file: PathBuf,
    },
    /// Replace the configuration with the backup in FILE (`-` for standard input); a running
    /// daemon takes it over at once.
    Import {
        /// Data directory of the logger.
        #[arg(long)]
        data_dir: PathBuf,
        /// Backup file to read.
        file: PathBuf,
    },
    /// Write the Modbus TCP register map (CSV: each meter value's float32 and int32
    /// addresses) to FILE (`-` for standard output).
    ModbusMap {
        /// Data directory of the logger.
        #[arg(long)]
        data_dir: PathBuf,
        /// CSV file to write.
        file: PathBuf,
    },
}

fn is_stdio(file: &std::path::Path) -> bool {
    file.as_os_str() == "-"
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    match args.action {
        Action::Export {
            data_dir,
            without_secrets,
            file,
        } => export(&ConfigStore::new(&data_dir), &file, !without_secrets),
        Action::Import { data_dir, file } => import(&ConfigStore::new(&data_dir), &file),
        Action::ModbusMap { data_dir, file } => modbus_map(&data_dir, &file),
    }
}

/// Writes `text` to `file` (standard output for `-`), readable by its owner only (mode 0600)
/// if `private`; `done` is printed after writing a file.
fn write_out(
    command: &str,
    file: &std::path::Path,
    text: &str,
    private: bool,
    done: impl FnOnce(),
) -> Exit {
    let written = if is_stdio(file) {
        std::io::stdout().write_all(text.as_bytes())
    } else if private {
        logger_core::atomic::write_private(file, text.as_bytes())
    } else {
        logger_core::atomic::write(file, text.as_bytes())
    };
    match written {
        Ok(()) => {
            if !is_stdio(file) {
                done();
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("mbusctl config {command}: {}: {e}", file.display());
            Exit::Failure
        }
    }
}

fn config_exit(e: &ConfigError) -> Exit {
    match e {
        ConfigError::Io { .. } => Exit::Failure,
        _ => Exit::BadInput,
    }
}

/// Writes the backup to `file`; with `secrets` it holds passwords, and the file is created
/// with mode 0600.
fn export(store: &ConfigStore, file: &std::path::Path, secrets: bool) -> Exit {
    let config = match store.load_or_default() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mbusctl config export: {}: {e}", store.path().display());
            return config_exit(&e);
        }
    };
    let mut text = config.backup_json(secrets);
    text.push('\n');
    write_out("export", file, &text, secrets, || {
        println!(
            "configuration with {} meter(s) written to {}",
            config.meters.len(),
            file.display()
        );
    })
}

fn modbus_map(data_dir: &std::path::Path, file: &std::path::Path) -> Exit {
    let store = ConfigStore::new(data_dir);
    let config = match store.load_or_default() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mbusctl config modbus-map: {}: {e}", store.path().display());
            return config_exit(&e);
        }
    };
    let csv = match logger_core::modbus::register_map(&config, data_dir) {
        Ok(csv) => csv,
        Err(e) => {
            eprintln!("mbusctl config modbus-map: {e}");
            return Exit::Failure;
        }
    };
    write_out("modbus-map", file, &csv, false, || {
        println!(
            "Modbus register map of {} meter(s) written to {}",
            config.meters.len(),
            file.display()
        );
    })
}

fn import(store: &ConfigStore, file: &std::path::Path) -> Exit {
    let mut text = String::new();
    let read = if is_stdio(file) {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|t| text = t)
    };
    if let Err(e) = read {
        eprintln!("mbusctl config import: {}: {e}", file.display());
        return Exit::Failure;
    }
    match store.restore(&text) {
        Ok(config) => {
            println!(
                "configuration imported: {} meter(s), {} template(s)",
                config.meters.len(),
                config.templates.len()
            );
            Exit::Ok
        }
        Err(e) => {
            eprintln!(
                "mbusctl config import: {}: nothing changed:",
                file.display()
            );
            for problem in e.problems() {
                eprintln!("  {problem}");
            }
            config_exit(&e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_backup_with_secrets_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConfigStore::new(dir.path());
        let mut config = store.load_or_default().unwrap();
        config.email.password = "mail-pw".into();
        store.save(&config).unwrap();

        let with = dir.path().join("with.json");
        assert_eq!(export(&store, &with, true), Exit::Ok);
        assert_eq!(mode(&with), 0o600);
        assert!(std::fs::read_to_string(&with).unwrap().contains("mail-pw"));

        // Replacing an existing, world-readable backup restricts it too.
        std::fs::set_permissions(&with, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(export(&store, &with, true), Exit::Ok);
        assert_eq!(mode(&with), 0o600);

        let without = dir.path().join("without.json");
        assert_eq!(export(&store, &without, false), Exit::Ok);
        let text = std::fs::read_to_string(&without).unwrap();
        assert!(!text.contains("mail-pw"), "{text}");
        assert_eq!(mode(&without) & 0o077, 0o644 & 0o077 & !umask_bits());
    }

    /// The group and other bits the process's umask removes (read from `/proc`, 022 if unknown).
    fn umask_bits() -> u32 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o022)
    }
}
