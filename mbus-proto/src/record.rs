//! Data records of the variable data structure (EN 13757-3 clause 6): the lazy [`Records`]
//! iterator over DIF/DIFE/VIF/VIFE chains and the borrowed [`DataRecord`] view.
//!
//! Iteration borrows the telegram bytes and never allocates. Idle fillers (DIF 0x2F) are skipped;
//! DIF 0x0F / 0x1F end the records and hand out the remaining bytes as manufacturer data.
//!
//! ```
//! use mbus_proto::record::{Record, Records, Function};
//! use mbus_proto::value::Value;
//!
//! // 04 13 <u32>: instantaneous volume in litres; 2F: filler; 0F …: manufacturer data.
//! let bytes = [0x04, 0x13, 0x39, 0x30, 0x00, 0x00, 0x2F, 0x0F, 0xAA, 0xBB];
//! let mut records = Records::new(&bytes, 0);
//! let Some(Ok(Record::Data(r))) = records.next() else { panic!() };
//! assert_eq!(r.function(), Function::Instantaneous);
//! assert_eq!(r.value(), Value::Integer(12345));
//! assert_eq!(r.decimal().map(|d| d.to_string()).as_deref(), Some("12.345"));
//! let Some(Ok(Record::Manufacturer(m))) = records.next() else { panic!() };
//! assert_eq!(m.data, &[0xAA, 0xBB]);
//! assert!(records.next().is_none());
//! # Ok::<(), mbus_proto::record::RecordError>(())
//! ```

use crate::datetime::{Date, DateTime, DstRule, Time};
use crate::value::{int_le, Bcd, DataCoding, Decimal, Lvar, ScaledReal, ScaledValue, Text, Value};
use crate::vif::{Modifier, ValueInfo, Vib};

/// The most DIFEs (and, separately, VIFEs) a record may carry.
pub const MAX_EXTENSIONS: usize = 10;
/// The longest plain-text unit accepted after VIF 0x7C / 0xFC.
pub const MAX_PLAIN_TEXT_UNIT: usize = 128;

/// DIF of an idle filler byte between records.
pub const DIF_IDLE_FILLER: u8 = 0x2F;
/// DIF announcing manufacturer-specific data up to the end of the telegram.
pub const DIF_MANUFACTURER: u8 = 0x0F;
/// DIF announcing manufacturer-specific data and more records in the next telegram.
pub const DIF_MORE_RECORDS_FOLLOW: u8 = 0x1F;

/// Codings (as bits `1 << nibble`) holding a signed integer: 8/16/24/32/48/64 bit.
const INT_CODINGS: u16 = 1 << 0x1 | 1 << 0x2 | 1 << 0x3 | 1 << 0x4 | 1 << 0x6 | 1 << 0x7;
/// Integer codings a date/time VIF turns into a date type (16, 24, 32, 48 bit).
const DATE_CODINGS: u16 = 1 << 0x2 | 1 << 0x3 | 1 << 0x4 | 1 << 0x6;
/// BCD codings: 2, 4, 6, 8, 12 digits.
const BCD_CODINGS: u16 = 1 << 0x9 | 1 << 0xA | 1 << 0xB | 1 << 0xC | 1 << 0xE;

/// Marker in [`DATA_LEN`] for variable-length data.
const VARIABLE: u8 = 0xFF;
/// Data length by DIF coding nibble (a table, not a branch, keeps the parse loop fast).
const DATA_LEN: [u8; 16] = [0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, VARIABLE, 6, 8];

/// The data length the coding nibble of `dif` announces ([`VARIABLE`] for LVAR data).
#[inline]
fn data_len(dif: u8) -> u8 {
    // The nibble is below 16, so the lookup always hits (and compiles without a bounds check).
    DATA_LEN.get(usize::from(dif & 0x0F)).copied().unwrap_or(0)
}

