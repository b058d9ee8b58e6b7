//! "Konfiguration Logger": the logger settings in tabs, as the reference manual orders them
//! (Allgemein, Netzwerk, Datum/Zeit, Temperaturfühler, S0-Eingänge, Pegelwandler, Relais,
//! Diagnose, E-Mail, Backup, Update, SSL-Zertifikat). Every form goes through the handlers of
//! the API (`api::settings`, `api::events`, `api::io`).

use super::form::{self, field, section_from_form, settings_form, Field, Group, Kind};
use super::{csrf_field, io, layout, render, Nav, Page};
use crate::web::api::events::{events, EventPage};
use crate::web::api::io as io_api;
use crate::web::api::settings::{self as api, form_values, problems, settings_of};
use crate::web::api::{ApiError, Problem, Query};
use crate::web::i18n::Text;
use crate::web::{Access, AppState, Route};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use logger_core::events::Kind as EventKind;
use maud::{html, Markup};
use serde_json::Value;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get(
            "/logger",
            Access::Full,
            "Logger configuration (the first tab)",
            || async { Redirect::to("/logger/general") },
        ),
        Route::get(
            "/logger/{tab}",
            Access::Full,
            "Logger configuration tab (general, network, time, temperature, s0, level-converter, relays, diagnosis, email, backup, update, tls, mqtt, postgres)",
            tab_page,
        ),
        Route::post(
            "/logger/{tab}",
            Access::Full,
            "Logger configuration tab form: saves its settings section",
            tab_form,
        ),
        Route::post(
            "/logger/email/test",
            Access::Full,
            "Send the test e-mail (form)",
            email_test_form,
        ),
        Route::post(
            "/logger/backup/restore",
            Access::Full,
            "Restore a backup file (form upload)",
            restore_form,
        ),
        Route::post(
            "/logger/tls/certificate",
            Access::Full,
            "Replace the TLS certificate and key (form upload)",
            certificate_form,
        ),
    ]
}

/// The tabs: path segment and name.
pub const TABS: [(&str, Text); 14] = [
    ("general", Text::TabGeneral),
    ("network", Text::TabNetwork),
    ("time", Text::TabTime),
    ("temperature", Text::TabTemperature),
    ("s0", Text::TabS0),
    ("level-converter", Text::TabLevelConverter),
    ("relays", Text::TabRelays),
    ("diagnosis", Text::TabDiagnosis),
    ("email", Text::TabEmail),
    ("backup", Text::TabBackup),
    ("update", Text::TabUpdate),
    ("tls", Text::TabTls),
    ("mqtt", Text::TabMqtt),
    ("postgres", Text::TabPostgres),
];

const GENERAL: [Field; 6] = [
    field("name", "general-name", Text::Name, Kind::Text),
    field("location", "general-location", Text::Location, Kind::Text),
    field("timezone", "general-timezone", Text::TimeZone, Kind::Text),
    field(
        "default_cycle",
        "general-cycle",
        Text::DefaultCycle,
        Kind::Cycle,
    ),
    field(
        "read_timeout_ms",
        "general-timeout",
        Text::ReadTimeout,
        Kind::Number,
    ),
    field(
        "event_log_capacity",
        "general-events",
        Text::EventLogCapacity,
        Kind::Number,
    ),
];

const ETH0: [Field; 4] = [
    field("eth0.dhcp", "network-eth0-dhcp", Text::Dhcp, Kind::Check),
    field(
        "eth0.address",
        "network-eth0-address",
        Text::IpAddress,
        Kind::OptionalText,
    ),
    field(
        "eth0.prefix_len",
        "network-eth0-prefix",
        Text::PrefixLength,
        Kind::OptionalNumber,
    ),
    field(
        "eth0.gateway",
        "network-eth0-gateway",
        Text::Gateway,
        Kind::OptionalText,
    ),
];

const ETH1: [Field; 4] = [
    field("eth1.dhcp", "network-eth1-dhcp", Text::Dhcp, Kind::Check),
    field(
        "eth1.address",
        "network-eth1-address",
        Text::IpAddress,
        Kind::OptionalText,
    ),
    field(
        "eth1.prefix_len",
        "network-eth1-prefix",
        Text::PrefixLength,
        Kind::OptionalNumber,
    ),
    field(
        "eth1.gateway",
        "network-eth1-gateway",
        Text::Gateway,
        Kind::OptionalText,
    ),
];

