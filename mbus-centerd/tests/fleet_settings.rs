//! The MQTT and PostgreSQL settings tabs of a real `mbus-centerd --simulate` process, over
//! HTTP: the forms save their sections, a refused form names its fields and changes nothing,
//! passwords show only as set / not set and are never sent back, and the API takes the same
//! sections.

use serde_json::json;
use support::http::{logged_in, Client};

mod support;

/// The stored configuration (with the secrets) of the data directory `dir`.
fn stored(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap()
}

/// The text of the secret state next to the password field `id`.
fn secret_state(page: &str, id: &str) -> String {
    let start = format!(r#"id="{id}-state""#);
    page.split(&start)
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|text| text.split('<').next())
        .unwrap_or_else(|| panic!("no {id}-state in {page}"))
        .to_string()
}

/// The page of settings tab `path`, checked to hold the elements `ids`.
fn tab_with_ids(c: &mut Client, path: &str, ids: &[&str]) -> String {
    let page = c.get(path).text();
    for id in ids {
        assert!(page.contains(&format!(r#"id="{id}""#)), "{path}: {id}");
    }
    page
}

/// The fields of a valid MQTT form, with `changes` replacing or adding some.
fn mqtt_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("enabled", "true"),
        ("host", "127.0.0.1"),
        ("port", "1"),
        ("ca_file", ""),
        ("username", "logger"),
        ("password", ""),
        ("topic_base", "site/boiler-room"),
        ("appliance_id", "boiler-1"),
        ("discovery", "true"),
        ("discovery_prefix", "homeassistant"),
        ("keep_alive_s", "30"),
        ("queue_max_cycles", "500"),
    ];
    for (key, value) in changes {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = value,
            None => fields.push((key, value)),
        }
    }
    fields
}

