//! Transparent M-Bus-over-TCP gateways (the bytes of the bus, nothing else, on a TCP port):
//! blocking ([`TcpTransport`]) and async ([`AsyncTcpTransport`]).
//!
//! The gateway's line rate is configured on the gateway; the rate given here only sets the
//! timing. Gateways buffer and split frames at packet boundaries and the network adds its own
//! delay, so the latency allowance is adaptive: it starts at [`TCP_LATENCY`] and then follows
//! the measured round trip (plus a jitter margin) within [`TCP_LATENCY_BOUNDS`], see
//! [`LatencyAllowance`](crate::config::LatencyAllowance). On a local gateway that saves most of
//! the 250 ms every exchange used to wait after a reply.

use crate::config::LatencyBounds;
use crate::connection::{bytes_read, line_clock_methods, LineClock};
use crate::error::LinkError;
use crate::transport::{Received, Transport};
use core::time::Duration;
use mbus_proto::address::BaudRate;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
#[cfg(feature = "tokio")]
use {
    crate::transport::AsyncTransport,
    tokio::io::{AsyncReadExt, AsyncWriteExt},
};

/// Latency allowance for TCP gateways until a round trip has been measured (and again after a
/// request met silence).
pub const TCP_LATENCY: Duration = Duration::from_millis(250);
/// Bounds of the adaptive TCP latency allowance: at least 20 ms (gateway packetisation,
/// scheduling), at most 1 s (slow links).
pub const TCP_LATENCY_BOUNDS: LatencyBounds = LatencyBounds {
    min: Duration::from_millis(20),
    max: Duration::from_millis(1000),
};
/// How long connecting may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing a request may take before the gateway counts as stuck.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
const WRITING: &str = "writing a request to the gateway";

fn resolve(address: &str) -> Result<Vec<SocketAddr>, LinkError> {
    let device_error = |source| LinkError::Device {
        device: format!("tcp://{address}"),
        source,
    };
    let addrs: Vec<SocketAddr> = address.to_socket_addrs().map_err(device_error)?.collect();
    if addrs.is_empty() {
        return Err(device_error(std::io::Error::new(
            ErrorKind::NotFound,
            "the host name resolves to no address",
        )));
    }
    Ok(addrs)
}

/// Reads with the non-blocking `read` until nothing is pending; a closed connection is an error.
fn discard_pending(
    mut read: impl FnMut(&mut [u8]) -> std::io::Result<usize>,
) -> Result<(), LinkError> {
    let mut scratch = [0u8; 512];
    loop {
        match read(&mut scratch) {
            Ok(0) => return Err(LinkError::Closed),
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A blocking TCP connection to a transparent gateway.
pub struct TcpTransport {
    stream: TcpStream,
    line: LineClock,
}

impl TcpTransport {
    /// Connects to `address` (`host:port`); `baud` is the gateway's line rate.
    pub fn connect(address: &str, baud: BaudRate) -> Result<TcpTransport, LinkError> {
        let mut last = None;
        for addr in resolve(address)? {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
                    return Ok(TcpTransport {
                        stream,
                        line: LineClock::new(baud),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(LinkError::Device {
            device: format!("tcp://{address}"),
            source: last.unwrap_or_else(|| std::io::Error::from(ErrorKind::NotFound)),
        })
    }
}

impl Transport for TcpTransport {
    line_clock_methods! {
        latency: TCP_LATENCY,
        adaptive: Some(TCP_LATENCY_BOUNDS),
        // A transparent gateway sets its line rate itself.
        set_baud: |_connection, baud| {}
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        self.stream.set_nonblocking(true)?;
        let result = discard_pending(|scratch| self.stream.read(scratch));
        self.stream.set_nonblocking(false)?;
        result
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        let result = self.stream.write_all(bytes);
        self.line.written(bytes.len(), result, WRITING)
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let stream = &mut self.stream;
        self.line.read_until(deadline, |wait| {
            stream.set_read_timeout(Some(wait))?;
            match stream.read(buf) {
                Ok(0) => Err(LinkError::Closed),
                result => bytes_read(result),
            }
        })
    }
}

#[cfg(feature = "tokio")]
/// An async (tokio) TCP connection to a transparent gateway.
pub struct AsyncTcpTransport {
    stream: tokio::net::TcpStream,
    line: LineClock,
}

#[cfg(feature = "tokio")]
impl AsyncTcpTransport {
    /// Connects to `address` (`host:port`); `baud` is the gateway's line rate.
    pub async fn connect(address: &str, baud: BaudRate) -> Result<AsyncTcpTransport, LinkError> {
        let device_error = |source| LinkError::Device {
            device: format!("tcp://{address}"),
            source,
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address))
            .await
            .map_err(|_| {
                device_error(std::io::Error::new(
                    ErrorKind::TimedOut,
                    "connecting timed out",
                ))
            })?
            .map_err(device_error)?;
        stream.set_nodelay(true)?;
        Ok(AsyncTcpTransport {
            stream,
            line: LineClock::new(baud),
        })
    }
}

#[cfg(feature = "tokio")]
impl AsyncTransport for AsyncTcpTransport {
    line_clock_methods! {
        latency: TCP_LATENCY,
        adaptive: Some(TCP_LATENCY_BOUNDS),
        // A transparent gateway sets its line rate itself.
        set_baud: |_connection, baud| {}
    }

    async fn clear_input(&mut self) -> Result<(), LinkError> {
        discard_pending(|scratch| self.stream.try_read(scratch))
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        let write = self.stream.write_all(bytes);
        self.line
            .write_within(bytes.len(), WRITE_TIMEOUT, WRITING, write)
            .await
    }

    async fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let read = async {
            match self.stream.read(buf).await? {
                0 => Err(LinkError::Closed),
                n => Ok(n),
            }
        };
        self.line.read_before(deadline, read).await
    }
}
