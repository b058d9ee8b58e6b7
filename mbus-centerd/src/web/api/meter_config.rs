//! Adding, changing and deleting meters: the meter edit and manual add of the meter
//! configuration pages go through these functions too.

use super::{json_body, parse_id, ApiError};
use crate::web::{Access, AppState, Route};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use logger_core::config::{Addressing, ConfigError, FieldError, Meter};
use logger_core::engine::LoggerError;
use logger_core::inventory::manual_meter;
use logger_core::service::ServiceHandle;
use mbus_proto::address::{BaudRate, SecondaryAddress, MAX_PRIMARY};
use serde::{Deserialize, Serialize};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post(
            "/api/v1/meters",
            Access::Full,
            "Add a meter by hand: {addressing?: primary|secondary, primary?, secondary?, baud? (default 2400), name?} → 201 {id}",
            add,
        )
        .request::<AddRequest>()
        .response::<Added>()
        .success(StatusCode::CREATED),
        Route::put(
            "/api/v1/meters/{id}",
            Access::Full,
            "Replace a meter's configuration (the `config` object of GET /api/v1/meters/{id}); errors name configuration paths such as meters[2].registers[0].divisor",
            update,
        )
        .request::<Meter>()
        .response::<Meter>(),
        Route::delete(
            "/api/v1/meters/{id}",
            Access::Full,
            "Delete a meter with its whole history → 204",
            delete,
        )
        .success(StatusCode::NO_CONTENT),
    ]
}

/// A meter to add by hand, as text fields (from a form or from JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ManualAdd {
    /// `primary` or `secondary`; by default secondary when a secondary address is given.
    #[serde(default)]
    pub addressing: Option<String>,
    /// Primary address 0…250.
    #[serde(default)]
    pub primary: Option<String>,
    /// Secondary address, 16 hex digits.
    #[serde(default)]
    pub secondary: Option<String>,
    /// Baud rate; 2400 when not given.
    #[serde(default)]
    pub baud: Option<String>,
    /// Name; the automatic name when not given.
    #[serde(default)]
    pub name: Option<String>,
}

/// A checked [`ManualAdd`].
#[derive(Debug)]
struct CheckedAdd {
    addressing: Addressing,
    primary: u8,
    secondary: Option<SecondaryAddress>,
    baud: BaudRate,
    name: Option<String>,
}