/// Why a record cannot be decoded. Offsets count from the start of the frame when the telegram
/// came from a [`crate::frame::Frame`], else from the start of the bytes given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The DIF or a DIFE announces an extension, but the data ends.
    #[error("byte {offset}: premature end of record in the DIF/DIFE chain")]
    PrematureEndAtDif {
        /// Offset of the record's DIF.
        offset: usize,
    },
    /// More than [`MAX_EXTENSIONS`] DIFEs.
    #[error("byte {offset}: more than 10 DIFEs")]
    TooManyDifes {
        /// Offset of the 11th DIFE.
        offset: usize,
    },
    /// The data ends before the VIF or inside the VIFE chain.
    #[error("byte {offset}: premature end of record in the VIF/VIFE chain")]
    PrematureEndAtVif {
        /// Offset where the VIF or VIFE was expected.
        offset: usize,
    },
    /// More than [`MAX_EXTENSIONS`] VIFEs.
    #[error("byte {offset}: more than 10 VIFEs")]
    TooManyVifes {
        /// Offset of the 11th VIFE.
        offset: usize,
    },
    /// A plain-text unit is longer than [`MAX_PLAIN_TEXT_UNIT`].
    #[error("byte {offset}: plain-text unit of {len} characters is too long (at most 128)")]
    PlainTextUnitTooLong {
        /// Offset of the length byte.
        offset: usize,
        /// The announced length.
        len: usize,
    },
    /// The data ends inside a plain-text unit.
    #[error("byte {offset}: premature end of record in the plain-text unit ({len} characters announced)")]
    PrematureEndAtPlainTextUnit {
        /// Offset of the length byte.
        offset: usize,
        /// The announced length.
        len: usize,
    },
    /// The data ends inside the record's data field.
    #[error("byte {offset}: premature end of data: {needed} byte(s) needed, {available} left")]
    PrematureEndOfData {
        /// Offset of the data field.
        offset: usize,
        /// Bytes the coding needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
}

impl RecordError {
    /// The byte offset the error refers to.
    pub fn offset(&self) -> usize {
        match *self {
            RecordError::PrematureEndAtDif { offset }
            | RecordError::TooManyDifes { offset }
            | RecordError::PrematureEndAtVif { offset }
            | RecordError::TooManyVifes { offset }
            | RecordError::PlainTextUnitTooLong { offset, .. }
            | RecordError::PrematureEndAtPlainTextUnit { offset, .. }
            | RecordError::PrematureEndOfData { offset, .. } => offset,
        }
    }
}

/// The function field of the DIF (bits 4–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// Instantaneous value.
    Instantaneous,
    /// Maximum value.
    Maximum,
    /// Minimum value.
    Minimum,
    /// Value during error state.
    ErrorState,
}

impl Function {
    /// The function of a DIF byte.
    #[inline]
    pub fn from_dif(dif: u8) -> Function {
        match dif & 0x30 {
            0x00 => Function::Instantaneous,
            0x10 => Function::Maximum,
            0x20 => Function::Minimum,
            _ => Function::ErrorState,
        }
    }

    /// Lowercase name used in JSON and text output.
    pub fn name(self) -> &'static str {
        match self {
            Function::Instantaneous => "instantaneous",
            Function::Maximum => "maximum",
            Function::Minimum => "minimum",
            Function::ErrorState => "error",
        }
    }
}

/// Byte order of multi-byte values (CI 0x72/0x7A/0x78 are LSB first; 0x76 is MSB first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first (mode 1, the usual one).
    LsbFirst,
    /// Most significant byte first (mode 2).
    MsbFirst,
}

/// One item of the record stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Record<'a> {
    /// A data record with DIB, VIB and data.
    Data(DataRecord<'a>),
    /// DIF 0x0F or 0x1F: manufacturer data up to the end of the telegram.
    Manufacturer(ManufacturerData<'a>),
}

/// Manufacturer-specific data after DIF 0x0F / 0x1F.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManufacturerData<'a> {
    /// Offset of the DIF.
    pub offset: usize,
    /// The DIF (0x0F or 0x1F).
    pub dif: u8,
    /// The bytes after the DIF, in wire order.
    pub data: &'a [u8],
}

impl ManufacturerData<'_> {
    /// DIF 0x1F: the meter has more records for the next REQ_UD2.
    #[inline]
    pub fn more_records_follow(&self) -> bool {
        self.dif == DIF_MORE_RECORDS_FOLLOW
    }
}

/// A borrowed view of one data record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataRecord<'a> {
    /// Offset of the DIF.
    pub offset: usize,
    /// The DIF byte.
    pub dif: u8,
    /// The DIFE bytes (at most 10).
    pub difes: &'a [u8],
    /// The value information block.
    pub vib: Vib<'a>,
    /// The LVAR byte of variable-length data.
    pub lvar: Option<u8>,
    /// The data field, in wire order (without the LVAR byte).
    pub data: &'a [u8],
    /// Byte order of the telegram.
    pub byte_order: ByteOrder,
}

