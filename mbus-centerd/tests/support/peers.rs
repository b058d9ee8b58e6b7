//! Independent client programs (Python scripts under `tests/peers/`) that the protocol
//! tests run against the daemon.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The path of peer script `name`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

/// True when `python3` can import `module`; a missing module fails under CI (where
/// `.ci/run` installs it) and skips loudly elsewhere, naming the `pip install` that fixes it.
pub fn python_module(module: &str, install: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "{module} is missing: pip install {install}"
    );
    if !ok {
        eprintln!("\n*** SKIPPING {module} peer checks: pip install {install} ***\n");
    }
    ok
}