fn problem(path: &str, problem: impl Into<String>) -> FieldError {
    FieldError {
        path: path.to_string(),
        problem: problem.into(),
    }
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

impl ManualAdd {
    /// Every field checked; all problems at once, each naming its field.
    fn check(&self) -> Result<CheckedAdd, Vec<FieldError>> {
        let mut problems = Vec::new();
        let secondary_text = given(&self.secondary);
        let secondary = match &secondary_text {
            None => None,
            Some(text) => match text.parse::<SecondaryAddress>() {
                Ok(s) => Some(s),
                Err(e) => {
                    problems.push(problem("secondary", e.to_string()));
                    None
                }
            },
        };
        let addressing = match given(&self.addressing).as_deref() {
            None if secondary_text.is_some() => Addressing::Secondary,
            None | Some("primary") => Addressing::Primary,
            Some("secondary") => Addressing::Secondary,
            Some(other) => {
                problems.push(problem(
                    "addressing",
                    format!("{other:?} is not primary or secondary"),
                ));
                Addressing::Primary
            }
        };
        if addressing == Addressing::Secondary && secondary_text.is_none() {
            problems.push(problem("secondary", "required with secondary addressing"));
        }
        let primary = match given(&self.primary) {
            None if addressing == Addressing::Primary => {
                problems.push(problem("primary", "required with primary addressing"));
                0
            }
            None => 0,
            Some(text) => match text.parse::<u8>() {
                Ok(p) if p <= MAX_PRIMARY => p,
                _ => {
                    problems.push(problem(
                        "primary",
                        format!("{text:?} is not an address between 0 and {MAX_PRIMARY}"),
                    ));
                    0
                }
            },
        };
        let baud = match given(&self.baud) {
            None => BaudRate::B2400,
            Some(text) => match text.parse::<BaudRate>() {
                Ok(b) => b,
                _ => {
                    problems.push(problem(
                        "baud",
                        format!("{text:?} is not 300, 600, 1200, 2400, 4800, 9600, 19200 or 38400"),
                    ));
                    BaudRate::B2400
                }
            },
        };
        if problems.is_empty() {
            Ok(CheckedAdd {
                addressing,
                primary,
                secondary,
                baud,
                name: given(&self.name),
            })
        } else {
            Err(problems)
        }
    }
}

/// Names a problem of `meters[position].field` by `field` alone (the request's own name).
fn relative(mut error: ApiError, position: usize) -> ApiError {
    let prefix = format!("meters[{position}].");
    let strip = |f: &mut String| {
        if let Some(rest) = f.strip_prefix(&prefix) {
            *f = rest.to_string();
        }
    };
    if let Some(f) = error.field.as_mut() {
        strip(f);
    }
    for p in &mut error.problems {
        strip(&mut p.field);
    }
    error
}

/// Adds a meter by hand; returns its id. Errors name the fields of [`ManualAdd`].
pub async fn add_meter(service: &ServiceHandle, request: ManualAdd) -> Result<u32, ApiError> {
    let checked = request
        .check()
        .map_err(|problems| ApiError::from(ConfigError::Invalid(problems)))?;
    let position = service.snapshot().config.meters.len();
    let service = service.clone();
    super::blocking(move || {
        service
            .edit_config(move |config| {
                let mut meter = manual_meter(
                    config,
                    checked.primary,
                    checked.secondary,
                    Some(checked.baud),
                );
                meter.addressing = checked.addressing;
                if let Some(name) = checked.name {
                    meter.name = name;
                }
                let id = meter.id;
                config.meters.push(meter);
                Ok(id)
            })
            .map_err(|e| relative(e.into(), position))
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AddRequest {
    #[serde(default)]
    addressing: Option<serde_json::Value>,
    #[serde(default)]
    primary: Option<serde_json::Value>,
    #[serde(default)]
    secondary: Option<serde_json::Value>,
    #[serde(default)]
    baud: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<serde_json::Value>,
}

/// The answer to an added meter.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Added {
    /// The new meter's id.
    pub id: u32,
}

/// A JSON number or string as text (what the form would send).
fn text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// `POST /api/v1/meters`.
pub async fn add(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Added>), ApiError> {
    let r: AddRequest = json_body(&body)?;
    let request = ManualAdd {
        addressing: text(r.addressing),
        primary: text(r.primary),
        secondary: text(r.secondary),
        baud: text(r.baud),
        name: text(r.name),
    };
    let id = add_meter(&state.service, request).await?;
    Ok((StatusCode::CREATED, Json(Added { id })))
}

/// Replaces the configuration of meter `id` by `meter` (same id) on the logger thread: all
/// or nothing; validation errors carry the configuration's paths
/// (`meters[2].registers[0].divisor`).
pub async fn replace_meter(service: &ServiceHandle, id: u32, meter: Meter) -> Result<(), ApiError> {
    let service = service.clone();
    super::blocking(move || {
        service
            .edit_config(move |config| {
                let slot = config
                    .meters
                    .iter_mut()
                    .find(|m| m.id == id)
                    .ok_or(LoggerError::UnknownMeter(id))?;
                *slot = meter;
                Ok(())
            })
            .map_err(ApiError::from)
    })
    .await
}

/// Where meter `id` is in the configuration (for field paths); 404 if it is not.
pub fn position(service: &ServiceHandle, id: u32) -> Result<usize, ApiError> {
    service
        .snapshot()
        .config
        .meters
        .iter()
        .position(|m| m.id == id)
        .ok_or_else(|| ApiError::unknown("id", format!("no meter with id {id}")))
}

/// `PUT /api/v1/meters/{id}`.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Meter>, ApiError> {
    let id = parse_id(&id)?;
    let at = position(&state.service, id)?;
    let meter: Meter = json_body(&body).map_err(|mut e| {
        // Name the field as the configuration does.
        let prefix = |f: &mut String| *f = format!("meters[{at}].{f}");
        if let Some(f) = e.field.as_mut() {
            prefix(f);
        }
        for p in &mut e.problems {
            prefix(&mut p.field);
        }
        e
    })?;
    if meter.id != id {
        return Err(ApiError::bad(
            &format!("meters[{at}].id"),
            format!("{} differs from the meter in the path ({id})", meter.id),
        ));
    }
    replace_meter(&state.service, id, meter.clone()).await?;
    Ok(Json(meter))
}

/// Deletes meter `id` with its history.
pub async fn delete_meter(service: &ServiceHandle, id: u32) -> Result<(), ApiError> {
    let service = service.clone();
    super::blocking(move || service.delete_meter(id).map_err(ApiError::from)).await
}

/// `DELETE /api/v1/meters/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    delete_meter(&state.service, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(fields: [&str; 5]) -> ManualAdd {
        let f = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ManualAdd {
            addressing: f(fields[0]),
            primary: f(fields[1]),
            secondary: f(fields[2]),
            baud: f(fields[3]),
            name: f(fields[4]),
        }
    }

    #[test]
    fn a_manual_add_names_every_bad_field() {
        let ok = add(["", "7", "", "", ""]).check().unwrap();
        assert_eq!(
            (ok.addressing, ok.primary, ok.baud),
            (Addressing::Primary, 7, BaudRate::B2400)
        );
        let ok = add(["", "", "12345678C5140B04", "9600", "Keller"])
            .check()
            .unwrap();
        assert_eq!(ok.addressing, Addressing::Secondary);
        assert_eq!(ok.name.as_deref(), Some("Keller"));
        let bad = add(["tertiary", "251", "XYZ", "2401", ""])
            .check()
            .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(fields, ["secondary", "addressing", "primary", "baud"]);
        let missing = add(["secondary", "", "", "", ""]).check().unwrap_err();
        assert_eq!(missing[0].path, "secondary");
        let missing = add(["", "", "", "", ""]).check().unwrap_err();
        assert_eq!(missing[0].path, "primary");
    }
}