impl<'a> DataRecord<'a> {
    /// The data-field coding.
    #[inline]
    pub fn coding(&self) -> DataCoding {
        DataCoding::from_dif(self.dif)
    }

    /// Instantaneous, maximum, minimum or error-state value.
    #[inline]
    pub fn function(&self) -> Function {
        Function::from_dif(self.dif)
    }

    /// Storage number: DIF bit 6, then 4 bits per DIFE.
    #[inline]
    pub fn storage_number(&self) -> u64 {
        let mut n = u64::from((self.dif >> 6) & 1);
        for (i, &d) in self.difes.iter().enumerate() {
            n |= u64::from(d & 0x0F) << (1 + 4 * i);
        }
        n
    }

    /// Tariff: 2 bits per DIFE (0 without DIFEs).
    #[inline]
    pub fn tariff(&self) -> u32 {
        self.difes
            .iter()
            .enumerate()
            .fold(0, |t, (i, &d)| t | (u32::from((d >> 4) & 3) << (2 * i)))
    }

    /// Sub-unit (device): 1 bit per DIFE (0 without DIFEs).
    #[inline]
    pub fn subunit(&self) -> u32 {
        self.difes
            .iter()
            .enumerate()
            .fold(0, |t, (i, &d)| t | (u32::from((d >> 6) & 1) << i))
    }

