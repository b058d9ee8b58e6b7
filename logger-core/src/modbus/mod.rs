//! Modbus TCP server for building-management systems: every meter's last stored reading
//! as a block of registers, read with function code 4 (read input registers) or 3 (read
//! holding registers, the same image, for clients that only know that one).
//!
//! - Address of a meter's block: its index × `modbus.block_size` (default 128), the index
//!   kept in `meter-index.json` ([`crate::meter_index`], the same numbering BACnet uses):
//!   stable across restarts and when other meters are added or deleted.
//! - The block ([`layout()`]): header of [`layout::HEADER`] registers (status, error flags,
//!   last-read time as Unix seconds, number of values, meter id), then per logged
//!   register a slot of [`layout::SLOT`] registers: the value as IEEE-754 float32, as
//!   int32 = value × 10^`modbus.int32_decimals` (rounded), the decimal exponent and the
//!   value's [`flags`]. 32-bit quantities take two registers in `modbus.word_order` (high
//!   word first by default), bytes within a register big-endian as Modbus has them.
//! - The values are the stored ones ([`crate::storage::Store::last_reading`]), the
//!   register's divisor applied once by the logger; nothing is rescaled here but the
//!   documented power of ten of the int32 form.
//! - Answers ([`answer`]): registers outside every meter block → exception 2 (illegal
//!   data address); quantity 0 or above 125 → exception 3; any other function code →
//!   exception 1 (illegal function); with `modbus.unit_id` set, requests for another
//!   unit → exception 11 (gateway target device failed to respond). Malformed frames
//!   close that connection only.
//! - [`Server`]: a thread with a tokio runtime that serves any number of connections,
//!   rebuilds the image after every committed read cycle ([`Server::hook`]) and when the
//!   configuration or the status file changes, and follows the `modbus` settings
//!   (port, on/off) without a restart.
//! - [`register_map`]: the map as CSV for the integrator.
//!
//! The TCP framing and the PDU codec come from the `tokio-modbus` crate (its server
//! feature); this module only decides what to answer.

pub mod image;
pub mod layout;
pub mod server;

pub use image::{Image, ReadError};
pub use layout::Layout;
pub use server::{ModbusError, Server};

use crate::config::Config;
use crate::meter_index::{Assignment, IndexError};
use crate::status::ReadStatus;
use std::path::Path;
use tokio_modbus::{ExceptionCode, Request, Response};

/// Status codes in a block's status register.
pub mod status {
    /// The meter was never read.
    pub const NEVER_READ: u16 = 0;
    /// The last read succeeded.
    pub const OK: u16 = 1;
    /// The last read succeeded, the meter reports error flags (see the error-flags register).
    pub const OK_WITH_ERRORS: u16 = 2;
    /// The last read failed (the values are those of the last successful read).
    pub const FAILED: u16 = 3;
    /// The meter answers encrypted and no key is configured.
    pub const ENCRYPTED: u16 = 4;
}

/// Value flags in a slot's flags register.
pub mod flags {
    /// No stored value (never read, or the meter did not deliver the register).
    pub const NO_VALUE: u16 = 0;
    /// Both forms hold the value.
    pub const VALUE: u16 = 1;
    /// The float32 holds the value; the int32 form does not fit 32 bits (`0x8000_0000`).
    pub const INT32_OUT_OF_RANGE: u16 = 2;
}

/// The status register's code of a read status.
pub fn status_code(status: ReadStatus) -> u16 {
    match status {
        ReadStatus::NeverRead => status::NEVER_READ,
        ReadStatus::Ok => status::OK,
        ReadStatus::OkWithErrors => status::OK_WITH_ERRORS,
        ReadStatus::Failed => status::FAILED,
        ReadStatus::Encrypted => status::ENCRYPTED,
    }
}

