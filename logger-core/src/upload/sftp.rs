//! SFTP uploads with host-key checking.
//!
//! The server's host key is identified by its SHA-256 fingerprint as OpenSSH prints it
//! (`SHA256:` and unpadded base64). A fingerprint pinned in the settings must match. Without
//! one, the first key seen for `host:port` is trusted and written to the known-hosts file
//! in the data directory; a later, different key is refused (and the upload fails with a
//! host-key error until the user pins the new key or removes the old line).
//!
//! Like FTP, a file is written as `<name>.part` and renamed, and the server is asked for the
//! size of `<name>` before sending it again.

use super::{store_unless_there, Target, UploadError};
use base64::Engine as _;
use ssh2::{ErrorCode, HashType, RenameFlags, Session, Sftp};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the client logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SftpAuth {
    /// User name and password.
    Password(String),
    /// A private key file (PEM or OpenSSH format, no passphrase).
    KeyFile(PathBuf),
}

/// Where and how to upload by SFTP.
#[derive(Debug, Clone, PartialEq)]
pub struct SftpSettings {
    /// Server host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Login user.
    pub username: String,
    /// Password or key.
    pub auth: SftpAuth,
    /// Remote directory the files go to.
    pub path: String,
    /// The pinned host key fingerprint (`SHA256:…`), if any.
    pub host_key: Option<String>,
    /// Known-hosts file for trust on first use (`host:port fingerprint` per line).
    pub known_hosts: PathBuf,
    /// Connect, read and write timeout.
    pub timeout: Duration,
}

/// An SFTP server; connects on first use and keeps the session while it works.
pub struct SftpTarget {
    settings: SftpSettings,
    session: Option<(Session, Sftp)>,
}

impl std::fmt::Debug for SftpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpTarget")
            .field("host", &self.settings.host)
            .field("port", &self.settings.port)
            .field("connected", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

/// The OpenSSH-style fingerprint of a SHA-256 host key hash.
fn fingerprint(hash: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(hash)
    )
}

/// The fingerprint the known-hosts file holds for `who`, if any.
fn known(path: &Path, who: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (host, key) = line.split_once(' ')?;
        (host == who).then(|| key.trim().to_owned())
    })
}

/// A failed SFTP operation on `path`: a refusal by the server's file system is a missing
/// permission (or a missing directory), anything else a lost connection.
fn file_error(e: &ssh2::Error, path: &str) -> UploadError {
    match e.code() {
        // LIBSSH2_FX_NO_SUCH_FILE, _PERMISSION_DENIED, _WRITE_PROTECT, _NO_SUCH_PATH,
        // _NOT_A_DIRECTORY.
        ErrorCode::SFTP(2 | 3 | 12 | 10 | 19) => UploadError::Permission {
            path: path.to_owned(),
            reply: e.message().to_owned(),
        },
        ErrorCode::SFTP(_) => UploadError::Server(e.to_string()),
        ErrorCode::Session(_) => UploadError::Lost(e.to_string()),
    }
}

impl SftpTarget {
    /// A target for these settings (nothing is connected yet).
    pub fn new(settings: SftpSettings) -> SftpTarget {
        SftpTarget {
            settings,
            session: None,
        }
    }

