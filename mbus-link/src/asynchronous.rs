//! The async (tokio) master: the same operations as [`Master`](crate::Master), over an
//! [`AsyncTransport`].

use crate::blocking::link_operations;
use crate::config::LinkConfig;
use crate::error::LinkError;
use crate::master::ops::{AckCommand, ReadAll, ReadSecondary, RequestUd2, Select, Transact};
use crate::master::{Action, MasterCore, Operation};
use crate::telegram::{Reply, SelectOutcome, Telegram};
use crate::transport::AsyncTransport;
use mbus_proto::address::{BaudRate, SecondaryAddress, SecondaryMask, SELECTED_ADDRESS};
use mbus_proto::frame::MAX_FRAME_LEN;

/// A bus master over an [`AsyncTransport`]; method names and results match [`Master`](crate::Master).
///
/// ```
/// use mbus_link::sim::{SimBus, SimConfig, VirtualMeter, templates};
/// use mbus_link::AsyncMaster;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let meter = VirtualMeter::new(3, "00000042C5140B04".parse()?, templates::synthetic(1));
/// let mut master = AsyncMaster::new(SimBus::new(SimConfig::default(), vec![meter]));
/// let telegrams = master.read_primary(3).await?;
/// assert_eq!(telegrams[0].address(), Some(3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AsyncMaster<T> {
    core: MasterCore,
    transport: T,
}

impl<T: AsyncTransport> AsyncMaster<T> {
    /// A master with the default configuration at the transport's current baud rate.
    pub fn new(transport: T) -> AsyncMaster<T> {
        AsyncMaster::with_config(transport, LinkConfig::default())
    }

    /// A master with the given configuration.
    pub fn with_config(transport: T, config: LinkConfig) -> AsyncMaster<T> {
        let core = MasterCore::new(config, transport.baud(), transport.latency());
        AsyncMaster { core, transport }
    }

    /// Runs any operation to completion.
    pub async fn run<O: Operation>(&mut self, op: O) -> Result<O::Output, LinkError> {
        let mut buf = [0u8; MAX_FRAME_LEN];
        let transport = &mut self.transport;
        let mut tx = self.core.begin(op);
        loop {
            match tx.poll() {
                Action::Send(bytes) => {
                    transport.clear_input().await?;
                    let end = transport.send(bytes).await?;
                    tx.sent(end);
                }
                Action::Receive { deadline } => {
                    let r = transport.receive(&mut buf, deadline).await?;
                    tx.received(&buf[..r.len], r.error, r.at);
                }
                Action::SetBaud(baud) => {
                    transport.set_baud(baud)?;
                    tx.baud_set();
                }
                Action::Done(result) => return result,
            }
        }
    }

    link_operations!(async; .await);

    /// Switches master and transport to `baud` without telling any meter.
    pub fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
        self.transport.set_baud(baud)?;
        self.core.set_baud(baud);
        Ok(())
    }
}
