//! Serial level converters, 8E1 at 300…38400 baud: blocking ([`SerialTransport`], `serialport`)
//! and async ([`AsyncSerialTransport`], `tokio-serial`).

use crate::config::char_times;
use crate::connection::{bytes_read, line_clock_methods, LineClock};
use crate::error::LinkError;
use crate::transport::{Received, Transport};
use core::time::Duration;
use mbus_proto::address::BaudRate;
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};
use std::io::{Read, Write};
#[cfg(feature = "tokio")]
use {
    crate::transport::AsyncTransport,
    core::future::Future,
    tokio::io::{AsyncReadExt, AsyncWriteExt},
};

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
    line: LineClock,
}

impl SerialTransport {
    /// Opens `path` (e.g. `/dev/ttyUSB0`) at `baud`, 8 data bits, even parity, 1 stop bit.
    pub fn open(path: &str, baud: BaudRate) -> Result<SerialTransport, LinkError> {
        let port = builder(path, baud)
            .open()
            .map_err(|e| device_error(path, e))?;
        Ok(SerialTransport {
            port,
            line: LineClock::new(baud),
        })
    }
}

impl Transport for SerialTransport {
    line_clock_methods! {
        latency: SERIAL_LATENCY,
        adaptive: None,
        set_baud: |this, baud| {
            this.port.set_baud_rate(baud.bps())?;
        }
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        Ok(self.port.clear(ClearBuffer::Input)?)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        self.port
            .set_timeout(write_timeout(bytes.len(), self.line.baud()))?;
        let result = self.port.write_all(bytes).and_then(|()| self.port.flush());
        self.line.written(bytes.len(), result, WRITING)
    }

    fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let port = &mut self.port;
        self.line.read_until(deadline, |wait| {
            port.set_timeout(wait)?;
            bytes_read(port.read(buf))
        })
    }
}

#[cfg(feature = "tokio")]
/// An async serial port (tokio) configured 8E1.
pub struct AsyncSerialTransport {
    port: tokio_serial::SerialStream,
    line: LineClock,
}

#[cfg(feature = "tokio")]
impl AsyncSerialTransport {
    /// Opens `path` at `baud`, 8E1. Must be called inside a tokio runtime.
    pub fn open(path: &str, baud: BaudRate) -> Result<AsyncSerialTransport, LinkError> {
        let port = tokio_serial::SerialStream::open(&builder(path, baud))
            .map_err(|e| device_error(path, e))?;
        Ok(AsyncSerialTransport {
            port,
            line: LineClock::new(baud),
        })
    }
}

#[cfg(feature = "tokio")]
impl AsyncTransport for AsyncSerialTransport {
    line_clock_methods! {
        latency: SERIAL_LATENCY,
        adaptive: None,
        set_baud: |this, baud| {
            SerialPort::set_baud_rate(&mut this.port, baud.bps())?;
        }
    }

    fn clear_input(&mut self) -> impl Future<Output = Result<(), LinkError>> + Send {
        let result = SerialPort::clear(&self.port, ClearBuffer::Input).map_err(LinkError::from);
        async move { result }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<Duration, LinkError> {
        let port = &mut self.port;
        let write = async {
            AsyncWriteExt::write_all(port, bytes).await?;
            AsyncWriteExt::flush(port).await
        };
        let limit = write_timeout(bytes.len(), self.line.baud());
        self.line
            .write_within(bytes.len(), limit, WRITING, write)
            .await
    }

    async fn receive(&mut self, buf: &mut [u8], deadline: Duration) -> Result<Received, LinkError> {
        let read = async { Ok(AsyncReadExt::read(&mut self.port, buf).await?) };
        self.line.read_before(deadline, read).await
    }
}
