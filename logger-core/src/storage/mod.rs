//! Storage of meter readings in an embedded SQLite database.
//!
//! # Durability
//!
//! The database runs in WAL mode with `synchronous=FULL`: every committed reading has been
//! written to the WAL *and* flushed to the medium before [`Store::append`] returns. A process
//! kill (`kill -9`) or a power loss at any moment therefore loses at most the reading being
//! appended, and SQLite's WAL recovery never lets a torn transaction into the history. With
//! `synchronous=NORMAL` a kill would lose nothing more, but a power loss could roll back the
//! last few committed readings, which the appliance promises not to do. The price is one
//! flush per commit: batch many readings into one [`Store::append_batch`] where they arrive
//! together (a bulk import, one read cycle of the bus).
//!
//! # Schema
//!
//! ```sql
//! CREATE TABLE chunk (
//!     meter    INTEGER NOT NULL,  -- MeterId
//!     start    INTEGER NOT NULL,  -- time of the first reading, unix seconds UTC
//!     readings INTEGER NOT NULL,  -- number of readings in the chunk
//!     nvalues  INTEGER NOT NULL,  -- number of values present in the chunk
//!     data     BLOB    NOT NULL,  -- the readings, packed (see below)
//!     PRIMARY KEY (meter, start)
//! ) WITHOUT ROWID;
//! ```
//!
//! One row holds up to 96 consecutive readings of one meter (closed earlier once its data
//! reaches 800 bytes). Inside a row, times are stored as differences, each value as a varint
//! of the difference of its mantissa to the previous reading's (exact decimals, see
//! [`Decimal`]), missing values as one byte. A typical meter counter costs one or two bytes
//! per value; the key and row overhead are shared by the whole chunk, and there is no
//! other index. Every chunk decodes on its own, so a range query touches only the chunks
//! that overlap it. The file carries application id `0x4D427553` ("MBuS") and schema version
//! 1 in `user_version`.
//!
//! ```
//! use logger_core::storage::{Decimal, MeterId, Reading, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::open(dir.path().join("readings.sqlite3"))?;
//! let meter = MeterId(7);
//! store.append(&Reading {
//!     meter,
//!     time: 1_700_000_000,
//!     status: 0,
//!     values: vec![Some("1234.567".parse()?), None],
//! })?;
//! let last = store.last_reading(meter)?.expect("one reading stored");
//! assert_eq!(last.values[0], Some(Decimal::new(1_234_567, -3)));
//! let all: Vec<Reading> = store.readings(meter, 0, i64::MAX)?.collect::<Result<_, _>>()?;
//! assert_eq!(all, vec![last]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod codec;
mod decimal;
mod synthetic;

pub use decimal::storable;
/// Values are the decoder's exact decimals; the store keeps those whose mantissa fits an
/// `i64` and whose exponent fits -128..=127 (see [`storable`]).
pub use mbus_proto::value::{Decimal, DecimalError};
pub use synthetic::SyntheticInstallation;

use codec::{ChunkDecoder, ChunkEncoder, CodecError};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name of the readings database inside the logger's data directory.
pub const DATABASE_FILE_NAME: &str = "readings.sqlite3";
/// Most values one reading may carry.
pub const MAX_VALUES: usize = 1024;
/// Latest storable time (9999-12-31 23:59:59 UTC); the earliest is 0 (1970-01-01).
pub const MAX_TIME: i64 = 253_402_300_799;

const APPLICATION_ID: i64 = 0x4D42_7553;
const SCHEMA_VERSION: i64 = 1;
const SCHEMA: &str = "CREATE TABLE chunk (
    meter    INTEGER NOT NULL,
    start    INTEGER NOT NULL,
    readings INTEGER NOT NULL,
    nvalues  INTEGER NOT NULL,
    data     BLOB    NOT NULL,
    PRIMARY KEY (meter, start)
) WITHOUT ROWID;";

/// Identifies a meter in the store (the logger's meter number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MeterId(pub u32);

