//! Meter edit ("Zähler bearbeiten"): name, addresses, read cycle and the register table;
//! saved as a whole through the logger's configuration change (nothing is half-applied), with
//! every validation error next to its field. Save as template, apply template, and delete with
//! confirmation (the meter's history goes with it).

use super::meter_config::{field_error, notice, problems_of, PageError};
use super::{csrf_field, layout, render, Nav, Page};
use crate::web::api::meter_config::{delete_meter, position, replace_meter};
use crate::web::api::templates::{apply_template, save_template};
use crate::web::api::{parse_id, ApiError, Problem, Query};
use crate::web::i18n::{self, Text};
use crate::web::{Access, AppState, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use logger_core::config::{Addressing, Category, Meter, ReadCycle};
use maud::{html, Markup};
use mbus_proto::address::BaudRate;
use std::collections::HashMap;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/meters/{id}/edit",
            Access::Full,
            "Meter edit page",
            edit_page,
        ),
        Route::post(
            "/meters/{id}/edit",
            Access::Full,
            "Meter edit form (save)",
            save_form,
        ),
        Route::post(
            "/meters/{id}/delete",
            Access::Full,
            "Meter delete form (confirmed)",
            delete_form,
        ),
        Route::post(
            "/meters/{id}/template",
            Access::Full,
            "Save as template form",
            save_template_form,
        ),
        Route::post(
            "/meters/{id}/template/apply",
            Access::Full,
            "Apply template form",
            apply_template_form,
        ),
    ]
}

const CATEGORIES: [Category; 7] = [
    Category::Heat,
    Category::WarmWater,
    Category::Water,
    Category::Electricity,
    Category::Gas,
    Category::Cooling,
    Category::Other,
];

fn category_value(c: Category) -> &'static str {
    match c {
        Category::Heat => "heat",
        Category::WarmWater => "warm_water",
        Category::Water => "water",
        Category::Electricity => "electricity",
        Category::Gas => "gas",
        Category::Cooling => "cooling",
        Category::Other => "other",
    }
}

/// The submitted text of fields that did not parse, by configuration path (shown again as
/// typed).
type Typed = HashMap<String, String>;

/// What the page shows: the meter (as configured or as submitted), its position in the
/// configuration, problems by path, and text that did not parse.
struct View<'a> {
    meter: &'a Meter,
    at: usize,
    problems: &'a [Problem],
    typed: &'a Typed,
}

impl View<'_> {
    fn path(&self, field: &str) -> String {
        format!("meters[{}].{field}", self.at)
    }

    /// An input for the meter field `field` (`id` `meter-<field>`).
    fn input(&self, page: &Page, field: &str, name: &str, label: Text, value: String) -> Markup {
        let path = self.path(field);
        let id = format!("meter-{}", field.replace('_', "-"));
        let err = format!("err-{id}");
        let value = self.typed.get(&path).cloned().unwrap_or(value);
        let invalid = self.problems.iter().any(|p| p.field == path);
        html! {
            div.field {
                label for=(id) { (page.t(label)) }
                input id=(id) name=(name) value=(value) aria-describedby=(err) aria-invalid=[invalid.then_some("true")];
                (field_error(self.problems, &path, &err))
            }
        }
    }

    /// A register cell: input `name` with id `reg-<index>-<name>`.
    fn cell(
        &self,
        page: &Page,
        position: usize,
        index: u32,
        name: &str,
        label: Text,
        value: String,
    ) -> Markup {
        let path = self.path(&format!("registers[{position}].{name}"));
        let id = format!("reg-{index}-{name}");
        let err = format!("err-{id}");
        let value = self.typed.get(&path).cloned().unwrap_or(value);
        let invalid = self.problems.iter().any(|p| p.field == path);
        html! {
            td {
                input id=(id) name=(name) value=(value) aria-label=(format!("{} #{index}", page.t(label)))
                    aria-describedby=(err) aria-invalid=[invalid.then_some("true")];
                (field_error(self.problems, &path, &err))
            }
        }
    }
}

