//! The simulated bus served as a transparent M-Bus TCP gateway on a real socket, in real time:
//! what `mbusctl simulate` runs, and what an integration test starts to give the code under test
//! a `tcp://` device with meters behind it.
//!
//! Each connection gets a thread that puts the request bytes on the bus as they arrive and
//! forwards the replies as they cross the line (in pieces of at most [`FORWARD_SLOT`] bus
//! time), so the client sees a gateway's timing. Connections share the one bus, like clients
//! of a real gateway share its line.
//!
//! ```
//! use mbus_link::sim::{GatewayServer, Population, SerialPattern, SimBus, SimConfig};
//! use mbus_link::Master;
//! use mbus_proto::address::{BaudRate, PrimaryAddress};
//!
//! let meters = Population::new(3, SerialPattern::Sequential).build(&[]);
//! let server = GatewayServer::start("127.0.0.1:0", SimBus::new(SimConfig::default(), meters))?;
//! let mut master = Master::new(server.device().open(BaudRate::B2400)?);
//! let telegrams = master.read_primary(PrimaryAddress::new(2)?)?;
//! assert_eq!(telegrams[0].address(), Some(2));
//! drop(master);
//! let bus = server.stop();
//! assert!(bus.stats().requests >= 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{Gateway, SimBus};
use crate::device::Device;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Reply bytes are forwarded in pieces spanning at most this much bus time.
pub const FORWARD_SLOT: Duration = Duration::from_millis(10);

/// How often a connection thread that waits for bytes looks whether the server stops.
const STOP_POLL: Duration = Duration::from_millis(50);

/// Called after every exchange (request bytes in, replies out) with the bus as it is then and
/// the number of connections accepted so far.
type Observer = dyn Fn(&SimBus, u64) + Send + Sync;

/// What the accept thread and the connection threads share.
struct Shared {
    gateway: Mutex<Gateway>,
    stop: AtomicBool,
    connections: AtomicU64,
    start: Instant,
    observer: Option<Box<Observer>>,
}

impl Shared {
    fn gateway(&self) -> MutexGuard<'_, Gateway> {
        // A connection thread that panicked leaves the bus as it was after its last exchange.
        self.gateway.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A simulated bus behind a TCP port; stops (and closes every connection) on [`stop`] or drop.
///
/// [`stop`]: GatewayServer::stop
pub struct GatewayServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl GatewayServer {
    /// Serves `bus` on `listen` (port 0 picks a free port; see [`local_addr`]).
    ///
    /// [`local_addr`]: GatewayServer::local_addr
    pub fn start(listen: impl ToSocketAddrs, bus: SimBus) -> io::Result<GatewayServer> {
        GatewayServer::launch(listen, bus, None)
    }

    /// Like [`start`](GatewayServer::start), and calls `observer` after every exchange with
    /// the bus and the number of connections accepted so far (to keep statistics current, say).
    pub fn start_observed(
        listen: impl ToSocketAddrs,
        bus: SimBus,
        observer: impl Fn(&SimBus, u64) + Send + Sync + 'static,
    ) -> io::Result<GatewayServer> {
        GatewayServer::launch(listen, bus, Some(Box::new(observer)))
    }

    fn launch(
        listen: impl ToSocketAddrs,
        bus: SimBus,
        observer: Option<Box<Observer>>,
    ) -> io::Result<GatewayServer> {
        let listener = TcpListener::bind(listen)?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            gateway: Mutex::new(Gateway::new(bus)),
            stop: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            start: Instant::now(),
            observer,
        });
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("sim-gateway-accept".into())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(GatewayServer {
            address,
            shared,
            accept: Some(accept),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// The server as a device (`tcp://127.0.0.1:PORT`), ready for [`Device::open`].
    pub fn device(&self) -> Device {
        Device::Tcp(self.address.to_string())
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Looks at the bus (its statistics, its meters) between exchanges.
    pub fn with_bus<R>(&self, f: impl FnOnce(&SimBus) -> R) -> R {
        f(self.shared.gateway().bus())
    }

    /// Stops accepting, closes every connection, waits for the threads and returns the bus.
    pub fn stop(mut self) -> SimBus {
        self.shutdown();
        self.shared.gateway().bus().clone()
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let Some(accept) = self.accept.take() else {
            return;
        };
        // Wake the accept call; it sees the flag and returns its connection threads.
        let _ = TcpStream::connect_timeout(&self.address, STOP_POLL * 10);
        if let Ok(connections) = accept.join() {
            for connection in connections {
                let _ = connection.join();
            }
        }
    }
}

impl Drop for GatewayServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Accepts until the server stops; returns the connection threads to join.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) -> Vec<JoinHandle<()>> {
    let mut threads = Vec::new();
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("sim-gateway-connection".into())
            .spawn(move || {
                // A client that goes away is the end of its connection, not an error.
                let _ = serve(stream, &shared);
            });
        if let Ok(thread) = spawned {
            threads.push(thread);
        }
        threads.retain(|t| !t.is_finished());
    }
    threads
}

/// Serves one client: request bytes onto the bus, replies back after their bus time.
fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(STOP_POLL))?;
    let mut buf = [0u8; 512];
    while !shared.stop.load(Ordering::SeqCst) {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let received = buf.get(..n).unwrap_or_default();
        let reply = {
            let mut gateway = shared.gateway();
            let reply = gateway.feed(received, shared.start.elapsed());
            if let Some(observer) = &shared.observer {
                observer(gateway.bus(), shared.connections.load(Ordering::Relaxed));
            }
            reply
        };
        // Forward the reply (and echo) as it crosses the bus, in pieces of a few milliseconds.
        for (at, bytes) in reply.map(|r| r.pieces(FORWARD_SLOT)).unwrap_or_default() {
            if let Some(wait) = at.checked_sub(shared.start.elapsed()) {
                std::thread::sleep(wait);
            }
            stream.write_all(&bytes)?;
        }
    }
    Ok(())
}
