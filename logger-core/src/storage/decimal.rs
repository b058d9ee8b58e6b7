//! Exact decimal numbers as the logger stores and shows them.

use std::fmt;
use std::str::FromStr;

/// An exact decimal number `mantissa × 10^exponent`.
///
/// Meter values are decimal by nature (BCD counters, integers with a power-of-ten VIF, a
/// register divisor of 1000 or 0.001), so the store keeps them as mantissa and exponent and
/// gives back exactly the digits it was handed, trailing zeros included: `12.50` stays
/// `12.50`. Values that only exist as `f64` (for example after a divisor of 3) are taken by
/// their shortest decimal representation, the digits Rust prints for them.
///
/// ```
/// use logger_core::storage::Decimal;
///
/// let energy: Decimal = "12345.678".parse()?;
/// assert_eq!((energy.mantissa(), energy.exponent()), (12_345_678, -3));
/// assert_eq!(energy.to_string(), "12345.678");
/// assert_eq!(Decimal::from_f64(0.1 + 0.2)?.to_string(), "0.30000000000000004");
/// # Ok::<(), logger_core::storage::DecimalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i64,
    exponent: i8,
}

/// Why a number could not be taken as a [`Decimal`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecimalError {
    /// NaN or an infinity has no decimal value.
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    /// The digits or the power of ten do not fit (more than 18 significant digits or an
    /// exponent outside -128..=127).
    #[error("{0:?} does not fit a decimal of at most 18 digits and exponent -128..=127")]
    OutOfRange(String),
    /// The text is not a decimal number such as `-12.5`, `7` or `1.5e-3`.
    #[error("{0:?} is not a decimal number")]
    Syntax(String),
}

impl Decimal {
    /// The number `mantissa × 10^exponent`.
    pub const fn new(mantissa: i64, exponent: i8) -> Decimal {
        Decimal { mantissa, exponent }
    }

    /// The integer digits.
    pub const fn mantissa(self) -> i64 {
        self.mantissa
    }

    /// The power of ten the mantissa is scaled by.
    pub const fn exponent(self) -> i8 {
        self.exponent
    }

    /// The shortest decimal that reads back as `value` (the digits `{}` prints for it).
    pub fn from_f64(value: f64) -> Result<Decimal, DecimalError> {
        if !value.is_finite() {
            return Err(DecimalError::NotFinite(value));
        }
        // `{:e}` prints the shortest round-trip digits in scientific form, e.g. `-1.25e-3`.
        parse(&format!("{value:e}")).map_err(|e| match e {
            DecimalError::Syntax(text) => DecimalError::OutOfRange(text),
            other => other,
        })
    }

    /// The nearest `f64` (exact for up to 15 significant digits).
    pub fn to_f64(self) -> f64 {
        // Parsing the exact text gives the correctly rounded f64, unlike m * 10f64.powi(e).
        self.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Decimal {
    /// Plain positional notation with exactly the stored digits: `1234.50`, `-0.007`, `1200`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        let mut rest = self.mantissa.unsigned_abs();
        loop {
            start -= 1;
            buf[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let digits = std::str::from_utf8(&buf[start..]).map_err(|_| fmt::Error)?;
        if self.mantissa < 0 {
            f.write_str("-")?;
        }
        let exponent = i32::from(self.exponent);
        if exponent >= 0 {
            f.write_str(digits)?;
            if self.mantissa != 0 {
                for _ in 0..exponent {
                    f.write_str("0")?;
                }
            }
            return Ok(());
        }
        let fraction = exponent.unsigned_abs() as usize;
        if digits.len() > fraction {
            let (int, frac) = digits.split_at(digits.len() - fraction);
            f.write_str(int)?;
            f.write_str(".")?;
            f.write_str(frac)
        } else {
            f.write_str("0.")?;
            for _ in 0..fraction - digits.len() {
                f.write_str("0")?;
            }
            f.write_str(digits)
        }
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;

    /// Reads `[-+]digits[.digits][e[-+]digits]`; every digit given is kept.
    fn from_str(text: &str) -> Result<Decimal, DecimalError> {
        parse(text)
    }
}

fn parse(text: &str) -> Result<Decimal, DecimalError> {
    let syntax = || DecimalError::Syntax(text.to_owned());
    let range = || DecimalError::OutOfRange(text.to_owned());
    let (number, exp_part) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (negative, unsigned) = match number.as_bytes().first() {
        Some(b'-') => (true, &number[1..]),
        Some(b'+') => (false, &number[1..]),
        _ => (false, number),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (unsigned, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(syntax());
    }
    let mut mantissa: i64 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        if !c.is_ascii_digit() {
            return Err(syntax());
        }
        // Accumulated with the sign applied so that i64::MIN is reachable.
        let digit = i64::from(c - b'0');
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| {
                if negative {
                    m.checked_sub(digit)
                } else {
                    m.checked_add(digit)
                }
            })
            .ok_or_else(range)?;
    }
    let explicit: i64 = match exp_part {
        Some("") => return Err(syntax()),
        Some(e) => e.parse().map_err(|_| syntax())?,
        None => 0,
    };
    let exponent = i64::try_from(frac.len())
        .ok()
        .and_then(|f| explicit.checked_sub(f))
        .ok_or_else(range)?;
    let exponent = i8::try_from(exponent).map_err(|_| range())?;
    Ok(Decimal { mantissa, exponent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_with_every_digit() {
        for text in [
            "0",
            "12.50",
            "-0.007",
            "1200",
            "-5",
            "0.000",
            "123456789012345678",
            "-9223372036854775808",
        ] {
            let d: Decimal = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
        }
        assert_eq!("1.5e3".parse::<Decimal>().unwrap().to_string(), "1500");
        assert_eq!("+.5".parse::<Decimal>().unwrap(), Decimal::new(5, -1));
    }

    #[test]
    fn bad_text_is_rejected() {
        for text in ["", "-", ".", "1.2.3", "1e", "abc", "1,5", "e5"] {
            assert!(
                matches!(text.parse::<Decimal>(), Err(DecimalError::Syntax(_))),
                "{text}"
            );
        }
        assert!(matches!(
            "99999999999999999999".parse::<Decimal>(),
            Err(DecimalError::OutOfRange(_))
        ));
        assert!(matches!(
            "1e200".parse::<Decimal>(),
            Err(DecimalError::OutOfRange(_))
        ));
    }

    #[test]
    fn f64_uses_shortest_digits() {
        assert_eq!(Decimal::from_f64(12.345).unwrap(), Decimal::new(12345, -3));
        assert_eq!(Decimal::from_f64(-0.5).unwrap(), Decimal::new(-5, -1));
        assert_eq!(Decimal::from_f64(2500.0).unwrap(), Decimal::new(25, 2));
        assert_eq!(Decimal::from_f64(1.0 / 3.0).unwrap().to_f64(), 1.0 / 3.0);
        assert!(matches!(
            Decimal::from_f64(f64::NAN),
            Err(DecimalError::NotFinite(_))
        ));
        assert!(matches!(
            Decimal::from_f64(1e300),
            Err(DecimalError::OutOfRange(_))
        ));
    }
}
