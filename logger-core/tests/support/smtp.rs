//! A real SMTP server for tests: `tests/smtp/server.py` (aiosmtpd) on 127.0.0.1, started per
//! test and killed when dropped. Received mails are read back from its mail directory.
//!
//! Included by the e-mail tests of several crates, each using part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One received mail, decoded by the server.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// Decoded subject.
    pub subject: String,
    /// Decoded plain-text body.
    pub body: String,
}

/// How the server is set up.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Offer (and require) STARTTLS with a certificate from a CA made at start.
    pub starttls: bool,
    /// Talk TLS from the first byte, with a certificate from a CA made at start.
    pub tls: bool,
    /// Require a login with this user and password.
    pub auth: Option<(&'static str, &'static str)>,
}

/// A running server.
pub struct SmtpServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    maildir: tempfile::TempDir,
    certs: tempfile::TempDir,
}

fn script() -> PathBuf {
    // Through the workspace, so the CLI's tests find it too.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../logger-core/tests/smtp/server.py")
}

/// Whether `python3` has aiosmtpd; in CI a missing one fails, elsewhere tests skip loudly.
pub fn available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("openssl")
            .arg("version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "aiosmtpd or openssl is missing: pip install aiosmtpd"
    );
    if !ok {
        eprintln!("\n*** SKIPPING SMTP tests: pip install aiosmtpd (and openssl) ***\n");
    }
    ok
}

/// The login the tests' STARTTLS server asks for.
pub const LOGIN: (&str, &str) = ("logger", "s3cret");

/// Points `e` at the server on 127.0.0.1:`port` with short timeouts; recipients and security
/// are left to the test.
pub fn point_at(e: &mut logger_core::config::Email, port: u16) {
    e.enabled = true;
    e.server = "127.0.0.1".into();
    e.port = port;
    e.sender_address = "logger@example.org".into();
    e.connect_timeout_s = 5;
    e.send_timeout_s = 5;
    e.receive_timeout_s = 5;
}

/// Makes `e` log in as [`LOGIN`]'s user with `password`.
pub fn log_in(e: &mut logger_core::config::Email, password: &str) {
    e.auth = true;
    e.username = LOGIN.0.into();
    e.password = password.into();
}

impl SmtpServer {
    /// A server offering STARTTLS that requires [`LOGIN`].
    pub fn start_with_login() -> SmtpServer {
        SmtpServer::start(Options {
            starttls: true,
            auth: Some(LOGIN),
            ..Options::default()
        })
    }

    /// Starts the server and waits until it listens.
    pub fn start(options: Options) -> SmtpServer {
        let maildir = tempfile::tempdir().unwrap();
        let certs = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg(script()).arg(maildir.path());
        if options.starttls {
            cmd.arg("--starttls").arg(certs.path());
        }
        if options.tls {
            cmd.arg("--tls").arg(certs.path());
        }
        if let Some((user, password)) = options.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("SMTP server did not start: {line:?}"));
        SmtpServer {
            child,
            port,
            maildir,
            certs,
        }
    }

    /// The CA certificate clients must trust (STARTTLS and TLS only).
    pub fn ca_file(&self) -> String {
        self.certs.path().join("ca.pem").display().to_string()
    }

    /// The mails received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.maildir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits (bounded) until at least `n` mails arrived; returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails = self.received();
            if mails.len() >= n || Instant::now() > deadline {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 where nothing listens (a dead mail server).
#[allow(dead_code)]
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
