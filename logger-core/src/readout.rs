//! From a meter's reply telegrams to register values: decoding with `mbus-proto`,
//! the registers a new meter gets, divisor scaling and the stored [`Reading`].
//!
//! Registers are numbered by the position of their data record in the reply, all telegrams
//! of a multi-telegram read counted in order (manufacturer-specific data is not a record).
//! A stored reading has one value slot per register index; `off` registers, records the
//! meter did not send and non-numeric records (dates, text) are empty slots.

use crate::config::{Meter, Register};
use crate::storage::{storable, Decimal, MeterId, Reading};
use crate::template::MeterType;
use mbus_proto::address::SecondaryAddress;
use mbus_proto::app::{decode_frame, DecodeError, Header, Telegram};
use mbus_proto::record::{Function, Record};
use mbus_proto::value::ScaledValue;

/// One data record of a reply, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordValue {
    /// Quantity name, e.g. `energy`, `volume_flow`.
    pub quantity: &'static str,
    /// Unit symbol as sent, e.g. `Wh`, `m^3`.
    pub unit: &'static str,
    /// Storage number.
    pub storage: u64,
    /// Tariff.
    pub tariff: u32,
    /// Sub-unit (device).
    pub subunit: u32,
    /// Function: instantaneous, maximum, minimum or error state.
    pub function: Function,
    /// The numeric value in `unit`, exact; `None` for dates, text and bytes.
    pub value: Option<Decimal>,
}

/// A meter's decoded reply: identification plus all data records.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterData {
    /// Secondary address from the long header (`None` for short/no-header replies).
    pub secondary: Option<SecondaryAddress>,
    /// Status byte of the header (0 if none).
    pub status: u8,
    /// The data records in reply order.
    pub records: Vec<RecordValue>,
}

/// Why a reply could not be turned into register values.
#[derive(Debug, thiserror::Error)]
pub enum ReadoutError {
    /// The telegram is malformed.
    #[error("telegram {index}: {source}")]
    Decode {
        /// Which telegram of the read (0-based).
        index: usize,
        /// The decoder's error.
        source: DecodeError,
    },
    /// The meter answered with an application error.
    #[error("meter reports application error 0x{0:02X}")]
    ApplicationError(u8),
    /// The meter answered with something that is not a variable data structure.
    #[error("telegram {0} is not a variable data reply")]
    NotVariableData(usize),
    /// No telegram at all.
    #[error("no telegram")]
    Empty,
    /// The records are encrypted (security mode of the configuration field); nothing is
    /// decoded from ciphertext.
    #[error("telegram {index} is encrypted (security mode {mode}): key needed")]
    Encrypted {
        /// Which telegram of the read (0-based).
        index: usize,
        /// The security mode.
        mode: u8,
    },
}

/// Status-byte bits that mean an error (application busy/error, power low, permanent and
/// temporary error); bits 5–7 are manufacturer-specific.
pub const STATUS_ERROR_BITS: u8 = 0x1F;

/// Flag set in [`MeterData::error_flags`] when an error-state record reports a non-zero value.
pub const ERROR_RECORD_FLAG: u8 = 0x80;

/// The stored form of a record's scaled value: exact values keep their digits (trailing zeros
/// are dropped only where the mantissa or exponent would not fit), approximate ones are stored
/// as the shortest decimal of their `f64`.
fn to_storage_decimal(value: ScaledValue) -> Option<Decimal> {
    storable(value.to_decimal()?)
}

impl MeterData {
    /// Decodes the telegrams of one read (in order).
    pub fn decode(telegrams: &[impl AsRef<[u8]>]) -> Result<MeterData, ReadoutError> {
        if telegrams.is_empty() {
            return Err(ReadoutError::Empty);
        }
        let mut data = MeterData {
            secondary: None,
            status: 0,
            records: Vec::new(),
        };
        for (index, bytes) in telegrams.iter().enumerate() {
            let telegram = decode_frame(bytes.as_ref())
                .map_err(|source| ReadoutError::Decode { index, source })?;
            let vd = match telegram {
                Telegram::Variable(vd) => vd,
                Telegram::Error(e) => return Err(ReadoutError::ApplicationError(e.code)),
                Telegram::Encrypted(e) => {
                    return Err(ReadoutError::Encrypted {
                        index,
                        mode: e.mode,
                    })
                }
                Telegram::Fixed(_) | Telegram::Alarm(_) => {
                    return Err(ReadoutError::NotVariableData(index))
                }
            };
            match vd.header {
                Header::Long(h) => {
                    if data.secondary.is_none() {
                        data.secondary = h.secondary_address().ok();
                    }
                    data.status |= h.status;
                }
                Header::Short(h) => data.status |= h.status,
                Header::None => {}
            }
            for record in vd.records() {
                let record = record.map_err(|e| ReadoutError::Decode {
                    index,
                    source: DecodeError::from(e),
                })?;
                let Record::Data(r) = record else { continue };
                let info = r.value_info();
                let value = r.scaled_value().and_then(to_storage_decimal);
                data.records.push(RecordValue {
                    quantity: info.quantity.name(),
                    unit: info.unit.symbol(),
                    storage: r.storage_number(),
                    tariff: r.tariff(),
                    subunit: r.subunit(),
                    function: r.function(),
                    value,
                });
            }
        }
        Ok(data)
    }

    /// Error flags: the status byte's error bits, plus [`ERROR_RECORD_FLAG`] when an
    /// error-state record is non-zero. 0 = no error.
    pub fn error_flags(&self) -> u8 {
        let records = self.records.iter().any(|r| {
            r.function == Function::ErrorState && r.value.is_some_and(|v| v.mantissa != 0)
        });
        (self.status & STATUS_ERROR_BITS) | if records { ERROR_RECORD_FLAG } else { 0 }
    }

