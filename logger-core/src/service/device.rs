//! A bus device that may be missing or fail: [`DeviceTransport`] opens a serial level
//! converter or TCP gateway, drops it when it fails, and opens it again on a later request
//! with exponential backoff, so a converter plugged in (or a gateway started) later is picked
//! up without restarting the logger. [`DeviceHealth`] tells other threads whether the device
//! is there.

use mbus_link::config::LatencyBounds;
use mbus_link::{Device, LinkError, Received, Transport};
use mbus_proto::address::BaudRate;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// First wait before opening a failed device again; doubled after every failed attempt.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait between two attempts to open the device.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Whether the bus device is open, shared with the threads that show it.
#[derive(Debug, Default)]
pub struct DeviceHealth {
    connected: AtomicBool,
    openings: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl DeviceHealth {
    /// The device is open.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// How often the device was opened successfully.
    pub fn openings(&self) -> u64 {
        self.openings.load(Ordering::SeqCst)
    }

    /// Why the device was last lost or could not be opened.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn up(&self) {
        self.openings.fetch_add(1, Ordering::SeqCst);
        self.connected.store(true, Ordering::SeqCst);
    }

    fn down(&self, error: &LinkError) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
        self.connected.store(false, Ordering::SeqCst);
    }
}

/// A device transport that reopens its device after failures.
///
/// Its clock runs on across reopenings (a fresh transport starts its own clock at zero), so
/// bus time never goes backwards for the master above.
pub struct DeviceTransport {
    device: Device,
    baud: BaudRate,
    inner: Option<Box<dyn Transport + Send>>,
    /// Added to the open transport's clock to give this transport's clock.
    offset: Duration,
    /// This transport's clock when the device was lost (it stands still while closed).
    stopped_at: Duration,
    next_attempt: Instant,
    backoff: Duration,
    health: Arc<DeviceHealth>,
}

impl std::fmt::Debug for DeviceTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceTransport")
            .field("device", &self.device)
            .field("open", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl DeviceTransport {
    /// The transport for `device` at `baud`; tries to open it at once (a failure is not an
    /// error: [`DeviceHealth`] tells, and the next request tries again after the backoff).
    pub fn new(device: Device, baud: BaudRate) -> DeviceTransport {
        let mut transport = DeviceTransport {
            device,
            baud,
            inner: None,
            offset: Duration::ZERO,
            stopped_at: Duration::ZERO,
            next_attempt: Instant::now(),
            backoff: FIRST_BACKOFF,
            health: Arc::new(DeviceHealth::default()),
        };
        // The outcome is kept in the health; the next request retries.
        let _ = transport.open();
        transport
    }

    /// The device's health, for other threads.
    pub fn health(&self) -> Arc<DeviceHealth> {
        Arc::clone(&self.health)
    }

    /// The open transport, opening the device if it is closed and the backoff has passed.
    fn open(&mut self) -> Result<&mut Box<dyn Transport + Send>, LinkError> {
        if self.inner.is_none() {
            let now = Instant::now();
            if now < self.next_attempt {
                return Err(LinkError::Device {
                    device: self.device.to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotConnected,
                        format!(
                            "not open; next attempt in {} ms",
                            (self.next_attempt - now).as_millis()
                        ),
                    ),
                });
            }
            match self.device.open(self.baud) {
                Ok(transport) => {
                    tracing::info!(device = %self.device, baud = %self.baud, "bus device opened");
                    self.offset = self.stopped_at.saturating_sub(transport.now());
                    self.inner = Some(transport);
                    self.backoff = FIRST_BACKOFF;
                    self.health.up();
                }
                Err(e) => {
                    tracing::warn!(device = %self.device, error = %e, retry_ms = self.backoff.as_millis() as u64, "bus device unavailable");
                    self.next_attempt = now + self.backoff;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    self.health.down(&e);
                    return Err(e);
                }
            }
        }
        self.inner.as_mut().ok_or(LinkError::Closed)
    }

    /// Takes the outcome of an operation on the open transport: an I/O failure or a closed
    /// connection means the device is gone, so it is closed (and reopened later).
    fn check<T>(&mut self, result: Result<T, LinkError>) -> Result<T, LinkError> {
        if let Err(e @ (LinkError::Io(_) | LinkError::Closed)) = &result {
            tracing::warn!(device = %self.device, error = %e, "bus device lost");
            self.stopped_at = self.now();
            self.inner = None;
            self.next_attempt = Instant::now() + self.backoff;
            self.health.down(e);
        }
        result
    }
}

impl Transport for DeviceTransport {
    fn now(&self) -> Duration {
        match &self.inner {
            Some(t) => t.now() + self.offset,
            None => self.stopped_at,
        }
    }

    fn latency(&self) -> Duration {
        self.inner
            .as_ref()
            .map_or(Duration::from_millis(50), |t| t.latency())
    }

    fn adaptive_latency(&self) -> Option<LatencyBounds> {
        self.inner.as_ref().and_then(|t| t.adaptive_latency())
    }

    fn baud(&self) -> BaudRate {
        self.baud
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        self.baud = baud;
        match &mut self.inner {
            Some(t) => {
                let result = t.set_baud(baud);
                self.check(result)
            }
            None => Ok(()),
        }
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        match &mut self.inner {
            Some(t) => {
                let result = t.clear_input();
                self.check(result)
            }
            None => Ok(()),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        // A device that cannot be opened (or waits for its next attempt) says so itself.
        let result = self.open()?.send(bytes).map(|end| end + self.offset);
        self.check(result)
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let offset = self.offset;
        let result = match &mut self.inner {
            Some(t) => t
                .receive(buf, deadline.saturating_sub(offset))
                .map(|r| Received {
                    at: r.at + offset,
                    ..r
                }),
            None => return Err(LinkError::Closed),
        };
        self.check(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_gateway_is_retried_with_backoff_and_picked_up_when_it_appears() {
        // A port nothing listens on: bind, note it, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let device: Device = format!("tcp://127.0.0.1:{port}").parse().unwrap();
        let mut t = DeviceTransport::new(device, BaudRate::B2400);
        let health = t.health();
        assert!(!health.connected());
        assert!(health.last_error().is_some());
        // Within the backoff the device is not tried again, and asking does not postpone
        // the next attempt.
        let next = t.next_attempt;
        for _ in 0..3 {
            let e = t.send(&[0x10, 0x40, 0x01, 0x41, 0x16]).unwrap_err();
            assert!(e.to_string().contains("next attempt"), "{e}");
        }
        assert_eq!(t.next_attempt, next);
        // The gateway appears; once the backoff has passed the next request opens it.
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        t.next_attempt = Instant::now();
        t.send(&[0x10, 0x40, 0x01, 0x41, 0x16]).unwrap();
        assert!(health.connected());
        assert_eq!(health.openings(), 1);
        let (peer, _) = listener.accept().unwrap();
        // The gateway goes away: the transport closes and says so.
        drop(peer);
        drop(listener);
        let mut buf = [0u8; 8];
        let mut lost = false;
        for _ in 0..50 {
            let deadline = t.now() + Duration::from_millis(20);
            match t.receive(&mut buf, deadline) {
                Err(_) => {
                    lost = true;
                    break;
                }
                Ok(_) => {
                    let _ = t.send(&[0xE5]);
                }
            }
        }
        assert!(lost);
        assert!(!health.connected());
        // Its clock does not go back while closed.
        let stopped = t.now();
        assert_eq!(t.now(), stopped);
    }
}
