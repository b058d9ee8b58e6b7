//! The REST API and the HTML pages of a real `mbus-centerd --simulate` process, over HTTP:
//! login, the forced password change, CSRF, the values against `mbusctl meters --json`,
//! readings, export, events, scan, bad input and the login rate limit.
//!
//! Uses the `mbusctl` binary of the same build (`cargo test --workspace` builds it; alone, run
//! `cargo build -p mbusctl` first).

use std::io::Read;
use std::path::PathBuf;
use support::http::{logged_in, Client, NEW_PASSWORD};
use support::Daemon;

mod support;

fn mbusctl() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(format!("mbusctl{}", std::env::consts::EXE_SUFFIX))
}

fn start(meters: usize) -> (Daemon, String, tempfile::TempDir) {
    support::simulated(meters, &[])
}

#[test]
fn login_forced_password_change_csrf_and_logout() {
    let (mut daemon, url, dir) = start(3);
    let mut c = Client::new(&url);
    let refused = c.get("/api/v1/status");
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"], "login_required");
    let wrong = c.login("admin", "nope");
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"], "bad_credentials");

    let ok = c.login("admin", "123");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["must_change_password"], true);
    let cookie = ok.set_cookie.unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    // Until the default password is changed, everything else says so.
    for path in ["/api/v1/status", "/api/v1/meters", "/api/v1/events"] {
        let gated = c.get(path);
        assert_eq!(gated.status, 403, "{path}");
        assert_eq!(gated.json()["error"], "password_change_required", "{path}");
        assert!(gated.json()["message"]
            .as_str()
            .unwrap()
            .contains("default password"));
    }
    let page = c.get("/");
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/password"));

    // A state-changing request without the CSRF token is refused.
    let body = serde_json::json!({"current": "123", "new": NEW_PASSWORD}).to_string();
    let no_csrf = c.post_raw(
        "/api/v1/password",
        "application/json",
        body.as_bytes(),
        false,
    );
    assert_eq!(no_csrf.status, 403);
    assert_eq!(no_csrf.json()["error"], "csrf");
    let weak = c.post(
        "/api/v1/password",
        serde_json::json!({"current": "123", "new": "short"}),
    );
    assert_eq!(weak.status, 422);
    assert_eq!(weak.json()["field"], "new");
    let wrong_current = c.post(
        "/api/v1/password",
        serde_json::json!({"current": "124", "new": NEW_PASSWORD}),
    );
    assert_eq!(wrong_current.json()["field"], "current");
    let changed = c.post(
        "/api/v1/password",
        serde_json::json!({"current": "123", "new": NEW_PASSWORD}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(c.get("/api/v1/status").status, 200);
    // The hashes are in the data directory, readable by the owner only.
    use std::os::unix::fs::PermissionsExt;
    let users = dir.path().join("users.json");
    assert_eq!(
        std::fs::metadata(&users).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!std::fs::read_to_string(&users)
        .unwrap()
        .contains(NEW_PASSWORD));

    // Logout ends the session.
    let out = c.post("/api/v1/logout", serde_json::json!({}));
    assert_eq!(out.status, 204);
    assert_eq!(c.get("/api/v1/status").status, 401);
    let mut again = Client::new(&url);
    assert_eq!(again.login("admin", "123").status, 401);
    assert_eq!(
        again.login("admin", NEW_PASSWORD).json()["must_change_password"],
        false
    );

    // The login rate limit: after five failures the client must wait.
    let mut attacker = Client::new(&url);
    for _ in 0..5 {
        assert_eq!(attacker.login("admin", "guess").status, 401);
    }
    let limited = attacker.login("admin", NEW_PASSWORD);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"], "rate_limited");
    assert!(daemon.terminate().success());
}

#[test]
fn status_meters_readings_export_events_and_bad_input() {
    let (mut daemon, url, dir) = start(4);
    let mut c = logged_in(&url);

    let status = c.get("/api/v1/status").json();
    assert_eq!(status["name"], "M-Bus Center");
    assert_eq!(status["meters"], 4);
    assert_eq!(status["counts"]["ok"], 4);
    assert!(["idle", "read"].contains(&status["state"].as_str().unwrap()));

    // The API shows what the command line shows, value for value.
    let api = c.get("/api/v1/meters").json();
    let out = std::process::Command::new(mbusctl())
        .args([
            "meters",
            "--json",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .expect("run mbusctl (cargo build -p mbusctl)");
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(api.as_array().unwrap().len(), 4);
    for (a, b) in api.as_array().unwrap().iter().zip(cli.as_array().unwrap()) {
        for key in [
            "id",
            "name",
            "secondary",
            "manufacturer",
            "medium",
            "status",
        ] {
            assert_eq!(a[key], b[key], "{key}");
        }
        // A read cycle between the two calls may have stored a newer reading.
        if a["last_reading"]["time"] == b["last_reading"]["time"] {
            assert_eq!(a["last_reading"], b["last_reading"]);
        }
        let values = a["last_reading"]["values"].as_array().unwrap();
        assert!(!values.is_empty());
        assert!(values[0]["value"].is_string() && values[0]["name"].is_string());
    }

    let details = c.get("/api/v1/meters/1").json();
    assert!(!details["register_table"].as_array().unwrap().is_empty());
    let unknown = c.get("/api/v1/meters/999");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["field"], "id");
    assert_eq!(c.get("/api/v1/meters/abc").json()["field"], "id");

    let readings = c.get("/api/v1/meters/1/readings?from=2000-01-01&to=2099-12-31");
    assert_eq!(readings.status, 200);
    let list = readings.json();
    assert!(!list["readings"].as_array().unwrap().is_empty());
    let none = c
        .get("/api/v1/meters/1/readings?from=2000-01-01&to=2000-01-02")
        .json();
    assert!(none["readings"].as_array().unwrap().is_empty());
    for (query, field) in [
        ("from=yesterday", "from"),
        ("from=2026-13-01", "from"),
        ("from=2026-05-02&to=2026-05-01", "to"),
        ("limit=0", "limit"),
    ] {
        let bad = c.get(&format!("/api/v1/meters/1/readings?{query}"));
        assert_eq!(bad.status, 400, "{query}");
        assert_eq!(bad.json()["field"], field, "{query}");
    }

    // The export streams a ZIP with one file per meter.
    let zip = c.get("/api/v1/export?from=2000-01-01&to=2099-12-31&format=csv&filter=all");
    assert_eq!(zip.status, 200, "{}", zip.text());
    assert_eq!(zip.content_type, "application/zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.body)).unwrap();
    assert_eq!(archive.len(), 4);
    let mut csv = String::new();
    archive
        .by_index(0)
        .unwrap()
        .read_to_string(&mut csv)
        .unwrap();
    assert!(archive
        .by_index(0)
        .unwrap()
        .name()
        .unwrap()
        .starts_with("DataExport_"));
    assert!(csv.lines().count() >= 2, "{csv}");
    let one = c.get("/api/v1/export?from=2000-01-01&to=2099-12-31&format=json&meters=2");
    assert_eq!(
        zip::ZipArchive::new(std::io::Cursor::new(one.body))
            .unwrap()
            .len(),
        1
    );
    for (query, field, status) in [
        ("from=2000-01-01&to=2099-12-31&filter=week", "filter", 400),
        ("to=2099-12-31", "from", 400),
        ("from=2000-01-01&to=2099-12-31&meters=9", "meters", 404),
        ("from=2000-01-01&to=2099-12-31&format=xml", "format", 400),
    ] {
        let bad = c.get(&format!("/api/v1/export?{query}"));
        assert_eq!(bad.status, status, "{query}");
        assert_eq!(bad.json()["field"], field, "{query}");
    }

    let events = c.get("/api/v1/events?limit=5").json();
    assert!(events["total"].as_u64().unwrap() >= 1);
    let oldest = events["events"].as_array().unwrap().last().unwrap();
    assert!(
        oldest["code"].is_string() && oldest["came"].is_string(),
        "{oldest}"
    );
    assert_eq!(c.get("/api/v1/events?kind=X").json()["field"], "kind");

    // Malformed and oversized bodies are 4xx, never 500.
    let broken = c.post_raw("/api/v1/scan", "application/json", b"{\"kind\":", true);
    assert_eq!(broken.status, 400);
    let missing = c.post("/api/v1/scan", serde_json::json!({}));
    assert_eq!(missing.json()["field"], "kind");
    let bad_baud = c.post(
        "/api/v1/scan",
        serde_json::json!({"kind": "primary", "baud": 1234}),
    );
    assert_eq!(bad_baud.json()["field"], "baud");
    assert!(c.oversized("/api/v1/scan").starts_with("HTTP/1.1 413"));
    let missing = c.get("/api/v1/nothing");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "not_found");
    let page = c.get("/nothing");
    assert_eq!(page.status, 404);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );

    // A scan runs on the logger thread; its progress comes live over server-sent events and is
    // readable until it is done.
    let (connected, on_connect) = std::sync::mpsc::channel();
    let sse = {
        let url = format!("{url}/api/v1/updates");
        let cookie = c.cookie.clone().unwrap();
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
            let response = agent.get(&url).header("Cookie", &cookie).call().unwrap();
            assert_eq!(
                response.headers()["content-type"].to_str().unwrap(),
                "text/event-stream"
            );
            let reader = std::io::BufReader::new(response.into_body().into_reader());
            let mut events = Vec::new();
            let mut name = String::new();
            for line in std::io::BufRead::lines(reader) {
                let line = line.unwrap();
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(data) = line.strip_prefix("data: ") {
                    let value: serde_json::Value = serde_json::from_str(data).unwrap();
                    let done = name == "scan" && value["running"] == false;
                    events.push((name.clone(), value));
                    if events.len() == 1 {
                        connected.send(()).unwrap();
                    }
                    if done {
                        break;
                    }
                }
            }
            events
        })
    };
    on_connect
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the first live update (the logger state)");
    let started = c.post(
        "/api/v1/scan",
        serde_json::json!({"kind": "primary", "baud": 9600}),
    );
    assert_eq!(started.status, 202, "{}", started.text());
    let done = loop {
        let scan = c.get("/api/v1/scan").json();
        if scan["running"] == false && scan["kind"] == "primary" {
            break scan;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(done["found"], 4, "{done}");
    assert_eq!(
        done["added"].as_array().unwrap().len(),
        0,
        "already configured"
    );
    let events = sse.join().unwrap();
    assert_eq!(events[0].0, "state", "{events:?}");
    assert!(
        events
            .iter()
            .any(|(name, v)| name == "state" && v["state"] == "scan"),
        "{events:?}"
    );
    let progress: Vec<f64> = events
        .iter()
        .filter(|(name, v)| name == "scan" && v["running"] == true)
        .map(|(_, v)| v["fraction"].as_f64().unwrap())
        .collect();
    assert!(progress.len() >= 2, "{events:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(events.last().unwrap().1["found"], 4);

    let doc = c.get("/api/openapi.json").json();
    assert!(doc["paths"]["/api/v1/meters/{id}/readings"]["get"].is_object());
    assert!(daemon.terminate().success());
}

#[test]
fn the_pages_log_in_force_the_password_change_and_show_the_overview_in_both_languages() {
    let (mut daemon, url, _dir) = start(12);
    let mut c = Client::new(&url);
    let login = c.get("/login");
    assert_eq!(login.status, 200);
    assert!(login.text().contains("name=\"password\""));
    assert_eq!(c.get("/").location.as_deref(), Some("/login"));
    let form = c.post_raw(
        "/login",
        "application/x-www-form-urlencoded",
        b"username=admin&password=123",
        false,
    );
    assert_eq!(form.status, 303);
    assert_eq!(form.location.as_deref(), Some("/password"));
    let page = c.get("/password").text();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    // Without the form's CSRF field the change is refused.
    let body = format!("current=123&new={NEW_PASSWORD}&repeat={NEW_PASSWORD}");
    let refused = c.post_raw(
        "/password",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
        false,
    );
    assert_eq!(refused.status, 403);
    let body = format!("csrf={csrf}&{body}");
    let changed = c.post_raw(
        "/password",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
        false,
    );
    assert_eq!(changed.status, 303, "{}", changed.text());
    let overview = c.get("/").text();
    for text in [
        "Meter overview",
        "Heat",
        "Water",
        "Electricity",
        "st st-ok",
        "id=\"logger-state\"",
        "M-Bus Center",
    ] {
        assert!(overview.contains(text), "{text} missing");
    }
    assert!(!overview.contains("<script>"), "no inline script");
    let body = format!("csrf={csrf}&language=de&back=/");
    let switched = c.post_raw(
        "/language",
        "application/x-www-form-urlencoded",
        body.as_bytes(),
        false,
    );
    assert_eq!(switched.status, 303);
    let german = c.get("/").text();
    // A browser's live-update stream does not keep the daemon from stopping.
    let (open, opened) = std::sync::mpsc::channel();
    let stream = {
        let url = format!("{url}/api/v1/updates");
        let cookie = c.cookie.clone().unwrap();
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
            let response = agent.get(&url).header("Cookie", &cookie).call().unwrap();
            let mut reader = std::io::BufReader::new(response.into_body().into_reader());
            let mut text = String::new();
            std::io::BufRead::read_line(&mut reader, &mut text).unwrap();
            open.send(()).unwrap();
            // Ends when the server closes the stream.
            let _ = reader.read_to_string(&mut text);
            text
        })
    };
    opened
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    for text in [
        "Übersicht Zähler",
        "Konfiguration Logger",
        "Wärme",
        "Elektrizität",
        "lang=\"de\"",
    ] {
        assert!(german.contains(text), "{text} missing");
    }
    assert!(daemon.terminate().success());
    assert!(stream.join().unwrap().starts_with("event: state"));
}

