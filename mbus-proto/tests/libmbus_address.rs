//! Secondary addresses as libmbus prints them for corpus telegrams (`%08X` of the BCD ident read
//! as hex digits, then the manufacturer low byte, high byte, version and medium as `%02X`, i.e.
//! the last four header bytes in wire order) parse to the meter's address and print back the
//! same; a string a technician copies from a libmbus tool selects the same meter with ours.
//!
//! The expected strings were worked out by hand from the header bytes of each `.hex` file and
//! checked against its `.xml` (Id, Manufacturer, Version, Medium).

use mbus_proto::address::{SecondaryAddress, SecondaryMask};
use mbus_proto::app::{decode_frame, Header, Telegram};
use mbus_proto::hex::parse_hex;
use std::path::PathBuf;

/// One corpus meter: what libmbus prints and what the text stands for.
struct Row {
    file: &'static str,
    text: &'static str,
    ident: u32,
    letters: &'static [u8; 3],
    version: u8,
    medium: u8,
}

const fn row(
    file: &'static str,
    text: &'static str,
    ident: u32,
    letters: &'static [u8; 3],
    version: u8,
    medium: u8,
) -> Row {
    Row {
        file,
        text,
        ident,
        letters,
        version,
        medium,
    }
}

const TABLE: [Row; 8] = [
    // 72 | 17 58 85 06 | 2D 2C | 08 | 04
    row(
        "kamstrup_multical_601",
        "068558172D2C0804",
        6_855_817,
        b"KAM",
        8,
        0x04,
    ),
    // 72 | 78 03 49 11 | 77 04 | 0E | 16
    row(
        "ACW_Itron-BM-plus-m",
        "1149037877040E16",
        11_490_378,
        b"ACW",
        14,
        0x16,
    ),
    // 72 | 29 26 03 00 | B5 15 | 10 | 02
    row(
        "EMU_EMU-Professional-375-M-Bus",
        "00032629B5151002",
        32_629,
        b"EMU",
        16,
        0x02,
    ),
    // 72 | 51 39 49 44 | 93 15 | 2F | 04
    row(
        "ELS_Elster-F96-Plus",
        "4449395193152F04",
        44_493_951,
        b"ELS",
        47,
        0x04,
    ),
    // 72 | 07 20 18 00 | E6 1E | 35 | 07
    row(
        "GWF-MTKcoder",
        "00182007E61E3507",
        182_007,
        b"GWF",
        53,
        0x07,
    ),
    // 72 | 89 16 35 24 | AE 4C | 0B | 04
    row(
        "SEN_Sensus-PolluTherm",
        "24351689AE4C0B04",
        24_351_689,
        b"SEN",
        11,
        0x04,
    ),
    // 72 | 58 20 08 12 | E2 30 | 40 | 03
    row("LGB_G350", "12082058E2304003", 12_082_058, b"LGB", 64, 0x03),
    // 72 | 84 50 42 31 | 4D 6A | 81 | 04
    row(
        "ZRM_Minol-Minocal-C2",
        "314250844D6A8104",
        31_425_084,
        b"ZRM",
        129,
        0x04,
    ),
];

#[test]
fn libmbus_strings_round_trip_through_parser_and_printer() {
    for Row {
        file,
        text,
        ident,
        letters,
        version,
        medium,
    } in TABLE
    {
        let address: SecondaryAddress = text.parse().unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(address.ident, ident, "{file}");
        assert_eq!(&address.manufacturer_letters(), letters, "{file}");
        assert_eq!(
            (address.version, address.medium),
            (version, medium),
            "{file}"
        );
        assert_eq!(address.to_string(), text, "{file}");
        let mask: SecondaryMask = text.parse().unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(mask, SecondaryMask::exact(&address), "{file}");
        assert_eq!(mask.to_string(), text, "{file}");
    }
}

#[test]
fn libmbus_strings_name_the_corpus_meters() {
    let dir = std::env::var_os("MBUS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpus/libmbus"
            ))
        })
        .join("test-frames");
    if !dir.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "corpus folder {} is missing (set MBUS_CORPUS)",
            dir.display()
        );
        eprintln!(
            "\n*** SKIPPING: corpus folder {} not found ***\n",
            dir.display()
        );
        return;
    }
    for Row { file, text, .. } in TABLE {
        let hex = std::fs::read_to_string(dir.join(format!("{file}.hex"))).unwrap();
        let bytes = parse_hex(&hex).unwrap();
        let Telegram::Variable(data) = decode_frame(&bytes).unwrap() else {
            panic!("{file}: not a variable data telegram")
        };
        let Header::Long(header) = &data.header else {
            panic!("{file}: no long header")
        };
        let address = header.secondary_address().unwrap();
        assert_eq!(address.to_string(), text, "{file}");
        // The select libmbus sends for this string carries these 8 bytes: the ident as
        // little-endian BCD, then the remaining bytes exactly as written.
        let select_bytes = text.parse::<SecondaryMask>().unwrap().to_bytes();
        assert_eq!(select_bytes, address.to_bytes(), "{file}");
        assert_eq!(&bytes[7..15], &select_bytes, "{file}: header bytes");
    }
}
