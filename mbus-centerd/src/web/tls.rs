//! HTTPS: the server's certificate slot and the TLS accept loop (rustls). Checking and
//! storing certificates is `logger_core::tls`; here they are only served.
//!
//! The certificate is looked up for every new connection, so an uploaded certificate is
//! served from the next connection on, without a restart.

use super::AppState;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// The certificate the server presents (none until one is set: then handshakes fail).
#[derive(Debug, Default)]
pub struct CertSlot(RwLock<Option<Arc<CertifiedKey>>>);

impl CertSlot {
    /// Presents `key` from the next handshake on.
    pub fn set(&self, key: Arc<CertifiedKey>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = Some(key);
        }
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.read().ok().and_then(|slot| slot.clone())
    }
}

/// Loads the stored certificate into the state's slot, generating a self-signed one first
/// if there is none.
pub fn load(state: &AppState) -> std::io::Result<()> {
    let dir = state.service.data_dir();
    let now = chrono::Utc::now();
    if let Some(info) = logger_core::tls::ensure(dir, now).map_err(std::io::Error::other)? {
        tracing::info!(subject = %info.subject, sha256 = %info.sha256, until = %info.not_after, "self-signed TLS certificate generated");
    }
    let identity = logger_core::tls::load(dir).map_err(std::io::Error::other)?;
    if identity.info.not_after < now {
        tracing::warn!(until = %identity.info.not_after, "the TLS certificate has expired; upload a new one");
    }
    state.tls.set(identity.key);
    Ok(())
}

/// Serves `app` over TLS on `listener` until `stop` is set.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    slot: Arc<CertSlot>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(slot);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&stop) => return Ok(()),
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            let service = app.map_request(move |mut request: axum::http::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
}

async fn stopped(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
