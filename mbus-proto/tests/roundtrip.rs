//! Property tests of the frame layer: encode → parse is the identity for every frame kind and
//! every request builder, parsing arbitrary bytes never panics and streams consistently, and
//! addresses round-trip through text and wire bytes.

use mbus_proto::address::{BaudRate, SecondaryAddress, SecondaryMask, SELECTED_ADDRESS};
use mbus_proto::frame::{
    Control, EncodeError, Frame, FrameBuf, FrameError, Parsed, MAX_DATA_LEN, MAX_FRAME_LEN,
};
use mbus_proto::request;
use proptest::prelude::*;

/// Parses `bytes` as exactly one complete frame, checking the streaming parser agrees.
fn parse_one(bytes: &[u8]) -> Frame<'_> {
    let frame = Frame::parse_exact(bytes).unwrap();
    assert_eq!(
        Frame::parse(bytes).unwrap(),
        Parsed::Complete {
            frame,
            consumed: bytes.len()
        }
    );
    frame
}

/// (control, address, ci, data) of a frame with a C field; a control frame has empty data.
fn long_fields<'a>(frame: &Frame<'a>) -> (Control, u8, u8, &'a [u8]) {
    match *frame {
        Frame::Control {
            control,
            address,
            ci,
        } => (control, address, ci, &[]),
        Frame::Long {
            control,
            address,
            ci,
            data,
        } => (control, address, ci, data),
        other => panic!("expected a control or long frame, got {other:?}"),
    }
}

fn short_fields(frame: &Frame<'_>) -> (Control, u8) {
    match *frame {
        Frame::Short { control, address } => (control, address),
        other => panic!("expected a short frame, got {other:?}"),
    }
}

fn baud_rate() -> impl Strategy<Value = BaudRate> {
    prop::sample::select(BaudRate::ALL.to_vec())
}

fn secondary_address() -> impl Strategy<Value = SecondaryAddress> {
    (0u32..=99_999_999, any::<u16>(), any::<u8>(), any::<u8>()).prop_map(
        |(ident, manufacturer, version, medium)| SecondaryAddress {
            ident,
            manufacturer,
            version,
            medium,
        },
    )
}

/// A frame of any kind; long frames carry 1…252 data bytes.
#[derive(Debug, Clone)]
enum FrameSpec {
    Ack,
    Short(u8, u8),
    Control(u8, u8, u8),
    Long(u8, u8, u8, Vec<u8>),
}

impl FrameSpec {
    fn frame(&self) -> Frame<'_> {
        match *self {
            FrameSpec::Ack => Frame::Ack,
            FrameSpec::Short(c, address) => Frame::Short {
                control: Control(c),
                address,
            },
            FrameSpec::Control(c, address, ci) => Frame::Control {
                control: Control(c),
                address,
                ci,
            },
            FrameSpec::Long(c, address, ci, ref data) => Frame::Long {
                control: Control(c),
                address,
                ci,
                data,
            },
        }
    }
}

fn frame_spec() -> impl Strategy<Value = FrameSpec> {
    prop_oneof![
        Just(FrameSpec::Ack),
        (any::<u8>(), any::<u8>()).prop_map(|(c, a)| FrameSpec::Short(c, a)),
        (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(c, a, ci)| FrameSpec::Control(c, a, ci)),
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 1..=MAX_DATA_LEN)
        )
            .prop_map(|(c, a, ci, data)| FrameSpec::Long(c, a, ci, data)),
    ]
}

fn valid_frame_bytes() -> impl Strategy<Value = Vec<u8>> {
    frame_spec().prop_map(|spec| spec.frame().encode().unwrap().to_vec())
}

