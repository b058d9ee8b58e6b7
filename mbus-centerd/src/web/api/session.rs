//! Login, logout, password change and the user's language.

use super::{blocking, json_body, ApiError};
use crate::web::auth::{self, ClientAddr, Session};
use crate::web::i18n::Lang;
use crate::web::{Access, AppState, Route};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::post(
            "/api/v1/login",
            Access::Public,
            "Log in: {username, password} → session cookie, {must_change_password, csrf_token}",
            login,
        )
        .request::<LoginRequest>()
        .response::<LoginAnswer>(),
        Route::post("/api/v1/logout", Access::Session, "End the session", logout)
            .success(StatusCode::NO_CONTENT),
        Route::post(
            "/api/v1/password",
            Access::Session,
            "Change the password: {current, new}",
            password,
        )
        .request::<PasswordRequest>()
        .response::<PasswordChanged>(),
        Route::post(
            "/api/v1/language",
            Access::Session,
            "Set the user's language: {language: en|de}",
            language,
        )
        .request::<LanguageRequest>()
        .response::<LanguageAnswer>(),
    ]
}

/// The body of `POST /api/v1/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    password: String,
}

/// The answer to a login.
#[derive(Serialize, ToSchema)]
pub struct LoginAnswer {
    /// The account still has the default password: everything but the password change,
    /// logout and the language answers 403 until it is changed.
    pub must_change_password: bool,
    /// Send this as `X-CSRF-Token` with every POST, PUT and DELETE of the session.
    pub csrf_token: String,
    /// The user's language.
    pub language: Lang,
}

/// Logs in (rate limited per client); answers with the session cookie.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: LoginRequest = json_body(&body)?;
    let auth = state.auth.clone();
    let session =
        blocking(move || Ok(auth.login(&request.username, &request.password, client)?)).await?;
    Ok(with_cookie(
        &state,
        &session,
        Json(LoginAnswer {
            must_change_password: session.must_change_password,
            csrf_token: session.csrf.clone(),
            language: session.language,
        }),
    ))
}

/// The response with the session cookie of `session` set.
pub fn with_cookie(state: &AppState, session: &Session, body: impl IntoResponse) -> Response {
    let cookie = auth::session_cookie(
        &session.token,
        state.secure_cookies,
        auth::SESSION_MAX.as_secs(),
    );
    ([(header::SET_COOKIE, cookie)], body).into_response()
}

/// Ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Response {
    state.auth.logout(&session.token);
    let cookie = auth::session_cookie("", state.secure_cookies, 0);
    ([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response()
}

/// The body of `POST /api/v1/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PasswordRequest {
    current: String,
    new: String,
}

/// The answer to a password change.
#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// Always `false`: the session may now use everything.
    pub must_change_password: bool,
}

/// Changes the password; the session stays, the user's other sessions end.
pub async fn password(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Result<Json<PasswordChanged>, ApiError> {
    let request: PasswordRequest = json_body(&body)?;
    let auth = state.auth.clone();
    blocking(move || Ok(auth.change_password(&session, &request.current, &request.new)?)).await?;
    Ok(Json(PasswordChanged {
        must_change_password: false,
    }))
}

/// The body of `POST /api/v1/language`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LanguageRequest {
    /// `en` or `de`.
    language: String,
}

/// The language now in force.
#[derive(Serialize, ToSchema)]
pub struct LanguageAnswer {
    /// The user's language.
    pub language: Lang,
}

/// Sets the user's language.
pub async fn language(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    body: Bytes,
) -> Result<Json<LanguageAnswer>, ApiError> {
    let request: LanguageRequest = json_body(&body)?;
    let lang = Lang::from_tag(&request.language)
        .ok_or_else(|| ApiError::bad("language", "must be \"en\" or \"de\""))?;
    state.auth.set_language(&session, lang)?;
    Ok(Json(LanguageAnswer { language: lang }))
}