impl fmt::Display for MeterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One read-out of one meter: the value of each logged register at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The meter read.
    pub meter: MeterId,
    /// When it was read, unix seconds UTC, `0..=MAX_TIME`.
    pub time: i64,
    /// Status bits reported with the reading (meter status byte, logger flags); 0 = none.
    pub status: u32,
    /// Value per register position (already divided by the register divisor); `None` where
    /// the meter did not deliver the register. At most [`MAX_VALUES`].
    pub values: Vec<Option<Decimal>>,
}

/// Sizes of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    /// Readings stored.
    pub readings: u64,
    /// Values stored (missing values not counted).
    pub values: u64,
    /// Size of the database file proper (`page_count × page_size`, WAL not included).
    pub database_bytes: u64,
}

impl StoreStats {
    /// Bytes of database file per stored value (0 when empty); checkpoint first for a
    /// figure that covers everything committed.
    pub fn bytes_per_value(&self) -> f64 {
        if self.values == 0 {
            0.0
        } else {
            self.database_bytes as f64 / self.values as f64
        }
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database file could not be opened or set up.
    #[error("cannot open readings database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// SQLite could not switch the database to WAL mode (e.g. a file system without shared
    /// memory support); the crash-safety guarantees need it.
    #[error("readings database {path} cannot use WAL mode (journal mode stays {mode})")]
    NoWal {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// [`Store::open_existing`] found no file.
    #[error("readings database {0} does not exist")]
    Missing(PathBuf),
    /// The file is an SQLite database of something else.
    #[error("{path} is not a readings database (application id {found:#x})")]
    NotReadingsDatabase {
        /// The file.
        path: PathBuf,
        /// The application id found.
        found: i64,
    },
    /// The file was written by a newer or unknown version.
    #[error(
        "readings database {path} has schema version {found}; this version reads {SCHEMA_VERSION}"
    )]
    SchemaVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// A reading's time is outside `0..=MAX_TIME`.
    #[error("reading of meter {meter}: time {time} is outside 0..={MAX_TIME} (unix seconds)")]
    TimeOutOfRange {
        /// The meter.
        meter: MeterId,
        /// The rejected time.
        time: i64,
    },
    /// A reading carries more than [`MAX_VALUES`] values.
    #[error("reading of meter {meter} at {time}: {count} values, at most {MAX_VALUES} allowed")]
    TooManyValues {
        /// The meter.
        meter: MeterId,
        /// The reading's time.
        time: i64,
        /// How many values it had.
        count: usize,
    },
    /// A value does not fit the store: its mantissa needs more than 64 bits or its power
    /// of ten is outside -128..=127 (see [`storable`]).
    #[error("reading of meter {meter} at {time}: value {index} ({value}) does not fit the store")]
    ValueOutOfRange {
        /// The meter.
        meter: MeterId,
        /// The reading's time.
        time: i64,
        /// The value's position in the reading.
        index: usize,
        /// The value.
        value: Decimal,
    },
    /// Stored data does not decode.
    #[error("stored readings of meter {meter} from time {start} are corrupt: {reason}")]
    Corrupt {
        /// The meter.
        meter: MeterId,
        /// Start time of the damaged chunk.
        start: i64,
        /// What is wrong.
        reason: String,
    },
    /// SQLite's `PRAGMA integrity_check` reported problems.
    #[error("database integrity check failed: {0}")]
    Integrity(String),
    /// Any other SQLite failure (disk full, I/O error, locked database).
    #[error("readings database: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn corrupt(meter: MeterId, start: i64, e: CodecError) -> StorageError {
    StorageError::Corrupt {
        meter,
        start,
        reason: e.reason().to_owned(),
    }
}

