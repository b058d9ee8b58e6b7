//! The operations a master performs, each a small state machine over exchanges.
//!
//! Run them with [`MasterCore::begin`] (sans-IO) or through the methods of
//! [`Master`](crate::Master) / [`AsyncMaster`](crate::AsyncMaster), which have the same names.

use super::{ExchangeOutcome, ExchangeSpec, MasterCore, Operation, Step};
use crate::config::ResetPolicy;
use crate::error::{Addressee, LinkError};
use crate::telegram::{Reply, ReplyFrame, SelectOutcome};
use mbus_proto::address::{
    BaudRate, LinkAddress, PrimaryAddress, SecondaryAddress, SecondaryMask, BROADCAST_NO_REPLY,
    SELECTED_ADDRESS,
};
use mbus_proto::frame::Frame;
use mbus_proto::request;

/// The outcome of an exchange that calls for `E5`.
fn expect_ack(outcome: Option<ExchangeOutcome>, target: Addressee) -> Result<(), LinkError> {
    match outcome_reply(outcome, target)? {
        Some(Reply::Ack) | None => Ok(()),
        Some(Reply::Frame(t)) => Err(LinkError::UnexpectedFrame {
            address: target,
            expected: "the acknowledgement E5",
            got: describe(&t),
        }),
    }
}

/// The outcome of an exchange that calls for a data frame from a slave.
fn expect_data(
    outcome: Option<ExchangeOutcome>,
    target: Addressee,
) -> Result<ReplyFrame, LinkError> {
    let unexpected = |got: String| LinkError::UnexpectedFrame {
        address: target,
        expected: "an RSP_UD data frame",
        got,
    };
    match outcome_reply(outcome, target)? {
        Some(Reply::Frame(t)) => match t.frame() {
            Frame::Long { control, .. } | Frame::Control { control, .. }
                if !control.is_from_master() =>
            {
                Ok(t)
            }
            _ => Err(unexpected(describe(&t))),
        },
        Some(Reply::Ack) => Err(unexpected("E5".into())),
        None => Err(unexpected("nothing (request sent without waiting)".into())),
    }
}

/// Maps silence, garbage and overload to errors; `None` when no reply was expected.
fn outcome_reply(
    outcome: Option<ExchangeOutcome>,
    target: Addressee,
) -> Result<Option<Reply>, LinkError> {
    match outcome {
        Some(ExchangeOutcome::Reply(r)) => Ok(Some(r)),
        Some(ExchangeOutcome::Sent) => Ok(None),
        Some(ExchangeOutcome::Silence { attempts }) => Err(LinkError::NoReply {
            address: target,
            attempts,
        }),
        Some(ExchangeOutcome::Garbled(reason)) => Err(LinkError::Garbled {
            address: target,
            reason,
        }),
        Some(ExchangeOutcome::Overload) => Err(LinkError::BusOverload),
        None => Err(LinkError::InvalidRequest(
            "operation advanced without an exchange outcome".into(),
        )),
    }
}

fn describe(t: &ReplyFrame) -> String {
    match t.frame() {
        Frame::Ack => "E5".into(),
        Frame::Short { control, address } => {
            format!("short frame C=0x{:02X} A={address}", control.0)
        }
        Frame::Control {
            control,
            address,
            ci,
        } => format!(
            "control frame C=0x{:02X} A={address} CI=0x{ci:02X}",
            control.0
        ),
        Frame::Long {
            control,
            address,
            ci,
            data,
        } => format!(
            "long frame C=0x{:02X} A={address} CI=0x{ci:02X} with {} data bytes",
            control.0,
            data.len()
        ),
    }
}

/// A request whose only reply is `E5`, with what follows a successful acknowledgement.
#[derive(Debug)]
pub struct AckCommand {
    request: Vec<u8>,
    target: Addressee,
    after: AfterAck,
    sent: bool,
}

#[derive(Debug, Clone, Copy)]
enum AfterAck {
    LinkReset(u8),
    ResetFcb(u8),
    Readdress { old: u8, new: u8 },
    SwitchBaud(BaudRate),
    BaudSwitched,
}

impl AckCommand {
    fn new(address: u8, request: &[u8], after: AfterAck) -> AckCommand {
        AckCommand {
            request: request.to_vec(),
            target: Addressee::Primary(address),
            after,
            sent: false,
        }
    }

