//! Register templates ("Vorlagen"): the list, export and import as JSON, applying one to a
//! meter and saving a meter's registers as one.

use super::{blocking, json_body, parse_id, ApiError};
use crate::web::{Access, AppState, Route};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use logger_core::service::ServiceHandle;
use logger_core::template::{self, Template};
use serde::{Deserialize, Serialize};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/api/v1/templates",
            Access::Full,
            "Every template: the user's, then the built-in ones",
            list,
        )
        .response_list::<TemplateEntry>(),
        Route::get(
            "/api/v1/templates/export",
            Access::Full,
            "The user's templates as a template file (JSON download)",
            export,
        )
        .produces("application/json"),
        Route::post(
            "/api/v1/templates/import",
            Access::Full,
            "Import a template file ({version: 1, templates: […]}); a template for a type already present replaces it",
            import,
        )
        .response::<Imported>(),
        Route::post(
            "/api/v1/meters/{id}/template",
            Access::Full,
            "Save the meter's registers as the template of its type: {device_name}",
            save,
        )
        .request::<SaveRequest>()
        .response::<Template>()
        .success(StatusCode::CREATED),
        Route::post(
            "/api/v1/meters/{id}/template/apply",
            Access::Full,
            "Apply the template of the meter's type to it → {device_name}",
            apply,
        )
        .response::<Applied>(),
    ]
}

/// A template with where it comes from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateEntry {
    /// Shipped with the logger (a user template of the same type wins).
    pub builtin: bool,
    /// The template.
    #[serde(flatten)]
    pub template: Template,
}

/// The user's templates, then the built-in ones.
pub fn all_templates(service: &ServiceHandle) -> Vec<TemplateEntry> {
    let config = service.snapshot().config;
    let user = config
        .templates
        .iter()
        .cloned()
        .map(|template| TemplateEntry {
            builtin: false,
            template,
        });
    let builtin = Template::builtin()
        .into_iter()
        .map(|template| TemplateEntry {
            builtin: true,
            template,
        });
    user.chain(builtin).collect()
}

/// `GET /api/v1/templates`.
pub async fn list(State(state): State<AppState>) -> Json<Vec<TemplateEntry>> {
    Json(all_templates(&state.service))
}

/// `GET /api/v1/templates/export`.
pub async fn export(State(state): State<AppState>) -> impl IntoResponse {
    let text = template::export(&state.service.snapshot().config.templates);
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"templates.json\"",
            ),
        ],
        text,
    )
}

/// Imports a template file; returns how many templates it held. Errors name the field
/// (`templates[0].registers[1].divisor`).
pub async fn import_text(service: &ServiceHandle, text: String) -> Result<usize, ApiError> {
    let service = service.clone();
    blocking(move || service.import_templates(text).map_err(ApiError::from)).await
}

/// The answer to a template import.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Templates imported.
    pub imported: usize,
}

/// The answer to a template applied to a meter.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Applied {
    /// The device name of the template applied.
    pub device_name: String,
}

/// `POST /api/v1/templates/import`.
pub async fn import(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Imported>, ApiError> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad("body", "must be UTF-8 text (a template file)"))?;
    let count = import_text(&state.service, text).await?;
    Ok(Json(Imported { imported: count }))
}

/// Saves meter `id`'s registers as the template of its type.
pub async fn save_template(
    service: &ServiceHandle,
    id: u32,
    device_name: String,
) -> Result<Template, ApiError> {
    let service = service.clone();
    blocking(move || {
        service
            .save_as_template(id, device_name)
            .map_err(ApiError::from)
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SaveRequest {
    #[serde(default)]
    device_name: String,
}

/// `POST /api/v1/meters/{id}/template`.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    let id = parse_id(&id)?;
    let request: SaveRequest = json_body(&body)?;
    let template = save_template(&state.service, id, request.device_name).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// Applies the template of meter `id`'s type; returns its device name. 404 naming
/// `template` when there is none for the type.
pub async fn apply_template(service: &ServiceHandle, id: u32) -> Result<String, ApiError> {
    let service = service.clone();
    blocking(move || {
        service
            .apply_template(id)
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                ApiError::unknown(
                    "template",
                    format!("no template for the type of meter {id}"),
                )
            })
    })
    .await
}

/// `POST /api/v1/meters/{id}/template/apply` (a body, not needed, is read so that the connection
/// stays usable).
pub async fn apply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _body: Bytes,
) -> Result<Json<Applied>, ApiError> {
    let id = parse_id(&id)?;
    let name = apply_template(&state.service, id).await?;
    Ok(Json(Applied { device_name: name }))
}
