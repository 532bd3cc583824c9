//! Bessel radial basis with a smooth polynomial cutoff envelope, as in NequIP.
//!
//! Each edge of length `r` is expanded in `N` functions
//! `B_n(r) = u(r) · b_n(r)`, `n = 1..=N`, with the Bessel functions
//! `b_n(r) = sqrt(2/r_c) · sin(nπr/r_c) / r` and the polynomial envelope
//! `u(x) = 1 − (p+1)(p+2)/2 · x^p + p(p+2) · x^(p+1) − p(p+1)/2 · x^(p+2)`, `x = r/r_c`.
//! The envelope and its first two derivatives vanish at `x = 1` (`u(1) = u'(1) = u''(1) = 0`),
//! and `u = 0` for `r ≥ r_c`, so every quantity built from the basis — energy, and forces
//! through `dB_n/dr` — goes to zero smoothly (C²) as an edge leaves the cutoff sphere.

use std::f64::consts::PI;

/// Below this `t = nπr/r_c`, `sin t / t` and its derivative come from their Taylor series:
/// exact enough (truncation < 1e-20) and free of the `0/0` and cancellation of the direct form.
const SERIES_THRESHOLD: f64 = 0.05;

/// The enveloped Bessel basis: `n` functions, cutoff radius `cutoff`, envelope exponent `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadialBasis {
    /// Number of basis functions `N` (NequIP uses 8).
    pub n: usize,
    /// Cutoff radius `r_c`; every basis value is exactly zero for `r ≥ r_c`.
    pub cutoff: f64,
    /// Exponent `p` of the polynomial envelope (NequIP uses 6); must be at least 1.
    pub p: u32,
}

impl RadialBasis {
    /// A basis of `n` functions with cutoff `cutoff` and NequIP's envelope exponent `p = 6`.
    pub fn new(n: usize, cutoff: f64) -> Self {
        assert!(cutoff > 0.0, "radial cutoff must be positive, got {cutoff}");
        RadialBasis { n, cutoff, p: 6 }
    }

    /// The envelope `u(r)` and its derivative `du/dr`; both are `0` for `r ≥ r_c`, and the
    /// polynomial makes `u`, `u'` and `u''` reach zero continuously at `r_c`.
    pub fn envelope(&self, r: f64) -> (f64, f64) {
        if r >= self.cutoff {
            return (0.0, 0.0);
        }
        let (u, du_dx) = envelope_polynomial(r / self.cutoff, self.p);
        (u, du_dx / self.cutoff)
    }

    /// Writes the enveloped basis `u(r)·b_n(r)` into `values[n-1]` and its exact derivative
    /// `d/dr` into `derivatives[n-1]` for `n = 1..=N` (forces need both). For `r ≥ r_c` both are
    /// zero. Near `r = 0` the limit `sin(ar)/r → a` (series in `ar`) is used, so `r = 0` or
    /// `r = 1e-12` gives finite values (`b_n(0) = sqrt(2/r_c)·nπ/r_c`, slope 0), never NaN.
    pub fn evaluate(&self, r: f64, values: &mut [f64], derivatives: &mut [f64]) {
        let n = self.n;
        assert!(
            values.len() >= n && derivatives.len() >= n,
            "radial basis needs {n} output slots"
        );
        let (values, derivatives) = (&mut values[..n], &mut derivatives[..n]);
        if r >= self.cutoff || n == 0 {
            values.fill(0.0);
            derivatives.fill(0.0);
            return;
        }
        let r = r.max(0.0);
        let (u, du) = self.envelope(r);
        let norm = (2.0 / self.cutoff).sqrt();
        let step = PI / self.cutoff; // a_n = n · step
        let theta = step * r;
        // sin(nθ), cos(nθ) by the angle-addition recurrence: one sin/cos per call, not per n.
        let (s1, c1) = theta.sin_cos();
        let (mut s, mut c) = (s1, c1);
        for (k, (value, derivative)) in values.iter_mut().zip(derivatives.iter_mut()).enumerate() {
            let a = step * (k + 1) as f64;
            let t = a * r;
            // b = norm · a · sinc(t),  db/dr = norm · a² · sinc'(t)
            let (sinc, dsinc) = if t < SERIES_THRESHOLD {
                sinc_series(t)
            } else {
                (s / t, (t * c - s) / (t * t))
            };
            let b = norm * a * sinc;
            let db = norm * a * a * dsinc;
            *value = u * b;
            *derivative = du * b + u * db;
            (s, c) = (s * c1 + c * s1, c * c1 - s * s1);
        }
    }