const DNS: [Field; 1] = [field("dns", "network-dns", Text::DnsServers, Kind::Lines)];

const TIME: [Field; 1] = [field(
    "ntp_server",
    "time-ntp",
    Text::NtpServer,
    Kind::OptionalText,
)];

const BAUDS: [u32; 8] = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400];

const LEVEL_CONVERTER: [Field; 3] = [
    field("enabled", "lc-enabled", Text::OnOff, Kind::Check),
    field("baud", "lc-baud", Text::Baud, Kind::NumberChoice(&BAUDS)),
    field("tcp_port", "lc-port", Text::TcpPort, Kind::Number),
];

const SECURITY: [(&str, Text); 3] = [
    ("plain", Text::SecurityPlain),
    ("starttls", Text::SecurityStarttls),
    ("tls", Text::SecurityTls),
];

const EMAIL: [Field; 16] = [
    field("enabled", "email-enabled", Text::OnOff, Kind::Check),
    field("server", "email-server", Text::Server, Kind::Text),
    field("port", "email-port", Text::Port, Kind::Number),
    field(
        "sender_name",
        "email-sender-name",
        Text::SenderName,
        Kind::Text,
    ),
    field(
        "sender_address",
        "email-sender",
        Text::SenderAddress,
        Kind::Text,
    ),
    field(
        "recipients",
        "email-recipients",
        Text::Recipients,
        Kind::Lines,
    ),
    field(
        "security",
        "email-security",
        Text::ConnectionSecurity,
        Kind::Choice(&SECURITY),
    ),
    field("auth", "email-auth", Text::MailLogin, Kind::Check),
    field("username", "email-username", Text::User, Kind::Text),
    field("password", "email-password", Text::Password, Kind::Secret),
    field(
        "connect_timeout_s",
        "email-connect-timeout",
        Text::ConnectTimeout,
        Kind::Number,
    ),
    field(
        "send_timeout_s",
        "email-send-timeout",
        Text::SendTimeout,
        Kind::Number,
    ),
    field(
        "receive_timeout_s",
        "email-receive-timeout",
        Text::ReceiveTimeout,
        Kind::Number,
    ),
    field("ca_file", "email-ca-file", Text::CaFile, Kind::OptionalText),
    field(
        "notify_went",
        "email-notify-went",
        Text::NotifyWent,
        Kind::Check,
    ),
    field(
        "upload_alarm_after_min",
        "email-upload-alarm",
        Text::UploadAlarmAfter,
        Kind::Number,
    ),
];

const TLS: [Field; 1] = [field(
    "enabled",
    "tls-enabled",
    Text::TlsEnabled,
    Kind::Check,
)];

const MQTT: [Field; 14] = [
    field("enabled", "mqtt-enabled", Text::OnOff, Kind::Check),
    field("host", "mqtt-host", Text::Host, Kind::Text),
    field("port", "mqtt-port", Text::PortStandard, Kind::Number),
    field("tls", "mqtt-tls", Text::UseTls, Kind::Check),
    field("ca_file", "mqtt-ca-file", Text::CaFile, Kind::OptionalText),
    field(
        "accept_invalid_certs",
        "mqtt-accept-invalid-certs",
        Text::AcceptAnyCertificate,
        Kind::Check,
    ),
    field("username", "mqtt-username", Text::User, Kind::Text),
    field("password", "mqtt-password", Text::Password, Kind::Secret),
    field("topic_base", "mqtt-topic-base", Text::TopicBase, Kind::Text),
    field(
        "appliance_id",
        "mqtt-appliance-id",
        Text::ApplianceId,
        Kind::Text,
    ),
    field("discovery", "mqtt-discovery", Text::Discovery, Kind::Check),
    field(
        "discovery_prefix",
        "mqtt-discovery-prefix",
        Text::DiscoveryPrefix,
        Kind::Text,
    ),
    field(
        "keep_alive_s",
        "mqtt-keep-alive",
        Text::KeepAlive,
        Kind::Number,
    ),
    field(
        "queue_max_cycles",
        "mqtt-queue",
        Text::QueueMaxCycles,
        Kind::Number,
    ),
];

