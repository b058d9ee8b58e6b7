//! The BACnet gateway: services, errors, COV and B/IP roles driven datagram by datagram
//! (no sockets, no clock), and the UDP server kept answering through 10 000 random and
//! truncated datagrams.

use logger_core::bacnet::apdu::{
    self, decode_read_multiple_ack, encode_read_multiple, Apdu, CovNotification, HasObject, IAm,
    IHave, PropertyRef, ReadAccessSpec, ReadProperty, ReadResult, SubscribeCov, WhoHas, WhoIs,
};
use logger_core::bacnet::bvll::{self, Bvlc};
use logger_core::bacnet::gateway::{Datagram, Gateway, Role};
use logger_core::bacnet::model::{prop, reliability, Model};
use logger_core::bacnet::npdu::{Body, NetAddr, Npdu, GLOBAL_NETWORK, I_AM_ROUTER};
use logger_core::bacnet::tag::{ObjectId, Reader, Value, OBJECT_ANALOG_INPUT, OBJECT_DEVICE};
use logger_core::bacnet::Server;
use logger_core::config::{Config, ConfigStore};
use logger_core::meter_index::Assignment;
use logger_core::status::StatusBoard;
use logger_core::storage::{Decimal, MeterId, Reading, Store, DATABASE_FILE_NAME};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

const NET: u16 = 7;
const CLIENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), 47808);
const LOCAL: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 47808);

fn config() -> Config {
    Config::from_json(
        r#"{"version": 2,
            "general": {"name": "Logger", "location": "Plant room"},
            "bacnet": {"enabled": true, "device_instance": 5, "network_number": 7},
            "meters": [
              {"id": 1, "name": "Heat 1", "addressing": "primary", "primary": 1, "registers": [
                {"index": 0, "name": "Energy", "unit": "kWh", "description": "Wärmeenergie"},
                {"index": 2, "name": "Flow", "unit": "m³/h"},
                {"index": 3, "name": "Heat", "unit": "GJ"},
                {"index": 4, "name": "Flow", "unit": "m³/h"},
                {"index": 5, "name": "Spare", "off": true}]},
              {"id": 2, "name": "Water 2", "addressing": "primary", "primary": 2, "registers": [
                {"index": 0, "name": "Volume", "unit": "m³"}]}]}"#,
    )
    .unwrap()
}

fn reading(meter: u32, time: i64, values: &[Option<&str>]) -> Reading {
    Reading {
        meter: MeterId(meter),
        time,
        status: 0,
        values: values
            .iter()
            .map(|v| v.map(|t| t.parse().unwrap()))
            .collect(),
    }
}

fn model_with(energy: &str) -> Model {
    let config = config();
    let mut assignment = Assignment::default();
    assignment.update(&config.meters);
    let mut board = StatusBoard::default();
    let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    board.record_success(1, at, 0);
    board.record_failure(2, at, "no reply");
    let energy = energy.to_string();
    Model::load(&config, &assignment, &board, move |meter| {
        (meter == 1).then(|| {
            reading(
                1,
                1_700_000_000,
                &[Some(&energy), None, Some("0.5"), Some("1.25"), Some("0.25")],
            )
        })
    })
}

fn gateway(role: Role) -> (Gateway, Instant) {
    let now = Instant::now();
    (
        Gateway::new(model_with("12345.678"), NET, LOCAL, role, now),
        now,
    )
}

fn meter_addr(instance: u32) -> NetAddr {
    NetAddr {
        net: NET,
        mac: instance.to_be_bytes()[1..].to_vec(),
    }
}

fn unicast(destination: Option<NetAddr>, apdu: &[u8]) -> Vec<u8> {
    let npdu = Npdu {
        destination,
        expecting_reply: true,
        ..Npdu::apdu(apdu)
    };
    Bvlc::OriginalUnicast(&npdu.encode()).encode()
}

fn confirmed(service: u8, data: &[u8], max_apdu: u8) -> Vec<u8> {
    Apdu::ConfirmedRequest {
        segmented: false,
        more_follows: false,
        segmented_response_accepted: false,
        max_segments: 0,
        max_apdu,
        invoke_id: 42,
        segment: None,
        service,
        data,
    }
    .encode()
}

fn unconfirmed(service: u8, data: &[u8]) -> Vec<u8> {
    Apdu::UnconfirmedRequest { service, data }.encode()
}

/// The NPDU source address and the APDU of an answer datagram.
fn open(d: &Datagram) -> (Option<NetAddr>, Vec<u8>) {
    let npdu = match Bvlc::decode(&d.bytes).unwrap() {
        Bvlc::OriginalUnicast(n)
        | Bvlc::OriginalBroadcast(n)
        | Bvlc::DistributeBroadcast(n)
        | Bvlc::Forwarded { npdu: n, .. } => n.to_vec(),
        other => panic!("not an NPDU: {other:?}"),
    };
    let npdu = Npdu::decode(&npdu).unwrap();
    let Body::Apdu(apdu) = npdu.body else {
        panic!("not an APDU")
    };
    (npdu.source, apdu.to_vec())
}

