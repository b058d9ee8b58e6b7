//! BACnet/IP datagrams: every layer's decoder (BVLL, NPDU, APDU, tags, service requests) and
//! the gateway itself must take any bytes without a panic, and keep answering afterwards.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logger_core::bacnet::gateway::{Gateway, Role};
use logger_core::meter_index::Assignment;
use logger_core::bacnet::model::Model;
use logger_core::config::Config;
use logger_core::status::StatusBoard;
use logger_core::storage::{MeterId, Reading};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

const CONFIG: &str = r#"{"version": 2, "bacnet": {"enabled": true, "bbmd_server": true},
  "meters": [{"id": 1, "name": "Heat", "addressing": "primary", "primary": 1, "registers": [
    {"index": 0, "name": "Energy", "unit": "kWh"}, {"index": 1, "name": "Flow", "unit": "m³/h"}]}]}"#;

fn gateway() -> &'static Mutex<Gateway> {
    static GATEWAY: OnceLock<Mutex<Gateway>> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        let config = Config::from_json(CONFIG).expect("valid configuration");
        let mut assignment = Assignment::default();
        assignment.update(&config.meters);
        let model = Model::load(&config, &assignment, &StatusBoard::default(), |m| {
            Some(Reading {
                meter: MeterId(m),
                time: 0,
                status: 0,
                values: vec![Some("1.5".parse().ok()?), None],
            })
        });
        let local = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 47808);
        Mutex::new(Gateway::new(model, 1000, local, Role::Bbmd { peers: Vec::new() }, Instant::now()))
    })
}

fuzz_target!(|input: &[u8]| {
    let _ = logger_core::bacnet::decode_all(input);
    let from = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), 47808);
    let Ok(mut g) = gateway().lock() else {
        return;
    };
    let now = Instant::now();
    for d in g.handle(from, input, now) {
        // Whatever the gateway sends is a well-formed BVLL message.
        assert!(logger_core::bacnet::bvll::Bvlc::decode(&d.bytes).is_ok());
    }
    g.tick(now);
});
