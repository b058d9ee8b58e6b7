//! The example programs run as an integrator would run them: decoding a capture file from the
//! libmbus corpus, reading a meter through a simulated TCP gateway, serving a simulated bus,
//! and embedding the logger on a simulated installation.

use mbus_link::mbus_proto::address::{BaudRate, PrimaryAddress};
use mbus_link::sim::{GatewayServer, Population, SerialPattern, SimBus, SimConfig};
use mbus_link::Master;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn corpus() -> PathBuf {
    std::env::var_os("MBUS_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/libmbus"),
        PathBuf::from,
    )
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn simulated_bus(meters: usize) -> SimBus {
    let meters = Population::new(meters, SerialPattern::Sequential)
        .seed(3)
        .build(&[]);
    SimBus::new(SimConfig::default(), meters)
}

#[test]
fn decode_file_prints_every_frame_of_a_capture_and_fails_on_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let frame = std::fs::read_to_string(corpus().join("test-frames/kamstrup_382_005.hex")).unwrap();
    // A capture: the request, the meter's acknowledgement of a reset, and its reply.
    let capture = dir.path().join("capture.hex");
    std::fs::write(&capture, format!("10 5B 05 60 16\nE5\n{frame}")).unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_decode_file"),
        &[capture.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("-- frame 1 at byte 0"), "{text}");
    assert!(text.contains("REQ_UD2"), "{text}");
    assert!(text.contains("-- frame 3 at byte 6"), "{text}");
    assert!(
        text.contains("Id         14839120   Manufacturer KAM"),
        "{text}"
    );
    assert!(text.contains("energy"), "{text}");

    let garbage = dir.path().join("garbage.hex");
    std::fs::write(&garbage, "10 5B 05 60 16 AA BB").unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_decode_file"),
        &[garbage.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 bad frame(s)"));
}

#[test]
fn read_meter_tcp_prints_the_values_of_primary_address_5_and_names_silence() {
    let server = GatewayServer::start("127.0.0.1:0", simulated_bus(6)).unwrap();
    let secondary = server.with_bus(|bus| bus.meters()[4].secondary());
    let gateway = server.local_addr().to_string();

    let out = run(env!("CARGO_BIN_EXE_read_meter_tcp"), &[&gateway]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let ident = format!("meter {:08}", secondary.ident);
    assert!(text.starts_with(&ident), "{text}");
    assert!(
        text.lines().filter(|l| l.starts_with("  ")).count() >= 3,
        "{text}"
    );

    let out = run(env!("CARGO_BIN_EXE_read_meter_tcp"), &[&gateway, "60"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no reply from primary address 60"));
    let out = run(env!("CARGO_BIN_EXE_read_meter_tcp"), &[&gateway, "254"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("broadcast"));
    assert_eq!(server.stop().stats().requests, 2 + 3);
}

#[test]
fn serve_simulated_bus_answers_until_its_input_closes() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_serve_simulated_bus"))
        .args(["127.0.0.1:0", "3"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first.strip_prefix("listening on ").unwrap().to_string();
    {
        let device = format!("tcp://{address}")
            .parse::<mbus_link::Device>()
            .unwrap();
        let mut master = Master::new(device.open(BaudRate::B2400).unwrap());
        assert_eq!(
            master
                .read_primary(PrimaryAddress::new(3).unwrap())
                .unwrap()[0]
                .address(),
            Some(3)
        );
    }
    child.stdin.take().unwrap().flush().unwrap();
    assert!(child.wait().unwrap().success());
    let summary = lines.next().unwrap().unwrap();
    // SND_NKE (a new master does not know the meter's sequence), then REQ_UD2.
    assert!(
        summary.starts_with("1 connection(s), 2 request(s), 2 replies"),
        "{summary}"
    );
}

#[test]
fn embedded_logger_reads_a_simulated_installation_for_a_virtual_day() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_embedded_logger"),
        &[dir.path().to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("scan found 5 meter(s)"), "{text}");
    // Every 15 minutes for a day; each cycle stores one reading per meter.
    let cycles: usize = text
        .lines()
        .find_map(|l| {
            l.split(" read cycle(s) committed")
                .next()
                .filter(|_| l.contains("committed"))
        })
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!((95..=97).contains(&cycles), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("meter ")).count(),
        5,
        "{text}"
    );
}
