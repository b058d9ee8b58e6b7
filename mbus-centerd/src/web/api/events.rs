//! The event log ("Diagnose") with filter and paging.

use super::{blocking, ApiError, Query};
use crate::web::{Access, AppState, Route};
use axum::extract::State;
use axum::Json;
use logger_core::events::{Event, Kind};
use serde::Serialize;

/// Largest page.
pub const MAX_PAGE: usize = 500;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/api/v1/events",
        Access::Full,
        "Event log, newest first",
        events,
    )
    .response::<EventPage>()
    .query(&[
        ("kind", "I, W or E"),
        ("meter", "Only events of this meter id"),
        ("open", "true: only conditions that have not gone"),
        ("offset", "Events to skip (default 0)"),
        ("limit", "Page size, 1…500 (default 50)"),
    ])]
}

/// One page of the event log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// Events matching the filter.
    pub total: usize,
    /// Position of the first event of this page.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
    /// The page, newest first.
    pub events: Vec<Event>,
}

/// `GET /api/v1/events`.
pub async fn events(
    State(state): State<AppState>,
    query: Query,
) -> Result<Json<EventPage>, ApiError> {
    let kind = match query.get("kind") {
        None => None,
        Some("I") => Some(Kind::I),
        Some("W") => Some(Kind::W),
        Some("E") => Some(Kind::E),
        Some(other) => return Err(ApiError::bad("kind", format!("{other:?} is not I, W or E"))),
    };
    let meter = query.parse::<u32>("meter")?;
    let open = query.parse::<bool>("open")?.unwrap_or(false);
    let offset = query.parse::<usize>("offset")?.unwrap_or(0);
    let limit = query.parse::<usize>("limit")?.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let dir = state.service.data_dir().to_path_buf();
    blocking(move || {
        let all = logger_core::events::read(&dir).map_err(|e| ApiError::internal(e.to_string()))?;
        let matching: Vec<Event> = all
            .into_iter()
            .filter(|e| kind.is_none_or(|k| e.kind == k))
            .filter(|e| meter.is_none_or(|m| e.meter == Some(m)))
            .filter(|e| !open || e.went.is_none())
            .collect();
        Ok(Json(EventPage {
            total: matching.len(),
            offset,
            limit,
            events: matching.into_iter().skip(offset).take(limit).collect(),
        }))
    })
    .await
}