#[test]
fn mqtt_tab_saves_refuses_by_field_and_never_shows_the_password() {
    let (mut daemon, url, dir) = support::simulated(2, &[]);
    let mut c: Client = logged_in(&url);
    let page = tab_with_ids(
        &mut c,
        "/logger/mqtt",
        &[
            "tab-mqtt",
            "tab-postgres",
            "mqtt-enabled",
            "mqtt-host",
            "mqtt-port",
            "mqtt-password",
            "mqtt-topic-base",
            "mqtt-keep-alive",
            "mqtt-save",
        ],
    );
    assert_eq!(secret_state(&page, "mqtt-password"), "not set");

    let saved = c.form(
        "/logger/mqtt",
        &mqtt_form(&[("password", "broker-secret-1")]),
    );
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(saved.location.as_deref(), Some("/logger/mqtt?saved=1"));
    let config = stored(dir.path());
    assert_eq!(config["mqtt"]["host"], "127.0.0.1");
    assert_eq!(config["mqtt"]["topic_base"], "site/boiler-room");
    assert_eq!(config["mqtt"]["queue_max_cycles"], 500);
    assert_eq!(config["mqtt"]["password"], "broker-secret-1");
    let page = c.get("/logger/mqtt?saved=1").text();
    assert_eq!(secret_state(&page, "mqtt-password"), "set");
    assert!(!page.contains("broker-secret-1"), "the password is echoed");
    assert!(page.contains(r#"value="site/boiler-room""#));
    let api = c.get("/api/v1/settings").json();
    assert_eq!(api["mqtt"]["password"], "");
    assert_eq!(api["mqtt"]["appliance_id"], "boiler-1");

    // A form left with an empty password keeps the stored one.
    let saved = c.form("/logger/mqtt", &mqtt_form(&[("keep_alive_s", "60")]));
    assert_eq!(saved.status, 303, "{}", saved.text());
    let config = stored(dir.path());
    assert_eq!(config["mqtt"]["keep_alive_s"], 60);
    assert_eq!(config["mqtt"]["password"], "broker-secret-1");

    // Bad fields: each named next to its field, what was sent shown again (never the
    // password), nothing stored.
    let refused = c.form(
        "/logger/mqtt",
        &mqtt_form(&[
            ("host", ""),
            ("topic_base", "site/+/x"),
            ("keep_alive_s", "2"),
            ("password", "typed-but-refused"),
        ]),
    );
    assert_eq!(refused.status, 422);
    let text = refused.text();
    for field in ["mqtt.host", "mqtt.topic_base", "mqtt.keep_alive_s"] {
        assert!(
            text.contains(&format!(r#"data-field="{field}""#)),
            "{field}: {text}"
        );
    }
    assert!(text.contains(r#"value="site/+/x""#));
    assert!(
        !text.contains("typed-but-refused"),
        "a posted password is echoed"
    );
    assert!(
        !text.contains("broker-secret-1"),
        "the stored password is echoed"
    );
    assert_eq!(secret_state(&text, "mqtt-password"), "set");
    assert_eq!(stored(dir.path())["mqtt"], config["mqtt"]);

    // German.
    c.form("/language", &[("language", "de"), ("back", "/logger/mqtt")]);
    let german = c.get("/logger/mqtt").text();
    assert!(german.contains("Topic-Präfix"));
    assert_eq!(secret_state(&german, "mqtt-password"), "gesetzt");
    assert!(daemon.terminate().success());
}

#[test]
fn postgres_tab_and_api_save_the_section_and_refuse_bad_fields() {
    let (mut daemon, url, dir) = support::simulated(2, &[]);
    let mut c = logged_in(&url);
    let page = tab_with_ids(
        &mut c,
        "/logger/postgres",
        &[
            "postgres-host",
            "postgres-database",
            "postgres-password",
            "postgres-batch",
            "postgres-save",
        ],
    );
    assert_eq!(secret_state(&page, "postgres-password"), "not set");

    let refused = c.form(
        "/logger/postgres",
        &[
            ("enabled", "true"),
            ("host", ""),
            ("port", "0"),
            ("ca_file", ""),
            ("database", "mbus"),
            ("username", "logger"),
            ("batch_readings", "0"),
            ("appliance_id", "no spaces allowed"),
        ],
    );
    assert_eq!(refused.status, 422);
    for field in [
        "postgres.host",
        "postgres.batch_readings",
        "postgres.appliance_id",
    ] {
        assert!(
            refused.text().contains(&format!(r#"data-field="{field}""#)),
            "{field}: {}",
            refused.text()
        );
    }
    assert_eq!(stored(dir.path())["postgres"]["batch_readings"], 1000);

    let saved = c.form(
        "/logger/postgres",
        &[
            ("host", "127.0.0.1"),
            ("port", "1"),
            ("ca_file", ""),
            ("database", "fleet"),
            ("username", "logger"),
            ("password", "db-secret-2"),
            ("batch_readings", "250"),
            ("appliance_id", "boiler-1"),
            ("timescale", "true"),
        ],
    );
    assert_eq!(saved.status, 303, "{}", saved.text());
    let config = stored(dir.path());
    assert_eq!(config["postgres"]["database"], "fleet");
    assert_eq!(config["postgres"]["batch_readings"], 250);
    assert_eq!(config["postgres"]["enabled"], false);
    assert_eq!(config["postgres"]["password"], "db-secret-2");
    let page = c.get("/logger/postgres").text();
    assert_eq!(secret_state(&page, "postgres-password"), "set");
    assert!(!page.contains("db-secret-2"));

    // The API takes the same section; its answer leaves the password out.
    let answer = c.post(
        "/api/v1/settings/postgres",
        json!({"host": "127.0.0.1", "database": "fleet2", "batch_readings": 10}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["database"], "fleet2");
    assert_eq!(answer.json()["password"], "");
    assert_eq!(stored(dir.path())["postgres"]["password"], "db-secret-2");
    let refused = c.post("/api/v1/settings/mqtt", json!({"keep_alive_s": 1}));
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(refused.json()["problems"][0]["field"], "mqtt.keep_alive_s");
    assert!(daemon.terminate().success());
}
