//! Exact values: data-field codings (DIF low nibble), their decoded values, and decimals made of an
//! integer mantissa and a power-of-ten exponent. Nothing here goes through floating point, except
//! the 32-bit real coding, which is kept as the `f32` the meter sent.
//!
//! ```
//! use mbus_proto::value::{Decimal, DataCoding};
//!
//! let v = Decimal::new(56108, -2);
//! assert_eq!(v.to_string(), "561.08");
//! assert_eq!(DataCoding::from_dif(0x0C), DataCoding::Bcd(8));
//! assert_eq!(DataCoding::from_dif(0x0C).fixed_len(), Some(4));
//! ```

use crate::datetime::{Date, DateTime, DstRule, Time};
use core::fmt;

/// How a record's data field is coded (the low nibble of the DIF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataCoding {
    /// 0x0: no data.
    None,
    /// 0x1, 0x2, 0x3, 0x4, 0x6, 0x7: signed integer of this many bytes (1, 2, 3, 4, 6, 8).
    Integer(u8),
    /// 0x5: IEEE 754 single precision.
    Real32,
    /// 0x8: selection for readout (no data).
    SelectionForReadout,
    /// 0x9, 0xA, 0xB, 0xC, 0xE: BCD with this many digits (2, 4, 6, 8, 12).
    Bcd(u8),
    /// 0xD: variable length, the first data byte (LVAR) gives length and kind.
    Variable,
    /// 0xF: special function (manufacturer data, idle filler, global readout).
    Special,
}

impl DataCoding {
    /// The coding named by a DIF byte.
    #[inline]
    pub fn from_dif(dif: u8) -> DataCoding {
        match dif & 0x0F {
            0x0 => DataCoding::None,
            0x1 => DataCoding::Integer(1),
            0x2 => DataCoding::Integer(2),
            0x3 => DataCoding::Integer(3),
            0x4 => DataCoding::Integer(4),
            0x5 => DataCoding::Real32,
            0x6 => DataCoding::Integer(6),
            0x7 => DataCoding::Integer(8),
            0x8 => DataCoding::SelectionForReadout,
            0x9 => DataCoding::Bcd(2),
            0xA => DataCoding::Bcd(4),
            0xB => DataCoding::Bcd(6),
            0xC => DataCoding::Bcd(8),
            0xD => DataCoding::Variable,
            0xE => DataCoding::Bcd(12),
            _ => DataCoding::Special,
        }
    }

    /// The data length in bytes for fixed-size codings; `None` for variable length. Special
    /// functions count 8 bytes, as common masters read them.
    pub fn fixed_len(self) -> Option<usize> {
        match self {
            DataCoding::None | DataCoding::SelectionForReadout => Some(0),
            DataCoding::Integer(n) => Some(usize::from(n)),
            DataCoding::Real32 => Some(4),
            DataCoding::Bcd(digits) => Some(usize::from(digits / 2)),
            DataCoding::Variable => None,
            DataCoding::Special => Some(8),
        }
    }

    /// Short lowercase name, used in JSON (`"int32"`, `"bcd8"`, `"real32"`, `"lvar"`, …).
    pub fn name(self) -> &'static str {
        match self {
            DataCoding::None => "none",
            DataCoding::Integer(1) => "int8",
            DataCoding::Integer(2) => "int16",
            DataCoding::Integer(3) => "int24",
            DataCoding::Integer(4) => "int32",
            DataCoding::Integer(6) => "int48",
            DataCoding::Integer(_) => "int64",
            DataCoding::Real32 => "real32",
            DataCoding::SelectionForReadout => "selection",
            DataCoding::Bcd(2) => "bcd2",
            DataCoding::Bcd(4) => "bcd4",
            DataCoding::Bcd(6) => "bcd6",
            DataCoding::Bcd(8) => "bcd8",
            DataCoding::Bcd(_) => "bcd12",
            DataCoding::Variable => "lvar",
            DataCoding::Special => "special",
        }
    }
}

/// What the LVAR byte of a variable-length data field announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lvar {
    /// 0x00–0xBF: ASCII text of this many bytes (sent last character first).
    Text(u8),
    /// 0xC0–0xC9: positive BCD number of 2 × n digits (n bytes).
    PositiveBcd(u8),
    /// 0xD0–0xD9: negative BCD number of 2 × n digits (n bytes).
    NegativeBcd(u8),
    /// 0xE0–0xEF: binary number of n bytes.
    Binary(u8),
    /// 0xF0–0xF4: binary number of 4 × (LVAR − 0xEC) bytes (16…32 bytes; F5/F6 48/64 bytes).
    LongBinary(u8),
    /// Any other value (0xCA–0xCF, 0xDA–0xDF, 0xF7–0xFF): reserved.
    Reserved(u8),
}

