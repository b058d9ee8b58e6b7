//! Modbus TCP register image for 250 meters × 10 registers.
//!
//! - `modbus/build the image`: the layout and every block filled from in-memory readings
//!   (what the server does after each read cycle, less the store reads), criterion.
//! - `modbus/answer one meter block`: one read of a meter's 68 registers answered from the
//!   image in-process, criterion.
//! - A measured run over TCP on 127.0.0.1 against the real server thread: 2 500 reads of a
//!   meter's whole block (10 rounds over the 250 meters), one at a time on one connection;
//!   prints registers/s and the p50/p99 round trip.
//!
//! `cargo bench -p benches --bench modbus -- --measurement-time 3`

use criterion::{black_box, Criterion, Throughput};
use logger_core::config::Config;
use logger_core::meter_index::Assignment;
use logger_core::modbus::layout::{HEADER, SLOT};
use logger_core::modbus::{answer, Image, Layout, Server};
use logger_core::status::StatusBoard;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;
use tokio_modbus::Request;

#[path = "support/installation.rs"]
mod installation;
use installation::{reading, METERS, REGISTERS};

/// Registers of one meter's block that hold something: the header and 10 slots.
const USED: u16 = HEADER + SLOT * REGISTERS as u16;

fn config(port: u16) -> Config {
    installation::config(
        "modbus",
        serde_json::json!({"enabled": true, "port": port, "address": "127.0.0.1",
                           "block_size": 128}),
    )
}

fn layout(config: &Config) -> Layout {
    let mut assignment = Assignment::default();
    assignment.update(&config.meters);
    Layout::new(config, &assignment)
}

fn in_process(c: &mut Criterion) {
    let config = config(502);
    let board = StatusBoard::default();
    let mut group = c.benchmark_group("modbus");
    group.throughput(Throughput::Elements(u64::from(METERS)));
    group.bench_function("build the image (250 meters)", |b| {
        b.iter(|| black_box(Image::build(&layout(&config), &board, |m| Some(reading(m)))))
    });
    let image = Image::build(&layout(&config), &board, |m| Some(reading(m)));
    group.throughput(Throughput::Elements(u64::from(USED)));
    let mut meter = 0u16;
    group.bench_function("answer one meter block (68 registers)", |b| {
        b.iter(|| {
            meter = (meter + 1) % METERS as u16;
            let request = Request::ReadInputRegisters(meter * 128, USED);
            black_box(answer(&image, None, 1, &request))
        })
    });
    group.finish();
}

fn over_tcp() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let config = config(port);
    let dir = installation::data_dir(&config);
    let started = Instant::now();
    let server = Server::start(&config, dir.path()).expect("server");
    println!(
        "modbus start with the image of {METERS} meters read from the store: {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    let to = server.local_addr().expect("listening");
    let mut client = TcpStream::connect(to).expect("connect");
    client.set_nodelay(true).expect("nodelay");
    let mut times = Vec::with_capacity(METERS as usize * 10);
    let mut answer = vec![0u8; 9 + 2 * usize::from(USED)];
    let start = Instant::now();
    for round in 0..10u16 {
        for meter in 0..METERS as u16 {
            let address = (meter * 128).to_be_bytes();
            let count = USED.to_be_bytes();
            let request = [
                0,
                round as u8,
                0,
                0,
                0,
                6,
                1,
                4,
                address[0],
                address[1],
                count[0],
                count[1],
            ];
            let t = Instant::now();
            client.write_all(&request).expect("send");
            client.read_exact(&mut answer).expect("answer");
            times.push(t.elapsed());
            assert_eq!(answer[7], 4, "registers, not an exception");
        }
    }
    let total = start.elapsed();
    times.sort();
    let registers = times.len() as f64 * f64::from(USED);
    println!(
        "modbus over TCP: {} reads of {USED} registers in {:.2} s: {:.0} registers/s \
         ({:.0} meter blocks/s), round trip p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        times.len(),
        total.as_secs_f64(),
        registers / total.as_secs_f64(),
        times.len() as f64 / total.as_secs_f64(),
        times[times.len() / 2].as_secs_f64() * 1e6,
        times[times.len() * 99 / 100].as_secs_f64() * 1e6,
        times[times.len() - 1].as_secs_f64() * 1e6,
    );
    server.stop();
}

fn main() {
    over_tcp();
    let mut c = Criterion::default().configure_from_args();
    in_process(&mut c);
    c.final_summary();
}
