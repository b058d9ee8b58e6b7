//! The register image served: every meter block filled from the meter's last stored
//! reading and its read status, and how a read request is answered from it.

use super::layout::{header, slot, Layout};
use super::{flags, status_code};
use crate::config::WordOrder;
use crate::status::StatusBoard;
use crate::storage::{Decimal, Reading};

/// Most registers one read may ask for (Modbus application protocol, function codes 3/4).
pub const MAX_READ: u16 = 125;

/// Why a read cannot be answered with registers; each maps to a Modbus exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The quantity is 0 or more than [`MAX_READ`] (exception 3, illegal data value).
    #[error("quantity {0} is not between 1 and 125")]
    Quantity(u16),
    /// A register of the range belongs to no meter (exception 2, illegal data address).
    #[error("register {0} belongs to no meter")]
    Address(u32),
}

/// The registers of every meter block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    block_size: u16,
    /// (base address, registers) by base address.
    blocks: Vec<(u16, Vec<u16>)>,
}

/// The two registers of a 32-bit value in `order`.
pub fn words(value: u32, order: WordOrder) -> [u16; 2] {
    let (high, low) = ((value >> 16) as u16, value as u16);
    match order {
        WordOrder::HighFirst => [high, low],
        WordOrder::LowFirst => [low, high],
    }
}

/// `value` × 10^`decimals`, rounded half away from zero, if it fits an int32.
pub fn scaled_int32(value: Decimal, decimals: i8) -> Option<i32> {
    let shift = i32::from(value.exponent) + i32::from(decimals);
    let mantissa = value.mantissa;
    let scaled = if shift >= 0 {
        10i128
            .checked_pow(u32::try_from(shift).ok()?)
            .and_then(|p| mantissa.checked_mul(p))?
    } else {
        let Some(divisor) = 10i128.checked_pow(shift.unsigned_abs()) else {
            return Some(0);
        };
        let (q, r) = (mantissa / divisor, mantissa % divisor);
        if r.abs() * 2 >= divisor {
            q + mantissa.signum()
        } else {
            q
        }
    };
    i32::try_from(scaled).ok().filter(|v| *v != i32::MIN)
}

impl Image {
    /// Fills the blocks of `layout` from the read status in `board` and each meter's last
    /// stored reading (`last_reading(meter id)`, for example
    /// [`crate::storage::Store::last_reading`]). Values are the stored ones: the float32
    /// is the stored decimal as the nearest float32, the int32 the stored decimal scaled
    /// exactly.
    pub fn build(
        layout: &Layout,
        board: &StatusBoard,
        mut last_reading: impl FnMut(u32) -> Option<Reading>,
    ) -> Image {
        let order = layout.word_order;
        let blocks = layout
            .blocks
            .iter()
            .map(|block| {
                let mut regs = vec![0u16; usize::from(layout.block_size)];
                let mut put = |offset: u16, value: u16| regs[usize::from(offset)] = value;
                let state = board.meter(block.meter);
                let last = last_reading(block.meter);
                put(header::STATUS, status_code(state.status));
                put(header::ERROR_FLAGS, u16::from(state.error_flags));
                let time = last
                    .as_ref()
                    .and_then(|r| u32::try_from(r.time).ok())
                    .unwrap_or(0);
                let [a, b] = words(time, order);
                put(header::TIME, a);
                put(header::TIME + 1, b);
                put(header::VALUES, block.slots.len() as u16);
                let [a, b] = words(block.meter, order);
                put(header::METER_ID, a);
                put(header::METER_ID + 1, b);
                for s in &block.slots {
                    let at = s.address - block.base;
                    let value = last
                        .as_ref()
                        .and_then(|r| r.values.get(s.register as usize).copied().flatten());
                    let float = value.map_or(f32::NAN, |d| d.to_f64() as f32);
                    let int = value.and_then(|d| scaled_int32(d, s.decimals));
                    let [a, b] = words(float.to_bits(), order);
                    put(at + slot::FLOAT32, a);
                    put(at + slot::FLOAT32 + 1, b);
                    let [a, b] = words(int.unwrap_or(i32::MIN) as u32, order);
                    put(at + slot::INT32, a);
                    put(at + slot::INT32 + 1, b);
                    put(at + slot::EXPONENT, s.exponent() as u16);
                    let flag = match (value, int) {
                        (None, _) => flags::NO_VALUE,
                        (Some(_), Some(_)) => flags::VALUE,
                        (Some(_), None) => flags::INT32_OUT_OF_RANGE,
                    };
                    put(at + slot::FLAGS, flag);
                }
                (block.base, regs)
            })
            .collect();
        Image {
            block_size: layout.block_size,
            blocks,
        }
    }

    /// The `count` registers from `address`: every one must lie in a meter's block (reads
    /// may span adjacent blocks).
    pub fn read(&self, address: u16, count: u16) -> Result<Vec<u16>, ReadError> {
        if count == 0 || count > MAX_READ {
            return Err(ReadError::Quantity(count));
        }
        let mut out = Vec::with_capacity(usize::from(count));
        for a in u32::from(address)..u32::from(address) + u32::from(count) {
            let register = u16::try_from(a)
                .ok()
                .and_then(|a| {
                    let base = a - a % self.block_size.max(1);
                    let i = self.blocks.binary_search_by_key(&base, |b| b.0).ok()?;
                    self.blocks[i].1.get(usize::from(a - base)).copied()
                })
                .ok_or(ReadError::Address(a))?;
            out.push(register);
        }
        Ok(out)
    }
}
