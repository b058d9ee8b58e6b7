//! `mbusctl simulate` serving the simulated bus over TCP, read by the library's TCP master and by
//! `mbusctl read`.

use mbus_link::tcp::TcpTransport;
use mbus_link::{LinkError, Master};
use mbus_proto::address::{BaudRate, PrimaryAddress, SecondaryAddress};
use mbus_proto::request;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod support;
use support::MBUSCTL;

/// `mbusctl simulate` that writes its statistics to a file in a folder of its own.
struct Simulator {
    inner: support::Simulator,
    address: String,
    stats: PathBuf,
    _folder: tempfile::TempDir,
}

impl Simulator {
    fn start(extra: &[&str]) -> Simulator {
        let folder = tempfile::tempdir().unwrap();
        let stats = folder.path().join("stats.json");
        let stats_arg = stats.to_str().expect("temporary path is UTF-8");
        let args: Vec<&str> = ["--stats", stats_arg]
            .iter()
            .chain(extra)
            .copied()
            .collect();
        let inner = support::Simulator::start(&args);
        Simulator {
            address: inner.address.clone(),
            inner,
            stats,
            _folder: folder,
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
    fn terminate(self) -> String {
        self.inner.terminate()
    }
}

#[test]
fn tcp_master_reads_the_served_bus_and_stats_are_kept() {
    let sim = Simulator::start(&["--meters", "5", "--population", "clustered", "--seed", "3"]);
    let stats = sim.stats();
    assert_eq!(stats["meters"].as_array().unwrap().len(), 5);
    let secondary: SecondaryAddress = stats["meters"][3]["secondary"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let transport = TcpTransport::connect(&sim.address, BaudRate::B2400).unwrap();
    let mut master = Master::new(transport);
    let telegrams = master
        .read_primary(PrimaryAddress::new(2).unwrap())
        .unwrap();
    assert_eq!(telegrams[0].address(), Some(2));
    let telegrams = master.read_secondary(&secondary).unwrap();
    assert_eq!(telegrams[0].secondary_address(), Some(secondary));
    assert!(matches!(
        master.snd_nke(PrimaryAddress::new(99).unwrap()),
        Err(LinkError::NoReply { .. })
    ));
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
    let sim = Simulator::start(&["--meters", "3", "--duplicate-primary", "1"]);

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

    let out = sim.read(&["--secondary", "100000012D4D0104"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Id         10000001   Manufacturer SIM"),
        "{text}"
    );
    assert!(text.contains("energy"), "{text}");

    // Meter 1 and meter 3 share primary address 1: their replies collide. Their response
    // delays differ by more than the listen after a reply, so the slower meter's E5 may only
    // show up in the next exchange, as an unexpected reply; either way the read fails as
    // garbled.
    let out = sim.read(&["--address", "1"]);
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("garbled reply from primary address 1 (collision or noise)")
            || err.contains("unexpected reply from primary address 1"),
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

fn corpus() -> PathBuf {
    std::env::var_os("MBUS_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpus/libmbus"
            ))
        },
        PathBuf::from,
    )
}

fn corpus_frame(name: &str) -> PathBuf {
    let path = corpus().join("test-frames").join(name);
    assert!(
        path.exists(),
        "{} is missing (set MBUS_CORPUS)",
        path.display()
    );
    path
}

/// A raw TCP client of the simulator, as libmbus or a terminal program talks to a gateway.
struct Raw(TcpStream);

impl Raw {
    fn connect(sim: &Simulator) -> Raw {
        let stream = TcpStream::connect(&sim.address).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Raw(stream)
    }

    fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).unwrap();
    }

    /// Everything that arrives until the line has been quiet for `quiet` (at most 5 s).
    fn collect(&mut self, quiet: Duration) -> Vec<u8> {
        let mut out = Vec::new();
        let start = Instant::now();
        let mut last = Instant::now();
        let mut buf = [0u8; 512];
        while last.elapsed() < quiet && start.elapsed() < Duration::from_secs(5) {
            match self.0.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    last = Instant::now();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("{e}"),
            }
        }
        out
    }

    /// Sends a request and returns the reply (the line quiet for 400 ms ends it).
    fn ask(&mut self, request: &[u8]) -> Vec<u8> {
        self.send(request);
        self.collect(Duration::from_millis(400))
    }
}

fn telegram_body(frame: &[u8]) -> &[u8] {
    // After C, A, CI and the ident, manufacturer, version, medium and access number: the
    // status byte onwards, without checksum and stop byte.
    &frame[16..frame.len() - 2]
}

#[test]
fn a_partial_frame_and_a_pause_do_not_swallow_the_next_request() {
    let sim = Simulator::start(&["--meters", "2"]);
    let mut raw = Raw::connect(&sim);
    raw.send(&[0x10, 0x5B]);
    std::thread::sleep(Duration::from_millis(50));
    let reply = raw.ask(&request::req_ud2(1, true));
    let telegram = mbus_link::ReplyFrame::new(reply).unwrap();
    assert_eq!(telegram.address(), Some(1));
    // The start of a long frame announcing 200 bytes, then quiet.
    raw.send(&[0x68, 0xC8, 0xC8, 0x68, 0x53]);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(raw.ask(&request::snd_nke(2)), [0xE5]);
    assert_eq!(sim.stats()["meters"][0]["reads"], 1);
}