    /// Quantity, unit and scaling from the VIB.
    #[inline]
    pub fn value_info(&self) -> ValueInfo<'a> {
        self.vib.info()
    }

    #[inline]
    fn ordered<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = self.data.len().min(N);
        for (o, &b) in out.iter_mut().zip(self.data) {
            *o = b;
        }
        if self.byte_order == ByteOrder::MsbFirst {
            out[..n].reverse();
        }
        out
    }

    #[inline]
    fn int(&self) -> i64 {
        match self.byte_order {
            ByteOrder::LsbFirst => int_le(self.data),
            ByteOrder::MsbFirst => {
                let b: [u8; 8] = self.ordered();
                int_le(b.get(..self.data.len()).unwrap_or(&b))
            }
        }
    }

    /// Which date/time type the VIB selects, if any: 1 = date (VIF 0x6C), 2 = date/time
    /// (VIF 0x6D, 0xFD 0x30 tariff start, 0xFD 0x70 battery change), 3 = DST rule (0xFD 0x72,
    /// EN 13757-3:2018 Table 12).
    #[inline]
    fn date_kind(&self) -> u8 {
        let by_vif = match self.vib.vif {
            0xFD => match self.vib.vifes.first().map(|v| v & 0x7F) {
                Some(0x30 | 0x70) => 2,
                Some(0x72) => 3,
                _ => 0,
            },
            v if v & 0x7F == 0x6C => 1,
            v if v & 0x7F == 0x6D => 2,
            _ => 0,
        };
        if by_vif != 0 || self.vib.vifes.is_empty() {
            return by_vif;
        }
        // "Date (/time) of …" VIFEs: the field holds the date of the event, not the quantity.
        if self.vib.modifiers().any(Modifier::is_date_of) {
            2
        } else {
            0
        }
    }

    /// The decoded data field. Date/time types follow the VIF: 0x6C (type G), 0x6D with 4 bytes
    /// (F), 6 bytes (I) or 3 bytes (J); 0xFD 0x30 / 0xFD 0x70 (tariff start, battery change) as
    /// F/I; 0xFD 0x72 (daylight saving) as K. A "date (/time) of" VIFE
    /// ([`Modifier::is_date_of`]) makes a 16/32/48-bit field a date (G), date/time (F) or (I).
    #[inline]
    pub fn value(&self) -> Value<'a> {
        // The common codings are tested with bit masks first: one well-predicted branch each
        // instead of a jump table.
        let bit = 1u16 << (self.dif & 0x0F);
        if bit & INT_CODINGS != 0 && (bit & DATE_CODINGS == 0 || self.date_kind() == 0) {
            return Value::Integer(self.int());
        }
        if bit & BCD_CODINGS != 0 {
            return Value::Bcd(self.bcd());
        }
        match self.dif & 0x0F {
            n @ (0x02 | 0x03 | 0x04 | 0x06) if self.date_kind() != 0 => {
                match (n, self.date_kind()) {
                    (0x02, _) => Value::Date(Date::from_cp16(self.ordered())),
                    (0x03, _) => Value::Time(Time::from_cp24(self.ordered())),
                    (0x04, 3) => Value::Dst(DstRule::from_cp32(self.ordered())),
                    (0x04, _) => Value::DateTime(DateTime::from_cp32(self.ordered())),
                    _ => Value::DateTime(DateTime::from_cp48(self.ordered())),
                }
            }
            0x01..=0x04 | 0x06 | 0x07 => Value::Integer(self.int()),
            0x05 => Value::Real(f32::from_le_bytes(self.ordered())),
            0x09..=0x0C | 0x0E => Value::Bcd(self.bcd()),
            0x0D => match self.lvar.map(Lvar::from_byte) {
                Some(Lvar::Text(_)) => Value::Text(Text(self.data)),
                Some(Lvar::PositiveBcd(_)) => Value::Bcd(self.bcd()),
                Some(Lvar::NegativeBcd(_)) => match self.bcd().value() {
                    Some(v) => Value::Integer(-v),
                    None => Value::Bytes(self.data),
                },
                Some(Lvar::Binary(n)) if n <= 8 => Value::Integer(self.int()),
                _ => Value::Bytes(self.data),
            },
            0x0F => Value::Bytes(self.data),
            // 0x0 no data, 0x8 selection for readout.
            _ => Value::None,
        }
    }

    #[inline]
    fn bcd(&self) -> Bcd {
        match self.byte_order {
            ByteOrder::LsbFirst => Bcd::from_le(self.data.get(..8).unwrap_or(self.data)),
            ByteOrder::MsbFirst => {
                let b: [u8; 8] = self.ordered();
                Bcd::from_le(b.get(..self.data.len()).unwrap_or(&b))
            }
        }
    }

    /// The value as an exact decimal in the VIF's unit: the integer/BCD mantissa times ten to the
    /// VIF exponent, with the multiplicative and additive correction VIFEs applied. `None` for
    /// non-numeric values (dates, text, bytes, invalid BCD) and for reals, whose value is
    /// approximate: [`scaled_value`](Self::scaled_value) covers every numeric record.
    #[inline]
    pub fn decimal(&self) -> Option<Decimal> {
        let bit = 1u16 << (self.dif & 0x0F);
        let mantissa = if bit & INT_CODINGS != 0 {
            if bit & DATE_CODINGS != 0 && self.date_kind() != 0 {
                return None;
            }
            self.int()
        } else if bit & BCD_CODINGS != 0 {
            self.bcd().value()?
        } else if self.dif & 0x0F == 0x0D {
            self.value().as_i64()?
        } else {
            return None;
        };
        match self.scale(Value::Integer(mantissa), &self.vib.info())? {
            ScaledValue::Exact(d) => Some(d),
            ScaledValue::Approximate(_) => None,
        }
    }

    /// The record's number in the unit of its [`ValueInfo`], with the VIF's power of ten and
    /// every correction VIFE applied: exact for integer and BCD fields, approximate for 32-bit
    /// reals. `None` for dates, text, bytes, invalid BCD and non-finite reals. This is the one
    /// place raw fields are scaled; the CLI, JSON, the logger and everything downstream use it.
    ///
    /// ```
    /// use mbus_proto::record::{Record, Records};
    /// use mbus_proto::value::ScaledValue;
    ///
    /// // DIF 0x05 (32-bit real), VIF 0x2B (power, W × 10^0): 231.6 W.
    /// let bytes = [0x05, 0x2B, 0x9A, 0x99, 0x67, 0x43];
    /// let Some(Ok(Record::Data(r))) = Records::new(&bytes, 0).next() else { unreachable!() };
    /// assert_eq!(r.scaled_value().map(|v| v.to_f64()), Some(231.6));
    /// assert!(matches!(r.scaled_value(), Some(ScaledValue::Approximate(_))));
    /// // VIF 0x2E: the same float in kW (W × 10^3).
    /// let bytes = [0x05, 0x2E, 0x9A, 0x99, 0x67, 0x43];
    /// let Some(Ok(Record::Data(r))) = Records::new(&bytes, 0).next() else { unreachable!() };
    /// assert_eq!(r.scaled_value().map(|v| v.to_string()).as_deref(), Some("231600"));
    /// ```
    #[inline]
    pub fn scaled_value(&self) -> Option<ScaledValue> {
        self.scale(self.value(), &self.vib.info())
    }

    /// Value information, decoded field and scaled value at once, each computed once: what
    /// [`value_info`](Self::value_info), [`value`](Self::value) and
    /// [`scaled_value`](Self::scaled_value) return, for callers that want all three.
    ///
    /// ```
    /// use mbus_proto::record::{Record, Records};
    ///
    /// // DIF 0x04 (32-bit integer), VIF 0x13 (volume, litres).
    /// let Some(Ok(Record::Data(r))) = Records::new(&[0x04, 0x13, 0x39, 0x30, 0, 0], 0).next()
    /// else { unreachable!() };
    /// let typed = r.typed();
    /// assert_eq!(typed.scaled.map(|d| d.to_string()).as_deref(), Some("12.345"));
    /// assert_eq!(typed.info.unit.symbol(), "m^3");
    /// ```
    #[inline]
    pub fn typed(&self) -> TypedValue<'a> {
        let info = self.vib.info();
        let value = self.value();
        let scaled = self.scale(value, &info);
        TypedValue {
            info,
            value,
            scaled,
        }
    }

    /// Scales a decoded field: integers and valid BCD exactly; reals keep the float and the
    /// scaling, worked out when the value is asked for.
    #[inline]
    fn scale(&self, value: Value<'a>, info: &ValueInfo<'a>) -> Option<ScaledValue> {
        match value {
            Value::Real(raw) if raw.is_finite() => Some(ScaledValue::Approximate(ScaledReal {
                raw,
                exponent: i16::from(info.exponent),
                offset: if self.vib.vifes.is_empty() {
                    None
                } else {
                    self.offset(info)
                },
            })),
            Value::Real(_) => None,
            other => {
                let mantissa = other.as_i64()?;
                let d = Decimal::new(i128::from(mantissa), i16::from(info.exponent));
                // Most records have no VIFE, hence no correction: no call for them.
                if self.vib.vifes.is_empty() {
                    return Some(ScaledValue::Exact(d));
                }
                match self.offset(info) {
                    None => Some(ScaledValue::Exact(d)),
                    Some(offset) => d.checked_add(offset).map(ScaledValue::Exact),
                }
            }
        }
    }

    /// The sum of the additive correction VIFEs (E111 10nn: 10^(nn−3) in the VIF's own unit,
    /// before multiplicative corrections), or `None` if the record has none.
    #[inline(never)]
    fn offset(&self, info: &ValueInfo<'a>) -> Option<Decimal> {
        // Cheap test first: additive corrections are the VIFE codes 0x78–0x7B.
        if !self.vib.vifes.iter().any(|v| v & 0x7C == 0x78) {
            return None;
        }
        let scale: i16 = self.vib.modifiers().map(|m| i16::from(m.scale())).sum();
        let vif_exponent = i16::from(info.exponent) - scale;
        self.vib
            .modifiers()
            .filter_map(|m| match m {
                Modifier::AddPow10(e) => Some(Decimal::new(1, i16::from(e) + vif_exponent)),
                _ => None,
            })
            // Powers of ten between 10^-3 and 10^0 of one unit: the sum cannot overflow.
            .reduce(|a, b| a.checked_add(b).unwrap_or(a))
    }
}

