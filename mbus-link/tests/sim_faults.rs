//! The simulated bus's frame receivers and faults, on the virtual clock: partial frames and
//! garbage forgotten after an idle gap, babbling and deaf meters, a short circuit that starts
//! during operation, replayed captured telegrams and a gateway following baud switches.

mod support;
use mbus_link::config::bit_times;
use mbus_link::sim::{
    templates, Gateway, Population, SerialPattern, SimBus, SimConfig, SimError, TelegramTemplate,
    VirtualMeter,
};
use mbus_link::{LinkError, Master};
use mbus_proto::address::BaudRate;
use mbus_proto::request;
use std::time::Duration;
use support::at;

const B: BaudRate = BaudRate::B2400;

fn bus(meters: Vec<VirtualMeter>) -> SimBus {
    SimBus::new(SimConfig::default(), meters)
}

fn one_meter() -> SimBus {
    bus(Population::new(1, SerialPattern::Sequential).build(&[]))
}

/// Lets the line stay idle for `bits` bit times.
fn idle(bus: &mut SimBus, bits: u64) {
    let t = bus.bus_time() + bit_times(bits, B);
    bus.advance_to(t);
}

#[test]
fn a_partial_frame_is_forgotten_after_an_idle_gap_longer_than_eleven_bit_times() {
    let mut swallowing = one_meter();
    swallowing.transmit(&[0x10, 0x5B]);
    idle(&mut swallowing, 11);
    // Within the limit the request continues the partial frame, which is then invalid.
    swallowing.transmit(&request::req_ud2(1, true));
    assert!(swallowing.drain_replies().is_empty());
    assert_eq!(swallowing.meters()[0].reads(), 0);

    let mut recovering = one_meter();
    let expected = recovering.meters()[0].telegrams();
    recovering.transmit(&[0x10, 0x5B]);
    idle(&mut recovering, 12);
    let mut master = Master::new(recovering);
    let telegrams = master.read_primary(at(1)).unwrap();
    assert_eq!(telegrams.len(), 1);
    assert_eq!(telegrams[0].address(), Some(1));
    assert_eq!(master.transport().stats().collisions, 0);
    assert_eq!(master.transport().meters()[0].reads(), 1);
    assert_eq!(expected.len(), 1);
}

#[test]
fn the_start_of_a_long_frame_is_forgotten_after_an_idle_gap() {
    let mut bus = one_meter();
    // A long frame announcing 200 bytes, cut after 6.
    bus.transmit(&[0x68, 0xC8, 0xC8, 0x68, 0x53, 0x01]);
    idle(&mut bus, 2400);
    let mut master = Master::new(bus);
    assert_eq!(master.read_primary(at(1)).unwrap()[0].address(), Some(1));
}

#[test]
fn a_request_in_pieces_without_a_gap_is_heard_as_one_frame() {
    let mut bus = one_meter();
    let req = request::req_ud2(1, true);
    bus.transmit(&req[..2]);
    bus.transmit(&req[2..]);
    let reply = bus.drain_replies();
    assert_eq!(reply.first().map(|c| c.byte), Some(0x68));
    assert_eq!(bus.meters()[0].reads(), 1);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn the_bus_recovers_after_a_garbage_burst_of_any_length(
        burst in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..600),
    ) {
        let mut bus = one_meter();
        bus.transmit(&burst);
        idle(&mut bus, 12);
        let mut master = Master::new(bus);
        let telegrams = master.read_primary(at(1));
        proptest::prop_assert!(telegrams.is_ok(), "{:?}", telegrams);
        proptest::prop_assert_eq!(master.transport().meters()[0].reads(), 1);
    }
}

#[test]
fn a_babbling_meter_answers_every_frame_with_garbage() {
    let meters = Population::new(3, SerialPattern::Sequential)
        .faults(1, 0)
        .build(&[]);
    assert!(meters[0].is_babbling());
    assert!(!meters[1].is_babbling());
    let mut master = Master::new(bus(meters));
    // Nobody else lives at 77: what comes back is the babbler's noise.
    let err = master.snd_nke(at(77)).unwrap_err();
    assert!(matches!(err, LinkError::Garbled { .. }), "{err}");
    // On top of a real reply it collides.
    assert!(master.read_primary(at(2)).is_err());
    assert!(master.transport().stats().collisions >= 1);
}

