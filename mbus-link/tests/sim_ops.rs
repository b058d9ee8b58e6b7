//! Every master operation against the simulated bus, on the virtual clock.

mod support;
use mbus_link::config::{bit_times, char_times};
use mbus_link::sim::{
    templates, Population, SerialPattern, SimBus, SimConfig, TelegramTemplate, VirtualMeter,
};
use mbus_link::{
    Addressee, AsyncMaster, EchoMode, GarbleReason, LinkConfig, LinkError, ListenAfterFrame,
    Master, Reply, ResetPolicy, RetryPolicy, SelectOutcome,
};
use mbus_proto::address::{BaudRate, SecondaryAddress, SecondaryMask};
use mbus_proto::request;
use std::time::Duration;
use support::{at, pa};

fn addr(text: &str) -> SecondaryAddress {
    text.parse().unwrap()
}

fn meter(primary: u8, secondary: &str) -> VirtualMeter {
    VirtualMeter::new(
        primary,
        addr(secondary),
        templates::synthetic(usize::from(primary)),
    )
}

fn master(meters: Vec<VirtualMeter>) -> Master<SimBus> {
    Master::new(SimBus::new(SimConfig::default(), meters))
}

/// A master on a bus with one meter at primary address 2 that has five telegrams.
fn five_telegram_master(config: LinkConfig) -> Master<SimBus> {
    let parts: Vec<TelegramTemplate> = (0..5).map(templates::synthetic).collect();
    let m = VirtualMeter::new(
        2,
        addr("00000002C5140B04"),
        TelegramTemplate::join("five", &parts).unwrap(),
    );
    configured(vec![m], config)
}

fn configured(meters: Vec<VirtualMeter>, config: LinkConfig) -> Master<SimBus> {
    Master::with_config(SimBus::new(SimConfig::default(), meters), config)
}

/// Meters 11111111C5140B04 and 22222222C5140B04, both at primary address 0.
fn two_secondary_meters(config: LinkConfig) -> Master<SimBus> {
    let meters = vec![meter(0, "11111111C5140B04"), meter(0, "22222222C5140B04")];
    configured(meters, config)
}

fn window_master(meters: Vec<VirtualMeter>) -> Master<SimBus> {
    let config = LinkConfig {
        listen_after_frame: ListenAfterFrame::Window,
        ..LinkConfig::default()
    };
    configured(meters, config)
}

#[test]
fn read_primary_returns_the_meters_telegram_and_counts_exact_bus_time() {
    let m = meter(5, "12345678C5140B04").with_response_delay(40);
    let expected = m.telegrams()[0].clone();
    let mut master = master(vec![m]);
    let telegrams = master.read_primary(at(5)).unwrap();
    assert_eq!(telegrams.len(), 1);
    let t = &telegrams[0];
    assert_eq!(t.address(), Some(5));
    assert_eq!(t.secondary_address(), Some(addr("12345678C5140B04")));
    // Same records as the template (the access number in the header advanced with the read).
    assert_eq!(t.data()[12..], expected[19..expected.len() - 2]);
    assert!(!t.more_records_follow());

    // SND_NKE (5) + delay + E5 + listening gap, then REQ_UD2 (5) + delay + RSP_UD + gap.
    let b = BaudRate::B2400;
    let gap = char_times(1, b) + bit_times(11, b);
    let exchange = |req: usize, reply: usize| {
        char_times(req, b) + bit_times(40, b) + char_times(reply, b) + gap
    };
    assert_eq!(
        master.transport().bus_time().as_micros(),
        (exchange(5, 1) + exchange(5, t.bytes().len())).as_micros()
    );
    let stats = master.transport().stats();
    assert_eq!(stats.requests, 2);
    assert_eq!(stats.request_bytes, 10);
    assert_eq!(stats.replies, 2);
    assert_eq!(stats.reply_bytes, 1 + t.bytes().len() as u64);
    assert_eq!(stats.collisions, 0);
    assert_eq!(master.transport().read_counts(), vec![1]);
}

