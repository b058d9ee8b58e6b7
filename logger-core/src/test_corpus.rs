//! The libmbus corpus of real meter telegrams, for the unit tests: the directory named by
//! `MBUS_CORPUS`, by default `shared/corpus/libmbus` beside the workspace.

use std::path::PathBuf;

/// The corpus's `test-frames` directory (one `<name>.hex` per telegram).
pub(crate) fn frames_dir() -> PathBuf {
    let corpus = std::env::var("MBUS_CORPUS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/libmbus").to_string()
    });
    PathBuf::from(corpus).join("test-frames")
}

/// The bytes of the corpus telegram `name`.
pub(crate) fn frame(name: &str) -> Vec<u8> {
    let path = frames_dir().join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    mbus_proto::hex::parse_hex(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
