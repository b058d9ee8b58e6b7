//! The durable spool: files waiting for their upload, one directory per target.
//!
//! Each file is written completely and flushed to disk under a temporary name, then renamed
//! (see [`crate::atomic`]), so after a crash a spool file is either whole or absent. Its name
//! on disk is `<sequence>~<name on the server>`: the twelve-digit sequence number orders the
//! files oldest first and survives restarts. Nothing about the pending files is held in
//! memory apart from the next sequence number; the directory is the queue.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Separates the sequence number from the name on the server.
const SEPARATOR: char = '~';

/// A file waiting in the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolEntry {
    /// The spool file.
    pub path: PathBuf,
    /// Its name on the server.
    pub name: String,
    sequence: u64,
}

/// Why a file could not be put into the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The name cannot be used as a file name on disk or on a server.
    #[error("'{0}' is not a valid upload file name")]
    BadName(String),
    /// The spool directory failed.
    #[error("spool {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
}

/// What [`Spool::push`] did besides adding the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Oldest files dropped to make room (the spool was full).
    pub dropped: usize,
}

/// A directory of files waiting for one upload target.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_files: usize,
    next: u64,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `name` is safe as a remote and local file name (and not a temporary name of
/// [`crate::atomic::write`]).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && !name.contains(".tmp-")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse(path: PathBuf) -> Option<SpoolEntry> {
    let file = path.file_name()?.to_str()?;
    let (sequence, name) = file.split_once(SEPARATOR)?;
    if sequence.len() != 12 || !valid_name(name) {
        return None;
    }
    let sequence = sequence.parse().ok()?;
    let name = name.to_owned();
    Some(SpoolEntry {
        path,
        name,
        sequence,
    })
}

impl SpoolEntry {
    /// Its place in the queue: files pushed later have higher numbers.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
}

impl Spool {
    /// Opens (creates) the spool in `dir`, holding at most `max_files` files (at least 1).
    /// Temporary files left by a crash during a write are removed.
    pub fn open(dir: &Path, max_files: usize) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut next = 0;
        for item in fs::read_dir(dir).map_err(io_err(dir))? {
            let path = item.map_err(io_err(dir))?.path();
            match parse(path.clone()) {
                Some(entry) => next = next.max(entry.sequence + 1),
                None => {
                    // A torn write (temporary name) or a stranger: not ours to deliver.
                    if path.is_file() {
                        tracing::warn!(path = %path.display(), "removing an unfinished spool file");
                        fs::remove_file(&path).map_err(io_err(&path))?;
                    }
                }
            }
        }
        Ok(Spool {
            dir: dir.to_path_buf(),
            max_files: max_files.max(1),
            next,
        })
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a file: written and flushed to disk before this returns. When the spool already
    /// holds its maximum, the oldest files are dropped first (counted in the outcome).
    pub fn push(&mut self, name: &str, bytes: &[u8]) -> Result<PushOutcome, SpoolError> {
        if !valid_name(name) {
            return Err(SpoolError::BadName(name.to_owned()));
        }
        let pending = self.pending()?;
        let mut outcome = PushOutcome::default();
        let excess = (pending.len() + 1).saturating_sub(self.max_files);
        for entry in pending.iter().take(excess) {
            self.remove(entry)?;
            outcome.dropped += 1;
        }
        let path = self.dir.join(format!("{:012}{SEPARATOR}{name}", self.next));
        crate::atomic::write(&path, bytes).map_err(io_err(&path))?;
        self.next += 1;
        Ok(outcome)
    }

    /// The waiting files, oldest first.
    pub fn pending(&self) -> Result<Vec<SpoolEntry>, SpoolError> {
        let mut entries = Vec::new();
        for item in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let path = item.map_err(io_err(&self.dir))?.path();
            entries.extend(parse(path));
        }
        entries.sort_by_key(|e| e.sequence);
        Ok(entries)
    }

    /// How many files wait.
    pub fn len(&self) -> Result<usize, SpoolError> {
        Ok(self.pending()?.len())
    }

    /// Whether no file waits.
    pub fn is_empty(&self) -> Result<bool, SpoolError> {
        Ok(self.len()? == 0)
    }

    /// Removes a delivered (or dropped) file.
    pub fn remove(&self, entry: &SpoolEntry) -> Result<(), SpoolError> {
        match fs::remove_file(&entry.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&entry.path)(e)),
            _ => Ok(()),
        }
    }
}

/// The newest reading handed on per meter (unix seconds), saved in the data directory by
/// every consumer that works through stored readings in order (upload lanes, fleet sinks),
/// so that readings stored before a crash are still handed on after the restart.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// Meter id → time of the newest reading handed on.
    pub(crate) meters: BTreeMap<u32, i64>,
}

impl Cursor {
    /// The saved cursor (empty when missing or unreadable).
    pub(crate) fn load(path: &Path) -> Cursor {
        crate::fleet::load_json(path)
    }

    /// Saves the cursor atomically (flushed to disk).
    pub(crate) fn save(&self, path: &Path) -> io::Result<()> {
        crate::fleet::save_json(path, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_out_oldest_first_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 10).unwrap();
        spool.push("b.csv", b"1").unwrap();
        spool.push("a.csv", b"2").unwrap();
        drop(spool);
        let mut spool = Spool::open(dir.path(), 10).unwrap();
        spool.push("c.csv", b"3").unwrap();
        let names: Vec<_> = spool
            .pending()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["b.csv", "a.csv", "c.csv"]);
        let first = &spool.pending().unwrap()[0];
        assert_eq!(fs::read(&first.path).unwrap(), b"1");
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 3).unwrap();
        for name in ["1.csv", "2.csv", "3.csv"] {
            assert_eq!(spool.push(name, b"x").unwrap().dropped, 0);
        }
        assert_eq!(spool.push("4.csv", b"x").unwrap().dropped, 1);
        let names: Vec<_> = spool
            .pending()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["2.csv", "3.csv", "4.csv"]);
    }

    #[test]
    fn torn_writes_are_removed_on_open_and_bad_names_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("000000000000~a.csv.tmp-77"), b"half").unwrap();
        let mut spool = Spool::open(dir.path(), 3).unwrap();
        assert!(spool.is_empty().unwrap());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        for bad in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(
                matches!(spool.push(bad, b"x"), Err(SpoolError::BadName(_))),
                "{bad}"
            );
        }
    }
}
