//! Building simulated buses: corpus telegrams as meters, population generators, the byte-stream
//! gateway, device names.

mod support;
use mbus_link::sim::{
    templates, Gateway, Population, SerialPattern, SimBus, SimConfig, SimError, TelegramTemplate,
    VirtualMeter,
};
use mbus_link::{Device, DeviceError, Master};
use mbus_proto::address::{BaudRate, SecondaryAddress};
use mbus_proto::request;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;
use support::at;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("MBUS_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/libmbus"),
        PathBuf::from,
    );
    if dir.is_dir() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "corpus missing at {}",
            dir.display()
        );
        eprintln!(
            "SKIPPED: corpus not found at {} (set MBUS_CORPUS)",
            dir.display()
        );
        None
    }
}

#[test]
fn every_corpus_telegram_is_served_with_the_meters_addresses() {
    let Some(dir) = corpus() else { return };
    let templates = templates::load_dir(&dir.join("test-frames")).unwrap();
    assert!(
        templates.len() >= 70,
        "only {} corpus telegrams loaded",
        templates.len()
    );
    let secondary: SecondaryAddress = "87654321C5140B04".parse().unwrap();
    for template in &templates {
        let original = std::fs::read_to_string(
            dir.join("test-frames")
                .join(format!("{}.hex", template.name())),
        )
        .unwrap();
        let original = mbus_proto::hex::parse_hex(&original).unwrap();
        let meter = VirtualMeter::new(17, secondary, template.clone());
        let mut master = Master::new(SimBus::new(SimConfig::default(), vec![meter]));
        let telegrams = master
            .read_primary(at(17))
            .unwrap_or_else(|e| panic!("{}: {e}", template.name()));
        assert_eq!(telegrams.len(), 1, "{}", template.name());
        let t = &telegrams[0];
        assert_eq!(t.address(), Some(17));
        assert_eq!(t.ci(), Some(original[6]), "{}", template.name());
        assert!(!t.more_records_follow(), "{}", template.name());
        let header = if matches!(t.ci(), Some(0x72 | 0x76)) {
            assert_eq!(
                t.secondary_address(),
                Some(secondary),
                "{}",
                template.name()
            );
            12
        } else {
            0
        };
        // The records are the corpus's, except a "more records follow" DIF turned into 0x0F.
        let records = &t.data()[header..];
        let corpus_records = &original[7 + header..original.len() - 2];
        let differing = records
            .iter()
            .zip(corpus_records)
            .filter(|(a, b)| a != b)
            .all(|(&a, &b)| a == 0x0F && b == 0x1F);
        assert!(
            differing && records.len() >= corpus_records.len(),
            "{}",
            template.name()
        );
    }
}

#[test]
fn templates_reject_what_is_not_a_slave_data_frame() {
    assert!(matches!(
        TelegramTemplate::from_hex("req", "10 5B 01 5C 16"),
        Err(SimError::NotADataFrame { .. })
    ));
    assert!(matches!(
        TelegramTemplate::from_hex("bad", "68 03 03 68 08 01 72 00 16"),
        Err(SimError::Frame { .. })
    ));
    let err = TelegramTemplate::from_hex("text", "68 zz").unwrap_err();
    assert!(err.to_string().starts_with("text: bad hex"), "{err}");
    let full = request::rsp_ud(1, 0x72, &[0x01; 252]).unwrap();
    let big = TelegramTemplate::from_frames("big", &[&full]).unwrap();
    assert!(matches!(
        TelegramTemplate::join("two", &[big.clone(), big]),
        Err(SimError::TooLong { .. })
    ));
    assert!(matches!(
        templates::load_dir(std::path::Path::new("/nonexistent/mbus")),
        Err(SimError::Io { .. })
    ));
}

#[test]
fn synthetic_templates_vary_in_length_and_mark_more_records_only_when_joined() {
    let first_len = |t: TelegramTemplate| {
        VirtualMeter::new(1, "00000001C5140B04".parse().unwrap(), t).telegrams()[0].len()
    };
    let lengths: HashSet<usize> = (0..12)
        .map(|v| first_len(templates::synthetic(v)))
        .collect();
    assert!(lengths.len() >= 4, "{lengths:?}");
    let joined =
        TelegramTemplate::join("pair", &[templates::synthetic(0), templates::synthetic(1)])
            .unwrap();
    let meter = VirtualMeter::new(1, "00000001C5140B04".parse().unwrap(), joined);
    let sent = meter.telegrams();
    assert_eq!(sent[0][sent[0].len() - 3], 0x1F);
    assert_ne!(sent[1][sent[1].len() - 3], 0x1F);
}

