//! The simulated bus served on a real TCP port: clients read meters through it as through a
//! transparent gateway, connections share the one bus, an observer sees every exchange, and
//! stopping the server closes the connections and hands the bus back.

use mbus_link::sim::{GatewayServer, Population, SerialPattern, SimBus, SimConfig};
use mbus_link::{LinkConfig, LinkError, Master, RetryPolicy};
use mbus_proto::address::BaudRate;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn bus(meters: usize) -> SimBus {
    let meters = Population::new(meters, SerialPattern::Random)
        .seed(5)
        .build(&[]);
    SimBus::new(SimConfig::default(), meters)
}

fn no_retries() -> LinkConfig {
    LinkConfig {
        retries: RetryPolicy {
            on_silence: 0,
            on_garbled: 0,
        },
        ..LinkConfig::default()
    }
}

#[test]
fn two_clients_read_meters_of_the_same_bus_and_the_observer_sees_each_exchange() {
    let exchanges = Arc::new(AtomicU64::new(0));
    let last_connections = Arc::new(AtomicU64::new(0));
    let (seen, connections_seen) = (Arc::clone(&exchanges), Arc::clone(&last_connections));
    let server = GatewayServer::start_observed("127.0.0.1:0", bus(5), move |_, connections| {
        seen.fetch_add(1, Ordering::SeqCst);
        connections_seen.store(connections, Ordering::SeqCst);
    })
    .unwrap();
    let secondary = server.with_bus(|bus| bus.meters()[3].secondary());
    assert_eq!(
        server.device().to_string(),
        format!("tcp://{}", server.local_addr())
    );

    let mut first =
        Master::with_config(server.device().open(BaudRate::B2400).unwrap(), no_retries());
    let mut second =
        Master::with_config(server.device().open(BaudRate::B2400).unwrap(), no_retries());
    assert_eq!(first.read_primary(1).unwrap()[0].address(), Some(1));
    let telegrams = second.read_secondary(&secondary).unwrap();
    assert_eq!(telegrams[0].secondary_address(), Some(secondary));
    let err = first.read_primary(77).unwrap_err();
    assert!(
        matches!(err, LinkError::NoReply { attempts: 1, .. }),
        "{err}"
    );

    assert_eq!(server.connections(), 2);
    assert_eq!(last_connections.load(Ordering::SeqCst), 2);
    let requests = server.with_bus(|bus| bus.stats().requests);
    assert!(requests >= 4, "{requests}");
    assert!(exchanges.load(Ordering::SeqCst) >= 4);

    let bus = server.stop();
    assert_eq!(bus.stats().requests, requests);
    // The server closed the connection: the next request finds no gateway.
    assert!(first.read_primary(1).is_err());
}

#[test]
fn a_port_in_use_is_an_error_and_a_dropped_server_frees_its_port() {
    let server = GatewayServer::start("127.0.0.1:0", bus(1)).unwrap();
    let address = server.local_addr();
    assert!(GatewayServer::start(address, bus(1)).is_err());
    drop(server);
    let again = GatewayServer::start(address, bus(1)).unwrap();
    assert_eq!(again.local_addr(), address);
}
