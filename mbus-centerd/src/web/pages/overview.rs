//! The start page: the meters by medium ("Übersicht Zähler") with their read status.

use super::{layout, render, Nav, Page};
use crate::web::api::meters::all_meters;
use crate::web::api::ApiError;
use crate::web::i18n::{self, Text};
use crate::web::{Access, AppState, Route};
use axum::extract::State;
use axum::response::Html;
use logger_core::status::ReadStatus;
use logger_core::views::{by_category, MeterSummary};
use maud::{html, Markup};

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

async fn overview(State(state): State<AppState>, page: Page) -> Result<Html<String>, ApiError> {
    let snapshot = state.service.snapshot();
    let (meters, _) = all_meters(&state).await?;
    let lang = page.lang();
    let tz = snapshot.config.tz();
    let content = html! {
        @if meters.is_empty() { p { (page.t(Text::NoMeters)) } }
        @for (category, list) in by_category(&meters) {
            section.group aria-labelledby=(format!("g-{category:?}")) {
                h2 id=(format!("g-{category:?}")) { (i18n::category(category, lang)) " " span.count { "(" (list.len()) ")" } }
                div.table-wrap {
                    table.meters {
                        thead { tr {
                            th scope="col" { (page.t(Text::Status)) }
                            th scope="col" { (page.t(Text::Name)) }
                            th scope="col" { (page.t(Text::SecondaryAddress)) }
                            th scope="col" { (page.t(Text::Manufacturer)) }
                            th scope="col" { (page.t(Text::Medium)) }
                            th scope="col" { (page.t(Text::LastReading)) }
                            th scope="col" { (page.t(Text::Values)) }
                        } }
                        tbody {
                            @for m in list {
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
                    }
                }
            }
        }
        p.next {
            (page.t(Text::NextRead)) ": "
            (snapshot.next_due.map_or_else(|| "–".to_string(), |t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string()))
        }
        p id="news" hidden { a href="/" { (page.t(Text::NewData)) } }
    };
    Ok(render(layout(
        &page,
        &snapshot,
        Nav::Overview,
        page.t(Text::MeterOverview),
        content,
    )))
}