fn ask(g: &mut Gateway, to: Option<NetAddr>, apdu: &[u8], now: Instant) -> Vec<Datagram> {
    g.handle(CLIENT, &unicast(to, apdu), now)
}

fn read_property(
    g: &mut Gateway,
    device: Option<u32>,
    object: ObjectId,
    property: u32,
) -> Result<Vec<Value>, Apdu<'static>> {
    let rp = ReadProperty {
        object,
        property: PropertyRef {
            property,
            index: None,
        },
    };
    let now = Instant::now();
    let out = ask(
        g,
        device.map(meter_addr),
        &confirmed(apdu::SERVICE_READ_PROPERTY, &rp.encode(), 5),
        now,
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].to, CLIENT);
    let (_, bytes) = open(&out[0]);
    match Apdu::decode(&bytes).unwrap() {
        Apdu::ComplexAck { data, .. } => {
            let expected_head = rp.encode_ack(&[]);
            let body = &data[expected_head.len() - 1..data.len() - 1];
            let mut r = Reader::new(body);
            let mut values = Vec::new();
            while !r.is_empty() {
                values.push(r.value().unwrap());
            }
            Ok(values)
        }
        Apdu::Error {
            invoke_id,
            service,
            class,
            code,
        } => Err(Apdu::Error {
            invoke_id,
            service,
            class,
            code,
        }),
        other => panic!("{other:?}"),
    }
}

fn error(class: u32, code: u32) -> Apdu<'static> {
    Apdu::Error {
        invoke_id: 42,
        service: apdu::SERVICE_READ_PROPERTY,
        class,
        code,
    }
}

fn i_ams(out: &[Datagram]) -> Vec<(u32, Option<NetAddr>)> {
    out.iter()
        .map(|d| {
            let (source, bytes) = open(d);
            let Apdu::UnconfirmedRequest { service, data } = Apdu::decode(&bytes).unwrap() else {
                panic!()
            };
            assert_eq!(service, apdu::SERVICE_I_AM);
            let i_am = IAm::decode(data).unwrap();
            assert_eq!((i_am.max_apdu, i_am.segmentation), (1476, 3));
            (i_am.device.instance, source)
        })
        .collect()
}

#[test]
fn who_is_is_answered_for_the_logger_and_each_meter_within_the_range() {
    let (mut g, now) = gateway(Role::Plain);
    let who_is = |range| unconfirmed(apdu::SERVICE_WHO_IS, &WhoIs { range }.encode());
    let all = ask(&mut g, None, &who_is(None), now);
    assert!(all.iter().all(|d| d.to == CLIENT));
    assert_eq!(
        i_ams(&all),
        vec![
            (5, None),
            (1000, Some(meter_addr(1000))),
            (1001, Some(meter_addr(1001)))
        ]
    );
    assert_eq!(
        i_ams(&ask(&mut g, None, &who_is(Some((1001, 2000))), now)),
        vec![(1001, Some(meter_addr(1001)))]
    );
    assert!(ask(&mut g, None, &who_is(Some((1, 4))), now).is_empty());
    // Addressed to the virtual network: only the meters answer.
    let broadcast_on_net = NetAddr {
        net: NET,
        mac: Vec::new(),
    };
    assert_eq!(
        i_ams(&ask(&mut g, Some(broadcast_on_net), &who_is(None), now)).len(),
        2
    );
    // A global broadcast is answered with broadcasts.
    let logger_only = who_is(Some((5, 5)));
    let npdu = Npdu {
        destination: Some(NetAddr {
            net: GLOBAL_NETWORK,
            mac: Vec::new(),
        }),
        ..Npdu::apdu(&logger_only)
    };
    let out = g.handle(
        CLIENT,
        &Bvlc::OriginalBroadcast(&npdu.encode()).encode(),
        now,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, SocketAddrV4::new(Ipv4Addr::BROADCAST, 47808));
    assert!(matches!(
        Bvlc::decode(&out[0].bytes),
        Ok(Bvlc::OriginalBroadcast(_))
    ));
    // Another network is not ours.
    let elsewhere = NetAddr {
        net: 8,
        mac: Vec::new(),
    };
    assert!(ask(&mut g, Some(elsewhere), &who_is(None), now).is_empty());
}

#[test]
fn who_is_router_to_network_names_the_virtual_network() {
    let (mut g, now) = gateway(Role::Plain);
    let npdu = Npdu {
        body: Body::Network {
            kind: 0x00,
            vendor: None,
            data: &[],
        },
        ..Npdu::apdu(&[])
    };
    let out = g.handle(CLIENT, &Bvlc::OriginalUnicast(&npdu.encode()).encode(), now);
    let Ok(Bvlc::OriginalUnicast(reply)) = Bvlc::decode(&out[0].bytes) else {
        panic!("{out:?}")
    };
    let reply = Npdu::decode(reply).unwrap();
    assert_eq!(
        reply.body,
        Body::Network {
            kind: I_AM_ROUTER,
            vendor: None,
            data: &NET.to_be_bytes()
        }
    );
}

