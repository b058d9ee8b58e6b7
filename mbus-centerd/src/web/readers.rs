//! Read-only connections to the readings database, kept for reuse across requests. The logger
//! writes through its own connection; SQLite's WAL lets these read meanwhile.

use super::api::ApiError;
use logger_core::storage::{Store, DATABASE_FILE_NAME};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Idle connections kept at most.
pub const MAX_IDLE: usize = 8;

/// The pool.
#[derive(Debug)]
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Readers {
    /// Connections to the database of `data_dir`.
    pub fn new(data_dir: &Path) -> Readers {
        Readers {
            path: data_dir.join(DATABASE_FILE_NAME),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// A connection (`None` while there is no database yet, before the first reading).
    pub fn take(&self) -> Result<Option<Store>, ApiError> {
        if let Some(store) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(Some(store));
        }
        if !self.path.exists() {
            return Ok(None);
        }
        Store::open_read_only(&self.path)
            .map(Some)
            .map_err(|e| ApiError::internal(e.to_string()))
    }

    /// Hands a connection back for reuse.
    pub fn give(&self, store: Store) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(store);
        }
    }

    /// Runs `f` with a connection (blocking: call it on a blocking thread).
    pub fn with<T>(
        &self,
        f: impl FnOnce(Option<&Store>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let store = self.take()?;
        let result = f(store.as_ref());
        if let Some(store) = store {
            self.give(store);
        }
        result
    }
}
