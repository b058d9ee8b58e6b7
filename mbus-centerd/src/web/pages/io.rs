//! The tabs of the appliance's inputs and outputs under "Konfiguration Logger": temperature
//! sensors (Temperaturfühler), S0 inputs (S0-Eingänge), relays (Relais), and the live part of
//! the level converter (Pegelwandler) tab. Each shows the live values (cells with `data-io`,
//! which `assets/app.js` refreshes from `GET /api/v1/io` every two seconds) and one form per
//! input or relay, saved through the handlers of `api::io`.

use super::form::field_errors;
use super::{csrf_field, Page};
use crate::web::api::io::{self as api, S0Form};
use crate::web::api::settings::problems;
use crate::web::api::{ApiError, Problem};
use crate::web::i18n::Text;
use crate::web::AppState;
use logger_core::hardware::config::Pt1000Channel;
use logger_core::hardware::relays::RelayRule;
use logger_core::hardware::report::IoReport;
use logger_core::hardware::settings::TemperatureSettings;
use logger_core::hardware::IoBackend;
use maud::{html, Markup};

/// The tabs of this module.
pub const TABS: [&str; 3] = ["temperature", "s0", "relays"];

/// A live cell: `path` into the JSON of `GET /api/v1/io`; `none` is shown for an empty
/// value.
fn live(id: &str, path: &str, digits: Option<usize>, value: Option<String>, none: &str) -> Markup {
    html! {
        span id=(id) data-io=(path) data-digits=[digits] data-none=(none) { (value.as_deref().unwrap_or(none)) }
    }
}

/// A number with `digits` decimals.
fn fixed(v: Option<f64>, digits: usize) -> Option<String> {
    v.map(|v| format!("{v:.digits$}"))
}

/// A text input with its label and field errors (`path` as the API names it).
fn text_input(
    page: &Page,
    id: &str,
    name: &str,
    label: Text,
    value: &str,
    path: &str,
    problems: &[Problem],
) -> Markup {
    html! {
        div.field {
            label for=(id) { (page.t(label)) }
            input type="text" id=(id) name=(name) value=(value);
            (field_errors(problems, path, id))
        }
    }
}

/// A checkbox with its label.
fn check(page: &Page, id: &str, name: &str, label: Text, on: bool) -> Markup {
    html! {
        div.field {
            label.check for=(id) {
                input type="checkbox" id=(id) name=(name) value="true" checked[on];
                " " (page.t(label))
            }
        }
    }
}

/// The hidden field naming the input or relay a form is for.
fn which(n: u8) -> Markup {
    html! { input type="hidden" name="input" value=(n); }
}

/// The body of an I/O tab.
pub fn body(page: &Page, tab: &str, report: &IoReport, problems: &[Problem]) -> Markup {
    if report.backend == IoBackend::None {
        return html! { p.notice { (page.t(Text::IoNoHardware)) } };
    }
    let others: Vec<&Problem> = problems
        .iter()
        .filter(|p| !p.field.contains('.') && !p.field.starts_with("relays["))
        .collect();
    html! {
        p { (page.t(Text::IoLive)) }
        @for p in others {
            p.field-error data-field=(p.field) role="alert" { (p.field) ": " (p.message) }
        }
        @match tab {
            "temperature" => (temperatures(page, report, problems)),
            "s0" => (s0(page, report, problems)),
            _ => (relays(page, report, problems)),
        }
    }
}

