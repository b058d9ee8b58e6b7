//! Sans-IO, zero-copy M-Bus (EN 13757-2 / EN 13757-3) protocol library.
//!
//! - [`frame`]: link-layer frames (`E5`, short, control, long): streaming parser and encoder.
//! - [`address`]: secondary addresses, select masks with wildcards, baud rates.
//! - [`request`]: builders for every master request and for slave replies.
//! - [`describe`]: what a frame means (kind, C field, address, CI) for frames without
//!   application data and for headings.
//! - [`display`]: values in the unit a meter display uses (kWh, MWh, m³, …), exact.
//! - [`hex`]: hex text both ways: the [`hex::HexBytes`] formatter and lenient input.
//! - [`render`]: a record's value and a whole reply as text for people.
//! - [`app`]: the application layer of replies (CI field, headers, fixed data, errors) and
//!   [`app::decode_frame`], the full typed decode.
//! - [`record`]: the lazy data-record iterator (DIF/DIFE/VIF/VIFE chains).
//! - [`vif`]: VIF/VIFE tables: quantities, units, exponents, combinable VIFEs.
//! - [`value`]: data-field codings and exact values (integer/BCD mantissa + power of ten).
//! - [`datetime`]: date/time types F, G, I, J, K.
//! - [`names`]: human-readable names of media, manufacturers' products and codes.
//! - [`json`]: a documented, stable JSON schema via serde (feature `json`).
//! - [`xml`]: XML identical to libmbus's `mbus-parse-hex`, plain and normalized (feature `xml`).
//!
//! Nothing here performs I/O; transports live in `mbus-link`.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | the standard library; implies `alloc` |
//! | `alloc` | via `std` | [`hex::parse_hex`] (returns a `Vec`) |
//! | `serde` | via `json` | `serde::Serialize` for decoded telegrams |
//! | `json` | yes | the [`json`] module's stable schema |
//! | `xml` | yes | the [`xml`] module |
//!
//! Without default features the crate is `no_std` and allocation-free: frames, headers,
//! records, values, units, dates and descriptions all borrow from the input and format
//! through `core::fmt`, so the decoder runs on bare-metal gateway firmware.
//!
//! # Decode a capture file
//!
//! A file of hex text (as a gateway logs it, or pasted from a terminal) with several frames:
//! [`hex::parse_hex`] reads it, [`frame::Frames`] walks the frames (going on after a bad one),
//! [`app::Telegram::from_frame`] decodes each reply and [`render::TelegramTable`] prints it.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use mbus_proto::app::Telegram;
//! use mbus_proto::describe::describe;
//! use mbus_proto::frame::Frames;
//! use mbus_proto::hex::parse_hex;
//! use mbus_proto::render::TelegramTable;
//!
//! # let dir = std::env::temp_dir().join(format!("mbus-proto-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("capture.hex");
//! # std::fs::write(&path, "10 5B 05 60 16\nE5\n68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 04 \
//! #     2A 00 00 00 04 06 39 30 00 00 8E 16")?;
//! let text = std::fs::read_to_string(&path)?;
//! let bytes = parse_hex(&text)?;
//! for item in Frames::new(&bytes) {
//!     let located = item?;
//!     match Telegram::from_frame(&located.frame) {
//!         Ok(telegram) => print!("{}", TelegramTable::new(&located.frame, &telegram)),
//!         // Requests and acknowledgements carry no application data.
//!         Err(_) => println!("{}", describe(&located.frame)),
//!     }
//! }
//! # std::fs::remove_dir_all(&dir)?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]
// Library code never panics on input: no unwrap/expect/panic!, no indexing that could go out
// of range (tests are exempt).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod address;
pub mod app;
pub mod datetime;
pub mod describe;
pub mod display;
pub mod frame;
pub mod hex;
#[cfg(feature = "json")]
pub mod json;
pub mod names;
pub mod record;
pub mod render;
pub mod request;
pub mod value;
pub mod vif;
#[cfg(feature = "xml")]
pub mod xml;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