#[test]
fn populations_follow_their_serial_patterns() {
    let seq = Population::new(30, SerialPattern::Sequential).build(&[]);
    let idents: Vec<u32> = seq.iter().map(|m| m.secondary().ident).collect();
    assert_eq!(idents, (10_000_000..10_000_030).collect::<Vec<_>>());
    assert_eq!(
        seq.iter().map(|m| m.primary()).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );

    let random = Population::new(200, SerialPattern::Random)
        .seed(4)
        .serials();
    assert_eq!(random.iter().collect::<HashSet<_>>().len(), 200);
    assert_eq!(
        random,
        Population::new(200, SerialPattern::Random)
            .seed(4)
            .serials()
    );
    assert_ne!(
        random,
        Population::new(200, SerialPattern::Random)
            .seed(5)
            .serials()
    );

    let clustered = Population::new(300, SerialPattern::Clustered)
        .seed(8)
        .serials();
    assert_eq!(clustered.iter().collect::<HashSet<_>>().len(), 300);
    let mut runs = Vec::new();
    let mut run = 1;
    for pair in clustered.windows(2) {
        if pair[1] == pair[0] + 1 {
            run += 1;
        } else {
            runs.push(run);
            run = 1;
        }
    }
    runs.push(run);
    assert!(
        runs[..runs.len() - 1]
            .iter()
            .all(|&r| (5..=40).contains(&r)),
        "{runs:?}"
    );

    let many = Population::new(260, SerialPattern::Sequential).build(&[]);
    assert_eq!(many[249].primary(), 250);
    assert_eq!(many[250].primary(), 0);

    let mixed = Population::new(40, SerialPattern::Random)
        .seed(1)
        .bauds(&[BaudRate::B300, BaudRate::B2400, BaudRate::B9600])
        .delay_bits(20, 30)
        .duplicates(2, 3)
        .build(&[]);
    let bauds: HashSet<BaudRate> = mixed.iter().map(|m| m.baud()).collect();
    assert_eq!(bauds.len(), 3);
    assert!(mixed
        .iter()
        .all(|m| (20..=30).contains(&m.response_delay())));
    assert_eq!(mixed[39].primary(), mixed[0].primary());
    assert_eq!(mixed[38].primary(), mixed[1].primary());
    assert_eq!(mixed[37].secondary(), mixed[2].secondary());
}

#[test]
fn population_reads_all_meters_by_primary_and_counts_them() {
    let meters = Population::new(25, SerialPattern::Clustered)
        .seed(3)
        .build(&[]);
    let mut master = Master::new(SimBus::new(SimConfig::default(), meters));
    for a in 1..=25 {
        master.read_primary(at(a)).unwrap();
    }
    assert_eq!(master.transport().read_counts(), vec![1; 25]);
    let stats = master.transport().stats();
    assert_eq!(stats.requests, 50);
    assert_eq!(stats.collisions, 0);
    assert_eq!(
        stats.bus_time_ns as u128,
        master.transport().bus_time().as_nanos()
    );
}

#[test]
fn gateway_collects_split_requests_and_forwards_replies_in_pieces() {
    let meter = VirtualMeter::new(
        1,
        "00000001C5140B04".parse().unwrap(),
        templates::synthetic(5),
    )
    .with_response_delay(11);
    let mut gateway = Gateway::new(SimBus::new(SimConfig::default(), vec![meter]));
    let req = request::req_ud2(1, true);
    assert!(gateway.feed(&req[..3], Duration::ZERO).is_none());
    let reply = gateway.feed(&req[3..], Duration::from_millis(1)).unwrap();
    let bytes = reply.bytes();
    assert_eq!(
        mbus_link::ReplyFrame::new(bytes.clone()).unwrap().address(),
        Some(1)
    );
    // 11 bit times after the request, one character every 11 bit times at 2400 baud.
    let first = reply.chars[0].at - reply.request_end;
    assert_eq!(first.as_micros(), 2 * 4583);
    let pieces = reply.pieces(Duration::from_millis(10));
    assert_eq!(
        pieces
            .iter()
            .flat_map(|(_, b)| b.clone())
            .collect::<Vec<_>>(),
        bytes
    );
    assert!(pieces.iter().all(|(_, b)| b.len() <= 3));
    assert_eq!(pieces.last().unwrap().0, reply.chars.last().unwrap().at);
    // Garbage goes on the bus as it is; nobody answers it.
    assert!(gateway
        .feed(&[0x42, 0x43], Duration::from_secs(1))
        .is_none());
    // Two requests in one piece: each is answered after its own end.
    let mut two = request::snd_nke(1).to_vec();
    two.extend_from_slice(&request::snd_nke(1));
    let reply = gateway.feed(&two, Duration::from_secs(2)).unwrap();
    assert_eq!(reply.bytes(), [0xE5, 0xE5]);
    assert_eq!(gateway.bus().stats().requests, 4);
}

#[test]
fn device_names() {
    assert_eq!(
        "tcp://gw:10001/".parse::<Device>().unwrap(),
        Device::Tcp("gw:10001".into())
    );
    assert_eq!("COM3".parse::<Device>().unwrap().to_string(), "COM3");
    assert_eq!("".parse::<Device>(), Err(DeviceError::Empty));
    assert!(matches!(
        "tcp://gw".parse::<Device>(),
        Err(DeviceError::TcpAddress(_))
    ));
    assert!(matches!(
        "tcp://:80".parse::<Device>(),
        Err(DeviceError::TcpAddress(_))
    ));
    assert!(matches!(
        "tcp://gw:99999".parse::<Device>(),
        Err(DeviceError::TcpAddress(_))
    ));
}
