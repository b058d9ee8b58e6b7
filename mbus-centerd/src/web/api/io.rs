//! The appliance's inputs and outputs: live values (S0 totals, temperatures, relays, the
//! level converter's session) and the settings of one S0 input, PT1000 input or relay. The
//! settings go through the same configuration edit as every settings section; field problems
//! are named as the pages show them (`s0[1].divisor`).

use super::{blocking, json_body, ApiError};
use crate::web::{Access, AppState, Route};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use logger_core::config::{Config, ConfigError};
use logger_core::engine::LoggerError;
use logger_core::hardware::inputs::request_s0_start;
use logger_core::hardware::relays::RelayRule;
use logger_core::hardware::report::{io_report_of, IoReport};
use logger_core::hardware::settings::{
    s0_start_pulses, set_relay, set_s0, set_temperature, S0Settings, TemperatureSettings,
};
use serde::Deserialize;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/api/v1/io",
            Access::Session,
            "Inputs and outputs now: S0 totals and values, temperatures and resistances, relays and their rules, the level converter (port, connected program and since when, missed read slots)",
            io,
        )
        .response::<IoReport>(),
        Route::post(
            "/api/v1/io/s0/{input}",
            Access::Full,
            "Settings of S0 input 1…4: {\"divisor\": pulses per unit, \"unit\", \"logging\", \"start\": value in the unit or null}; a start value is applied once (event 56) and later pulses count on top of it; 422 names every bad field",
            s0,
        )
        .response::<IoReport>()
        .request::<S0Form>(),
        Route::post(
            "/api/v1/io/temperature/{input}",
            Access::Full,
            "Settings of PT1000 input 1…2: {\"logging\", \"channel\": {\"device\", \"channel\", \"scale\"} or null to keep it}; 422 names every bad field",
            temperature,
        )
        .response::<IoReport>()
        .request::<TemperatureSettings>(),
        Route::post(
            "/api/v1/io/relays/{relay}",
            Access::Full,
            "Which faults switch relay 1…2: {\"on_overload\", \"on_read_failure\"}; 422 names every bad field",
            relay,
        )
        .response::<IoReport>()
        .request::<RelayRule>(),
    ]
}

/// The report of the running logger.
pub fn report(state: &AppState) -> IoReport {
    let snapshot = state.service.snapshot();
    io_report_of(state.service.data_dir(), &snapshot.config, &snapshot.status)
}

/// `GET /api/v1/io`.
pub async fn io(State(state): State<AppState>) -> Json<IoReport> {
    Json(report(&state))
}

/// What `POST /api/v1/io/s0/{input}` takes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct S0Form {
    /// Pulses per unit.
    pub divisor: f64,
    /// Unit.
    #[serde(default)]
    pub unit: String,
    /// Readings stored.
    pub logging: bool,
    /// A new start value in the unit.
    #[serde(default)]
    pub start: Option<f64>,
}

/// Changes the configuration with `edit`; its problems come back as field errors.
async fn edit(
    state: &AppState,
    edit: impl FnOnce(&mut Config) -> Result<(), ConfigError> + Send + 'static,
) -> Result<(), ApiError> {
    let service = state.service.clone();
    blocking(move || {
        service
            .edit_config(move |config| edit(config).map_err(LoggerError::from))
            .map_err(ApiError::from)
    })
    .await
}

/// Applies an S0 form: settings first, then the start value (with the new divisor).
pub async fn apply_s0(state: &AppState, input: u8, form: S0Form) -> Result<(), ApiError> {
    let settings = S0Settings {
        divisor: form.divisor,
        unit: form.unit,
        logging: form.logging,
    };
    let start = form.start;
    edit(state, move |config| {
        set_s0(config, input, &settings)?;
        // Checked here so a bad start value changes nothing.
        start.map_or(Ok(0), |v| s0_start_pulses(config, input, v))?;
        Ok(())
    })
    .await?;
    if let Some(value) = start {
        let pulses = s0_start_pulses(&state.service.snapshot().config, input, value)?;
        request_s0_start(state.service.data_dir(), input, pulses)
            .map_err(|e| ApiError::internal(e.to_string()))?;
    }
    Ok(())
}

/// `POST /api/v1/io/s0/{input}`.
pub async fn s0(
    State(state): State<AppState>,
    Path(input): Path<u8>,
    body: Bytes,
) -> Result<Json<IoReport>, ApiError> {
    apply_s0(&state, input, json_body(&body)?).await?;
    Ok(Json(report(&state)))
}

/// Applies a PT1000 form.
pub async fn apply_temperature(
    state: &AppState,
    input: u8,
    settings: TemperatureSettings,
) -> Result<(), ApiError> {
    edit(state, move |config| {
        set_temperature(config, input, &settings)
    })
    .await
}

/// `POST /api/v1/io/temperature/{input}`.
pub async fn temperature(
    State(state): State<AppState>,
    Path(input): Path<u8>,
    body: Bytes,
) -> Result<Json<IoReport>, ApiError> {
    apply_temperature(&state, input, json_body(&body)?).await?;
    Ok(Json(report(&state)))
}

/// Applies a relay form.
pub async fn apply_relay(state: &AppState, relay: u8, rule: RelayRule) -> Result<(), ApiError> {
    edit(state, move |config| set_relay(config, relay, rule)).await
}

/// `POST /api/v1/io/relays/{relay}`.
pub async fn relay(
    State(state): State<AppState>,
    Path(relay): Path<u8>,
    body: Bytes,
) -> Result<Json<IoReport>, ApiError> {
    apply_relay(&state, relay, json_body(&body)?).await?;
    Ok(Json(report(&state)))
}
