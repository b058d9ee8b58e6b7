//! Local servers for the upload tests, shared by the test suites of logger-core, mbusctl
//! and mbus-centerd (included by path): the Python scripts beside this file, started on
//! 127.0.0.1 and ended when dropped (and when the test process dies: they exit when their
//! stdin closes).
#![allow(dead_code)] // each suite uses what it needs

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A server process, killed when dropped.
pub struct Server {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The script `name` (every crate of the workspace sits beside logger-core).
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../logger-core/tests/servers")
        .join(name)
}

/// Starts `script` with `args` and waits for its "READY <port>" line.
pub fn spawn(name: &str, args: &[&str]) -> Server {
    let mut child = Command::new("python3")
        .arg(script(name))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{name} did not start: {line:?}"));
    Server { child, port }
}

/// FTP (or FTPS with `tls` = (cert, key)) serving `root` on `port` (0 = any); user
/// `logger`, password `secret`; `root/readonly` is not writable. Transfers are logged in
/// `transfers.log` beside `root`.
pub fn ftp(root: &Path, port: u16, tls: Option<(&Path, &Path)>) -> Server {
    std::fs::create_dir_all(root).unwrap();
    let root = root.to_str().unwrap().to_owned();
    let port = port.to_string();
    match tls {
        None => spawn("ftp_server.py", &[&root, &port]),
        Some((cert, key)) => spawn(
            "ftp_server.py",
            &[&root, &port, cert.to_str().unwrap(), key.to_str().unwrap()],
        ),
    }
}

/// How many times each name was renamed into place on the FTP server whose root is in
/// `work`.
pub fn renames(work: &Path) -> BTreeMap<String, usize> {
    let log = std::fs::read_to_string(work.join("transfers.log")).unwrap_or_default();
    let mut out = BTreeMap::new();
    for name in log.lines().filter_map(|l| l.strip_prefix("RNTO ")) {
        *out.entry(name.to_owned()).or_default() += 1;
    }
    out
}