const POSTGRES: [Field; 12] = [
    field("enabled", "postgres-enabled", Text::OnOff, Kind::Check),
    field("host", "postgres-host", Text::Host, Kind::Text),
    field("port", "postgres-port", Text::PortStandard, Kind::Number),
    field("database", "postgres-database", Text::Database, Kind::Text),
    field("username", "postgres-username", Text::User, Kind::Text),
    field(
        "password",
        "postgres-password",
        Text::Password,
        Kind::Secret,
    ),
    field("tls", "postgres-tls", Text::UseTls, Kind::Check),
    field(
        "ca_file",
        "postgres-ca-file",
        Text::CaFile,
        Kind::OptionalText,
    ),
    field(
        "accept_invalid_certs",
        "postgres-accept-invalid-certs",
        Text::AcceptAnyCertificate,
        Kind::Check,
    ),
    field(
        "appliance_id",
        "postgres-appliance-id",
        Text::ApplianceId,
        Kind::Text,
    ),
    field(
        "batch_readings",
        "postgres-batch",
        Text::BatchReadings,
        Kind::Number,
    ),
    field(
        "timescale",
        "postgres-timescale",
        Text::Timescale,
        Kind::Check,
    ),
];

/// The settings section a tab edits, with its form fields.
fn section_of(tab: &str) -> Option<(&'static str, &'static [Group])> {
    Some(match tab {
        "general" => ("general", &[(None, &GENERAL)]),
        "network" => (
            "network",
            &[
                (Some(Text::Eth0), &ETH0),
                (Some(Text::Eth1), &ETH1),
                (None, &DNS),
            ],
        ),
        "time" => ("time", &[(None, &TIME)]),
        "level-converter" => ("level_converter", &[(None, &LEVEL_CONVERTER)]),
        "email" => ("email", &[(None, &EMAIL)]),
        "tls" => ("tls", &[(None, &TLS)]),
        "mqtt" => ("mqtt", &[(None, &MQTT)]),
        "postgres" => ("postgres", &[(None, &POSTGRES)]),
        _ => return None,
    })
}

/// What a tab shows besides its settings: messages, problems, values tried.
#[derive(Default)]
struct Shown {
    /// The section as posted (when it was refused), instead of the stored one.
    values: Option<Value>,
    /// Problems to show next to their fields.
    problems: Vec<Problem>,
    /// A message above the content.
    message: Option<Markup>,
}

/// The tab links.
pub fn tab_links(page: &Page, base: &str, tabs: &[(&str, Text)], active: &str) -> Markup {
    html! {
        nav.tabs aria-label=(page.t(Text::Tabs)) {
            ul {
                @for (tab, text) in tabs {
                    li { a id=(format!("tab-{tab}")) href=(format!("{base}/{tab}")) aria-current=[(*tab == active).then_some("page")] { (page.t(*text)) } }
                }
            }
        }
    }
}

/// The "not found" page of a tab that does not exist (or has no form to post to).
pub async fn no_tab(base: &str, tab: &str) -> Response {
    let uri = format!("{base}/{tab}").parse().unwrap_or_default();
    super::not_found(uri).await
}

/// A notice that the settings were saved.
pub fn saved_notice(page: &Page) -> Markup {
    html! { p.saved role="status" { (page.t(Text::Saved)) } }
}

async fn tab_page(
    State(state): State<AppState>,
    page: Page,
    Path(tab): Path<String>,
    query: Query,
) -> Result<Response, ApiError> {
    let message = query.get("saved").map(|_| saved_notice(&page));
    show(
        &state,
        &page,
        &tab,
        query,
        Shown {
            message,
            ..Shown::default()
        },
    )
    .await
}