#[test]
fn multi_telegram_read_follows_fcb_until_no_more_records() {
    let parts = [
        templates::synthetic(1),
        templates::synthetic(2),
        templates::synthetic(3),
    ];
    let template = TelegramTemplate::join("three", &parts).unwrap();
    let m = VirtualMeter::new(9, addr("00000009C5140B04"), template);
    let rendered = m.telegrams();
    let mut master = master(vec![m]);
    let telegrams = master.read_primary(at(9)).unwrap();
    assert_eq!(telegrams.len(), 3);
    for (t, r) in telegrams.iter().zip(&rendered) {
        assert_eq!(t.data()[12..], r[19..r.len() - 2]);
    }
    assert!(telegrams[0].more_records_follow());
    assert!(telegrams[1].more_records_follow());
    assert!(!telegrams[2].more_records_follow());

    // FCB: same bit repeats the telegram, a toggled bit advances.
    master.snd_nke(at(9)).unwrap();
    let first = master.request_ud2(at(9), true).unwrap();
    let repeat = master.request_ud2(at(9), true).unwrap();
    let second = master.request_ud2(at(9), false).unwrap();
    assert_eq!(first.data()[12..], repeat.data()[12..]);
    assert_eq!(first.data()[12..], telegrams[0].data()[12..]);
    assert_eq!(second.data()[12..], telegrams[1].data()[12..]);
}

#[test]
fn multi_telegram_read_stops_at_the_configured_limit() {
    let mut master = five_telegram_master(LinkConfig {
        max_telegrams: 2,
        ..LinkConfig::default()
    });
    let telegrams = master.read_primary(at(2)).unwrap();
    assert_eq!(telegrams.len(), 2);
    assert!(telegrams[1].more_records_follow());
}