    /// SND_NKE (link reset) to `address`; to 255 nobody answers, to 253 it deselects.
    pub fn snd_nke(address: impl Into<LinkAddress>) -> AckCommand {
        let address = address.into().byte();
        AckCommand::new(
            address,
            &request::snd_nke(address),
            AfterAck::LinkReset(address),
        )
    }

    /// Application reset, optionally with a subcode.
    pub fn application_reset(address: impl Into<LinkAddress>, subcode: Option<u8>) -> AckCommand {
        let address = address.into().byte();
        AckCommand::new(
            address,
            &request::application_reset(address, subcode),
            AfterAck::ResetFcb(address),
        )
    }

    /// Baud-rate switch; after the acknowledgement (at the old rate) the master switches too.
    pub fn switch_baud(address: impl Into<LinkAddress>, baud: BaudRate) -> AckCommand {
        let address = address.into().byte();
        AckCommand::new(
            address,
            &request::switch_baud(address, baud),
            AfterAck::SwitchBaud(baud),
        )
    }

    /// Writes a new primary address: the meter at `address` (or the selected one, 253) takes
    /// `new_address`, which names one meter (a broadcast or the select address cannot be set).
    pub fn set_primary_address(
        address: impl Into<LinkAddress>,
        new_address: PrimaryAddress,
    ) -> AckCommand {
        let (address, new_address) = (address.into().byte(), new_address.get());
        AckCommand::new(
            address,
            &request::set_primary_address(address, new_address),
            AfterAck::Readdress {
                old: address,
                new: new_address,
            },
        )
    }
}

impl Operation for AckCommand {
    type Output = ();

    fn advance(&mut self, core: &mut MasterCore, last: Option<ExchangeOutcome>) -> Step<()> {
        if !self.sent {
            self.sent = true;
            if let AfterAck::Readdress { new, .. } = self.after {
                // Acknowledged or not, the meter may answer at `new` from now on.
                core.forget_sequence(new);
            }
            let no_reply = Frame::parse_exact(&self.request)
                .ok()
                .and_then(|f| f.address())
                == Some(BROADCAST_NO_REPLY);
            return Step::Exchange(if no_reply {
                ExchangeSpec::send_only(&self.request, self.target)
            } else {
                ExchangeSpec::request(&self.request, self.target)
            });
        }
        if let AfterAck::BaudSwitched = self.after {
            return Step::Done(Ok(()));
        }
        if let Err(e) = expect_ack(last, self.target) {
            return Step::Done(Err(e));
        }
        match self.after {
            AfterAck::BaudSwitched => {}
            AfterAck::LinkReset(a) => core.link_reset(a),
            AfterAck::ResetFcb(a) => core.reset_fcb(a),
            AfterAck::Readdress { old, new } => {
                core.reset_fcb(old);
                core.reset_fcb(new);
            }
            AfterAck::SwitchBaud(baud) => {
                self.after = AfterAck::BaudSwitched;
                return Step::SetBaud(baud);
            }
        }
        Step::Done(Ok(()))
    }

    /// A SND_NKE to 253 is the deselect itself.
    fn replaces_selection(&self) -> bool {
        matches!(self.after, AfterAck::LinkReset(SELECTED_ADDRESS))
    }
}

/// One REQ_UD2 with a given FCB; the master's FCB state is left alone.
#[derive(Debug)]
pub struct RequestUd2 {
    address: u8,
    fcb: bool,
    sent: bool,
}

impl RequestUd2 {
    /// REQ_UD2 to `address` with frame count bit `fcb`.
    pub fn new(address: impl Into<LinkAddress>, fcb: bool) -> RequestUd2 {
        RequestUd2 {
            address: address.into().byte(),
            fcb,
            sent: false,
        }
    }
}

impl Operation for RequestUd2 {
    type Output = ReplyFrame;

    fn advance(&mut self, _: &mut MasterCore, last: Option<ExchangeOutcome>) -> Step<ReplyFrame> {
        let target = Addressee::Primary(self.address);
        if !self.sent {
            self.sent = true;
            return Step::Exchange(ExchangeSpec::request(
                &request::req_ud2(self.address, self.fcb),
                target,
            ));
        }
        Step::Done(expect_data(last, target))
    }
}