/// The readings database. Writes take `&mut self`; readers in other threads or processes
/// open their own `Store` on the same file (WAL lets them read while the logger writes).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens the database at `path`, creating it if it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StorageError> {
        let path = path.as_ref();
        let open_err = |source| StorageError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StorageError::NoWal {
                path: path.to_owned(),
                mode,
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        let header = |conn: &Connection| -> rusqlite::Result<(i64, i64)> {
            Ok((
                conn.query_row("PRAGMA application_id", [], |row| row.get(0))?,
                conn.query_row("PRAGMA user_version", [], |row| row.get(0))?,
            ))
        };
        let (mut app_id, mut version) = header(&conn).map_err(open_err)?;
        if app_id == 0 && version == 0 {
            // Look again under the write lock: another process may be creating it right now.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(open_err)?;
            (app_id, version) = header(&tx).map_err(open_err)?;
            if app_id == 0 && version == 0 {
                let tables: i64 = tx
                    .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
                    .map_err(open_err)?;
                if tables != 0 {
                    return Err(StorageError::NotReadingsDatabase {
                        path: path.to_owned(),
                        found: 0,
                    });
                }
                tx.execute_batch(&format!(
                    "{SCHEMA} PRAGMA application_id={APPLICATION_ID}; \
                     PRAGMA user_version={SCHEMA_VERSION};"
                ))
                .map_err(open_err)?;
                (app_id, version) = (APPLICATION_ID, SCHEMA_VERSION);
            }
            tx.commit().map_err(open_err)?;
        }
        Store::checked(path, conn, app_id, version)
    }

    /// The store on `conn`, if its application id and schema version are this version's.
    fn checked(
        path: &Path,
        conn: Connection,
        app_id: i64,
        version: i64,
    ) -> Result<Store, StorageError> {
        if app_id != APPLICATION_ID {
            return Err(StorageError::NotReadingsDatabase {
                path: path.to_owned(),
                found: app_id,
            });
        } else if version != SCHEMA_VERSION {
            return Err(StorageError::SchemaVersion {
                path: path.to_owned(),
                found: version,
            });
        }
        Ok(Store { conn })
    }

    /// Opens the database at `path`, which must exist (for tools that only read).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store, StorageError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(StorageError::Missing(path.to_owned()));
        }
        Store::open(path)
    }

    /// Opens an existing database for reading only (for user interfaces beside the logger,
    /// which writes through its own connection): no write of this connection can touch the
    /// readings. Writing methods fail with [`StorageError::Sqlite`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StorageError> {
        use rusqlite::OpenFlags;
        let path = path.as_ref();
        if !path.is_file() {
            return Err(StorageError::Missing(path.to_owned()));
        }
        let open_err = |source| StorageError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        let app_id: i64 = conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(open_err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(open_err)?;
        Store::checked(path, conn, app_id, version)
    }

    /// Stores one reading (one transaction). A reading at a time the meter already has
    /// replaces the stored one.
    pub fn append(&mut self, reading: &Reading) -> Result<(), StorageError> {
        self.append_batch(std::slice::from_ref(reading))
    }

    /// Stores many readings in one transaction: all of them or, on error, none. Readings
    /// may come in any order and mix meters; readings later than a meter's last stored one
    /// are appended, earlier ones are merged into the history (slower), and a reading at a
    /// time already stored for its meter replaces it (the last one in the batch wins).
    pub fn append_batch(&mut self, readings: &[Reading]) -> Result<(), StorageError> {
        for r in readings {
            if !(0..=MAX_TIME).contains(&r.time) {
                return Err(StorageError::TimeOutOfRange {
                    meter: r.meter,
                    time: r.time,
                });
            }
            if r.values.len() > MAX_VALUES {
                return Err(StorageError::TooManyValues {
                    meter: r.meter,
                    time: r.time,
                    count: r.values.len(),
                });
            }
            let too_large = r.values.iter().enumerate().find_map(|(index, v)| {
                v.filter(|d| decimal::stored_parts(*d).is_none())
                    .map(|d| (index, d))
            });
            if let Some((index, value)) = too_large {
                return Err(StorageError::ValueOutOfRange {
                    meter: r.meter,
                    time: r.time,
                    index,
                    value,
                });
            }
        }
        let mut order: Vec<usize> = (0..readings.len()).collect();
        order.sort_by_key(|&i| (readings[i].meter, readings[i].time));
        // Take the write lock first: a transaction that has read and then wants to write is
        // refused at once (no busy wait) when another connection writes meanwhile.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for group in order.chunk_by(|&a, &b| readings[a].meter == readings[b].meter) {
            append_meter(
                &tx,
                readings[group[0]].meter,
                group.iter().map(|&i| &readings[i]),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes the whole history of `meter`; returns how many readings were removed.
    pub fn delete_meter(&mut self, meter: MeterId) -> Result<u64, StorageError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let removed: i64 = tx.query_row(
            "SELECT coalesce(sum(readings), 0) FROM chunk WHERE meter = ?1",
            [meter.0],
            |row| row.get(0),
        )?;
        tx.execute("DELETE FROM chunk WHERE meter = ?1", [meter.0])?;
        tx.commit()?;
        Ok(removed as u64)
    }

    /// The readings of `meter` with `from <= time < to`, oldest first, streamed from the
    /// database a chunk at a time (memory use does not grow with the range).
    pub fn readings(
        &self,
        meter: MeterId,
        from: i64,
        to: i64,
    ) -> Result<Readings<'_>, StorageError> {
        let first: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT start FROM chunk WHERE meter = ?1 AND start <= ?2 \
                 ORDER BY start DESC LIMIT 1",
            )?
            .query_row(params![meter.0, from], |row| row.get(0))
            .optional()?;
        Ok(Readings {
            conn: &self.conn,
            meter,
            from,
            to,
            cursor: (from < to).then_some(first.unwrap_or(from)),
            chunk: None,
        })
    }

    /// The latest reading of `meter`, if any.
    pub fn last_reading(&self, meter: MeterId) -> Result<Option<Reading>, StorageError> {
        self.reading_at(meter, i64::MAX)
    }

    /// The reading of `meter` valid at `time`: the latest one at or before it, if any (the
    /// meter state shown for a chosen historical date).
    pub fn reading_at(&self, meter: MeterId, time: i64) -> Result<Option<Reading>, StorageError> {
        let Some((start, data)) = covering_chunk(&self.conn, meter, time)? else {
            return Ok(None);
        };
        let mut decoder = ChunkDecoder::new(start, data);
        let mut found = None;
        while let Some(record) = decoder
            .next_record()
            .map_err(|e| corrupt(meter, start, e))?
        {
            if record.time > time {
                break;
            }
            found = Some(Reading {
                meter,
                time: record.time,
                status: record.status,
                values: record.values.to_vec(),
            });
        }
        Ok(found)
    }

    /// Number of readings stored for `meter`.
    pub fn reading_count(&self, meter: MeterId) -> Result<u64, StorageError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(sum(readings), 0) FROM chunk WHERE meter = ?1")?
            .query_row([meter.0], |row| row.get(0))?;
        Ok(n as u64)
    }

    /// The meters that have readings, in id order.
    pub fn meters(&self) -> Result<Vec<MeterId>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT meter FROM chunk ORDER BY meter")?;
        let ids = stmt.query_map([], |row| row.get(0).map(MeterId))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }

    /// Reading and value counts and the file size.
    pub fn stats(&self) -> Result<StoreStats, StorageError> {
        let (readings, values): (i64, i64) = self.conn.query_row(
            "SELECT coalesce(sum(readings), 0), coalesce(sum(nvalues), 0) FROM chunk",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let pages: i64 = self
            .conn
            .query_row("PRAGMA page_count", [], |row| row.get(0))?;
        let page_size: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |row| row.get(0))?;
        Ok(StoreStats {
            readings: readings as u64,
            values: values as u64,
            database_bytes: (pages * page_size) as u64,
        })
    }

    /// Copies everything committed from the WAL into the database file and truncates the
    /// WAL (SQLite also does this on its own every 1000 pages).
    pub fn checkpoint(&self) -> Result<(), StorageError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Checks the database file (`PRAGMA integrity_check`) and decodes every stored chunk,
    /// checking its counts and time order.
    pub fn integrity_check(&self) -> Result<(), StorageError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let messages: Vec<String> = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        if messages != ["ok"] {
            return Err(StorageError::Integrity(messages.join("; ")));
        }
        let mut stmt = self.conn.prepare(
            "SELECT meter, start, readings, nvalues, data FROM chunk ORDER BY meter, start",
        )?;
        let mut rows = stmt.query([])?;
        let mut previous: Option<(MeterId, i64)> = None;
        while let Some(row) = rows.next()? {
            let meter = MeterId(row.get(0)?);
            let start: i64 = row.get(1)?;
            let bad = |reason: &str| StorageError::Corrupt {
                meter,
                start,
                reason: reason.to_owned(),
            };
            let encoder =
                ChunkEncoder::resume(start, row.get(4)?).map_err(|e| corrupt(meter, start, e))?;
            if i64::from(encoder.readings()) != row.get::<_, i64>(2)?
                || i64::from(encoder.values()) != row.get::<_, i64>(3)?
            {
                return Err(bad("counts do not match the data"));
            }
            if encoder.is_empty() {
                return Err(bad("chunk holds no reading"));
            }
            if matches!(previous, Some((m, last)) if m == meter && last >= start) {
                return Err(bad("chunk overlaps the previous one"));
            }
            previous = Some((meter, encoder.last_time()));
        }
        Ok(())
    }

    /// Runs `read` on one consistent snapshot of the database: writes committed meanwhile
    /// by other connections are not seen.
    pub fn with_snapshot<T, E: From<StorageError>>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(StorageError::from)?;
        let out = read(self)?;
        tx.commit().map_err(StorageError::from)?;
        Ok(out)
    }
}

