//! The logger's status, its meters and their readings.

use super::{blocking, parse_id, ApiError, Query};
use crate::web::{Access, AppState, Route};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use logger_core::config::{Config, Meter};
use logger_core::export::Bound;
use logger_core::service::{ServiceHandle, Snapshot};
use logger_core::status::StatusBoard;
use logger_core::storage::{MeterId, Store, MAX_TIME};
use logger_core::views::{register_table, LoggerSummary, MeterSummary, ReadingView, RegisterRow};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// Most readings one request returns.
pub const MAX_READINGS: usize = 10_000;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/api/v1/status",
            Access::Full,
            "Logger name, location, state and meter counts by status",
            status,
        )
        .response::<LoggerSummary>(),
        Route::get(
            "/api/v1/meters",
            Access::Full,
            "Every meter with addresses, medium, status and last reading",
            meters,
        )
        .response_list::<MeterSummary>(),
        Route::get(
            "/api/v1/meters/{id}",
            Access::Full,
            "One meter with its register table and its configuration",
            meter,
        )
        .response::<MeterDetails>(),
        Route::get(
            "/api/v1/meters/{id}/readings",
            Access::Full,
            "Stored readings of a meter in a range, oldest first",
            readings,
        )
        .response::<ReadingList>()
        .query(&[
            ("from", "First day (YYYY-MM-DD) or local time (YYYY-MM-DDTHH:MM[:SS]) included; default: the beginning"),
            ("to", "Last day included, or first local time excluded; default: the end"),
            ("limit", "Most readings returned, 1…10000 (default 10000); `truncated` says when more were in the range"),
        ]),
    ]
}

/// The logger summary of this moment.
pub fn summary(service: &ServiceHandle) -> LoggerSummary {
    let s = service.snapshot();
    LoggerSummary::new(&s.config, &s.status, s.state, s.next_due)
}

/// `GET /api/v1/status`.
pub async fn status(State(state): State<AppState>) -> Json<LoggerSummary> {
    Json(summary(&state.service))
}

/// The meter summaries of one snapshot of the logger, with their JSON, kept until the
/// configuration or the status board changes (a read cycle or scan that stores readings
/// replaces the status board after its commit, an edit replaces the configuration), so that
/// many clients asking for the overview do not each read the database again.
#[derive(Default)]
pub struct MeterCache(Mutex<Option<CachedMeters>>);

/// What [`MeterCache`] holds.
struct CachedMeters {
    config: Arc<Config>,
    status: Arc<StatusBoard>,
    meters: Arc<Vec<MeterSummary>>,
    json: Bytes,
}

impl MeterCache {
    fn get(&self, s: &Snapshot) -> Option<(Arc<Vec<MeterSummary>>, Bytes)> {
        let cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|c| Arc::ptr_eq(&c.config, &s.config) && Arc::ptr_eq(&c.status, &s.status))
            .map(|c| (Arc::clone(&c.meters), c.json.clone()))
    }
}

/// Every meter's summary and its JSON (for the API and the overview page).
pub async fn all_meters(state: &AppState) -> Result<(Arc<Vec<MeterSummary>>, Bytes), ApiError> {
    let s = state.service.snapshot();
    if let Some(hit) = state.meter_cache.get(&s) {
        return Ok(hit);
    }
    let readers = state.readers.clone();
    let cache = Arc::clone(&state.meter_cache);
    blocking(move || {
        let meters = readers.with(|store| {
            MeterSummary::all(&s.config, &s.status, store)
                .map_err(|e| ApiError::internal(e.to_string()))
        })?;
        let json = Bytes::from(
            serde_json::to_vec(&meters).map_err(|e| ApiError::internal(e.to_string()))?,
        );
        let meters = Arc::new(meters);
        *cache.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(CachedMeters {
            config: s.config,
            status: s.status,
            meters: Arc::clone(&meters),
            json: json.clone(),
        });
        Ok((meters, json))
    })
    .await
}

/// `GET /api/v1/meters`.
pub async fn meters(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (_, json) = all_meters(&state).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// A meter with its register table.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeterDetails {
    /// The summary.
    #[serde(flatten)]
    pub summary: MeterSummary,
    /// Every register with the last reading's value.
    pub register_table: Vec<RegisterRow>,
    /// The meter's configuration (what `PUT /api/v1/meters/{id}` takes).
    pub config: Meter,
}

