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

/// Runs `ssh-keygen` to make an ECDSA key pair (PEM) at `path` unless it exists.
pub fn ssh_key(path: &Path) {
    if path.exists() {
        return;
    }
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-b", "256", "-m", "PEM", "-N", ""])
        .arg("-f")
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
}

/// The SHA-256 fingerprint of the public key beside the private key `path`, as
/// `ssh-keygen -l` prints it.
pub fn fingerprint(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(path.with_extension("pub"))
        .output()
        .expect("ssh-keygen runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no fingerprint in {text:?}"))
        .to_owned()
}

/// OpenSSH's sshd on 127.0.0.1:`port` (0 = any free port) with host key `host_key`
/// (made if missing), letting the current user log in with the key `client_key` (made if
/// missing) only. Its files live in `work`.
pub fn sshd(work: &Path, port: u16, host_key: &Path, client_key: &Path) -> Server {
    // sshd started as root insists on its privilege-separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    ssh_key(host_key);
    ssh_key(client_key);
    let authorized = work.join("authorized_keys");
    std::fs::copy(client_key.with_extension("pub"), &authorized).unwrap();
    let config = work.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nStrictModes no\n\
             UsePAM no\nPidFile none\nSubsystem sftp internal-sftp\nLogLevel ERROR\n",
            host_key.display(),
            authorized.display()
        ),
    )
    .unwrap();
    let port = if port == 0 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port()
    } else {
        port
    };
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .args(["-p", &port.to_string()])
        .stdin(Stdio::null())
        .spawn()
        .expect("sshd runs");
    let server = Server { child, port };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "sshd did not listen on {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    server
}

/// The user the tests run as (for SSH logins).
pub fn user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
