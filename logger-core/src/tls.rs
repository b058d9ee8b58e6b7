//! The web server's TLS certificate: settings, validation of an uploaded certificate and key,
//! crash-safe storage and a self-signed certificate for the first start.
//!
//! The certificate chain and its private key are kept together in one file, [`TLS_FILE`] in
//! the data directory, readable by the logger's user only (mode 0600). A new pair replaces it
//! in one atomic step, and only after [`validate`] accepted it: both parse, the key belongs to
//! the certificate and the certificate is valid now. A bad pair never touches the file in use.
//!
//! ```
//! use logger_core::tls;
//! let dir = tempfile::tempdir()?;
//! let now = chrono::Utc::now();
//! let made = tls::ensure(dir.path(), now)?;
//! assert!(made.is_some(), "a self-signed certificate is generated on the first start");
//! let identity = tls::load(dir.path())?;
//! assert!(identity.info.self_signed);
//! assert!(tls::ensure(dir.path(), now)?.is_none(), "and kept afterwards");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::config::FieldError;
use chrono::{DateTime, Datelike, Duration, Utc};
use mbus_proto::hex::HexBytes;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SigningKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name of the file with the certificate chain and the private key (PEM), in the data directory.
pub const TLS_FILE: &str = "tls.pem";

/// How long a generated self-signed certificate is valid.
pub const SELF_SIGNED_YEARS: i32 = 10;

/// The web server's TLS settings ("TLS-Zertifikat").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// Serve HTTPS (with the certificate of [`TLS_FILE`], generated self-signed when missing).
    pub enabled: bool,
}

/// Why a certificate could not be accepted, loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate or the key is not acceptable; every problem names its field
    /// (`certificate` or `key`).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// Reading or writing the certificate file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A self-signed certificate could not be made.
    #[error("generating a self-signed certificate: {0}")]
    Generate(String),
}

/// What the web page shows of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateInfo {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// SHA-256 of the certificate (DER), hex pairs separated by colons.
    pub sha256: String,
    /// Subject and issuer are the same (not signed by an authority).
    pub self_signed: bool,
}

/// An accepted certificate with its key, ready for a TLS server.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The chain and the signing key, as rustls serves them.
    pub key: Arc<CertifiedKey>,
    /// What the certificate says.
    pub info: CertificateInfo,
}

fn problem(field: &str, text: impl Into<String>) -> TlsError {
    TlsError::Invalid(vec![FieldError {
        path: field.to_string(),
        problem: text.into(),
    }])
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn timestamp(t: x509_parser::time::ASN1Time) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The certificates of a PEM text, end-entity first.
fn parse_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, FieldError> {
    let field = |problem: String| FieldError {
        path: "certificate".into(),
        problem,
    };
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| field(format!("not a PEM file: {e}")))?;
    if chain.is_empty() {
        return Err(field(
            "no certificate found (expected a PEM block BEGIN CERTIFICATE)".into(),
        ));
    }
    Ok(chain)
}

/// What the end-entity certificate says.
fn describe(der: &CertificateDer<'_>) -> Result<CertificateInfo, FieldError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| FieldError {
        path: "certificate".into(),
        problem: format!("not an X.509 certificate: {e}"),
    })?;
    let validity = cert.validity();
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: timestamp(validity.not_before),
        not_after: timestamp(validity.not_after),
        sha256: HexBytes::separated(
            ring::digest::digest(&ring::digest::SHA256, der).as_ref(),
            ":",
        )
        .to_string(),
        self_signed: cert.subject() == cert.issuer(),
    })
}

/// The certificate is valid at `now`.
fn check_valid(info: &CertificateInfo, now: DateTime<Utc>) -> Result<(), FieldError> {
    let problem = if now < info.not_before {
        format!(
            "not valid before {} (UTC)",
            info.not_before.format("%Y-%m-%d %H:%M")
        )
    } else if now > info.not_after {
        format!(
            "expired on {} (UTC)",
            info.not_after.format("%Y-%m-%d %H:%M")
        )
    } else {
        return Ok(());
    };
    Err(FieldError {
        path: "certificate".into(),
        problem,
    })
}

