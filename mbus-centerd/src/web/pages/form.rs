//! Settings forms described as data: each tab lists its fields (JSON key in the section, label,
//! kind, element id); the same list renders the form and turns the posted form into the JSON
//! the API takes, so that a form post and `POST /api/v1/settings/{section}` go through the
//! same handler. A new setting is one more line in a field list.

use super::{csrf_field, Page};
use crate::web::api::Problem;
use crate::web::i18n::Text;
use logger_core::config::ReadCycle;
use maud::{html, Markup};
use serde_json::Value;

/// How a field is shown and read.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// One line of text.
    Text,
    /// Text; empty means "none" (`null`).
    OptionalText,
    /// A whole number.
    Number,
    /// A whole number; empty means "none" (`null`).
    OptionalNumber,
    /// A checkbox.
    Check,
    /// A list of texts, one per line.
    Lines,
    /// One of fixed values: (value, label).
    Choice(&'static [(&'static str, Text)]),
    /// One of fixed numbers, or none (`null`, shown as "standard").
    NumberChoice(&'static [u32]),
    /// A read cycle (`15min`).
    Cycle,
    /// A secret: never shown; left empty, the stored one stays.
    Secret,
}

/// One field of a settings form.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Path inside the section, `.`-separated (`eth0.address`); also the form field's name.
    pub key: &'static str,
    /// Element id (`general-name`).
    pub id: &'static str,
    /// The label.
    pub label: Text,
    /// How it is shown and read.
    pub kind: Kind,
}

/// Shorthand for a field list entry.
pub const fn field(key: &'static str, id: &'static str, label: Text, kind: Kind) -> Field {
    Field {
        key,
        id,
        label,
        kind,
    }
}

fn get<'a>(value: &'a Value, key: &str) -> &'a Value {
    key.split('.').fold(value, |v, k| &v[k])
}

fn set(value: &mut Value, key: &str, new: Value) {
    let mut target = value;
    for k in key.split('.') {
        if !target.is_object() {
            *target = Value::Object(serde_json::Map::new());
        }
        target = &mut target[k];
    }
    *target = new;
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The problems that belong to `path` (the field itself or an element of its list).
fn problems_of<'a>(problems: &'a [Problem], path: &'a str) -> impl Iterator<Item = &'a Problem> {
    problems.iter().filter(move |p| {
        p.field == path
            || p.field
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
    })
}

/// The error texts of a field, as the browser tests and screen readers find them.
pub fn field_errors(problems: &[Problem], path: &str, id: &str) -> Markup {
    html! {
        @for p in problems_of(problems, path) {
            span.field-error id=(format!("{id}-error")) data-field=(p.field) role="alert" { (p.message) }
        }
    }
}

/// Problems no field of the form shows (listed above the form).
pub fn other_problems(problems: &[Problem], section: &str, fields: &[Field]) -> Vec<Problem> {
    problems
        .iter()
        .filter(|p| {
            !fields.iter().any(|f| {
                problems_of(std::slice::from_ref(*p), &format!("{section}.{}", f.key)).count() > 0
            })
        })
        .cloned()
        .collect()
}

/// The inputs of `fields`, filled from `values` (the section), with the problems next to
/// their fields.
pub fn inputs(
    page: &Page,
    section: &str,
    fields: &[Field],
    values: &Value,
    problems: &[Problem],
) -> Markup {
    html! {
        @for f in fields {
            @let path = format!("{section}.{}", f.key);
            @let value = get(values, f.key);
            @let invalid = problems_of(problems, &path).next().is_some();
            @let described = invalid.then(|| format!("{}-error", f.id));
            div.field {
                @match f.kind {
                    Kind::Check => {
                        label.check for=(f.id) {
                            input type="checkbox" id=(f.id) name=(f.key) value="true" checked[value.as_bool() == Some(true)] aria-describedby=[described.as_deref()];
                            " " (page.t(f.label))
                        }
                    }
                    Kind::Choice(options) => {
                        label for=(f.id) { (page.t(f.label)) }
                        select id=(f.id) name=(f.key) aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] {
                            @for (v, text) in options {
                                option value=(v) selected[text_of(value) == *v] { (page.t(*text)) }
                            }
                        }
                    }
                    Kind::NumberChoice(options) => {
                        label for=(f.id) { (page.t(f.label)) }
                        select id=(f.id) name=(f.key) aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] {
                            option value="" selected[value.is_null()] { (page.t(Text::Standard)) }
                            @for v in options.iter() {
                                option value=(v) selected[value.as_u64() == Some(u64::from(*v))] { (v) }
                            }
                        }
                    }
                    Kind::Cycle => {
                        label for=(f.id) { (page.t(f.label)) }
                        select id=(f.id) name=(f.key) aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] {
                            @for c in ReadCycle::all() {
                                @let c = c.to_string();
                                option value=(c) selected[text_of(value) == c] { (c) }
                            }
                        }
                    }
                    Kind::Lines => {
                        label for=(f.id) { (page.t(f.label)) }
                        textarea id=(f.id) name=(f.key) rows="3" aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()] {
                            (value.as_array().map(|a| a.iter().map(text_of).collect::<Vec<_>>().join("\n")).unwrap_or_default())
                        }
                    }
                    Kind::Secret => {
                        label for=(f.id) { (page.t(f.label)) }
                        input type="password" id=(f.id) name=(f.key) autocomplete="new-password" placeholder=(page.t(Text::SecretUnchanged)) aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                        @if let Some(set) = value.as_bool() {
                            span.secret-state id=(format!("{}-state", f.id)) data-set=(set) { (page.t(if set { Text::SecretSet } else { Text::SecretNotSet })) }
                        }
                    }
                    Kind::Number | Kind::OptionalNumber => {
                        label for=(f.id) { (page.t(f.label)) }
                        input type="text" inputmode="numeric" id=(f.id) name=(f.key) value=(text_of(value)) aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                    }
                    Kind::Text | Kind::OptionalText => {
                        label for=(f.id) { (page.t(f.label)) }
                        input type="text" id=(f.id) name=(f.key) value=(text_of(value)) aria-invalid=[invalid.then_some("true")] aria-describedby=[described.as_deref()];
                    }
                }
                (field_errors(problems, &path, f.id))
            }
        }
    }
}