async fn tab_form(
    State(state): State<AppState>,
    page: Page,
    Path(tab): Path<String>,
    Form(posted): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if io::TABS.contains(&tab.as_str()) {
        return match io::save(&state, &tab, &posted).await {
            Ok(()) => Ok(Redirect::to(&format!("/logger/{tab}?saved=1")).into_response()),
            Err(problems) => {
                let shown = Shown {
                    problems,
                    ..Shown::default()
                };
                show(&state, &page, &tab, Query::default(), shown).await
            }
        };
    }
    match post_tab(&state, "/logger", &tab, section_of(&tab), &posted).await? {
        TabPost::Answer(answer) => Ok(answer),
        TabPost::Refused(values, problems) => {
            let shown = Shown {
                values: Some(values),
                problems,
                message: None,
            };
            show(&state, &page, &tab, Query::default(), shown).await
        }
    }
}

/// What became of the form posted on a settings tab.
pub enum TabPost {
    /// Saved (a redirect to the tab), or no such tab: the answer to send.
    Answer(Response),
    /// Refused: the section as posted, and the problems to show next to its fields.
    Refused(Value, Vec<Problem>),
}

/// Applies the form `posted` on settings tab `tab` under `base` (`/logger`, `/integration`)
/// through the settings API; `section` is the tab's configuration section and field groups
/// (`None`: the tab has no settings form).
pub async fn post_tab(
    state: &AppState,
    base: &str,
    tab: &str,
    section: Option<(&'static str, &'static [Group])>,
    posted: &[(String, String)],
) -> Result<TabPost, ApiError> {
    let Some((section, groups)) = section else {
        return Ok(TabPost::Answer(no_tab(base, tab).await));
    };
    let current = settings_of(&state.service.snapshot().config)[section].clone();
    let value = section_from_form(&current, &form::all_fields(groups), posted);
    match api::apply_section(state, section, value.clone()).await {
        Ok(()) => Ok(TabPost::Answer(
            Redirect::to(&format!("{base}/{tab}?saved=1")).into_response(),
        )),
        Err(e) if e.status().is_client_error() => Ok(TabPost::Refused(value, problems(&e))),
        Err(e) => Err(e),
    }
}

/// Renders a tab; with problems the answer is 422.
async fn show(
    state: &AppState,
    page: &Page,
    tab: &str,
    query: Query,
    shown: Shown,
) -> Result<Response, ApiError> {
    if !TABS.iter().any(|(t, _)| *t == tab) {
        return Ok(no_tab("/logger", tab).await);
    }
    let snapshot = state.service.snapshot();
    let body = match (tab, section_of(tab)) {
        ("diagnosis", _) => diagnosis(state, page, query).await,
        ("backup", _) => backup(page, &shown.problems),
        ("update", _) => update(page),
        ("temperature" | "s0" | "relays", _) => {
            io::body(page, tab, &io_api::report(state), &shown.problems)
        }
        (_, Some((section, groups))) => {
            let values = form_values(&snapshot.config, section, shown.values.clone());
            let form = settings_form(
                page,
                &format!("/logger/{tab}"),
                section,
                groups,
                &values,
                &shown.problems,
                &format!("{tab}-save"),
            );
            html! {
                (intro(page, tab, &snapshot.config))
                (form)
                (after(state, page, tab, &shown.problems))
            }
        }
        _ => html! {},
    };
    Ok(tabbed(
        page,
        &snapshot,
        Nav::LoggerConfiguration,
        ("/logger", &TABS, tab),
        shown.message,
        body,
        !shown.problems.is_empty(),
    ))
}

/// A page of tabs: the tab links, a message, the active tab; 422 when it shows `refused` input.
pub fn tabbed(
    page: &Page,
    snapshot: &logger_core::service::Snapshot,
    nav: Nav,
    (base, tabs, tab): (&str, &[(&str, Text)], &str),
    message: Option<Markup>,
    body: Markup,
    refused: bool,
) -> Response {
    let title = tabs
        .iter()
        .find(|(t, _)| *t == tab)
        .map_or(Text::Tabs, |(_, t)| *t);
    let heading = super::NAV
        .iter()
        .find(|n| n.0 == nav)
        .map_or(Text::Start, |n| n.1);
    let content = html! {
        (tab_links(page, base, tabs, tab))
        @if let Some(m) = &message { (m) }
        section.tab aria-labelledby="tab-title" {
            h2 id="tab-title" { (page.t(title)) }
            (body)
        }
    };
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        render(layout(page, snapshot, nav, page.t(heading), content)),
    )
        .into_response()
}