#[test]
fn who_has_finds_objects_by_name_and_by_identifier() {
    let (mut g, now) = gateway(Role::Plain);
    let ask_has = |g: &mut Gateway, object| {
        let w = WhoHas {
            range: None,
            object,
        };
        ask(
            g,
            None,
            &unconfirmed(apdu::SERVICE_WHO_HAS, &w.encode()),
            now,
        )
        .iter()
        .map(|d| {
            let (_, bytes) = open(d);
            let Ok(Apdu::UnconfirmedRequest { data, .. }) = Apdu::decode(&bytes) else {
                panic!()
            };
            IHave::decode(data).unwrap()
        })
        .collect::<Vec<_>>()
    };
    let found = ask_has(&mut g, HasObject::Name("Volume".into()));
    assert_eq!(
        found,
        vec![IHave {
            device: ObjectId::new(OBJECT_DEVICE, 1001),
            object: ObjectId::new(OBJECT_ANALOG_INPUT, 0),
            name: "Volume".into()
        }]
    );
    let found = ask_has(&mut g, HasObject::Id(ObjectId::new(OBJECT_ANALOG_INPUT, 3)));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Heat");
    assert!(ask_has(&mut g, HasObject::Name("nothing".into())).is_empty());
}

#[test]
fn read_property_gives_the_stored_values_units_and_names_through_the_router() {
    let (mut g, _) = gateway(Role::Plain);
    let ai = |i| ObjectId::new(OBJECT_ANALOG_INPUT, i);
    let meter = Some(1000);
    let text = |t: &str| Value::CharacterString(t.into());
    for (input, property, value) in [
        (0, prop::PRESENT_VALUE, Value::Real(12345.678)),
        (0, prop::UNITS, Value::Enumerated(19)),
        (2, prop::UNITS, Value::Enumerated(135)),
        // No BACnet unit of the same scale: no-units, the unit in the description.
        (3, prop::UNITS, Value::Enumerated(95)),
        (3, prop::DESCRIPTION, text("Heat [GJ]")),
        (0, prop::DESCRIPTION, text("Wärmeenergie [kWh]")),
        // Two registers of the same name get their index for unique object names.
        (4, prop::OBJECT_NAME, text("Flow #4")),
    ] {
        assert_eq!(
            read_property(&mut g, meter, ai(input), property),
            Ok(vec![value]),
            "analog-input {input}, property {property}"
        );
    }
    // Registers that are off are no objects.
    assert_eq!(
        read_property(&mut g, meter, ai(5), prop::PRESENT_VALUE),
        Err(error(
            apdu::error::CLASS_OBJECT,
            apdu::error::UNKNOWN_OBJECT
        ))
    );
    assert_eq!(
        read_property(&mut g, meter, ai(0), prop::LOCATION),
        Err(error(
            apdu::error::CLASS_PROPERTY,
            apdu::error::UNKNOWN_PROPERTY
        ))
    );
    let dev = ObjectId::new(OBJECT_DEVICE, 1000);
    assert_eq!(
        read_property(&mut g, meter, dev, prop::OBJECT_LIST),
        Ok(vec![
            Value::ObjectId(dev),
            Value::ObjectId(ai(0)),
            Value::ObjectId(ai(2)),
            Value::ObjectId(ai(3)),
            Value::ObjectId(ai(4)),
        ])
    );
    assert_eq!(
        read_property(&mut g, meter, dev, prop::OBJECT_NAME),
        Ok(vec![Value::CharacterString("Heat 1".into())])
    );
    // The logger's own device, not routed.
    let logger = ObjectId::new(OBJECT_DEVICE, 5);
    assert_eq!(
        read_property(&mut g, None, logger, prop::LOCATION),
        Ok(vec![Value::CharacterString("Plant room".into())])
    );
    assert_eq!(
        read_property(&mut g, None, logger, prop::OBJECT_LIST),
        Ok(vec![Value::ObjectId(logger)])
    );
    // A MAC that is no device gets no answer.
    let rp = ReadProperty {
        object: dev,
        property: PropertyRef {
            property: prop::OBJECT_NAME,
            index: None,
        },
    };
    let apdu = confirmed(apdu::SERVICE_READ_PROPERTY, &rp.encode(), 5);
    assert!(ask(&mut g, Some(meter_addr(4000)), &apdu, Instant::now()).is_empty());
}

#[test]
fn a_failed_meter_shows_fault_and_communication_failure_and_no_value() {
    let (mut g, _) = gateway(Role::Plain);
    let ai = ObjectId::new(OBJECT_ANALOG_INPUT, 0);
    assert_eq!(
        read_property(&mut g, Some(1001), ai, prop::STATUS_FLAGS),
        Ok(vec![Value::BitString(vec![false, true, false, false])])
    );
    assert_eq!(
        read_property(&mut g, Some(1001), ai, prop::RELIABILITY),
        Ok(vec![Value::Enumerated(reliability::COMMUNICATION_FAILURE)])
    );
    let Ok(v) = read_property(&mut g, Some(1001), ai, prop::PRESENT_VALUE) else {
        panic!()
    };
    assert!(matches!(v[..], [Value::Real(x)] if x.is_nan()));
    assert_eq!(
        read_property(&mut g, Some(1001), ai, prop::OUT_OF_SERVICE),
        Ok(vec![Value::Boolean(false)])
    );
}

