//! Locates and loads the libmbus telegram corpus for tests and benchmarks.
//!
//! The directory is `$MBUS_CORPUS`, or `shared/corpus/libmbus` beside the workspace.

use mbus_proto::hex::parse_hex;
use std::path::{Path, PathBuf};

/// The corpus root directory.
pub fn dir() -> PathBuf {
    match std::env::var_os("MBUS_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/libmbus"),
    }
}

/// Every `.hex` file in `sub` (e.g. `test-frames`), sorted by name, as (file name, bytes).
/// Panics with the path if the directory or a file cannot be read or is not hex.
pub fn frames(sub: &str) -> Vec<(String, Vec<u8>)> {
    let dir = dir().join(sub);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus directory {}: {e} (set MBUS_CORPUS)", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "hex"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .hex files in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let bytes = parse_hex(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            (name.unwrap_or_default(), bytes)
        })
        .collect()
}