/// The chain with its key, if the key belongs to the end-entity certificate.
fn pair_up(
    chain: Vec<CertificateDer<'static>>,
    key: Arc<dyn SigningKey>,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let certified = CertifiedKey::new(chain, key);
    certified.keys_match().map_err(|_| {
        problem(
            "key",
            "does not belong to the certificate (its public key differs)",
        )
    })?;
    Ok(Arc::new(certified))
}

fn parse_key(pem: &[u8]) -> Result<Arc<dyn SigningKey>, FieldError> {
    let field = |problem: String| FieldError {
        path: "key".into(),
        problem,
    };
    let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        field(format!(
            "no private key found (expected an unencrypted PEM key: PKCS#8, RSA or EC): {e}"
        ))
    })?;
    rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| field(format!("unsupported key: {e}")))
}

/// Checks a certificate (PEM, the chain with the server's certificate first) and its private
/// key (PEM): both parse, the key belongs to the certificate, and the certificate is valid at
/// `now`. Every problem names its field, `certificate` or `key`.
pub fn validate(
    certificate_pem: &[u8],
    key_pem: &[u8],
    now: DateTime<Utc>,
) -> Result<Identity, TlsError> {
    let chain = parse_chain(certificate_pem);
    let info = chain.as_ref().map_err(Clone::clone).and_then(|c| {
        let info = describe(&c[0])?;
        check_valid(&info, now)?;
        Ok(info)
    });
    let key = parse_key(key_pem);
    match (chain, info, key) {
        (Ok(chain), Ok(info), Ok(key)) => Ok(Identity {
            key: pair_up(chain, key)?,
            info,
        }),
        (chain, info, key) => {
            let problems = [chain.err(), info.err(), key.err()];
            // A certificate that does not parse is reported once.
            let mut problems: Vec<FieldError> = problems.into_iter().flatten().collect();
            problems.dedup();
            Err(TlsError::Invalid(problems))
        }
    }
}

/// Path of the certificate file of a data directory.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(TLS_FILE)
}

/// Validates a new certificate and key (see [`validate`]) and, only if they are accepted,
/// replaces the stored pair in one atomic step (mode 0600).
pub fn install(
    data_dir: &Path,
    certificate_pem: &[u8],
    key_pem: &[u8],
    now: DateTime<Utc>,
) -> Result<Identity, TlsError> {
    let identity = validate(certificate_pem, key_pem, now)?;
    let mut text = certificate_pem.to_vec();
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text.extend_from_slice(key_pem);
    let file = path(data_dir);
    crate::atomic::write_private(&file, &text).map_err(io_err(&file))?;
    Ok(identity)
}

/// The stored certificate and key. A stored certificate that has expired since is still
/// loaded (the page shows the dates), so that the server keeps answering until a new one is
/// uploaded.
pub fn load(data_dir: &Path) -> Result<Identity, TlsError> {
    let file = path(data_dir);
    let text = std::fs::read(&file).map_err(io_err(&file))?;
    let invalid = |e: FieldError| TlsError::Invalid(vec![e]);
    let chain = parse_chain(&text).map_err(invalid)?;
    let info = describe(&chain[0]).map_err(invalid)?;
    let key = parse_key(&text).map_err(invalid)?;
    Ok(Identity {
        key: pair_up(chain, key)?,
        info,
    })
}