#[test]
fn read_secondary_selects_reads_and_deselects() {
    let mut master = two_secondary_meters(LinkConfig {
        deselect_after_read: true,
        ..LinkConfig::default()
    });
    let telegrams = master.read_secondary(&addr("22222222C5140B04")).unwrap();
    assert_eq!(telegrams.len(), 1);
    assert_eq!(
        telegrams[0].secondary_address(),
        Some(addr("22222222C5140B04"))
    );
    assert_eq!(telegrams[0].address(), Some(0));
    assert!(master.transport().meters().iter().all(|m| !m.is_selected()));
    assert_eq!(master.transport().read_counts(), vec![0, 1]);

    let err = master
        .read_secondary(&addr("33333333C5140B04"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            LinkError::NoReply {
                address: Addressee::Secondary(_),
                attempts: 3
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("33333333C5140B04"), "{err}");
}

#[test]
fn select_and_deselect_by_mask() {
    let meters = vec![meter(1, "11111111C5140B04"), meter(2, "11112222C5140B04")];
    let mut master = window_master(meters);
    let mask: SecondaryMask = "1111FFFFFFFFFFFF".parse().unwrap();
    // Both match; with their different delays the acks collide.
    let meters = master.transport_mut().meters_mut();
    meters[0] = meters[0].clone().with_response_delay(11);
    meters[1] = meters[1].clone().with_response_delay(200);
    assert_eq!(master.select(&mask).unwrap(), SelectOutcome::Garbled);
    assert_eq!(master.transport().stats().collisions, 1);
    let one: SecondaryMask = "11112222FFFFFFFF".parse().unwrap();
    assert_eq!(master.select(&one).unwrap(), SelectOutcome::Selected);
    assert!(master.transport().meters()[1].is_selected());
    assert!(!master.transport().meters()[0].is_selected());
    let t = master.request_ud2(at(253), true).unwrap();
    assert_eq!(t.secondary_address(), Some(addr("11112222C5140B04")));
    master.deselect().unwrap();
    assert!(!master.transport().meters()[1].is_selected());
    let none: SecondaryMask = "9FFFFFFFFFFFFFFF".parse().unwrap();
    assert_eq!(master.select(&none).unwrap(), SelectOutcome::NoReply);
}

#[test]
fn identical_acks_at_the_same_offset_read_as_one_clean_ack() {
    let meters = vec![
        meter(1, "11111111C5140B04").with_response_delay(50),
        meter(2, "11112222C5140B04").with_response_delay(50),
    ];
    let mut master = window_master(meters);
    let mask: SecondaryMask = "1111FFFFFFFFFFFF".parse().unwrap();
    assert_eq!(master.select(&mask).unwrap(), SelectOutcome::Selected);
    let stats = master.transport().stats();
    assert_eq!(stats.replies, 2);
    assert_eq!(stats.collisions, 1);
    assert_eq!(stats.line_errors, 0);
    // Both are selected: the data replies collide and corrupt.
    let err = master.request_ud2(at(253), true).unwrap_err();
    assert!(matches!(err, LinkError::Garbled { .. }), "{err}");
}

#[test]
fn acks_close_together_give_extra_or_wrong_bytes() {
    // Up to 11 idle bit times between them still belongs to one frame: a collision.
    for offset in [3, 9, 15, 20] {
        let meters = vec![
            meter(1, "11111111C5140B04").with_response_delay(40),
            meter(2, "11112222C5140B04").with_response_delay(40 + offset),
        ];
        let mut master = master(meters);
        let mask: SecondaryMask = "1111FFFFFFFFFFFF".parse().unwrap();
        assert_eq!(
            master.select(&mask).unwrap(),
            SelectOutcome::Garbled,
            "offset {offset} bits"
        );
    }
}

#[test]
fn duplicate_primary_addresses_corrupt_long_replies() {
    for (d1, d2) in [(11, 12), (11, 60), (100, 330)] {
        let meters = vec![
            meter(7, "11111111C5140B04").with_response_delay(d1),
            meter(7, "22222222C5140B04").with_response_delay(d2),
        ];
        let mut master = master(meters);
        let err = master.request_ud2(at(7), true).unwrap_err();
        match err {
            LinkError::Garbled { address, reason } => {
                assert_eq!(address, Addressee::Primary(7));
                assert!(
                    matches!(
                        reason,
                        GarbleReason::Line(_)
                            | GarbleReason::Frame(_)
                            | GarbleReason::TrailingBytes { .. }
                    ),
                    "{reason}"
                );
            }
            other => panic!("delays {d1}/{d2}: {other}"),
        }
        // Garbled replies are not retried by default: one request only.
        assert_eq!(master.transport().stats().requests, 1);
    }
}

#[test]
fn duplicate_secondary_addresses_are_seen_when_reading() {
    let meters = Population::new(6, SerialPattern::Random)
        .seed(11)
        .duplicates(0, 1)
        .build(&[]);
    let dup = meters[0].secondary();
    assert_eq!(meters[5].secondary(), dup);
    let mut master = master(meters);
    // The second meter's late acknowledgement or the colliding data replies give it away.
    let err = master.read_secondary(&dup).unwrap_err();
    assert!(
        matches!(
            err,
            LinkError::Garbled { .. } | LinkError::UnexpectedFrame { .. }
        ),
        "{err}"
    );
}

#[test]
fn noise_garbles_some_replies_and_is_deterministic_per_seed() {
    let run = |seed: u64| {
        let meters = Population::new(20, SerialPattern::Sequential)
            .seed(1)
            .build(&[]);
        let config = SimConfig {
            seed,
            noise: 2e-4,
            ..SimConfig::default()
        };
        let mut master = Master::new(SimBus::new(config, meters));
        let outcomes: Vec<String> = (1..=20)
            .map(|a| match master.read_primary(at(a)) {
                Ok(t) => format!("ok {}", t.len()),
                Err(e) => e.to_string(),
            })
            .collect();
        (outcomes, master.transport().stats())
    };
    let (a, stats_a) = run(42);
    let (b, stats_b) = run(42);
    assert_eq!(a, b);
    assert_eq!(stats_a, stats_b);
    assert!(stats_a.noise_flips > 0);
    assert!(a.iter().any(|o| o.starts_with("ok")), "{a:?}");
    assert!(
        a.iter()
            .any(|o| o.contains("garbled") || o.contains("no reply")),
        "{a:?}"
    );
    let (c, _) = run(43);
    assert_ne!(a, c);
}

#[test]
fn silent_meter_costs_the_retries_and_their_timeouts() {
    let m = meter(3, "00000003C5140B04").with_silence_rate(1.0);
    let mut master = master(vec![m]);
    let err = master.request_ud2(at(3), true).unwrap_err();
    assert!(matches!(
        err,
        LinkError::NoReply {
            address: Addressee::Primary(3),
            attempts: 3
        }
    ));
    assert_eq!(
        err.to_string(),
        "no reply from primary address 3 (after 3 attempt(s))"
    );
    let b = BaudRate::B2400;
    let per_try = char_times(5, b) + bit_times(330, b) + Duration::from_millis(50);
    let bus = master.transport().bus_time();
    assert!(
        bus >= per_try * 3 && bus < per_try * 3 + Duration::from_micros(10),
        "{bus:?}"
    );
    // A missing meter: same.
    assert!(matches!(
        master.read_primary(at(77)),
        Err(LinkError::NoReply { .. })
    ));
}

#[test]
fn access_limited_meter_goes_silent_until_the_next_period() {
    let m = meter(4, "00000004C5140B04").with_access_limit(2, Duration::from_secs(3600));
    let config = LinkConfig {
        retries: RetryPolicy {
            on_silence: 0,
            on_garbled: 0,
        },
        ..LinkConfig::default()
    };
    let mut master = configured(vec![m], config);
    assert!(master.read_primary(at(4)).is_ok());
    assert!(master.read_primary(at(4)).is_ok());
    assert!(matches!(
        master.read_primary(at(4)),
        Err(LinkError::NoReply { .. })
    ));
    // SND_NKE is still acknowledged: the meter only refuses readouts.
    master.snd_nke(at(4)).unwrap();
    master.transport_mut().advance_to(Duration::from_secs(3600));
    assert!(master.read_primary(at(4)).is_ok());
    assert_eq!(master.transport().read_counts(), vec![3]);
}

#[test]
fn baud_switch_acks_at_the_old_rate_and_answers_only_at_the_new() {
    let mut master = master(vec![meter(6, "00000006C5140B04")]);
    master.switch_baud(at(6), BaudRate::B9600).unwrap();
    assert_eq!(master.baud(), BaudRate::B9600);
    assert_eq!(master.transport().meters()[0].baud(), BaudRate::B9600);
    let before = master.transport().bus_time();
    assert_eq!(master.read_primary(at(6)).unwrap().len(), 1);
    let fast = master.transport().bus_time() - before;
    master.set_baud(BaudRate::B2400).unwrap();
    assert!(matches!(
        master.read_primary(at(6)),
        Err(LinkError::NoReply { .. } | LinkError::Garbled { .. })
    ));
    master.set_baud(BaudRate::B9600).unwrap();
    let before = master.transport().bus_time();
    master.read_primary(at(6)).unwrap();
    assert_eq!(master.transport().bus_time() - before, fast);
}

#[test]
fn mixed_baud_meters_answer_only_at_their_rate() {
    let meters = vec![
        meter(1, "00000001C5140B04"),
        meter(2, "00000002C5140B04").with_baud(BaudRate::B300),
    ];
    let mut master = master(meters);
    assert!(master.read_primary(at(1)).is_ok());
    assert!(master.read_primary(at(2)).is_err());
    master.set_baud(BaudRate::B300).unwrap();
    assert!(master.read_primary(at(2)).is_ok());
    assert!(master.read_primary(at(1)).is_err());
}

#[test]
fn set_primary_address_moves_the_meter() {
    let mut master = master(vec![meter(5, "00000005C5140B04")]);
    master.set_primary_address(at(5), pa(42)).unwrap();
    assert_eq!(master.transport().meters()[0].primary(), 42);
    assert_eq!(master.read_primary(at(42)).unwrap()[0].address(), Some(42));
    assert!(matches!(
        master.read_primary(at(5)),
        Err(LinkError::NoReply { .. })
    ));
}

#[test]
fn application_reset_restarts_the_telegram_sequence() {
    let parts = [templates::synthetic(1), templates::synthetic(2)];
    let m = VirtualMeter::new(
        8,
        addr("00000008C5140B04"),
        TelegramTemplate::join("two", &parts).unwrap(),
    );
    let mut master = master(vec![m]);
    let all = master.read_primary(at(8)).unwrap();
    let first = master.request_ud2(at(8), true).unwrap();
    let _second = master.request_ud2(at(8), false).unwrap();
    master.application_reset(at(8), Some(0x10)).unwrap();
    let again = master.request_ud2(at(8), true).unwrap();
    assert_eq!(again.data()[12..], all[0].data()[12..]);
    assert_eq!(first.data()[12..], all[0].data()[12..]);
}

#[test]
fn short_circuit_is_reported_as_overload() {
    let mut master = master(vec![meter(1, "00000001C5140B04")]);
    master.transport_mut().set_short_circuit(true);
    assert!(matches!(
        master.read_primary(at(1)),
        Err(LinkError::BusOverload)
    ));
    assert!(matches!(
        master.select(&SecondaryMask::ALL),
        Err(LinkError::BusOverload)
    ));
    master.transport_mut().set_short_circuit(false);
    assert!(master.read_primary(at(1)).is_ok());
}

#[test]
fn converter_echo_is_stripped_automatically() {
    let config = SimConfig {
        echo: true,
        ..SimConfig::default()
    };
    let meters = vec![meter(1, "00000001C5140B04")];
    let mut master = Master::new(SimBus::new(config.clone(), meters.clone()));
    assert_eq!(master.read_primary(at(1)).unwrap()[0].address(), Some(1));
    assert_eq!(
        master.select(&"00000001FFFFFFFF".parse().unwrap()).unwrap(),
        SelectOutcome::Selected
    );

    let off = LinkConfig {
        echo: EchoMode::Off,
        ..LinkConfig::default()
    };
    let mut master = Master::with_config(SimBus::new(config, meters), off);
    // Without suppression the echoed request is taken for the reply.
    let err = master.request_ud2(at(1), true).unwrap_err();
    assert!(matches!(err, LinkError::UnexpectedFrame { .. }), "{err}");
    assert!(err.to_string().contains("short frame C=0x7B A=1"), "{err}");
}

#[test]
fn garbling_meter_reports_garbled_without_blind_retries() {
    let m = meter(2, "00000002C5140B04").with_garble_rate(1.0);
    let mut master = master(vec![m]);
    let err = master.request_ud2(at(2), true).unwrap_err();
    assert!(
        matches!(
            err,
            LinkError::Garbled {
                reason: GarbleReason::Frame(mbus_proto::frame::FrameError::Checksum { .. }),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("collision or noise"));
    assert_eq!(master.transport().stats().requests, 1);
    let retrying = LinkConfig {
        retries: RetryPolicy {
            on_silence: 2,
            on_garbled: 1,
        },
        ..LinkConfig::default()
    };
    master.set_config(retrying);
    assert!(master.request_ud2(at(2), true).is_err());
    assert_eq!(master.transport().stats().requests, 3);
}

#[test]
fn raw_transact_and_send_only() {
    let mut master = master(vec![meter(1, "00000001C5140B04")]);
    assert_eq!(master.transact(&request::snd_nke(1)).unwrap(), Reply::Ack);
    match master.transact(&request::req_ud2(1, true)).unwrap() {
        Reply::Frame(t) => assert_eq!(t.ci(), Some(0x72)),
        other => panic!("{other:?}"),
    }
    let before = master.transport().stats().requests;
    master.send_only(&request::snd_nke(255)).unwrap();
    master.snd_nke(at(255)).unwrap();
    assert_eq!(master.transport().stats().requests, before + 2);
    assert!(matches!(
        master.transact(&[]),
        Err(LinkError::InvalidRequest(_))
    ));
    // A request nobody answers, as raw bytes.
    assert!(matches!(
        master.transact(&request::snd_nke(99)),
        Err(LinkError::NoReply {
            address: Addressee::Primary(99),
            ..
        })
    ));
}

#[test]
fn broadcast_with_reply_collides_when_several_meters_answer() {
    let meters = vec![
        meter(1, "00000001C5140B04").with_response_delay(20),
        meter(2, "00000002C5140B04").with_response_delay(90),
    ];
    let mut master = master(meters);
    assert!(matches!(
        master.request_ud2(at(254), true),
        Err(LinkError::Garbled { .. })
    ));
    assert_eq!(master.transport().stats().collisions, 1);
}

#[test]
fn async_master_runs_the_same_operations() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let meters = Population::new(5, SerialPattern::Clustered)
            .seed(9)
            .build(&[]);
        let secondary = meters[2].secondary();
        let mut master = AsyncMaster::new(SimBus::new(SimConfig::default(), meters));
        assert_eq!(master.read_primary(at(1)).await.unwrap().len(), 1);
        let t = master.read_secondary(&secondary).await.unwrap();
        assert_eq!(t[0].secondary_address(), Some(secondary));
        assert_eq!(
            master
                .select(&SecondaryMask::exact(&secondary))
                .await
                .unwrap(),
            SelectOutcome::Selected
        );
        master.deselect().await.unwrap();
        master.switch_baud(at(1), BaudRate::B4800).await.unwrap();
        assert_eq!(master.baud(), BaudRate::B4800);
        assert!(master.transport().bus_time() > Duration::ZERO);
    });
}

#[test]
fn secondary_reads_without_deselect_rely_on_the_next_select() {
    let mut master = two_secondary_meters(LinkConfig {
        deselect_after_read: false,
        ..LinkConfig::default()
    });
    master.read_secondary(&addr("11111111C5140B04")).unwrap();
    assert!(master.transport().meters()[0].is_selected());
    let t = master.read_secondary(&addr("22222222C5140B04")).unwrap();
    assert_eq!(t[0].secondary_address(), Some(addr("22222222C5140B04")));
    assert!(!master.transport().meters()[0].is_selected());
    assert_eq!(master.transport().stats().requests, 4);
}

/// Runs `f` and returns its result with the number of requests it put on the bus.
fn counted<R>(master: &mut Master<SimBus>, f: impl FnOnce(&mut Master<SimBus>) -> R) -> (R, u64) {
    let before = master.transport().stats().requests;
    let result = f(master);
    (result, master.transport().stats().requests - before)
}

#[test]
fn snd_nke_before_a_read_only_on_first_contact_and_after_a_failed_read() {
    let mut master = master(vec![
        meter(1, "00000001C5140B04"),
        meter(2, "00000002C5140B04"),
    ]);
    let read = |a: u8| move |m: &mut Master<SimBus>| m.read_primary(at(a)).unwrap().len();
    // First contact: SND_NKE + REQ_UD2; afterwards REQ_UD2 only.
    assert_eq!(counted(&mut master, read(1)), (1, 2));
    assert_eq!(counted(&mut master, read(1)), (1, 1));
    assert_eq!(counted(&mut master, read(2)), (1, 2));
    assert_eq!(counted(&mut master, read(1)), (1, 1));

    // A read that failed leaves the meter's position unknown: the next one resets again.
    master.transport_mut().set_short_circuit(true);
    assert!(matches!(
        master.read_primary(at(1)),
        Err(LinkError::BusOverload)
    ));
    master.transport_mut().set_short_circuit(false);
    assert_eq!(counted(&mut master, read(1)), (1, 2));
    master.transport_mut().meters_mut()[0].set_primary(9);
    let (result, requests) = counted(&mut master, |m| m.read_primary(at(1)));
    assert!(matches!(
        result,
        Err(LinkError::NoReply { attempts: 3, .. })
    ));
    assert_eq!(
        requests, 3,
        "REQ_UD2 and two retries, no SND_NKE: the position was known"
    );
    master.transport_mut().meters_mut()[0].set_primary(1);
    assert_eq!(counted(&mut master, read(1)), (1, 2));
    assert_eq!(counted(&mut master, read(2)), (1, 1));
}

#[test]
fn an_interrupted_telegram_sequence_is_reset_before_the_next_read() {
    let mut master = five_telegram_master(LinkConfig {
        max_telegrams: 2,
        ..LinkConfig::default()
    });
    let (first, requests) = counted(&mut master, |m| m.read_primary(at(2)).unwrap());
    assert_eq!((first.len(), requests), (2, 3));
    // Stopped at the limit with more records following: the next read starts over.
    let (again, requests) = counted(&mut master, |m| m.read_primary(at(2)).unwrap());
    assert_eq!((again.len(), requests), (2, 3));
    assert_eq!(again[0].data()[12..], first[0].data()[12..]);

    master.set_config(LinkConfig::default());
    let (all, requests) = counted(&mut master, |m| m.read_primary(at(2)).unwrap());
    assert_eq!((all.len(), requests), (5, 6));
    // Ended cleanly on the last telegram: the next read needs no SND_NKE and still starts at
    // the first telegram.
    let (next, requests) = counted(&mut master, |m| m.read_primary(at(2)).unwrap());
    assert_eq!((next.len(), requests), (5, 5));
    for (a, b) in next.iter().zip(&all) {
        assert_eq!(a.data()[12..], b.data()[12..]);
    }
}

#[test]
fn other_traffic_makes_the_sequence_position_unknown_again() {
    let mut master = master(vec![
        meter(1, "00000001C5140B04"),
        meter(2, "00000002C5140B04"),
    ]);
    let read = |m: &mut Master<SimBus>| m.read_primary(at(1)).unwrap().len();
    assert_eq!(counted(&mut master, read), (1, 2));
    // A request to the address outside a read.
    master.request_ud2(at(1), true).unwrap();
    assert_eq!(counted(&mut master, read), (1, 2));
    // Anything to 253 (a select may reach any meter).
    master
        .select(&SecondaryMask::exact(&addr("00000002C5140B04")))
        .unwrap();
    master.deselect().unwrap();
    assert_eq!(counted(&mut master, read), (1, 2));
    // Another baud rate: the same address may be another meter.
    master.set_baud(BaudRate::B9600).unwrap();
    master.set_baud(BaudRate::B2400).unwrap();
    assert_eq!(counted(&mut master, read), (1, 2));
    // A SND_NKE of its own puts the meter at its first telegram.
    master.snd_nke(at(1)).unwrap();
    assert_eq!(counted(&mut master, read), (1, 1));
    // A meter moved onto an address the master knew is another meter there.
    let read_2 = |m: &mut Master<SimBus>| m.read_primary(at(2)).unwrap().len();
    assert_eq!(counted(&mut master, read_2), (1, 2));
    master.transport_mut().meters_mut()[1].set_primary(3);
    master.set_primary_address(at(1), pa(2)).unwrap();
    assert_eq!(counted(&mut master, read_2), (1, 2));
}

#[test]
fn reset_policies_always_when_unknown_and_never() {
    let cases = [
        (ResetPolicy::Always, [2, 2]),
        (ResetPolicy::WhenUnknown, [2, 1]),
        (ResetPolicy::Never, [1, 1]),
    ];
    for (policy, expected) in cases {
        let config = LinkConfig {
            reset_policy: policy,
            ..LinkConfig::default()
        };
        let meters = vec![meter(1, "00000001C5140B04")];
        let mut master = configured(meters, config);
        for want in expected {
            let (result, requests) = counted(&mut master, |m| m.read_primary(at(1)).unwrap().len());
            assert_eq!((result, requests), (1, want), "{policy:?}");
        }
    }
}

#[test]
fn a_meter_left_selected_is_deselected_before_any_other_operation() {
    let meters = vec![meter(1, "11111111C5140B04"), meter(2, "22222222C5140B04")];
    let mut master = master(meters);
    let (_, requests) = counted(&mut master, |m| {
        m.read_secondary(&addr("11111111C5140B04")).unwrap();
        m.read_secondary(&addr("22222222C5140B04")).unwrap();
    });
    assert_eq!(
        requests, 4,
        "select + REQ_UD2 twice, no deselect in between"
    );
    assert!(master.transport().meters()[1].is_selected());
    // Deselect (SND_NKE to 253), then the read: SND_NKE + REQ_UD2, since 253 may be anyone.
    let (result, requests) = counted(&mut master, |m| m.read_primary(at(1)).unwrap().len());
    assert_eq!((result, requests), (1, 3));
    assert!(master.transport().meters().iter().all(|m| !m.is_selected()));
    // An explicit select is the caller's: requests to 253 reach the selected meter.
    master
        .select(&SecondaryMask::exact(&addr("22222222C5140B04")))
        .unwrap();
    assert_eq!(
        master.request_ud2(at(253), true).unwrap().address(),
        Some(2)
    );
    assert!(master.transport().meters()[1].is_selected());
}
