//! The start page: the meters by medium ("Übersicht Zähler") with their read status.

use super::{column_headers, layout, Nav, Page};
use crate::web::api::meters::all_meters;
use crate::web::api::ApiError;
use crate::web::i18n::{self, Text};
use crate::web::{Access, AppState, Route};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use logger_core::status::ReadStatus;
use logger_core::views::{by_category, MeterSummary};
use maud::{html, Markup, PreEscaped};
use std::convert::Infallible;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/",
        Access::Full,
        "Meter overview by medium",
        overview,
    )]
}

/// The CSS class of a read status' icon.
pub fn status_class(s: ReadStatus) -> &'static str {
    match s {
        ReadStatus::NeverRead => "st st-never status-never",
        ReadStatus::Ok => "st st-ok status-ok",
        ReadStatus::OkWithErrors => "st st-flags status-flags",
        ReadStatus::Failed => "st st-failed status-failed",
        ReadStatus::Encrypted => "st st-encrypted status-encrypted",
    }
}

/// The status icon with its text for screen readers and as tooltip.
pub fn status_icon(page: &Page, s: ReadStatus) -> Markup {
    let text = i18n::read_status(s, page.lang());
    html! { span class=(status_class(s)) role="img" aria-label=(text) title=(text) {} }
}

fn values(m: &MeterSummary) -> Markup {
    html! {
        @if let Some(r) = &m.last_reading {
            ul.values {
                @for v in r.values.iter().filter(|v| v.value.is_some()).take(3) {
                    li { span.vname { (v.name) } " " span.num.value { (v.value.as_deref().unwrap_or("")) } " " (v.unit) }
                }
            }
        }
    }
}

/// Meter rows per piece of the overview's answer.
const ROWS_PER_PIECE: usize = 50;

/// The overview page, sent in pieces of at most [`ROWS_PER_PIECE`] meter rows: with hundreds of
/// meters the page is larger than 128 KiB, and one buffer that large would, once freed, raise
/// glibc's mmap threshold and leave the server's threads' heaps holding freed memory.
async fn overview(State(state): State<AppState>, page: Page) -> Result<Response, ApiError> {
    let snapshot = state.service.snapshot();
    let (meters, _) = all_meters(&state).await?;
    let lang = page.lang();
    let tz = snapshot.config.tz();
    let frame = layout(
        &page,
        &snapshot,
        Nav::Overview,
        page.t(Text::MeterOverview),
        PreEscaped(PIECES_GO_HERE.to_string()),
    )
    .into_string();
    let (head, tail) = frame.split_once(PIECES_GO_HERE).unwrap_or((&frame, ""));
    let mut pieces = vec![head.to_string()];
    if meters.is_empty() {
        pieces.push(html! { p { (page.t(Text::NoMeters)) } }.into_string());
    }
    for (category, list) in by_category(&meters) {
        pieces.push(
            html! {
                (PreEscaped(format!(r#"<section class="group" aria-labelledby="g-{category:?}">"#)))
                h2 id=(format!("g-{category:?}")) { (i18n::category(category, lang)) " " span.count { "(" (list.len()) ")" } }
                (PreEscaped(r#"<div class="table-wrap"><table class="meters">"#))
                thead { tr {
                    (column_headers(&page, &[
                        Text::Status,
                        Text::Name,
                        Text::SecondaryAddress,
                        Text::Manufacturer,
                        Text::Medium,
                        Text::LastReading,
                        Text::Values,
                    ]))
                } }
                (PreEscaped("<tbody>"))
            }
            .into_string(),
        );
        for rows in list.chunks(ROWS_PER_PIECE) {
            pieces.push(
                html! {
                    @for m in rows {
                        tr data-meter-id=(m.id) {
                            td.status { (status_icon(&page, m.status.status)) }
                            td { a href=(format!("/meters/{}", m.id)) { (m.name) } }
                            td.mono { (m.secondary.as_deref().map_or_else(|| format!("{} {}", page.t(Text::PrimaryAddress), m.primary), str::to_string)) }
                            td { (m.manufacturer.as_deref().unwrap_or("")) }
                            td { (page.medium(m.medium_code)) }
                            td.last { (m.last_reading.as_ref().map_or_else(String::new, |r| r.time.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string())) }
                            td.vals { (values(m)) }
                        }
                    }
                }
                .into_string(),
            );
        }
        pieces.push("</tbody></table></div></section>".to_string());
    }
    pieces.push(
        html! {
            p.next {
                (page.t(Text::NextRead)) ": "
                (snapshot.next_due.map_or_else(|| "–".to_string(), |t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string()))
            }
            p id="news" hidden { a href="/" { (page.t(Text::NewData)) } }
        }
        .into_string(),
    );
    pieces.push(tail.to_string());
    let body = Body::from_stream(stream::iter(
        pieces
            .into_iter()
            .map(|piece| Ok::<_, Infallible>(Bytes::from(piece))),
    ));
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

/// Where the pieces of the overview go in the page's frame.
const PIECES_GO_HERE: &str = "\u{0}overview\u{0}";
