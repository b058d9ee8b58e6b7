//! Serial level converters, 8E1 at 300…38400 baud: blocking ([`SerialTransport`], `serialport`)
//! and async ([`AsyncSerialTransport`], `tokio-serial`).

use crate::config::char_times;
use crate::error::LinkError;
use crate::transport::{AsyncTransport, Received, Transport};
use core::future::Future;
use core::time::Duration;
use mbus_proto::address::BaudRate;
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};
use std::io::{ErrorKind, Read, Write};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Default latency allowance for serial converters (USB adapters deliver in ~16 ms slices).
pub const SERIAL_LATENCY: Duration = Duration::from_millis(20);

const WRITING: &str = "writing a request to the serial port";

/// Twice the line time of the request plus a second: a write taking longer is stuck.
fn write_timeout(len: usize, baud: BaudRate) -> Duration {
    char_times(len, baud) * 2 + Duration::from_secs(1)
}

fn builder(path: &str, baud: BaudRate) -> serialport::SerialPortBuilder {
    serialport::new(path, baud.bps())
        .data_bits(DataBits::Eight)
        .parity(Parity::Even)
        .stop_bits(StopBits::One)
        .flow_control(FlowControl::None)
        .timeout(Duration::from_millis(10))
}

fn device_error(path: &str, e: serialport::Error) -> LinkError {
    LinkError::Device {
        device: path.to_string(),
        source: std::io::Error::from(e),
    }
}

/// A blocking serial port configured 8E1.
pub struct SerialTransport {
    port: Box<dyn SerialPort>,
    baud: BaudRate,
    epoch: Instant,
}

impl SerialTransport {
    /// Opens `path` (e.g. `/dev/ttyUSB0`) at `baud`, 8 data bits, even parity, 1 stop bit.
    pub fn open(path: &str, baud: BaudRate) -> Result<SerialTransport, LinkError> {
        let port = builder(path, baud)
            .open()
            .map_err(|e| device_error(path, e))?;
        Ok(SerialTransport {
            port,
            baud,
            epoch: Instant::now(),
        })
    }
}

impl Transport for SerialTransport {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn latency(&self) -> Duration {
        SERIAL_LATENCY
    }

    fn baud(&self) -> BaudRate {
        self.baud
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        self.port.set_baud_rate(baud.bps())?;
        self.baud = baud;
        Ok(())
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        Ok(self.port.clear(ClearBuffer::Input)?)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        self.port
            .set_timeout(write_timeout(bytes.len(), self.baud))?;
        self.port
            .write_all(bytes)
            .and_then(|()| self.port.flush())
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
        self.port.set_timeout(wait)?;
        let len = match self.port.read(buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => 0,
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

/// An async serial port (tokio) configured 8E1.
pub struct AsyncSerialTransport {
    port: tokio_serial::SerialStream,
    baud: BaudRate,
    epoch: tokio::time::Instant,
}

impl AsyncSerialTransport {
    /// Opens `path` at `baud`, 8E1. Must be called inside a tokio runtime.
    pub fn open(path: &str, baud: BaudRate) -> Result<AsyncSerialTransport, LinkError> {
        let port = tokio_serial::SerialStream::open(&builder(path, baud))
            .map_err(|e| device_error(path, e))?;
        Ok(AsyncSerialTransport {
            port,
            baud,
            epoch: tokio::time::Instant::now(),
        })
    }
}

impl AsyncTransport for AsyncSerialTransport {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn latency(&self) -> Duration {
        SERIAL_LATENCY
    }

    fn baud(&self) -> BaudRate {
        self.baud
    }

    fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        SerialPort::set_baud_rate(&mut self.port, baud.bps())?;
        self.baud = baud;
        Ok(())
    }

    fn clear_input(&mut self) -> impl Future<Output = Result<(), LinkError>> + Send {
        let result = SerialPort::clear(&self.port, ClearBuffer::Input).map_err(LinkError::from);
        async move { result }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        let write = async {
            AsyncWriteExt::write_all(&mut self.port, bytes).await?;
            AsyncWriteExt::flush(&mut self.port).await
        };
        tokio::time::timeout(write_timeout(bytes.len(), self.baud), write)
            .await
            .map_err(|_| LinkError::Timeout(WRITING))?
            .map_err(|e| LinkError::from_write(e, WRITING))?;
        Ok(self.now() + char_times(bytes.len(), self.baud))
    }

    async fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let until = self.epoch + deadline;
        let len =
            match tokio::time::timeout_at(until, AsyncReadExt::read(&mut self.port, buf)).await {
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