impl Lvar {
    /// Classifies an LVAR byte.
    #[inline]
    pub fn from_byte(b: u8) -> Lvar {
        match b {
            0x00..=0xBF => Lvar::Text(b),
            0xC0..=0xC9 => Lvar::PositiveBcd(b - 0xC0),
            0xD0..=0xD9 => Lvar::NegativeBcd(b - 0xD0),
            0xE0..=0xEF => Lvar::Binary(b - 0xE0),
            0xF0..=0xF4 => Lvar::LongBinary(4 * (b - 0xEC)),
            0xF5 => Lvar::LongBinary(48),
            0xF6 => Lvar::LongBinary(64),
            _ => Lvar::Reserved(b),
        }
    }

    /// Number of data bytes that follow the LVAR byte (0 for reserved values).
    #[inline]
    pub fn data_len(self) -> usize {
        match self {
            Lvar::Text(n) | Lvar::PositiveBcd(n) | Lvar::NegativeBcd(n) | Lvar::Binary(n) => {
                usize::from(n)
            }
            Lvar::LongBinary(n) => usize::from(n),
            Lvar::Reserved(_) => 0,
        }
    }
}

/// A decimal number: `mantissa × 10^exponent`, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The integer mantissa.
    pub mantissa: i128,
    /// The power of ten.
    pub exponent: i16,
}

impl Decimal {
    /// `mantissa × 10^exponent`.
    pub const fn new(mantissa: i128, exponent: i16) -> Decimal {
        Decimal { mantissa, exponent }
    }

    /// The same number with its exponent lowered to `exponent` (mantissa scaled up), or `None`
    /// on overflow or if `exponent` is above the current one.
    pub fn rescale(self, exponent: i16) -> Option<Decimal> {
        let shift = self.exponent.checked_sub(exponent)?;
        let shift = u32::try_from(shift).ok()?;
        let factor = 10i128.checked_pow(shift)?;
        Some(Decimal::new(self.mantissa.checked_mul(factor)?, exponent))
    }

    /// Exact sum, or `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let e = self.exponent.min(other.exponent);
        let a = self.rescale(e)?;
        let b = other.rescale(e)?;
        Some(Decimal::new(a.mantissa.checked_add(b.mantissa)?, e))
    }

    /// Nearest `f64` (for display and charts; the exact value is the decimal itself).
    pub fn to_f64(self) -> f64 {
        // Formatting then parsing rounds correctly once; the text fits a stack buffer
        // (40 digits and sign, "e", 6 exponent characters).
        let mut buf = StackText::<64>::new();
        if fmt::Write::write_fmt(
            &mut buf,
            format_args!("{}e{}", self.mantissa, self.exponent),
        )
        .is_err()
        {
            return f64::NAN;
        }
        buf.as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN)
    }

    /// The shortest decimal that reads back as the 32-bit real `value` (the digits `{}` prints
    /// for the `f32`), or `None` for NaN and infinities. A meter's `231.6f32` is 231.6, not
    /// 231.600006103515625: the float only carries about seven significant digits, and these
    /// are the ones the meter meant.
    ///
    /// ```
    /// use mbus_proto::value::Decimal;
    /// assert_eq!(Decimal::from_f32(231.6), Some(Decimal::new(2316, -1)));
    /// assert_eq!(Decimal::from_f32(-1.5e-7), Some(Decimal::new(-15, -8)));
    /// assert_eq!(Decimal::from_f32(f32::NAN), None);
    /// ```
    pub fn from_f32(value: f32) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        // `{:e}` gives the shortest round-trip digits as `[-]d[.ddd]e[-]x`; at most 9
        // significant digits and a two-digit exponent for an f32, so 24 bytes suffice.
        let mut buf = StackText::<24>::new();
        fmt::Write::write_fmt(&mut buf, format_args!("{value:e}")).ok()?;
        Decimal::from_exponent_notation(buf.as_str()?)
    }

    /// The shortest decimal that reads back as `value` (the digits `{}` prints for the `f64`),
    /// or `None` for NaN and infinities. An approximate [`ScaledValue`] made from a meter's real
    /// gives back exactly the decimal digits it was made of.
    ///
    /// ```
    /// use mbus_proto::value::Decimal;
    /// assert_eq!(Decimal::from_f64(231.6), Some(Decimal::new(2316, -1)));
    /// assert_eq!(Decimal::from_f64(0.1 + 0.2), Some(Decimal::new(30000000000000004, -17)));
    /// ```
    pub fn from_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        // At most 17 significant digits and a three-digit exponent for an f64.
        let mut buf = StackText::<32>::new();
        fmt::Write::write_fmt(&mut buf, format_args!("{value:e}")).ok()?;
        Decimal::from_exponent_notation(buf.as_str()?)
    }

    /// Parses `[-]d[.ddd]e[-]x` as Rust's `{:e}` writes it.
    fn from_exponent_notation(text: &str) -> Option<Decimal> {
        let (digits, exponent) = text.split_once('e')?;
        let exponent: i16 = exponent.parse().ok()?;
        let (negative, digits) = match digits.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, digits),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let mut mantissa: i128 = 0;
        for c in whole.bytes().chain(fraction.bytes()) {
            mantissa = mantissa * 10 + i128::from(c.checked_sub(b'0').filter(|d| *d < 10)?);
        }
        let exponent = exponent.checked_sub(i16::try_from(fraction.len()).ok()?)?;
        Some(Decimal::new(
            if negative { -mantissa } else { mantissa },
            exponent,
        ))
    }

    /// `self × 10^power`, exact (only the exponent changes); `None` if it leaves `i16`.
    pub fn scaled_by_pow10(self, power: i16) -> Option<Decimal> {
        Some(Decimal::new(
            self.mantissa,
            self.exponent.checked_add(power)?,
        ))
    }
}

