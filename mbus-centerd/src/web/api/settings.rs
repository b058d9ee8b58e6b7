//! The logger settings ("Konfiguration Logger", "System-Integration"): one section of the
//! configuration at a time, backup and restore, the test mail, the test upload, the TLS
//! certificate and the versions.
//!
//! Secrets (upload and e-mail passwords, the HTTPS push token) are never sent out with the
//! settings; a section or a backup that leaves one empty keeps the stored one.

use super::{blocking, json_body, ApiError, Problem, Query};
use crate::web::{Access, AppState, Route};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use logger_core::config::{Config, ConfigError, CONFIG_VERSION, SECRET_FIELDS, SETTINGS_SECTIONS};
use logger_core::tls::{CertificateInfo, TlsError};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::openapi::schema::AnyOfBuilder;
use utoipa::openapi::{RefOr, Schema};
use utoipa::PartialSchema;

/// How long the test upload waits for each server.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/api/v1/settings",
            Access::Full,
            "Logger settings: every section of the configuration but the meters and templates, secrets left empty",
            settings,
        )
        .response::<Config>(),
        Route::post(
            "/api/v1/settings/{section}",
            Access::Full,
            "Replace one settings section (general, network, time, email, uploads, bacnet, modbus, level_converter, tls, mqtt, postgres); empty secrets keep the stored ones; 422 names every bad field",
            set_section,
        )
        .request::<SettingsSection>()
        .response::<SettingsSection>(),
        Route::get(
            "/api/v1/backup",
            Access::Full,
            "Download the configuration as a backup file (JSON); ?secrets=true includes the passwords",
            backup,
        )
        .response::<Config>()
        .query(&[(
            "secrets",
            "true: include the upload and e-mail passwords and the push token (default false)",
        )]),
        Route::post(
            "/api/v1/restore",
            Access::Full,
            "Restore a backup (the JSON of GET /api/v1/backup): validated completely first, 422 names every bad field and nothing changes",
            restore,
        )
        .request::<Config>()
        .response::<Restored>(),
        Route::post(
            "/api/v1/email/test",
            Access::Full,
            "Send the test e-mail with the stored settings: {\"to\": address?}; the SMTP dialogue is returned",
            email_test,
        )
        .request::<MailTestRequest>()
        .response::<TestReport>(),
        Route::post(
            "/api/v1/uploads/test",
            Access::Full,
            "Try every enabled upload target with a probe file; one report per target",
            upload_test,
        )
        .response_list::<TestReport>(),
        Route::get(
            "/api/v1/tls",
            Access::Full,
            "TLS: on or off, and the stored certificate",
            tls,
        )
        .response::<TlsState>(),
        Route::post(
            "/api/v1/tls",
            Access::Full,
            "Replace the TLS certificate: {\"certificate\": PEM, \"key\": PEM}; checked (parses, key matches, valid now) first, 422 names the field",
            tls_upload,
        )
        .response::<CertificateInfo>()
        .request::<CertificateUpload>(),
        Route::get(
            "/api/v1/versions",
            Access::Full,
            "Versions of the program, its crates and the configuration schema",
            versions,
        )
        .response::<Versions>(),
    ]
}

/// The body of `POST /api/v1/settings/{section}` in the OpenAPI document: one of the
/// configuration's sections that can be replaced alone, their schemas taken from the
/// configuration's.
pub struct SettingsSection;

impl utoipa::PartialSchema for SettingsSection {
    fn schema() -> RefOr<Schema> {
        let mut sections = AnyOfBuilder::new().description(Some(
            "The section the path names (one of the configuration's sections); left-out fields take their defaults",
        ));
        if let RefOr::T(Schema::Object(config)) = Config::schema() {
            for name in SETTINGS_SECTIONS {
                if let Some(section) = config.properties.get(name) {
                    sections = sections.item(section.clone());
                }
            }
        }
        RefOr::T(Schema::AnyOf(sections.build()))
    }
}

impl utoipa::ToSchema for SettingsSection {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Config::name().into_owned(), Config::schema()));
        Config::schemas(schemas);
    }
}

/// The settings as `GET /api/v1/settings` returns them: the configuration without meters,
/// templates and secrets.
pub fn settings_of(config: &Config) -> serde_json::Value {
    let mut value = serde_json::to_value(config.without_secrets()).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("meters");
        object.remove("templates");
    }
    value
}

