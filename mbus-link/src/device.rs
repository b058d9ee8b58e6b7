//! Device names as users write them: a serial path or `tcp://host:port`.

use crate::error::LinkError;
use crate::transport::Transport;
use core::fmt;
use core::str::FromStr;
use mbus_proto::address::BaudRate;
#[cfg(all(feature = "tokio", any(feature = "serial", feature = "tcp")))]
use {
    crate::config::LatencyBounds,
    crate::transport::{AsyncTransport, Received},
    core::time::Duration,
};

/// Where the bus is.
///
/// ```
/// use mbus_link::Device;
/// assert_eq!("tcp://10.0.0.5:10001".parse::<Device>()?, Device::Tcp("10.0.0.5:10001".into()));
/// assert_eq!("/dev/ttyUSB0".parse::<Device>()?, Device::Serial("/dev/ttyUSB0".into()));
/// # Ok::<(), mbus_link::DeviceError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Device {
    /// A serial port path (`/dev/ttyUSB0`, `COM3`).
    Serial(String),
    /// A transparent TCP gateway, `host:port`.
    Tcp(String),
}

/// Why a device name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    ///
    /// A device whose transport this build leaves out (features `serial`, `tcp`) is
    /// [`LinkError::NotBuilt`].
    #[cfg_attr(not(any(feature = "serial", feature = "tcp")), allow(unused_variables))]
    pub fn open(&self, baud: BaudRate) -> Result<Box<dyn Transport + Send>, LinkError> {
        match self {
            #[cfg(feature = "serial")]
            Device::Serial(path) => Ok(Box::new(crate::serial::SerialTransport::open(path, baud)?)),
            #[cfg(feature = "tcp")]
            Device::Tcp(addr) => Ok(Box::new(crate::tcp::TcpTransport::connect(addr, baud)?)),
            #[allow(unreachable_patterns)]
            _ => Err(self.not_built()),
        }
    }

    /// The error for a device whose transport is not in this build.
    #[cfg_attr(all(feature = "serial", feature = "tcp"), allow(dead_code))]
    fn not_built(&self) -> LinkError {
        LinkError::NotBuilt {
            device: self.to_string(),
            feature: match self {
                Device::Serial(_) => "serial",
                Device::Tcp(_) => "tcp",
            },
        }
    }
}

#[cfg(all(feature = "tokio", any(feature = "serial", feature = "tcp")))]
impl Device {
    /// Opens an async transport to the device at `baud` (inside a tokio runtime).
    ///
    /// A device whose transport this build leaves out is [`LinkError::NotBuilt`].
    pub async fn open_async(&self, baud: BaudRate) -> Result<AsyncDeviceTransport, LinkError> {
        match self {
            #[cfg(feature = "serial")]
            Device::Serial(path) => Ok(AsyncDeviceTransport::Serial(
                crate::serial::AsyncSerialTransport::open(path, baud)?,
            )),
            #[cfg(feature = "tcp")]
            Device::Tcp(addr) => Ok(AsyncDeviceTransport::Tcp(
                crate::tcp::AsyncTcpTransport::connect(addr, baud).await?,
            )),
            #[allow(unreachable_patterns)]
            _ => Err(self.not_built()),
        }
    }
}

/// An async transport to a [`Device`] chosen at run time (feature `tokio`).
#[cfg(all(feature = "tokio", any(feature = "serial", feature = "tcp")))]
#[non_exhaustive]
pub enum AsyncDeviceTransport {
    /// A serial port.
    #[cfg(feature = "serial")]
    Serial(crate::serial::AsyncSerialTransport),
    /// A TCP gateway.
    #[cfg(feature = "tcp")]
    Tcp(crate::tcp::AsyncTcpTransport),
}

/// Runs `$body` on the transport inside whichever variant `$self` is.
#[cfg(all(feature = "tokio", any(feature = "serial", feature = "tcp")))]
macro_rules! each_transport {
    ($self:expr, $t:ident => $body:expr) => {
        match $self {
            #[cfg(feature = "serial")]
            AsyncDeviceTransport::Serial($t) => $body,
            #[cfg(feature = "tcp")]
            AsyncDeviceTransport::Tcp($t) => $body,
        }
    };
}

#[cfg(all(feature = "tokio", any(feature = "serial", feature = "tcp")))]
impl AsyncTransport for AsyncDeviceTransport {
    fn now(&self) -> Duration {
        each_transport!(self, t => t.now())
    }

    fn latency(&self) -> Duration {
        each_transport!(self, t => t.latency())
    }

    fn adaptive_latency(&self) -> Option<LatencyBounds> {
        each_transport!(self, t => t.adaptive_latency())
    }

    fn baud(&self) -> BaudRate {
        each_transport!(self, t => t.baud())
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        each_transport!(self, t => t.set_baud(baud))
    }

    async fn clear_input(&mut self) -> Result<(), LinkError> {
        each_transport!(self, t => t.clear_input().await)
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        each_transport!(self, t => t.send(bytes).await)
    }

    async fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        each_transport!(self, t => t.receive(buf, deadline).await)
    }
}