fn edit_markup(page: &Page, v: &View<'_>, general: Option<&str>) -> Markup {
    let m = v.meter;
    let id = m.id;
    html! {
        @if !v.problems.is_empty() { p.error role="alert" { (page.t(Text::FixErrors)) } }
        @if let Some(e) = general { p.error role="alert" id="meter-error" { (e) } }
        p.actions { a href=(format!("/meters/{id}")) { (page.t(Text::MeterDetails)) } }
        dl.facts {
            dt { (page.t(Text::Manufacturer)) } dd { (m.manufacturer()) }
            dt { (page.t(Text::Medium)) } dd { (page.medium(m.medium())) }
        }
        form id="meter-form" method="post" action=(format!("/meters/{id}/edit")) {
            (csrf_field(page))
            div.fields {
                (v.input(page, "name", "meter_name", Text::Name, m.name.clone()))
                (v.input(page, "location", "location", Text::Location, m.location.clone()))
                (v.input(page, "cost_centre", "cost_centre", Text::CostCentre, m.cost_centre.clone()))
                (v.input(page, "comment", "comment", Text::Comment, m.comment.clone()))
                div.field {
                    label for="meter-addressing" { (page.t(Text::Addressing)) }
                    select id="meter-addressing" name="addressing" {
                        option value="secondary" selected[m.addressing == Addressing::Secondary] { (page.t(Text::SecondaryAddress)) }
                        option value="primary" selected[m.addressing == Addressing::Primary] { (page.t(Text::PrimaryAddress)) }
                    }
                }
                (v.input(page, "primary", "primary", Text::PrimaryAddress, m.primary.to_string()))
                (v.input(page, "secondary", "secondary", Text::SecondaryAddress, m.secondary.map(|s| s.to_string()).unwrap_or_default()))
                div.field {
                    label for="meter-baud" { (page.t(Text::BaudRate)) }
                    select id="meter-baud" name="baud" aria-describedby="err-meter-baud" {
                        @for b in BaudRate::ALL {
                            option value=(b.bps()) selected[b.bps() == m.baud] { (b.bps()) }
                        }
                    }
                    (field_error(v.problems, &v.path("baud"), "err-meter-baud"))
                }
                div.field {
                    label for="meter-cycle" { (page.t(Text::ReadCycle)) }
                    select id="meter-cycle" name="cycle" {
                        option value="" selected[m.cycle.is_none()] { (page.t(Text::Standard)) }
                        @for c in ReadCycle::all() {
                            option value=(c.to_string()) selected[m.cycle == Some(c)] { (c.to_string()) }
                        }
                    }
                    (field_error(v.problems, &v.path("cycle"), "err-meter-cycle"))
                }
                div.field {
                    label for="meter-category" { (page.t(Text::MeterType)) }
                    select id="meter-category" name="category" {
                        @for c in CATEGORIES {
                            option value=(category_value(c)) selected[m.category == c] { (i18n::category(c, page.lang())) }
                        }
                    }
                }
                div.field.check {
                    input id="meter-battery" type="checkbox" name="battery" value="on" checked[m.battery];
                    label for="meter-battery" { (page.t(Text::Battery)) }
                }
            }
            h2 { (page.t(Text::RegisterTable)) }
            div.table-wrap {
                table id="register-table" {
                    (super::meter::register_head(page, None))
                    tbody {
                        @for (j, r) in m.registers.iter().enumerate() {
                            tr data-register=(r.index) {
                                td { (r.index) input type="hidden" name="index" value=(r.index); }
                                (v.cell(page, j, r.index, "name", Text::Name, r.name.clone()))
                                (v.cell(page, j, r.index, "description", Text::Description, r.description.clone()))
                                td { (r.meter_unit) }
                                (v.cell(page, j, r.index, "unit", Text::Unit, r.unit.clone()))
                                (v.cell(page, j, r.index, "phase", Text::Phase, r.phase.to_string()))
                                (v.cell(page, j, r.index, "divisor", Text::Divisor, r.divisor.to_string()))
                                (v.cell(page, j, r.index, "storage", Text::StorageNumber, r.storage.to_string()))
                                (v.cell(page, j, r.index, "tariff", Text::Tariff, r.tariff.to_string()))
                                td {
                                    input id=(format!("reg-{}-off", r.index)) type="checkbox" name="off" value=(r.index) checked[r.off]
                                        aria-label=(format!("{} #{}", page.t(Text::Off), r.index));
                                }
                            }
                        }
                    }
                }
            }
            button id="meter-save" type="submit" { (page.t(Text::Save)) }
        }
        section aria-labelledby="h-template" {
            h2 id="h-template" { (page.t(Text::Templates)) }
            form.inline method="post" action=(format!("/meters/{id}/template")) {
                (csrf_field(page))
                label for="template-name" { (page.t(Text::DeviceName)) }
                input id="template-name" name="device_name" aria-describedby="err-template";
                button id="template-save" type="submit" { (page.t(Text::SaveAsTemplate)) }
            }
            form.inline method="post" action=(format!("/meters/{id}/template/apply")) {
                (csrf_field(page))
                button id="template-apply" type="submit" { (page.t(Text::ApplyTemplate)) }
            }
            (field_error(v.problems, "template", "err-template"))
        }
        section aria-labelledby="h-delete" {
            h2 id="h-delete" { (page.t(Text::Delete)) }
            details.danger {
                summary id="meter-delete" { (page.t(Text::Delete)) }
                p { (page.t(Text::DeleteWarning)) }
                form method="post" action=(format!("/meters/{id}/delete")) {
                    (csrf_field(page))
                    button id="meter-delete-confirm" type="submit" { (page.t(Text::ConfirmDelete)) }
                }
            }
        }
    }
}

