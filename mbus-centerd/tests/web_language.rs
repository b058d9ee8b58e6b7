//! The language of the pages, against a real `mbus-centerd --simulate` process over HTTP: the
//! switch returns to the page the user was on (never to another host), and medium names
//! follow the language (the reference manual's German terms).

use support::http::{logged_in, Client};
use support::Daemon;

mod support;

/// A daemon with the demonstration population (every medium once or more), after its scan.
fn start() -> (Daemon, Client, tempfile::TempDir) {
    let (daemon, url, dir) = support::simulated(12, &[]);
    (daemon, logged_in(&url), dir)
}

/// The value of the language form's `back` field on `page` (HTML-escaped as served).
fn back_field(page: &str) -> String {
    page.split(r#"name="back" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the language form's back field")
        .to_string()
}

#[test]
fn the_language_switch_returns_to_the_page_it_was_pressed_on() {
    let (mut daemon, mut c, _dir) = start();
    for path in [
        "/meters/2?period=month",
        "/meters/3/edit",
        "/logger/diagnosis?kind=E",
        "/integration/export",
        "/",
    ] {
        let page = c.get(path);
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(back_field(&page.text()), path, "{path}");
        let switched = c.form("/language", &[("language", "de"), ("back", path)]);
        assert_eq!(switched.status, 303, "{path}");
        assert_eq!(switched.location.as_deref(), Some(path));
        assert!(c.get(path).text().contains(r#"<html lang="de">"#), "{path}");
        let back = c.form("/language", &[("language", "en"), ("back", path)]);
        assert_eq!(back.location.as_deref(), Some(path));
    }
    // A page with several query parameters keeps them all (escaped in the page, whole in the
    // redirect).
    let page = c.get("/meters/2?period=year&end=2026-01-01T00:00").text();
    assert_eq!(
        back_field(&page),
        "/meters/2?period=year&amp;end=2026-01-01T00:00"
    );
    let switched = c.form(
        "/language",
        &[
            ("language", "de"),
            ("back", "/meters/2?period=year&end=2026-01-01T00:00"),
        ],
    );
    assert_eq!(
        switched.location.as_deref(),
        Some("/meters/2?period=year&end=2026-01-01T00:00")
    );
    // Never to another host.
    for elsewhere in [
        "//example.org/",
        "/\\example.org/",
        "https://example.org/",
        "",
    ] {
        let switched = c.form("/language", &[("language", "en"), ("back", elsewhere)]);
        assert_eq!(switched.status, 303, "{elsewhere}");
        assert_eq!(switched.location.as_deref(), Some("/"), "{elsewhere}");
    }
    assert!(daemon.terminate().success());
}

#[test]
fn medium_names_follow_the_users_language() {
    let (mut daemon, mut c, _dir) = start();
    let meters = c.get("/api/v1/meters").json();
    let codes: Vec<u64> = meters
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["medium_code"].as_u64().unwrap())
        .collect();
    // The demonstration population mixes heat, warm water, water, electricity, gas and heat
    // cost allocators.
    let names = [
        (0x04, "Heat: Outlet", "Wärme (Rücklauf)"),
        (0x06, "Warm water (30-90°C)", "Warmwasser (30–90 °C)"),
        (0x07, "Water", "Wasser"),
        (0x02, "Electricity", "Elektrizität"),
        (0x03, "Gas", "Gas"),
        (0x08, "Heat Cost Allocator", "Heizkostenverteiler"),
    ];
    let names: Vec<_> = names
        .into_iter()
        .filter(|(code, _, _)| codes.contains(code))
        .collect();
    assert!(names.len() >= 4, "media {codes:?}");
    let cell = |name: &str| format!("<td>{name}</td>");
    let english = c.get("/").text();
    let config = c.get("/meters/config").text();
    for (_, en, _) in names.iter().copied() {
        assert!(english.contains(&cell(en)), "{en}");
        assert!(config.contains(&cell(en)), "{en}");
    }
    assert_eq!(
        c.form("/language", &[("language", "de"), ("back", "/")])
            .status,
        303
    );
    let german = c.get("/").text();
    let config = c.get("/meters/config").text();
    let export = c.get("/integration/export").text();
    for (_, en, de) in names.iter().copied() {
        assert!(german.contains(&cell(de)), "{de}");
        assert!(config.contains(&cell(de)), "{de}");
        assert!(export.contains(&cell(de)), "{de}");
        if en != de {
            assert!(!german.contains(&cell(en)), "{en} left in German");
        }
    }
    let heat = meters
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["medium_code"] == 0x04)
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let details = c.get(&format!("/meters/{heat}")).text();
    assert!(details.contains("<dd>Wärme (Rücklauf)</dd>"));
    let edit = c.get(&format!("/meters/{heat}/edit")).text();
    assert!(edit.contains("<dd>Wärme (Rücklauf)</dd>"));
    // The API keeps its English names: programs rely on them.
    let api = c.get(&format!("/api/v1/meters/{heat}")).json();
    assert_eq!(api["medium"], "Heat: Outlet");
    assert!(daemon.terminate().success());
}