/// A fixed-size text buffer on the stack, for formatting without allocation.
struct StackText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    fn new() -> Self {
        StackText {
            bytes: [0; N],
            len: 0,
        }
    }

    fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.bytes.get(..self.len)?).ok()
    }
}

impl<const N: usize> fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A record's number in the unit its value information names (`Wh`, `m^3`, `°C`, …), with the
/// VIF's power of ten and every correction VIFE (multiplicative and additive) applied. This is
/// the value every consumer shows, stores and exports; nothing else scales raw fields.
///
/// The variant says how much to trust the digits: integer and BCD fields give an
/// [`Exact`](ScaledValue::Exact) decimal; a 32-bit real (type H) gives an
/// [`Approximate`](ScaledValue::Approximate) one (see [`ScaledReal`]).
///
/// ```
/// use mbus_proto::value::{Decimal, ScaledReal, ScaledValue};
///
/// let exact = ScaledValue::Exact(Decimal::new(12345, -3));
/// assert_eq!(exact.to_string(), "12.345");
/// // 231.6 (as a float) × 10^-3 kW … in W:
/// let power = ScaledValue::Approximate(ScaledReal { raw: 231.6, exponent: -3, offset: None });
/// assert_eq!(power.to_string(), "0.2316");
/// assert_eq!(power.to_f64(), 0.2316);
/// assert!(!power.is_exact());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScaledValue {
    /// From an integer or BCD field: exactly `mantissa × 10^exponent`.
    Exact(Decimal),
    /// From a 32-bit real: approximate, as the meter's float is.
    Approximate(ScaledReal),
}

/// A 32-bit real from a meter with the scaling still to apply: the value is the float's
/// shortest decimal digits ([`Decimal::from_f32`]) times `10^exponent`, plus `offset`, worked out
/// exactly when asked for ([`to_decimal`](Self::to_decimal)) and rounded once to `f64`
/// ([`to_f64`](Self::to_f64)). Decoding stays cheap; only callers that use the number pay for
/// the digits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaledReal {
    /// The float as the meter sent it (finite).
    pub raw: f32,
    /// The power of ten to multiply it by (VIF exponent and multiplicative corrections).
    pub exponent: i16,
    /// Added after scaling (additive correction VIFEs), if any.
    pub offset: Option<Decimal>,
}

