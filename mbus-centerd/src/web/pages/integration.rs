//! "System-Integration": the manual data export (a ZIP streamed by the export API), the
//! upload settings with a test upload, the BACnet and BBMD settings, and the Modbus TCP
//! settings with the register map.

use super::form::{field, settings_form, Field, Group, Kind};
use super::logger::{no_tab, post_tab, saved_notice, tabbed, test_report, TabPost};
use super::{csrf_field, Nav, Page};
use crate::web::api::export::export;
use crate::web::api::meters::all_meters;
use crate::web::api::settings::{self as api, problems};
use crate::web::api::{ApiError, Problem, Query};
use crate::web::i18n::Text;
use crate::web::{Access, AppState, Route};
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde_json::Value;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/integration",
            Access::Full,
            "System integration (the first tab)",
            || async { Redirect::to("/integration/export") },
        ),
        Route::get(
            "/integration/export/download",
            Access::Full,
            "Manual export form: streams the ZIP of GET /api/v1/export (meters may be repeated)",
            download,
        ),
        Route::get(
            "/integration/{tab}",
            Access::Full,
            "System integration tab (export, upload, bacnet, modbus)",
            tab_page,
        ),
        Route::post(
            "/integration/{tab}",
            Access::Full,
            "System integration tab form: saves its settings section",
            tab_form,
        ),
        Route::post(
            "/integration/upload/test",
            Access::Full,
            "Try every enabled upload target (form)",
            upload_test_form,
        ),
    ]
}

/// The tabs: path segment and name.
pub const TABS: [(&str, Text); 4] = [
    ("export", Text::TabExport),
    ("upload", Text::TabUpload),
    ("bacnet", Text::TabBacnet),
    ("modbus", Text::TabModbus),
];

const PROTOCOLS: [(&str, Text); 3] = [
    ("ftp", Text::ProtocolFtp),
    ("ftps", Text::ProtocolFtps),
    ("sftp", Text::ProtocolSftp),
];

const FORMATS: [(&str, Text); 2] = [("csv", Text::FormatCsv), ("json", Text::FormatJson)];

const FILE_UPLOAD: [Field; 12] = [
    field("file.enabled", "upload-enabled", Text::OnOff, Kind::Check),
    field(
        "file.protocol",
        "upload-protocol",
        Text::Protocol,
        Kind::Choice(&PROTOCOLS),
    ),
    field("file.server", "upload-server", Text::Server, Kind::Text),
    field("file.port", "upload-port", Text::PortDefault, Kind::Number),
    field("file.username", "upload-username", Text::User, Kind::Text),
    field(
        "file.password",
        "upload-password",
        Text::Password,
        Kind::Secret,
    ),
    field("file.path", "upload-path", Text::RemotePath, Kind::Text),
    field(
        "file.format",
        "upload-format",
        Text::ExportFormat,
        Kind::Choice(&FORMATS),
    ),
    field(
        "file.ca_file",
        "upload-ca-file",
        Text::CaFile,
        Kind::OptionalText,
    ),
    field(
        "file.accept_invalid_certs",
        "upload-insecure",
        Text::AcceptInvalidCerts,
        Kind::Check,
    ),
    field(
        "file.host_key",
        "upload-host-key",
        Text::HostKey,
        Kind::OptionalText,
    ),
    field(
        "file.key_file",
        "upload-key-file",
        Text::KeyFilePath,
        Kind::OptionalText,
    ),
];

const HTTPS_PUSH: [Field; 4] = [
    field("https.enabled", "push-enabled", Text::OnOff, Kind::Check),
    field("https.url", "push-url", Text::Url, Kind::Text),
    field("https.token", "push-token", Text::Token, Kind::Secret),
    field(
        "https.ca_file",
        "push-ca-file",
        Text::CaFile,
        Kind::OptionalText,
    ),
];

const SPOOL: [Field; 1] = [field(
    "spool_max_files",
    "upload-spool",
    Text::SpoolMaxFiles,
    Kind::Number,
)];

const BACNET: [Field; 6] = [
    field("enabled", "bacnet-enabled", Text::OnOff, Kind::Check),
    field(
        "start_instance",
        "bacnet-instance",
        Text::DeviceInstance,
        Kind::Number,
    ),
    field(
        "device_instance",
        "bacnet-device-instance",
        Text::LoggerDeviceInstance,
        Kind::Number,
    ),
    field(
        "network_number",
        "bacnet-network",
        Text::NetworkNumber,
        Kind::Number,
    ),
    field("port", "bacnet-port", Text::UdpPort, Kind::Number),
    field(
        "address",
        "bacnet-address",
        Text::LocalAddress,
        Kind::OptionalText,
    ),
];