fn read_multiple(
    g: &mut Gateway,
    device: Option<u32>,
    specs: &[ReadAccessSpec],
    max_apdu: u8,
) -> Vec<u8> {
    let out = ask(
        g,
        device.map(meter_addr),
        &confirmed(
            apdu::SERVICE_READ_PROPERTY_MULTIPLE,
            &encode_read_multiple(specs),
            max_apdu,
        ),
        Instant::now(),
    );
    assert_eq!(out.len(), 1);
    open(&out[0]).1
}

#[test]
fn read_property_multiple_expands_all_and_required_and_reports_errors_per_property() {
    let (mut g, _) = gateway(Role::Plain);
    let p = |property| PropertyRef {
        property,
        index: None,
    };
    let specs = vec![
        ReadAccessSpec {
            object: ObjectId::new(OBJECT_ANALOG_INPUT, 0),
            properties: vec![p(prop::ALL)],
        },
        ReadAccessSpec {
            object: ObjectId::new(OBJECT_DEVICE, 4_194_303),
            properties: vec![p(prop::REQUIRED)],
        },
        ReadAccessSpec {
            object: ObjectId::new(OBJECT_ANALOG_INPUT, 2),
            properties: vec![p(prop::PRESENT_VALUE), p(prop::LOCATION)],
        },
        ReadAccessSpec {
            object: ObjectId::new(OBJECT_ANALOG_INPUT, 99),
            properties: vec![p(prop::PRESENT_VALUE)],
        },
    ];
    let bytes = read_multiple(&mut g, Some(1000), &specs, 5);
    let Ok(Apdu::ComplexAck { service, data, .. }) = Apdu::decode(&bytes) else {
        panic!("{bytes:02X?}")
    };
    assert_eq!(service, apdu::SERVICE_READ_PROPERTY_MULTIPLE);
    let objects = decode_read_multiple_ack(data).unwrap();
    assert_eq!(objects.len(), 4);
    let properties =
        |i: usize| -> Vec<u32> { objects[i].1.iter().map(|(p, _)| p.property).collect() };
    assert_eq!(
        properties(0),
        vec![75, 77, 79, 85, 111, 36, 81, 117, 371, 28, 103]
    );
    assert!(objects[0]
        .1
        .iter()
        .all(|(_, r)| matches!(r, ReadResult::Value(_))));
    // The wildcard device instance answers as the device itself.
    assert_eq!(objects[1].0, ObjectId::new(OBJECT_DEVICE, 1000));
    assert_eq!(properties(1).len(), 21);
    assert_eq!(
        objects[2].1[0].1,
        ReadResult::Value(vec![0x44, 0x3F, 0x00, 0x00, 0x00])
    );
    assert_eq!(
        objects[2].1[1].1,
        ReadResult::Error(apdu::error::CLASS_PROPERTY, apdu::error::UNKNOWN_PROPERTY)
    );
    assert_eq!(
        objects[3].1[0].1,
        ReadResult::Error(apdu::error::CLASS_OBJECT, apdu::error::UNKNOWN_OBJECT)
    );
}

#[test]
fn answers_too_long_for_the_client_are_aborted_and_the_rest_rejected() {
    let (mut g, now) = gateway(Role::Plain);
    let all = vec![ReadAccessSpec {
        object: ObjectId::new(OBJECT_DEVICE, 1000),
        properties: vec![PropertyRef {
            property: prop::ALL,
            index: None,
        }],
    }];
    // 50 bytes (max-APDU code 0) is too short for every device property.
    let bytes = read_multiple(&mut g, Some(1000), &all, 0);
    assert_eq!(
        Apdu::decode(&bytes).unwrap(),
        Apdu::Abort {
            server: true,
            invoke_id: 42,
            reason: apdu::abort::SEGMENTATION_NOT_SUPPORTED
        }
    );
    let reply = |g: &mut Gateway, apdu: &[u8]| {
        let out = ask(g, None, apdu, now);
        Apdu::decode(&open(&out[0]).1).unwrap().encode()
    };
    // WriteProperty is not a service of this server.
    assert_eq!(
        reply(&mut g, &confirmed(15, &[0x0C, 0, 0, 0, 0], 5)),
        Apdu::Reject {
            invoke_id: 42,
            reason: apdu::reject::UNRECOGNIZED_SERVICE
        }
        .encode()
    );
    // A ReadProperty without its property identifier.
    assert_eq!(
        reply(
            &mut g,
            &confirmed(apdu::SERVICE_READ_PROPERTY, &[0x0C, 0x02, 0, 0, 5], 5)
        ),
        Apdu::Reject {
            invoke_id: 42,
            reason: apdu::reject::MISSING_REQUIRED_PARAMETER
        }
        .encode()
    );
    assert_eq!(
        reply(
            &mut g,
            &confirmed(apdu::SERVICE_READ_PROPERTY, &[0x21, 0x05], 5)
        ),
        Apdu::Reject {
            invoke_id: 42,
            reason: apdu::reject::INVALID_TAG
        }
        .encode()
    );
    // ALL belongs to ReadPropertyMultiple.
    assert_eq!(
        read_property(&mut g, None, ObjectId::new(OBJECT_DEVICE, 5), prop::ALL),
        Err(error(
            apdu::error::CLASS_SERVICES,
            apdu::error::SERVICE_REQUEST_DENIED
        ))
    );
    // Segmented requests are not taken.
    let segmented = Apdu::ConfirmedRequest {
        segmented: true,
        more_follows: true,
        segmented_response_accepted: false,
        max_segments: 0,
        max_apdu: 5,
        invoke_id: 42,
        segment: Some((0, 1)),
        service: apdu::SERVICE_READ_PROPERTY_MULTIPLE,
        data: &[0x0C],
    }
    .encode();
    assert_eq!(
        reply(&mut g, &segmented),
        Apdu::Abort {
            server: true,
            invoke_id: 42,
            reason: apdu::abort::SEGMENTATION_NOT_SUPPORTED
        }
        .encode()
    );
}