/// Reads every telegram of one slave: REQ_UD2 with toggling FCB until a telegram does not end
/// with "more records follow" or the configured limit is reached, after a SND_NKE as
/// [`LinkConfig::reset_policy`](crate::LinkConfig::reset_policy) says.
#[derive(Debug)]
pub struct ReadAll {
    address: u8,
    target: Addressee,
    reset_first: Option<bool>,
    stage: ReadStage,
    telegrams: Vec<ReplyFrame>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadStage {
    Start,
    Resetting,
    Reading,
}

impl ReadAll {
    /// Reads all telegrams of the slave at primary `address` (SND_NKE first as configured).
    pub fn primary(address: impl Into<LinkAddress>) -> ReadAll {
        let address = address.into().byte();
        ReadAll {
            address,
            target: Addressee::Primary(address),
            reset_first: None,
            stage: ReadStage::Start,
            telegrams: Vec::new(),
        }
    }

    /// Reads via address 253 the slave selected beforehand (the select already reset its FCB).
    fn selected(secondary: SecondaryAddress) -> ReadAll {
        ReadAll {
            address: SELECTED_ADDRESS,
            target: Addressee::Secondary(secondary),
            reset_first: Some(false),
            stage: ReadStage::Start,
            telegrams: Vec::new(),
        }
    }

    fn request_next(&self, core: &MasterCore) -> Step<Vec<ReplyFrame>> {
        Step::Exchange(ExchangeSpec::request(
            &request::req_ud2(self.address, core.next_fcb(self.address)),
            self.target,
        ))
    }
}

impl Operation for ReadAll {
    type Output = Vec<ReplyFrame>;

    fn advance(
        &mut self,
        core: &mut MasterCore,
        last: Option<ExchangeOutcome>,
    ) -> Step<Vec<ReplyFrame>> {
        match self.stage {
            ReadStage::Start => {
                let reset = self
                    .reset_first
                    .unwrap_or_else(|| match core.config().reset_policy {
                        ResetPolicy::Always => true,
                        ResetPolicy::WhenUnknown => !core.sequence_known(self.address),
                        ResetPolicy::Never => false,
                    });
                if reset {
                    self.stage = ReadStage::Resetting;
                    return Step::Exchange(ExchangeSpec::request(
                        &request::snd_nke(self.address),
                        self.target,
                    ));
                }
                self.stage = ReadStage::Reading;
                self.request_next(core)
            }
            ReadStage::Resetting => {
                if let Err(e) = expect_ack(last, self.target) {
                    return Step::Done(Err(e));
                }
                core.link_reset(self.address);
                self.stage = ReadStage::Reading;
                self.request_next(core)
            }
            ReadStage::Reading => match expect_data(last, self.target) {
                Err(e) => Step::Done(Err(e)),
                Ok(t) => {
                    core.toggle_fcb(self.address);
                    let more = t.more_records_follow();
                    self.telegrams.push(t);
                    if more && self.telegrams.len() < core.config().max_telegrams {
                        return self.request_next(core);
                    }
                    if !more {
                        core.sequence_complete(self.address);
                    }
                    Step::Done(Ok(std::mem::take(&mut self.telegrams)))
                }
            },
        }
    }
}

/// Secondary-address select with a mask (wildcards allowed).
#[derive(Debug)]
pub struct Select {
    mask: SecondaryMask,
    sent: bool,
}

impl Select {
    /// Select the slaves matching `mask`.
    pub fn new(mask: SecondaryMask) -> Select {
        Select { mask, sent: false }
    }
}

impl Operation for Select {
    type Output = SelectOutcome;

    fn advance(
        &mut self,
        core: &mut MasterCore,
        last: Option<ExchangeOutcome>,
    ) -> Step<SelectOutcome> {
        if !self.sent {
            self.sent = true;
            return Step::Exchange(ExchangeSpec::request(
                &request::select_secondary(&self.mask),
                Addressee::Primary(SELECTED_ADDRESS),
            ));
        }
        core.reset_fcb(SELECTED_ADDRESS);
        core.set_left_selected(None);
        Step::Done(match last {
            Some(ExchangeOutcome::Reply(Reply::Ack)) => Ok(SelectOutcome::Selected),
            Some(ExchangeOutcome::Silence { .. }) => Ok(SelectOutcome::NoReply),
            // A frame in reply to a select is no valid answer: two acks merged, or noise.
            Some(ExchangeOutcome::Reply(Reply::Frame(_)) | ExchangeOutcome::Garbled(_)) => {
                Ok(SelectOutcome::Garbled)
            }
            Some(ExchangeOutcome::Overload) => Err(LinkError::BusOverload),
            Some(ExchangeOutcome::Sent) | None => Err(LinkError::InvalidRequest(
                "select finished without a reply window".into(),
            )),
        })
    }