/// What the settings form of `section` shows: the stored section (or `posted`, the values a
/// refused form sent), with every secret replaced by whether one is stored (`true`/`false`):
/// a secret is never sent back to the browser.
pub fn form_values(
    config: &Config,
    section: &str,
    posted: Option<serde_json::Value>,
) -> serde_json::Value {
    let stored = serde_json::to_value(config).unwrap_or_default();
    let mut values = posted.unwrap_or_else(|| settings_of(config)[section].clone());
    for path in SECRET_FIELDS {
        let mut keys = path.split('.');
        if keys.next() != Some(section) {
            continue;
        }
        let keys: Vec<&str> = keys.collect();
        let set = keys
            .iter()
            .try_fold(&stored[section], |v, k| v.get(k))
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.is_empty());
        let mut slot = &mut values;
        for k in &keys {
            slot = &mut slot[*k];
        }
        *slot = serde_json::Value::Bool(set);
    }
    values
}

/// `GET /api/v1/settings`.
pub async fn settings(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(settings_of(&state.service.snapshot().config))
}

/// Replaces one section (see `Config::with_section`) in the logger thread, on the
/// configuration in force then; nothing changes on an error.
pub async fn apply_section(
    state: &AppState,
    section: &str,
    value: serde_json::Value,
) -> Result<(), ApiError> {
    if !SETTINGS_SECTIONS.contains(&section) {
        return Err(ApiError::unknown(
            "section",
            format!(
                "no settings section {section:?} (one of {})",
                SETTINGS_SECTIONS.join(", ")
            ),
        ));
    }
    let section = section.to_string();
    replace_config(state, move |config| config.with_section(&section, value)).await
}

/// Replaces the configuration with what `make` builds from the one in force (in the logger
/// thread); nothing changes on an error.
async fn replace_config(
    state: &AppState,
    make: impl FnOnce(&Config) -> Result<Config, ConfigError> + Send + 'static,
) -> Result<(), ApiError> {
    let service = state.service.clone();
    blocking(move || {
        service
            .edit_config(move |config| {
                *config = make(config)?;
                Ok(())
            })
            .map_err(ApiError::from)
    })
    .await
}

/// `POST /api/v1/settings/{section}`.
pub async fn set_section(
    State(state): State<AppState>,
    Path(section): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let value: serde_json::Value = json_body(&body)?;
    apply_section(&state, &section, value).await?;
    Ok(Json(
        settings_of(&state.service.snapshot().config)[section.as_str()].clone(),
    ))
}

/// The file name of a backup: the logger's name and the date.
pub fn backup_name(config: &Config) -> String {
    let name: String = config
        .general
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!(
        "Backup_{name}_{}.json",
        chrono::Utc::now()
            .with_timezone(&config.tz())
            .format("%d_%m_%Y_%H_%M_%S")
    )
}

/// `GET /api/v1/backup`.
pub async fn backup(State(state): State<AppState>, query: Query) -> Result<Response, ApiError> {
    let secrets = query.parse::<bool>("secrets")?.unwrap_or(false);
    let config = state.service.snapshot().config;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", backup_name(&config)),
            ),
        ],
        config.backup_json(secrets),
    )
        .into_response())
}

/// Restores a backup text; nothing changes on an error.
pub async fn restore_text(state: &AppState, text: String) -> Result<(), ApiError> {
    replace_config(state, move |config| Config::from_backup(&text, config)).await
}

/// What a successful restore answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Restored {
    /// Meters in the restored configuration.
    pub meters: usize,
}

