//! BACnet/IP ReadPropertyMultiple for 250 meters × 10 registers.
//!
//! - `rpm/present-values of one meter` and `rpm/all properties of one meter`: the gateway's
//!   work per request in-process (decode, read, encode), criterion.
//! - A measured run over UDP on 127.0.0.1 against the real server thread: 2 500 requests
//!   (10 rounds over the 250 meter devices, each request the present-value, status-flags
//!   and units of the meter's 10 inputs), one at a time; prints objects/s and the p50/p99
//!   round trip.
//! - The memory the served objects take: bytes allocated by building the model, per 1000
//!   objects (devices and inputs).
//!
//! `cargo bench -p benches --bench bacnet -- --measurement-time 3`

use criterion::{black_box, Criterion, Throughput};
use logger_core::bacnet::apdu::{self, encode_read_multiple, Apdu, PropertyRef, ReadAccessSpec};
use logger_core::bacnet::bvll::Bvlc;
use logger_core::bacnet::gateway::{Gateway, Role};
use logger_core::bacnet::model::{prop, Model};
use logger_core::bacnet::npdu::{NetAddr, Npdu};
use logger_core::bacnet::tag::{ObjectId, OBJECT_ANALOG_INPUT};
use logger_core::bacnet::Server;
use logger_core::config::Config;
use logger_core::meter_index::Assignment;
use logger_core::status::StatusBoard;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

#[path = "support/installation.rs"]
mod installation;
use installation::{reading, METERS, REGISTERS};

const NET: u16 = 1000;

// Counts the bytes live on the heap (the workspace's one counting allocator).
#[global_allocator]
static ALLOCATOR: alloc_counter::Counting = alloc_counter::Counting;

fn config(port: u16) -> Config {
    installation::config(
        "bacnet",
        serde_json::json!({"enabled": true, "port": port, "address": "127.0.0.1",
                           "start_instance": 1000, "device_instance": 999, "network_number": NET}),
    )
}

fn model(config: &Config) -> Model {
    let mut assignment = Assignment::default();
    assignment.update(&config.meters);
    Model::load(config, &assignment, &StatusBoard::default(), |m| {
        Some(reading(m))
    })
}

fn request(instance: u32, properties: &[u32]) -> Vec<u8> {
    let specs: Vec<ReadAccessSpec> = (0..REGISTERS)
        .map(|i| ReadAccessSpec {
            object: ObjectId::new(OBJECT_ANALOG_INPUT, i),
            properties: properties
                .iter()
                .map(|&property| PropertyRef {
                    property,
                    index: None,
                })
                .collect(),
        })
        .collect();
    let apdu = Apdu::ConfirmedRequest {
        segmented: false,
        more_follows: false,
        segmented_response_accepted: false,
        max_segments: 0,
        max_apdu: 5,
        invoke_id: 1,
        segment: None,
        service: apdu::SERVICE_READ_PROPERTY_MULTIPLE,
        data: &encode_read_multiple(&specs),
    }
    .encode();
    let npdu = Npdu {
        destination: Some(NetAddr {
            net: NET,
            mac: instance.to_be_bytes()[1..].to_vec(),
        }),
        expecting_reply: true,
        ..Npdu::apdu(&apdu)
    };
    Bvlc::OriginalUnicast(&npdu.encode()).encode()
}

const READ: [u32; 3] = [prop::PRESENT_VALUE, prop::STATUS_FLAGS, prop::UNITS];

fn in_process(c: &mut Criterion) {
    let config = config(47808);
    let local = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 47808);
    let mut gateway = Gateway::new(model(&config), NET, local, Role::Plain, Instant::now());
    let from = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 40000);
    let requests: Vec<Vec<u8>> = (0..METERS).map(|m| request(1000 + m, &READ)).collect();
    let all: Vec<Vec<u8>> = (0..METERS)
        .map(|m| request(1000 + m, &[prop::ALL]))
        .collect();
    let mut group = c.benchmark_group("rpm");
    group.throughput(Throughput::Elements(u64::from(REGISTERS)));
    let mut i = 0;
    group.bench_function("present-values of one meter (10 inputs)", |b| {
        b.iter(|| {
            i = (i + 1) % requests.len();
            black_box(gateway.handle(from, &requests[i], Instant::now()))
        })
    });
    group.bench_function("all properties of one meter (10 inputs)", |b| {
        b.iter(|| {
            i = (i + 1) % all.len();
            black_box(gateway.handle(from, &all[i], Instant::now()))
        })
    });
    group.finish();
}

fn memory() {
    let config = config(47808);
    let before = alloc_counter::live_bytes();
    let model = model(&config);
    let after = alloc_counter::live_bytes();
    let objects = model.meters.len() + model.meters.iter().map(|d| d.points.len()).sum::<usize>();
    println!(
        "bacnet memory: {objects} objects (devices and inputs) take {} bytes, {:.0} bytes per 1000 objects",
        after - before,
        (after - before) as f64 * 1000.0 / objects as f64
    );
    black_box(model);
}

fn over_udp() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let config = config(port);
    let dir = installation::data_dir(&config);
    let server = Server::start(&config, dir.path()).expect("server");
    let to = server.local_addr().expect("listening");
    let client = UdpSocket::bind("127.0.0.1:0").expect("client socket");
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let requests: Vec<Vec<u8>> = (0..METERS).map(|m| request(1000 + m, &READ)).collect();
    let mut buf = [0u8; 2048];
    let mut times = Vec::with_capacity(requests.len() * 10);
    let start = Instant::now();
    for _ in 0..10 {
        for r in &requests {
            let t = Instant::now();
            client.send_to(r, to).expect("send");
            let (n, _) = client.recv_from(&mut buf).expect("answer");
            times.push(t.elapsed());
            assert!(n > 300, "a full answer");
        }
    }
    let total = start.elapsed();
    times.sort();
    let objects = times.len() as f64 * f64::from(REGISTERS);
    println!(
        "bacnet over UDP: {} ReadPropertyMultiple of {REGISTERS} inputs × 3 properties in {:.2} s: \
         {:.0} objects/s, round trip p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        times.len(),
        total.as_secs_f64(),
        objects / total.as_secs_f64(),
        times[times.len() / 2].as_secs_f64() * 1e6,
        times[times.len() * 99 / 100].as_secs_f64() * 1e6,
        times[times.len() - 1].as_secs_f64() * 1e6,
    );
    server.stop();
}

fn main() {
    memory();
    over_udp();
    let mut c = Criterion::default().configure_from_args();
    in_process(&mut c);
    c.final_summary();
}
