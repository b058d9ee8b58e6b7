//! Sans-IO, zero-copy M-Bus (EN 13757-2 / EN 13757-3) protocol library.
//!
//! - [`frame`]: link-layer frames (`E5`, short, control, long): streaming parser and encoder.
//! - [`address`]: secondary addresses, select masks with wildcards, baud rates.
//! - [`request`]: builders for every master request and for slave replies.
//! - [`hex`]: lenient hex text input for telegrams people paste.
//!
//! Nothing here performs I/O; transports live in `mbus-link`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod frame;
pub mod hex;
pub mod request;
