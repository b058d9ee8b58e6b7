//! The daemon's Modbus TCP server read by pymodbus, an independent Modbus implementation, on
//! a simulated bus: every value of every meter in both forms (float32 and scaled int32),
//! the status and the last-read time compared with what `GET /api/v1/meters` reports; the
//! register map's addresses are the ones the server answers; an address without a meter
//! gives exception 2; several connections are served at once; and a burst of random and
//! truncated frames leaves the server answering. Everything runs on 127.0.0.1.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::fleet::free_port;
use support::http::{logged_in, Client};
use support::{peers, Daemon};

mod support;

const BLOCK: u16 = 64;

fn pymodbus_available() -> bool {
    peers::python_module("pymodbus", "pymodbus==3.16.1")
}

/// The daemon on a simulated bus of three meters with its Modbus server on `port`; its data
/// directory, process and web client, after the first read cycle.
fn start(port: u16, word_order: &str) -> (tempfile::TempDir, Daemon, Client) {
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({"version": 2, "modbus": {
        "enabled": true, "address": "127.0.0.1", "port": port, "block_size": BLOCK,
        "word_order": word_order, "int32_decimals": 3}});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let mut daemon = Daemon::simulated(dir.path(), "10s");
    let url = daemon.wait_for_web();
    daemon.wait_for("scan done");
    daemon.wait_for_cycles(1);
    (dir, daemon, logged_in(&url))
}

/// Runs the pymodbus client with `reads`; one answer per read.
fn pymodbus(port: u16, word_order: &str, reads: &[Value]) -> Vec<Value> {
    let mut child = Command::new("python3")
        .arg(peers::script("modbus_client.py"))
        .args(["127.0.0.1", &port.to_string(), word_order])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(reads.to_vec()).to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answers.len(), reads.len());
    answers
}

/// One line of the register map.
#[derive(Debug)]
struct MapLine {
    meter: u32,
    base: u16,
    register: Option<u32>,
    float32: Option<u16>,
    int32: Option<u16>,
    exponent: Option<i32>,
}

fn register_map(c: &mut Client) -> Vec<MapLine> {
    let answer = c.get("/api/v1/modbus/registers.csv");
    assert_eq!(answer.status, 200, "{}", answer.text());
    let text = answer.text();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("meter_id,meter,"));
    lines
        .map(|line| {
            // Meter names of the simulation hold no commas or quotes.
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 14, "{line}");
            MapLine {
                meter: f[0].parse().unwrap(),
                base: f[4].parse().unwrap(),
                register: f[7].parse().ok(),
                float32: f[10].parse().ok(),
                int32: f[11].parse().ok(),
                exponent: f[12].parse().ok(),
            }
        })
        .collect()
}

/// `text` (a decimal such as `-12.3456`) × 10^`decimals` (-9…9), rounded half away from
/// zero, computed on the digits; `None` if it does not fit an int32 (or is its minimum,
/// which means "no value").
fn scaled(text: &str, decimals: i32) -> Option<i32> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    // All digits with the point moved 18 places right, then shifted back.
    let all: i128 = format!("{int}{frac:0<18}").parse().unwrap();
    let divisor = 10i128.pow((18 - decimals) as u32);
    let mut value = all / divisor;
    if (all % divisor) * 2 >= divisor {
        value += 1;
    }
    let value = if negative { -value } else { value };
    i32::try_from(value).ok().filter(|v| *v != i32::MIN)
}

fn status_code(status: &str) -> u64 {
    match status {
        "never_read" => 0,
        "ok" => 1,
        "ok_with_errors" => 2,
        "failed" => 3,
        "encrypted" => 4,
        other => panic!("status {other}"),
    }
}

/// What [`compare_with_api`] found.
#[derive(Debug, Default, PartialEq)]
struct Compared {
    /// Values compared in both forms.
    values: usize,
    /// (meter, register) whose int32 form does not fit 32 bits (read as `0x8000_0000`).
    out_of_range: Vec<(u32, u32)>,
}

