//! The Modbus TCP register map for building-management integrators.

use super::{blocking, ApiError};
use crate::web::{Access, AppState, Route};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use logger_core::modbus::Layout;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/api/v1/modbus/registers.csv",
        Access::Full,
        "Modbus TCP register map (text/csv): per meter value its float32 and int32 addresses, the int32 exponent and the word order",
        register_map,
    )
    .produces("text/csv")]
}

/// The register layout of the configuration in force (`logger_core::modbus::layout`): what
/// the server serves, the CSV and the page's table.
pub async fn layout(state: &AppState) -> Result<Layout, ApiError> {
    let config = state.service.snapshot().config;
    let dir = state.service.data_dir().to_path_buf();
    blocking(move || {
        logger_core::modbus::layout(&config, &dir).map_err(|e| ApiError::internal(e.to_string()))
    })
    .await
}

/// `GET /api/v1/modbus/registers.csv`.
pub async fn register_map(State(state): State<AppState>) -> Result<Response, ApiError> {
    let csv = layout(&state).await?.csv();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"modbus-registers.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
