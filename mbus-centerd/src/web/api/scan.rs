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
use mbus_proto::address::{AddressError, BaudRate};
use mbus_scan::{PrimaryOptions, SecondaryOptions};
use serde::{Deserialize, Serialize};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post(
            "/api/v1/scan",
            Access::Full,
            "Start a meter search: {kind: primary|secondary, baud: 300…38400 or \"all\"}",
            start,
        )
        .request::<ScanRequest>()
        .response::<ScanStarted>()
        .success(StatusCode::ACCEPTED),
        Route::get(
            "/api/v1/scan",
            Access::Full,
            "The running or last search with its progress",
            progress,
        )
        .response_nullable::<ScanState>(),
        Route::post(
            "/api/v1/scan/cancel",
            Access::Full,
            "Cancel the running search",
            cancel,
        )
        .response::<ScanCancelled>(),
    ]
}

/// A scan request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ScanRequest {
    /// `primary` or `secondary`.
    kind: String,
    /// A baud rate, or `"all"`; default 2400.
    #[serde(default)]
    baud: Option<serde_json::Value>,
}

/// The search a request asks for: `kind` primary or secondary, `baud` a baud rate, `all`,
/// or none (2400). The API and the search form both use it.
pub fn scan_kind(kind: &str, baud: Option<&str>) -> Result<ScanKind, ApiError> {
    let bauds = match baud.map(str::trim) {
        None | Some("") => vec![BaudRate::B2400],
        Some("all") => BaudRate::ALL.to_vec(),
        Some(text) => text
            .parse::<BaudRate>()
            .map(|b| vec![b])
            .map_err(|e| match e {
                AddressError::BaudRateText => {
                    ApiError::bad("baud", "must be a baud rate or \"all\"")
                }
                e => ApiError::bad("baud", e.to_string()),
            })?,
    };
    match kind {
        "primary" => Ok(ScanKind::Primary(PrimaryOptions {
            bauds,
            ..PrimaryOptions::default()
        })),
        "secondary" => Ok(ScanKind::Secondary(SecondaryOptions {
            bauds,
            ..SecondaryOptions::default()
        })),
        _ => Err(ApiError::bad(
            "kind",
            "must be \"primary\" or \"secondary\"",
        )),
    }
}

/// The answer to a started search.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScanStarted {
    /// Always `true` (a refused start answers an error).
    pub started: bool,
}

/// The answer to a cancel request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScanCancelled {
    /// A search was running and is asked to stop.
    pub cancelled: bool,
}

/// `POST /api/v1/scan`: starts the search and answers 202 at once.
pub async fn start(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<ScanStarted>), ApiError> {
    let request: ScanRequest = json_body(&body)?;
    let baud = match request.baud {
        None => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err(ApiError::bad("baud", "must be a baud rate or \"all\"")),
    };
    let kind = scan_kind(&request.kind, baud.as_deref())?;
    state.service.start_scan(kind)?;
    Ok((StatusCode::ACCEPTED, Json(ScanStarted { started: true })))
}

/// `GET /api/v1/scan`: `null` if no search ran since the start.
pub async fn progress(State(state): State<AppState>) -> Json<Option<ScanState>> {
    Json(state.service.snapshot().scan)
}

/// `POST /api/v1/scan/cancel`.
/// The body (none is needed) is read, so that the connection stays usable for the next request.
pub async fn cancel(State(state): State<AppState>, _body: Bytes) -> Json<ScanCancelled> {
    Json(ScanCancelled {
        cancelled: state.service.cancel_scan(),
    })
}