/// The chunk of `meter` holding `time` or the last one before it: the one with the greatest
/// start not after `time`.
fn covering_chunk(
    conn: &Connection,
    meter: MeterId,
    time: i64,
) -> Result<Option<(i64, Vec<u8>)>, StorageError> {
    Ok(conn
        .prepare_cached(
            "SELECT start, data FROM chunk WHERE meter = ?1 AND start <= ?2 \
             ORDER BY start DESC LIMIT 1",
        )?
        .query_row(params![meter.0, time], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

fn resume_last(tx: &Transaction<'_>, meter: MeterId) -> Result<Option<ChunkEncoder>, StorageError> {
    covering_chunk(tx, meter, i64::MAX)?
        .map(|(start, data)| {
            ChunkEncoder::resume(start, data).map_err(|e| corrupt(meter, start, e))
        })
        .transpose()
}

fn write_chunk(
    tx: &Transaction<'_>,
    meter: MeterId,
    chunk: &ChunkEncoder,
) -> Result<(), StorageError> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO chunk (meter, start, readings, nvalues, data) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        meter.0,
        chunk.start(),
        chunk.readings(),
        chunk.values(),
        chunk.data()
    ])?;
    Ok(())
}

/// Stores readings of one meter, sorted by time.
fn append_meter<'r>(
    tx: &Transaction<'_>,
    meter: MeterId,
    readings: impl Iterator<Item = &'r Reading>,
) -> Result<(), StorageError> {
    let mut open = resume_last(tx, meter)?;
    let mut dirty = false;
    for r in readings {
        match &mut open {
            Some(chunk) if r.time <= chunk.last_time() => {
                if dirty {
                    write_chunk(tx, meter, chunk)?;
                }
                merge_into_history(tx, r)?;
                open = resume_last(tx, meter)?;
                dirty = false;
            }
            Some(chunk) if !chunk.is_full() => {
                chunk.push(r.time, r.status, &r.values);
                dirty = true;
            }
            _ => {
                if let (Some(chunk), true) = (&open, dirty) {
                    write_chunk(tx, meter, chunk)?;
                }
                let mut chunk = ChunkEncoder::new(r.time);
                chunk.push(r.time, r.status, &r.values);
                open = Some(chunk);
                dirty = true;
            }
        }
    }
    if let (Some(chunk), true) = (&open, dirty) {
        write_chunk(tx, meter, chunk)?;
    }
    Ok(())
}