/// Reads every meter's status, time and values with pymodbus at the addresses of the
/// register map and compares them with the meters API, retrying while a read cycle lands
/// in between.
fn compare_with_api(port: u16, word_order: &str, c: &mut Client) -> Compared {
    let map = register_map(c);
    let mut reads = Vec::new();
    for line in &map {
        if line.register.is_none() || !reads.iter().any(|r: &Value| r["meter"] == line.meter) {
            reads.push(serde_json::json!({"address": line.base, "type": "uint16", "meter": line.meter, "what": "status"}));
            reads.push(serde_json::json!({"address": line.base + 2, "type": "uint32", "meter": line.meter, "what": "time"}));
        }
        if let (Some(register), Some(f), Some(i), Some(e)) =
            (line.register, line.float32, line.int32, line.exponent)
        {
            reads.push(serde_json::json!({"address": f, "type": "float32", "meter": line.meter, "register": register}));
            reads.push(serde_json::json!({"address": i, "type": "int32", "meter": line.meter, "register": register, "decimals": -e}));
            // The slot's exponent register: which settings the served image follows.
            reads.push(serde_json::json!({"address": i + 2, "type": "int16", "meter": line.meter, "what": "exponent", "expected": e}));
        }
    }
    for _attempt in 0..10 {
        let before = c.get("/api/v1/meters").json();
        let answers = pymodbus(port, word_order, &reads);
        let after = c.get("/api/v1/meters").json();
        if before != after {
            continue; // a read cycle was stored meanwhile
        }
        let meters = after.as_array().unwrap();
        let meter = |id: u32| meters.iter().find(|m| m["id"] == id).unwrap();
        let time_of = |m: &Value| {
            chrono::DateTime::parse_from_rfc3339(m["last_reading"]["time"].as_str().unwrap())
                .unwrap()
                .timestamp()
        };
        let current = reads
            .iter()
            .zip(&answers)
            .all(|(r, a)| match r["what"].as_str() {
                Some("time") => {
                    a.as_i64() == Some(time_of(meter(r["meter"].as_u64().unwrap() as u32)))
                }
                Some("exponent") => a == &r["expected"],
                _ => true,
            });
        if !current {
            std::thread::sleep(Duration::from_millis(300));
            continue; // the server has not picked up the newest cycle or settings yet
        }
        let mut found = Compared::default();
        for (read, answer) in reads.iter().zip(&answers) {
            let m = meter(read["meter"].as_u64().unwrap() as u32);
            if read["what"] == "exponent" {
                continue;
            }
            if read["what"] == "status" {
                assert_eq!(
                    answer.as_u64(),
                    Some(status_code(m["status"]["status"].as_str().unwrap())),
                    "{m}"
                );
                continue;
            }
            let Some(register) = read["register"].as_u64() else {
                continue;
            };
            let shown = m["last_reading"]["values"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["index"] == register)
                .unwrap();
            let Some(text) = shown["value"].as_str() else {
                assert!(
                    answer.is_null() || answer.as_i64() == Some(i64::from(i32::MIN)),
                    "{answer}"
                );
                continue;
            };
            let decimal: f64 = text.parse().unwrap();
            if read["type"] == "float32" {
                assert_eq!(
                    answer.as_f64(),
                    Some(f64::from(decimal as f32)),
                    "{m}\n{read}"
                );
                continue;
            }
            let decimals = read["decimals"].as_i64().unwrap() as i32;
            let expected = scaled(text, decimals);
            let got = answer.as_i64();
            assert_eq!(
                got,
                Some(i64::from(expected.unwrap_or(i32::MIN))),
                "{text} {read}"
            );
            if expected.is_none() {
                found
                    .out_of_range
                    .push((m["id"].as_u64().unwrap() as u32, register as u32));
            }
            found.values += 1;
        }
        return found;
    }
    panic!("no stable moment to compare in 10 attempts");
}

/// A raw Modbus TCP request: MBAP header (transaction 7, protocol 0, unit 1) and `pdu`.
fn frame(pdu: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 7, 0, 0];
    out.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    out.push(1);
    out.extend_from_slice(pdu);
    out
}

/// The answer to one raw request on `stream`: the PDU after the header.
fn exchange(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    stream.write_all(request).unwrap();
    let mut header = [0u8; 7];
    stream.read_exact(&mut header).unwrap();
    let len = usize::from(u16::from_be_bytes([header[4], header[5]])) - 1;
    let mut pdu = vec![0u8; len];
    stream.read_exact(&mut pdu).unwrap();
    pdu
}