/// A group of fields, with a legend when the form has several.
pub type Group = (Option<Text>, &'static [Field]);

/// Every field of some groups.
pub fn all_fields(groups: &[Group]) -> Vec<Field> {
    groups.iter().flat_map(|(_, f)| f.iter().copied()).collect()
}

/// A whole settings form posting to `action`.
pub fn settings_form(
    page: &Page,
    action: &str,
    section: &str,
    groups: &[Group],
    values: &Value,
    problems: &[Problem],
    submit_id: &str,
) -> Markup {
    let others = other_problems(problems, section, &all_fields(groups));
    html! {
        @for p in &others {
            p.field-error data-field=(p.field) role="alert" { (p.field) ": " (p.message) }
        }
        form.settings method="post" action=(action) novalidate {
            (csrf_field(page))
            @for (legend, fields) in groups {
                @if let Some(legend) = legend {
                    fieldset {
                        legend { (page.t(*legend)) }
                        (inputs(page, section, fields, values, problems))
                    }
                } @else {
                    (inputs(page, section, fields, values, problems))
                }
            }
            button type="submit" id=(submit_id) { (page.t(Text::Save)) }
        }
    }
}

/// The section `current` with the posted form applied: every field of `fields` is taken from
/// the form (an unticked checkbox is `false`, an empty secret stays empty so that the stored
/// one is kept); numbers that do not parse are passed on as text, so that validation names
/// the field.
pub fn section_from_form(current: &Value, fields: &[Field], form: &[(String, String)]) -> Value {
    let mut section = current.clone();
    let untrimmed = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    for f in fields {
        let raw = untrimmed(f.key).map(str::trim);
        let value = match f.kind {
            Kind::Check => Value::Bool(raw == Some("true")),
            Kind::Secret => Value::String(untrimmed(f.key).unwrap_or_default().to_string()),
            Kind::Text | Kind::Choice(_) | Kind::Cycle => {
                Value::String(raw.unwrap_or_default().to_string())
            }
            Kind::OptionalText => match raw {
                None | Some("") => Value::Null,
                Some(v) => Value::String(v.to_string()),
            },
            Kind::Number | Kind::OptionalNumber | Kind::NumberChoice(_) => match raw {
                None | Some("") if !matches!(f.kind, Kind::Number) => Value::Null,
                None | Some("") => Value::String(String::new()),
                Some(v) => v
                    .parse::<u64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(v.to_string())),
            },
            Kind::Lines => Value::Array(
                raw.unwrap_or_default()
                    .split(['\n', ','])
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_string()))
                    .collect(),
            ),
        };
        set(&mut section, f.key, value);
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [Field; 5] = [
        field("name", "g-name", Text::Name, Kind::Text),
        field("eth0.dhcp", "n-dhcp", Text::Dhcp, Kind::Check),
        field(
            "eth0.prefix_len",
            "n-prefix",
            Text::PrefixLength,
            Kind::OptionalNumber,
        ),
        field("port", "e-port", Text::Port, Kind::Number),
        field("recipients", "e-to", Text::Recipients, Kind::Lines),
    ];

    #[test]
    fn a_form_becomes_the_section_json() {
        let current = serde_json::json!({"name": "a", "eth0": {"dhcp": true, "prefix_len": 24}, "port": 25, "recipients": [], "other": 1});
        let form: Vec<(String, String)> = [
            ("name", " Logger "),
            ("eth0.prefix_len", ""),
            ("port", "x25"),
            ("recipients", "a@b.de\r\nc@d.de"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let section = section_from_form(&current, &FIELDS, &form);
        assert_eq!(
            section,
            serde_json::json!({"name": "Logger", "eth0": {"dhcp": false, "prefix_len": null},
                               "port": "x25", "recipients": ["a@b.de", "c@d.de"], "other": 1})
        );
    }

    #[test]
    fn problems_go_next_to_their_field_or_above_the_form() {
        let problems = vec![
            Problem {
                field: "email.recipients[1]".into(),
                message: "must be an e-mail address".into(),
            },
            Problem {
                field: "email.sender_address".into(),
                message: "bad".into(),
            },
        ];
        let markup = field_errors(&problems, "email.recipients", "e-to").into_string();
        assert!(
            markup.contains(r#"data-field="email.recipients[1]""#),
            "{markup}"
        );
        let others = other_problems(&problems, "email", &FIELDS);
        assert_eq!(others.len(), 1);
        assert_eq!(others[0].field, "email.sender_address");
    }
}