impl ScaledReal {
    /// The value as a decimal: the float's shortest digits, scaled and corrected exactly.
    pub fn to_decimal(&self) -> Option<Decimal> {
        let digits = Decimal::from_f32(self.raw)?;
        // The float's digits carry no trailing zeros; a zero stays a plain 0, not 0.000.
        let d = if digits.mantissa == 0 {
            digits
        } else {
            digits.scaled_by_pow10(self.exponent)?
        };
        match self.offset {
            Some(offset) => d.checked_add(offset),
            None => Some(d),
        }
    }

    /// The nearest `f64` of [`to_decimal`](Self::to_decimal) (NaN if that overflows).
    pub fn to_f64(&self) -> f64 {
        self.to_decimal().map_or(f64::NAN, Decimal::to_f64)
    }
}

impl ScaledValue {
    /// True for values from integer or BCD fields.
    pub fn is_exact(&self) -> bool {
        matches!(self, ScaledValue::Exact(_))
    }

    /// The exact decimal, if the value is exact.
    pub fn exact(&self) -> Option<Decimal> {
        match self {
            ScaledValue::Exact(d) => Some(*d),
            ScaledValue::Approximate(_) => None,
        }
    }

    /// The value as a decimal: exact values as they are, reals by their shortest digits
    /// (`None` only if scaling a real overflows).
    pub fn to_decimal(&self) -> Option<Decimal> {
        match self {
            ScaledValue::Exact(d) => Some(*d),
            ScaledValue::Approximate(r) => r.to_decimal(),
        }
    }

    /// The nearest `f64` (for charts and arithmetic; exact values keep their digits in
    /// [`exact`](Self::exact)).
    pub fn to_f64(&self) -> f64 {
        match self {
            ScaledValue::Exact(d) => d.to_f64(),
            ScaledValue::Approximate(r) => r.to_f64(),
        }
    }
}

impl fmt::Display for ScaledValue {
    /// Exact values with exactly their digits (`12.50`), reals with the digits the meter sent,
    /// scaled (`0.2316`, never `0.23160000000000003`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_decimal() {
            Some(d) => fmt::Display::fmt(&d, f),
            None => f.write_str("NaN"),
        }
    }
}

impl fmt::Display for Decimal {
    /// Plain decimal notation without exponent, e.g. `561.08`, `37351000`, `-0.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negative = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs();
        if negative {
            f.write_str("-")?;
        }
        if self.exponent >= 0 {
            write!(f, "{digits}")?;
            if digits == 0 {
                return Ok(());
            }
            for _ in 0..self.exponent {
                f.write_str("0")?;
            }
            return Ok(());
        }
        let mut buf = itoa::Buffer::new();
        let text = buf.format(digits);
        let frac = usize::from(self.exponent.unsigned_abs());
        match text.split_at_checked(text.len().saturating_sub(frac)) {
            Some((int, fraction)) if !int.is_empty() => write!(f, "{int}.{fraction}"),
            _ => {
                f.write_str("0.")?;
                for _ in text.len()..frac {
                    f.write_str("0")?;
                }
                f.write_str(text)
            }
        }
    }
}

/// Why a text is not a [`Decimal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecimalError {
    /// The text is not a decimal number such as `-12.5`, `7` or `1.5e-3`.
    #[error("not a decimal number (such as -12.5, 7 or 1.5e-3)")]
    Syntax,
    /// The digits or the power of ten do not fit (a mantissa beyond 38 digits, an exponent
    /// beyond ±32767).
    #[error("the decimal number has too many digits or too large a power of ten")]
    OutOfRange,
}

/// Reads `[-+]digits[.digits][e[-+]digits]`; every digit given is kept (`"12.50"` is
/// 1250 × 10⁻², not 125 × 10⁻¹).
///
/// ```
/// use mbus_proto::value::Decimal;
/// let energy: Decimal = "12345.678".parse()?;
/// assert_eq!(energy, Decimal::new(12_345_678, -3));
/// assert_eq!("1.5e3".parse::<Decimal>()?.to_string(), "1500");
/// assert_eq!("12.50".parse::<Decimal>()?.to_string(), "12.50");
/// # Ok::<(), mbus_proto::value::DecimalError>(())
/// ```
impl core::str::FromStr for Decimal {
    type Err = DecimalError;