    fn replaces_selection(&self) -> bool {
        true
    }
}

/// Select one slave by its exact secondary address, read all its telegrams via 253, and deselect
/// if [`LinkConfig::deselect_after_read`](crate::LinkConfig::deselect_after_read) is on.
/// Otherwise the slave stays selected until the next select, or until the master deselects it
/// before any other operation (see [`MasterCore::begin`]).
#[derive(Debug)]
pub struct ReadSecondary {
    address: SecondaryAddress,
    stage: SecondaryStage,
    read: ReadAll,
    result: Option<Vec<ReplyFrame>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecondaryStage {
    Select,
    Read,
    Deselect,
}

impl ReadSecondary {
    /// Read the slave with this secondary address.
    pub fn new(address: SecondaryAddress) -> ReadSecondary {
        ReadSecondary {
            address,
            stage: SecondaryStage::Select,
            read: ReadAll::selected(address),
            result: None,
        }
    }
}

impl Operation for ReadSecondary {
    type Output = Vec<ReplyFrame>;

    fn advance(
        &mut self,
        core: &mut MasterCore,
        last: Option<ExchangeOutcome>,
    ) -> Step<Vec<ReplyFrame>> {
        let target = Addressee::Secondary(self.address);
        match self.stage {
            SecondaryStage::Select if last.is_none() => {
                core.set_left_selected(Some(core.baud()));
                Step::Exchange(ExchangeSpec::request(
                    &request::select_secondary(&SecondaryMask::exact(&self.address)),
                    target,
                ))
            }
            SecondaryStage::Select => {
                if let Err(e) = expect_ack(last, target) {
                    return Step::Done(Err(e));
                }
                core.reset_fcb(SELECTED_ADDRESS);
                self.stage = SecondaryStage::Read;
                self.advance(core, None)
            }
            SecondaryStage::Read => match self.read.advance(core, last) {
                Step::Done(Ok(telegrams)) if !core.config().deselect_after_read => {
                    Step::Done(Ok(telegrams))
                }
                Step::Done(Ok(telegrams)) => {
                    self.result = Some(telegrams);
                    self.stage = SecondaryStage::Deselect;
                    Step::Exchange(ExchangeSpec::deselect(target))
                }
                other => other,
            },
            // The data is complete; a lost deselect acknowledgement does not invalidate it.
            SecondaryStage::Deselect => Step::Done(core.deselected(last.as_ref()).and_then(|()| {
                self.result.take().ok_or_else(|| {
                    LinkError::InvalidRequest("secondary read finished twice".into())
                })
            })),
        }
    }

    fn replaces_selection(&self) -> bool {
        true
    }
}

/// A raw request: any bytes out, `E5` or a frame back.
#[derive(Debug)]
pub struct Transact {
    request: Vec<u8>,
    reply_expected: bool,
    sent: bool,
}

impl Transact {
    /// Send `request` and wait for a reply.
    pub fn new(request: &[u8]) -> Transact {
        Transact {
            request: request.to_vec(),
            reply_expected: true,
            sent: false,
        }
    }

    /// Send `request` without waiting for anything.
    pub fn send_only(request: &[u8]) -> Transact {
        Transact {
            reply_expected: false,
            ..Transact::new(request)
        }
    }

    fn target(&self) -> Addressee {
        match Frame::parse_exact(&self.request) {
            Ok(frame) => frame.address().map_or(Addressee::Raw, Addressee::Primary),
            Err(_) => Addressee::Raw,
        }
    }
}

impl Operation for Transact {
    type Output = Option<Reply>;

    fn advance(
        &mut self,
        _: &mut MasterCore,
        last: Option<ExchangeOutcome>,
    ) -> Step<Option<Reply>> {
        let target = self.target();
        if !self.sent {
            self.sent = true;
            if self.request.is_empty() {
                return Step::Done(Err(LinkError::InvalidRequest(
                    "nothing to send: the request is empty".into(),
                )));
            }
            return Step::Exchange(if self.reply_expected {
                ExchangeSpec::request(&self.request, target)
            } else {
                ExchangeSpec::send_only(&self.request, target)
            });
        }
        Step::Done(outcome_reply(last, target))
    }
}