/// A record's value information, decoded field and scaled value, from [`DataRecord::typed`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypedValue<'a> {
    /// Quantity, unit and scaling.
    pub info: ValueInfo<'a>,
    /// The decoded data field.
    pub value: Value<'a>,
    /// The number in `info.unit`, for numeric values (see [`DataRecord::scaled_value`]).
    pub scaled: Option<ScaledValue>,
}

/// Lazy iterator over the records of a variable data structure.
///
/// Yields `Err` once and then stops when a record is malformed.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
    order: ByteOrder,
    done: bool,
}

impl<'a> Records<'a> {
    /// Iterates over `bytes` (the records, after the header); `base` is added to every offset
    /// reported.
    pub fn new(bytes: &'a [u8], base: usize) -> Records<'a> {
        Records::with_order(bytes, base, ByteOrder::LsbFirst)
    }

    /// Like [`Records::new`] for a telegram with the given byte order.
    pub fn with_order(bytes: &'a [u8], base: usize, order: ByteOrder) -> Records<'a> {
        Records {
            bytes,
            pos: 0,
            base,
            order,
            done: false,
        }
    }

    #[inline]
    fn parse_one(&mut self) -> Result<Record<'a>, RecordError> {
        let b = self.bytes;
        let start = self.pos;
        let at = |i: usize| self.base + i;
        let Some((&dif, after_dif)) = b.get(start..).and_then(<[u8]>::split_first) else {
            return Err(RecordError::PrematureEndAtDif { offset: at(start) });
        };
        if dif == DIF_MANUFACTURER || dif == DIF_MORE_RECORDS_FOLLOW {
            self.pos = b.len();
            return Ok(Record::Manufacturer(ManufacturerData {
                offset: at(start),
                dif,
                data: after_dif,
            }));
        }
        // DIFE chain.
        let mut i = start;
        let mut extended = dif & 0x80 != 0;
        while extended {
            i += 1;
            let Some(&dife) = b.get(i) else {
                return Err(RecordError::PrematureEndAtDif { offset: at(start) });
            };
            if i - start > MAX_EXTENSIONS {
                return Err(RecordError::TooManyDifes { offset: at(i) });
            }
            extended = dife & 0x80 != 0;
        }
        let difes = after_dif.get(..i - start).unwrap_or_default();
        i += 1;
        // VIF.
        let Some(&vif) = b.get(i) else {
            return Err(RecordError::PrematureEndAtVif { offset: at(i) });
        };
        i += 1;
        let mut plain_text = None;
        if vif & 0x7F == 0x7C {
            let len_at = i;
            let Some(&len) = b.get(i) else {
                return Err(RecordError::PrematureEndAtPlainTextUnit {
                    offset: at(len_at),
                    len: 0,
                });
            };
            let len = usize::from(len);
            if len > MAX_PLAIN_TEXT_UNIT {
                return Err(RecordError::PlainTextUnitTooLong {
                    offset: at(len_at),
                    len,
                });
            }
            i += 1;
            let Some(text) = b.get(i..i + len) else {
                return Err(RecordError::PrematureEndAtPlainTextUnit {
                    offset: at(len_at),
                    len,
                });
            };
            plain_text = Some(text);
            i += len;
        }
        let vife_start = i;
        if vif & 0x80 != 0 {
            loop {
                let Some(&vife) = b.get(i) else {
                    return Err(RecordError::PrematureEndAtVif { offset: at(i) });
                };
                if i - vife_start >= MAX_EXTENSIONS {
                    return Err(RecordError::TooManyVifes { offset: at(i) });
                }
                i += 1;
                if vife & 0x80 == 0 {
                    break;
                }
            }
        }
        let vifes = b.get(vife_start..i).unwrap_or_default();
        // Data.
        let mut lvar = None;
        let len = match data_len(dif) {
            VARIABLE => {
                let Some(&l) = b.get(i) else {
                    return Err(RecordError::PrematureEndOfData {
                        offset: at(i),
                        needed: 1,
                        available: 0,
                    });
                };
                lvar = Some(l);
                i += 1;
                Lvar::from_byte(l).data_len()
            }
            n => usize::from(n),
        };
        let Some(data) = b.get(i..i + len) else {
            return Err(RecordError::PrematureEndOfData {
                offset: at(i),
                needed: len,
                available: b.len().saturating_sub(i),
            });
        };
        self.pos = i + len;
        Ok(Record::Data(DataRecord {
            offset: at(start),
            dif,
            difes,
            vib: Vib {
                vif,
                vifes,
                plain_text,
            },
            lvar,
            data,
            byte_order: self.order,
        }))
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, RecordError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        while self.bytes.get(self.pos) == Some(&DIF_IDLE_FILLER) {
            self.pos += 1;
        }
        if self.pos >= self.bytes.len() {
            self.done = true;
            return None;
        }
        let record = self.parse_one();
        // After a malformed record nothing that follows can be trusted.
        self.done = record.is_err();
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(bytes: &[u8]) -> Result<Record<'_>, RecordError> {
        Records::new(bytes, 0).next().unwrap()
    }

    #[test]
    fn storage_tariff_subunit_from_difes() {
        // 84 40 14: DIF ext, DIFE subunit 1; VIF 0x14.
        let bytes = [0xC4, 0x80, 0x40, 0x14, 0, 0, 0, 0];
        let Ok(Record::Data(r)) = first(&bytes) else {
            panic!()
        };
        assert_eq!(r.storage_number(), 1);
        assert_eq!(r.subunit(), 2);
        assert_eq!(r.tariff(), 0);
        let bytes = [0x84, 0x10, 0x06, 0, 0, 0, 0];
        let Ok(Record::Data(r)) = first(&bytes) else {
            panic!()
        };
        assert_eq!(r.tariff(), 1);
    }

    #[test]
    fn errors_are_specific() {
        assert_eq!(
            first(&[0x8B]),
            Err(RecordError::PrematureEndAtDif { offset: 0 })
        );
        assert_eq!(
            first(&[0x8B, 0x60]),
            Err(RecordError::PrematureEndAtVif { offset: 2 })
        );
        assert_eq!(
            first(&[0x8B, 0x60, 0x04, 0x37]),
            Err(RecordError::PrematureEndOfData {
                offset: 3,
                needed: 3,
                available: 1
            })
        );
        let mut many = vec![0x8B; 12];
        many.extend_from_slice(&[0x60, 0x04, 0, 0, 0]);
        assert!(matches!(
            first(&many),
            Err(RecordError::TooManyDifes { .. })
        ));
        let mut many = vec![0x0B, 0x84];
        many.extend_from_slice(&[0x84; 10]);
        many.extend_from_slice(&[0x04, 0, 0, 0]);
        assert!(matches!(
            first(&many),
            Err(RecordError::TooManyVifes { .. })
        ));
    }

    #[test]
    fn ten_extensions_are_fine() {
        let mut ok = vec![0x8B];
        ok.extend_from_slice(&[0x80; 9]);
        ok.extend_from_slice(&[0x00, 0x84]);
        ok.extend_from_slice(&[0x84; 9]);
        ok.extend_from_slice(&[0x04, 1, 2, 3]);
        let Ok(Record::Data(r)) = first(&ok) else {
            panic!()
        };
        assert_eq!(r.difes.len(), 10);
        assert_eq!(r.vib.vifes.len(), 10);
    }

    #[test]
    fn plain_text_unit_and_lvar() {
        // 02 FC 03 "HR%" 74 <u16>: unit "%RH" with correction 10^-2.
        let bytes = [0x02, 0xFC, 0x03, 0x48, 0x52, 0x25, 0x74, 0xD4, 0x11];
        let Ok(Record::Data(r)) = first(&bytes) else {
            panic!()
        };
        assert_eq!(r.vib.plain_text, Some(&b"HR%"[..]));
        assert_eq!(r.decimal(), Some(Decimal::new(0x11D4, -2)));
        let text = [0x0D, 0xFD, 0x11, 0x03, b'C', b'B', b'A'];
        let Ok(Record::Data(r)) = first(&text) else {
            panic!()
        };
        assert_eq!(r.value(), Value::Text(Text(b"CBA")));
        assert_eq!(
            first(&[0x02, 0xFC, 0xF3, 0x48]),
            Err(RecordError::PlainTextUnitTooLong {
                offset: 2,
                len: 0xF3
            })
        );
    }

    #[test]
    fn date_of_modifiers_make_the_field_a_date() {
        // Flow temperature, "date/time of end of last" (VIFE 0x6F), 32 bit: type F.
        let bytes = [0x04, 0xDA, 0x6F, 0x32, 0x14, 0x7A, 0x18];
        let Some(Ok(Record::Data(r))) = Records::new(&bytes, 0).next() else {
            panic!()
        };
        let Value::DateTime(t) = r.value() else {
            panic!("{:?}", r.value())
        };
        assert_eq!(t.to_string(), "2011-08-26T20:50:00");
        assert_eq!(r.scaled_value(), None, "a date is not a temperature");
        assert_eq!(r.decimal(), None);
        // The same with 16 bit: type G.
        let bytes = [0x02, 0xDA, 0x6F, 0x3A, 0x18];
        let Some(Ok(Record::Data(r))) = Records::new(&bytes, 0).next() else {
            panic!()
        };
        assert!(matches!(r.value(), Value::Date(_)), "{:?}", r.value());
        // Other modifiers leave the quantity's value alone.
        let bytes = [0x02, 0xDA, 0x3B, 0xCB, 0x00];
        let Some(Ok(Record::Data(r))) = Records::new(&bytes, 0).next() else {
            panic!()
        };
        assert_eq!(r.value(), Value::Integer(0xCB));
    }
}