fn notifications(out: &[Datagram]) -> Vec<CovNotification> {
    out.iter()
        .filter_map(|d| {
            let (_, bytes) = open(d);
            match Apdu::decode(&bytes).unwrap() {
                Apdu::UnconfirmedRequest {
                    service: apdu::SERVICE_UNCONFIRMED_COV_NOTIFICATION,
                    data,
                }
                | Apdu::ConfirmedRequest {
                    service: apdu::SERVICE_CONFIRMED_COV_NOTIFICATION,
                    data,
                    ..
                } => Some(CovNotification::decode(data).unwrap()),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn cov_subscribers_hear_of_changed_values_until_they_cancel_or_expire() {
    let (mut g, now) = gateway(Role::Plain);
    let energy = ObjectId::new(OBJECT_ANALOG_INPUT, 0);
    let subscribe = |g: &mut Gateway, s: SubscribeCov, at| {
        ask(
            g,
            Some(meter_addr(1000)),
            &confirmed(apdu::SERVICE_SUBSCRIBE_COV, &s.encode(), 5),
            at,
        )
    };
    let request = SubscribeCov {
        process_id: 18,
        object: energy,
        issue_confirmed: Some(false),
        lifetime: Some(60),
    };
    let out = subscribe(&mut g, request, now);
    assert_eq!(
        Apdu::decode(&open(&out[0]).1).unwrap(),
        Apdu::SimpleAck {
            invoke_id: 42,
            service: apdu::SERVICE_SUBSCRIBE_COV
        }
    );
    // The initial notification, from the meter device on the virtual network.
    let initial = notifications(&out);
    assert_eq!(initial.len(), 1);
    assert_eq!(open(&out[1]).0, Some(meter_addr(1000)));
    assert_eq!(initial[0].device, ObjectId::new(OBJECT_DEVICE, 1000));
    assert_eq!(initial[0].time_remaining, 60);
    assert_eq!(
        initial[0].values,
        vec![
            (prop::PRESENT_VALUE, Value::Real(12345.678)),
            (prop::STATUS_FLAGS, Value::BitString(vec![false; 4]))
        ]
    );
    assert_eq!(g.subscriptions(), 1);
    // A new reading with the same value: nothing; a changed value: a notification.
    assert!(g.replace_model(model_with("12345.678"), now).is_empty());
    let changed =
        notifications(&g.replace_model(model_with("12346"), now + Duration::from_secs(10)));
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0].values[0],
        (prop::PRESENT_VALUE, Value::Real(12346.0))
    );
    assert_eq!(changed[0].time_remaining, 50);
    // A confirmed subscription of the same client and process replaces it.
    let confirmed_one = SubscribeCov {
        issue_confirmed: Some(true),
        ..request
    };
    let out = subscribe(&mut g, confirmed_one, now);
    assert!(matches!(
        Apdu::decode(&open(&out[1]).1),
        Ok(Apdu::ConfirmedRequest {
            service: apdu::SERVICE_CONFIRMED_COV_NOTIFICATION,
            ..
        })
    ));
    assert_eq!(g.subscriptions(), 1);
    // Cancelled: no more notifications.
    let cancel = SubscribeCov {
        issue_confirmed: None,
        lifetime: None,
        ..request
    };
    let out = subscribe(&mut g, cancel, now);
    assert_eq!(out.len(), 1);
    assert_eq!(g.subscriptions(), 0);
    assert!(g.replace_model(model_with("1"), now).is_empty());
    // Expired after its lifetime.
    subscribe(&mut g, request, now);
    g.tick(now + Duration::from_secs(61));
    assert_eq!(g.subscriptions(), 0);
    // The device object has no COV; an unknown object is unknown.
    let on = |object| SubscribeCov { object, ..request };
    for (object, code) in [
        (
            ObjectId::new(OBJECT_DEVICE, 1000),
            apdu::error::COV_SUBSCRIPTION_FAILED,
        ),
        (
            ObjectId::new(OBJECT_ANALOG_INPUT, 77),
            apdu::error::UNKNOWN_OBJECT,
        ),
    ] {
        let out = subscribe(&mut g, on(object), now);
        assert_eq!(
            Apdu::decode(&open(&out[0]).1).unwrap(),
            Apdu::Error {
                invoke_id: 42,
                service: apdu::SERVICE_SUBSCRIBE_COV,
                class: apdu::error::CLASS_OBJECT,
                code
            }
        );
    }
}

fn result_code(d: &Datagram) -> u16 {
    match Bvlc::decode(&d.bytes).unwrap() {
        Bvlc::Result(code) => code,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_foreign_device_registers_re_registers_and_broadcasts_through_its_bbmd() {
    let bbmd = SocketAddrV4::new(Ipv4Addr::new(10, 1, 0, 1), 47808);
    let (mut g, now) = gateway(Role::Foreign { bbmd, ttl: 60 });
    let out = g.tick(now);
    assert_eq!(
        out,
        vec![Datagram {
            to: bbmd,
            bytes: Bvlc::RegisterForeignDevice(60).encode()
        }]
    );
    assert!(g.tick(now + Duration::from_secs(29)).is_empty());
    assert!(!g.registered());
    g.handle(bbmd, &Bvlc::Result(bvll::RESULT_SUCCESS).encode(), now);
    assert!(g.registered());
    // A broadcast Who-Is the BBMD forwards is answered through the BBMD.
    let who_is = Npdu::apdu(&unconfirmed(apdu::SERVICE_WHO_IS, &[])).encode();
    let forwarded = Bvlc::Forwarded {
        source: CLIENT,
        npdu: &who_is,
    }
    .encode();
    let out = g.handle(bbmd, &forwarded, now);
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(
        |d| d.to == bbmd && matches!(Bvlc::decode(&d.bytes), Ok(Bvlc::DistributeBroadcast(_)))
    ));
    // Re-registration at half the time to live.
    assert_eq!(g.tick(now + Duration::from_secs(30)).len(), 1);
    // Refused: tries again later.
    g.handle(
        bbmd,
        &Bvlc::Result(bvll::RESULT_REGISTER_FD_NAK).encode(),
        now + Duration::from_secs(31),
    );
    assert!(!g.registered());
    assert!(g.tick(now + Duration::from_secs(40)).is_empty());
    assert_eq!(g.tick(now + Duration::from_secs(61)).len(), 1);
}

#[test]
fn as_bbmd_it_keeps_foreign_devices_and_distributes_their_broadcasts() {
    let peer = SocketAddrV4::new(Ipv4Addr::new(10, 2, 0, 1), 47808);
    let fd = SocketAddrV4::new(Ipv4Addr::new(10, 3, 0, 7), 47809);
    let (mut g, now) = gateway(Role::Bbmd { peers: vec![peer] });
    let local_broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 47808);
    let who_is = Npdu::apdu(&unconfirmed(
        apdu::SERVICE_WHO_IS,
        &WhoIs {
            range: Some((5, 5)),
        }
        .encode(),
    ))
    .encode();
    // Not registered yet: refused.
    let out = g.handle(fd, &Bvlc::DistributeBroadcast(&who_is).encode(), now);
    assert_eq!(result_code(&out[0]), bvll::RESULT_DISTRIBUTE_NAK);
    let out = g.handle(fd, &Bvlc::RegisterForeignDevice(60).encode(), now);
    assert_eq!(result_code(&out[0]), bvll::RESULT_SUCCESS);
    let out = g.handle(CLIENT, &Bvlc::ReadFdt.encode(), now);
    let Ok(Bvlc::ReadFdtAck(table)) = Bvlc::decode(&out[0].bytes) else {
        panic!()
    };
    assert_eq!(
        (table[0].address, table[0].ttl, table[0].remaining),
        (fd, 60, 90)
    );
    let out = g.handle(CLIENT, &Bvlc::ReadBdt.encode(), now);
    let Ok(Bvlc::ReadBdtAck(table)) = Bvlc::decode(&out[0].bytes) else {
        panic!()
    };
    assert_eq!(
        table.iter().map(|e| e.address).collect::<Vec<_>>(),
        vec![LOCAL, peer]
    );
    // The foreign device's broadcast goes to the peer and the local network, and the
    // logger's own answer is broadcast the same ways.
    let out = g.handle(fd, &Bvlc::DistributeBroadcast(&who_is).encode(), now);
    let forwarded: Vec<SocketAddrV4> = out
        .iter()
        .filter(|d| matches!(Bvlc::decode(&d.bytes), Ok(Bvlc::Forwarded { source, .. }) if source == fd))
        .map(|d| d.to)
        .collect();
    assert_eq!(forwarded, vec![peer, local_broadcast]);
    let answers: Vec<SocketAddrV4> = out
        .iter()
        .filter(|d| {
            matches!(Bvlc::decode(&d.bytes), Ok(Bvlc::OriginalBroadcast(_)))
                || matches!(Bvlc::decode(&d.bytes), Ok(Bvlc::Forwarded { source, .. }) if source == LOCAL)
        })
        .map(|d| d.to)
        .collect();
    assert_eq!(answers, vec![local_broadcast, peer, fd]);
    // A local broadcast goes to the peer and the foreign device.
    let out = g.handle(
        CLIENT,
        &Bvlc::OriginalBroadcast(&Npdu::apdu(&[0x10, 0x09]).encode()).encode(),
        now,
    );
    assert_eq!(out.iter().map(|d| d.to).collect::<Vec<_>>(), vec![peer, fd]);
    // Entries expire after time to live + 30 s, or are deleted.
    g.tick(now + Duration::from_secs(91));
    let out = g.handle(CLIENT, &Bvlc::DeleteFdtEntry(fd).encode(), now);
    assert_eq!(result_code(&out[0]), bvll::RESULT_DELETE_FDT_NAK);
    let out = g.handle(CLIENT, &Bvlc::WriteBdt(Vec::new()).encode(), now);
    assert_eq!(result_code(&out[0]), bvll::RESULT_WRITE_BDT_NAK);
}

#[test]
fn a_plain_node_refuses_bbmd_functions() {
    let (mut g, now) = gateway(Role::Plain);
    for (request, code) in [
        (
            Bvlc::RegisterForeignDevice(60),
            bvll::RESULT_REGISTER_FD_NAK,
        ),
        (Bvlc::ReadBdt, bvll::RESULT_READ_BDT_NAK),
        (Bvlc::ReadFdt, bvll::RESULT_READ_FDT_NAK),
        (
            Bvlc::DistributeBroadcast(&[0x01, 0x00]),
            bvll::RESULT_DISTRIBUTE_NAK,
        ),
    ] {
        let out = g.handle(CLIENT, &request.encode(), now);
        assert_eq!(result_code(&out[0]), code, "{request:?}");
    }
}

#[test]
fn the_database_revision_follows_names_and_objects() {
    let a = model_with("1");
    assert_eq!(
        a.revision,
        model_with("2").revision,
        "values are not structure"
    );
    let config = config();
    let mut renamed = config.clone();
    renamed.meters[0].registers[0].name = "Energie".into();
    let mut assignment = Assignment::default();
    assignment.update(&config.meters);
    let b = Model::load(&renamed, &assignment, &StatusBoard::default(), |_| None);
    assert_ne!(a.revision, b.revision);
}

/// A tiny deterministic generator for the datagram storm.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn ten_thousand_random_and_truncated_datagrams_leave_the_server_answering() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config();
    config.bacnet.address = Some(Ipv4Addr::LOCALHOST);
    config.bacnet.port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    ConfigStore::new(dir.path()).save(&config).unwrap();
    let mut store = Store::open(dir.path().join(DATABASE_FILE_NAME)).unwrap();
    store
        .append(&reading(1, 1_700_000_000, &[Some("12345.678")]))
        .unwrap();
    let server = Server::start(&config, dir.path()).unwrap();
    let to = server.local_addr().unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();

    let rp = |object, property| {
        let rp = ReadProperty {
            object,
            property: PropertyRef {
                property,
                index: None,
            },
        };
        unicast(
            Some(meter_addr(1000)),
            &confirmed(apdu::SERVICE_READ_PROPERTY, &rp.encode(), 5),
        )
    };
    let valid: Vec<Vec<u8>> = vec![
        rp(ObjectId::new(OBJECT_ANALOG_INPUT, 0), prop::PRESENT_VALUE),
        unicast(
            None,
            &confirmed(
                apdu::SERVICE_READ_PROPERTY_MULTIPLE,
                &encode_read_multiple(&[ReadAccessSpec {
                    object: ObjectId::new(OBJECT_DEVICE, 5),
                    properties: vec![PropertyRef {
                        property: prop::ALL,
                        index: None,
                    }],
                }]),
                5,
            ),
        ),
        unicast(
            None,
            &unconfirmed(apdu::SERVICE_WHO_IS, &[0x09, 0x00, 0x19, 0x10]),
        ),
        unicast(
            Some(meter_addr(1000)),
            &confirmed(
                apdu::SERVICE_SUBSCRIBE_COV,
                &SubscribeCov {
                    process_id: 1,
                    object: ObjectId::new(OBJECT_ANALOG_INPUT, 0),
                    issue_confirmed: Some(false),
                    lifetime: Some(5),
                }
                .encode(),
                5,
            ),
        ),
        Bvlc::RegisterForeignDevice(30).encode(),
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for i in 0..10_000 {
        let datagram: Vec<u8> = match i % 3 {
            // Random bytes, often with a plausible BVLC header.
            0 => {
                let len = (rng.next() % 80) as usize;
                let mut d: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if len >= 4 && rng.next().is_multiple_of(2) {
                    d[0] = 0x81;
                    d[1] = (rng.next() % 12) as u8;
                    d[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                }
                d
            }
            // A valid request cut short, its BVLC length kept or fixed up.
            1 => {
                let v = &valid[(rng.next() % valid.len() as u64) as usize];
                let cut = (rng.next() % v.len() as u64) as usize;
                let mut d = v[..cut].to_vec();
                if cut >= 4 && rng.next().is_multiple_of(2) {
                    d[2..4].copy_from_slice(&(cut as u16).to_be_bytes());
                }
                d
            }
            // A valid request with bytes flipped.
            _ => {
                let mut d = valid[(rng.next() % valid.len() as u64) as usize].clone();
                for _ in 0..1 + rng.next() % 3 {
                    let at = (rng.next() % d.len() as u64) as usize;
                    d[at] ^= 1 << (rng.next() % 8);
                }
                d
            }
        };
        client.send_to(&datagram, to).unwrap();
        if i % 500 == 0 {
            // Drain what the server answered so far.
            client.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 2048];
            while client.recv_from(&mut buf).is_ok() {}
            client.set_nonblocking(false).unwrap();
        }
    }
    // Still answering: the stored value, read through the router.
    std::thread::sleep(Duration::from_millis(200));
    client.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 2048];
    while client.recv_from(&mut buf).is_ok() {}
    client.set_nonblocking(false).unwrap();
    client
        .send_to(
            &rp(ObjectId::new(OBJECT_ANALOG_INPUT, 0), prop::PRESENT_VALUE),
            to,
        )
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let answer = loop {
        let (n, _) = client
            .recv_from(&mut buf)
            .expect("the server still answers");
        let d = Datagram {
            to: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0),
            bytes: buf[..n].to_vec(),
        };
        let Ok(Bvlc::OriginalUnicast(_)) = Bvlc::decode(&d.bytes) else {
            continue;
        };
        let (source, apdu) = open(&d);
        if let Ok(Apdu::ComplexAck {
            service: apdu::SERVICE_READ_PROPERTY,
            data,
            ..
        }) = Apdu::decode(&apdu)
        {
            break (source, data.to_vec());
        }
        assert!(Instant::now() < deadline, "no ReadProperty answer");
    };
    assert_eq!(answer.0, Some(meter_addr(1000)));
    let value = Decimal::new(12_345_678, -3).to_f64() as f32;
    assert!(answer
        .1
        .ends_with(&[&[0x3E, 0x44][..], &value.to_be_bytes(), &[0x3F]].concat()));
    server.stop();
}