#[test]
fn after_a_garbage_burst_of_any_length_the_next_request_is_answered() {
    let sim = Simulator::start(&["--meters", "1"]);
    let mut raw = Raw::connect(&sim);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for len in [1usize, 2, 3, 6, 17, 64, 150, 261] {
        let burst: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        raw.send(&burst);
        // Whatever the bus sent back, then a pause longer than the burst takes on the line.
        let _ = raw.collect(Duration::from_millis(30));
        std::thread::sleep(Duration::from_millis(30) + Duration::from_micros(4584) * len as u32);
        assert_eq!(raw.ask(&request::snd_nke(1)), [0xE5], "after {burst:02X?}");
    }
}

#[test]
fn captured_telegrams_are_served_as_decode_shows_them() {
    let a = corpus_frame("example_data_01.hex");
    let b = corpus_frame("SEN_Pollustat.hex");
    let sim = Simulator::start(&[
        "--telegram",
        a.to_str().unwrap(),
        "--telegram",
        b.to_str().unwrap(),
    ]);
    let stats = sim.stats();
    assert_eq!(stats["meters"].as_array().unwrap().len(), 2);
    for (address, file) in [("1", &a), ("2", &b)] {
        let out = sim.read(&["--address", address, "--format", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let decoded = decode_json(file);
        assert_eq!(read.as_array().unwrap().len(), 1);
        assert_eq!(records(&read[0]), records(&decoded), "{}", file.display());
        assert_eq!(
            read[0]["header"]["manufacturer"],
            decoded["header"]["manufacturer"]
        );
        assert!(!read[0]["records"].as_array().unwrap().is_empty());
    }
}

/// A telegram's records, with the numbers of real (floating-point) values compared at 32-bit
/// precision: `read` prints the float as sent widened to 64 bits, `decode` at its own 32 bits.
fn records(telegram: &serde_json::Value) -> serde_json::Value {
    let mut records = telegram["records"].clone();
    for record in records.as_array_mut().unwrap() {
        let value = &mut record["value"];
        if value["type"] == "real" {
            for (_, field) in value.as_object_mut().unwrap().iter_mut() {
                if let Some(number) = field.as_f64() {
                    *field = serde_json::json!(f64::from(number as f32));
                }
            }
        }
    }
    records
}

fn decode_json(file: &Path) -> serde_json::Value {
    let out = Command::new(MBUSCTL)
        .args(["decode", "--format", "json"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Three captured telegrams in one file: two that announce more records, then a last one.
fn multi_frame_file(dir: &Path) -> (PathBuf, Vec<PathBuf>, Vec<Vec<u8>>) {
    let parts = [
        corpus_frame("sontex_supercal_531_telegram1.hex"),
        corpus_frame("svm_f22_telegram1.hex"),
        corpus_frame("example_data_01.hex"),
    ];
    let frames: Vec<Vec<u8>> = parts
        .iter()
        .map(|p| mbus_proto::hex::parse_hex(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    let text: String = parts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap() + "\n\n")
        .collect();
    let file = dir.join("sequence.hex");
    std::fs::write(&file, text).unwrap();
    (file, parts.to_vec(), frames)
}

#[test]
fn a_multi_frame_file_is_read_as_a_multi_telegram_meter() {
    let dir = tempfile::tempdir().unwrap();
    let (file, parts, _) = multi_frame_file(dir.path());
    let sim = Simulator::start(&["--telegram", file.to_str().unwrap()]);
    let out = sim.read(&["--address", "1", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let read = read.as_array().unwrap();
    assert_eq!(read.len(), 3);
    for (telegram, part) in read.iter().zip(&parts) {
        assert_eq!(
            records(telegram),
            records(&decode_json(part)),
            "{}",
            part.display()
        );
    }
}

#[test]
fn raw_fcb_toggling_walks_the_sequence_and_a_repeated_fcb_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _, frames) = multi_frame_file(dir.path());
    let sim = Simulator::start(&["--telegram", file.to_str().unwrap()]);
    let mut raw = Raw::connect(&sim);
    assert_eq!(raw.ask(&request::snd_nke(1)), [0xE5]);
    // libmbus: C = 0x7B (FCB set) first, then 0x5B, 0x7B, … alternating.
    let mut ask = |c: u8| {
        let req = [0x10, c, 0x01, c.wrapping_add(1), 0x16];
        raw.ask(&req)
    };
    let first = ask(0x7B);
    assert_eq!(telegram_body(&first), telegram_body(&frames[0]));
    let second = ask(0x5B);
    assert_eq!(telegram_body(&second), telegram_body(&frames[1]));
    let retry = ask(0x5B);
    assert_eq!(retry, second, "an un-toggled FCB repeats the telegram");
    let third = ask(0x7B);
    assert_eq!(telegram_body(&third), telegram_body(&frames[2]));
    // The captured markers are kept: the first two announce more records, the last does not.
    for (reply, more) in [(&first, true), (&second, true), (&third, false)] {
        let telegram = mbus_link::ReplyFrame::new(reply.clone()).unwrap();
        assert_eq!(telegram.more_records_follow(), more);
    }
}

#[test]
fn bad_telegram_files_are_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("odd.hex", "68 03 0", "bad hex"),
        (
            "request.hex",
            "10 5B 01 5C 16",
            "telegram 1: not a slave data frame",
        ),
        (
            "cut.hex",
            "68 0F 0F 68 08 01 72",
            "telegram 1 (file byte 0): not a valid frame",
        ),
        ("empty.hex", "  \n", "no hex bytes"),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = Command::new(MBUSCTL)
            .args(["simulate", "--listen", "127.0.0.1:0", "--telegram"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err}"
        );
    }
    let out = Command::new(MBUSCTL)
        .args(["simulate", "--listen", "127.0.0.1:0", "--telegram"])
        .arg(dir.path().join("missing.hex"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("missing.hex"));
}

#[test]
fn echo_returns_the_request_before_the_reply() {
    let sim = Simulator::start(&["--meters", "1", "--echo"]);
    let mut raw = Raw::connect(&sim);
    let nke = request::snd_nke(1);
    let mut expected = nke.to_vec();
    expected.push(0xE5);
    assert_eq!(raw.ask(&nke), expected);
    // Nobody at 9: only the echo comes back.
    assert_eq!(raw.ask(&request::snd_nke(9)), request::snd_nke(9).to_vec());
}

#[test]
fn deaf_meters_never_answer() {
    let sim = Simulator::start(&["--meters", "3", "--deaf", "1"]);
    assert!(sim.read(&["--address", "2"]).status.success());
    let out = sim.read(&["--address", "3"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("no reply from primary address 3"));
    assert_eq!(sim.stats()["meters"][2]["reads"], 0);
}

#[test]
fn a_babbler_garbles_replies_and_answers_absent_addresses() {
    let sim = Simulator::start(&["--meters", "3", "--babbler", "1"]);
    assert_eq!(sim.stats()["meters"][0]["babbling"], true);
    assert_eq!(sim.stats()["meters"][1]["babbling"], false);
    for address in ["2", "77"] {
        let out = sim.read(&["--address", address]);
        assert_eq!(out.status.code(), Some(5), "address {address}");
        assert!(String::from_utf8(out.stderr)
            .unwrap()
            .contains("garbled reply"));
    }
    let out = Command::new(MBUSCTL)
        .args(["simulate", "--listen", "127.0.0.1:0", "--meters", "2"])
        .args(["--babbler", "2", "--deaf", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn after_the_short_circuit_nothing_answers_and_the_stats_say_so() {
    let sim = Simulator::start(&["--meters", "1", "--short-circuit-after", "5"]);
    let start = Instant::now();
    assert!(sim.read(&["--address", "1"]).status.success());
    assert_eq!(sim.stats()["short_circuit"], false);
    // Bus time runs with the wall clock from the simulator's start.
    std::thread::sleep(Duration::from_millis(5500).saturating_sub(start.elapsed()));
    let out = sim.read(&["--address", "1"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(sim.stats()["short_circuit"], true);
    assert_eq!(sim.stats()["meters"][0]["reads"], 1);
    let summary = sim.terminate();
    assert!(summary.contains("bus short-circuited"), "{summary}");
}

#[test]
fn mixed_bauds_are_reached_after_switching_the_line() {
    let sim = Simulator::start(&["--meters", "6", "--bauds", "2400,9600", "--seed", "2"]);
    let stats = sim.stats();
    let bauds: Vec<u64> = stats["meters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["baud"].as_u64().unwrap())
        .collect();
    let slow = bauds
        .iter()
        .position(|&b| b == 2400)
        .expect("a 2400 baud meter")
        + 1;
    let fast = bauds
        .iter()
        .position(|&b| b == 9600)
        .expect("a 9600 baud meter")
        + 1;
    assert!(sim.read(&["--address", &slow.to_string()]).status.success());
    let out = sim.read(&["--address", &fast.to_string()]);
    assert_eq!(out.status.code(), Some(4), "{bauds:?}");
    // A broadcast baud switch: the 2400 baud meters move to 9600, and so does the line.
    let mut raw = Raw::connect(&sim);
    assert!(raw
        .ask(&request::switch_baud(255, BaudRate::B9600))
        .is_empty());
    for address in [fast, slow] {
        let out = sim.read(&["--address", &address.to_string(), "--baud", "9600"]);
        assert!(
            out.status.success(),
            "{address}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(sim.stats()["meters"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["baud"] == 9600));
}
