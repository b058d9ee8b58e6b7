//! Login, password change, logout and the language switch as HTML forms.

use super::{csrf_field, document, layout, render, Nav, Page};
use crate::web::api::{blocking, ApiError};
use crate::web::auth::{self, AuthError, ClientAddr};
use crate::web::i18n::{Lang, Text};
use crate::web::{Access, AppState, Route};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/login", Access::Public, "Login page", login_page),
        Route::post("/login", Access::Public, "Login form", login_form),
        Route::get(
            "/password",
            Access::Session,
            "Password change page",
            password_page,
        ),
        Route::post(
            "/password",
            Access::Session,
            "Password change form",
            password_form,
        ),
        Route::post("/logout", Access::Session, "Logout form", logout_form),
        Route::post(
            "/language",
            Access::Session,
            "Language switch form",
            language_form,
        ),
    ]
}

fn login_markup(error: Option<&str>) -> Markup {
    let lang = Lang::En;
    let body = html! {
        main id="main" .narrow {
            h1 { (Text::AppName.get(lang)) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/login" {
                label for="username" { (Text::User.get(lang)) " / " (Text::User.get(Lang::De)) }
                input id="username" name="username" autocomplete="username" required autofocus;
                label for="password" { (Text::Password.get(lang)) " / " (Text::Password.get(Lang::De)) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (Text::Login.get(lang)) " / " (Text::Login.get(Lang::De)) }
            }
        }
    };
    document(lang, Text::Login.get(lang), body)
}

async fn login_page() -> Html<String> {
    render(login_markup(None))
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_form(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Form(form): Form<LoginForm>,
) -> Response {
    let auth = state.auth.clone();
    let result =
        tokio::task::spawn_blocking(move || auth.login(&form.username, &form.password, client))
            .await;
    match result {
        Ok(Ok(session)) => {
            let target = if session.must_change_password {
                "/password"
            } else {
                "/"
            };
            let cookie = auth::session_cookie(
                &session.token,
                state.secure_cookies,
                auth::SESSION_MAX.as_secs(),
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to(target)).into_response()
        }
        Ok(Err(AuthError::RateLimited(_))) => {
            let text = format!(
                "{} / {}",
                Text::TooManyLogins.get(Lang::En),
                Text::TooManyLogins.get(Lang::De)
            );
            (
                StatusCode::TOO_MANY_REQUESTS,
                render(login_markup(Some(&text))),
            )
                .into_response()
        }
        Ok(Err(_)) | Err(_) => {
            let text = format!(
                "{} / {}",
                Text::LoginFailed.get(Lang::En),
                Text::LoginFailed.get(Lang::De)
            );
            (StatusCode::UNAUTHORIZED, render(login_markup(Some(&text)))).into_response()
        }
    }
}

fn password_markup(state: &AppState, page: &Page, error: Option<&str>) -> Markup {
    let snapshot = state.service.snapshot();
    let content = html! {
        @if page.session.must_change_password { p.notice { (page.t(Text::ChangePasswordFirst)) } }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action="/password" .narrow {
            (csrf_field(page))
            label for="current" { (page.t(Text::CurrentPassword)) }
            input id="current" name="current" type="password" autocomplete="current-password" required;
            label for="new" { (page.t(Text::NewPassword)) }
            input id="new" name="new" type="password" autocomplete="new-password" minlength="8" required;
            label for="repeat" { (page.t(Text::RepeatPassword)) }
            input id="repeat" name="repeat" type="password" autocomplete="new-password" minlength="8" required;
            button type="submit" { (page.t(Text::Save)) }
        }
    };
    layout(
        page,
        &snapshot,
        Nav::None,
        page.t(Text::ChangePassword),
        content,
    )
}

async fn password_page(State(state): State<AppState>, page: Page) -> Html<String> {
    render(password_markup(&state, &page, None))
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

async fn password_form(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<PasswordForm>,
) -> Response {
    if form.new != form.repeat {
        let text = page.t(Text::PasswordsDiffer);
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(password_markup(&state, &page, Some(text))),
        )
            .into_response();
    }
    let auth = state.auth.clone();
    let session = page.session.clone();
    let result =
        blocking(move || Ok(auth.change_password(&session, &form.current, &form.new)?)).await;
    match result {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => {
            let status = e.status();
            (
                status,
                render(password_markup(&state, &page, Some(&e.message))),
            )
                .into_response()
        }
    }
}

async fn logout_form(State(state): State<AppState>, page: Page) -> Response {
    state.auth.logout(&page.session.token);
    let cookie = auth::session_cookie("", state.secure_cookies, 0);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

#[derive(Deserialize)]
struct LanguageForm {
    language: String,
    #[serde(default)]
    back: String,
}

async fn language_form(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<LanguageForm>,
) -> Response {
    let Some(lang) = Lang::from_tag(&form.language) else {
        return ApiError::bad("language", "must be \"en\" or \"de\"").into_response();
    };
    if let Err(e) = state.auth.set_language(&page.session, lang) {
        return ApiError::from(e).into_response();
    }
    // Only a local path: never an address elsewhere.
    let back = if super::is_local_path(&form.back) {
        form.back.as_str()
    } else {
        "/"
    };
    Redirect::to(back).into_response()
}
