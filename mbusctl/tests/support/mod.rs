//! What the CLI tests against a simulated bus share: `mbusctl simulate` on a free port and
//! running `mbusctl` itself.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

/// The `mbusctl` binary under test.
pub const MBUSCTL: &str = env!("CARGO_BIN_EXE_mbusctl");

/// `mbusctl simulate` listening on 127.0.0.1 (a free port); killed when dropped.
pub struct Simulator {
    child: Child,
    /// Kept open so that the simulator can print its summary on exit.
    stdout: BufReader<ChildStdout>,
    /// `HOST:PORT` it listens on.
    pub address: String,
}

impl Simulator {
    /// Starts `mbusctl simulate --listen 127.0.0.1:0` with `args`.
    pub fn start(args: &[&str]) -> Simulator {
        let mut child = Command::new(MBUSCTL)
            .args(["simulate", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mbusctl simulate");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("first line");
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Simulator {
            child,
            stdout,
            address,
        }
    }

    /// SIGTERM, then what it printed on exit.
    pub fn terminate(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        assert!(self.child.wait().expect("wait").success());
        let mut rest = String::new();
        for line in (&mut self.stdout).lines() {
            rest.push_str(&line.expect("stdout line"));
            rest.push('\n');
        }
        rest
    }

    /// The `--device` argument for it.
    pub fn device(&self) -> String {
        format!("tcp://{}", self.address)
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `mbusctl` with `args`.
pub fn mbusctl(args: &[&str]) -> Output {
    Command::new(MBUSCTL)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run mbusctl")
}

/// Stdout parsed as JSON.
pub fn stdout_json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The libmbus corpus folder (`MBUS_CORPUS`, default beside the checkout); `None` (and a loud
/// note) outside CI when it is missing, a failure in CI.
pub fn corpus() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("MBUS_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpus/libmbus"
            ))
        });
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "corpus folder {} is missing (set MBUS_CORPUS)",
        dir.display()
    );
    eprintln!(
        "\n*** SKIPPING corpus checks: {} not found (set MBUS_CORPUS) ***\n",
        dir.display()
    );
    None
}