/// `GET /api/v1/meters/{id}`.
pub async fn meter(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MeterDetails>, ApiError> {
    let id = parse_id(&id)?;
    with_meter(&state, id, move |s, meter, store| {
        let last = match store {
            Some(store) => store.last_reading(MeterId(id)).map_err(storage_error)?,
            None => None,
        };
        Ok(Json(MeterDetails {
            summary: MeterSummary::new(&s.config, meter, &s.status, last.as_ref()),
            register_table: register_table(meter, last.as_ref()),
            config: meter.clone(),
        }))
    })
    .await
}

/// Runs `f` on a blocking thread with the logger's snapshot, its meter `id` (404 naming `id`
/// when there is none) and a connection to the readings database (`None` before the first
/// reading).
pub async fn with_meter<T: Send + 'static>(
    state: &AppState,
    id: u32,
    f: impl FnOnce(&Snapshot, &Meter, Option<&Store>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let (service, readers) = (state.service.clone(), state.readers.clone());
    blocking(move || {
        let s = service.snapshot();
        let meter = s
            .config
            .meter(id)
            .ok_or_else(|| ApiError::unknown("id", format!("no meter with id {id}")))?;
        readers.with(|store| f(&s, meter, store))
    })
    .await
}

/// A failure of the readings database, as the server's own error.
pub fn storage_error(e: logger_core::storage::StorageError) -> ApiError {
    ApiError::internal(e.to_string())
}

/// Readings of a meter in a range.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadingList {
    /// The meter.
    pub meter: u32,
    /// First instant included.
    pub from: chrono::DateTime<chrono::Utc>,
    /// First instant excluded.
    pub to: chrono::DateTime<chrono::Utc>,
    /// More readings are in the range than returned (see `limit`).
    pub truncated: bool,
    /// Oldest first.
    pub readings: Vec<ReadingView>,
}

fn instant(t: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// Parses `from`/`to` query parameters (dates or local times) into unix seconds in `tz`.
pub fn range(query: &Query, tz: chrono_tz::Tz) -> Result<(i64, i64), ApiError> {
    let bound = |name: &str| -> Result<Option<Bound>, ApiError> {
        query
            .get(name)
            .map(|v| {
                v.parse::<Bound>()
                    .map_err(|e| ApiError::bad(name, e.to_string()))
            })
            .transpose()
    };
    let from = match bound("from")? {
        Some(b) => b
            .start(tz)
            .map_err(|e| ApiError::bad("from", e.to_string()))?,
        None => 0,
    };
    let to = match bound("to")? {
        Some(b) => b.end(tz).map_err(|e| ApiError::bad("to", e.to_string()))?,
        None => MAX_TIME + 1,
    };
    if from >= to {
        return Err(ApiError::bad("to", "must be after from"));
    }
    Ok((from, to))
}

/// `GET /api/v1/meters/{id}/readings?from&to&limit`.
pub async fn readings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<ReadingList>, ApiError> {
    let id = parse_id(&id)?;
    let limit = query.parse::<usize>("limit")?.unwrap_or(MAX_READINGS);
    if limit == 0 || limit > MAX_READINGS {
        return Err(ApiError::bad(
            "limit",
            format!("must be between 1 and {MAX_READINGS}"),
        ));
    }
    let (service, readers) = (state.service, state.readers);
    blocking(move || {
        let s = service.snapshot();
        let meter = s
            .config
            .meter(id)
            .ok_or_else(|| ApiError::unknown("id", format!("no meter with id {id}")))?;
        let tz = s.config.tz();
        let (from, to) = range(&query, tz)?;
        let mut list = ReadingList {
            meter: id,
            from: instant(from),
            to: instant(to.min(MAX_TIME)),
            truncated: false,
            readings: Vec::new(),
        };
        readers.with(|store| {
            let Some(store) = store else {
                return Ok(());
            };
            let storage = |e: logger_core::storage::StorageError| ApiError::internal(e.to_string());
            for reading in store.readings(MeterId(id), from, to).map_err(storage)? {
                if list.readings.len() == limit {
                    list.truncated = true;
                    break;
                }
                list.readings
                    .push(ReadingView::new(meter, &reading.map_err(storage)?, tz));
            }
            Ok(())
        })?;
        Ok(Json(list))
    })
    .await
}