    fn from_str(text: &str) -> Result<Decimal, DecimalError> {
        let (number, exponent) = match text.split_once(['e', 'E']) {
            Some((number, exponent)) => (number, Some(exponent)),
            None => (text, None),
        };
        let (negative, unsigned) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, number.strip_prefix('+').unwrap_or(number)),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(DecimalError::Syntax);
        }
        let mut mantissa: i128 = 0;
        for c in whole.bytes().chain(fraction.bytes()) {
            if !c.is_ascii_digit() {
                return Err(DecimalError::Syntax);
            }
            // Accumulated with the sign applied, so that the most negative mantissa is reachable.
            let digit = i128::from(c - b'0');
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| {
                    if negative {
                        m.checked_sub(digit)
                    } else {
                        m.checked_add(digit)
                    }
                })
                .ok_or(DecimalError::OutOfRange)?;
        }
        let explicit: i32 = match exponent {
            Some(e) => parse_exponent(e)?,
            None => 0,
        };
        let exponent = i32::try_from(fraction.len())
            .ok()
            .and_then(|f| explicit.checked_sub(f))
            .and_then(|e| i16::try_from(e).ok())
            .ok_or(DecimalError::OutOfRange)?;
        Ok(Decimal::new(mantissa, exponent))
    }
}

/// The exponent after `e`: an optional sign and at least one digit.
fn parse_exponent(text: &str) -> Result<i32, DecimalError> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(DecimalError::Syntax);
    }
    text.parse().map_err(|_| DecimalError::OutOfRange)
}

/// A BCD number as sent: up to 12 digits, least significant byte first on the wire.
///
/// Meters use the nibble 0xF in the most significant digit for a minus sign, and some send
/// nibbles A–F elsewhere (error markers); [`Bcd::value`] tells these apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bcd {
    /// The nibbles packed most significant first, exactly as on the wire (read as hex).
    pub raw: u64,
    /// Number of digits (2, 4, 6, 8 or 12; up to 16 from LVAR BCD).
    pub digits: u8,
}

impl Bcd {
    /// Reads `bytes` (wire order, least significant byte first); only the first 8 bytes
    /// (16 digits) are used.
    #[inline]
    pub fn from_le(bytes: &[u8]) -> Bcd {
        let bytes = bytes.get(..8).unwrap_or(bytes);
        let raw = bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Bcd {
            raw,
            digits: (bytes.len() * 2) as u8,
        }
    }

    /// The signed decimal value: a leading 0xF nibble means negative; any other nibble above 9
    /// makes the number invalid (`None`).
    #[inline]
    pub fn value(&self) -> Option<i64> {
        let digits = u32::from(self.digits.min(16));
        if digits == 0 {
            return Some(0);
        }
        let bits = digits * 4;
        let mut raw = self.raw & (u64::MAX >> (64 - bits));
        let top = bits - 4;
        let negative = (raw >> top) & 0xF == 0xF;
        if negative {
            raw &= !(0xF << top);
        }
        // All nibbles at once: a nibble is above 9 exactly when bit 3 and bit 2 or 1 are set.
        let above_nine = (raw & 0x8888_8888_8888_8888)
            & ((raw & 0x4444_4444_4444_4444) << 1 | (raw & 0x2222_2222_2222_2222) << 2);
        if above_nine != 0 {
            return None;
        }
        // Digit pairs into bytes (≤ 99), byte pairs into 16-bit lanes (≤ 9999), then 32 and
        // 64 bits: no lane can carry into the next.
        let x = (raw & 0x0F0F_0F0F_0F0F_0F0F) + ((raw >> 4) & 0x0F0F_0F0F_0F0F_0F0F) * 10;
        let x = (x & 0x00FF_00FF_00FF_00FF) + ((x >> 8) & 0x00FF_00FF_00FF_00FF) * 100;
        let x = (x & 0x0000_FFFF_0000_FFFF) + ((x >> 16) & 0x0000_FFFF_0000_FFFF) * 10_000;
        // At most 16 digits: below 10^16, well inside i64.
        let v = ((x & 0xFFFF_FFFF) + (x >> 32) * 100_000_000) as i64;
        Some(if negative { -v } else { v })
    }
}

/// The signed value (`12345678`, `-999`); a number with nibbles A–F shows its digits as sent,
/// in hex (`12A4`).
impl fmt::Display for Bcd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Some(v) => write!(f, "{v}"),
            None => write!(f, "{:0width$X}", self.raw, width = usize::from(self.digits)),
        }
    }
}

/// ASCII text from a variable-length field, kept as the wire bytes (last character first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Text<'a>(pub &'a [u8]);

