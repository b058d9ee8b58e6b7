//! TLS client settings shared by FTPS and the HTTPS push: the public roots, a CA file of the
//! user's, or (explicitly, insecurely) no check at all.

use super::UploadError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

/// Which server certificates a TLS connection accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertCheck {
    /// Certificates of the public web PKI (the built-in roots).
    PublicRoots,
    /// Certificates issued by one of the CAs in this PEM file.
    CaFile(String),
    /// Any certificate, unchecked. Insecure.
    AcceptAny,
}

impl CertCheck {
    /// The check a target's settings ask for.
    pub fn from_settings(ca_file: Option<&str>, accept_any: bool) -> CertCheck {
        match (ca_file, accept_any) {
            (Some(path), _) => CertCheck::CaFile(path.to_owned()),
            (None, true) => CertCheck::AcceptAny,
            (None, false) => CertCheck::PublicRoots,
        }
    }

    /// The certificates of the CA file (empty for the other checks).
    pub(crate) fn ca_certificates(&self) -> Result<Vec<CertificateDer<'static>>, UploadError> {
        let CertCheck::CaFile(path) = self else {
            return Ok(Vec::new());
        };
        let bad = |reason: String| UploadError::CaFile {
            path: path.clone(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(Path::new(path))
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no certificate in the file".into()));
        }
        Ok(certs)
    }

    /// A rustls client configuration for this check.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, UploadError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| UploadError::Tls(e.to_string()))?;
        let config = match self {
            CertCheck::AcceptAny => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
                .with_no_client_auth(),
            CertCheck::PublicRoots | CertCheck::CaFile(_) => {
                let mut roots = RootCertStore::empty();
                if *self == CertCheck::PublicRoots {
                    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                }
                for cert in self.ca_certificates()? {
                    roots
                        .add(cert)
                        .map_err(|e| UploadError::Tls(e.to_string()))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
        };
        Ok(Arc::new(config))
    }
}

/// Accepts every server certificate (the signatures of the handshake are still checked).
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
