//! The blocking master: a thin loop over the sans-IO [`master`](crate::master) core.

use crate::config::LinkConfig;
use crate::error::LinkError;
use crate::master::ops::{AckCommand, ReadAll, ReadSecondary, RequestUd2, Select, Transact};
use crate::master::{Action, MasterCore, Operation};
use crate::telegram::{Reply, ReplyFrame, SelectOutcome};
use crate::transport::Transport;
use mbus_proto::address::{BaudRate, LinkAddress, PrimaryAddress, SecondaryAddress, SecondaryMask};
use mbus_proto::frame::MAX_FRAME_LEN;

/// A bus master over a blocking [`Transport`].
///
/// ```
/// use mbus_link::mbus_proto::address::PrimaryAddress;
/// use mbus_link::sim::{SimBus, SimConfig, VirtualMeter, templates};
/// use mbus_link::Master;
///
/// let meter = VirtualMeter::new(5, "12345678C5140B04".parse()?, templates::synthetic(0));
/// let bus = SimBus::new(SimConfig::default(), vec![meter]);
/// let mut master = Master::new(bus);
/// let telegrams = master.read_primary(PrimaryAddress::new(5)?)?;
/// assert_eq!(telegrams[0].address(), Some(5));
/// assert!(master.transport().bus_time().as_millis() > 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Master<T> {
    core: MasterCore,
    transport: T,
}