/// The answer to one request for unit `unit` from `image`; `only_unit` is
/// `modbus.unit_id`.
pub fn answer(
    image: &Image,
    only_unit: Option<u8>,
    unit: u8,
    request: &Request<'_>,
) -> Result<Response, ExceptionCode> {
    if only_unit.is_some_and(|u| u != unit) {
        return Err(ExceptionCode::GatewayTargetDevice);
    }
    let read = |address: u16, count: u16| {
        image.read(address, count).map_err(|e| match e {
            ReadError::Quantity(_) => ExceptionCode::IllegalDataValue,
            ReadError::Address(_) => ExceptionCode::IllegalDataAddress,
        })
    };
    match *request {
        Request::ReadInputRegisters(address, count) => {
            read(address, count).map(Response::ReadInputRegisters)
        }
        Request::ReadHoldingRegisters(address, count) => {
            read(address, count).map(Response::ReadHoldingRegisters)
        }
        _ => Err(ExceptionCode::IllegalFunction),
    }
}

/// The register layout of `config`, with the meter numbering of `data_dir` brought up to
/// date: what the server serves and the register map shows.
pub fn layout(config: &Config, data_dir: &Path) -> Result<Layout, IndexError> {
    Ok(Layout::new(
        config,
        &Assignment::follow(data_dir, &config.meters)?,
    ))
}

/// The register map of `config` as CSV ([`Layout::csv`] of [`layout()`]).
pub fn register_map(config: &Config, data_dir: &Path) -> Result<String, IndexError> {
    layout(config, data_dir).map(|l| l.csv())
}

#[cfg(test)]
mod tests {
    use super::layout::{header, slot, HEADER, SLOT};
    use super::*;
    use crate::config::WordOrder;
    use crate::status::StatusBoard;
    use crate::storage::{Decimal, MeterId, Reading};

