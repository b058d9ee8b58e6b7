//! PT1000 resistance ⇄ temperature by the Callendar–Van Dusen equation with the coefficients of
//! IEC 60751 (α = 0.00385), over the standard's whole range −200 °C … 850 °C.
//!
//! - 0 °C ≤ t ≤ 850 °C: R(t) = R0 · (1 + A·t + B·t²)
//! - −200 °C ≤ t < 0 °C: R(t) = R0 · (1 + A·t + B·t² + C·(t − 100)·t³)
//!
//! Above 0 °C the inverse is the root of the quadratic; below, Newton's method on the full
//! equation, started from the quadratic's root, converges in a few steps. A reading outside the
//! range is a [`SensorFault`]: far below it the sensor or its cable is shorted, far above it
//! the loop is open (sensor missing or a wire broken).

/// Resistance at 0 °C, in ohms.
pub const R0: f64 = 1000.0;
/// Coefficient A of IEC 60751, 1/°C.
pub const A: f64 = 3.9083e-3;
/// Coefficient B of IEC 60751, 1/°C².
pub const B: f64 = -5.775e-7;
/// Coefficient C of IEC 60751 (below 0 °C only), 1/°C⁴.
pub const C: f64 = -4.183e-12;
/// Lowest temperature of the standard's range, °C.
pub const T_MIN: f64 = -200.0;
/// Highest temperature of the standard's range, °C.
pub const T_MAX: f64 = 850.0;
/// Readings this far beyond the range (fraction of the range's end resistance) count as a
/// short circuit (below) or an open loop (above) rather than an extreme temperature.
const FAULT_MARGIN: f64 = 0.10;

/// Why a resistance gives no temperature.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum SensorFault {
    /// Far below the range: sensor or cable shorted.
    #[error("sensor shorted ({ohms:.1} Ω, below {min:.1} Ω)")]
    Shorted {
        /// The resistance read.
        ohms: f64,
        /// The lowest plausible resistance.
        min: f64,
    },
    /// Far above the range: sensor missing or a wire broken.
    #[error("sensor open ({ohms:.1} Ω, above {max:.1} Ω)")]
    Open {
        /// The resistance read.
        ohms: f64,
        /// The highest plausible resistance.
        max: f64,
    },
    /// Just outside −200 °C … 850 °C, or not a number.
    #[error("{ohms:.1} Ω is outside the PT1000 range (−200 °C … 850 °C)")]
    OutOfRange {
        /// The resistance read.
        ohms: f64,
    },
}

/// The resistance of a PT1000 at `t` °C.
pub fn resistance(t: f64) -> f64 {
    let mut r = 1.0 + A * t + B * t * t;
    if t < 0.0 {
        r += C * (t - 100.0) * t * t * t;
    }
    R0 * r
}

/// The temperature (°C) of a PT1000 reading `ohms`.
///
/// ```
/// use logger_core::hardware::pt1000;
/// assert!((pt1000::temperature(1385.055).unwrap() - 100.0).abs() < 1e-3);
/// assert!(pt1000::temperature(12.0).is_err()); // shorted
/// ```
pub fn temperature(ohms: f64) -> Result<f64, SensorFault> {
    let (low, high) = (resistance(T_MIN), resistance(T_MAX));
    if ohms.is_nan() {
        return Err(SensorFault::OutOfRange { ohms });
    }
    if ohms < low * (1.0 - FAULT_MARGIN) {
        return Err(SensorFault::Shorted {
            ohms,
            min: low * (1.0 - FAULT_MARGIN),
        });
    }
    if ohms > high * (1.0 + FAULT_MARGIN) {
        return Err(SensorFault::Open {
            ohms,
            max: high * (1.0 + FAULT_MARGIN),
        });
    }
    // A tolerance of a thousandth of an ohm at the ends (rounding of table values).
    if ohms < low - 1e-3 || ohms > high + 1e-3 {
        return Err(SensorFault::OutOfRange { ohms });
    }
    let ratio = ohms / R0;
    let quadratic = (-A + (A * A - 4.0 * B * (1.0 - ratio)).sqrt()) / (2.0 * B);
    if ohms >= R0 {
        return Ok(quadratic);
    }
    let mut t = quadratic;
    for _ in 0..20 {
        let f = resistance(t) - ohms;
        let slope = R0 * (A + 2.0 * B * t + C * (4.0 * t * t * t - 300.0 * t * t));
        let step = f / slope;
        t -= step;
        if step.abs() < 1e-9 {
            break;
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values of IEC 60751 for Pt100 (ohms, two decimals), ×10 for PT1000.
    const TABLE: [(f64, f64); 17] = [
        (-200.0, 18.52),
        (-150.0, 39.72),
        (-100.0, 60.26),
        (-50.0, 80.31),
        (-20.0, 92.16),
        (0.0, 100.00),
        (20.0, 107.79),
        (50.0, 119.40),
        (100.0, 138.51),
        (150.0, 157.33),
        (200.0, 175.86),
        (300.0, 212.05),
        (400.0, 247.09),
        (500.0, 280.98),
        (600.0, 313.71),
        (700.0, 345.28),
        (850.0, 390.48),
    ];

    #[test]
    fn resistance_matches_the_standards_table() {
        for (t, pt100) in TABLE {
            let r = resistance(t);
            assert!(
                (r - pt100 * 10.0).abs() <= 0.05,
                "{t} °C: {r} Ω vs {pt100} Ω×10"
            );
        }
    }

    #[test]
    fn temperature_inverts_the_table_in_both_ranges() {
        for (t, pt100) in TABLE {
            let got = temperature(pt100 * 10.0).unwrap();
            // Table values are rounded to 0.01 Ω (Pt100): about 0.026 °C at most.
            assert!((got - t).abs() <= 0.03, "{pt100} Ω×10: {got} °C vs {t} °C");
        }
    }

    #[test]
    fn round_trip_is_exact_over_the_whole_range() {
        let mut t = T_MIN;
        while t <= T_MAX {
            let back = temperature(resistance(t)).unwrap();
            assert!((back - t).abs() < 1e-6, "{t} → {back}");
            t += 0.5;
        }
    }

    #[test]
    fn shorted_open_and_out_of_range_sensors_are_faults() {
        assert!(matches!(temperature(0.0), Err(SensorFault::Shorted { .. })));
        assert!(matches!(
            temperature(-3.0),
            Err(SensorFault::Shorted { .. })
        ));
        assert!(matches!(temperature(1.0e6), Err(SensorFault::Open { .. })));
        assert!(matches!(
            temperature(f64::INFINITY),
            Err(SensorFault::Open { .. })
        ));
        assert!(matches!(
            temperature(180.0),
            Err(SensorFault::OutOfRange { .. })
        ));
        assert!(matches!(
            temperature(3950.0),
            Err(SensorFault::OutOfRange { .. })
        ));
        assert!(matches!(
            temperature(f64::NAN),
            Err(SensorFault::OutOfRange { .. })
        ));
        assert_eq!(
            temperature(5.0).unwrap_err().to_string(),
            "sensor shorted (5.0 Ω, below 166.7 Ω)"
        );
    }
}
