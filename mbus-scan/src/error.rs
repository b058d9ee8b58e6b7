//! Why a scan could not run to its end.

/// Why a scan could not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError<E: std::error::Error + 'static> {
    /// The bus or device failed (I/O error, bus short circuit, closed connection).
    #[error("bus error during scan: {0}")]
    Bus(#[source] E),
}