/// The constructors, the driver loop and the operation methods, identical for the blocking and
/// the async master.
macro_rules! link_operations {
    ($($asyncness:ident)? ; $($await_tokens:tt)*) => {
        /// A master with the default configuration at the transport's current baud rate.
        pub fn new(transport: T) -> Self {
            Self::with_config(transport, LinkConfig::default())
        }

        /// A master with the given configuration.
        pub fn with_config(transport: T, config: LinkConfig) -> Self {
            let core = MasterCore::new(config, transport.baud(), transport.latency());
            let core = match transport.adaptive_latency() {
                Some(bounds) => core.with_adaptive_latency(bounds),
                None => core,
            };
            Self { core, transport }
        }

        /// Runs any operation of [`master::ops`](crate::master::ops) (or your own) to
        /// completion.
        pub $($asyncness)? fn run<O: Operation>(&mut self, op: O) -> Result<O::Output, LinkError> {
            let mut buf = [0u8; MAX_FRAME_LEN];
            let transport = &mut self.transport;
            let mut tx = self.core.begin(op);
            loop {
                match tx.poll() {
                    Action::Send(bytes) => {
                        transport.clear_input()$($await_tokens)*?;
                        let end = transport.send(bytes)$($await_tokens)*?;
                        tx.sent(end);
                    }
                    Action::Receive { deadline } => {
                        let r = transport.receive(&mut buf, deadline)$($await_tokens)*?;
                        let bytes = buf.get(..r.len).unwrap_or(&buf);
                        tx.received(bytes, r.error, r.at);
                    }
                    Action::SetBaud(baud) => {
                        transport.set_baud(baud)?;
                        tx.baud_set();
                    }
                    Action::Done(result) => return result,
                }
            }
        }

        /// SND_NKE (link reset) to `address` (a [`PrimaryAddress`](mbus_proto::address::PrimaryAddress)
        /// or a special [`LinkAddress`](mbus_proto::address::LinkAddress)); resets its frame
        /// count bit. To 255 nobody answers.
        pub $($asyncness)? fn snd_nke(&mut self, address: impl Into<LinkAddress>) -> Result<(), LinkError> {
            self.run(AckCommand::snd_nke(address))$($await_tokens)*
        }

        /// Reads all telegrams of the meter at primary `address` (a
        /// [`PrimaryAddress`](mbus_proto::address::PrimaryAddress); see [`LinkConfig::reset_policy`]
        /// for the SND_NKE before and [`LinkConfig::max_telegrams`] for the telegram limit).
        pub $($asyncness)? fn read_primary(&mut self, address: impl Into<LinkAddress>) -> Result<Vec<ReplyFrame>, LinkError> {
            self.run(ReadAll::primary(address))$($await_tokens)*
        }

        /// Secondary-address select with a mask: clean `E5`, silence or garbage.
        pub $($asyncness)? fn select(&mut self, mask: &SecondaryMask) -> Result<SelectOutcome, LinkError> {
            self.run(Select::new(*mask))$($await_tokens)*
        }

        /// Selects the meter with this exact secondary address and reads all its telegrams via
        /// address 253. It stays selected until the next select, or until any other operation
        /// deselects it first (unless [`LinkConfig::deselect_after_read`] is on); call
        /// `deselect()` at the end of a batch of secondary reads.
        pub $($asyncness)? fn read_secondary(
            &mut self,
            address: &SecondaryAddress,
        ) -> Result<Vec<ReplyFrame>, LinkError> {
            self.run(ReadSecondary::new(*address))$($await_tokens)*
        }

        /// Deselects the selected meter (SND_NKE to 253).
        pub $($asyncness)? fn deselect(&mut self) -> Result<(), LinkError> {
            self.run(AckCommand::snd_nke(LinkAddress::Selected))$($await_tokens)*
        }

        /// One REQ_UD2 with the given frame count bit.
        pub $($asyncness)? fn request_ud2(&mut self, address: impl Into<LinkAddress>, fcb: bool) -> Result<ReplyFrame, LinkError> {
            self.run(RequestUd2::new(address, fcb))$($await_tokens)*
        }

        /// Application reset (CI 0x50), optionally with a subcode.
        pub $($asyncness)? fn application_reset(
            &mut self,
            address: impl Into<LinkAddress>,
            subcode: Option<u8>,
        ) -> Result<(), LinkError> {
            self.run(AckCommand::application_reset(address, subcode))$($await_tokens)*
        }

        /// Switches the meter at `address` to `baud`; after its acknowledgement the master
        /// talks at the new rate.
        pub $($asyncness)? fn switch_baud(&mut self, address: impl Into<LinkAddress>, baud: BaudRate) -> Result<(), LinkError> {
            self.run(AckCommand::switch_baud(address, baud))$($await_tokens)*
        }

        /// Gives the meter at `address` (its primary address, or 253 after a select) the new
        /// primary address `new_address`.
        pub $($asyncness)? fn set_primary_address(
            &mut self,
            address: impl Into<LinkAddress>,
            new_address: PrimaryAddress,
        ) -> Result<(), LinkError> {
            self.run(AckCommand::set_primary_address(address, new_address))$($await_tokens)*
        }

        /// Sends raw bytes and returns the reply (`E5` or a frame); silence and garbage are errors.
        pub $($asyncness)? fn transact(&mut self, request: &[u8]) -> Result<Reply, LinkError> {
            match self.run(Transact::new(request))$($await_tokens)*? {
                Some(reply) => Ok(reply),
                None => Err(LinkError::InvalidRequest("the request was sent without waiting for a reply".into())),
            }
        }

        /// Sends raw bytes without waiting for a reply.
        pub $($asyncness)? fn send_only(&mut self, request: &[u8]) -> Result<(), LinkError> {
            self.run(Transact::send_only(request))$($await_tokens)*.map(|_| ())
        }

        /// The configuration.
        pub fn config(&self) -> &LinkConfig {
            self.core.config()
        }

        /// Replaces the configuration.
        pub fn set_config(&mut self, config: LinkConfig) {
            self.core.set_config(config);
        }

        /// The baud rate the master talks at.
        pub fn baud(&self) -> BaudRate {
            self.core.baud()
        }

        /// The transport.
        pub fn transport(&self) -> &T {
            &self.transport
        }

        /// The transport, mutably (e.g. to change the simulated bus between requests).
        pub fn transport_mut(&mut self) -> &mut T {
            &mut self.transport
        }

        /// Gives the transport back.
        pub fn into_transport(self) -> T {
            self.transport
        }

        /// Switches master and transport to `baud` without telling any meter.
        pub fn set_baud(&mut self, baud: BaudRate) -> Result<(), LinkError> {
            self.transport.set_baud(baud)?;
            self.core.set_baud(baud);
            Ok(())
        }
    };
}
pub(crate) use link_operations;

impl<T: Transport> Master<T> {
    link_operations!(;);
}