/// Generates a self-signed certificate and key (PEM) for `localhost` and the machine's
/// host name, valid from a day before `now` for [`SELF_SIGNED_YEARS`] years.
pub fn self_signed(now: DateTime<Utc>) -> Result<(String, String), TlsError> {
    let generate = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut names = vec!["localhost".to_string()];
    if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_string());
        }
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(generate)?;
    let from = now - Duration::days(1);
    let month = |d: DateTime<Utc>| u8::try_from(d.month()).unwrap_or(1);
    let day = |d: DateTime<Utc>| u8::try_from(d.day()).unwrap_or(1);
    params.not_before = rcgen::date_time_ymd(from.year(), month(from), day(from));
    params.not_after = rcgen::date_time_ymd(
        from.year() + SELF_SIGNED_YEARS,
        month(from),
        day(from).min(28),
    );
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "M-Bus Center");
    let key = rcgen::KeyPair::generate().map_err(generate)?;
    let cert = params.self_signed(&key).map_err(generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Makes sure a certificate is stored: generates and stores a self-signed one when there is
/// none. Returns what was generated, `None` when one was there already.
pub fn ensure(data_dir: &Path, now: DateTime<Utc>) -> Result<Option<CertificateInfo>, TlsError> {
    if path(data_dir).exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
    let (certificate, key) = self_signed(now)?;
    install(data_dir, certificate.as_bytes(), key.as_bytes(), now).map(|i| Some(i.info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
    }

    fn pair(from: (i32, u8, u8), to: (i32, u8, u8)) -> (String, String) {
        let mut params = rcgen::CertificateParams::new(vec!["logger.example".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn fields(e: TlsError) -> Vec<(String, String)> {
        match e {
            TlsError::Invalid(v) => v.into_iter().map(|f| (f.path, f.problem)).collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_good_pair_is_accepted_and_described() {
        let (cert, key) = pair((2026, 1, 1), (2027, 1, 1));
        let id = validate(cert.as_bytes(), key.as_bytes(), now()).unwrap();
        assert_eq!(id.info.not_after.year(), 2027);
        assert!(id.info.self_signed);
        assert_eq!(id.info.sha256.len(), 32 * 3 - 1);
        assert_eq!(id.key.cert.len(), 1);
    }

    #[test]
    fn every_bad_part_is_named_by_its_field() {
        let (cert, key) = pair((2026, 1, 1), (2027, 1, 1));
        let (_, other_key) = pair((2026, 1, 1), (2027, 1, 1));
        let e = fields(validate(b"garbage", key.as_bytes(), now()).unwrap_err());
        assert_eq!(e[0].0, "certificate");
        assert!(e[0].1.contains("no certificate"), "{e:?}");
        let e = fields(validate(cert.as_bytes(), b"nothing", now()).unwrap_err());
        assert_eq!(e[0].0, "key");
        let e = fields(validate(cert.as_bytes(), other_key.as_bytes(), now()).unwrap_err());
        assert_eq!(
            e,
            [(
                "key".to_string(),
                "does not belong to the certificate (its public key differs)".to_string()
            )]
        );
        let (old, old_key) = pair((2020, 1, 1), (2021, 1, 1));
        let e = fields(validate(old.as_bytes(), old_key.as_bytes(), now()).unwrap_err());
        assert_eq!(e[0].0, "certificate");
        assert!(e[0].1.starts_with("expired on 2021-01-01"), "{e:?}");
        let (future, future_key) = pair((2030, 1, 1), (2031, 1, 1));
        let e = fields(validate(future.as_bytes(), future_key.as_bytes(), now()).unwrap_err());
        assert!(e[0].1.starts_with("not valid before 2030-01-01"), "{e:?}");
        let broken = cert.replace("MII", "XII");
        let e = fields(validate(broken.as_bytes(), b"", now()).unwrap_err());
        assert_eq!(e.len(), 2, "both fields reported: {e:?}");
        assert_eq!((e[0].0.as_str(), e[1].0.as_str()), ("certificate", "key"));
    }

    #[test]
    fn install_replaces_only_after_validation_and_keeps_the_file_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = ensure(dir.path(), now()).unwrap().unwrap();
        let mode = std::fs::metadata(path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(first.subject.contains("M-Bus Center"), "{}", first.subject);
        let (cert, _) = pair((2026, 1, 1), (2027, 1, 1));
        let (_, wrong_key) = pair((2026, 1, 1), (2027, 1, 1));
        assert!(install(dir.path(), cert.as_bytes(), wrong_key.as_bytes(), now()).is_err());
        assert_eq!(load(dir.path()).unwrap().info, first);
        let (cert, key) = pair((2026, 1, 1), (2027, 1, 1));
        let new = install(dir.path(), cert.as_bytes(), key.as_bytes(), now()).unwrap();
        assert_eq!(load(dir.path()).unwrap().info, new.info);
        assert_ne!(new.info, first);
        // An expired stored certificate still loads, so the server keeps answering.
        assert!(new.info.not_after < Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(load(dir.path()).unwrap().info, new.info);
    }
}
