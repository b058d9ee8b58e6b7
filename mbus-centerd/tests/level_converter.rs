//! The level-converter bridge end to end: `mbus-centerd` on a simulated bus with the bridge
//! on, `mbusctl read` and `mbusctl scan` through it as PC software would, a second program
//! refused while one has the bus, scheduled reads pausing meanwhile and resuming afterwards.
//!
//! Uses the `mbusctl` binary of the same build (`cargo build -p mbusctl` when testing this
//! crate alone).

use logger_core::config::{Config, ConfigStore};
use logger_core::events::{self, EventCode};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output};
use std::time::Duration;
use support::fleet::free_port;
use support::{mbusctl, Daemon};

mod support;

fn run_mbusctl(args: &[&str]) -> Output {
    Command::new(mbusctl()).args(args).output().unwrap()
}

fn stdout_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn pc_software_reads_and_scans_through_the_bridge_while_reads_pause() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut config = Config::default();
    config.level_converter.enabled = true;
    config.level_converter.tcp_port = port;
    config.level_converter.baud = Some(9600);
    ConfigStore::new(dir.path()).save(&config).unwrap();

    let mut daemon = Daemon::simulated(dir.path(), "10s");
    daemon.wait_for_cycles(1);
    let device = format!("tcp://127.0.0.1:{port}");
    let configured: BTreeSet<String> = ConfigStore::new(dir.path())
        .load_or_default()
        .unwrap()
        .meters
        .iter()
        .map(|m| m.secondary.unwrap().to_string())
        .collect();

    // A read by primary address, as a program on the PC does it.
    let read = run_mbusctl(&[
        "read",
        "--device",
        &device,
        "--baud",
        "9600",
        "--address",
        "2",
    ]);
    let read = run_mbusctl_ok(read);
    assert!(read.contains("energy") && read.contains("kWh"), "{read}");

    // A secondary scan finds exactly the meters the logger has configured.
    let scan = stdout_json(&run_mbusctl(&[
        "scan",
        "--device",
        &device,
        "--baud",
        "9600",
        "--secondary",
        "--format",
        "json",
        "--quiet",
        "--timeout-ms",
        "200",
        "--gap-ms",
        "80",
    ]));
    let found: BTreeSet<String> = scan["meters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["secondary"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(found, configured);

    // One program holds the bus (raw bytes: SND_NKE to 1 is acknowledged with E5) …
    let mut program = TcpStream::connect(("127.0.0.1", port)).unwrap();
    program
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    program.write_all(&[0x10, 0x40, 0x01, 0x41, 0x16]).unwrap();
    let mut ack = [0u8; 1];
    program.read_exact(&mut ack).unwrap();
    assert_eq!(ack, [0xE5]);
    // … a second one is told why it cannot have it …
    let mut second = TcpStream::connect(("127.0.0.1", port)).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reason = String::new();
    second.read_to_string(&mut reason).unwrap();
    assert!(reason.contains("level converter busy"), "{reason}");
    assert!(
        reason.contains(&format!("{} has the bus", program.local_addr().unwrap())),
        "{reason}"
    );
    // … and so is mbusctl.
    let refused = run_mbusctl(&[
        "read",
        "--device",
        &device,
        "--baud",
        "9600",
        "--address",
        "1",
    ]);
    assert!(!refused.status.success());

    // A read slot passes while the program has the bus: it is not read.
    daemon.wait_for("read slot passed unread");
    drop(program);
    // Reads resume once the program has gone.
    daemon.wait_for("reads resume");
    daemon.wait_for_cycles(1);
    let status = daemon.terminate();
    assert!(status.success(), "{status:?}\n{:#?}", daemon.log);
    let last_cycle = daemon
        .log
        .iter()
        .rfind(|l| l.contains("read cycle done"))
        .unwrap();
    assert!(
        last_cycle.contains("3 meter(s) read ok, 0 failed"),
        "{last_cycle}"
    );

    let log = events::read(dir.path()).unwrap();
    let of = |code| log.iter().filter(move |e| e.code == code);
    // Three sessions (read, scan, the raw program), each with its end.
    assert_eq!(of(EventCode::LevelConverter).count(), 3, "{log:#?}");
    assert!(of(EventCode::LevelConverter).all(|e| e.went.is_some()));
    assert!(of(EventCode::LevelConverter).all(|e| e
        .message
        .contains("has the bus at 9600 baud; scheduled reads paused")));
    assert_eq!(of(EventCode::LevelConverterRefused).count(), 2, "{log:#?}");
    let resumed: Vec<_> = of(EventCode::ReadsResumed)
        .filter(|e| !e.message.contains(": 0 read slot(s)"))
        .collect();
    assert!(!resumed.is_empty(), "{log:#?}");
    assert!(
        resumed[0]
            .message
            .contains("read slot(s) of 3 meter(s) missed"),
        "{}",
        resumed[0].message
    );
}

fn run_mbusctl_ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}
