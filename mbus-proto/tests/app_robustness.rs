//! The application layer never panics: arbitrary user data under every CI decodes to a value or
//! a typed error, and every output (typed values, XML, JSON) can be produced for what decodes.

use mbus_proto::app::Telegram;
use mbus_proto::record::Record;
use mbus_proto::xml::{self, Mode};
use proptest::prelude::*;

fn exercise(ci: u8, data: &[u8]) {
    let Ok(telegram) = Telegram::parse(ci, data, 7) else {
        return;
    };
    if let Telegram::Variable(v) = &telegram {
        for r in v.records() {
            match r {
                Ok(Record::Data(d)) => {
                    let typed = d.typed();
                    assert_eq!(typed.info, d.value_info());
                    // Compared as text: a real32 field may hold NaN.
                    assert_eq!(format!("{:?}", typed.value), format!("{:?}", d.value()));
                    assert_eq!(typed.scaled, d.scaled_value());
                    let _ = d.storage_number();
                    let _ = (d.tariff(), d.subunit(), d.function(), d.coding());
                    let _ = d.vib.modifiers().count();
                }
                Ok(Record::Manufacturer(m)) => {
                    let _ = m.more_records_follow();
                }
                Err(e) => assert!(e.offset() <= data.len() + 7),
            }
        }
    }
    let valid = telegram.validate().is_ok();
    for mode in [Mode::Plain, Mode::Normalized] {
        let mut out = String::from("keep");
        match xml::write(&telegram, mode, &mut out) {
            Ok(()) => assert!(out.ends_with("</MBusData>\n")),
            Err(_) => assert_eq!(out, "keep", "nothing half-written"),
        }
    }
    assert_eq!(serde_json::to_string(&telegram).is_ok(), valid);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_user_data_never_panics(
        ci in prop::sample::select(vec![0x70u8, 0x71, 0x72, 0x73, 0x76, 0x77, 0x78, 0x7A, 0x51]),
        data in prop::collection::vec(any::<u8>(), 0..252),
    ) {
        exercise(ci, &data);
    }

    #[test]
    fn random_records_after_a_header_never_panic(
        ci in prop::sample::select(vec![0x72u8, 0x76]),
        records in prop::collection::vec(any::<u8>(), 0..240),
    ) {
        let mut data = vec![0x78, 0x56, 0x34, 0x12, 0x2D, 0x2C, 0x01, 0x04, 0x2A, 0x00, 0x00, 0x00];
        data.extend_from_slice(&records);
        exercise(ci, &data);
    }
}