impl Text<'_> {
    /// The characters in reading order.
    pub fn chars(&self) -> impl Iterator<Item = char> + '_ {
        self.0.iter().rev().map(|&b| char::from(b))
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chars().try_for_each(|c| fmt::Write::write_char(f, c))
    }
}

/// The decoded data field of a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// No data (coding 0x0 or 0x8).
    None,
    /// A signed integer (8…64 bit codings, and binary LVAR of up to 8 bytes).
    Integer(i64),
    /// A 32-bit IEEE real as sent.
    Real(f32),
    /// A BCD number.
    Bcd(Bcd),
    /// A date (type G).
    Date(Date),
    /// A date and time (type F or I).
    DateTime(DateTime),
    /// A time of day (type J).
    Time(Time),
    /// A daylight-saving rule (type K).
    Dst(DstRule),
    /// ASCII text.
    Text(Text<'a>),
    /// Bytes that carry no number (long binary LVAR, reserved LVAR, special functions), in wire
    /// order.
    Bytes(&'a [u8]),
}

impl Value<'_> {
    /// The integer mantissa of numeric values (`Integer` and valid `Bcd`), before any scaling.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Integer(v) => Some(*v),
            Value::Bcd(b) => b.value(),
            _ => None,
        }
    }
}

/// The data field before any scaling: numbers as sent (`-5`, `1.5`, `00123` BCD as `123`),
/// dates and times as `2024-01-31 12:00`, text in reading order, bytes as packed hex, no data
/// as nothing. For the scaled number in its unit use the record's
/// [`scaled_value`](crate::record::DataRecord::scaled_value).
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => Ok(()),
            Value::Integer(v) => write!(f, "{v}"),
            Value::Real(v) => write!(f, "{v}"),
            Value::Bcd(b) => fmt::Display::fmt(b, f),
            Value::Date(d) => fmt::Display::fmt(d, f),
            Value::DateTime(d) => fmt::Display::fmt(d, f),
            Value::Time(t) => fmt::Display::fmt(t, f),
            Value::Dst(d) => fmt::Display::fmt(d, f),
            Value::Text(t) => fmt::Display::fmt(t, f),
            Value::Bytes(b) => fmt::Display::fmt(&crate::hex::HexBytes::packed(b), f),
        }
    }
}

