//! Medium (device type) codes of EN 13757-3: names and the short forms used in meter names.

/// `(code, four-letter short form)` for every assigned medium code.
const MEDIA: [(u8, &str); 22] = [
    (0x00, "othr"),
    (0x01, "oil"),
    (0x02, "elec"),
    (0x03, "gas"),
    (0x04, "heat"),
    (0x05, "stem"),
    (0x06, "warm"),
    (0x07, "watr"),
    (0x08, "hca"),
    (0x09, "air"),
    (0x0A, "cool"),
    (0x0B, "cool"),
    (0x0C, "heat"),
    (0x0D, "htcl"),
    (0x0E, "bus"),
    (0x0F, "unkn"),
    (0x15, "hotw"),
    (0x16, "cold"),
    (0x17, "dual"),
    (0x18, "pres"),
    (0x19, "adc"),
    (0x1A, "smok"),
];

/// English name of a medium code (the libmbus texts), `Reserved` for unassigned codes.
///
/// ```
/// assert_eq!(logger_core::medium::name(0x04), "Heat: Outlet");
/// ```
pub fn name(code: u8) -> &'static str {
    mbus_proto::names::medium_name(code).unwrap_or("Reserved")
}

/// Short form of at most four lower-case letters, as used in automatic meter names.
///
/// ```
/// assert_eq!(logger_core::medium::short(0x07), "watr");
/// ```
pub fn short(code: u8) -> &'static str {
    MEDIA
        .iter()
        .find(|m| m.0 == code)
        .map(|m| m.1)
        .unwrap_or("rsvd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_have_at_most_four_letters() {
        for (code, s) in MEDIA {
            assert!(s.len() <= 4 && !s.is_empty(), "{code:#x}");
            assert_eq!(short(code), s);
        }
        assert_eq!(short(0x30), "rsvd");
        assert_eq!(name(0x07), "Water");
    }
}
