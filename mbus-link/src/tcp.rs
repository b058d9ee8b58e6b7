//! Transparent M-Bus-over-TCP gateways (the bytes of the bus, nothing else, on a TCP port):
//! blocking ([`TcpTransport`]) and async ([`AsyncTcpTransport`]).
//!
//! The gateway's line rate is configured on the gateway; the rate given here only sets the
//! timing. Gateways buffer and split frames at packet boundaries, so the latency allowance
//! ([`TCP_LATENCY`]) is larger than for serial converters.

use crate::config::char_times;
use crate::error::LinkError;
use crate::transport::{AsyncTransport, Received, Transport};
use core::time::Duration;
use mbus_proto::address::BaudRate;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Default latency allowance for TCP gateways.
pub const TCP_LATENCY: Duration = Duration::from_millis(250);
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

/// A blocking TCP connection to a transparent gateway.
pub struct TcpTransport {
    stream: TcpStream,
    baud: BaudRate,
    epoch: Instant,
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
                        baud,
                        epoch: Instant::now(),
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
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn latency(&self) -> Duration {
        TCP_LATENCY
    }

    fn baud(&self) -> BaudRate {
        self.baud
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        self.baud = baud;
        Ok(())
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        self.stream.set_nonblocking(true)?;
        let mut scratch = [0u8; 512];
        let result = loop {
            match self.stream.read(&mut scratch) {
                Ok(0) => break Err(LinkError::Closed),
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => break Err(e.into()),
            }
        };
        self.stream.set_nonblocking(false)?;
        result
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        self.stream
            .write_all(bytes)
            .map_err(|e| LinkError::from_write(e, WRITING))?;
        Ok(self.now() + char_times(bytes.len(), self.baud))
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let now = self.now();
        let Some(wait) = deadline.checked_sub(now).filter(|w| !w.is_zero()) else {
            return Ok(Received {
                len: 0,
                error: None,
                at: now,
            });
        };
        self.stream.set_read_timeout(Some(wait))?;
        let len = match self.stream.read(buf) {
            Ok(0) => return Err(LinkError::Closed),
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => 0,
            Err(e) if e.kind() == ErrorKind::Interrupted => 0,
            Err(e) => return Err(e.into()),
        };
        Ok(Received {
            len,
            error: None,
            at: self.now(),
        })
    }
}

/// An async (tokio) TCP connection to a transparent gateway.
pub struct AsyncTcpTransport {
    stream: tokio::net::TcpStream,
    baud: BaudRate,
    epoch: tokio::time::Instant,
}

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
            baud,
            epoch: tokio::time::Instant::now(),
        })
    }
}

impl AsyncTransport for AsyncTcpTransport {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn latency(&self) -> Duration {
        TCP_LATENCY
    }

    fn baud(&self) -> BaudRate {
        self.baud
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        self.baud = baud;
        Ok(())
    }

    async fn clear_input(&mut self) -> Result<(), LinkError> {
        let mut scratch = [0u8; 512];
        loop {
            match self.stream.try_read(&mut scratch) {
                Ok(0) => return Err(LinkError::Closed),
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        tokio::time::timeout(WRITE_TIMEOUT, self.stream.write_all(bytes))
            .await
            .map_err(|_| LinkError::Timeout(WRITING))?
            .map_err(|e| LinkError::from_write(e, WRITING))?;
        Ok(self.now() + char_times(bytes.len(), self.baud))
    }

    async fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let until = self.epoch + deadline;
        let len = match tokio::time::timeout_at(until, self.stream.read(buf)).await {
            Ok(Ok(0)) => return Err(LinkError::Closed),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => 0,
        };
        Ok(Received {
            len,
            error: None,
            at: self.now(),
        })
    }
}