const BBMD: [Field; 4] = [
    field("bbmd", "bacnet-bbmd", Text::BbmdAddress, Kind::OptionalText),
    field("bbmd_ttl_s", "bacnet-bbmd-ttl", Text::BbmdTtl, Kind::Number),
    field(
        "bbmd_server",
        "bacnet-bbmd-server",
        Text::BbmdServer,
        Kind::Check,
    ),
    field("bdt", "bacnet-bdt", Text::BdtPeers, Kind::Lines),
];

const WORD_ORDERS: [(&str, Text); 2] = [
    ("high_first", Text::WordHighFirst),
    ("low_first", Text::WordLowFirst),
];

const MODBUS: [Field; 7] = [
    field("enabled", "modbus-enabled", Text::OnOff, Kind::Check),
    field(
        "address",
        "modbus-address",
        Text::LocalAddress,
        Kind::OptionalText,
    ),
    field("port", "modbus-port", Text::TcpPort, Kind::Number),
    field(
        "block_size",
        "modbus-block-size",
        Text::BlockSize,
        Kind::Number,
    ),
    field(
        "unit_id",
        "modbus-unit-id",
        Text::UnitId,
        Kind::OptionalNumber,
    ),
    field(
        "word_order",
        "modbus-word-order",
        Text::WordOrder,
        Kind::Choice(&WORD_ORDERS),
    ),
    field(
        "int32_decimals",
        "modbus-decimals",
        Text::Int32Decimals,
        Kind::Number,
    ),
];

fn section_of(tab: &str) -> Option<(&'static str, &'static [Group])> {
    Some(match tab {
        "upload" => (
            "uploads",
            &[
                (Some(Text::FileUpload), &FILE_UPLOAD),
                (Some(Text::HttpsPush), &HTTPS_PUSH),
                (None, &SPOOL),
            ],
        ),
        "bacnet" => (
            "bacnet",
            &[(Some(Text::TabBacnet), &BACNET), (Some(Text::Bbmd), &BBMD)],
        ),
        "modbus" => ("modbus", &[(Some(Text::TabModbus), &MODBUS)]),
        _ => return None,
    })
}

async fn tab_page(
    State(state): State<AppState>,
    page: Page,
    Path(tab): Path<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let message = query.get("saved").map(|_| saved_notice(&page));
    show(&state, &page, &tab, None, &[], message).await
}

async fn tab_form(
    State(state): State<AppState>,
    page: Page,
    Path(tab): Path<String>,
    Form(posted): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    match post_tab(&state, "/integration", &tab, section_of(&tab), &posted).await? {
        TabPost::Answer(answer) => Ok(answer),
        TabPost::Refused(values, problems) => {
            show(&state, &page, &tab, Some(values), &problems, None).await
        }
    }
}

async fn upload_test_form(State(state): State<AppState>, page: Page) -> Result<Response, ApiError> {
    match api::run_upload_test(&state).await {
        Ok(reports) => {
            let message = test_report(&page, &reports);
            show(&state, &page, "upload", None, &[], Some(message)).await
        }
        Err(e) if e.status().is_client_error() => {
            show(&state, &page, "upload", None, &problems(&e), None).await
        }
        Err(e) => Err(e),
    }
}

/// `GET /integration/export/download`: the export form's query (one `meters` per ticked
/// meter) handed to the export API.
async fn download(
    State(state): State<AppState>,
    query: axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.0.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad("query", e.to_string()))?;
    let meters: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "meters")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut map: std::collections::HashMap<String, String> = pairs
        .iter()
        .filter(|(k, _)| k != "meters")
        .cloned()
        .collect();
    if !meters.is_empty() {
        map.insert("meters".into(), meters.join(","));
    }
    export(State(state), Query(map)).await
}