/// Reads a little-endian two's-complement integer of 1…8 bytes (only the first 8 are used).
#[inline]
pub fn int_le(bytes: &[u8]) -> i64 {
    let bytes = bytes.get(..8).unwrap_or(bytes);
    let n = bytes.len();
    if n == 0 {
        return 0;
    }
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate() {
        v |= u64::from(b) << (8 * i);
    }
    let shift = 64 - 8 * n as u32;
    // Shift the value to the top and back to sign-extend from `8 * n` bits.
    ((v << shift) as i64) >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_display() {
        assert_eq!(Decimal::new(56108, -2).to_string(), "561.08");
        assert_eq!(Decimal::new(5, -3).to_string(), "0.005");
        assert_eq!(Decimal::new(-5, -1).to_string(), "-0.5");
        assert_eq!(Decimal::new(37351, 3).to_string(), "37351000");
        assert_eq!(Decimal::new(0, -2).to_string(), "0.00");
        assert_eq!(Decimal::new(0, 3).to_string(), "0");
        assert_eq!(
            Decimal::new(15, -1).checked_add(Decimal::new(1, -3)),
            Some(Decimal::new(1501, -3))
        );
        assert_eq!(Decimal::new(56108, -2).to_f64(), 561.08);
    }

    #[test]
    fn decimal_text_round_trips_with_every_digit() {
        for text in [
            "0",
            "12.50",
            "-0.007",
            "1200",
            "-5",
            "0.000",
            "123456789012345678",
            "-9223372036854775808",
            "-170141183460469231731687303715884105728",
        ] {
            let d: Decimal = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
        }
        assert_eq!("1.5e3".parse::<Decimal>().unwrap().to_string(), "1500");
        assert_eq!("+.5".parse::<Decimal>().unwrap(), Decimal::new(5, -1));
        assert_eq!("2E-2".parse::<Decimal>().unwrap(), Decimal::new(2, -2));
        for bad in [
            "", "-", ".", "1.2.3", "1e", "1e+", "abc", "1,5", "e5", "1e5x", "--1",
        ] {
            assert_eq!(bad.parse::<Decimal>(), Err(DecimalError::Syntax), "{bad}");
        }
        for big in [
            "1e40000",
            "1e-32769",
            "1234567890123456789012345678901234567890",
        ] {
            assert_eq!(
                big.parse::<Decimal>(),
                Err(DecimalError::OutOfRange),
                "{big}"
            );
        }
    }

    #[test]
    fn integers_sign_extend() {
        assert_eq!(int_le(&[0xFF]), -1);
        assert_eq!(int_le(&[0x00, 0x80]), -32768);
        assert_eq!(int_le(&[0xFF, 0xFF, 0x7F]), 0x7FFFFF);
        assert_eq!(int_le(&[0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), -2);
        assert_eq!(int_le(&[0xFF; 8]), -1);
    }

    /// Digit by digit, as the standard describes it: the reference for [`Bcd::value`].
    fn bcd_by_digits(b: Bcd) -> Option<i64> {
        let digits = u32::from(b.digits);
        let mut v = 0i64;
        let mut negative = false;
        for i in (0..digits).rev() {
            let nibble = ((b.raw >> (i * 4)) & 0xF) as i64;
            if i == digits - 1 && nibble == 0xF {
                negative = true;
            } else if nibble > 9 {
                return None;
            } else {
                v = v * 10 + nibble;
            }
        }
        Some(if negative { -v } else { v })
    }

    #[test]
    fn bcd_lanes_agree_with_digit_by_digit_reading() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for round in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 1 + (round % 8) as usize;
            // Mostly valid digits, some sign nibbles, some invalid ones.
            let mut bytes = [0u8; 8];
            for (k, byte) in bytes.iter_mut().enumerate().take(len) {
                let r = (x >> (8 * k)) as u8;
                *byte = if round % 3 == 0 {
                    r
                } else {
                    (r % 10) | ((r / 10 % 10) << 4)
                };
            }
            if round % 5 == 0 {
                bytes[len - 1] |= 0xF0;
            }
            let b = Bcd::from_le(&bytes[..len]);
            assert_eq!(b.value(), bcd_by_digits(b), "{b:?}");
        }
        assert_eq!(
            Bcd::from_le(&[0x99; 8]).value(),
            Some(9_999_999_999_999_999)
        );
        assert_eq!(Bcd::from_le(&[0x99, 0xF9]).value(), Some(-999));
        assert_eq!(Bcd::from_le(&[0x00, 0xF0]).value(), Some(0));
        assert_eq!(Bcd::from_le(&[0x0A, 0x00]).value(), None);
    }

    #[test]
    fn bcd_values() {
        let b = Bcd::from_le(&[0x78, 0x56, 0x34, 0x12]);
        assert_eq!(b.raw, 0x12345678);
        assert_eq!(b.value(), Some(12345678));
        assert_eq!(Bcd::from_le(&[0x01, 0xF0]).value(), Some(-1));
        assert_eq!(Bcd::from_le(&[0x0A]).value(), None);
    }

    #[test]
    fn codings_and_lvar() {
        assert_eq!(DataCoding::from_dif(0x04), DataCoding::Integer(4));
        assert_eq!(DataCoding::from_dif(0x0E).fixed_len(), Some(6));
        assert_eq!(DataCoding::from_dif(0x0D).fixed_len(), None);
        assert_eq!(Lvar::from_byte(0xF0), Lvar::LongBinary(16));
        assert_eq!(Lvar::from_byte(0xC3).data_len(), 3);
        assert_eq!(Lvar::from_byte(0xFF).data_len(), 0);
        assert_eq!(Text(b"HR%").to_string(), "%RH");
    }

    #[test]
    fn raw_values_display_as_sent() {
        assert_eq!(Bcd::from_le(&[0x45, 0x23, 0x01, 0x00]).to_string(), "12345");
        assert_eq!(Bcd::from_le(&[0x99, 0xF9]).to_string(), "-999");
        assert_eq!(Bcd::from_le(&[0xA4, 0x12]).to_string(), "12A4");
        assert_eq!(Value::Integer(-5).to_string(), "-5");
        assert_eq!(Value::Real(1.5).to_string(), "1.5");
        assert_eq!(Value::Bytes(&[0x0A, 0xFF]).to_string(), "0AFF");
        assert_eq!(Value::Text(Text(b"HR%")).to_string(), "%RH");
        assert_eq!(Value::None.to_string(), "");
    }
}
