//! What the daemon tests share: `mbus-centerd` started as a process, its log read until a
//! number of read cycles are done, and a clean stop with SIGTERM.

#![allow(dead_code)] // each test binary uses its own part

pub mod fleet;

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;

pub mod http;
pub mod peers;

/// A running `mbus-centerd`; killed by a watchdog after 90 s so that a hang fails the test.
pub struct Daemon {
    child: Child,
    lines: Lines<BufReader<ChildStderr>>,
    /// Every log line read so far.
    pub log: Vec<String>,
    /// Dropped when the daemon has ended: the watchdog then stands down (it must not kill a
    /// later process that got the same pid).
    watchdog: Option<mpsc::Sender<()>>,
}

impl Daemon {
    /// Starts `mbus-centerd` with `args`, its web server on a free port and a simulated bus
    /// in virtual time.
    pub fn start(args: &[&str]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mbus-centerd"))
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--fast-sim"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mbus-centerd");
        let pid = child.id().to_string();
        let (watchdog, ended) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) =
                ended.recv_timeout(std::time::Duration::from_secs(90))
            {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        });
        let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        Daemon {
            child,
            lines,
            log: Vec::new(),
            watchdog: Some(watchdog),
        }
    }

    /// Starts `mbus-centerd` with its data in `dir` on a simulated bus of three meters at
    /// 9600 baud, reading every `cycle`.
    pub fn simulated(dir: &Path, cycle: &str) -> Daemon {
        Daemon::simulate(dir, 3, &["--baud", "9600", "--cycle", cycle])
    }

    /// Starts `mbus-centerd` with its data in `dir` on a simulated bus of `meters` meters, with
    /// `extra` arguments.
    pub fn simulate(dir: &Path, meters: usize, extra: &[&str]) -> Daemon {
        let meters = meters.to_string();
        let mut args = vec![
            "--data-dir",
            dir.to_str().expect("UTF-8 path"),
            "--simulate",
            &meters,
        ];
        args.extend_from_slice(extra);
        Daemon::start(&args)
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first log line that contains `needle`, reading on until there is one.
    pub fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.log.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        for line in self.lines.by_ref() {
            let line = line.expect("log line");
            self.log.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
        panic!(
            "the daemon ended before logging {needle:?}: {:#?}",
            self.log
        );
    }

    /// Reads the log until the web server says where it listens; returns its base URL
    /// (`http://127.0.0.1:PORT`).
    pub fn wait_for_web(&mut self) -> String {
        let line = self.wait_for("web UI and REST API at ");
        let start = line.find("http://").expect("URL in the log line");
        line[start..]
            .split_whitespace()
            .next()
            .expect("URL")
            .trim_end_matches('/')
            .to_string()
    }

    /// Reads the log until `cycles` read cycles are done (or the daemon ends).
    pub fn wait_for_cycles(&mut self, cycles: usize) {
        let mut done = 0;
        for line in self.lines.by_ref() {
            let line = line.expect("log line");
            done += usize::from(line.contains("read cycle done"));
            self.log.push(line);
            if done == cycles {
                break;
            }
        }
    }

    /// Sends SIGTERM, reads the rest of the log and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success());
        self.log
            .extend(self.lines.by_ref().map(|l| l.expect("log line")));
        let status = self.child.wait().expect("wait");
        drop(self.watchdog.take());
        status
    }

    /// Kills the daemon with SIGKILL (no clean stop) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.watchdog.take());
    }
}

impl Drop for Daemon {
    /// A test that fails half way leaves no daemon running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `mbusctl` binary of the same build (`cargo test --workspace` builds it; alone, run
/// `cargo build -p mbusctl` first).
pub fn mbusctl() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> → target/<profile>/mbusctl
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join(format!("mbusctl{}", std::env::consts::EXE_SUFFIX)))
        .unwrap();
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p mbusctl` (or test the whole workspace)",
        path.display()
    );
    path
}

/// A daemon on a simulated bus of `meters` meters in a fresh data directory, with `extra`
/// arguments; returned with its base URL and the directory once the first scan is done.
pub fn simulated(meters: usize, extra: &[&str]) -> (Daemon, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("data directory");
    let mut daemon = Daemon::simulate(dir.path(), meters, extra);
    let url = daemon.wait_for_web();
    daemon.wait_for("scan done");
    (daemon, url, dir)
}
