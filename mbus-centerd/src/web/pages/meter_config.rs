//! Meter configuration ("Konfiguration Zähler"): the search with its progress (live with
//! JavaScript) and cancel, manual add, templates (list, export, import) and the meter list.
//! Every form posts and comes back here with a message; the actions go through the same
//! functions as the API.

use super::overview::status_icon;
use super::{column_headers, csrf_field, layout, render, Nav, Page};
use crate::web::api::meter_config::{add_meter, ManualAdd};
use crate::web::api::meters::all_meters;
use crate::web::api::scan::scan_kind;
use crate::web::api::templates::{all_templates, import_text};
use crate::web::api::{ApiError, Problem, Query};
use crate::web::i18n::Text;
use crate::web::{Access, AppState, Route};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use mbus_proto::address::BaudRate;
use serde::Deserialize;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/meters/config",
            Access::Full,
            "Meter configuration: search, manual add, templates, meter list",
            config_page,
        ),
        Route::post(
            "/meters/config/search",
            Access::Full,
            "Search form",
            search_form,
        ),
        Route::post(
            "/meters/config/search/cancel",
            Access::Full,
            "Search cancel form",
            cancel_form,
        ),
        Route::post(
            "/meters/config/add",
            Access::Full,
            "Manual add form",
            add_form,
        ),
        Route::post(
            "/meters/config/templates/import",
            Access::Full,
            "Template import form",
            import_form,
        ),
    ]
}

/// The message a form's redirect asks for with `?done=`.
fn done_text(code: &str) -> Option<Text> {
    Some(match code {
        "saved" => Text::Saved,
        "deleted" => Text::MeterDeleted,
        "added" => Text::MeterAdded,
        "imported" => Text::TemplatesImported,
        "applied" => Text::TemplateApplied,
        "template-saved" => Text::TemplateSaved,
        "search" => Text::SearchStarted,
        "cancelled" => Text::SearchCancelRequested,
        _ => return None,
    })
}

/// The confirmation of the last form (`?done=`), announced to screen readers.
pub fn notice(page: &Page, query: &Query) -> Markup {
    html! {
        @if let Some(text) = query.get("done").and_then(done_text) {
            p.notice role="status" id="message" { (page.t(text)) }
        }
    }
}

/// The error of `field` next to its input (`id` for `aria-describedby`); nothing if none.
pub fn field_error(problems: &[Problem], field: &str, id: &str) -> Markup {
    html! {
        @for p in problems.iter().filter(|p| p.field == field) {
            span.field-error id=(id) data-field=(field) role="alert" { (p.message) }
        }
    }
}

/// A page's form error: the problems of `error` (or its message under `field`).
pub fn problems_of(error: ApiError, field: &str) -> Vec<Problem> {
    if error.problems.is_empty() {
        vec![Problem {
            field: field.to_string(),
            message: error.message,
        }]
    } else {
        error.problems
    }
}

/// An error of a meter page as an HTML page with its status (an unknown meter is a 404 page,
/// not JSON).
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = html! {
            main id="main" .narrow {
                h1 { (status.as_u16()) }
                p.error role="alert" { (self.0.message) }
                p { a href="/meters/config" { (Text::MeterConfiguration.get(crate::web::i18n::Lang::En)) " / " (Text::MeterConfiguration.get(crate::web::i18n::Lang::De)) } }
            }
        };
        (
            status,
            render(super::document(
                crate::web::i18n::Lang::En,
                &status.as_u16().to_string(),
                body,
            )),
        )
            .into_response()
    }
}

/// What a failed form sends back to the page.
#[derive(Debug, Default)]
struct Failed {
    problems: Vec<Problem>,
    add: ManualAdd,
    templates: String,
}

