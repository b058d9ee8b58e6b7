//! The meter pages and their API of a real `mbus-centerd --simulate` process, over HTTP:
//! readings at a time, the consumption series, meter edit (a divisor changes the stored
//! values), delete with its history, manual add, templates, the search with progress and
//! cancel, and the pages with the element ids the browser tests use.

use logger_core::storage::{MeterId, Store, DATABASE_FILE_NAME};
use serde_json::{json, Value};
use support::http::{logged_in, Answer, Client};
use support::Daemon;

mod support;

/// A daemon with `meters` simulated meters, a 10 s read cycle, after its first scan.
fn start(meters: usize) -> (Daemon, String, tempfile::TempDir) {
    support::simulated(meters, &["--cycle", "10s"])
}

fn field(answer: &Answer) -> String {
    answer.json()["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The meter's chart register (its first total) in `meter` (from `GET /api/v1/meters/{id}`):
/// (position in the registers, value in the last reading).
fn total_value(c: &mut Client, meter: &Value) -> (usize, f64) {
    let id = meter["id"].as_u64().unwrap();
    let index = c.get(&format!("/api/v1/meters/{id}/series")).json()["register"]
        .as_u64()
        .unwrap();
    let position = meter["config"]["registers"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["index"].as_u64() == Some(index))
        .unwrap();
    (position, register_value(&meter["last_reading"], index))
}

/// The value of register `index` in `reading` (a reading of the API).
fn register_value(reading: &Value, index: u64) -> f64 {
    reading["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["index"].as_u64() == Some(index))
        .and_then(|v| v["value"].as_str())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn reading_at_a_time_and_the_consumption_series_come_from_the_store() {
    let (mut daemon, url, _dir) = start(3);
    let mut c = logged_in(&url);
    daemon.wait_for_cycles(1);
    let meter = c.get("/api/v1/meters/1").json();
    let last = &meter["last_reading"];
    let local = last["local_time"].as_str().unwrap();
    // A local time to the minute, after the last reading: that reading is valid then.
    let later = chrono::DateTime::parse_from_rfc3339(local).unwrap() + chrono::Duration::minutes(1);
    let at = later.format("%Y-%m-%dT%H:%M").to_string();
    let answer = c.get(&format!("/api/v1/meters/1/reading-at?time={at}"));
    assert_eq!(answer.status, 200, "{}", answer.text());
    let found = answer.json();
    assert_eq!(found["reading"]["time"], last["time"]);
    assert_eq!(found["reading"]["values"], last["values"]);
    let before = c.get("/api/v1/meters/1/reading-at?time=2001-01-01").json();
    assert_eq!(before["reading"], Value::Null);

    // The series of the day: the interval with the last reading holds its growth since the
    // reading before the interval (or the first in it), as stored.
    let day = later.format("%Y-%m-%d").to_string();
    let series = c.get(&format!("/api/v1/meters/1/series?period=day&end={day}"));
    assert_eq!(series.status, 200, "{}", series.text());
    let series = series.json();
    assert_eq!(series["kind"], "consumption");
    let points = series["points"].as_array().unwrap();
    assert!((23..=25).contains(&points.len()), "{}", points.len());
    let register = series["register"].as_u64().unwrap();
    let slot = points
        .iter()
        .rposition(|p| p["readings"].as_u64().unwrap() > 0)
        .expect("an interval with readings");
    let start = chrono::DateTime::parse_from_rfc3339(points[slot]["start"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let readings = c.get("/api/v1/meters/1/readings").json();
    let value_of = |r: &Value| register_value(r, register);
    let list = readings["readings"].as_array().unwrap();
    let time =
        |r: &Value| chrono::DateTime::parse_from_rfc3339(r["time"].as_str().unwrap()).unwrap();
    let inside: Vec<&Value> = list.iter().filter(|r| time(r) >= start).collect();
    let base = list
        .iter()
        .rfind(|r| time(r) < start)
        .or(inside.first().copied())
        .unwrap();
    let expected = value_of(inside.last().unwrap()) - value_of(base);
    let got = points[slot]["value"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-6, "{got} != {expected}");
    assert_eq!(
        points[slot]["readings"].as_u64().unwrap() as usize,
        inside.len()
    );
    for period in ["week", "month", "year"] {
        let s = c.get(&format!(
            "/api/v1/meters/1/series?period={period}&end={day}"
        ));
        assert_eq!(s.status, 200, "{period}");
        assert_eq!(s.json()["period"], period);
    }

    // Bad input names the parameter; an unknown meter is 404.
    for (path, status, name) in [
        ("/api/v1/meters/1/reading-at", 400, "time"),
        ("/api/v1/meters/1/reading-at?time=yesterday", 400, "time"),
        ("/api/v1/meters/1/reading-at?time=2026-13-01", 400, "time"),
        ("/api/v1/meters/99/reading-at?time=2026-01-01", 404, "id"),
        ("/api/v1/meters/x/reading-at?time=2026-01-01", 400, "id"),
        ("/api/v1/meters/1/series?period=decade", 400, "period"),
        ("/api/v1/meters/1/series?end=soon", 400, "end"),
        ("/api/v1/meters/1/series?register=999", 404, "register"),
        ("/api/v1/meters/99/series", 404, "id"),
    ] {
        let answer = c.get(path);
        assert_eq!(answer.status, status, "{path}: {}", answer.text());
        assert_eq!(field(&answer), name, "{path}");
    }
    daemon.terminate();
}

#[test]
fn a_divisor_edit_changes_the_stored_values_and_a_delete_removes_the_history() {
    let (mut daemon, url, dir) = start(2);
    let mut c = logged_in(&url);
    let meter = c.get("/api/v1/meters/1").json();
    let (position, before) = total_value(&mut c, &meter);
    assert!(before > 0.0);
    let mut config = meter["config"].clone();
    config["registers"][position]["divisor"] = json!(1000.0);

    // Bad edits change nothing and name the field as the configuration does.
    let mut zero = config.clone();
    zero["registers"][position]["divisor"] = json!(0.0);
    let refused = c.put("/api/v1/meters/1", &zero);
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(
        field(&refused),
        format!("meters[0].registers[{position}].divisor")
    );
    let mut typo = config.clone();
    typo["registers"][position]["divisr"] = json!(2);
    let refused = c.put("/api/v1/meters/1", &typo);
    assert_eq!(refused.status, 400);
    assert!(
        field(&refused).starts_with("meters[0].registers"),
        "{}",
        field(&refused)
    );
    let mut other = config.clone();
    other["id"] = json!(2);
    assert_eq!(field(&c.put("/api/v1/meters/1", &other)), "meters[0].id");
    let broken = c.send("PUT", "/api/v1/meters/1", "application/json", b"{".to_vec());
    assert_eq!(broken.status, 400);
    assert_eq!(c.put("/api/v1/meters/77", &config).status, 404);
    assert_eq!(
        c.get("/api/v1/meters/1").json()["config"]["registers"][position]["divisor"],
        json!(1.0)
    );

    let saved = c.put("/api/v1/meters/1", &config);
    assert_eq!(saved.status, 200, "{}", saved.text());
    let edited_at = chrono::Utc::now();
    // The next stored reading is divided by 1000; the ones before stay as they were.
    let after = loop {
        daemon.wait_for_cycles(1);
        let m = c.get("/api/v1/meters/1").json();
        let time =
            chrono::DateTime::parse_from_rfc3339(m["last_reading"]["time"].as_str().unwrap())
                .unwrap();
        if time > edited_at {
            assert_eq!(m["register_table"][position]["divisor"], json!(1000.0));
            break total_value(&mut c, &m).1;
        }
    };
    let ratio = before / after;
    assert!(
        (ratio - 1000.0).abs() < 10.0,
        "{before} / {after} = {ratio}"
    );

    // Delete: the meter and its readings are gone.
    let store = Store::open_existing(dir.path().join(DATABASE_FILE_NAME)).unwrap();
    assert!(store.reading_count(MeterId(1)).unwrap() >= 2);
    assert_eq!(c.delete("/api/v1/meters/1").status, 204);
    assert_eq!(store.reading_count(MeterId(1)).unwrap(), 0);
    assert!(store.reading_count(MeterId(2)).unwrap() >= 1);
    assert_eq!(c.get("/api/v1/meters/1").status, 404);
    let again = c.delete("/api/v1/meters/1");
    assert_eq!((again.status, field(&again).as_str()), (404, "id"));
    daemon.terminate();
}

#[test]
fn manual_add_checks_every_field_and_templates_round_trip() {
    let (mut daemon, url, _dir) = start(2);
    let mut c = logged_in(&url);
    let added = c.post(
        "/api/v1/meters",
        json!({"primary": 7, "baud": 9600, "name": "Keller"}),
    );
    assert_eq!(added.status, 201, "{}", added.text());
    let id = added.json()["id"].as_u64().unwrap();
    let m = c.get(&format!("/api/v1/meters/{id}")).json();
    assert_eq!(
        (
            m["name"].as_str(),
            m["primary"].as_u64(),
            m["baud"].as_u64()
        ),
        (Some("Keller"), Some(7), Some(9600))
    );
    assert_eq!(m["addressing"], "primary");
    for (body, name) in [
        (json!({"primary": 300}), "primary"),
        (json!({"primary": "x"}), "primary"),
        (json!({}), "primary"),
        (json!({"secondary": "XYZ"}), "secondary"),
        (json!({"addressing": "secondary"}), "secondary"),
        (json!({"primary": 8, "baud": 1234}), "baud"),
        (json!({"primary": 7}), "primary"),
        (json!({"primary": 8, "name": "x".repeat(65)}), "name"),
        (json!({"primary": 8, "colour": "red"}), "colour"),
    ] {
        let answer = c.post("/api/v1/meters", body.clone());
        assert!(
            (400..500).contains(&answer.status),
            "{body}: {}",
            answer.status
        );
        assert_eq!(field(&answer), name, "{body}: {}", answer.text());
    }
    let meters = c.get("/api/v1/meters").json();
    assert_eq!(meters.as_array().unwrap().len(), 3, "nothing half-added");

    // Templates: save from a meter, export, change, import, apply.
    let builtin = c.get("/api/v1/templates").json();
    assert!(builtin
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["builtin"] == true));
    let saved = c.post("/api/v1/meters/1/template", json!({"device_name": "Mine"}));
    assert_eq!(saved.status, 201, "{}", saved.text());
    let list = c.get("/api/v1/templates").json();
    assert_eq!(list[0]["builtin"], false);
    assert_eq!(list[0]["device_name"], "Mine");
    let export = c.get("/api/v1/templates/export");
    assert!(export
        .disposition
        .as_deref()
        .unwrap()
        .contains("templates.json"));
    let mut file = export.json();
    assert_eq!(file["version"], 1);
    assert_eq!(file["templates"].as_array().unwrap().len(), 1);
    file["templates"][0]["device_name"] = json!("Mine, renamed");
    file["templates"][0]["registers"][0]["name"] = json!("Wärme");
    let imported = c.send(
        "POST",
        "/api/v1/templates/import",
        "application/json",
        file.to_string().into_bytes(),
    );
    assert_eq!(imported.status, 200, "{}", imported.text());
    assert_eq!(imported.json()["imported"], 1);
    assert_eq!(
        c.get("/api/v1/templates").json()[0]["device_name"],
        "Mine, renamed"
    );
    let applied = c.post("/api/v1/meters/1/template/apply", json!({}));
    assert_eq!(applied.status, 200, "{}", applied.text());
    assert_eq!(applied.json()["device_name"], "Mine, renamed");
    assert_eq!(
        c.get("/api/v1/meters/1").json()["config"]["registers"][0]["name"],
        "Wärme"
    );
    let mut bad = file.clone();
    bad["templates"][0]["registers"][0]["divisor"] = json!(0.0);
    let refused = c.send(
        "POST",
        "/api/v1/templates/import",
        "application/json",
        bad.to_string().into_bytes(),
    );
    assert_eq!(refused.status, 422);
    assert_eq!(field(&refused), "templates[0].registers[0].divisor");
    // The manually added meter has no type yet; unknown meters are 404.
    let untyped = c.post(&format!("/api/v1/meters/{id}/template/apply"), json!({}));
    assert_eq!((untyped.status, field(&untyped).as_str()), (409, "id"));
    assert_eq!(
        c.post("/api/v1/meters/99/template/apply", json!({})).status,
        404
    );
    daemon.terminate();
}

#[test]
fn the_search_form_starts_a_scan_whose_progress_streams_and_a_scan_can_be_cancelled() {
    let (mut daemon, url, _dir) = start(3);
    let mut c = logged_in(&url);
    let page = c.get("/meters/config");
    assert_eq!(page.status, 200);
    let started = c.form(
        "/meters/config/search",
        &[("kind", "primary"), ("baud", "9600")],
    );
    assert_eq!(started.status, 303, "{}", started.text());
    assert_eq!(
        started.location.as_deref(),
        Some("/meters/config?done=search")
    );
    // The scan's state is in the API; it ends with the meters found and none added twice.
    let mut done = Value::Null;
    for _ in 0..600 {
        let s = c.get("/api/v1/scan").json();
        if s["kind"] == "primary" && s["running"] == false {
            done = s;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(done["found"], 3, "{done}");
    assert_eq!(done["fraction"], 1.0);
    assert_eq!(done["added"], json!([]));
    let bad = c.form(
        "/meters/config/search",
        &[("kind", "tertiary"), ("baud", "all")],
    );
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains(r#"data-field="kind""#));

    // Progress streams as events; a scan started with the API can be cancelled.
    let mut watcher = c.same_session();
    let mut events = Vec::new();
    let mut started = false;
    watcher.events(|event, data| {
        if event == "state" && !started {
            started = true;
            let start = c.post("/api/v1/scan", json!({"kind": "primary", "baud": "all"}));
            assert_eq!(start.status, 202, "{}", start.text());
            let cancel = c.post("/api/v1/scan/cancel", json!({}));
            assert_eq!(cancel.json()["cancelled"], true);
        }
        if event == "scan" {
            events.push(data.clone());
            return data["running"] == false;
        }
        false
    });
    assert_eq!(events[0]["running"], true);
    let last = events.last().unwrap();
    assert_eq!(last["cancelled"], true, "{events:?}");
    assert_eq!(c.get("/api/v1/scan").json()["cancelled"], true);
    let none = c.post("/api/v1/scan/cancel", json!({}));
    assert_eq!(none.json()["cancelled"], false);
    let cancelled = c.form("/meters/config/search/cancel", &[]);
    assert_eq!(cancelled.status, 303);
    daemon.terminate();
}

/// The ids and classes of the element contract in `html`.
fn assert_ids(html: &str, ids: &[&str]) {
    for id in ids {
        assert!(html.contains(id), "{id} missing");
    }
}

#[test]
fn the_meter_pages_render_with_the_contract_ids_and_their_forms_work_without_script() {
    let (mut daemon, url, _dir) = start(2);
    let mut c = logged_in(&url);
    let config = c.get("/meters/config");
    assert_eq!(config.status, 200);
    assert_ids(
        &config.text(),
        &[
            r#"id="search-form""#,
            r#"id="search-kind""#,
            r#"id="search-baud""#,
            r#"value="all""#,
            r#"value="38400""#,
            r#"id="search-start""#,
            r#"<progress id="search-progress""#,
            r#"id="search-status""#,
            r#"id="search-cancel""#,
            r#"id="search-found""#,
            r#"id="meter-list""#,
            r#"data-meter-id="1""#,
            r#"class="edit-meter" href="/meters/1/edit""#,
            r#"id="manual-form""#,
            r#"id="template-list""#,
            r#"id="templates-export""#,
        ],
    );
    let overview = c.get("/").text();
    assert_ids(
        &overview,
        &[
            r#"data-meter-id="1""#,
            "status-ok",
            r#"href="/meters/1""#,
            r#"<span id="logger-state" data-state=""#,
        ],
    );
    let details = c.get("/meters/1");
    assert_eq!(details.status, 200, "{}", details.text());
    assert_ids(
        &details.text(),
        &[
            r#"id="last-reading""#,
            r#"class="value num" data-register="0""#,
            r#"id="history-form""#,
            r#"id="history-at""#,
            r#"type="datetime-local""#,
            r#"<svg id="consumption-chart""#,
            r#"<title id="chart-title">"#,
            r#"<desc id="chart-desc">"#,
            r#"id="period-day""#,
            r#"id="period-week""#,
            r#"id="period-month""#,
            r#"id="period-year""#,
        ],
    );
    let history = c.get("/meters/1?at=2001-01-01T00%3A00");
    assert_eq!(history.status, 200);
    assert_ids(&history.text(), &[r#"id="history-reading""#]);
    let bad_time = c.get("/meters/1?at=never");
    assert_eq!(bad_time.status, 400);
    assert!(bad_time
        .text()
        .contains(r#"class="field-error" id="err-at" data-field="at""#));
    let unknown = c.get("/meters/9");
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.content_type.starts_with("text/html"),
        "a page, not JSON"
    );
    assert!(unknown.text().contains("no meter with id 9"));

    let edit = c.get("/meters/1/edit");
    assert_eq!(edit.status, 200);
    assert_ids(
        &edit.text(),
        &[
            r#"id="register-table""#,
            r#"data-register="0""#,
            r#"id="reg-0-divisor" name="divisor""#,
            r#"id="reg-0-name" name="name""#,
            r#"id="reg-0-off""#,
            r#"id="meter-save""#,
            r#"id="meter-delete""#,
            r#"id="meter-delete-confirm""#,
        ],
    );

    // The edit form as a browser posts it, from the configuration the API shows.
    let meter = c.get("/api/v1/meters/1").json()["config"].clone();
    let form = |divisor0: &str| -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![
            ("meter_name".into(), "Wohnung 12a".into()),
            ("location".into(), "Schaltschrank 2".into()),
            ("cost_centre".into(), String::new()),
            ("comment".into(), String::new()),
            ("addressing".into(), "secondary".into()),
            ("primary".into(), meter["primary"].to_string()),
            (
                "secondary".into(),
                meter["secondary"].as_str().unwrap().into(),
            ),
            ("baud".into(), meter["baud"].to_string()),
            ("cycle".into(), String::new()),
            (
                "category".into(),
                meter["category"].as_str().unwrap().into(),
            ),
        ];
        for (j, r) in meter["registers"].as_array().unwrap().iter().enumerate() {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            f.push(("index".into(), r["index"].to_string()));
            f.push(("name".into(), text("name")));
            f.push(("description".into(), text("description")));
            f.push(("unit".into(), text("unit")));
            f.push(("phase".into(), r["phase"].to_string()));
            let divisor = if j == 0 {
                divisor0.to_string()
            } else {
                r["divisor"].to_string()
            };
            f.push(("divisor".into(), divisor));
            f.push(("storage".into(), r["storage"].to_string()));
            f.push(("tariff".into(), r["tariff"].to_string()));
            if r["off"] == true {
                f.push(("off".into(), r["index"].to_string()));
            }
        }
        f
    };
    let post = |c: &mut Client, fields: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        c.form("/meters/1/edit", &refs)
    };
    for bad in ["abc", "0"] {
        let refused = post(&mut c, form(bad));
        assert_eq!(refused.status, 422, "{bad}");
        let html = refused.text();
        assert!(
            html.contains(r#"class="field-error" id="err-reg-0-divisor" data-field="meters[0].registers[0].divisor""#),
            "{bad}: {html}"
        );
        assert!(
            html.contains(&format!(r#"value="{bad}""#)),
            "the typed text stays"
        );
    }
    assert_eq!(c.get("/api/v1/meters/1").json()["name"], meter["name"]);
    let comma = post(&mut c, form("0,5"));
    assert_eq!(comma.status, 303, "a decimal comma is accepted");
    assert_eq!(
        c.get("/api/v1/meters/1").json()["config"]["registers"][0]["divisor"],
        json!(0.5)
    );
    let saved = post(&mut c, form("1000"));
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(saved.location.as_deref(), Some("/meters/1/edit?done=saved"));
    let now = c.get("/api/v1/meters/1").json();
    assert_eq!(now["name"], "Wohnung 12a");
    assert_eq!(now["config"]["registers"][0]["divisor"], json!(1000.0));
    assert!(c
        .get("/meters/1/edit?done=saved")
        .text()
        .contains(r#"role="status""#));

    // Manual add and template import without script: errors next to their fields.
    let refused = c.form(
        "/meters/config/add",
        &[("addressing", "primary"), ("primary", "251")],
    );
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains(r#"data-field="primary""#));
    assert!(refused.text().contains(r#"value="251""#));
    let added = c.form(
        "/meters/config/add",
        &[
            ("addressing", "primary"),
            ("primary", "42"),
            ("baud", ""),
            ("name", ""),
        ],
    );
    assert_eq!(added.status, 303, "{}", added.text());
    let refused = c.form(
        "/meters/config/templates/import",
        &[("file", "{\"version\":1}")],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused.text().contains(r#"class="field-error""#),
        "{}",
        refused.text()
    );

    // German texts with the manual's terms.
    assert_eq!(
        c.post("/api/v1/language", json!({"language": "de"})).status,
        200
    );
    let german = c.get("/meters/1/edit").text();
    for term in [
        "Zähler bearbeiten",
        "Registerkonfiguration",
        "Divisor",
        "Mon.",
        "Tarif",
        "Als Vorlage speichern",
        "Löschen",
    ] {
        assert!(german.contains(term), "{term}");
    }
    assert!(c.get("/meters/config").text().contains("Suchlauf starten"));
    assert!(c.get("/meters/1").text().contains("Verbrauch"));

    // Delete with confirmation.
    let deleted = c.form("/meters/1/delete", &[]);
    assert_eq!(deleted.status, 303);
    assert_eq!(
        deleted.location.as_deref(),
        Some("/meters/config?done=deleted")
    );
    assert_eq!(c.get("/meters/1/edit").status, 404);
    daemon.terminate();
}
