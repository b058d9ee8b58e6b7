//! Simulated meters built from corpus telegrams, for the engine and e-mail tests.

/// The corpus telegram `name` (`test-frames/<name>.hex`) as a simulator template.
pub fn corpus_template(name: &str) -> mbus_link::sim::TelegramTemplate {
    let text = std::fs::read_to_string(path(name)).unwrap();
    mbus_link::sim::TelegramTemplate::from_hex(name, &text).unwrap()
}

fn path(name: &str) -> String {
    let dir = std::env::var("MBUS_CORPUS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/libmbus").to_string()
    });
    format!("{dir}/test-frames/{name}.hex")
}

/// The corpus telegram `name` with its configuration field set to `configuration` (e.g. a
/// security mode) and its checksum fixed.
pub fn with_configuration(name: &str, configuration: u16) -> mbus_link::sim::TelegramTemplate {
    let text = std::fs::read_to_string(path(name)).unwrap();
    let mut frame = mbus_proto::hex::parse_hex(&text).unwrap();
    // 68 L L 68 C A CI, then the 12-byte long header: the configuration field is its last two.
    frame[17..19].copy_from_slice(&configuration.to_le_bytes());
    let end = frame.len() - 2;
    frame[end] = frame[4..end].iter().fold(0u8, |a, &b| a.wrapping_add(b));
    mbus_link::sim::TelegramTemplate::from_frames(name, &[&frame]).unwrap()
}
