//! Configuration: validation with field paths, atomic saves, backup and restore.

use logger_core::config::{
    Addressing, Config, ConfigError, ConfigStore, ReadCycle, CONFIG_VERSION,
};
use proptest::prelude::*;

fn sample() -> Config {
    let mut c = Config::default();
    c.general.name = "Heizzentrale".into();
    c.general.location = "Keller".into();
    c.general.default_cycle = ReadCycle::M15;
    for id in 1..=4u32 {
        let meter = serde_json::json!({
            "id": id,
            "name": format!("meter {id}"),
            "addressing": "secondary",
            "primary": id,
            "secondary": format!("{:08}2D2C0104", 6855810 + id),
            "registers": [
                {"index": 0, "name": "Energy", "meter_unit": "Wh", "unit": "kWh", "divisor": 1000.0},
                {"index": 1, "name": "Volume", "unit": "m3", "divisor": 0.01},
                {"index": 2, "name": "Flow temperature", "unit": "°C"}
            ]
        });
        c.meters.push(serde_json::from_value(meter).unwrap());
    }
    c.validate().unwrap();
    c
}

fn problems(text: &str) -> Vec<String> {
    Config::from_json(text)
        .unwrap_err()
        .problems()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn with(mut f: impl FnMut(&mut serde_json::Value)) -> String {
    let mut v = serde_json::to_value(sample()).unwrap();
    f(&mut v);
    v.to_string()
}

#[test]
fn validation_names_the_field_path() {
    let cases: Vec<(String, &str)> = vec![
        (
            with(|v| v["meters"][3]["registers"][2]["divisor"] = 0.0.into()),
            "meters[3].registers[2].divisor: must be non-zero",
        ),
        (
            with(|v| v["meters"][1]["primary"] = 251.into()),
            "meters[1].primary: must be between 0 and 250",
        ),
        (
            with(|v| v["meters"][0]["baud"] = 1000.into()),
            "meters[0].baud: must be 300, 600, 1200, 2400, 4800, 9600, 19200 or 38400",
        ),
        (with(|v| v["meters"][2]["name"] = "".into()), "meters[2].name: must not be empty"),
        (
            with(|v| v["meters"][2]["id"] = 1.into()),
            "meters[2].id: 1 is already used by meters[0]",
        ),
        (
            with(|v| v["meters"][3]["registers"][1]["index"] = 0.into()),
            "meters[3].registers[1].index: 0 is already used by meters[3].registers[0]",
        ),
        (
            with(|v| v["general"]["timezone"] = "Mars/Olympus".into()),
            "general.timezone: unknown time zone 'Mars/Olympus' (expected an IANA name such as Europe/Berlin)",
        ),
        (
            with(|v| v["network"]["eth0"] = serde_json::json!({"dhcp": false})),
            "network.eth0.address: required when dhcp is off",
        ),
        (
            with(|v| v["email"] = serde_json::json!({"enabled": true, "server": "mail.example.org", "sender_address": "x", "recipients": ["a@b.de"]})),
            "email.sender_address: must be an e-mail address",
        ),
        (
            with(|v| v["email"]["upload_alarm_after_min"] = 0.into()),
            "email.upload_alarm_after_min: must be between 1 and 10080 (one week)",
        ),
        (
            with(|v| v["email"]["ca_file"] = "".into()),
            "email.ca_file: must not be empty",
        ),
        (
            with(|v| v["meters"][0]["registers"][0]["index"] = 5000.into()),
            "meters[0].registers[0].index: must be below 1024 (values stored per reading)",
        ),
        (
            with(|v| v["bacnet"]["start_instance"] = 5_000_000.into()),
            "bacnet.start_instance: must be at most 4194302",
        ),
        (
            with(|v| v["uploads"]["file"] = serde_json::json!({"enabled": true, "server": "ftp.example.org", "path": ""})),
            "uploads.file.path: must not be empty",
        ),
        (
            with(|v| v["uploads"]["file"] = serde_json::json!({"enabled": true, "protocol": "ftps", "server": "ftp.example.org", "ca_file": "/etc/ca.pem", "accept_invalid_certs": true})),
            "uploads.file.accept_invalid_certs: must be false when a ca_file is given",
        ),
        (
            with(|v| v["uploads"]["file"] = serde_json::json!({"enabled": true, "protocol": "sftp", "server": "sftp.example.org", "host_key": "ab:cd"})),
            "uploads.file.host_key: must be a SHA256 fingerprint as ssh-keygen -l prints it (SHA256:…)",
        ),
        (
            with(|v| v["uploads"]["spool_max_files"] = 0.into()),
            "uploads.spool_max_files: must be between 1 and 1000000",
        ),
        (
            with(|v| v["uploads"]["https"] = serde_json::json!({"enabled": true, "url": "http://collector.example.org"})),
            "uploads.https.url: must be an https:// URL",
        ),
    ];
    for (text, expected) in cases {
        let p = problems(&text);
        assert!(
            p.iter().any(|e| e == expected),
            "expected {expected:?} in {p:?}"
        );
    }
}

#[test]
fn type_errors_and_unknown_fields_name_the_path() {
    let p = problems(&with(|v| {
        v["meters"][1]["registers"][0]["divisor"] = "ten".into()
    }));
    assert!(
        p[0].starts_with("meters[1].registers[0].divisor: invalid type: string \"ten\""),
        "{p:?}"
    );
    let p = problems(&with(|v| v["general"]["default_cycle"] = "7min".into()));
    assert!(
        p[0].starts_with("general.default_cycle: unknown read cycle '7min'"),
        "{p:?}"
    );
    let p = problems(&with(|v| v["meters"][0]["colour"] = "red".into()));
    assert!(
        p[0].starts_with("meters[0].colour: unknown field `colour`"),
        "{p:?}"
    );
    let p = problems(&with(|v| v["meters"][0]["secondary"] = "12345678".into()));
    assert!(
        p[0].starts_with("meters[0].secondary: secondary address must have 16"),
        "{p:?}"
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let text = with(|v| {
        v["general"]["read_timeout_ms"] = 1.into();
        v["meters"][0]["registers"][0]["phase"] = 4.into();
    });
    let err = Config::from_json(&text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "general.read_timeout_ms: must be between 50 and 60000; meters[0].registers[0].phase: must be between 0 and 3"
    );
}

#[test]
fn version_is_required_and_checked() {
    assert_eq!(
        problems(r#"{"general":{}}"#),
        ["version: missing (this build reads versions 1 to 2)"]
    );
    assert!(matches!(
        Config::from_json(r#"{"version":7}"#),
        Err(ConfigError::Version { found: 7 })
    ));
    assert_eq!(
        problems(r#"{"version":"1"}"#),
        ["version: must be a number"]
    );
    let minimal = Config::from_json(r#"{"version":2}"#).unwrap();
    assert_eq!(minimal, Config::default());
    assert_eq!(minimal.version, CONFIG_VERSION);
    assert!(matches!(
        Config::from_json(r#"{"version":0}"#),
        Err(ConfigError::Version { found: 0 })
    ));
}

#[test]
fn version_1_addresses_are_converted_to_libmbus_text() {
    // Version 1 wrote KAM (code 0x2C2D) high byte first; libmbus (and version 2) write the
    // bytes as sent, `2D 2C`.
    let old = serde_json::json!({
        "version": 1,
        "meters": [
            {"id": 1, "name": "heat", "addressing": "secondary", "secondary": "068558172C2D0104"},
            {"id": 2, "name": "pump", "addressing": "primary", "primary": 7}
        ]
    })
    .to_string();
    let (config, migration) = Config::from_json_migrating(&old).unwrap();
    let migration = migration.unwrap();
    assert_eq!(
        (migration.from_version, migration.secondary_addresses),
        (1, 1)
    );
    assert_eq!(config.version, CONFIG_VERSION);
    let kam = config.meters[0].secondary.unwrap();
    assert_eq!(&kam.manufacturer_letters(), b"KAM");
    assert_eq!(kam.to_string(), "068558172D2C0104");
    assert!(config.to_json().contains("\"068558172D2C0104\""));
    // A current document is taken as written.
    let (again, none) = Config::from_json_migrating(&config.to_json()).unwrap();
    assert_eq!((again, none), (config, None));

    // The store converts in memory only; the logger saves (see the engine tests).
    let dir = tempfile::tempdir().unwrap();
    let store = ConfigStore::new(dir.path());
    std::fs::write(store.path(), &old).unwrap();
    let (loaded, migration) = store.load_migrating().unwrap();
    assert!(migration.is_some());
    assert_eq!(loaded.meters[0].secondary, Some(kam));
    assert_eq!(std::fs::read_to_string(store.path()).unwrap(), old);
}

#[test]
fn backup_round_trips() {
    let c = sample();
    assert_eq!(Config::from_json(&c.to_json()).unwrap(), c);
}

#[test]
fn save_is_atomic_and_invalid_configs_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = ConfigStore::new(dir.path());
    assert_eq!(store.load_or_default().unwrap(), Config::default());
    let good = sample();
    store.save(&good).unwrap();
    let mut bad = good.clone();
    bad.meters[0].registers[0].divisor = 0.0;
    assert!(store.save(&bad).is_err());
    assert_eq!(store.load_or_default().unwrap(), good);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["config.json"]);
}

#[test]
fn every_broken_restore_changes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let store = ConfigStore::new(dir.path());
    let good = sample();
    store.save(&good).unwrap();
    let before = std::fs::read(store.path()).unwrap();
    let json = good.to_json();
    let broken: Vec<(String, &str)> = vec![
        (String::new(), "EOF while parsing"),
        (json[..json.len() / 2].to_string(), "EOF while parsing"),
        ("[1,2,3]".into(), ".: must be a JSON object"),
        (
            json.replace("\"version\": 2", "\"version\": 3"),
            "unsupported configuration version 3",
        ),
        (
            json.replace("\"divisor\": 0.01", "\"divisor\": 0.0"),
            "meters[0].registers[1].divisor: must be non-zero",
        ),
        (
            json.replace(
                "\"default_cycle\": \"15min\"",
                "\"default_cycle\": \"16min\"",
            ),
            "general.default_cycle",
        ),
        (
            json.replace(
                "\"addressing\": \"secondary\"",
                "\"addressing\": \"tertiary\"",
            ),
            "meters[0].addressing",
        ),
        (
            json.replacen("\"id\": 2", "\"id\": 1", 1),
            "meters[1].id: 1 is already used",
        ),
        (
            json.replace("\"primary\": 3", "\"primary\": 300"),
            "meters[2].primary",
        ),
        ("\u{0}\u{1}garbage".into(), "expected value"),
    ];
    for (text, expected) in broken {
        let err = store.restore(&text).unwrap_err().to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        assert_eq!(
            std::fs::read(store.path()).unwrap(),
            before,
            "changed by {expected}"
        );
    }
    let mut changed = good.clone();
    changed.general.name = "Neu".into();
    changed.meters[1].addressing = Addressing::Primary;
    assert_eq!(store.restore(&changed.to_json()).unwrap(), changed);
    assert_eq!(store.load_or_default().unwrap(), changed);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        let _ = Config::from_json(&text);
    }

    #[test]
    fn mutated_backups_never_panic(pos in 0usize..4000, byte in any::<u8>()) {
        let mut bytes = sample().to_json().into_bytes();
        let i = pos % bytes.len();
        bytes[i] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            if let Ok(c) = Config::from_json(&text) {
                prop_assert!(c.validate().is_ok());
            }
        }
    }
}

#[test]
fn divisors_with_many_digits_survive_a_backup_exactly() {
    let mut c = sample();
    c.meters[0].registers[0].divisor = 1.0333333333333329e117;
    c.meters[1].registers[1].divisor = 0.1 + 0.2;
    assert_eq!(Config::from_json(&c.to_json()).unwrap(), c);
}
