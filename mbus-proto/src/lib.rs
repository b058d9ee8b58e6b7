//! Sans-IO, zero-copy M-Bus (EN 13757-2 / EN 13757-3) protocol library.
//!
//! - [`frame`]: link-layer frames (`E5`, short, control, long): streaming parser and encoder.
//! - [`address`]: secondary addresses, select masks with wildcards, baud rates.
//! - [`request`]: builders for every master request and for slave replies.
//! - [`describe`]: what a frame means (kind, C field, address, CI) for frames without
//!   application data and for headings.
//! - [`display`]: values in the unit a meter display uses (kWh, MWh, m³, …), exact.
//! - [`hex`]: lenient hex text input for telegrams people paste.
//! - [`app`]: the application layer of replies (CI field, headers, fixed data, errors) and
//!   [`app::decode_frame`], the full typed decode.
//! - [`record`]: the lazy data-record iterator (DIF/DIFE/VIF/VIFE chains).
//! - [`vif`]: VIF/VIFE tables: quantities, units, exponents, combinable VIFEs.
//! - [`value`]: data-field codings and exact values (integer/BCD mantissa + power of ten).
//! - [`datetime`]: date/time types F, G, I, J, K.
//! - [`names`]: human-readable names of media, manufacturers' products and codes.
//! - [`json`]: a documented, stable JSON schema via serde (feature `serde`, on by default).
//! - [`xml`]: XML identical to libmbus's `mbus-parse-hex`, plain and normalized.
//!
//! Nothing here performs I/O; transports live in `mbus-link`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod app;
pub mod datetime;
pub mod describe;
pub mod display;
pub mod frame;
pub mod hex;
#[cfg(feature = "serde")]
pub mod json;
pub mod names;
pub mod record;
pub mod request;
pub mod value;
pub mod vif;
pub mod xml;