    fn config(modbus: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"version": 2, "modbus": {modbus}, "meters": [
              {{"id": 7, "name": "Heat, cellar", "addressing": "secondary", "primary": 1,
                "secondary": "12345678B4090104", "registers": [
                {{"index": 3, "name": "Flow", "unit": "m³/h"}},
                {{"index": 0, "name": "Energy", "unit": "kWh"}},
                {{"index": 1, "name": "Spare", "off": true}}]}},
              {{"id": 9, "name": "Water", "addressing": "primary", "primary": 2, "registers": [
                {{"index": 0, "name": "Volume", "unit": "m³"}}]}},
              {{"id": 4, "name": "Empty", "addressing": "primary", "primary": 3}}]}}"#
        ))
        .unwrap()
    }

    fn numbering(config: &Config) -> Assignment {
        let mut a = Assignment::default();
        a.update(&config.meters);
        a
    }

    fn image(config: &Config, assignment: &Assignment) -> Image {
        let layout = Layout::new(config, assignment);
        let mut board = StatusBoard::default();
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        board.record_success(7, at, 0x04);
        board.record_failure(9, at, "no reply");
        Image::build(&layout, &board, |meter| {
            (meter == 7).then(|| Reading {
                meter: MeterId(7),
                time: 1_700_000_000,
                status: 0,
                values: vec![Some(Decimal::new(12_345_678, -3)), None, None, None],
            })
        })
    }

    fn u32_at(regs: &[u16], at: u16) -> u32 {
        (u32::from(regs[usize::from(at)]) << 16) | u32::from(regs[usize::from(at) + 1])
    }

    #[test]
    fn blocks_sit_at_index_times_block_size_with_slots_by_register_index() {
        let config = config(r#"{"block_size": 32}"#);
        let layout = Layout::new(&config, &numbering(&config));
        let bases: Vec<(u32, u16)> = layout.blocks.iter().map(|b| (b.meter, b.base)).collect();
        assert_eq!(bases, [(7, 0), (9, 32), (4, 64)]);
        let heat = &layout.blocks[0];
        let slots: Vec<(u32, u16, u16, u16)> = heat
            .slots
            .iter()
            .map(|s| {
                (
                    s.register,
                    s.address,
                    s.float32_address(),
                    s.int32_address(),
                )
            })
            .collect();
        assert_eq!(slots, [(0, 8, 8, 10), (3, 14, 14, 16)]);
        assert_eq!((HEADER, SLOT), (8, 6));
        assert!(layout.blocks[2].slots.is_empty());
        // A deleted meter's block stays empty; the others keep their addresses.
        let mut fewer = config.clone();
        fewer.meters.remove(1);
        let mut a = numbering(&config);
        a.update(&fewer.meters);
        let layout = Layout::new(&fewer, &a);
        let bases: Vec<(u32, u16)> = layout.blocks.iter().map(|b| (b.meter, b.base)).collect();
        assert_eq!(bases, [(7, 0), (4, 64)]);
        assert!(layout.block_at(40).is_none());
        assert_eq!(layout.block_at(70).map(|b| b.meter), Some(4));
    }

    #[test]
    fn a_full_block_leaves_out_the_last_registers() {
        let mut config = config(r#"{"block_size": 16}"#);
        let registers = (0..5)
            .map(|i| format!(r#"{{"index": {i}, "name": "r{i}"}}"#))
            .collect::<Vec<_>>()
            .join(",");
        config.meters[1].registers = serde_json::from_str(&format!("[{registers}]")).unwrap();
        let layout = Layout::new(&config, &numbering(&config));
        assert_eq!(layout.blocks[1].slots.len(), 1);
        assert_eq!(layout.blocks[1].omitted, 4);
    }

    #[test]
    fn the_image_holds_status_time_and_both_forms_of_each_value() {
        let config = config(r#"{"block_size": 32, "int32_decimals": 2}"#);
        let image = image(&config, &numbering(&config));
        let heat = image.read(0, 32).unwrap();
        assert_eq!(heat[usize::from(header::STATUS)], status::OK_WITH_ERRORS);
        assert_eq!(heat[usize::from(header::ERROR_FLAGS)], 0x04);
        assert_eq!(u32_at(&heat, header::TIME), 1_700_000_000);
        assert_eq!(heat[usize::from(header::VALUES)], 2);
        assert_eq!(u32_at(&heat, header::METER_ID), 7);
        // Energy 12345.678 kWh: float32 and int32 × 10^2 rounded.
        let energy = HEADER;
        assert_eq!(
            f32::from_bits(u32_at(&heat, energy + slot::FLOAT32)),
            12_345.678_f32
        );
        assert_eq!(u32_at(&heat, energy + slot::INT32) as i32, 1_234_568);
        assert_eq!(heat[usize::from(energy + slot::EXPONENT)] as i16, -2);
        assert_eq!(heat[usize::from(energy + slot::FLAGS)], flags::VALUE);
        // Flow: not delivered.
        let flow = HEADER + SLOT;
        assert!(f32::from_bits(u32_at(&heat, flow + slot::FLOAT32)).is_nan());
        assert_eq!(u32_at(&heat, flow + slot::INT32), 0x8000_0000);
        assert_eq!(heat[usize::from(flow + slot::FLAGS)], flags::NO_VALUE);
        // The water meter failed and has no reading; the empty one was never read.
        let water = image.read(32, 8).unwrap();
        assert_eq!(water[0], status::FAILED);
        assert_eq!(u32_at(&water, header::TIME), 0);
        assert_eq!(image.read(64, 1).unwrap(), [status::NEVER_READ]);
    }

    #[test]
    fn low_word_first_swaps_the_registers_of_every_32_bit_value() {
        let config = config(r#"{"block_size": 32, "word_order": "low_first"}"#);
        let image = image(&config, &numbering(&config));
        let heat = image.read(0, 16).unwrap();
        let swapped = |at: u16| {
            (u32::from(heat[usize::from(at) + 1]) << 16) | u32::from(heat[usize::from(at)])
        };
        assert_eq!(swapped(header::TIME), 1_700_000_000);
        assert_eq!(f32::from_bits(swapped(HEADER)), 12_345.678_f32);
        assert_eq!(swapped(HEADER + slot::INT32) as i32, 12_345_678);
        assert_eq!(
            image::words(0x1234_5678, WordOrder::LowFirst),
            [0x5678, 0x1234]
        );
        assert_eq!(
            image::words(0x1234_5678, WordOrder::HighFirst),
            [0x1234, 0x5678]
        );
    }

    #[test]
    fn int32_scaling_is_exact_and_rounds_half_away_from_zero() {
        let d = |m, e| Decimal::new(m, e);
        assert_eq!(image::scaled_int32(d(12_345, -3), 2), Some(1235));
        assert_eq!(image::scaled_int32(d(-12_345, -3), 2), Some(-1235));
        assert_eq!(image::scaled_int32(d(-12_344, -3), 2), Some(-1234));
        assert_eq!(image::scaled_int32(d(7, 2), 3), Some(700_000));
        assert_eq!(image::scaled_int32(d(1, -40), 3), Some(0));
        assert_eq!(image::scaled_int32(d(3, 9), 3), None);
        assert_eq!(image::scaled_int32(d(i128::from(i32::MIN), 0), 0), None);
        assert_eq!(image::scaled_int32(d(1, 120), 6), None);
        assert_eq!(image::scaled_int32(d(37_566_499, 0), -3), Some(37_566));
        assert_eq!(image::scaled_int32(d(37_566_500, 0), -3), Some(37_567));
    }

    #[test]
    fn requests_outside_the_blocks_or_of_other_kinds_are_exceptions() {
        let config = config(r#"{"block_size": 32}"#);
        let image = image(&config, &numbering(&config));
        let read = |unit: u8, request: Request<'static>, only: Option<u8>| {
            answer(&image, only, unit, &request)
        };
        assert!(matches!(
            read(1, Request::ReadInputRegisters(0, 10), None),
            Ok(Response::ReadInputRegisters(r)) if r.len() == 10
        ));
        assert!(matches!(
            read(1, Request::ReadHoldingRegisters(30, 4), None),
            Ok(Response::ReadHoldingRegisters(r)) if r.len() == 4
        ));
        use ExceptionCode::{
            IllegalDataAddress as Address, IllegalDataValue as Value, IllegalFunction as Function,
        };
        use Request::ReadInputRegisters as Input;
        for (request, code) in [
            (Input(90, 10), Address),
            (Input(95, 2), Address),
            (Input(65_535, 2), Address),
            (Input(0, 126), Value),
            (Input(0, 0), Value),
            (Request::WriteSingleRegister(0, 1), Function),
            (Request::ReadCoils(0, 1), Function),
        ] {
            assert_eq!(read(1, request.clone(), None), Err(code), "{request:?}");
        }
        assert_eq!(
            read(2, Request::ReadInputRegisters(0, 1), Some(1)),
            Err(ExceptionCode::GatewayTargetDevice)
        );
        assert!(read(1, Request::ReadInputRegisters(0, 1), Some(1)).is_ok());
    }

    #[test]
    fn the_register_map_lists_every_value_with_its_addresses() {
        let config = config(
            r#"{"block_size": 32, "int32_decimals": 2,
                "int32_overrides": [{"meter": 9, "register": 0, "decimals": -1}]}"#,
        );
        let csv = Layout::new(&config, &numbering(&config)).csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines,
            [
                "meter_id,meter,secondary_address,meter_index,base_address,status_address,\
                 time_address,register_index,register,unit,float32_address,int32_address,\
                 int32_exponent,word_order",
                "7,\"Heat, cellar\",12345678B4090104,0,0,0,2,0,Energy,kWh,8,10,-2,high_first",
                "7,\"Heat, cellar\",12345678B4090104,0,0,0,2,3,Flow,m³/h,14,16,-2,high_first",
                "9,Water,,1,32,32,34,0,Volume,m³,40,42,1,high_first",
                "4,Empty,,2,64,64,66,,,,,,,high_first",
            ]
        );
    }

    #[test]
    fn register_map_stores_the_numbering_it_used() {
        let dir = tempfile::tempdir().unwrap();
        let config = config("{}");
        let csv = register_map(&config, dir.path()).unwrap();
        assert!(csv.contains("\n9,Water,,1,128,"), "{csv}");
        let stored = Assignment::load(dir.path()).unwrap();
        assert_eq!(stored.index(4), Some(2));
    }
}
