//! Device names as users write them: a serial path or `tcp://host:port`.

use crate::config::LatencyBounds;
use crate::error::LinkError;
use crate::serial::{AsyncSerialTransport, SerialTransport};
use crate::tcp::{AsyncTcpTransport, TcpTransport};
use crate::transport::{AsyncTransport, Received, Transport};
use core::fmt;
use core::str::FromStr;
use core::time::Duration;
use mbus_proto::address::BaudRate;

/// Where the bus is.
///
/// ```
/// use mbus_link::Device;
/// assert_eq!("tcp://10.0.0.5:10001".parse::<Device>()?, Device::Tcp("10.0.0.5:10001".into()));
/// assert_eq!("/dev/ttyUSB0".parse::<Device>()?, Device::Serial("/dev/ttyUSB0".into()));
/// # Ok::<(), mbus_link::DeviceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Device {
    /// A serial port path (`/dev/ttyUSB0`, `COM3`).
    Serial(String),
    /// A transparent TCP gateway, `host:port`.
    Tcp(String),
}

/// Why a device name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Nothing was given.
    #[error("empty device name (give a serial port path or tcp://HOST:PORT)")]
    Empty,
    /// `tcp://` without `host:port`.
    #[error("'{0}' lacks host:port after tcp:// (e.g. tcp://192.168.1.10:10001)")]
    TcpAddress(String),
}

impl FromStr for Device {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Device, DeviceError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DeviceError::Empty);
        }
        match s.strip_prefix("tcp://") {
            Some(rest) => {
                let rest = rest.trim_end_matches('/');
                match rest.rsplit_once(':') {
                    Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                        Ok(Device::Tcp(rest.to_string()))
                    }
                    _ => Err(DeviceError::TcpAddress(s.to_string())),
                }
            }
            None => Ok(Device::Serial(s.to_string())),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Serial(path) => f.write_str(path),
            Device::Tcp(addr) => write!(f, "tcp://{addr}"),
        }
    }
}

impl Device {
    /// Opens a blocking transport to the device at `baud`.
    pub fn open(&self, baud: BaudRate) -> Result<Box<dyn Transport + Send>, LinkError> {
        Ok(match self {
            Device::Serial(path) => Box::new(SerialTransport::open(path, baud)?),
            Device::Tcp(addr) => Box::new(TcpTransport::connect(addr, baud)?),
        })
    }
}

impl Device {
    /// Opens an async transport to the device at `baud` (inside a tokio runtime).
    pub async fn open_async(&self, baud: BaudRate) -> Result<AsyncDeviceTransport, LinkError> {
        Ok(match self {
            Device::Serial(path) => {
                AsyncDeviceTransport::Serial(AsyncSerialTransport::open(path, baud)?)
            }
            Device::Tcp(addr) => {
                AsyncDeviceTransport::Tcp(AsyncTcpTransport::connect(addr, baud).await?)
            }
        })
    }
}

/// An async transport to a [`Device`] chosen at run time.
pub enum AsyncDeviceTransport {
    /// A serial port.
    Serial(AsyncSerialTransport),
    /// A TCP gateway.
    Tcp(AsyncTcpTransport),
}

impl AsyncTransport for AsyncDeviceTransport {
    fn now(&self) -> Duration {
        match self {
            AsyncDeviceTransport::Serial(t) => t.now(),
            AsyncDeviceTransport::Tcp(t) => t.now(),
        }
    }

    fn latency(&self) -> Duration {
        match self {
            AsyncDeviceTransport::Serial(t) => t.latency(),
            AsyncDeviceTransport::Tcp(t) => t.latency(),
        }
    }

    fn adaptive_latency(&self) -> Option<LatencyBounds> {
        match self {
            AsyncDeviceTransport::Serial(t) => t.adaptive_latency(),
            AsyncDeviceTransport::Tcp(t) => t.adaptive_latency(),
        }
    }

    fn baud(&self) -> BaudRate {
        match self {
            AsyncDeviceTransport::Serial(t) => t.baud(),
            AsyncDeviceTransport::Tcp(t) => t.baud(),
        }
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        match self {
            AsyncDeviceTransport::Serial(t) => t.set_baud(baud),
            AsyncDeviceTransport::Tcp(t) => t.set_baud(baud),
        }
    }

    async fn clear_input(&mut self) -> Result<(), LinkError> {
        match self {
            AsyncDeviceTransport::Serial(t) => t.clear_input().await,
            AsyncDeviceTransport::Tcp(t) => t.clear_input().await,
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        match self {
            AsyncDeviceTransport::Serial(t) => t.send(bytes).await,
            AsyncDeviceTransport::Tcp(t) => t.send(bytes).await,
        }
    }

    async fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        match self {
            AsyncDeviceTransport::Serial(t) => t.receive(buf, deadline).await,
            AsyncDeviceTransport::Tcp(t) => t.receive(buf, deadline).await,
        }
    }
}