    /// Checks the server's host key against the pinned fingerprint or the known-hosts file
    /// (recording it there on first use).
    fn check_host_key(&self, session: &Session) -> Result<(), UploadError> {
        let s = &self.settings;
        let seen = session
            .host_key_hash(HashType::Sha256)
            .map(fingerprint)
            .ok_or_else(|| UploadError::HostKey("the server sent no host key".into()))?;
        let who = format!("{}:{}", s.host, s.port);
        if let Some(pinned) = &s.host_key {
            if *pinned != seen {
                return Err(UploadError::HostKey(format!(
                    "{who} presented {seen}, the settings pin {pinned}"
                )));
            }
            return Ok(());
        }
        match known(&s.known_hosts, &who) {
            Some(trusted) if trusted == seen => Ok(()),
            Some(trusted) => Err(UploadError::HostKey(format!(
                "{who} presented {seen}, but {trusted} is trusted ({}); refused",
                s.known_hosts.display()
            ))),
            None => {
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&s.known_hosts)
                    .and_then(|mut f| {
                        writeln!(f, "{who} {seen}")?;
                        f.sync_all()
                    });
                if let Err(e) = file.as_mut() {
                    return Err(UploadError::HostKey(format!(
                        "cannot record the host key in {}: {e}",
                        s.known_hosts.display()
                    )));
                }
                tracing::info!(server = who, key = seen, "host key trusted on first use");
                Ok(())
            }
        }
    }

    fn connect(&self) -> Result<(Session, Sftp), UploadError> {
        let s = &self.settings;
        let tcp = super::connect_tcp(&s.host, s.port, s.timeout)?;
        let lost = |e: ssh2::Error| UploadError::Lost(e.to_string());
        let mut session = Session::new().map_err(lost)?;
        session.set_timeout(u32::try_from(s.timeout.as_millis()).unwrap_or(u32::MAX));
        session.set_tcp_stream(tcp);
        session.handshake().map_err(lost)?;
        self.check_host_key(&session)?;
        let login = match &s.auth {
            SftpAuth::Password(password) => session.userauth_password(&s.username, password),
            SftpAuth::KeyFile(key) => session.userauth_pubkey_file(&s.username, None, key, None),
        };
        login.map_err(|e| UploadError::Login(e.message().to_owned()))?;
        let sftp = session.sftp().map_err(lost)?;
        sftp.stat(Path::new(&s.path))
            .map_err(|e| file_error(&e, &s.path))?;
        Ok((session, sftp))
    }

    /// Runs `op` on the session; an error ends the session (the next call reconnects).
    fn with_sftp<T>(
        &mut self,
        op: impl FnOnce(&Sftp, &str) -> Result<T, UploadError>,
    ) -> Result<T, UploadError> {
        if self.session.is_none() {
            self.session = Some(self.connect()?);
        }
        let path = self.settings.path.trim_end_matches('/').to_owned();
        let result = match &self.session {
            Some((_, sftp)) => op(sftp, &path),
            None => Err(UploadError::Lost("no session".into())),
        };
        if result.is_err() {
            self.session = None;
        }
        result
    }
}

/// Writes `bytes` as `<dir>/<name>.part`, then renames it to `<dir>/<name>`.
fn store(sftp: &Sftp, dir: &str, name: &str, bytes: &[u8]) -> Result<(), UploadError> {
    let part = PathBuf::from(format!("{dir}/{name}.part"));
    let target = PathBuf::from(format!("{dir}/{name}"));
    let mut file = sftp.create(&part).map_err(|e| file_error(&e, dir))?;
    file.write_all(bytes)
        .map_err(|e| UploadError::Lost(e.to_string()))?;
    drop(file);
    // A `.part` of an earlier attempt may be in the way of nothing; the target may exist
    // only if its size differed (an unrelated file): replace it.
    sftp.rename(
        &part,
        &target,
        Some(RenameFlags::OVERWRITE | RenameFlags::ATOMIC | RenameFlags::NATIVE),
    )
    .map_err(|e| file_error(&e, dir))
}

impl Target for SftpTarget {
    fn label(&self) -> &'static str {
        "SFTP"
    }

    fn deliver(&mut self, name: &str, bytes: &[u8]) -> Result<(), UploadError> {
        self.with_sftp(|sftp, dir| {
            let there = sftp.stat(Path::new(&format!("{dir}/{name}")));
            let size = there.ok().and_then(|st| st.size);
            store_unless_there(name, bytes.len(), size, || store(sftp, dir, name, bytes))
        })
    }

    fn probe(&mut self, name: &str) -> Result<Vec<String>, UploadError> {
        self.session = None;
        let mut steps = Vec::new();
        let s = &self.settings;
        let intro = format!(
            "connected to {}:{}, host key accepted, logged in as {}",
            s.host, s.port, s.username
        );
        self.with_sftp(|sftp, dir| {
            steps.push(intro);
            store(sftp, dir, name, b"mbus probe\n")?;
            let shown = format!("{dir}/{name}");
            steps.push(format!("wrote and renamed {shown}"));
            sftp.unlink(Path::new(&shown))
                .map_err(|e| file_error(&e, dir))?;
            steps.push(format!("deleted {shown}"));
            Ok(())
        })?;
        self.close();
        Ok(steps)
    }

    fn close(&mut self) {
        if let Some((session, _)) = self.session.take() {
            let _ = session.disconnect(None, "done", None);
        }
    }
}
