//! HTTPS push: every spooled JSON file is POSTed to the configured URL.
//!
//! Each request names its file in the `Idempotency-Key` header; a receiver that keeps the
//! keys it has taken answers a repeated request (sent again after a lost reply) without
//! storing its readings twice. The body layout is described in `UPLOADS.md` beside this
//! crate's manifest.

use super::tls::CertCheck;
use super::{Target, UploadError};
use std::time::Duration;
use ureq::tls::{RootCerts, TlsConfig};

/// Where and how to push.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpsSettings {
    /// Target URL (`https://…`).
    pub url: String,
    /// Bearer token sent in `Authorization` (none if empty).
    pub token: String,
    /// Which server certificates are accepted.
    pub check: CertCheck,
    /// Timeout of one request, connect included.
    pub timeout: Duration,
}

/// A collecting HTTPS server.
#[derive(Debug)]
pub struct HttpsTarget {
    settings: HttpsSettings,
    agent: Option<ureq::Agent>,
}

fn classify(e: ureq::Error, url: &str) -> UploadError {
    match e {
        ureq::Error::StatusCode(code @ (401 | 403)) => {
            UploadError::Login(format!("HTTP status {code}"))
        }
        ureq::Error::StatusCode(code) => UploadError::Server(format!("HTTP status {code}")),
        ureq::Error::HostNotFound => UploadError::Dns {
            host: url.to_owned(),
            reason: "host not found".into(),
        },
        ureq::Error::ConnectionFailed => UploadError::Connect {
            address: url.to_owned(),
            reason: "connection failed".into(),
        },
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            UploadError::Connect {
                address: url.to_owned(),
                reason: io.to_string(),
            }
        }
        e @ (ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_)) => {
            UploadError::Tls(e.to_string())
        }
        other => UploadError::Lost(other.to_string()),
    }
}

impl HttpsTarget {
    /// A target for these settings.
    pub fn new(settings: HttpsSettings) -> HttpsTarget {
        HttpsTarget {
            settings,
            agent: None,
        }
    }

    fn agent(&mut self) -> Result<ureq::Agent, UploadError> {
        if let Some(agent) = &self.agent {
            return Ok(agent.clone());
        }
        let s = &self.settings;
        let tls = match &s.check {
            CertCheck::PublicRoots => TlsConfig::builder().build(),
            CertCheck::AcceptAny => TlsConfig::builder().disable_verification(true).build(),
            CertCheck::CaFile(_) => {
                let certs: Vec<_> = s
                    .check
                    .ca_certificates()?
                    .into_iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                    .collect();
                TlsConfig::builder()
                    .root_certs(RootCerts::new_with_certs(&certs))
                    .build()
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(true)
            .timeout_global(Some(s.timeout))
            .build()
            .into();
        self.agent = Some(agent.clone());
        Ok(agent)
    }

    fn post(&mut self, key: &str, kind: &str, body: &[u8]) -> Result<u16, UploadError> {
        let agent = self.agent()?;
        let s = &self.settings;
        let mut request = agent
            .post(&s.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .header("X-Mbus-Upload", kind);
        if !s.token.is_empty() {
            request = request.header("Authorization", format!("Bearer {}", s.token));
        }
        let response = request.send(body).map_err(|e| classify(e, &s.url))?;
        Ok(response.status().as_u16())
    }
}

impl Target for HttpsTarget {
    fn label(&self) -> &'static str {
        "HTTPS push"
    }

    fn deliver(&mut self, name: &str, bytes: &[u8]) -> Result<(), UploadError> {
        self.post(name, "readings", bytes).map(drop)
    }

    fn probe(&mut self, name: &str) -> Result<Vec<String>, UploadError> {
        let status = self.post(name, "probe", b"{\"probe\":true}")?;
        Ok(vec![format!(
            "POST {} answered with HTTP status {status}",
            self.settings.url
        )])
    }

    fn close(&mut self) {
        self.agent = None;
    }
}