/// What a settings tab says above its form: where the setting takes effect.
fn intro(page: &Page, tab: &str, config: &logger_core::config::Config) -> Markup {
    let now = chrono::Utc::now().with_timezone(&config.tz());
    html! {
        @match tab {
            "network" => p.notice { (page.t(Text::NetworkStoredOnly)) },
            "time" => {
                p { (page.t(Text::LoggerTime)) ": " strong { (now.format("%d.%m.%Y %H:%M:%S")) } " (" (config.general.timezone) ")" }
                p.notice { (page.t(Text::TimeStoredOnly)) }
            },
            "level-converter" => p { (page.t(Text::LevelConverterHelp)) },
            "email" => p { (page.t(Text::EmailHelp)) },
            "tls" => p { (page.t(Text::TlsHelp)) },
            "mqtt" => p { (page.t(Text::MqttHelp)) },
            "postgres" => p { (page.t(Text::PostgresHelp)) },
            _ => {}
        }
    }
}

/// What a settings tab shows below its form: the test mail, the certificate.
fn after(state: &AppState, page: &Page, tab: &str, problems: &[Problem]) -> Markup {
    match tab {
        "email" => html! {
            h3 { (page.t(Text::TestMail)) }
            form method="post" action="/logger/email/test" {
                (csrf_field(page))
                label for="email-test-to" { (page.t(Text::TestMailTo)) }
                input type="email" id="email-test-to" name="to" autocomplete="email";
                button type="submit" id="email-test" { (page.t(Text::SendTestMail)) }
            }
        },
        "tls" => certificate(state, page, problems),
        "level-converter" => io::level_converter(page, &io_api::report(state)),
        _ => html! {},
    }
}

fn certificate(state: &AppState, page: &Page, problems: &[Problem]) -> Markup {
    let tls = api::tls_state(state);
    html! {
        h3 { (page.t(Text::CurrentCertificate)) }
        div id="tls-current" {
            @if let Some(c) = &tls.certificate {
                dl.facts {
                    dt { (page.t(Text::Subject)) } dd.mono { (c.subject) }
                    dt { (page.t(Text::Issuer)) } dd.mono { (c.issuer) @if c.self_signed { " (" (page.t(Text::SelfSigned)) ")" } }
                    dt { (page.t(Text::ValidFrom)) } dd { (c.not_before.format("%d.%m.%Y %H:%M")) " UTC" }
                    dt { (page.t(Text::ValidUntil)) } dd { (c.not_after.format("%d.%m.%Y %H:%M")) " UTC" }
                    dt { "SHA-256" } dd.mono.wrap { (c.sha256) }
                }
            } @else {
                p { (page.t(Text::NoCertificate)) }
            }
            @if let Some(p) = &tls.problem { p.error { (p) } }
            p { (page.t(if tls.serving { Text::ServingHttps } else { Text::ServingHttp })) }
        }
        h3 { (page.t(Text::UploadCertificate)) }
        form method="post" action=(format!("/logger/tls/certificate?{}={}", crate::web::auth::CSRF_FIELD, page.session.csrf)) enctype="multipart/form-data" {
            div.field {
                label for="cert-file" { (page.t(Text::CertificateFile)) }
                input type="file" id="cert-file" name="certificate" accept=".pem,.crt,.cer" required;
                (form::field_errors(problems, "certificate", "cert-file"))
            }
            div.field {
                label for="key-file" { (page.t(Text::KeyFile)) }
                input type="file" id="key-file" name="key" accept=".pem,.key" required;
                (form::field_errors(problems, "key", "key-file"))
            }
            button type="submit" id="tls-submit" { (page.t(Text::Upload)) }
        }
    }
}

