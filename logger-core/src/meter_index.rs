//! The stable index of each meter that building-automation clients address it by: the
//! BACnet device instance is start instance + index, the Modbus register block starts at
//! index × block size. The index is stored in `meter-index.json` in the data directory so
//! that a meter keeps it across restarts and when other meters are added or deleted; both
//! servers and the register map read and follow the same file ([`Assignment::follow`]).
//!
//! A new meter takes the lowest index no configured meter holds; a deleted meter's index
//! becomes free again. For BACnet, a meter with its own `bacnet_instance` in the
//! configuration uses that instead of start instance + index.
//!
//! ```
//! use logger_core::meter_index::Assignment;
//! use logger_core::config::Config;
//!
//! let config = Config::from_json(r#"{"version": 2, "meters": [
//!     {"id": 7, "name": "Heat", "addressing": "primary", "primary": 1},
//!     {"id": 9, "name": "Water", "addressing": "primary", "primary": 2}]}"#)?;
//! let mut assignment = Assignment::default();
//! assignment.update(&config.meters);
//! assert_eq!(assignment.instance(&config.meters[1], 1000), Some(1001));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::config::Meter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Name of the file in the data directory.
pub const INDEX_FILE: &str = "meter-index.json";
/// The file's name before Modbus shared it (read when [`INDEX_FILE`] is missing).
pub const LEGACY_INDEX_FILE: &str = "bacnet-devices.json";

/// Why the stored numbering could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file is not a numbering this build wrote.
    #[error("{}: not a meter numbering: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What the JSON reader found wrong.
        message: String,
    },
}

/// Meter id → index of the meter's device, persisted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    /// Index per meter id.
    indices: BTreeMap<u32, u32>,
}

impl Assignment {
    /// Reads the numbering of `data_dir` (the legacy file if there is no current one;
    /// empty if there is none yet).
    pub fn load(data_dir: &Path) -> Result<Assignment, IndexError> {
        for name in [INDEX_FILE, LEGACY_INDEX_FILE] {
            let path = data_dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return serde_json::from_str(&text).map_err(|e| IndexError::Format {
                        path,
                        message: e.to_string(),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(IndexError::Io { path, source }),
            }
        }
        Ok(Assignment::default())
    }

    /// Writes the numbering atomically.
    pub fn save(&self, data_dir: &Path) -> Result<(), IndexError> {
        let path = data_dir.join(INDEX_FILE);
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        crate::atomic::write(&path, text.as_bytes())
            .map_err(|source| IndexError::Io { path, source })
    }

    /// Follows the configured meters: deleted meters free their index, new ones take the
    /// lowest free index, in configuration order. Returns whether anything changed.
    pub fn update(&mut self, meters: &[Meter]) -> bool {
        let before = self.indices.clone();
        self.indices
            .retain(|id, _| meters.iter().any(|m| m.id == *id));
        for meter in meters {
            if self.indices.contains_key(&meter.id) {
                continue;
            }
            let mut taken: Vec<u32> = self.indices.values().copied().collect();
            taken.sort_unstable();
            let free = taken
                .iter()
                .enumerate()
                .find(|(i, v)| *i as u32 != **v)
                .map_or(taken.len() as u32, |(i, _)| i as u32);
            self.indices.insert(meter.id, free);
        }
        self.indices != before
    }

    /// The stored numbering of `data_dir` brought up to date with `meters` and saved when
    /// that changed it: what every user of the index calls, so they all agree.
    pub fn follow(data_dir: &Path, meters: &[Meter]) -> Result<Assignment, IndexError> {
        let mut assignment = Assignment::load(data_dir)?;
        if assignment.update(meters) {
            assignment.save(data_dir)?;
        }
        Ok(assignment)
    }

    /// The index of meter `id`, if it has one.
    pub fn index(&self, id: u32) -> Option<u32> {
        self.indices.get(&id).copied()
    }

    /// The device instance of `meter`: its own configured instance, or `start` + its index.
    pub fn instance(&self, meter: &Meter, start: u32) -> Option<u32> {
        meter
            .bacnet_instance
            .or_else(|| self.index(meter.id).and_then(|i| start.checked_add(i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn meters(ids: &[u32]) -> Vec<Meter> {
        let list: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    r#"{{"id": {id}, "name": "m{id}", "addressing": "primary", "primary": {id}}}"#
                )
            })
            .collect();
        Config::from_json(&format!(
            r#"{{"version": 2, "meters": [{}]}}"#,
            list.join(",")
        ))
        .unwrap()
        .meters
    }

    #[test]
    fn instances_stay_when_meters_come_and_go_and_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Assignment::load(dir.path()).unwrap();
        assert!(a.update(&meters(&[1, 2, 3])));
        assert_eq!(
            (a.index(1), a.index(2), a.index(3)),
            (Some(0), Some(1), Some(2))
        );
        a.save(dir.path()).unwrap();

        // Restart: same numbering; deleting meter 2 keeps meter 3 where it was.
        let mut a = Assignment::load(dir.path()).unwrap();
        assert!(!a.update(&meters(&[1, 2, 3])));
        assert!(a.update(&meters(&[1, 3])));
        assert_eq!((a.index(1), a.index(3)), (Some(0), Some(2)));
        // A new meter takes the free index 1, the next one index 3.
        assert!(a.update(&meters(&[1, 3, 4, 5])));
        assert_eq!((a.index(4), a.index(5)), (Some(1), Some(3)));
        let all = meters(&[1, 3, 4, 5]);
        assert_eq!(a.instance(&all[3], 1000), Some(1003));
        let mut own = all[0].clone();
        own.bacnet_instance = Some(77);
        assert_eq!(a.instance(&own, 1000), Some(77));
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(INDEX_FILE), "{not json").unwrap();
        let e = Assignment::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains(INDEX_FILE), "{e}");
    }

    #[test]
    fn follow_reads_the_legacy_file_and_saves_the_current_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LEGACY_INDEX_FILE),
            r#"{"indices": {"3": 0, "1": 1}}"#,
        )
        .unwrap();
        let a = Assignment::follow(dir.path(), &meters(&[1, 3, 5])).unwrap();
        assert_eq!(
            (a.index(3), a.index(1), a.index(5)),
            (Some(0), Some(1), Some(2))
        );
        assert_eq!(Assignment::load(dir.path()).unwrap(), a);
        assert!(dir.path().join(INDEX_FILE).is_file());
        // Nothing changed: nothing written.
        std::fs::remove_file(dir.path().join(INDEX_FILE)).unwrap();
        std::fs::remove_file(dir.path().join(LEGACY_INDEX_FILE)).unwrap();
        a.save(dir.path()).unwrap();
        let before = std::fs::metadata(dir.path().join(INDEX_FILE))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(
            Assignment::follow(dir.path(), &meters(&[1, 3, 5])).unwrap(),
            a
        );
        let after = std::fs::metadata(dir.path().join(INDEX_FILE))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
    }
}