#[test]
fn deaf_meters_never_answer() {
    let meters = Population::new(3, SerialPattern::Sequential)
        .faults(0, 1)
        .build(&[]);
    let mut master = Master::new(bus(meters));
    assert!(master.read_primary(at(2)).is_ok());
    assert!(matches!(
        master.read_primary(at(3)),
        Err(LinkError::NoReply { .. })
    ));
    assert_eq!(master.transport().stats().replies, 2); // E5 + RSP_UD of meter 2
                                                       // Asked for data directly, it sends nothing and counts no read.
    let bus = master.transport_mut();
    bus.transmit(&request::req_ud2(3, true));
    assert!(bus.drain_replies().is_empty());
    assert_eq!(bus.read_counts(), [0, 1, 0]);
}

#[test]
fn a_short_circuit_starts_at_its_bus_time() {
    let mut bus = one_meter();
    bus.short_circuit_from(Duration::from_secs(10));
    let mut master = Master::new(bus);
    assert!(master.read_primary(at(1)).is_ok());
    assert!(!master.transport().is_short_circuit());
    master.transport_mut().advance_to(Duration::from_secs(10));
    assert!(master.transport().is_short_circuit());
    let err = master.read_primary(at(1)).unwrap_err();
    assert!(matches!(err, LinkError::BusOverload), "{err}");
    assert_eq!(master.transport().meters()[0].reads(), 1);
}

fn captured_frames() -> Vec<Vec<u8>> {
    // Three telegrams as a meter sent them: the first two announce more records.
    let parts: Vec<TelegramTemplate> = (0..3).map(templates::synthetic).collect();
    let joined = TelegramTemplate::join("three", &parts).unwrap();
    VirtualMeter::new(9, "00000009C5140B04".parse().unwrap(), joined).telegrams()
}

#[test]
fn a_captured_sequence_is_replayed_along_the_fcb() {
    let frames = captured_frames();
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let template = TelegramTemplate::captured("capture", &refs).unwrap();
    let meter = VirtualMeter::new(9, "00000009C5140B04".parse().unwrap(), template);
    // Replayed as captured: the same bytes (same addresses here).
    assert_eq!(meter.telegrams(), frames);
    let mut bus = bus(vec![meter]);
    let mut ask = |req: &[u8]| {
        bus.transmit(req);
        let bytes: Vec<u8> = bus.drain_replies().iter().map(|c| c.byte).collect();
        idle(&mut bus, 50);
        bytes
    };
    let body = |bytes: &[u8]| bytes[19..bytes.len() - 2].to_vec();
    assert_eq!(ask(&request::snd_nke(9)), [0xE5]);
    let first = ask(&request::req_ud2(9, true));
    assert_eq!(body(&first), body(&frames[0]));
    let second = ask(&request::req_ud2(9, false));
    assert_eq!(body(&second), body(&frames[1]));
    // FCB not toggled: the master's retry gets the same telegram again.
    let retry = ask(&request::req_ud2(9, false));
    assert_eq!(body(&retry), body(&frames[1]));
    let third = ask(&request::req_ud2(9, true));
    assert_eq!(body(&third), body(&frames[2]));
    assert_eq!(
        *third.iter().rev().nth(2).unwrap(),
        frames[2][frames[2].len() - 3]
    );
}

#[test]
fn a_single_captured_telegram_that_announces_more_keeps_announcing() {
    let frames = captured_frames();
    assert!(mbus_link::ReplyFrame::new(frames[0].clone())
        .unwrap()
        .more_records_follow());
    let template = TelegramTemplate::captured("first", &[&frames[0]]).unwrap();
    let meter = VirtualMeter::new(9, "00000009C5140B04".parse().unwrap(), template.clone());
    assert_eq!(meter.telegrams(), vec![frames[0].clone()]);
    // Every readout, FCB toggled or not, gets the same telegram, still announcing more.
    let mut bus = bus(vec![meter]);
    for fcb in [true, false, true] {
        bus.transmit(&request::req_ud2(9, fcb));
        let bytes: Vec<u8> = bus.drain_replies().iter().map(|c| c.byte).collect();
        // From the status byte to the last record (the access number and checksum change).
        let end = frames[0].len() - 2;
        assert_eq!(bytes[16..end], frames[0][16..end], "FCB {fcb}");
        idle(&mut bus, 50);
    }
    // The corpus loader still makes a single telegram complete.
    let rewritten = TelegramTemplate::from_frames("first", &[&frames[0]]).unwrap();
    assert_ne!(rewritten, template);
}

