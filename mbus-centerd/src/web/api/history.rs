//! A meter's past: the reading valid at a chosen time and the consumption chart data. The
//! meter details page shows the same through these functions.

use super::meters::{storage_error, with_meter};
use super::{parse_id, ApiError, Query};
use crate::web::{Access, AppState, Route};
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, TimeZone, Utc};
use logger_core::export::Bound;
use logger_core::storage::MeterId;
use logger_core::views::{
    chart_register, consumption_series, ConsumptionSeries, Period, ReadingView,
};
use serde::Serialize;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/api/v1/meters/{id}/reading-at",
            Access::Full,
            "The reading valid at a local time: the latest stored at or before it",
            reading_at,
        )
        .response::<ReadingAt>()
        .query(&[(
            "time",
            "Local time YYYY-MM-DDTHH:MM[:SS] in the logger's time zone; a date YYYY-MM-DD alone means the end of that day (required)",
        )]),
        Route::get(
            "/api/v1/meters/{id}/series",
            Access::Full,
            "Consumption (totals) or mean values (instantaneous registers) per interval of a day, week, month or year",
            series,
        )
        .response::<ConsumptionSeries>()
        .query(&[
            ("period", "day (per hour), week (per day, Monday to Sunday), month (per day) or year (per month); default day"),
            ("end", "A local date or time in the period; default now"),
            ("register", "Register index; default the first logged total (energy, volume …)"),
        ]),
    ]
}

/// The reading valid at a time.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadingAt {
    /// The meter.
    pub meter: u32,
    /// The instant asked for.
    pub time: DateTime<Utc>,
    /// The latest reading at or before it; `None` if there is none.
    pub reading: Option<ReadingView>,
}

fn utc(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default()
}

/// Parses a local time (or date: its last second) in `tz`, naming `field` on error.
pub fn local_time(
    text: &str,
    field: &str,
    tz: chrono_tz::Tz,
    day_end: bool,
) -> Result<DateTime<Utc>, ApiError> {
    let bound: Bound = text
        .parse()
        .map_err(|e: logger_core::export::ExportError| ApiError::bad(field, e.to_string()))?;
    let t = match bound {
        Bound::Date(_) if day_end => bound.end(tz).map(|t| t - 1),
        _ => bound.start(tz),
    }
    .map_err(|e| ApiError::bad(field, e.to_string()))?;
    Ok(utc(t))
}

/// The reading of meter `id` valid at `time`.
pub async fn reading_at_time(
    state: &AppState,
    id: u32,
    time: DateTime<Utc>,
) -> Result<ReadingAt, ApiError> {
    with_meter(state, id, move |s, meter, store| {
        let reading = match store {
            Some(store) => store
                .reading_at(MeterId(id), time.timestamp())
                .map_err(storage_error)?,
            None => None,
        };
        Ok(ReadingAt {
            meter: id,
            time,
            reading: reading.map(|r| ReadingView::new(meter, &r, s.config.tz())),
        })
    })
    .await
}

/// The meter id of the path and the logger's time zone (in which query times are read).
fn id_and_zone(state: &AppState, id: &str) -> Result<(u32, chrono_tz::Tz), ApiError> {
    Ok((parse_id(id)?, state.service.snapshot().config.tz()))
}

/// `GET /api/v1/meters/{id}/reading-at?time=`.
pub async fn reading_at(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<ReadingAt>, ApiError> {
    let (id, tz) = id_and_zone(&state, &id)?;
    let text = query
        .get("time")
        .ok_or_else(|| ApiError::bad("time", "required (YYYY-MM-DDTHH:MM, local time)"))?;
    let time = local_time(text, "time", tz, true)?;
    Ok(Json(reading_at_time(&state, id, time).await?))
}

/// What a chart shows: period, a time in it, the register (`None`: the default one).
#[derive(Debug, Clone, Copy)]
pub struct SeriesRequest {
    /// The period.
    pub period: Period,
    /// A time in the period.
    pub end: DateTime<Utc>,
    /// Register index.
    pub register: Option<u32>,
}

impl SeriesRequest {
    /// From the query parameters `period`, `end`, `register`.
    pub fn from_query(query: &Query, tz: chrono_tz::Tz) -> Result<SeriesRequest, ApiError> {
        let period = query
            .get("period")
            .map(|p| {
                p.parse::<Period>()
                    .map_err(|e| ApiError::bad("period", e.to_string()))
            })
            .transpose()?
            .unwrap_or(Period::Day);
        let end = match query.get("end") {
            Some(text) => local_time(text, "end", tz, false)?,
            None => Utc::now(),
        };
        Ok(SeriesRequest {
            period,
            end,
            register: query.parse::<u32>("register")?,
        })
    }
}

/// The chart data of meter `id`; `Ok(None)` if the meter logs no current value to chart.
pub async fn meter_series(
    state: &AppState,
    id: u32,
    request: SeriesRequest,
) -> Result<Option<ConsumptionSeries>, ApiError> {
    with_meter(state, id, move |s, meter, store| {
        let register = match request.register {
            Some(index) => Some(
                meter
                    .registers
                    .iter()
                    .find(|r| r.index == index && !r.off)
                    .ok_or_else(|| {
                        ApiError::unknown(
                            "register",
                            format!("meter {id} logs no register with index {index}"),
                        )
                    })?,
            ),
            None => chart_register(meter),
        };
        let Some(register) = register else {
            return Ok(None);
        };
        consumption_series(
            store,
            meter,
            register,
            request.period,
            request.end,
            s.config.tz(),
        )
        .map(Some)
        .map_err(storage_error)
    })
    .await
}

/// `GET /api/v1/meters/{id}/series`.
pub async fn series(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> Result<Json<ConsumptionSeries>, ApiError> {
    let (id, tz) = id_and_zone(&state, &id)?;
    let request = SeriesRequest::from_query(&query, tz)?;
    meter_series(&state, id, request)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::unknown("register", format!("meter {id} logs no current value")))
}