    /// The meter type templates are matched on.
    pub fn meter_type(&self) -> Option<MeterType> {
        let s = self.secondary?;
        Some(MeterType {
            manufacturer: String::from_utf8_lossy(&s.manufacturer_letters()).into_owned(),
            medium: s.medium,
            version: s.version,
            values: u32::try_from(self.records.len()).unwrap_or(u32::MAX),
        })
    }

    /// One register per record, named after its quantity, in the meter's unit with divisor 1;
    /// records without a numeric value start switched off.
    pub fn default_registers(&self) -> Vec<Register> {
        self.records
            .iter()
            .enumerate()
            .map(|(i, r)| Register {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                name: title(r.quantity),
                description: describe(r),
                meter_unit: r.unit.to_string(),
                unit: r.unit.to_string(),
                phase: 0,
                divisor: 1.0,
                storage: r.storage,
                tariff: r.tariff,
                off: r.value.is_none(),
            })
            .collect()
    }

    /// The reading to store for `meter` at `time` (unix seconds): one slot per register index,
    /// each value divided by its register's divisor.
    pub fn reading(&self, meter: &Meter, time: i64) -> Reading {
        let slots = meter
            .registers
            .iter()
            .map(|r| r.index as usize + 1)
            .max()
            .unwrap_or(0);
        let mut values = vec![None; slots.min(crate::storage::MAX_VALUES)];
        for register in meter.registers.iter().filter(|r| !r.off) {
            let Some(slot) = values.get_mut(register.index as usize) else {
                continue;
            };
            *slot = self
                .records
                .get(register.index as usize)
                .and_then(|r| r.value)
                .and_then(|v| divide(v, register.divisor));
        }
        Reading {
            meter: MeterId(meter.id),
            time,
            status: u32::from(self.error_flags()),
            values,
        }
    }
}

/// `value / divisor`: exact when the divisor is a power of ten (1000, 0.01, …), else the
/// shortest decimal of the `f64` quotient.
///
/// ```
/// use logger_core::readout::divide;
/// use logger_core::storage::Decimal;
/// assert_eq!(divide(Decimal::new(1234567, 0), 1000.0), Some(Decimal::new(1234567, -3)));
/// assert_eq!(divide(Decimal::new(102, 0), 0.01), Some(Decimal::new(102, 2)));
/// ```
pub fn divide(value: Decimal, divisor: f64) -> Option<Decimal> {
    if divisor == 0.0 || !divisor.is_finite() {
        return None;
    }
    let d = Decimal::from_f64(divisor)?;
    if d.mantissa.abs() == 1 {
        let exponent = value.exponent.checked_sub(d.exponent)?;
        let mantissa = value.mantissa.checked_mul(d.mantissa)?;
        return storable(Decimal::new(mantissa, exponent));
    }
    storable(Decimal::from_f64(value.to_f64() / divisor)?)
}

fn title(quantity: &str) -> String {
    let text = quantity.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn describe(r: &RecordValue) -> String {
    let mut text = title(r.quantity);
    match r.function {
        Function::Instantaneous => {}
        Function::Maximum => text.push_str(", maximum"),
        Function::Minimum => text.push_str(", minimum"),
        Function::ErrorState => text.push_str(", error state"),
    }
    if r.storage != 0 {
        text.push_str(&format!(", storage {}", r.storage));
    }
    if r.tariff != 0 {
        text.push_str(&format!(", tariff {}", r.tariff));
    }
    if r.subunit != 0 {
        text.push_str(&format!(", unit {}", r.subunit));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_corpus::frame as corpus_frame;

    #[test]
    fn decodes_a_kamstrup_reply_into_registers() {
        let data = MeterData::decode(&[corpus_frame("kamstrup_multical_601")]).unwrap();
        let kind = data.meter_type().unwrap();
        assert_eq!(kind.manufacturer, "KAM");
        assert_eq!(kind.medium, 0x04);
        let regs = data.default_registers();
        assert_eq!(regs.len(), data.records.len());
        assert_eq!(regs[0].index, 0);
        assert!(regs
            .iter()
            .any(|r| r.meter_unit == "Wh" || r.meter_unit == "J"));
    }

    #[test]
    fn divisor_scaling_is_exact_for_powers_of_ten() {
        let v = Decimal::new(102, 0);
        assert_eq!(divide(v, 10.0).unwrap().to_string(), "10.2");
        assert_eq!(divide(v, 0.01).unwrap().to_string(), "10200");
        assert_eq!(divide(v, -1.0).unwrap().to_string(), "-102");
        assert_eq!(divide(Decimal::new(9, 0), 3.0).unwrap().to_string(), "3");
        assert_eq!(divide(v, 0.0), None);
    }

    #[test]
    fn reading_skips_off_registers_and_applies_divisors() {
        let data = MeterData::decode(&[corpus_frame("EMU_EMU-Professional-375-M-Bus")]).unwrap();
        let mut meter: Meter =
            serde_json::from_str(r#"{"id":9,"name":"emu","addressing":"primary","primary":1}"#)
                .unwrap();
        meter.registers = data.default_registers();
        meter.registers[1].divisor = 1000.0;
        meter.registers[2].off = true;
        let reading = data.reading(&meter, 1_700_000_000);
        assert_eq!(reading.meter, MeterId(9));
        assert_eq!(reading.values.len(), meter.registers.len());
        assert_eq!(reading.values[1].unwrap().to_string(), "1.364");
        assert_eq!(reading.values[2], None);
    }
}