#[test]
fn telegram_files_split_into_frames_and_bad_files_say_what_is_wrong() {
    let frames = captured_frames();
    let dir = tempdir();
    let text: String = frames
        .iter()
        .map(|f| f.iter().map(|b| format!("{b:02X} ")).collect::<String>() + "\n\n")
        .collect();
    let good = dir.join("three.hex");
    std::fs::write(&good, &text).unwrap();
    let template = templates::load_file(&good).unwrap();
    assert_eq!(template.len(), 3);

    let cut = dir.join("cut.hex");
    std::fs::write(&cut, &text[..text.len() - 12]).unwrap();
    let err = templates::load_file(&cut).unwrap_err();
    assert!(matches!(err, SimError::Frame { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("cut.hex telegram 3") && msg.contains("truncated: L="),
        "{msg}"
    );

    let request = dir.join("request.hex");
    std::fs::write(&request, "10 5B 01 5C 16").unwrap();
    let msg = templates::load_file(&request).unwrap_err().to_string();
    assert!(
        msg.contains("request.hex telegram 1: not a slave data frame"),
        "{msg}"
    );

    let not_hex = dir.join("text.hex");
    std::fs::write(&not_hex, "hello").unwrap();
    let msg = templates::load_file(&not_hex).unwrap_err().to_string();
    assert!(msg.contains("text.hex: bad hex"), "{msg}");

    let missing = dir.join("missing.hex");
    assert!(matches!(
        templates::load_file(&missing),
        Err(SimError::Io { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mbus-sim-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn population_build_each_gives_one_meter_per_template_in_order() {
    let frames = captured_frames();
    let a = TelegramTemplate::captured("a", &[&frames[0]]).unwrap();
    let b = TelegramTemplate::captured("b", &[&frames[1], &frames[2]]).unwrap();
    let meters = Population::new(0, SerialPattern::Sequential).build_each(&[a, b]);
    assert_eq!(meters.len(), 2);
    assert_eq!((meters[0].primary(), meters[1].primary()), (1, 2));
    assert_eq!(meters[0].template().name(), "a");
    assert_eq!(meters[1].template().len(), 2);
}

#[test]
fn the_gateway_forgets_a_partial_request_after_a_pause_and_follows_baud_switches() {
    let meters = Population::new(2, SerialPattern::Sequential)
        .bauds(&[BaudRate::B9600])
        .build(&[]);
    let mut gateway = Gateway::new(bus(meters));
    let start = Duration::ZERO;
    // Nothing at 2400 baud hears anything.
    assert!(gateway.feed(&request::snd_nke(1), start).is_none());
    // A partial request, a pause of seconds, then a full one: the pause cut the partial frame.
    let t = Duration::from_secs(1);
    assert!(gateway.feed(&[0x68, 0x03], t).is_none());
    // Switching one meter leaves the line where it is.
    let one = request::switch_baud(1, BaudRate::B9600);
    assert!(gateway.feed(&one, t + Duration::from_secs(1)).is_none());
    assert_eq!(mbus_link::Transport::baud(gateway.bus()), BaudRate::B2400);
    // A broadcast baud switch (heard by nobody at 2400) moves the line to 9600.
    let switch = request::switch_baud(255, BaudRate::B9600);
    assert!(gateway.feed(&switch, t + Duration::from_secs(2)).is_none());
    assert_eq!(mbus_link::Transport::baud(gateway.bus()), BaudRate::B9600);
    let reply = gateway
        .feed(&request::snd_nke(2), t + Duration::from_secs(3))
        .unwrap();
    assert_eq!(reply.bytes(), [0xE5]);
    // The reply came at 9600 baud: the meter's delay, then one character.
    let delay = u64::from(gateway.bus().meters()[1].response_delay());
    assert_eq!(
        reply.chars[0].at - reply.request_end,
        bit_times(delay + 11, BaudRate::B9600)
    );
}
