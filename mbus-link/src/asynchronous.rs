//! The async (tokio) master: the same operations as [`Master`](crate::Master), over an
//! [`AsyncTransport`].

use crate::blocking::link_operations;
use crate::config::LinkConfig;
use crate::error::LinkError;
use crate::master::ops::{AckCommand, ReadAll, ReadSecondary, RequestUd2, Select, Transact};
use crate::master::{Action, MasterCore, Operation};
use crate::telegram::{Reply, ReplyFrame, SelectOutcome};
use crate::transport::AsyncTransport;
use mbus_proto::address::{BaudRate, LinkAddress, PrimaryAddress, SecondaryAddress, SecondaryMask};
use mbus_proto::frame::MAX_FRAME_LEN;

/// A bus master over an [`AsyncTransport`]; method names and results match [`Master`](crate::Master).
///
/// ```
/// use mbus_link::mbus_proto::address::PrimaryAddress;
/// use mbus_link::sim::{SimBus, SimConfig, VirtualMeter, templates};
/// use mbus_link::AsyncMaster;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let meter = VirtualMeter::new(3, "00000042C5140B04".parse()?, templates::synthetic(1));
/// let mut master = AsyncMaster::new(SimBus::new(SimConfig::default(), vec![meter]));
/// let telegrams = master.read_primary(PrimaryAddress::new(3)?).await?;
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
    link_operations!(async; .await);
}
