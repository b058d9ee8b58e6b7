//! The decimals the store keeps: [`mbus_proto::value::Decimal`] (the type the decoder scales
//! values into) within the range of the on-disk coding, a mantissa that fits an `i64` and a
//! power of ten in -128..=127.

use mbus_proto::value::Decimal;

/// The stored mantissa and exponent of `d`, or `None` outside the store's range.
pub(crate) fn stored_parts(d: Decimal) -> Option<(i64, i8)> {
    Some((
        i64::try_from(d.mantissa).ok()?,
        i8::try_from(d.exponent).ok()?,
    ))
}

/// `d` as the store can keep it: unchanged when it fits; otherwise trailing zeros of the
/// mantissa are moved into the exponent (a mantissa too long, an exponent below -128) where
/// that makes it fit. `None` if the number cannot be stored.
///
/// ```
/// use logger_core::storage::{storable, Decimal};
///
/// assert_eq!(storable(Decimal::new(1250, -2)), Some(Decimal::new(1250, -2)));
/// // 10^20 needs 67 bits: two trailing zeros move into the exponent.
/// assert_eq!(storable(Decimal::new(10i128.pow(20), 0)), Some(Decimal::new(10i128.pow(18), 2)));
/// assert_eq!(storable(Decimal::new(1, 200)), None);
/// ```
pub fn storable(d: Decimal) -> Option<Decimal> {
    let (mut m, mut e) = (d.mantissa, d.exponent);
    while (i64::try_from(m).is_err() || e < i16::from(i8::MIN)) && m % 10 == 0 && m != 0 {
        m /= 10;
        e += 1;
    }
    let d = Decimal::new(m, e);
    stored_parts(d).map(|_| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_when_they_fit_and_shortened_only_by_trailing_zeros() {
        let fits = [
            Decimal::new(i128::from(i64::MIN), -128),
            Decimal::new(i128::from(i64::MAX), 127),
            Decimal::new(0, -3),
        ];
        for d in fits {
            assert_eq!(storable(d), Some(d));
            assert_eq!(storable(d).map(|d| d.to_string()), Some(d.to_string()));
        }
        assert_eq!(
            storable(Decimal::new(5_000, -130)),
            Some(Decimal::new(50, -128))
        );
        assert_eq!(storable(Decimal::new(i128::from(i64::MAX) + 1, 0)), None);
        assert_eq!(storable(Decimal::new(5, -129)), None);
        assert_eq!(storable(Decimal::new(0, -200)), None);
    }
}