fn backup(page: &Page, problems: &[Problem]) -> Markup {
    html! {
        p { (page.t(Text::BackupHelp)) }
        h3 { (page.t(Text::DownloadBackup)) }
        form method="get" action="/api/v1/backup" {
            label.check for="backup-secrets" {
                input type="checkbox" id="backup-secrets" name="secrets" value="true";
                " " (page.t(Text::BackupWithSecrets))
            }
            button type="submit" id="backup-download" { (page.t(Text::Download)) }
        }
        h3 { (page.t(Text::RestoreBackup)) }
        @if !problems.is_empty() {
            div.problems role="alert" {
                p.error { (page.t(Text::RestoreRefused)) }
                ul {
                    @for p in problems {
                        li.field-error data-field=(p.field) { span.mono { (p.field) } ": " (p.message) }
                    }
                }
            }
        }
        form method="post" action=(format!("/logger/backup/restore?{}={}", crate::web::auth::CSRF_FIELD, page.session.csrf)) enctype="multipart/form-data" {
            label for="restore-file" { (page.t(Text::BackupFile)) }
            input type="file" id="restore-file" name="backup" accept=".json,application/json" required;
            button type="submit" id="restore-submit" { (page.t(Text::Restore)) }
        }
    }
}

fn update(page: &Page) -> Markup {
    let v = api::versions_of();
    html! {
        table.meters id="versions" {
            thead { tr { th scope="col" { (page.t(Text::Component)) } th scope="col" { (page.t(Text::Version)) } } }
            tbody {
                @for (name, version) in &v.crates { tr { td { (name) } td.mono { (version) } } }
                tr { td { (page.t(Text::ConfigSchema)) } td.mono { (v.config_schema) } }
            }
        }
        p.notice { (page.t(Text::UpdateHow)) }
    }
}