fn page_response(
    state: &AppState,
    page: &Page,
    status: StatusCode,
    query: &Query,
    view: &View<'_>,
    general: Option<&str>,
) -> Response {
    let snapshot = state.service.snapshot();
    let content = html! {
        (notice(page, query))
        (edit_markup(page, view, general))
    };
    let title = format!("{} – {}", page.t(Text::EditMeter), view.meter.name);
    (
        status,
        render(layout(
            page,
            &snapshot,
            Nav::MeterConfiguration,
            &title,
            content,
        )),
    )
        .into_response()
}

fn configured(state: &AppState, id: &str) -> Result<(Meter, usize), ApiError> {
    let id = parse_id(id)?;
    let at = position(&state.service, id)?;
    let meter = state.service.snapshot().config.meters[at].clone();
    Ok((meter, at))
}

async fn edit_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    query: Query,
) -> Result<Response, PageError> {
    let (meter, at) = configured(&state, &id)?;
    let view = View {
        meter: &meter,
        at,
        problems: &[],
        typed: &Typed::new(),
    };
    Ok(page_response(
        &state,
        &page,
        StatusCode::OK,
        &query,
        &view,
        None,
    ))
}

/// The submitted form applied to `meter`: fields that do not parse are kept as typed and
/// reported under their configuration path.
fn apply_form(meter: &mut Meter, at: usize, fields: &[(String, String)]) -> (Vec<Problem>, Typed) {
    let mut problems = Vec::new();
    let mut typed = Typed::new();
    let one = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let all = |name: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let mut bad = |path: String, text: &str, message: &str| {
        typed.insert(path.clone(), text.to_string());
        problems.push(Problem {
            field: path,
            message: message.to_string(),
        });
    };
    let path = |f: &str| format!("meters[{at}].{f}");
    if let Some(v) = one("meter_name") {
        meter.name = v;
    }
    for (name, slot) in [
        ("location", &mut meter.location),
        ("cost_centre", &mut meter.cost_centre),
        ("comment", &mut meter.comment),
    ] {
        if let Some(v) = one(name) {
            *slot = v;
        }
    }
    match one("addressing").as_deref() {
        Some("primary") => meter.addressing = Addressing::Primary,
        Some("secondary") => meter.addressing = Addressing::Secondary,
        Some(other) => bad(path("addressing"), other, "must be primary or secondary"),
        None => {}
    }
    if let Some(v) = one("primary") {
        match v.parse::<u8>() {
            Ok(p) => meter.primary = p,
            Err(_) => bad(path("primary"), &v, "must be between 0 and 250"),
        }
    }
    if let Some(v) = one("secondary") {
        if v.is_empty() {
            meter.secondary = None;
        } else {
            match v.parse() {
                Ok(s) => meter.secondary = Some(s),
                Err(e) => bad(path("secondary"), &v, &format!("{e}")),
            }
        }
    }
    if let Some(v) = one("baud") {
        match v.parse::<u32>() {
            Ok(b) => meter.baud = b,
            Err(_) => bad(path("baud"), &v, "must be a baud rate"),
        }
    }
    if let Some(v) = one("cycle") {
        if v.is_empty() {
            meter.cycle = None;
        } else {
            match v.parse::<ReadCycle>() {
                Ok(c) => meter.cycle = Some(c),
                Err(e) => bad(path("cycle"), &v, &e.to_string()),
            }
        }
    }
    if let Some(v) = one("category") {
        match CATEGORIES.iter().find(|c| category_value(**c) == v) {
            Some(c) => meter.category = *c,
            None => bad(path("category"), &v, "unknown type"),
        }
    }
    meter.battery = one("battery").is_some();
    let indices = all("index");
    let column = |name: &str| all(name);
    let (names, descriptions, units) = (column("name"), column("description"), column("unit"));
    let (phases, divisors, storages, tariffs) = (
        column("phase"),
        column("divisor"),
        column("storage"),
        column("tariff"),
    );
    let off = column("off");
    let same_rows = indices.len() == meter.registers.len()
        && indices
            .iter()
            .zip(&meter.registers)
            .all(|(i, r)| *i == r.index.to_string())
        && [
            &names,
            &descriptions,
            &units,
            &phases,
            &divisors,
            &storages,
            &tariffs,
        ]
        .iter()
        .all(|c| c.len() == indices.len());
    if !same_rows {
        bad(
            path("registers"),
            "",
            "the registers changed meanwhile; reload the page",
        );
        return (problems, typed);
    }
    for (j, r) in meter.registers.iter_mut().enumerate() {
        let rpath = |f: &str| format!("meters[{at}].registers[{j}].{f}");
        r.name = names[j].trim().to_string();
        r.description = descriptions[j].trim().to_string();
        r.unit = units[j].trim().to_string();
        match phases[j].trim().parse::<u8>() {
            Ok(p) => r.phase = p,
            Err(_) => bad(rpath("phase"), phases[j], "must be between 0 and 3"),
        }
        // A decimal comma, as German users write it, is a decimal point.
        match divisors[j].trim().replace(',', ".").parse::<f64>() {
            Ok(d) => r.divisor = d,
            Err(_) => bad(
                rpath("divisor"),
                divisors[j],
                "must be a number, e.g. 1000 or 0.01",
            ),
        }
        match storages[j].trim().parse::<u64>() {
            Ok(s) => r.storage = s,
            Err(_) => bad(rpath("storage"), storages[j], "must be a whole number ≥ 0"),
        }
        match tariffs[j].trim().parse::<u32>() {
            Ok(t) => r.tariff = t,
            Err(_) => bad(rpath("tariff"), tariffs[j], "must be a whole number ≥ 0"),
        }
        r.off = off.contains(&r.index.to_string().as_str());
    }
    (problems, typed)
}

