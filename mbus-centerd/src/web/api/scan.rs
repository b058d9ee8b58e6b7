//! Meter search: start, progress, cancel. Progress also arrives live as `scan` events on
//! `/api/v1/updates`.

use super::{json_body, ApiError};
use crate::web::{Access, AppState, Route};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use logger_core::engine::ScanKind;
use logger_core::service::ScanState;
use mbus_proto::address::BaudRate;
use mbus_scan::{PrimaryOptions, SecondaryOptions};
use serde::Deserialize;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post(
            "/api/v1/scan",
            Access::Full,
            "Start a meter search: {kind: primary|secondary, baud: 300…38400 or \"all\"}",
            start,
        ),
        Route::get(
            "/api/v1/scan",
            Access::Full,
            "The running or last search with its progress",
            progress,
        ),
        Route::post(
            "/api/v1/scan/cancel",
            Access::Full,
            "Cancel the running search",
            cancel,
        ),
    ]
}

/// A scan request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanRequest {
    /// `primary` or `secondary`.
    kind: String,
    /// A baud rate, or `"all"`; default 2400.
    #[serde(default)]
    baud: Option<serde_json::Value>,
}

fn bauds(value: Option<&serde_json::Value>) -> Result<Vec<BaudRate>, ApiError> {
    match value {
        None => Ok(vec![BaudRate::B2400]),
        Some(serde_json::Value::String(s)) if s == "all" => Ok(BaudRate::ALL.to_vec()),
        Some(v) => {
            let bps = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| ApiError::bad("baud", "must be a baud rate or \"all\""))?;
            BaudRate::from_bps(bps)
                .map(|b| vec![b])
                .map_err(|e| ApiError::bad("baud", e.to_string()))
        }
    }
}

/// `POST /api/v1/scan`: starts the search and answers 202 at once.
pub async fn start(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let request: ScanRequest = json_body(&body)?;
    let bauds = bauds(request.baud.as_ref())?;
    let kind = match request.kind.as_str() {
        "primary" => ScanKind::Primary(PrimaryOptions {
            bauds,
            ..PrimaryOptions::default()
        }),
        "secondary" => ScanKind::Secondary(SecondaryOptions {
            bauds,
            ..SecondaryOptions::default()
        }),
        _ => {
            return Err(ApiError::bad(
                "kind",
                "must be \"primary\" or \"secondary\"",
            ))
        }
    };
    state.service.start_scan(kind)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "started": true })),
    ))
}

/// `GET /api/v1/scan`: `null` if no search ran since the start.
pub async fn progress(State(state): State<AppState>) -> Json<Option<ScanState>> {
    Json(state.service.snapshot().scan)
}

/// `POST /api/v1/scan/cancel`.
pub async fn cancel(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "cancelled": state.service.cancel_scan() }))
}
