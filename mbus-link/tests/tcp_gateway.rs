//! The TCP transports (blocking and tokio) against an in-process gateway serving the simulated
//! bus on 127.0.0.1, and the simulated bus served on a real port by `GatewayServer`: clients
//! read meters through it as through a transparent gateway, connections share the one bus, an
//! observer sees every exchange, and stopping the server closes the connections and hands the
//! bus back.

mod support;
use mbus_link::sim::{Gateway, GatewayServer, Population, SerialPattern, SimBus, SimConfig};
use mbus_link::tcp::TcpTransport;
use mbus_link::{AsyncMaster, Device, LinkConfig, LinkError, Master, RetryPolicy};
use mbus_proto::address::BaudRate;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use support::at;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn population() -> SimBus {
    population_of(4)
}

fn population_of(meters: usize) -> SimBus {
    let meters = Population::new(meters, SerialPattern::Random)
        .seed(21)
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
fn async_tcp_master_reads_through_a_gateway() {
    let bus = population();
    let secondary = bus.meters()[3].secondary();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut gateway = Gateway::new(bus);
            let start = Instant::now();
            let mut buf = [0u8; 256];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    return gateway.bus().stats();
                }
                if let Some(reply) = gateway.feed(&buf[..n], start.elapsed()) {
                    stream.write_all(&reply.bytes()).await.unwrap();
                }
            }
        });
        // The master runs in a spawned task: its futures are Send.
        let client = tokio::spawn(async move {
            let device: Device = format!("tcp://{address}").parse().unwrap();
            let transport = device.open_async(BaudRate::B2400).await.unwrap();
            let mut master = AsyncMaster::with_config(transport, no_retries());
            let telegrams = master.read_primary(at(2)).await.unwrap();
            assert_eq!(telegrams[0].address(), Some(2));
            let telegrams = master.read_secondary(&secondary).await.unwrap();
            assert_eq!(telegrams[0].secondary_address(), Some(secondary));
            let err = master.read_primary(at(60)).await.unwrap_err();
            assert!(
                matches!(err, LinkError::NoReply { attempts: 1, .. }),
                "{err}"
            );
        });
        client.await.unwrap();
        let stats = server.await.unwrap();
        assert_eq!(stats.requests, 6);
    });
}

#[test]
fn async_devices_that_cannot_be_opened_are_named() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let device: Device = format!("tcp://127.0.0.1:{port}").parse().unwrap();
    let err = rt
        .block_on(device.open_async(BaudRate::B2400))
        .err()
        .unwrap();
    assert!(matches!(err, LinkError::Device { .. }), "{err}");
    let device: Device = "/dev/ttyNOPE-mbus".parse().unwrap();
    let err = rt
        .block_on(device.open_async(BaudRate::B2400))
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("cannot open device /dev/ttyNOPE-mbus"),
        "{err}"
    );
}

#[test]
fn blocking_tcp_master_reads_and_reports_a_closed_gateway() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let bus = population();
    let (hang_up, hang_up_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut gateway = Gateway::new(bus);
        let start = Instant::now();
        let mut buf = [0u8; 256];
        // Serve two requests, then hang up.
        let mut served = 0;
        while served < 2 {
            let n = stream.read(&mut buf).unwrap();
            if let Some(reply) = gateway.feed(&buf[..n], start.elapsed()) {
                stream.write_all(&reply.bytes()).unwrap();
                served += 1;
            }
        }
        hang_up_rx.recv().unwrap();
    });
    let transport = TcpTransport::connect(&address, BaudRate::B2400).unwrap();
    let mut master = Master::with_config(transport, no_retries());
    assert_eq!(master.read_primary(at(1)).unwrap()[0].address(), Some(1));
    hang_up.send(()).unwrap();
    server.join().unwrap();
    let err = master.read_primary(at(1)).unwrap_err();
    assert!(matches!(err, LinkError::Closed | LinkError::Io(_)), "{err}");
}

#[test]
fn two_clients_read_meters_of_the_same_bus_and_the_observer_sees_each_exchange() {
    let exchanges = Arc::new(AtomicU64::new(0));
    let last_connections = Arc::new(AtomicU64::new(0));
    let (seen, connections_seen) = (Arc::clone(&exchanges), Arc::clone(&last_connections));
    let server =
        GatewayServer::start_observed("127.0.0.1:0", population_of(5), move |_, connections| {
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
    assert_eq!(first.read_primary(at(1)).unwrap()[0].address(), Some(1));
    let telegrams = second.read_secondary(&secondary).unwrap();
    assert_eq!(telegrams[0].secondary_address(), Some(secondary));
    let err = first.read_primary(at(77)).unwrap_err();
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
    assert!(first.read_primary(at(1)).is_err());
}

#[test]
fn a_port_in_use_is_an_error_and_a_dropped_server_frees_its_port() {
    let server = GatewayServer::start("127.0.0.1:0", population_of(1)).unwrap();
    let address = server.local_addr();
    assert!(GatewayServer::start(address, population_of(1)).is_err());
    drop(server);
    let again = GatewayServer::start(address, population_of(1)).unwrap();
    assert_eq!(again.local_addr(), address);
}