async fn save_form(
    State(state): State<AppState>,
    page: Page,
    Path(id_text): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (mut meter, at) = configured(&state, &id_text)?;
    let id = meter.id;
    let (mut problems, typed) = apply_form(&mut meter, at, &fields);
    if problems.is_empty() {
        match replace_meter(&state.service, id, meter.clone()).await {
            Ok(()) => {
                return Ok(Redirect::to(&format!("/meters/{id}/edit?done=saved")).into_response())
            }
            Err(e) if e.status().is_client_error() => problems = problems_of(e, "meter"),
            Err(e) => return Err(e.into()),
        }
    }
    let view = View {
        meter: &meter,
        at,
        problems: &problems,
        typed: &typed,
    };
    Ok(page_response(
        &state,
        &page,
        StatusCode::UNPROCESSABLE_ENTITY,
        &Query::default(),
        &view,
        None,
    ))
}

async fn delete_form(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    delete_meter(&state.service, id).await?;
    Ok(Redirect::to("/meters/config?done=deleted").into_response())
}

/// After a template action: back to the page with `done`, or the page with the error.
async fn template_outcome(
    state: &AppState,
    page: &Page,
    id_text: &str,
    result: Result<(), ApiError>,
    done: &str,
) -> Result<Response, PageError> {
    let (meter, at) = configured(state, id_text)?;
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/meters/{}/edit?done={done}", meter.id)).into_response())
        }
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            let message = e.message.clone();
            let problems: Vec<Problem> = problems_of(e, "template")
                .into_iter()
                .map(|p| Problem {
                    field: "template".into(),
                    message: p.message,
                })
                .collect();
            let view = View {
                meter: &meter,
                at,
                problems: &problems,
                typed: &Typed::new(),
            };
            Ok(page_response(
                state,
                page,
                status,
                &Query::default(),
                &view,
                Some(&message),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct TemplateForm {
    #[serde(default)]
    device_name: String,
}

async fn save_template_form(
    State(state): State<AppState>,
    page: Page,
    Path(id_text): Path<String>,
    Form(form): Form<TemplateForm>,
) -> Result<Response, PageError> {
    let id = parse_id(&id_text)?;
    let result = save_template(&state.service, id, form.device_name)
        .await
        .map(|_| ());
    template_outcome(&state, &page, &id_text, result, "template-saved").await
}

async fn apply_template_form(
    State(state): State<AppState>,
    page: Page,
    Path(id_text): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id_text)?;
    let result = apply_template(&state.service, id).await.map(|_| ());
    template_outcome(&state, &page, &id_text, result, "applied").await
}