/// Where `value` does not match `schema` of the OpenAPI document `doc`: every property the
/// schema requires is present, and every value present has the JSON type the schema gives
/// (through `$ref`, `allOf`, `oneOf`/`anyOf`, array items and enums). `at` names the place.
fn mismatches(
    doc: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    at: &str,
) -> Vec<String> {
    use serde_json::Value;
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return vec![format!("{at}: {reference} does not resolve")];
        }
        return mismatches(doc, target, value, at);
    }
    let mut found = Vec::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        found.extend(mismatches(doc, part, value, at));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(choices) = schema[key].as_array() {
            if choices
                .iter()
                .all(|c| !mismatches(doc, c, value, at).is_empty())
            {
                found.push(format!("{at}: {value} matches none of {key} {choices:?}"));
            }
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_ok = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    };
    if !types.is_empty() && !types.iter().any(|t| type_ok(t)) {
        found.push(format!("{at}: {value} is not of type {types:?}"));
        return found;
    }
    if let Some(choices) = schema["enum"].as_array() {
        if !choices.contains(value) {
            found.push(format!("{at}: {value} is not one of {choices:?}"));
        }
    }
    if let Value::Object(object) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                found.push(format!("{at}: required property {name} is missing"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, property) in properties {
                if let Some(v) = object.get(name) {
                    found.extend(mismatches(doc, property, v, &format!("{at}.{name}")));
                }
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            found.extend(mismatches(doc, item, v, &format!("{at}[{i}]")));
        }
    }
    found
}

