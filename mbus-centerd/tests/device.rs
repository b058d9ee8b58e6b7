//! A missing bus device does not stop the daemon: it serves the UI with state `err`, logs the
//! event, and picks the device up when it appears (here a TCP gateway, `mbusctl simulate`,
//! started later on the port the daemon was given).
//!
//! Uses the `mbusctl` binary of the same build (`cargo build -p mbusctl` first when run alone).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::Daemon;

mod support;

fn mbusctl() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(format!("mbusctl{}", std::env::consts::EXE_SUFFIX))
}

fn get(agent: &ureq::Agent, url: &str, cookie: &str) -> serde_json::Value {
    let text = agent
        .get(url)
        .header("Cookie", cookie)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_gateway_that_appears_later_is_picked_up_and_read() {
    // A port nothing listens on (yet).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let device = format!("tcp://127.0.0.1:{port}");
    let mut daemon = Daemon::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--device",
        &device,
        "--baud",
        "9600",
        "--cycle",
        "10s",
    ]);
    let url = daemon.wait_for_web();
    daemon.wait_for("bus device unavailable");

    // The UI is there, with the logger in state err and the event logged.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut login = agent
        .post(format!("{url}/api/v1/login"))
        .content_type("application/json")
        .send(r#"{"username":"admin","password":"123"}"#)
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf: serde_json::Value =
        serde_json::from_str(&login.body_mut().read_to_string().unwrap()).unwrap();
    let changed = agent
        .post(format!("{url}/api/v1/password"))
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", csrf["csrf_token"].as_str().unwrap())
        .content_type("application/json")
        .send(r#"{"current":"123","new":"gateway-later"}"#)
        .unwrap();
    assert_eq!(changed.status(), 200);
    let status = get(&agent, &format!("{url}/api/v1/status"), &cookie);
    assert_eq!(status["state"], "err", "{status}");
    let mut logged = false;
    for _ in 0..100 {
        let events = get(&agent, &format!("{url}/api/v1/events?kind=E"), &cookie);
        logged = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "device_unavailable");
        if logged {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(logged, "the missing device is in the event log");

    // The gateway appears: the daemon connects, scans, adds the meters and reads them.
    let mut gateway = Command::new(mbusctl())
        .args(["simulate", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--meters", "2", "--baud", "9600"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mbusctl simulate (cargo build -p mbusctl)");
    let mut first = String::new();
    BufReader::new(gateway.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("listening on"), "{first}");
    let scan = daemon.wait_for("scan done");
    assert!(scan.contains("added=2"), "{scan}");
    let cycle = daemon.wait_for("read cycle done");
    assert!(cycle.contains("2 meter(s) read ok, 0 failed"), "{cycle}");
    let status = get(&agent, &format!("{url}/api/v1/status"), &cookie);
    assert_ne!(status["state"], "err", "{status}");
    assert_eq!(status["counts"]["ok"], 2, "{status}");
    assert!(daemon.log.iter().any(|l| l.contains("bus device opened")));
    let _ = gateway.kill();
    let _ = gateway.wait();
    assert!(daemon.terminate().success());
}