fn search_section(page: &Page, state: &AppState, problems: &[Problem]) -> Markup {
    let scan = state.service.snapshot().scan;
    let running = scan.as_ref().is_some_and(|s| s.running);
    let percent = scan.as_ref().map_or(0.0, |s| (s.fraction * 100.0).floor());
    let status = match &scan {
        None => page.t(Text::NoSearchYet).to_string(),
        Some(s) if s.running => format!(
            "{} ({} Baud): {percent} % – {}: {}",
            page.t(Text::SearchRunning),
            s.baud,
            page.t(Text::MetersFound),
            s.found
        ),
        Some(s) if s.error.is_some() => format!(
            "{}: {}",
            page.t(Text::SearchFailed),
            s.error.as_deref().unwrap_or("")
        ),
        Some(s) => format!(
            "{} – {}: {}, {}: {}",
            if s.cancelled {
                page.t(Text::SearchCancelled)
            } else {
                page.t(Text::SearchDone)
            },
            page.t(Text::MetersFound),
            s.found,
            page.t(Text::MetersAdded),
            s.added.len()
        ),
    };
    let config = state.service.snapshot().config;
    html! {
        section aria-labelledby="h-search" {
            h2 id="h-search" { (page.t(Text::Search)) }
            form id="search-form" method="post" action="/meters/config/search" {
                (csrf_field(page))
                label for="search-kind" { (page.t(Text::SearchBy)) }
                select id="search-kind" name="kind" {
                    option value="secondary" { (page.t(Text::SecondaryAddress)) }
                    option value="primary" { (page.t(Text::PrimaryAddress)) }
                }
                (field_error(problems, "kind", "err-kind"))
                label for="search-baud" { (page.t(Text::BaudRate)) }
                select id="search-baud" name="baud" {
                    @for b in BaudRate::ALL {
                        option value=(b.bps()) selected[b == BaudRate::B2400] { (b.bps()) }
                    }
                    option value="all" { (page.t(Text::AllBauds)) }
                }
                (field_error(problems, "baud", "err-baud"))
                button id="search-start" type="submit" disabled[running] { (page.t(Text::StartSearch)) }
            }
            (field_error(problems, "search", "err-search"))
            div.progress {
                progress id="search-progress" max="100" value=(percent) aria-labelledby="search-status" { (percent) " %" }
                span id="search-status" role="status" aria-live="polite" data-running=(running)
                    data-text-running=(page.t(Text::SearchRunning)) data-text-found=(page.t(Text::MetersFound)) { (status) }
            }
            form method="post" action="/meters/config/search/cancel" {
                (csrf_field(page))
                button id="search-cancel" type="submit" disabled[!running] { (page.t(Text::Cancel)) }
                " "
                a href="/meters/config" { (page.t(Text::Refresh)) }
            }
            h3 { (page.t(Text::MetersAdded)) }
            ul id="search-found" {
                @for id in scan.iter().flat_map(|s| s.added.iter()) {
                    @if let Some(m) = config.meter(*id) {
                        li data-meter-id=(id) { a href=(format!("/meters/{id}/edit")) { (m.name) } }
                    }
                }
            }
        }
    }
}

fn input(
    id: &str,
    name: &str,
    label: Text,
    value: &Option<String>,
    problems: &[Problem],
    page: &Page,
) -> Markup {
    let err = format!("err-{id}");
    let invalid = problems.iter().any(|p| p.field == name);
    html! {
        label for=(id) { (page.t(label)) }
        input id=(id) name=(name) value=(value.as_deref().unwrap_or(""))
            aria-invalid=[invalid.then_some("true")] aria-describedby=(err);
        (field_error(problems, name, &err))
    }
}

fn manual_section(page: &Page, failed: &Failed) -> Markup {
    let p = &failed.problems;
    let add = &failed.add;
    html! {
        section aria-labelledby="h-manual" {
            h2 id="h-manual" { (page.t(Text::ManualAdd)) }
            form id="manual-form" method="post" action="/meters/config/add" {
                (csrf_field(page))
                label for="add-addressing" { (page.t(Text::Addressing)) }
                select id="add-addressing" name="addressing" aria-describedby="err-add-addressing" {
                    option value="primary" selected[add.addressing.as_deref() != Some("secondary")] { (page.t(Text::PrimaryAddress)) }
                    option value="secondary" selected[add.addressing.as_deref() == Some("secondary")] { (page.t(Text::SecondaryAddress)) }
                }
                (field_error(p, "addressing", "err-add-addressing"))
                (input("add-primary", "primary", Text::PrimaryAddress, &add.primary, p, page))
                (input("add-secondary", "secondary", Text::SecondaryAddress, &add.secondary, p, page))
                label for="add-baud" { (page.t(Text::BaudRate)) }
                select id="add-baud" name="baud" aria-describedby="err-add-baud" {
                    option value="" { (page.t(Text::Standard)) " (2400)" }
                    @for b in BaudRate::ALL {
                        option value=(b.bps()) selected[add.baud.as_deref() == Some(b.bps().to_string().as_str())] { (b.bps()) }
                    }
                }
                (field_error(p, "baud", "err-add-baud"))
                (input("add-name", "name", Text::Name, &add.name, p, page))
                button id="add-submit" type="submit" { (page.t(Text::Add)) }
            }
        }
    }
}

fn templates_section(page: &Page, state: &AppState, failed: &Failed) -> Markup {
    let templates = all_templates(&state.service);
    let import_problems: Vec<&Problem> = failed
        .problems
        .iter()
        .filter(|p| {
            p.field == "file"
                || p.field.starts_with("templates")
                || p.field == "version"
                || p.field == "."
        })
        .collect();
    html! {
        section aria-labelledby="h-templates" {
            h2 id="h-templates" { (page.t(Text::Templates)) }
            div.table-wrap {
                table id="template-list" {
                    thead { tr {
                        (column_headers(page, &[
                            Text::Manufacturer,
                            Text::Medium,
                            Text::Version,
                            Text::ValueCount,
                            Text::DeviceName,
                            Text::Battery,
                            Text::Source,
                        ]))
                    } }
                    tbody {
                        @for t in &templates {
                            tr {
                                td { (t.template.manufacturer) }
                                td { (page.medium(t.template.medium)) }
                                td { (t.template.version) }
                                td { (t.template.values) }
                                td { (t.template.device_name) }
                                td { @if t.template.battery { "✓" } }
                                td { (page.t(if t.builtin { Text::Builtin } else { Text::Own })) }
                            }
                        }
                    }
                }
            }
            p { a id="templates-export" href="/api/v1/templates/export" download="templates.json" { (page.t(Text::ExportTemplates)) } }
            h3 { (page.t(Text::ImportTemplates)) }
            form id="templates-import" method="post" action="/meters/config/templates/import" {
                (csrf_field(page))
                label for="templates-file" { (page.t(Text::TemplateFile)) }
                textarea id="templates-file" name="file" rows="6" required aria-describedby="err-templates" { (failed.templates) }
                @for p in &import_problems {
                    span.field-error id="err-templates" data-field=(p.field) role="alert" { (p.field) ": " (p.message) }
                }
                button id="templates-import-submit" type="submit" { (page.t(Text::Import)) }
            }
        }
    }
}