/// The schema of the JSON success answer of `method path` in `doc`.
fn answer_schema<'a>(
    doc: &'a serde_json::Value,
    method: &str,
    path: &str,
) -> &'a serde_json::Value {
    let schema =
        &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no JSON answer"
    );
    schema
}

#[test]
fn real_answers_match_the_documented_schemas() {
    let (mut daemon, url, _dir) = start(3);
    let mut c = Client::new(&url);
    let login = c.login("admin", "123");
    assert_eq!(login.status, 200);
    let changed = c.post(
        "/api/v1/password",
        serde_json::json!({"current": "123", "new": NEW_PASSWORD}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text());
    let doc = c.get("/api/openapi.json").json();

    let check = |method: &str, path: &str, value: &serde_json::Value| {
        let schema = answer_schema(&doc, method, path);
        let found = mismatches(&doc, schema, value, path);
        assert!(found.is_empty(), "{found:#?}");
    };
    let login = login.json();
    check("post", "/api/v1/login", &login);
    assert_eq!(
        doc["components"]["schemas"]["LoginAnswer"]["required"],
        serde_json::json!(["must_change_password", "csrf_token", "language"])
    );

    let meters = c.get("/api/v1/meters").json();
    assert_eq!(meters.as_array().unwrap().len(), 3);
    assert!(meters[0]["last_reading"]["values"].is_array(), "{meters}");
    check("get", "/api/v1/meters", &meters);

    let details = c.get("/api/v1/meters/1").json();
    assert!(!details["register_table"].as_array().unwrap().is_empty());
    check("get", "/api/v1/meters/{id}", &details);
    check("get", "/api/v1/status", &c.get("/api/v1/status").json());
    check(
        "get",
        "/api/v1/meters/{id}/readings",
        &c.get("/api/v1/meters/1/readings").json(),
    );

    check("get", "/api/v1/events", &c.get("/api/v1/events").json());
    check("get", "/api/v1/io", &c.get("/api/v1/io").json());
    check("get", "/api/v1/tls", &c.get("/api/v1/tls").json());
    check("get", "/api/v1/versions", &c.get("/api/v1/versions").json());
    check(
        "get",
        "/api/v1/templates",
        &c.get("/api/v1/templates").json(),
    );

    let scan = c.get("/api/v1/scan").json();
    assert_eq!(scan["running"], false, "{scan}");
    check("get", "/api/v1/scan", &scan);
    let found = mismatches(
        &doc,
        answer_schema(&doc, "get", "/api/v1/scan"),
        &serde_json::Value::Null,
        "scan",
    );
    assert!(found.is_empty(), "null before the first search: {found:#?}");
    let cancel = c.post("/api/v1/scan/cancel", serde_json::json!({}));
    assert_eq!(cancel.status, 200);
    check("post", "/api/v1/scan/cancel", &cancel.json());

    // The settings: every section as the configuration's schema describes it.
    let settings = c.get("/api/v1/settings").json();
    check("get", "/api/v1/settings", &settings);
    let general = &doc["components"]["schemas"]["General"];
    assert!(general["properties"]["read_timeout_ms"]["type"] == "integer");
    let found = mismatches(&doc, general, &settings["general"], "general");
    assert!(found.is_empty(), "{found:#?}");
    let mut section = settings["general"].clone();
    section["name"] = serde_json::json!("Boiler room");
    let stored = c.post("/api/v1/settings/general", section);
    assert_eq!(stored.status, 200, "{}", stored.text());
    assert_eq!(stored.json()["name"], "Boiler room");
    check("post", "/api/v1/settings/{section}", &stored.json());

    // The checker itself finds a missing required property and a wrong type.
    let mut broken = details.clone();
    broken.as_object_mut().unwrap().remove("register_table");
    broken["name"] = serde_json::json!(7);
    let found = mismatches(
        &doc,
        answer_schema(&doc, "get", "/api/v1/meters/{id}"),
        &broken,
        "m",
    );
    assert!(
        found
            .iter()
            .any(|f| f.contains("register_table is missing"))
            && found.iter().any(|f| f.contains("m.name: 7 is not of type")),
        "{found:#?}"
    );
    assert!(daemon.terminate().success());
}