    /// Evaluates [`evaluate`](Self::evaluate) for every length in `r`, writing rows of `n`
    /// values and derivatives (row-major `[r.len() × n]`), the layout the radial MLP takes.
    pub fn evaluate_batch(&self, r: &[f64], values: &mut [f64], derivatives: &mut [f64]) {
        let n = self.n;
        assert!(
            values.len() >= r.len() * n && derivatives.len() >= r.len() * n,
            "radial basis batch needs {} output slots",
            r.len() * n
        );
        if n == 0 {
            return;
        }
        for ((&ri, v), d) in r
            .iter()
            .zip(values.chunks_exact_mut(n))
            .zip(derivatives.chunks_exact_mut(n))
        {
            self.evaluate(ri, v, d);
        }
    }
}

/// `u(x)` and `du/dx` of the cutoff polynomial (no clamping at `x = 1`).
fn envelope_polynomial(x: f64, p: u32) -> (f64, f64) {
    let pf = f64::from(p);
    let c1 = (pf + 1.0) * (pf + 2.0) / 2.0;
    let c2 = pf * (pf + 2.0);
    let c3 = pf * (pf + 1.0) / 2.0;
    let xp1 = x.powi(p as i32 - 1); // x^(p-1); p ≥ 1 keeps this finite at x = 0
    let xp = xp1 * x;
    let u = 1.0 - c1 * xp + c2 * xp * x - c3 * xp * x * x;
    let du = -c1 * pf * xp1 + c2 * (pf + 1.0) * xp - c3 * (pf + 2.0) * xp * x;
    (u, du)
}

/// `sin t / t` and its derivative `(t cos t − sin t)/t²` from Taylor series, for small `t`.
fn sinc_series(t: f64) -> (f64, f64) {
    let t2 = t * t;
    let sinc = 1.0 - t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0)));
    let dsinc = -t / 3.0 * (1.0 - t2 / 10.0 * (1.0 - t2 / 28.0 * (1.0 - t2 / 54.0)));
    (sinc, dsinc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_polynomial_vanishes_at_one_for_several_p() {
        for p in 1..=10 {
            let (u, du) = envelope_polynomial(1.0, p);
            assert!(
                u.abs() < 1e-12 && du.abs() < 1e-12,
                "p = {p}: u = {u}, u' = {du}"
            );
            // u''(1) = −c1·p(p−1) + c2·(p+1)p − c3·(p+2)(p+1) = 0
            let pf = f64::from(p);
            let d2 = -(pf + 1.0) * (pf + 2.0) / 2.0 * pf * (pf - 1.0)
                + pf * (pf + 2.0) * (pf + 1.0) * pf
                - pf * (pf + 1.0) / 2.0 * (pf + 2.0) * (pf + 1.0);
            assert!(d2.abs() < 1e-9, "p = {p}: u''(1) = {d2}");
            let (u0, _) = envelope_polynomial(0.0, p);
            assert_eq!(u0, 1.0);
        }
        // exact in floating point for p = 6 (integer coefficients 28, 48, 21)
        assert_eq!(envelope_polynomial(1.0, 6), (0.0, 0.0));
    }

    #[test]
    fn sinc_series_matches_direct_form_at_threshold() {
        let t = SERIES_THRESHOLD;
        let (s, c) = t.sin_cos();
        let (a, b) = sinc_series(t);
        assert!((a - s / t).abs() < 1e-15);
        assert!((b - (t * c - s) / (t * t)).abs() < 1e-13);
    }
}