fn temperatures(page: &Page, report: &IoReport, problems: &[Problem]) -> Markup {
    html! {
        @for (i, t) in report.temperatures.iter().enumerate() {
            @let n = t.input;
            @let path = format!("temperature[{n}]");
            section.io-input id=(format!("temperature-{n}")) {
                h3 { (page.t(Text::Input)) " " (n) }
                dl.facts {
                    dt { (page.t(Text::Temperature)) }
                    dd { (live(&format!("temperature-{n}-celsius"), &format!("temperatures.{i}.celsius"), Some(2), fixed(t.celsius, 2), "–")) " °C" }
                    dt { (page.t(Text::Resistance)) }
                    dd { (live(&format!("temperature-{n}-resistance"), &format!("temperatures.{i}.resistance"), Some(1), fixed(t.resistance, 1), "–")) " Ω" }
                    dt { (page.t(Text::Status)) }
                    dd { (live(&format!("temperature-{n}-status"), &format!("temperatures.{i}.error"), None, t.error.clone(), "ok")) }
                }
                form.settings method="post" action="/logger/temperature" novalidate {
                    (csrf_field(page))
                    (which(n))
                    (check(page, &format!("temperature-{n}-logging"), "logging", Text::Logging, t.logging))
                    @let channel = t.channel.as_ref();
                    (text_input(page, &format!("temperature-{n}-device"), "device", Text::IioDevice, channel.map_or("", |c| c.device.as_str()), &format!("{path}.device"), problems))
                    (text_input(page, &format!("temperature-{n}-channel"), "channel", Text::IioChannel, channel.map_or("", |c| c.channel.as_str()), &format!("{path}.channel"), problems))
                    (text_input(page, &format!("temperature-{n}-scale"), "scale", Text::OhmsPerCount, &channel.and_then(|c| c.scale).map(|s| s.to_string()).unwrap_or_default(), &format!("{path}.scale"), problems))
                    button type="submit" id=(format!("temperature-{n}-save")) { (page.t(Text::Save)) }
                }
            }
        }
    }
}

fn s0(page: &Page, report: &IoReport, problems: &[Problem]) -> Markup {
    html! {
        @for (i, s) in report.s0.iter().enumerate() {
            @let n = s.input;
            @let path = format!("s0[{n}]");
            section.io-input id=(format!("s0-{n}")) {
                h3 { (page.t(Text::Input)) " " (n) }
                dl.facts {
                    dt { (page.t(Text::Pulses)) }
                    dd { (live(&format!("s0-{n}-pulses"), &format!("s0.{i}.pulses"), Some(0), fixed(s.pulses, 0), "–")) }
                    dt { (page.t(Text::Value)) }
                    dd { (live(&format!("s0-{n}-value"), &format!("s0.{i}.value"), Some(3), fixed(s.value, 3), "–")) " " (s.unit) }
                    dt { (page.t(Text::Status)) }
                    dd {
                        (live(&format!("s0-{n}-status"), &format!("s0.{i}.error"), None, s.error.clone(), "ok"))
                        @if s.start_pending { " (" (page.t(Text::StartPending)) ")" }
                    }
                }
                form.settings method="post" action="/logger/s0" novalidate {
                    (csrf_field(page))
                    (which(n))
                    (text_input(page, &format!("s0-{n}-divisor"), "divisor", Text::PulsesPerUnit, &s.divisor.to_string(), &format!("{path}.divisor"), problems))
                    (text_input(page, &format!("s0-{n}-unit"), "unit", Text::Unit, &s.unit, &format!("{path}.unit"), problems))
                    (check(page, &format!("s0-{n}-logging"), "logging", Text::Logging, s.logging))
                    (text_input(page, &format!("s0-{n}-start"), "start", Text::StartValue, "", &format!("{path}.start"), problems))
                    p.help { (page.t(Text::StartValueHelp)) }
                    button type="submit" id=(format!("s0-{n}-save")) { (page.t(Text::Save)) }
                }
            }
        }
    }
}

fn relays(page: &Page, report: &IoReport, problems: &[Problem]) -> Markup {
    let state = |on: bool| {
        page.t(if on {
            Text::RelaySwitched
        } else {
            Text::RelayReleased
        })
    };
    html! {
        @for (i, r) in report.relays.iter().enumerate() {
            @let n = r.relay;
            section.io-input id=(format!("relay-{n}")) {
                h3 { (page.t(Text::TabRelays)) " " (n) }
                p {
                    (page.t(Text::RelayState)) ": "
                    span id=(format!("relay-{n}-state")) data-io=(format!("relays.{i}.on")) data-on=(state(true)) data-off=(state(false)) { (state(r.on)) }
                }
                form.settings method="post" action="/logger/relays" novalidate {
                    (csrf_field(page))
                    (which(n))
                    (check(page, &format!("relay-{n}-overload"), "on_overload", Text::SwitchOnOverload, r.rule.on_overload))
                    (check(page, &format!("relay-{n}-read-failure"), "on_read_failure", Text::SwitchOnReadFailure, r.rule.on_read_failure))
                    (field_errors(problems, &format!("relays[{n}]"), &format!("relay-{n}")))
                    button type="submit" id=(format!("relay-{n}-save")) { (page.t(Text::Save)) }
                }
            }
        }
    }
}