/// `POST /api/v1/restore`.
pub async fn restore(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Restored>, ApiError> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad("body", "the backup is not UTF-8 text"))?;
    restore_text(&state, text).await?;
    Ok(Json(Restored {
        meters: state.service.snapshot().config.meters.len(),
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MailTestRequest {
    #[serde(default)]
    to: Option<String>,
}

/// What a test (mail or upload) did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestReport {
    /// `E-mail`, `FTP`, `SFTP`, `HTTPS push` …
    pub label: String,
    /// It worked.
    pub ok: bool,
    /// The steps that worked, in order.
    pub steps: Vec<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Sends the test mail (to `to` or the configured recipients).
pub async fn send_test_mail(state: &AppState, to: Option<String>) -> Result<TestReport, ApiError> {
    let config = state.service.snapshot().config;
    if config.email.server.trim().is_empty() {
        return Err(ApiError::bad("email.server", "no SMTP server configured"));
    }
    blocking(move || {
        Ok(
            match logger_core::email::send_test(&config, to.as_deref()) {
                Ok(t) => TestReport {
                    label: "E-mail".into(),
                    ok: true,
                    steps: t.steps,
                    error: None,
                },
                Err(failure) => TestReport {
                    label: "E-mail".into(),
                    ok: false,
                    steps: failure.transcript.steps,
                    error: Some(failure.error.to_string()),
                },
            },
        )
    })
    .await
}

/// `POST /api/v1/email/test`: 200 when the mail was accepted, 502 with the dialogue when not.
pub async fn email_test(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let request: MailTestRequest = if body.is_empty() {
        MailTestRequest::default()
    } else {
        json_body(&body)?
    };
    let report = send_test_mail(&state, request.to).await?;
    let status = if report.ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    Ok((status, Json(report)).into_response())
}

/// Tries every enabled upload target.
pub async fn run_upload_test(state: &AppState) -> Result<Vec<TestReport>, ApiError> {
    let config = state.service.snapshot().config;
    let dir = state.service.data_dir().to_path_buf();
    blocking(move || {
        let reports =
            logger_core::upload::test_upload(&config, &dir, PROBE_TIMEOUT, chrono::Utc::now())
                .map_err(|e| ApiError::bad("uploads", e.to_string()))?;
        Ok(reports
            .into_iter()
            .map(|r| match r.outcome {
                Ok(steps) => TestReport {
                    label: r.label.into(),
                    ok: true,
                    steps,
                    error: None,
                },
                Err(e) => TestReport {
                    label: r.label.into(),
                    ok: false,
                    steps: Vec::new(),
                    error: Some(e.to_string()),
                },
            })
            .collect())
    })
    .await
}

/// `POST /api/v1/uploads/test`.
pub async fn upload_test(State(state): State<AppState>) -> Result<Json<Vec<TestReport>>, ApiError> {
    run_upload_test(&state).await.map(Json)
}

/// The TLS state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TlsState {
    /// HTTPS on in the configuration.
    pub enabled: bool,
    /// This server answers over TLS now.
    pub serving: bool,
    /// The stored certificate (none before the first start with TLS or an upload).
    pub certificate: Option<CertificateInfo>,
    /// Why the stored certificate cannot be read, if it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The TLS settings and the stored certificate.
pub fn tls_state(state: &AppState) -> TlsState {
    let path = logger_core::tls::path(state.service.data_dir());
    let (certificate, problem) = if path.exists() {
        match logger_core::tls::load(state.service.data_dir()) {
            Ok(identity) => (Some(identity.info), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, None)
    };
    TlsState {
        enabled: state.service.snapshot().config.tls.enabled,
        serving: state.secure_cookies,
        certificate,
        problem,
    }
}

/// `GET /api/v1/tls`.
pub async fn tls(State(state): State<AppState>) -> Json<TlsState> {
    Json(tls_state(&state))
}

impl From<TlsError> for ApiError {
    fn from(e: TlsError) -> ApiError {
        match e {
            TlsError::Invalid(problems) => ConfigError::Invalid(problems).into(),
            other => ApiError::internal(other.to_string()),
        }
    }
}

/// Checks and stores a new certificate and key; the running server serves it from the next
/// connection on.
pub async fn install_certificate(
    state: &AppState,
    certificate: Vec<u8>,
    key: Vec<u8>,
) -> Result<CertificateInfo, ApiError> {
    let dir = state.service.data_dir().to_path_buf();
    let identity = blocking(move || {
        logger_core::tls::install(&dir, &certificate, &key, chrono::Utc::now())
            .map_err(ApiError::from)
    })
    .await?;
    state.tls.set(identity.key);
    tracing::info!(subject = %identity.info.subject, until = %identity.info.not_after, "TLS certificate replaced");
    Ok(identity.info)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CertificateUpload {
    certificate: String,
    key: String,
}

/// `POST /api/v1/tls`.
pub async fn tls_upload(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<CertificateInfo>, ApiError> {
    let upload: CertificateUpload = json_body(&body)?;
    install_certificate(
        &state,
        upload.certificate.into_bytes(),
        upload.key.into_bytes(),
    )
    .await
    .map(Json)
}

/// Program and schema versions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Versions {
    /// This program.
    pub program: &'static str,
    /// Its version.
    pub version: &'static str,
    /// The crates it is built from, with their versions.
    pub crates: Vec<(&'static str, &'static str)>,
    /// The configuration schema version written.
    pub config_schema: u32,
}

/// The versions of this build.
pub fn versions_of() -> Versions {
    Versions {
        program: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        crates: vec![
            (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
            ("logger-core", logger_core::VERSION),
        ],
        config_schema: CONFIG_VERSION,
    }
}

/// `GET /api/v1/versions`.
pub async fn versions() -> Json<Versions> {
    Json(versions_of())
}

/// The problems of an error, for the form that shows them next to the fields.
pub fn problems(e: &ApiError) -> Vec<Problem> {
    if e.problems.is_empty() {
        vec![Problem {
            field: e.field.clone().unwrap_or_default(),
            message: e.message.clone(),
        }]
    } else {
        e.problems.clone()
    }
}
