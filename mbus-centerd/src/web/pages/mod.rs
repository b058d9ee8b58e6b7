//! Server-rendered HTML pages (maud templates, checked at compile time). Every page is usable
//! without JavaScript; `assets/app.js` only adds live updates. Pages follow the reference
//! manual's menu: Start (meter overview), Konfiguration Zähler, Konfiguration Logger,
//! System-Integration.

pub mod form;
pub mod integration;
pub mod io;
pub mod logger;
pub mod login;
pub mod meter;
pub mod meter_config;
pub mod meter_edit;
pub mod overview;

use super::auth::{Session, CSRF_FIELD};
use super::i18n::{self, Lang, Text};
use super::Route;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use logger_core::service::Snapshot;
use maud::{html, Markup, DOCTYPE};

/// Every page route.
pub fn routes() -> Vec<Route> {
    let mut all = login::routes();
    all.extend(overview::routes());
    all.extend(meter_config::routes());
    all.extend(meter::routes());
    all.extend(meter_edit::routes());
    all.extend(logger::routes());
    all.extend(integration::routes());
    all
}

/// The menu entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Meter overview (start page).
    Overview,
    /// Meter search, templates, meter settings.
    MeterConfiguration,
    /// Logger settings tabs.
    LoggerConfiguration,
    /// Export, uploads, BACnet.
    SystemIntegration,
    /// A page outside the menu (password change).
    None,
}

/// The menu: entry, text, path. The paths of the configuration and integration sections are
/// where their pages go (`/meters/config…`, `/logger…`, `/integration…`); until a section's
/// page exists its entry leads to the 404 page.
pub const NAV: [(Nav, Text, &str); 4] = [
    (Nav::Overview, Text::MeterOverview, "/"),
    (
        Nav::MeterConfiguration,
        Text::MeterConfiguration,
        "/meters/config",
    ),
    (
        Nav::LoggerConfiguration,
        Text::LoggerConfiguration,
        "/logger",
    ),
    (
        Nav::SystemIntegration,
        Text::SystemIntegration,
        "/integration",
    ),
];

/// What a page handler knows of its user (from the session the access check found).
#[derive(Debug, Clone)]
pub struct Page {
    /// The session.
    pub session: Session,
    /// Path and query of the page when it was asked for with GET (where the language switch
    /// returns to); `None` for the answer to a form.
    pub location: Option<String>,
}

impl Page {
    /// The user's language.
    pub fn lang(&self) -> Lang {
        self.session.language
    }

    /// A text in the user's language.
    pub fn t(&self, text: Text) -> &'static str {
        text.get(self.lang())
    }

    /// The name of medium `code` in the user's language.
    pub fn medium(&self, code: u8) -> &'static str {
        i18n::medium(code, self.lang())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Page, Response> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .map(|session| Page {
                session,
                location: (parts.method == axum::http::Method::GET)
                    .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
                    .flatten(),
            })
            .ok_or_else(|| Redirect::to("/login").into_response())
    }
}

/// Answer of every unknown path: JSON under `/api/`, a page elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return super::api::ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            format!("no such API route: {}", uri.path()),
        )
        .into_response();
    }
    let body = html! {
        main id="main" .narrow {
            h1 { "404" }
            p { "Not found / Nicht gefunden: " code { (uri.path()) } }
            p { a href="/" { (Text::Start.get(Lang::En)) } }
        }
    };
    (
        axum::http::StatusCode::NOT_FOUND,
        render(document(Lang::En, "404", body)),
    )
        .into_response()
}

/// A page as the response.
pub fn render(markup: Markup) -> Html<String> {
    Html(markup.into_string())
}

/// One column header (`th scope="col"`) per text, in the user's language.
pub fn column_headers(page: &Page, columns: &[Text]) -> Markup {
    html! { @for text in columns { th scope="col" { (page.t(*text)) } } }
}

/// The hidden CSRF field every form of a logged-in page carries.
pub fn csrf_field(page: &Page) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(page.session.csrf); }
}

/// The document frame: `<head>` with the assets, then `body`.
pub fn document(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (Text::AppName.get(lang)) }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body { (body) }
        }
    }
}

/// Where the language switch returns to: the page itself, or for the answer to a form its
/// menu entry's page.
fn back_path(page: &Page, active: Nav) -> &str {
    page.location
        .as_deref()
        .filter(|p| is_local_path(p))
        .unwrap_or_else(|| NAV.iter().find(|n| n.0 == active).map_or("/", |n| n.2))
}

/// `path` is a path on this server (`/…`), never an address elsewhere (`//host`, `/\\host`,
/// which browsers read as another host).
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\")
}

/// The frame of every logged-in page: header with the logger's name and location, the menu,
/// language and logout, the content, and the footer with the logger state (live).
pub fn layout(
    page: &Page,
    snapshot: &Snapshot,
    active: Nav,
    title: &str,
    content: Markup,
) -> Markup {
    let lang = page.lang();
    let general = &snapshot.config.general;
    let body = html! {
        a.skip href="#main" { (page.t(Text::SkipToContent)) }
        header.top {
            div.brand {
                span.name { (general.name) }
                @if !general.location.is_empty() { span.location { (general.location) } }
            }
            nav aria-label=(page.t(Text::Start)) {
                ul {
                    @for (entry, text, path) in NAV {
                        li {
                            a href=(path) aria-current=[(entry == active).then_some("page")] { (text.get(lang)) }
                        }
                    }
                }
            }
            div.user {
                form method="post" action="/language" {
                    (csrf_field(page))
                    input type="hidden" name="back" value=(back_path(page, active));
                    span.visually-hidden { (page.t(Text::Language)) ": " }
                    button id="lang-en" type="submit" name="language" value="en" lang="en"
                        aria-pressed=(if lang == Lang::En { "true" } else { "false" }) { "English" }
                    button id="lang-de" type="submit" name="language" value="de" lang="de"
                        aria-pressed=(if lang == Lang::De { "true" } else { "false" }) { "Deutsch" }
                }
                form method="post" action="/logout" {
                    (csrf_field(page))
                    button type="submit" { (page.t(Text::Logout)) " (" (page.session.user) ")" }
                }
            }
        }
        main id="main" {
            h1 { (title) }
            (content)
        }
        footer.state {
            (page.t(Text::State)) ": "
            span aria-live="polite" {
                span id="logger-state" data-state=(snapshot.state.as_str()) data-lang=(lang.tag()) { (snapshot.state.as_str()) }
                @if lang == Lang::De { " (" span id="logger-state-name" { (i18n::state(snapshot.state, lang)) } ")" }
            }
            @if let Some(e) = &snapshot.device_error { " – " span.error { (e) } }
        }
    };
    document(lang, title, body)
}
