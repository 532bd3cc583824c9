//! The network's activations as plain functions of a real number: the logistic σ and
//! SiLU with the derivatives the forward, reverse and dual-number passes need.

/// The logistic σ(x) = 1/(1 + e^−x), finite for any x.
pub fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// SiLU and its first two derivatives at x.
pub fn silu_derivatives(x: f64) -> (f64, f64, f64) {
    let s = logistic(x);
    let d1 = s * (1.0 + x * (1.0 - s));
    let d2 = s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s));
    (x * s, d1, d2)
}