/// Sends `count` connections' worth of garbage: random bytes, truncated and over-long
/// frames, wrong protocol ids, zero lengths (a fixed-seed generator, so failures repeat).
fn burst(port: u16, count: usize) {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid = frame(&[4, 0, 0, 0, 10]);
    for i in 0..count {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
            panic!("connection {i} refused");
        };
        stream
            .set_write_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let bytes: Vec<u8> = match i % 4 {
            0 => (0..next() % 300).map(|_| next() as u8).collect(),
            1 => valid[..(next() as usize % valid.len())].to_vec(),
            2 => {
                let mut f = valid.clone();
                let at = next() as usize % f.len();
                f[at] = next() as u8;
                f
            }
            _ => [
                &[0u8, 1, 0, 0, 0, 0, 1][..],
                &[0, 1, 0x12, 0x34, 0, 6, 1, 4, 0, 0, 0, 1],
            ]
            .concat(),
        };
        // The server may close the connection before everything is written.
        let _ = stream.write_all(&bytes);
    }
}

#[test]
fn pymodbus_reads_every_value_as_the_api_shows_it_and_the_server_survives_garbage() {
    if !pymodbus_available() {
        return;
    }
    let port = free_port();
    let (_dir, mut daemon, mut c) = start(port, "high_first");
    let found = compare_with_api(port, "big", &mut c);
    assert!(found.values >= 10, "only {found:?} compared");
    // The simulation's large counters (Wh totals) do not fit with 3 decimals: saved with
    // fewer decimals from the settings API, they do.
    assert!(!found.out_of_range.is_empty(), "{found:?}");
    let overrides: Vec<Value> = found
        .out_of_range
        .iter()
        .map(|(meter, register)| serde_json::json!({"meter": meter, "register": register, "decimals": -3}))
        .collect();
    let mut settings = c.get("/api/v1/settings").json()["modbus"].clone();
    settings["int32_overrides"] = overrides.into();
    let saved = c.post("/api/v1/settings/modbus", settings);
    assert_eq!(saved.status, 200, "{}", saved.text());
    let found = compare_with_api(port, "big", &mut c);
    assert!(found.out_of_range.is_empty(), "{found:?}");
    let values = found.values;

    // No meter has index 3: exception 2 (illegal data address), from both function codes.
    let outside = 3 * BLOCK;
    let answers = pymodbus(
        port,
        "big",
        &[
            serde_json::json!({"address": outside, "count": 2}),
            serde_json::json!({"address": outside - 1, "count": 2, "function": 3}),
            serde_json::json!({"address": 0, "count": 2, "function": 3}),
        ],
    );
    assert_eq!(answers[0], serde_json::json!({"exception": 2}));
    assert_eq!(answers[1], serde_json::json!({"exception": 2}));
    assert!(answers[2].is_array(), "{answers:?}");

    // Several connections at once, each answered; a write is an illegal function.
    let mut streams: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    for s in &mut streams {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(&exchange(s, &frame(&[4, 0, 0, 0, 1]))[..2], [4, 2]);
    }
    assert_eq!(
        exchange(&mut streams[0], &frame(&[6, 0, 0, 0, 1])),
        [0x86, 1]
    );
    assert_eq!(
        exchange(&mut streams[1], &frame(&[0x2B, 0x0E, 1, 0])),
        [0xAB, 1]
    );
    drop(streams);

    burst(port, 2000);
    let after = compare_with_api(port, "big", &mut c);
    assert_eq!(after.values, values);
    assert!(daemon.terminate().success(), "{:#?}", daemon.log);
}

#[test]
fn low_word_first_is_read_as_little_word_order() {
    if !pymodbus_available() {
        return;
    }
    let port = free_port();
    let (_dir, mut daemon, mut c) = start(port, "low_first");
    let found = compare_with_api(port, "little", &mut c);
    assert!(found.values >= 10, "only {found:?} compared");
    assert!(daemon.terminate().success(), "{:#?}", daemon.log);
}