/// The live part of the level converter tab: port, connected program, since when, missed
/// read slots, a port that could not be opened.
pub fn level_converter(page: &Page, report: &IoReport) -> Markup {
    let lc = &report.level_converter;
    let nobody = page.t(Text::LcNobody);
    let since = lc
        .state
        .bridge
        .since
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    html! {
        dl.facts id="lc-live" {
            dt { (page.t(Text::LcListening)) }
            dd { (live("lc-listening", "level_converter.state.listening", None, lc.state.bridge.listening.map(|a| a.to_string()), nobody)) }
            dt { (page.t(Text::LcClient)) }
            dd { (live("lc-client", "level_converter.state.client", None, lc.state.bridge.client.map(|a| a.to_string()), nobody)) }
            dt { (page.t(Text::LcSince)) }
            dd { (live("lc-since", "level_converter.state.since", None, since, "–")) }
            dt { (page.t(Text::LcMissed)) }
            dd { (live("lc-missed", "level_converter.missed_slots", Some(0), Some(lc.missed_slots.to_string()), "0")) }
            dt { (page.t(Text::LcProblem)) }
            dd { (live("lc-error", "level_converter.state.error", None, lc.state.error.clone(), "–")) }
        }
    }
}

/// The posted value of `name`.
fn posted<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
}

/// A number field of a form; an unreadable one is a problem named `path`.
fn parsed(form: &[(String, String)], name: &str, path: &str) -> Result<Option<f64>, ApiError> {
    match posted(form, name) {
        None | Some("") => Ok(None),
        Some(v) => v.replace(',', ".").parse::<f64>().map(Some).map_err(|_| {
            ApiError::field(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                path,
                "must be a number",
            )
        }),
    }
}

/// Saves the form of `tab`; the problems to show when it is refused.
pub async fn save(
    state: &AppState,
    tab: &str,
    form: &[(String, String)],
) -> Result<(), Vec<Problem>> {
    let n: u8 = posted(form, "input")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let on = |name: &str| posted(form, name) == Some("true");
    let text = |name: &str| posted(form, name).unwrap_or_default().to_string();
    let outcome = async {
        match tab {
            "s0" => {
                let path = format!("s0[{n}]");
                let divisor =
                    parsed(form, "divisor", &format!("{path}.divisor"))?.ok_or_else(|| {
                        ApiError::field(
                            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                            &format!("{path}.divisor"),
                            "must be a number",
                        )
                    })?;
                let start = parsed(form, "start", &format!("{path}.start"))?;
                let s0 = S0Form {
                    divisor,
                    unit: text("unit"),
                    logging: on("logging"),
                    start,
                };
                api::apply_s0(state, n, s0).await
            }
            "temperature" => {
                let path = format!("temperature[{n}]");
                let scale = parsed(form, "scale", &format!("{path}.scale"))?;
                let device = text("device");
                let channel = (!device.is_empty()).then(|| Pt1000Channel {
                    device,
                    channel: text("channel"),
                    scale,
                });
                let settings = TemperatureSettings {
                    logging: on("logging"),
                    channel,
                };
                api::apply_temperature(state, n, settings).await
            }
            _ => {
                let rule = RelayRule {
                    on_overload: on("on_overload"),
                    on_read_failure: on("on_read_failure"),
                };
                api::apply_relay(state, n, rule).await
            }
        }
    };
    outcome.await.map_err(|e| problems(&e))
}
