//! Working side by side with libmbus's tools on `mbusctl simulate` over TCP:
//!
//! - a secondary address printed by `mbusctl scan`, pasted into a libmbus-style select, selects
//!   that meter: the select is built the way libmbus builds it from the text (SND_UD to 253,
//!   CI 0x52; the ident digits as little-endian BCD, then the remaining eight characters as
//!   bytes in the order written) and sent over a raw TCP socket;
//! - `mbusctl read --reset never` sends only what libmbus's request tool sends (no SND_NKE).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

mod support;

use support::{mbusctl, stdout_json, Simulator};

/// The simulator with its statistics kept in a file.
struct Counted {
    sim: Simulator,
    stats: PathBuf,
    _dir: tempfile::TempDir,
}

impl Counted {
    fn start(args: &[&str]) -> Counted {
        let dir = tempfile::tempdir().unwrap();
        let stats = dir.path().join("stats.json");
        let stats_arg = stats.to_str().unwrap().to_owned();
        let mut all = vec!["--stats", &stats_arg];
        all.extend_from_slice(args);
        Counted {
            sim: Simulator::start(&all),
            stats,
            _dir: dir,
        }
    }

    /// The statistics file once it counts at least `replies` replies (it is rewritten after
    /// each reply has been forwarded).
    fn stats_after(&self, replies: u64) -> serde_json::Value {
        for _ in 0..200 {
            let text = std::fs::read_to_string(&self.stats).unwrap_or_default();
            if let Ok(stats) = serde_json::from_str::<serde_json::Value>(&text) {
                if stats["replies"].as_u64().unwrap_or(0) >= replies {
                    return stats;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the simulator never counted {replies} replies");
    }
}

/// The 8 address bytes libmbus puts in its select for a 16-character address text.
fn libmbus_select_bytes(text: &str) -> [u8; 8] {
    let hex = |i: usize| u8::from_str_radix(&text[i..i + 2], 16).unwrap();
    // Ident: the 8 digits are BCD, least significant pair first on the wire.
    let ident = [hex(6), hex(4), hex(2), hex(0)];
    [
        ident[0],
        ident[1],
        ident[2],
        ident[3],
        hex(8),
        hex(10),
        hex(12),
        hex(14),
    ]
}

/// SND_UD (C 0x53) to 253 with CI 0x52 and the 8 address bytes.
fn select_frame(address: [u8; 8]) -> Vec<u8> {
    let mut body = vec![0x53, 0xFD, 0x52];
    body.extend_from_slice(&address);
    let checksum = body.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    let len = body.len() as u8;
    let mut frame = vec![0x68, len, len, 0x68];
    frame.extend_from_slice(&body);
    frame.extend_from_slice(&[checksum, 0x16]);
    frame
}

/// Reads until `want` bytes arrived or the socket stays silent for its read timeout.
fn read_some(stream: &mut TcpStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while got.len() < want {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(e) => panic!("{e}"),
        }
    }
    got
}

#[test]
fn a_libmbus_select_with_the_scanned_text_selects_that_meter() {
    let sim = Simulator::start(&[
        "--meters",
        "3",
        "--population",
        "random",
        "--seed",
        "5",
        "--baud",
        "38400",
    ]);
    let output = mbusctl(&[
        "scan",
        "--device",
        &sim.device(),
        "--secondary",
        "--baud",
        "38400",
        "--format",
        "json",
        "--timeout-ms",
        "60",
        "--gap-ms",
        "40",
    ]);
    assert!(output.status.success(), "{output:?}");
    let report = stdout_json(&output);
    let meters = report["meters"].as_array().unwrap();
    assert_eq!(meters.len(), 3, "{report}");

    let mut stream = TcpStream::connect(&sim.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    for meter in meters {
        let text = meter["secondary"].as_str().unwrap();
        let bytes = libmbus_select_bytes(text);
        stream.write_all(&select_frame(bytes)).unwrap();
        assert_eq!(read_some(&mut stream, 1), [0xE5], "select {text}");
        // REQ_UD2 to 253: the selected meter answers with its long header.
        stream.write_all(&[0x10, 0x5B, 0xFD, 0x58, 0x16]).unwrap();
        let reply = read_some(&mut stream, 19);
        assert!(reply.len() >= 19 && reply[0] == 0x68, "{reply:02X?}");
        let total = usize::from(reply[1]) + 6;
        let reply = [reply.clone(), read_some(&mut stream, total - reply.len())].concat();
        assert_eq!(reply.len(), total, "{reply:02X?}");
        assert_eq!(&reply[7..15], &bytes, "the meter {text} answered");
        assert_eq!(meter["manufacturer"], "SIM");
    }

    // The manufacturer written as a 16-bit number (high byte first) names no meter.
    let text = meters[0]["secondary"].as_str().unwrap();
    let swapped = format!(
        "{}{}{}{}",
        &text[..8],
        &text[10..12],
        &text[8..10],
        &text[12..]
    );
    stream
        .write_all(&select_frame(libmbus_select_bytes(&swapped)))
        .unwrap();
    assert_eq!(read_some(&mut stream, 1), [] as [u8; 0], "select {swapped}");
}

#[test]
fn read_with_reset_never_sends_no_snd_nke() {
    let sim = Counted::start(&["--meters", "3", "--baud", "38400"]);
    let device = sim.sim.device();
    let read = |reset: Option<&str>| {
        let mut args = vec![
            "read",
            "--device",
            &device,
            "--address",
            "2",
            "--baud",
            "38400",
        ];
        if let Some(reset) = reset {
            args.extend(["--reset", reset]);
        }
        let output = mbusctl(&args);
        assert!(output.status.success(), "{output:?}");
    };
    // libmbus's way: REQ_UD2 and its reply, nothing else.
    read(Some("never"));
    let stats = sim.stats_after(1);
    assert_eq!(stats["requests"], 1, "{stats}");
    assert_eq!(stats["request_bytes"], 5, "one short frame: {stats}");
    // The statistics show addresses as libmbus writes them, with the letters beside them.
    assert_eq!(stats["meters"][1]["secondary"], "100000012D4D0104");
    assert_eq!(stats["meters"][1]["manufacturer"], "SIM");
    // The default resets first: SND_NKE (answered by E5), then REQ_UD2.
    read(None);
    let stats = sim.stats_after(3);
    assert_eq!(stats["requests"], 3, "{stats}");
    assert_eq!(stats["replies"], 3, "{stats}");
    read(Some("always"));
    let stats = sim.stats_after(5);
    assert_eq!(stats["requests"], 5, "{stats}");
}