/// Bytes that often look like the start of a frame: valid frames, mutated or cut, or noise.
fn frame_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        valid_frame_bytes(),
        (
            valid_frame_bytes(),
            any::<prop::sample::Index>(),
            any::<u8>()
        )
            .prop_map(|(mut b, i, v)| {
                let i = i.index(b.len());
                b[i] = v;
                b
            }),
        (valid_frame_bytes(), any::<prop::sample::Index>())
            .prop_map(|(b, i)| b[..i.index(b.len() + 1)].to_vec()),
        (
            prop::sample::select(vec![0x10u8, 0x68, 0xE5]),
            prop::collection::vec(any::<u8>(), 0..20)
        )
            .prop_map(|(start, rest)| [vec![start], rest].concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_frame_kind_round_trips(spec in frame_spec()) {
        let frame = spec.frame();
        let buf = frame.encode().unwrap();
        prop_assert_eq!(buf.len(), frame.encoded_len());
        prop_assert!(buf.len() <= MAX_FRAME_LEN);
        prop_assert_eq!(parse_one(&buf), frame);
        let mut out = [0u8; MAX_FRAME_LEN];
        let written = frame.encode_into(&mut out).unwrap();
        prop_assert_eq!(&out[..written], &*buf);
        // A buffer one byte short is refused, naming both sizes, and left untouched.
        let mut short = vec![0xAAu8; buf.len() - 1];
        prop_assert_eq!(
            frame.encode_into(&mut short),
            Err(EncodeError::BufferTooSmall { needed: buf.len(), available: buf.len() - 1 })
        );
        prop_assert!(short.iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn concatenated_frames_stream_back_in_order(
        specs in prop::collection::vec(frame_spec(), 1..6),
    ) {
        let wire: Vec<u8> =
            specs.iter().flat_map(|s| s.frame().encode().unwrap().to_vec()).collect();
        let mut rest = &wire[..];
        for spec in &specs {
            match Frame::parse(rest).unwrap() {
                Parsed::Complete { frame, consumed } => {
                    prop_assert_eq!(frame, spec.frame());
                    rest = &rest[consumed..];
                }
                Parsed::Incomplete { needed } => {
                    prop_assert!(false, "incomplete, {} needed", needed)
                }
            }
        }
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn short_requests_round_trip(address in any::<u8>(), fcb in any::<bool>()) {
        let (control, a) = short_fields(&parse_one(&request::snd_nke(address)));
        prop_assert_eq!((control, a), (Control::SND_NKE, address));

        for (buf, base) in [
            (request::req_ud2(address, fcb), Control::REQ_UD2),
            (request::req_ud1(address, fcb), Control::REQ_UD1),
        ] {
            let (control, a) = short_fields(&parse_one(&buf));
            prop_assert_eq!(a, address);
            prop_assert_eq!(control, base.with_fcb(fcb));
            prop_assert_eq!(control.fcb(), fcb);
            prop_assert!(control.fcv());
            prop_assert!(control.is_from_master());
            prop_assert_eq!(control.function(), base.function());
        }
    }

    #[test]
    fn snd_ud_round_trips(
        address in any::<u8>(),
        fcb in any::<bool>(),
        ci in any::<u8>(),
        data in prop::collection::vec(any::<u8>(), 0..=MAX_DATA_LEN),
    ) {
        let buf = request::snd_ud(address, fcb, ci, &data).unwrap();
        let frame = parse_one(&buf);
        prop_assert_eq!(matches!(frame, Frame::Control { .. }), data.is_empty());
        let (control, a, c, d) = long_fields(&frame);
        let expected = (Control::SND_UD.with_fcb(fcb), address, ci, &data[..]);
        prop_assert_eq!((control, a, c, d), expected);
    }

    #[test]
    fn oversized_data_is_an_error_not_a_frame(len in MAX_DATA_LEN + 1..400usize) {
        let data = vec![0u8; len];
        prop_assert!(request::snd_ud(1, false, 0x51, &data).is_err());
        prop_assert!(request::rsp_ud(1, 0x72, &data).is_err());
    }

    #[test]
    fn secondary_select_round_trips_with_wildcards(
        address in secondary_address(),
        wild_nibbles in prop::collection::vec(0usize..16, 0..16),
        wild_bytes in prop::collection::vec(0usize..8, 0..3),
    ) {
        let mut mask = SecondaryMask::exact(&address);
        for &i in &wild_nibbles {
            mask = mask.with_nibble(i, 0xF);
        }
        for &byte in &wild_bytes {
            mask = mask.with_nibble(2 * byte, 0xF).with_nibble(2 * byte + 1, 0xF);
        }
        let buf = request::select_secondary(&mask);
        let (control, a, ci, data) = long_fields(&parse_one(&buf));
        prop_assert_eq!((control, a, ci), (Control::SND_UD, SELECTED_ADDRESS, request::CI_SELECT));
        let wire: [u8; 8] = data.try_into().unwrap();
        let sent = SecondaryMask::from_bytes(wire);
        prop_assert_eq!(sent, mask);
        prop_assert!(sent.matches(&address));
        // Every nibble that is not a wildcard still decides the match.
        let text = address.to_string();
        for i in 0..16 {
            let wild = sent.nibble(i) == 0xF;
            let own = text[i..=i].chars().next().and_then(|c| c.to_digit(16)).unwrap() as u8;
            prop_assert!(wild || sent.nibble(i) == own, "nibble {} of {} vs {}", i, sent, text);
        }
    }

    #[test]
    fn application_reset_round_trips(address in any::<u8>(), subcode in any::<Option<u8>>()) {
        let buf = request::application_reset(address, subcode);
        let (control, a, ci, data) = long_fields(&parse_one(&buf));
        let expected = (Control::SND_UD, address, request::CI_APPLICATION_RESET);
        prop_assert_eq!((control, a, ci), expected);
        prop_assert_eq!(data, subcode.as_slice());
    }

    #[test]
    fn baud_switch_round_trips(address in any::<u8>(), baud in baud_rate()) {
        let buf = request::switch_baud(address, baud);
        let frame = parse_one(&buf);
        prop_assert!(matches!(frame, Frame::Control { .. }), "{:?}", frame);
        let (control, a, ci, _) = long_fields(&frame);
        prop_assert_eq!((control, a), (Control::SND_UD, address));
        prop_assert_eq!(BaudRate::from_switch_ci(ci), Some(baud));
        prop_assert_eq!(BaudRate::from_bps(baud.bps()), Ok(baud));
    }

    #[test]
    fn set_primary_address_round_trips(address in any::<u8>(), new_address in any::<u8>()) {
        let buf = request::set_primary_address(address, new_address);
        let (control, a, ci, data) = long_fields(&parse_one(&buf));
        prop_assert_eq!((control, a, ci), (Control::SND_UD, address, request::CI_DATA_SEND));
        prop_assert_eq!(data, &[0x01, request::VIF_BUS_ADDRESS, new_address][..]);
    }

    #[test]
    fn rsp_ud_round_trips(
        address in any::<u8>(),
        ci in any::<u8>(),
        data in prop::collection::vec(any::<u8>(), 1..=MAX_DATA_LEN),
    ) {
        let buf = request::rsp_ud(address, ci, &data).unwrap();
        let frame = parse_one(&buf);
        prop_assert_eq!(frame, Frame::Long { control: Control::RSP_UD, address, ci, data: &data });
        prop_assert!(!Control::RSP_UD.is_from_master());
    }

    #[test]
    fn parse_never_panics_and_streams_consistently(bytes in frame_like_bytes()) {
        let whole = Frame::parse(&bytes);
        match whole {
            Ok(Parsed::Complete { frame, consumed }) => {
                prop_assert!(consumed >= 1 && consumed <= bytes.len());
                prop_assert_eq!(&*frame.encode().unwrap(), &bytes[..consumed]);
            }
            Ok(Parsed::Incomplete { needed }) => {
                prop_assert!(needed >= 1 && bytes.len() + needed <= MAX_FRAME_LEN);
                let exact = Frame::parse_exact(&bytes);
                prop_assert!(
                    matches!(exact, Err(FrameError::Truncated { needed: n, .. }) if n == needed)
                        || matches!(
                            exact,
                            Err(FrameError::TruncatedLong { needed: total, got, .. })
                                if got == bytes.len() && total >= got + needed
                        ),
                    "{:?}",
                    exact
                );
            }
            Err(e) => {
                prop_assert!(e.offset() < bytes.len());
                prop_assert_eq!(Frame::parse_exact(&bytes), Err(e));
                prop_assert!(!e.to_string().is_empty());
            }
        }
        // A receiver seeing the bytes arrive one at a time learns nothing different: each
        // prefix is incomplete or already gives the whole input's outcome.
        for cut in 0..bytes.len() {
            match Frame::parse(&bytes[..cut]) {
                Ok(Parsed::Incomplete { needed }) => {
                    if let Ok(Parsed::Complete { consumed, .. }) = whole {
                        prop_assert!(cut + needed <= consumed);
                    }
                }
                prefix => prop_assert_eq!(prefix, whole, "prefix of {} bytes", cut),
            }
        }
    }

    #[test]
    fn secondary_address_text_and_bytes_round_trip(address in secondary_address()) {
        let text = address.to_string();
        prop_assert_eq!(text.len(), 16);
        prop_assert_eq!(text.parse::<SecondaryAddress>(), Ok(address));
        prop_assert_eq!(SecondaryAddress::from_bytes(address.to_bytes()), Ok(address));
        // libmbus's layout: the ident digits, then the last four wire bytes as they are sent.
        let wire = address.to_bytes();
        let tail: String = wire[4..].iter().map(|b| format!("{b:02X}")).collect();
        prop_assert_eq!(&text[..8], format!("{:08}", address.ident));
        prop_assert_eq!(&text[8..], tail);
        prop_assert_eq!(SecondaryMask::exact(&address).to_string(), text);
        prop_assert!(SecondaryMask::exact(&address).matches(&address));
        prop_assert!(SecondaryMask::ALL.matches(&address));
    }

    #[test]
    fn secondary_address_bytes_decode_iff_bcd(bytes in any::<[u8; 8]>()) {
        let bcd = bytes[..4].iter().all(|b| b >> 4 <= 9 && b & 0x0F <= 9);
        match SecondaryAddress::from_bytes(bytes) {
            Ok(address) => {
                prop_assert!(bcd);
                prop_assert_eq!(address.to_bytes(), bytes);
            }
            Err(e) => {
                prop_assert!(!bcd);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn secondary_mask_text_and_bytes_round_trip(
        bytes in any::<[u8; 8]>(),
        wild in prop::collection::vec(0usize..16, 0..8),
    ) {
        let mask = SecondaryMask::from_bytes(bytes);
        prop_assert_eq!(mask.to_bytes(), bytes);
        let text = mask.to_string();
        prop_assert_eq!(text.len(), 16);
        prop_assert_eq!(text.parse::<SecondaryMask>(), Ok(mask));
        // `?` is another way to write a wildcard nibble.
        let mut question: Vec<char> = text.chars().collect();
        for &i in &wild {
            question[i] = '?';
        }
        let question: String = question.into_iter().collect();
        let mut expected = mask;
        for &i in &wild {
            expected = expected.with_nibble(i, 0xF);
        }
        prop_assert_eq!(question.parse::<SecondaryMask>(), Ok(expected));
        for i in 0..16 {
            let shown = text[i..=i].chars().next().and_then(|c| c.to_digit(16));
            prop_assert_eq!(Some(u32::from(mask.nibble(i))), shown);
            prop_assert_eq!(mask.with_nibble(i, mask.nibble(i)), mask);
        }
    }
}

#[test]
fn ack_round_trips() {
    let buf: FrameBuf = request::ack();
    assert_eq!(parse_one(&buf), Frame::Ack);
    assert_eq!(&*buf, &[0xE5]);
}