#[test]
fn the_bacnet_section_is_checked_with_field_paths_and_older_sections_still_load() {
    // A section written before the router settings existed loads with their defaults.
    let old = Config::from_json(
        r#"{"version": 2, "bacnet": {"enabled": true, "start_instance": 2000, "port": 47808,
            "bbmd": "bbmd.example:47808", "bbmd_ttl_s": 300}}"#,
    )
    .unwrap();
    assert_eq!(
        (old.bacnet.device_instance, old.bacnet.network_number),
        (999, 1000)
    );
    assert!(!old.bacnet.bbmd_server && old.bacnet.bdt.is_empty());
    let err = Config::from_json(
        r#"{"version": 2,
            "bacnet": {"enabled": true, "start_instance": 10, "device_instance": 11,
                       "network_number": 0, "bbmd": "x", "bbmd_server": true, "bdt": ["a b"]},
            "meters": [{"id": 1, "name": "a", "addressing": "primary", "primary": 1},
                       {"id": 2, "name": "b", "addressing": "primary", "primary": 2}]}"#,
    )
    .unwrap_err();
    let paths: Vec<String> = err.problems().into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        [
            "bacnet.bbmd_server",
            "bacnet.device_instance",
            "bacnet.network_number",
            "bacnet.bdt[0]"
        ],
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("bacnet.device_instance: is a meter's instance (meters use 10 to 11)"));
    let err = Config::from_json(r#"{"version": 2, "bacnet": {"bdt": ["peer"]}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bacnet.bdt: only used when bacnet.bbmd_server is on"
    );
}