async fn diagnosis(state: &AppState, page: &Page, query: Query) -> Markup {
    let kind = query.get("kind").unwrap_or("").to_string();
    let meter = query.get("meter").unwrap_or("").to_string();
    let open = query.get("open").is_some();
    let limit: usize = query.parse("limit").ok().flatten().unwrap_or(50);
    let result = events(State(state.clone()), query).await;
    let link = |offset: usize| {
        let mut q = vec![("offset", offset.to_string()), ("limit", limit.to_string())];
        if !kind.is_empty() {
            q.push(("kind", kind.clone()));
        }
        if !meter.is_empty() {
            q.push(("meter", meter.clone()));
        }
        if open {
            q.push(("open", "true".into()));
        }
        format!(
            "/logger/diagnosis?{}",
            serde_urlencoded::to_string(q).unwrap_or_default()
        )
    };
    let tz = state.service.snapshot().config.tz();
    let time = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&tz)
            .format("%d.%m.%Y - %H:%M:%S")
            .to_string()
    };
    html! {
        form id="event-filter" method="get" action="/logger/diagnosis" {
            div.field {
                label for="event-kind" { (page.t(Text::EventKind)) }
                select id="event-kind" name="kind" {
                    option value="" selected[kind.is_empty()] { (page.t(Text::All)) }
                    @for (k, text) in [("I", Text::KindInfo), ("W", Text::KindWarning), ("E", Text::KindError)] {
                        option value=(k) selected[kind == k] { (k) " – " (page.t(text)) }
                    }
                }
            }
            div.field {
                label for="event-meter" { (page.t(Text::MeterId)) }
                input type="text" inputmode="numeric" id="event-meter" name="meter" value=(meter);
            }
            div.field {
                label.check for="event-open" {
                    input type="checkbox" id="event-open" name="open" value="true" checked[open];
                    " " (page.t(Text::OpenOnly))
                }
            }
            button type="submit" { (page.t(Text::Filter)) }
        }
        @match result {
            Err(e) => {
                @for p in problems(&e) {
                    p.field-error data-field=(p.field) role="alert" { (p.field) ": " (p.message) }
                }
            }
            Ok(Json(EventPage { total, offset, limit, events })) => {
                p { (page.t(Text::EventsShown)) ": " (if total == 0 { 0 } else { offset + 1 }) "–" (offset + events.len()) " / " (total) }
                div.table-wrap {
                    table.meters id="event-log" {
                        thead { tr {
                            th scope="col" { (page.t(Text::EventNumber)) }
                            th scope="col" { (page.t(Text::EventSource)) }
                            th scope="col" { (page.t(Text::EventKind)) }
                            th scope="col" { (page.t(Text::EventCame)) }
                            th scope="col" { (page.t(Text::EventWent)) }
                            th scope="col" { (page.t(Text::EventMessage)) }
                        } }
                        tbody {
                            @for e in &events {
                                tr data-event=(e.id) {
                                    td { (e.code.number()) }
                                    td { (e.source) }
                                    td class=(match e.kind { EventKind::I => "kind-i", EventKind::W => "kind-w", EventKind::E => "kind-e" }) { (format!("{:?}", e.kind)) }
                                    td { (time(e.came)) }
                                    td { (e.went.map(time).unwrap_or_default()) }
                                    td { (e.message) }
                                }
                            }
                        }
                    }
                }
                nav.paging aria-label=(page.t(Text::Paging)) {
                    @if offset > 0 {
                        a id="events-prev" href=(link(offset.saturating_sub(limit))) rel="prev" { "← " (page.t(Text::Newer)) }
                    }
                    " "
                    @if offset + events.len() < total {
                        a id="events-next" href=(link(offset + limit)) rel="next" { (page.t(Text::Older)) " →" }
                    }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct MailTestForm {
    #[serde(default)]
    to: String,
}

async fn email_test_form(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<MailTestForm>,
) -> Result<Response, ApiError> {
    let to = Some(form.to.trim().to_string()).filter(|t| !t.is_empty());
    let message = match api::send_test_mail(&state, to).await {
        Ok(report) => test_report(&page, &[report]),
        Err(e) => {
            let shown = Shown {
                problems: problems(&e),
                ..Shown::default()
            };
            return show(&state, &page, "email", Query::default(), shown).await;
        }
    };
    let shown = Shown {
        message: Some(message),
        ..Shown::default()
    };
    show(&state, &page, "email", Query::default(), shown).await
}

/// The outcome of a test mail or test upload.
pub fn test_report(page: &Page, reports: &[api::TestReport]) -> Markup {
    html! {
        div id="test-result" role="status" {
            @if reports.is_empty() { p.notice { (page.t(Text::NothingEnabled)) } }
            @for r in reports {
                p class=(if r.ok { "saved" } else { "error" }) {
                    (r.label) ": " (page.t(if r.ok { Text::TestOk } else { Text::TestFailed }))
                    @if let Some(e) = &r.error { " – " (e) }
                }
                @if !r.steps.is_empty() {
                    ol.steps { @for s in &r.steps { li.mono { (s) } } }
                }
            }
        }
    }
}

/// The files of a multipart form: field name and content.
pub async fn files(mut multipart: Multipart) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    let mut out = Vec::new();
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad("body", e.body_text()))?
    {
        let name = part.name().unwrap_or("").to_string();
        let bytes = part
            .bytes()
            .await
            .map_err(|e| ApiError::bad(&name, e.body_text()))?;
        out.push((name, bytes.to_vec()));
    }
    Ok(out)
}

fn file(files: &[(String, Vec<u8>)], name: &str) -> Vec<u8> {
    files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.clone())
        .unwrap_or_default()
}

async fn restore_form(
    State(state): State<AppState>,
    page: Page,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let files = files(multipart).await?;
    let result = match String::from_utf8(file(&files, "backup")) {
        Ok(text) => api::restore_text(&state, text).await,
        Err(_) => Err(ApiError::bad("backup", "the file is not UTF-8 text")),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/logger/backup?saved=1").into_response()),
        Err(e) if e.status().is_client_error() => {
            let shown = Shown {
                problems: problems(&e),
                ..Shown::default()
            };
            show(&state, &page, "backup", Query::default(), shown).await
        }
        Err(e) => Err(e),
    }
}

async fn certificate_form(
    State(state): State<AppState>,
    page: Page,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let files = files(multipart).await?;
    match api::install_certificate(&state, file(&files, "certificate"), file(&files, "key")).await {
        Ok(_) => Ok(Redirect::to("/logger/tls?saved=1").into_response()),
        Err(e) if e.status().is_client_error() => {
            let shown = Shown {
                problems: problems(&e),
                ..Shown::default()
            };
            show(&state, &page, "tls", Query::default(), shown).await
        }
        Err(e) => Err(e),
    }
}
