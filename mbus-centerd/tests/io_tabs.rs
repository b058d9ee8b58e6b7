//! The appliance's input and output tabs and their REST endpoints against a real
//! `mbus-centerd --simulate` with simulated inputs and outputs: live values as the simulated
//! hardware reports them, S0 settings and start value (applied once, logged), field errors of
//! the API and of the forms, relay rules, German pages, and level-converter settings that take
//! effect without a restart (over TCP).

use logger_core::config::{Config, ConfigStore};
use logger_core::hardware::pt1000;
use logger_core::hardware::IoBackend;
use serde_json::{json, Value};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::fleet::free_port;
use support::http::{logged_in, Client};
use support::Daemon;

mod support;

/// Asks `GET /api/v1/io` until `done` holds for its answer (at most 20 s); returns it.
fn io_until(c: &mut Client, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = c.get("/api/v1/io");
        assert_eq!(answer.status, 200, "{}", answer.text());
        let report = answer.json();
        if done(&report) {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting until {what}: {report:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A connection to the level converter's port on 127.0.0.1.
fn connect(port: u16) -> std::io::Result<TcpStream> {
    TcpStream::connect(("127.0.0.1", port))
}

#[test]
fn io_tabs_show_the_simulated_hardware_and_save_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let mut config = Config::default();
    config.io.backend = IoBackend::Simulated;
    ConfigStore::new(dir.path()).save(&config).unwrap();
    let mut daemon = Daemon::start(&["--data-dir", data_dir, "--simulate", "2", "--cycle", "10s"]);
    let url = daemon.wait_for_web();
    daemon.wait_for("scan done");
    let mut c = logged_in(&url);

    // Live values: four S0 inputs counting, two PT1000 sensors on their curves (21 ± 2 °C and
    // 55 ± 8 °C), the resistance the one of the temperature (IEC 60751), two relays off.
    let report = io_until(&mut c, "live values", |r| {
        r["s0"][0]["pulses"].as_f64().is_some_and(|p| p > 0.0)
            && r["temperatures"][1]["celsius"].is_number()
    });
    assert_eq!(report["backend"], "simulated");
    assert_eq!(report["s0"].as_array().unwrap().len(), 4);
    for s in report["s0"].as_array().unwrap() {
        assert_eq!(s["value"].as_f64(), s["pulses"].as_f64(), "divisor 1: {s}");
        assert_eq!(s["error"], Value::Null);
    }
    for (t, (low, high)) in report["temperatures"]
        .as_array()
        .unwrap()
        .iter()
        .zip([(19.0, 23.0), (47.0, 63.0)])
    {
        let celsius = t["celsius"].as_f64().unwrap();
        assert!((low..=high).contains(&celsius), "{t}");
        let ohms = t["resistance"].as_f64().unwrap();
        assert!((pt1000::resistance(celsius) - ohms).abs() < 0.05, "{t}");
        assert_eq!(t["logging"], false, "PT1000 logging is off by default");
    }
    assert_eq!(
        report["relays"],
        json!([
            {"relay": 1, "on": false, "rule": {"on_overload": true, "on_read_failure": true}},
            {"relay": 2, "on": false, "rule": {"on_overload": true, "on_read_failure": true}}
        ])
    );

    // The pages show the same values with the ids the script refreshes.
    let page = c.get("/logger/temperature").text();
    for id in [
        "temperature-1-celsius",
        "temperature-2-resistance",
        "temperature-1-save",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(page.contains(r#"data-io="temperatures.0.celsius""#));
    let page = c.get("/logger/s0").text();
    assert!(page.contains(r#"id="s0-4-start""#) && page.contains(r#"data-io="s0.3.pulses""#));
    let page = c.get("/logger/relays").text();
    assert!(page.contains(r#"id="relay-2-state""#), "{page}");

    // S0 settings and a start value over the API: 1000 pulses per kWh, start 50 kWh.
    let saved = c.post(
        "/api/v1/io/s0/1",
        json!({"divisor": 1000.0, "unit": "kWh", "logging": true, "start": 50.0}),
    );
    assert_eq!(saved.status, 200, "{}", saved.text());
    let report = io_until(&mut c, "the start value is applied", |r| {
        r["s0"][0]["start_pending"] == false && r["s0"][0]["unit"] == "kWh"
    });
    let s = &report["s0"][0];
    assert_eq!(s["divisor"], 1000.0);
    let value = s["value"].as_f64().unwrap();
    assert!((50.0..51.0).contains(&value), "{s}");
    assert_eq!(
        s["value"].as_f64(),
        s["pulses"].as_f64().map(|p| p / 1000.0)
    );
    let events = c.get("/api/v1/events?limit=500").json();
    let applied: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.starts_with("S0 input 1: start value set to 50000 pulses"))
        .collect();
    assert_eq!(applied.len(), 1, "applied and logged once: {events:#}");

    // Field errors: API (JSON) and form (page, 422), nothing changed.
    let refused = c.post(
        "/api/v1/io/s0/2",
        json!({"divisor": 0.0, "unit": "", "logging": true}),
    );
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(refused.json()["problems"][0]["field"], "s0[2].divisor");
    let refused = c.post(
        "/api/v1/io/s0/1",
        json!({"divisor": 1.0, "logging": true, "start": -5}),
    );
    assert_eq!(refused.json()["problems"][0]["field"], "s0[1].start");
    let page = c.form(
        "/logger/s0",
        &[
            ("input", "3"),
            ("divisor", "abc"),
            ("unit", "l"),
            ("logging", "true"),
        ],
    );
    assert_eq!(page.status, 422);
    assert!(
        page.text().contains(r#"data-field="s0[3].divisor""#),
        "{}",
        page.text()
    );
    let page = c.form(
        "/logger/temperature",
        &[
            ("input", "1"),
            ("device", "../x"),
            ("channel", "in_resistance0"),
        ],
    );
    assert_eq!(page.status, 422);
    assert!(page
        .text()
        .contains(r#"data-field="temperature[1].device""#));
    let report = c.get("/api/v1/io").json();
    assert_eq!(
        report["s0"][2]["divisor"], 1.0,
        "a refused form changes nothing"
    );
    assert_eq!(report["temperatures"][0]["channel"], Value::Null);

    // Forms that save: PT1000 logging on, relay 2 only on unreadable meters.
    let page = c.form(
        "/logger/temperature",
        &[("input", "2"), ("logging", "true")],
    );
    assert_eq!(page.status, 303, "{}", page.text());
    let page = c.form(
        "/logger/relays",
        &[("input", "2"), ("on_read_failure", "true")],
    );
    assert_eq!(page.status, 303, "{}", page.text());
    let report = c.get("/api/v1/io").json();
    assert_eq!(report["temperatures"][1]["logging"], true);
    assert_eq!(
        report["relays"][1]["rule"],
        json!({"on_overload": false, "on_read_failure": true})
    );

    // The level converter: switched on and moved by saving, no restart.
    let port = free_port();
    assert!(connect(port).is_err());
    let saved = c.post(
        "/api/v1/settings/level_converter",
        json!({"enabled": true, "baud": null, "tcp_port": port}),
    );
    assert_eq!(saved.status, 200, "{}", saved.text());
    let report = io_until(&mut c, "the level converter listens", |r| {
        r["level_converter"]["state"]["listening"]
            .as_str()
            .is_some_and(|a| a.ends_with(&format!(":{port}")))
    });
    assert_eq!(report["level_converter"]["state"]["client"], Value::Null);
    let program = connect(port).expect("the port is open without a restart");
    let report = io_until(&mut c, "the program is shown", |r| {
        r["level_converter"]["state"]["client"].is_string()
    });
    assert!(report["level_converter"]["state"]["since"].is_string());
    let page = c.get("/logger/level-converter").text();
    assert!(page.contains(r#"id="lc-client""#));
    drop(program);
    let saved = c.post(
        "/api/v1/settings/level_converter",
        json!({"enabled": false, "baud": null, "tcp_port": port}),
    );
    assert_eq!(saved.status, 200);
    io_until(&mut c, "the level converter is off", |r| {
        r["level_converter"]["state"]["listening"].is_null()
    });
    assert!(connect(port).is_err(), "closed without a restart");

    // German pages use the manual's terms.
    c.form("/language", &[("language", "de"), ("back", "/logger")]);
    for (tab, words) in [
        (
            "temperature",
            &["Temperaturfühler", "Widerstand", "Aufzeichnung"][..],
        ),
        (
            "s0",
            &["S0-Eingänge", "Startwert", "Impulse pro Einheit"][..],
        ),
        ("relays", &["Relais", "Schalten bei M-Bus-Überlast"][..]),
        (
            "level-converter",
            &["Pegelwandler", "Verpasste Auslesungen"][..],
        ),
    ] {
        let page = c.get(&format!("/logger/{tab}")).text();
        for word in words {
            assert!(page.contains(word), "{tab}: {word}");
        }
    }
    let status = daemon.terminate();
    assert!(status.success(), "{status:?}");
}