/// Puts a reading that is not later than the meter's last one into the chunk covering its
/// time (replacing a reading at the same time), re-encoding that chunk.
fn merge_into_history(tx: &Transaction<'_>, reading: &Reading) -> Result<(), StorageError> {
    let meter = reading.meter;
    let covering = covering_chunk(tx, meter, reading.time)?;
    let (start, data): (i64, Vec<u8>) = match covering {
        Some(found) => found,
        None => tx
            .prepare_cached(
                "SELECT start, data FROM chunk WHERE meter = ?1 ORDER BY start LIMIT 1",
            )?
            .query_row([meter.0], |row| Ok((row.get(0)?, row.get(1)?)))?,
    };
    let mut records = Vec::new();
    let mut decoder = ChunkDecoder::new(start, data);
    while let Some(record) = decoder
        .next_record()
        .map_err(|e| corrupt(meter, start, e))?
    {
        records.push((record.time, record.status, record.values.to_vec()));
    }
    let record = (reading.time, reading.status, reading.values.clone());
    match records.binary_search_by_key(&reading.time, |r| r.0) {
        Ok(i) => records[i] = record,
        Err(i) => records.insert(i, record),
    }
    tx.prepare_cached("DELETE FROM chunk WHERE meter = ?1 AND start = ?2")?
        .execute(params![meter.0, start])?;
    let mut chunk: Option<ChunkEncoder> = None;
    for (time, status, values) in &records {
        if let Some(full) = chunk.as_ref().filter(|c| c.is_full()) {
            write_chunk(tx, meter, full)?;
            chunk = None;
        }
        chunk
            .get_or_insert_with(|| ChunkEncoder::new(*time))
            .push(*time, *status, values);
    }
    if let Some(last) = &chunk {
        write_chunk(tx, meter, last)?;
    }
    Ok(())
}

