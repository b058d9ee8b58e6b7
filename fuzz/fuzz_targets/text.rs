//! Text inputs people type: hex telegrams and secondary addresses / masks. Must never panic, and
//! whatever parses must print back to text that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mbus_proto::address::{SecondaryAddress, SecondaryMask};
use mbus_proto::hex::parse_hex;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = core::str::from_utf8(input) else {
        return;
    };
    if let Ok(bytes) = parse_hex(text) {
        assert!(!bytes.is_empty());
        let printed: String = bytes.iter().map(|b| format!("{b:02X} ")).collect();
        assert_eq!(parse_hex(&printed).as_deref(), Ok(&bytes[..]));
    }
    if let Ok(address) = text.parse::<SecondaryAddress>() {
        let printed = address.to_string();
        assert_eq!(printed.parse::<SecondaryAddress>(), Ok(address));
        assert_eq!(
            SecondaryAddress::from_bytes(address.to_bytes()),
            Ok(address)
        );
    }
    if let Ok(mask) = text.parse::<SecondaryMask>() {
        let printed = mask.to_string();
        assert_eq!(printed.parse::<SecondaryMask>(), Ok(mask));
        assert_eq!(SecondaryMask::from_bytes(mask.to_bytes()), mask);
    }
});
