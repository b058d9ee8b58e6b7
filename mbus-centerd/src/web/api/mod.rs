//! The REST API under `/api/v1`: JSON in and out, one module per resource.
//!
//! Errors are JSON objects `{"error": code, "message": text, "field": name?, "problems":
//! [{"field", "message"}]?}` with a 4xx status that says what is wrong with which field;
//! malformed JSON, unknown ids, bad dates and oversized bodies never give a 500.

pub mod events;
pub mod export;
pub mod history;
pub mod io;
pub mod meter_config;
pub mod meters;
pub mod modbus;
pub mod scan;
pub mod session;
pub mod settings;
pub mod templates;

use super::Route;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use logger_core::config::ConfigError;
use logger_core::engine::LoggerError;
use logger_core::service::ServiceError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

/// Every API route.
pub fn routes() -> Vec<Route> {
    let mut all = session::routes();
    all.extend(meters::routes());
    all.extend(scan::routes());
    all.extend(export::routes());
    all.extend(events::routes());
    all.extend(meter_config::routes());
    all.extend(history::routes());
    all.extend(templates::routes());
    all.extend(settings::routes());
    all.extend(modbus::routes());
    all.extend(io::routes());
    all
}

/// One problem of a request, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// The field (a query parameter, a JSON path such as `meters[1].registers[0].divisor`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// An API error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Machine-readable code.
    pub error: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// The field concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field problem, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
}

impl ApiError {
    /// An error without a field.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error,
            message: message.into(),
            field: None,
            problems: Vec::new(),
        }
    }

    /// A bad value of `field`.
    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError {
            status,
            error: "invalid_field",
            message: format!("{field}: {message}"),
            field: Some(field.to_string()),
            problems: vec![Problem {
                field: field.to_string(),
                message,
            }],
        }
    }

    /// A bad request parameter or body field (400).
    pub fn bad(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::field(StatusCode::BAD_REQUEST, field, message)
    }

    /// Nothing with this id (404), naming the path parameter.
    pub fn unknown(field: &str, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::field(StatusCode::NOT_FOUND, field, message);
        e.error = "not_found";
        e
    }

    /// A failure of the server itself (500); logged.
    pub fn internal(message: impl Into<String>) -> ApiError {
        let message = message.into();
        tracing::error!(%message, "web request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> ApiError {
        let problems: Vec<Problem> = e
            .problems()
            .into_iter()
            .map(|p| Problem {
                field: p.path,
                message: p.problem,
            })
            .collect();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: "invalid_configuration",
            message: e.to_string(),
            field: problems.first().map(|p| p.field.clone()),
            problems,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::Logger(LoggerError::Config(c)) => c.into(),
            ServiceError::Logger(LoggerError::UnknownMeter(id)) => {
                ApiError::unknown("id", format!("no meter with id {id}"))
            }
            ServiceError::Logger(LoggerError::UnknownType(id)) => ApiError::field(
                StatusCode::CONFLICT,
                "id",
                format!(
                    "the type of meter {id} is not known yet (no secondary address or registers)"
                ),
            ),
            ServiceError::ScanRunning => {
                ApiError::new(StatusCode::CONFLICT, "scan_running", e.to_string())
            }
            ServiceError::Stopped => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "stopped", e.to_string())
            }
            ServiceError::Logger(other) => ApiError::internal(other.to_string()),
        }
    }
}

/// Parses a JSON body; a syntax error, a missing or unknown field or a wrong type gives 400
/// naming the field.
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let field = if path != "." && !path.is_empty() {
            path
        } else if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            name.to_string()
        } else {
            "body".to_string()
        };
        ApiError::bad(&field, message)
    })
}

/// The query parameters of a request; parse each with [`Query::get`] and friends, so that a
/// bad value gives 400 naming the parameter.
#[derive(Debug, Default)]
pub struct Query(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Query, ApiError> {
        let text = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(text)
            .map(|pairs| Query(pairs.into_iter().collect()))
            .map_err(|e| ApiError::bad("query", e.to_string()))
    }
}

impl Query {
    /// The raw value of `name`, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `name` parsed as `T`, if given.
    pub fn parse<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| ApiError::bad(name, format!("{v:?}: {e}")))
            })
            .transpose()
    }
}

/// A path id: a meter number.
pub fn parse_id(text: &str) -> Result<u32, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad("id", format!("{text:?} is not a meter id (a whole number)")))
}

/// Runs blocking work (the database, password hashing) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // only parsed
    struct Login {
        username: String,
        password: String,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = json_body::<Login>(br#"{"username":"a"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("password"));
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = json_body::<Login>(br#"{"username":1,"password":"x"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("username"));
        let e = json_body::<Login>(b"not json").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("body"));
        let e = json_body::<Login>(br#"{"username":"a","password":"b","x":1}"#).unwrap_err();
        assert!(e.message.contains("unknown field"), "{}", e.message);
    }
}