async fn meter_list(page: &Page, state: &AppState) -> Result<Markup, ApiError> {
    let (meters, _) = all_meters(state).await?;
    Ok(html! {
        section aria-labelledby="h-meters" {
            h2 id="h-meters" { (page.t(Text::Meters)) " " span.count { "(" (meters.len()) ")" } }
            div.table-wrap {
                table id="meter-list" {
                    thead { tr {
                        (column_headers(page, &[
                            Text::Status,
                            Text::Name,
                            Text::PrimaryAddress,
                            Text::SecondaryAddress,
                            Text::Medium,
                            Text::BaudRate,
                        ]))
                        th scope="col" { span.visually-hidden { (page.t(Text::Edit)) } }
                    } }
                    tbody {
                        @for m in meters.iter() {
                            tr data-meter-id=(m.id) {
                                td.status { (status_icon(page, m.status.status)) }
                                td { a href=(format!("/meters/{}", m.id)) { (m.name) } }
                                td { (m.primary) }
                                td.mono { (m.secondary.as_deref().unwrap_or("–")) }
                                td { (page.medium(m.medium_code)) }
                                td { (m.baud) }
                                td { a.edit-meter href=(format!("/meters/{}/edit", m.id)) { (page.t(Text::Edit)) } }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn render_page(
    state: &AppState,
    page: &Page,
    query: &Query,
    failed: &Failed,
) -> Result<Markup, ApiError> {
    let snapshot = state.service.snapshot();
    let list = meter_list(page, state).await?;
    let content = html! {
        (notice(page, query))
        @if !failed.problems.is_empty() { p.error role="alert" { (page.t(Text::FixErrors)) } }
        (search_section(page, state, &failed.problems))
        (manual_section(page, failed))
        (templates_section(page, state, failed))
        (list)
    };
    Ok(layout(
        page,
        &snapshot,
        Nav::MeterConfiguration,
        page.t(Text::MeterConfiguration),
        content,
    ))
}

async fn config_page(
    State(state): State<AppState>,
    page: Page,
    query: Query,
) -> Result<Response, PageError> {
    Ok(render(render_page(&state, &page, &query, &Failed::default()).await?).into_response())
}

/// The page again with the problems of a form, status 4xx.
async fn failed_page(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    failed: Failed,
) -> Response {
    match render_page(state, page, &Query::default(), &failed).await {
        Ok(markup) => (status, render(markup)).into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
struct SearchForm {
    kind: String,
    #[serde(default)]
    baud: String,
}

async fn search_form(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<SearchForm>,
) -> Response {
    let started = scan_kind(&form.kind, Some(&form.baud))
        .and_then(|kind| state.service.start_scan(kind).map_err(ApiError::from));
    match started {
        Ok(()) => Redirect::to("/meters/config?done=search").into_response(),
        Err(e) => {
            let status = e.status();
            let failed = Failed {
                problems: problems_of(e, "search"),
                ..Failed::default()
            };
            failed_page(&state, &page, status, failed).await
        }
    }
}

async fn cancel_form(State(state): State<AppState>) -> Response {
    state.service.cancel_scan();
    Redirect::to("/meters/config?done=cancelled").into_response()
}

async fn add_form(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<ManualAdd>,
) -> Response {
    match add_meter(&state.service, form.clone()).await {
        Ok(id) => Redirect::to(&format!("/meters/{id}/edit?done=added")).into_response(),
        Err(e) => {
            let status = e.status();
            let failed = Failed {
                problems: problems_of(e, "name"),
                add: form,
                ..Failed::default()
            };
            failed_page(&state, &page, status, failed).await
        }
    }
}

#[derive(Deserialize)]
struct ImportForm {
    file: String,
}

async fn import_form(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<ImportForm>,
) -> Response {
    match import_text(&state.service, form.file.clone()).await {
        Ok(_) => Redirect::to("/meters/config?done=imported").into_response(),
        Err(e) => {
            let status = e.status();
            let failed = Failed {
                problems: problems_of(e, "file"),
                templates: form.file,
                ..Failed::default()
            };
            failed_page(&state, &page, status, failed).await
        }
    }
}