/// Streaming iterator over a meter's readings in a time range, from [`Store::readings`].
///
/// Holds one decoded chunk (at most 96 readings) at a time and fetches the next one when it
/// runs out. Yields an error (and then ends) if stored data does not decode.
pub struct Readings<'s> {
    conn: &'s Connection,
    meter: MeterId,
    from: i64,
    to: i64,
    /// Lowest start of the next chunk to fetch; `None` once finished.
    cursor: Option<i64>,
    chunk: Option<(i64, ChunkDecoder<Vec<u8>>)>,
}

impl Readings<'_> {
    fn next_chunk(&mut self, cursor: i64) -> Result<bool, StorageError> {
        let next: Option<(i64, Vec<u8>)> = self
            .conn
            .prepare_cached(
                "SELECT start, data FROM chunk WHERE meter = ?1 AND start >= ?2 AND start < ?3 \
                 ORDER BY start LIMIT 1",
            )?
            .query_row(params![self.meter.0, cursor, self.to], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        Ok(match next {
            Some((start, data)) => {
                self.cursor = start.checked_add(1);
                self.chunk = Some((start, ChunkDecoder::new(start, data)));
                true
            }
            None => false,
        })
    }
}

impl Iterator for Readings<'_> {
    type Item = Result<Reading, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((start, decoder)) = &mut self.chunk {
                match decoder.next_record() {
                    Ok(Some(record)) => {
                        if record.time < self.from {
                            continue;
                        }
                        if record.time >= self.to {
                            break;
                        }
                        return Some(Ok(Reading {
                            meter: self.meter,
                            time: record.time,
                            status: record.status,
                            values: record.values.to_vec(),
                        }));
                    }
                    Ok(None) => self.chunk = None,
                    Err(e) => {
                        let e = corrupt(self.meter, *start, e);
                        self.cursor = None;
                        self.chunk = None;
                        return Some(Err(e));
                    }
                }
            }
            let cursor = self.cursor?;
            match self.next_chunk(cursor) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    self.cursor = None;
                    return Some(Err(e));
                }
            }
        }
        self.cursor = None;
        self.chunk = None;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_only_connection_sees_new_readings_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE_NAME);
        assert!(matches!(
            Store::open_read_only(&path),
            Err(StorageError::Missing(_))
        ));
        let mut writer = Store::open(&path).unwrap();
        let reading = |time| Reading {
            meter: MeterId(1),
            time,
            status: 0,
            values: vec![Some(Decimal::new(5, 0))],
        };
        writer.append(&reading(100)).unwrap();
        let mut reader = Store::open_read_only(&path).unwrap();
        assert_eq!(reader.last_reading(MeterId(1)).unwrap().unwrap().time, 100);
        writer.append(&reading(200)).unwrap();
        assert_eq!(reader.last_reading(MeterId(1)).unwrap().unwrap().time, 200);
        assert!(reader.append(&reading(300)).is_err());
        assert_eq!(writer.reading_count(MeterId(1)).unwrap(), 2);
    }
}
