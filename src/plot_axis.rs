//! Logarithmic axes shared by the figures of the analyses and of training: the range of
//! positive values, round ticks inside it and their labels.

/// Tick values m × 10^k inside `[lo, hi]`, with mantissas m of 1, 2, 5 over wide ranges
/// and more over narrow ones (at least the ends when none fall inside).
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = (hi / lo).log10();
    let mantissas: &[f64] = if decades < 1.0 {
        &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0]
    } else if decades < 2.0 {
        &[1.0, 2.0, 3.0, 5.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    let mut t = Vec::new();
    // never zero (below the smallest normal number) nor past the largest, so that the
    // walk over the decades ends whatever the values
    let mut decade = 10f64.powf(lo.log10().floor()).max(f64::MIN_POSITIVE);
    while decade <= hi && decade.is_finite() {
        t.extend(
            mantissas
                .iter()
                .map(|m| m * decade)
                .filter(|v| *v >= lo && *v <= hi),
        );
        decade *= 10.0;
    }
    if t.len() < 2 {
        t = vec![lo, hi];
    }
    t
}

/// A tick label without needless digits.
pub fn label(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}").trim_end_matches(".0").to_string()
    } else if v >= 0.01 {
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        // a learning rate's 5e-5 rather than 0.000
        format!("{v:.1e}").replace(".0e", "e")
    }
}

/// The range of positive finite values, widened by `pad` (a factor) on a log scale and
/// kept within the normal floating-point numbers.
pub fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    (hi > 0.0).then(|| {
        let (lo, hi) = if hi / lo < 1.5 {
            (lo / 1.5, hi * 1.5)
        } else {
            (lo, hi)
        };
        ((lo / pad).max(f64::MIN_POSITIVE), (hi * pad).min(f64::MAX))
    })
}

#[cfg(test)]
mod tests {
    use super::{label, log_range, ticks};

    #[test]
    fn ticks_are_round_and_inside_the_range() {
        assert_eq!(
            ticks(40.0, 1200.0),
            vec![50.0, 100.0, 200.0, 300.0, 500.0, 1000.0]
        );
        assert_eq!(ticks(3.0, 5.5), vec![3.0, 4.0, 5.0]);
        assert_eq!(ticks(3.1, 3.2), vec![3.1, 3.2]);
        assert_eq!(label(1000.0), "1000");
        assert_eq!(label(1.5), "1.5");
        assert_eq!(label(2.0), "2");
        assert_eq!(label(0.05), "0.05");
        assert_eq!(label(1e-4), "1e-4");
        assert_eq!(label(5e-5), "5e-5");
        assert_eq!(label(1.5e-3), "1.5e-3");
    }

    #[test]
    fn extreme_values_give_a_finite_range_and_ticks() {
        // a subnormal and a value whose padding would overflow
        let (lo, hi) = log_range([5e-324, 1.7e308].into_iter(), 1.2).unwrap();
        assert!(lo >= f64::MIN_POSITIVE && hi <= f64::MAX, "{lo} {hi}");
        let t = ticks(lo, hi);
        assert!(t.len() > 600 && t.iter().all(|v| v.is_finite() && *v > 0.0));
        assert_eq!(log_range([0.0, -1.0, f64::NAN].into_iter(), 1.2), None);
    }
}
