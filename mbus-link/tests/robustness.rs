//! Whatever bytes arrive, the master finishes with a result; whatever the master sends, the
//! simulated bus keeps working.

mod support;
use mbus_link::master::{ops, Action, MasterCore, Operation};
use mbus_link::sim::{Gateway, Population, SerialPattern, SimBus, SimConfig};
use mbus_link::{EchoMode, LineError, LinkConfig, ListenAfterFrame, Master};
use mbus_proto::address::BaudRate;
use proptest::prelude::*;
use std::time::Duration;
use support::at;

fn config(echo: u8, listen: u8) -> LinkConfig {
    LinkConfig {
        echo: [EchoMode::Off, EchoMode::On, EchoMode::Auto][usize::from(echo % 3)],
        listen_after_frame: [
            ListenAfterFrame::Return,
            ListenAfterFrame::Gap,
            ListenAfterFrame::Window,
        ][usize::from(listen % 3)],
        ..LinkConfig::default()
    }
}

/// Feeds `chunks` (bytes, milliseconds later, line error?) to `op`; then silence.
fn finishes<O: Operation>(
    core: &mut MasterCore,
    op: O,
    chunks: Vec<(Vec<u8>, u64, bool)>,
) -> Result<(), TestCaseError> {
    let mut tx = core.begin(op);
    let mut now = Duration::ZERO;
    let mut chunks = chunks.into_iter();
    for _ in 0..10_000 {
        match tx.poll() {
            Action::Send(bytes) => {
                prop_assert!(!bytes.is_empty());
                now += Duration::from_millis(20);
                tx.sent(now);
            }
            Action::Receive { deadline } => match chunks.next() {
                Some((bytes, ms, error)) => {
                    now += Duration::from_millis(ms);
                    tx.received(&bytes, error.then_some(LineError::Framing), now);
                }
                None => {
                    now = now.max(deadline);
                    tx.received(&[], None, now);
                }
            },
            Action::SetBaud(_) => tx.baud_set(),
            Action::Done(_) => return Ok(()),
        }
    }
    prop_assert!(false, "the operation did not finish");
    Ok(())
}

fn chunk() -> impl Strategy<Value = (Vec<u8>, u64, bool)> {
    (
        prop::collection::vec(
            prop_oneof![
                Just(0xE5u8),
                Just(0x68),
                Just(0x10),
                Just(0x16),
                any::<u8>()
            ],
            0..40,
        ),
        0u64..300,
        prop::bool::weighted(0.05),
    )
}

proptest! {
    #[test]
    fn any_reply_bytes_end_in_a_result(
        chunks in prop::collection::vec(chunk(), 0..12),
        echo in 0u8..3,
        listen in 0u8..3,
        op in 0u8..4,
    ) {
        let mut core = MasterCore::new(config(echo, listen), BaudRate::B2400, Duration::ZERO);
        match op {
            0 => finishes(&mut core, ops::ReadAll::primary(at(1)), chunks)?,
            1 => finishes(&mut core, ops::Select::new("1234FFFFFFFFFFFF".parse().unwrap()), chunks)?,
            2 => finishes(&mut core, ops::ReadSecondary::new("12345678C5140B04".parse().unwrap()), chunks)?,
            _ => finishes(&mut core, ops::AckCommand::switch_baud(at(1), BaudRate::B9600), chunks)?,
        }
    }

    #[test]
    fn the_bus_survives_any_master_bytes(
        requests in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..30), 1..20),
        seed in any::<u64>(),
    ) {
        let meters = Population::new(5, SerialPattern::Random).seed(seed).build(&[]);
        let config = SimConfig { seed, noise: 0.001, ..SimConfig::default() };
        let mut gateway = Gateway::new(SimBus::new(config, meters));
        let mut t = Duration::ZERO;
        for r in &requests {
            t += Duration::from_millis(100);
            gateway.feed(r, t);
        }
        prop_assert!(gateway.bus().bus_time() >= t);
        // A master can still run its operations on the bus afterwards (the outcome depends on
        // what the random bytes did to the meters, e.g. a baud switch).
        let mut master = Master::new(gateway.bus().clone());
        let before = master.transport().stats().requests;
        let _ = master.read_primary(at(1));
        prop_assert!(master.transport().stats().requests > before);
    }
}
