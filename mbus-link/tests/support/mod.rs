//! Shorthands the integration tests share.
// Each test crate uses what it needs of this module.
#![allow(dead_code)]

use mbus_proto::address::{LinkAddress, PrimaryAddress};

/// The request address with byte `a` (0…250 or 253…255).
pub fn at(a: u8) -> LinkAddress {
    LinkAddress::try_from(a).unwrap()
}

/// The primary address `a` (0…250).
pub fn pa(a: u8) -> PrimaryAddress {
    PrimaryAddress::new(a).unwrap()
}