#[test]
fn the_server_follows_its_section_of_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config();
    config.bacnet.enabled = false;
    config.bacnet.address = Some(Ipv4Addr::LOCALHOST);
    config.bacnet.port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = ConfigStore::new(dir.path());
    store.save(&config).unwrap();
    let server = Server::start(&config, dir.path()).unwrap();
    assert_eq!(server.local_addr(), None);
    let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, config.bacnet.port);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let who_is = unicast(None, &unconfirmed(apdu::SERVICE_WHO_IS, &[]));
    let answers = |client: &UdpSocket| {
        client.send_to(&who_is, to).unwrap();
        let mut buf = [0u8; 2048];
        let mut n = 0;
        while client.recv_from(&mut buf).is_ok() {
            n += 1;
        }
        n
    };
    assert_eq!(answers(&client), 0, "off");
    // Switched on in the file (as the web UI or `mbusctl config import` would): it starts
    // within a few seconds, with the numbering stored.
    config.bacnet.enabled = true;
    store.save(&config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while answers(&client) != 3 {
        assert!(Instant::now() < deadline, "the server did not start");
    }
    let numbering = Assignment::load(dir.path()).unwrap();
    assert_eq!((numbering.index(1), numbering.index(2)), (Some(0), Some(1)));
    server.stop();
}
