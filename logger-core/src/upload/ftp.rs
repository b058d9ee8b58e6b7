//! FTP and FTPS (explicit TLS: `AUTH TLS` on the control connection, private data
//! connections) uploads.
//!
//! A file is stored under `<name>.part` and renamed to its name afterwards, so the server's
//! directory never shows a half file under the final name. Before sending, the server is
//! asked for the size of `<name>`: when a reply was lost after the rename, the file is
//! there with its full size and is not sent again.

use super::tls::CertCheck;
use super::{store_unless_there, Target, UploadError};
use std::io::Cursor;
use std::net::TcpStream;
use std::time::Duration;
use suppaftp::types::FileType;
use suppaftp::{FtpError, RustlsConnector, RustlsFtpStream, Status};

/// Where and how to upload by FTP.
#[derive(Debug, Clone, PartialEq)]
pub struct FtpSettings {
    /// Server host name or address.
    pub host: String,
    /// TCP port of the control connection.
    pub port: u16,
    /// Login user.
    pub username: String,
    /// Login password.
    pub password: String,
    /// Remote directory the files go to.
    pub path: String,
    /// `None` for plain FTP, else explicit TLS with this certificate check.
    pub tls: Option<CertCheck>,
    /// Connect, read and write timeout.
    pub timeout: Duration,
}

/// An FTP or FTPS server; connects on first use and keeps the session while it works.
pub struct FtpTarget {
    settings: FtpSettings,
    session: Option<RustlsFtpStream>,
}

impl std::fmt::Debug for FtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpTarget")
            .field("host", &self.settings.host)
            .field("port", &self.settings.port)
            .field("connected", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

/// The reply text of a refused command, or the error.
fn reply_text(e: &FtpError) -> String {
    match e {
        FtpError::UnexpectedResponse(r) => String::from_utf8_lossy(&r.body).trim().to_owned(),
        other => other.to_string(),
    }
}

/// A failed command on the open session: a refusal on `path` (550/553/450/532) is a
/// missing permission, anything else a server or connection problem.
fn command_error(e: FtpError, path: &str) -> UploadError {
    match &e {
        FtpError::UnexpectedResponse(r)
            if matches!(
                r.status,
                Status::FileUnavailable
                    | Status::BadFilename
                    | Status::RequestFileActionIgnored
                    | Status::StoringNeedAccount
                    | Status::PageTypeUnknown
            ) =>
        {
            UploadError::Permission {
                path: path.to_owned(),
                reply: reply_text(&e),
            }
        }
        FtpError::ConnectionError(io) => UploadError::Lost(io.to_string()),
        FtpError::SecureError(s) => UploadError::Tls(s.clone()),
        _ => UploadError::Server(reply_text(&e)),
    }
}

impl FtpTarget {
    /// A target for these settings (nothing is connected yet).
    pub fn new(settings: FtpSettings) -> FtpTarget {
        FtpTarget {
            settings,
            session: None,
        }
    }

    fn connect(&self) -> Result<RustlsFtpStream, UploadError> {
        let s = &self.settings;
        let tcp = super::connect_tcp(&s.host, s.port, s.timeout)?;
        let connect_err = |e: std::io::Error| UploadError::Connect {
            address: format!("{}:{}", s.host, s.port),
            reason: e.to_string(),
        };
        tcp.set_read_timeout(Some(s.timeout)).map_err(connect_err)?;
        tcp.set_write_timeout(Some(s.timeout))
            .map_err(connect_err)?;
        let mut ftp = RustlsFtpStream::connect_with_stream(tcp).map_err(|e| match e {
            FtpError::ConnectionError(io) => connect_err(io),
            other => UploadError::Server(reply_text(&other)),
        })?;
        let timeout = s.timeout;
        ftp = ftp.passive_stream_builder(move |addr| {
            let data =
                TcpStream::connect_timeout(&addr, timeout).map_err(FtpError::ConnectionError)?;
            data.set_read_timeout(Some(timeout))
                .and_then(|()| data.set_write_timeout(Some(timeout)))
                .map_err(FtpError::ConnectionError)?;
            Ok(data)
        });
        if let Some(check) = &s.tls {
            let connector = RustlsConnector::from(check.client_config()?);
            ftp = ftp.into_secure(connector, &s.host).map_err(|e| match e {
                FtpError::UnexpectedResponse(_) => {
                    UploadError::Tls(format!("server refused AUTH TLS: {}", reply_text(&e)))
                }
                other => UploadError::Tls(reply_text(&other)),
            })?;
        }
        ftp.login(s.username.as_str(), s.password.as_str())
            .map_err(|e| match e {
                FtpError::UnexpectedResponse(_) => UploadError::Login(reply_text(&e)),
                other => command_error(other, &s.path),
            })?;
        ftp.cwd(&s.path).map_err(|e| command_error(e, &s.path))?;
        ftp.transfer_type(FileType::Binary)
            .map_err(|e| command_error(e, &s.path))?;
        Ok(ftp)
    }

    fn session(&mut self) -> Result<&mut RustlsFtpStream, UploadError> {
        if self.session.is_none() {
            self.session = Some(self.connect()?);
        }
        self.session
            .as_mut()
            .ok_or_else(|| UploadError::Lost("no session".into()))
    }

    /// Runs `op` on the session; an error ends the session (the next call reconnects).
    fn with_session<T>(
        &mut self,
        op: impl FnOnce(&mut RustlsFtpStream, &str) -> Result<T, UploadError>,
    ) -> Result<T, UploadError> {
        let path = self.settings.path.clone();
        let result = self.session().and_then(|ftp| op(ftp, &path));
        if result.is_err() {
            self.session = None;
        }
        result
    }
}

/// Stores `bytes` as `<name>.part`, then renames it to `name`.
fn store(
    ftp: &mut RustlsFtpStream,
    path: &str,
    name: &str,
    bytes: &[u8],
) -> Result<(), UploadError> {
    let part = format!("{name}.part");
    ftp.put_file(&part, &mut Cursor::new(bytes))
        .map_err(|e| command_error(e, path))?;
    ftp.rename(part.as_str(), name)
        .map_err(|e| command_error(e, path))
}

impl Target for FtpTarget {
    fn label(&self) -> &'static str {
        if self.settings.tls.is_some() {
            "FTPS"
        } else {
            "FTP"
        }
    }

    fn deliver(&mut self, name: &str, bytes: &[u8]) -> Result<(), UploadError> {
        self.with_session(|ftp, path| {
            let there = ftp
                .size(name)
                .ok()
                .and_then(|size| u64::try_from(size).ok());
            store_unless_there(name, bytes.len(), there, || store(ftp, path, name, bytes))
        })
    }

    fn probe(&mut self, name: &str) -> Result<Vec<String>, UploadError> {
        self.session = None;
        let mut steps = Vec::new();
        self.session()?;
        steps.push(format!(
            "connected to {}:{} and logged in as {}",
            self.settings.host, self.settings.port, self.settings.username
        ));
        self.with_session(|ftp, path| {
            let shown = format!("{}/{name}", path.trim_end_matches('/'));
            store(ftp, path, name, b"mbus probe\n")?;
            steps.push(format!("wrote and renamed {shown}"));
            ftp.rm(name).map_err(|e| command_error(e, path))?;
            steps.push(format!("deleted {shown}"));
            Ok(())
        })?;
        self.close();
        Ok(steps)
    }

    fn close(&mut self) {
        if let Some(mut ftp) = self.session.take() {
            let _ = ftp.quit();
        }
    }
}
