//! Where each meter's registers sit in the Modbus address space, and the register map
//! (CSV) an integrator configures a building-management system from.

use crate::config::{Config, Modbus, WordOrder, MODBUS_ADDRESS_SPACE};
use crate::meter_index::Assignment;

/// Registers of a meter block before its first value: status, error flags, last-read
/// time (2), number of values, reserved, meter id (2).
pub const HEADER: u16 = 8;
/// Registers per value: float32 (2), scaled int32 (2), decimal exponent, value flags.
pub const SLOT: u16 = 6;

/// Offsets in a meter block's header.
pub mod header {
    /// Read status ([`super::super::status`] codes).
    pub const STATUS: u16 = 0;
    /// Error flags of the last successful read (the meter's status byte).
    pub const ERROR_FLAGS: u16 = 1;
    /// Time of the last stored reading, Unix seconds as unsigned 32 bits (0: none).
    pub const TIME: u16 = 2;
    /// Number of values in the block.
    pub const VALUES: u16 = 4;
    /// The meter's id in the configuration, unsigned 32 bits.
    pub const METER_ID: u16 = 6;
}

/// Offsets in a value slot.
pub mod slot {
    /// IEEE-754 float32 of the stored value (NaN: no value).
    pub const FLOAT32: u16 = 0;
    /// The stored value × 10^decimals, rounded, as two's-complement int32
    /// (`0x8000_0000`: no value or out of range).
    pub const INT32: u16 = 2;
    /// The decimal exponent of the int32 form as signed 16 bits: value = int32 × 10^this.
    pub const EXPONENT: u16 = 4;
    /// [`super::super::flags`] of the value.
    pub const FLAGS: u16 = 5;
}

/// One logged register's place in its meter's block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The register's index (its value's position in the stored readings).
    pub register: u32,
    /// The register's name.
    pub name: String,
    /// The unit of the stored value.
    pub unit: String,
    /// Address of the slot's first register (the float32).
    pub address: u16,
    /// Decimals of the int32 form: int32 = value × 10^decimals.
    pub decimals: i8,
}

impl Slot {
    /// Address of the float32 form.
    pub fn float32_address(&self) -> u16 {
        self.address + slot::FLOAT32
    }

    /// Address of the scaled int32 form.
    pub fn int32_address(&self) -> u16 {
        self.address + slot::INT32
    }

    /// The decimal exponent of the int32 form: value = int32 × 10^exponent.
    pub fn exponent(&self) -> i16 {
        -i16::from(self.decimals)
    }
}

/// A meter's block of registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The meter's id in the configuration.
    pub meter: u32,
    /// The meter's name.
    pub name: String,
    /// Its secondary address in libmbus's text, if it has one.
    pub secondary: Option<String>,
    /// Its stable index ([`crate::meter_index`]).
    pub index: u32,
    /// Address of the block's first register: index × block size.
    pub base: u16,
    /// The logged registers, by register index, as many as the block holds.
    pub slots: Vec<Slot>,
    /// Logged registers left out because the block is full.
    pub omitted: usize,
}

/// The register layout of every meter, from the configuration and the meter numbering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Registers per meter block.
    pub block_size: u16,
    /// Word order of the 32-bit values.
    pub word_order: WordOrder,
    /// The meters' blocks, by base address. Meters whose block would end beyond register
    /// 65535 are left out.
    pub blocks: Vec<Block>,
}

impl Layout {
    /// The layout of `config`'s meters with the numbering `assignment` and the settings
    /// `config.modbus`.
    pub fn new(config: &Config, assignment: &Assignment) -> Layout {
        let Modbus {
            block_size,
            word_order,
            ..
        } = config.modbus;
        let size = block_size.max(HEADER + SLOT);
        let capacity = usize::from((size - HEADER) / SLOT);
        let mut blocks = Vec::with_capacity(config.meters.len());
        for meter in &config.meters {
            let Some(index) = assignment.index(meter.id) else {
                continue;
            };
            let start = u64::from(index) * u64::from(size);
            let Ok(base) = u16::try_from(start) else {
                continue;
            };
            if start + u64::from(size) > u64::from(MODBUS_ADDRESS_SPACE) {
                continue;
            }
            let mut logged: Vec<_> = meter.registers.iter().filter(|r| !r.off).collect();
            logged.sort_by_key(|r| r.index);
            let omitted = logged.len().saturating_sub(capacity);
            let slots = logged
                .into_iter()
                .take(capacity)
                .zip((base + HEADER..).step_by(usize::from(SLOT)))
                .map(|(r, address)| Slot {
                    register: r.index,
                    name: r.name.clone(),
                    unit: r.unit.clone(),
                    address,
                    decimals: config.modbus.decimals(meter.id, r.index),
                })
                .collect();
            blocks.push(Block {
                meter: meter.id,
                name: meter.name.clone(),
                secondary: meter.secondary.map(|s| s.to_string()),
                index,
                base,
                slots,
                omitted,
            });
        }
        blocks.sort_by_key(|b| b.base);
        Layout {
            block_size: size,
            word_order,
            blocks,
        }
    }

    /// The block that holds `address`, if a meter has it.
    pub fn block_at(&self, address: u16) -> Option<&Block> {
        let base = address - address % self.block_size;
        self.blocks
            .binary_search_by_key(&base, |b| b.base)
            .ok()
            .map(|i| &self.blocks[i])
    }

    /// The register map as CSV (comma-separated, header line, one line per value; a meter
    /// without logged registers has one line without register columns). Addresses are
    /// 0-based register addresses of function codes 3 and 4.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "meter_id,meter,secondary_address,meter_index,base_address,status_address,\
             time_address,register_index,register,unit,float32_address,int32_address,\
             int32_exponent,word_order\n",
        );
        for block in &self.blocks {
            let meter = [
                block.meter.to_string(),
                field(&block.name),
                block.secondary.clone().unwrap_or_default(),
                block.index.to_string(),
                block.base.to_string(),
                (block.base + header::STATUS).to_string(),
                (block.base + header::TIME).to_string(),
            ]
            .join(",");
            if block.slots.is_empty() {
                out.push_str(&format!("{meter},,,,,,,{}\n", self.word_order.name()));
            }
            for s in &block.slots {
                out.push_str(&format!(
                    "{meter},{},{},{},{},{},{},{}\n",
                    s.register,
                    field(&s.name),
                    field(&s.unit),
                    s.float32_address(),
                    s.int32_address(),
                    s.exponent(),
                    self.word_order.name()
                ));
            }
        }
        out
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
