//! `mbusctl simulate` serving the simulated bus over TCP, read by the library's TCP master and by
//! `mbusctl read`.

use mbus_link::tcp::TcpTransport;
use mbus_link::{LinkError, Master};
use mbus_proto::address::{BaudRate, SecondaryAddress};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Output, Stdio};

const MBUSCTL: &str = env!("CARGO_BIN_EXE_mbusctl");

struct Simulator {
    child: Child,
    stdout: BufReader<ChildStdout>,
    address: String,
    stats: PathBuf,
}

impl Simulator {
    fn start(name: &str, extra: &[&str]) -> Simulator {
        let stats =
            std::env::temp_dir().join(format!("mbus-sim-{name}-{}.json", std::process::id()));
        let mut child = Command::new(MBUSCTL)
            .args(["simulate", "--listen", "127.0.0.1:0", "--stats"])
            .arg(&stats)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Simulator {
            child,
            stdout,
            address,
            stats,
        }
    }

    fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&self.stats).unwrap()).unwrap()
    }

    fn read(&self, args: &[&str]) -> Output {
        Command::new(MBUSCTL)
            .args(["read", "--device", &format!("tcp://{}", self.address)])
            .args(args)
            .output()
            .unwrap()
    }

    /// SIGTERM, then what it printed on exit.
    fn terminate(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(self.child.wait().unwrap().success());
        let mut rest = String::new();
        for line in (&mut self.stdout).lines() {
            rest.push_str(&line.unwrap());
            rest.push('\n');
        }
        rest
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stats);
    }
}

#[test]
fn tcp_master_reads_the_served_bus_and_stats_are_kept() {
    let sim = Simulator::start(
        "master",
        &["--meters", "5", "--population", "clustered", "--seed", "3"],
    );
    let stats = sim.stats();
    assert_eq!(stats["meters"].as_array().unwrap().len(), 5);
    let secondary: SecondaryAddress = stats["meters"][3]["secondary"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let transport = TcpTransport::connect(&sim.address, BaudRate::B2400).unwrap();
    let mut master = Master::new(transport);
    let telegrams = master.read_primary(2).unwrap();
    assert_eq!(telegrams[0].address(), Some(2));
    let telegrams = master.read_secondary(&secondary).unwrap();
    assert_eq!(telegrams[0].secondary_address(), Some(secondary));
    assert!(matches!(master.snd_nke(99), Err(LinkError::NoReply { .. })));
    drop(master);

    let stats = sim.stats();
    // SND_NKE + REQ_UD2, select + REQ_UD2 + deselect, then 3 SND_NKE to a missing meter.
    assert_eq!(stats["requests"], 8);
    assert_eq!(stats["meters"][1]["reads"], 1);
    assert_eq!(stats["meters"][3]["reads"], 1);
    assert!(stats["bus_time_seconds"].as_f64().unwrap() > 0.0);

    let summary = sim.terminate();
    assert!(summary.contains("bus time:"), "{summary}");
    assert!(summary.contains("requests: 8"), "{summary}");
    assert!(summary.contains("collisions: 0"), "{summary}");
}

#[test]
fn mbusctl_read_prints_each_format_and_exit_codes_tell_what_failed() {
    let sim = Simulator::start("read", &["--meters", "3", "--duplicate-primary", "1"]);

    let out = sim.read(&["--address", "2", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["kind"], "variable");
    assert_eq!(json[0]["header"]["id"], "10000001");

    let out = sim.read(&["--address", "2", "--format", "xml"]);
    assert!(out.status.success());
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains("<MBusData>") && xml.contains("<Id>10000001</Id>"),
        "{xml}"
    );

    let out = sim.read(&["--secondary", "100000014D2D0104"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Id         10000001   Manufacturer SIM"),
        "{text}"
    );
    assert!(text.contains("energy"), "{text}");

    // Meter 1 and meter 3 share primary address 1: their replies collide.
    let out = sim.read(&["--address", "1"]);
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("garbled reply from primary address 1 (collision or noise)"),
        "{err}"
    );

    let out = sim.read(&["--address", "77"]);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no reply from primary address 77"), "{err}");

    let out = sim.read(&["--address", "2", "--baud", "2401"]);
    assert_eq!(out.status.code(), Some(2));
    let out = sim.read(&["--secondary", "12345"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn mbusctl_read_reports_devices_it_cannot_open() {
    let out = Command::new(MBUSCTL)
        .args(["read", "--device", "/dev/ttyNOPE-mbus", "--address", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("cannot open device /dev/ttyNOPE-mbus"),
        "{err}"
    );

    // A port nobody listens on: bind, learn the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(MBUSCTL)
        .args([
            "read",
            "--device",
            &format!("tcp://127.0.0.1:{port}"),
            "--address",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("cannot open device tcp://127.0.0.1:"));

    let out = Command::new(MBUSCTL)
        .args(["read", "--device", "tcp://nohost", "--address", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
