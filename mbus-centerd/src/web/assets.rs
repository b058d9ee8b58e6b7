//! CSS and JavaScript, embedded in the binary: the UI needs no network access and no CDN, and
//! the content security policy allows scripts from the server only (no inline script).

use super::{Access, Route};
use axum::http::header;
use axum::response::IntoResponse;

/// The style sheet.
pub const CSS: &str = include_str!("assets/app.css");
/// The script (progressive enhancement: live footer and overview, nothing needs it to work).
pub const JS: &str = include_str!("assets/app.js");

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/assets/app.css", Access::Public, "Style sheet", css),
        Route::get("/assets/app.js", Access::Public, "Script", js),
    ]
}

const CACHE: &str = "public, max-age=3600";

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        JS,
    )
}