async fn export_form(state: &AppState, page: &Page) -> Result<Markup, ApiError> {
    let (meters, _) = all_meters(state).await?;
    let tz = state.service.snapshot().config.tz();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let from = today - chrono::Duration::days(30);
    Ok(html! {
        p { (page.t(Text::ExportHelp)) }
        form id="export-form" method="get" action="/integration/export/download" {
            div.row {
                div.field {
                    label for="export-from" { (page.t(Text::From)) }
                    input type="date" id="export-from" name="from" value=(from.format("%Y-%m-%d")) required;
                }
                div.field {
                    label for="export-to" { (page.t(Text::To)) }
                    input type="date" id="export-to" name="to" value=(today.format("%Y-%m-%d")) required;
                }
                div.field {
                    label for="export-format" { (page.t(Text::ExportFormat)) }
                    select id="export-format" name="format" {
                        option value="csv" selected { "csv" }
                        option value="json" { "json" }
                    }
                }
                div.field {
                    label for="export-filter" { (page.t(Text::Filter)) }
                    select id="export-filter" name="filter" {
                        option value="hour" { (page.t(Text::FilterHour)) }
                        option value="day" { (page.t(Text::FilterDay)) }
                        option value="month" { (page.t(Text::FilterMonth)) }
                        option value="all" selected { (page.t(Text::FilterAll)) }
                    }
                }
                div.field {
                    label for="export-layout" { (page.t(Text::CsvOptions)) }
                    select id="export-layout" name="layout" {
                        option value="standard" selected { (page.t(Text::Standard)) }
                        option value="full_db" { "FULL DB" }
                    }
                }
                div.field {
                    label for="export-separator" { (page.t(Text::Separator)) }
                    select id="export-separator" name="separator" {
                        option value="comma" { (page.t(Text::Comma)) }
                        option value="semicolon" selected { (page.t(Text::Semicolon)) }
                        option value="space" { (page.t(Text::Space)) }
                        option value="tab" { (page.t(Text::Tab)) }
                    }
                }
            }
            fieldset {
                legend { (page.t(Text::ExportMeters)) }
                div.table-wrap {
                    table.meters id="export-meters" {
                        thead { tr {
                            th scope="col" { span.visually-hidden { (page.t(Text::Select)) } }
                            th scope="col" { (page.t(Text::Name)) }
                            th scope="col" { (page.t(Text::SecondaryAddress)) }
                            th scope="col" { (page.t(Text::Medium)) }
                        } }
                        tbody {
                            @for m in meters.iter() {
                                tr data-meter-id=(m.id) {
                                    td { input type="checkbox" id=(format!("export-meter-{}", m.id)) name="meters" value=(m.id) aria-label=(m.name); }
                                    td { label for=(format!("export-meter-{}", m.id)) { (m.name) } }
                                    td.mono { (m.secondary.as_deref().unwrap_or("")) }
                                    td { (page.medium(m.medium_code)) }
                                }
                            }
                        }
                    }
                }
                p.hint { (page.t(Text::ExportAllHint)) }
            }
            button type="submit" id="export-submit" { (page.t(Text::Export)) }
        }
    })
}

/// The columns of the register map's table.
const MAP_COLUMNS: [Text; 7] = [
    Text::Name,
    Text::SecondaryAddress,
    Text::BaseAddress,
    Text::Register,
    Text::Unit,
    Text::Float32Address,
    Text::Int32Address,
];

/// The Modbus register map as a table, with the link to its CSV.
async fn register_map(state: &AppState, page: &Page) -> Markup {
    let layout = crate::web::api::modbus::layout(state).await;
    html! {
        h2 { (page.t(Text::RegisterMap)) }
        p { (page.t(Text::RegisterMapHelp)) " "
            a id="modbus-csv" href="/api/v1/modbus/registers.csv" download { (page.t(Text::DownloadCsv)) } }
        @match layout {
            Err(_) => p.error { (page.t(Text::NoRegisterMap)) },
            Ok(layout) => div.table-wrap {
                table.meters id="modbus-map" {
                    thead { tr {
                        @for heading in MAP_COLUMNS { th scope="col" { (page.t(heading)) } }
                    } }
                    tbody {
                        @for block in &layout.blocks {
                            @for s in &block.slots {
                                tr data-meter-id=(block.meter) {
                                    td { (block.name) }
                                    td.mono { (block.secondary.as_deref().unwrap_or("")) }
                                    td.mono { (block.base) }
                                    td { (s.name) }
                                    td { (s.unit) }
                                    td.mono { (s.float32_address()) }
                                    td.mono { (s.int32_address()) " (" (s.exponent()) ")" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn show(
    state: &AppState,
    page: &Page,
    tab: &str,
    values: Option<Value>,
    problems: &[Problem],
    message: Option<Markup>,
) -> Result<Response, ApiError> {
    if !TABS.iter().any(|(t, _)| *t == tab) {
        return Ok(no_tab("/integration", tab).await);
    }
    let snapshot = state.service.snapshot();
    let body = match section_of(tab) {
        None => export_form(state, page).await?,
        Some((section, groups)) => {
            let values = api::form_values(&snapshot.config, section, values);
            html! {
                @if tab == "upload" { p { (page.t(Text::UploadHelp)) } }
                @if tab == "bacnet" { p { (page.t(Text::BacnetHelp)) } }
                @if tab == "modbus" { p { (page.t(Text::ModbusHelp)) } }
                (settings_form(page, &format!("/integration/{tab}"), section, groups, &values, problems, &format!("{tab}-save")))
                @if tab == "upload" {
                    form method="post" action="/integration/upload/test" {
                        (csrf_field(page))
                        button type="submit" id="upload-test" { (page.t(Text::TestUpload)) }
                    }
                }
                @if tab == "modbus" { (register_map(state, page).await) }
            }
        }
    };
    Ok(tabbed(
        page,
        &snapshot,
        Nav::SystemIntegration,
        ("/integration", &TABS, tab),
        message,
        body,
        !problems.is_empty(),
    ))
}
