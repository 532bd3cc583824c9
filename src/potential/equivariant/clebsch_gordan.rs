//! Real-basis Clebsch–Gordan coefficients `C^{l1 l2 l3}_{m1 m2 m3}`: the couplings that
//! combine an `l1` and an `l2` irrep into an `l3` irrep in an equivariant tensor product.
//!
//! # Convention
//!
//! Computed, not tabulated: the complex-basis coefficients `⟨l1 m1 l2 m2 | l3 m3⟩` come from
//! Racah's formula (Condon–Shortley phase, `⟨l1 l1 l2 (l3-l1) | l3 l3⟩ > 0`), then are moved
//! to the real basis of [`super::spherical_harmonics`] with the unitary `U_l` taking complex
//! harmonics (with Condon–Shortley phase) to ours, `Y_real = U Y_complex`:
//!
//! ```text
//! m > 0:  Y_lm  = (Y_l^{-m} + (-1)^m Y_l^m) / √2
//! m = 0:  Y_l0  =  Y_l^0
//! m < 0:  Y_lm  = i (Y_l^{m} - (-1)^m Y_l^{-m}) / √2
//! C_real[m1 m2 m3] = Σ conj(U1[m1 M1]) conj(U2[m2 M2]) U3[m3 M3] ⟨l1 M1 l2 M2 | l3 M3⟩
//! ```
//!
//! The result is real when `l1 + l2 + l3` is even and purely imaginary when it is odd; the
//! imaginary ones are multiplied by `-i` (as e3nn does), so all coefficients are real.
//!
//! Normalisation: the coupling is an isometry, as the complex CG is: for every triple
//! `Σ_{m1 m2} C^{l1 l2 l3}_{m1 m2 m3} C^{l1 l2 l3'}_{m1 m2 m3'} = δ_{l3 l3'} δ_{m3 m3'}`, so
//! `Σ_{m1 m2 m3} C² = 2 l3 + 1`. (e3nn's `wigner_3j` is this divided by `√(2 l3 + 1)`, in
//! its own basis and up to sign.)
//!
//! The coupling is equivariant: `C(D1 x ⊗ D2 y) = D3 C(x ⊗ y)` with the real Wigner-D of
//! [`super::spherical_harmonics::wigner_d`].

use super::spherical_harmonics::dim;

/// Entries of magnitude at most this are dropped from [`Coupling::nonzero`] (exact zeros
/// come out of the basis change as ~1e-17).
const ZERO: f64 = 1e-12;

/// The coefficients of one allowed triple `(l1, l2, l3)`, dense and sparse.
#[derive(Debug, Clone, PartialEq)]
pub struct Coupling {
    /// Degree of the first input.
    pub l1: usize,
    /// Degree of the second input.
    pub l2: usize,
    /// Degree of the output.
    pub l3: usize,
    /// `C[m1][m2][m3]`, row-major `[dim(l1)][dim(l2)][dim(l3)]`, indices `m + l`.
    pub dense: Vec<f64>,
    /// Non-zero entries `(m1 + l1, m2 + l2, m3 + l3, value)`, in dense order; what a fast
    /// tensor product loops over.
    pub nonzero: Vec<(u8, u8, u8, f64)>,
}

impl Coupling {
    /// The coefficient for `m1, m2, m3` given as indices `m + l` (`0..2l+1`).
    pub fn at(&self, i1: usize, i2: usize, i3: usize) -> f64 {
        self.dense[(i1 * dim(self.l2) + i2) * dim(self.l3) + i3]
    }

    /// Adds the coupled product `out[m3] += Σ C[m1][m2][m3] x[m1] y[m2]` of an `l1` block `x`
    /// and an `l2` block `y` to the `l3` block `out`.
    pub fn apply(&self, x: &[f64], y: &[f64], out: &mut [f64]) {
        for &(i1, i2, i3, c) in &self.nonzero {
            out[i3 as usize] += c * x[i1 as usize] * y[i2 as usize];
        }
    }
}

/// All real Clebsch–Gordan couplings with `l1, l2, l3 ≤ lmax`, computed once.
#[derive(Debug, Clone)]
pub struct ClebschGordan {
    lmax: usize,
    /// Indexed by `(l1 * (lmax + 1) + l2) * (lmax + 1) + l3`; `None` outside the triangle.
    couplings: Vec<Option<Coupling>>,
}

impl ClebschGordan {
    /// Computes every coupling with `l1, l2, l3 ≤ lmax` and `|l1 - l2| ≤ l3 ≤ l1 + l2`.
    ///
    /// Factorials are `f64`, accurate well beyond the `lmax ≤ 3` the network uses; larger
    /// `lmax` than 8 is refused to keep rounding negligible.
    pub fn new(lmax: usize) -> Self {
        assert!(lmax <= 8, "Clebsch–Gordan coefficients limited to l ≤ 8");
        let n = lmax + 1;
        let mut couplings = Vec::with_capacity(n * n * n);
        for l1 in 0..n {
            for l2 in 0..n {
                for l3 in 0..n {
                    couplings.push(triangle(l1, l2, l3).then(|| real_coupling(l1, l2, l3)));
                }
            }
        }
        Self { lmax, couplings }
    }

    /// The largest degree covered.
    pub fn lmax(&self) -> usize {
        self.lmax
    }

    /// The coupling `(l1, l2, l3)`, or `None` if it breaks the triangle rule or exceeds `lmax`.
    pub fn get(&self, l1: usize, l2: usize, l3: usize) -> Option<&Coupling> {
        let n = self.lmax + 1;
        if l1 >= n || l2 >= n || l3 >= n {
            return None;
        }
        self.couplings[(l1 * n + l2) * n + l3].as_ref()
    }

    /// Every allowed coupling, ordered by `(l1, l2, l3)`.
    pub fn iter(&self) -> impl Iterator<Item = &Coupling> {
        self.couplings.iter().flatten()
    }
}

/// Whether `(l1, l2, l3)` satisfies the triangle rule `|l1 - l2| ≤ l3 ≤ l1 + l2`.
pub fn triangle(l1: usize, l2: usize, l3: usize) -> bool {
    l1.abs_diff(l2) <= l3 && l3 <= l1 + l2
}

fn factorial(n: i64) -> f64 {
    debug_assert!(n >= 0);
    (1..=n).map(|k| k as f64).product()
}

/// Complex-basis Clebsch–Gordan coefficient `⟨j1 m1 j2 m2 | j3 m3⟩` (integer spins) from
/// Racah's formula, Condon–Shortley convention.
pub fn complex_cg(j1: i64, m1: i64, j2: i64, m2: i64, j3: i64, m3: i64) -> f64 {
    if m1 + m2 != m3 || m1.abs() > j1 || m2.abs() > j2 || m3.abs() > j3 {
        return 0.0;
    }
    if j3 < (j1 - j2).abs() || j3 > j1 + j2 {
        return 0.0;
    }
    let f = factorial;
    let pre = ((2 * j3 + 1) as f64 * f(j3 + j1 - j2) * f(j3 - j1 + j2) * f(j1 + j2 - j3)
        / f(j1 + j2 + j3 + 1))
    .sqrt()
        * (f(j3 + m3) * f(j3 - m3) * f(j1 - m1) * f(j1 + m1) * f(j2 - m2) * f(j2 + m2)).sqrt();
    // k runs over all values keeping every factorial argument non-negative.
    let kmin = 0.max(j2 - j3 - m1).max(j1 - j3 + m2);
    let kmax = (j1 + j2 - j3).min(j1 - m1).min(j2 + m2);
    let mut sum = 0.0;
    for k in kmin..=kmax {
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        sum += sign
            / (f(k)
                * f(j1 + j2 - j3 - k)
                * f(j1 - m1 - k)
                * f(j2 + m2 - k)
                * f(j3 - j2 + m1 + k)
                * f(j3 - j1 - m2 + k));
    }
    pre * sum
}

/// A complex number, just enough for the basis change.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cx {
    re: f64,
    im: f64,
}

impl Cx {
    const ZERO: Cx = Cx { re: 0.0, im: 0.0 };

    fn mul(self, o: Cx) -> Cx {
        Cx {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }

    fn conj(self) -> Cx {
        Cx {
            re: self.re,
            im: -self.im,
        }
    }
}

/// Row `m` of `U_l` (real from complex): its non-zero entries `(M, U[m][M])`.
fn u_row(m: i64) -> Vec<(i64, Cx)> {
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let parity = if m % 2 == 0 { 1.0 } else { -1.0 };
    match m {
        0 => vec![(0, Cx { re: 1.0, im: 0.0 })],
        m if m > 0 => vec![
            (-m, Cx { re: h, im: 0.0 }),
            (
                m,
                Cx {
                    re: parity * h,
                    im: 0.0,
                },
            ),
        ],
        m => vec![
            (m, Cx { re: 0.0, im: h }),
            (
                -m,
                Cx {
                    re: 0.0,
                    im: -parity * h,
                },
            ),
        ],
    }
}

/// The real-basis coupling of one allowed triple (see the module doc).
fn real_coupling(l1: usize, l2: usize, l3: usize) -> Coupling {
    let (d1, d2, d3) = (dim(l1), dim(l2), dim(l3));
    let (j1, j2, j3) = (l1 as i64, l2 as i64, l3 as i64);
    let mut values = vec![Cx::ZERO; d1 * d2 * d3];
    for m1 in -j1..=j1 {
        for m2 in -j2..=j2 {
            for m3 in -j3..=j3 {
                let mut acc = Cx::ZERO;
                for &(big1, u1) in &u_row(m1) {
                    for &(big2, u2) in &u_row(m2) {
                        let cg = complex_cg(j1, big1, j2, big2, j3, big1 + big2);
                        if cg == 0.0 {
                            continue;
                        }
                        for &(big3, u3) in &u_row(m3) {
                            if big3 != big1 + big2 {
                                continue;
                            }
                            let t = u1.conj().mul(u2.conj()).mul(u3);
                            acc.re += t.re * cg;
                            acc.im += t.im * cg;
                        }
                    }
                }
                let idx =
                    (((m1 + j1) as usize) * d2 + (m2 + j2) as usize) * d3 + (m3 + j3) as usize;
                values[idx] = acc;
            }
        }
    }
    let max_re = values.iter().fold(0.0f64, |a, c| a.max(c.re.abs()));
    let max_im = values.iter().fold(0.0f64, |a, c| a.max(c.im.abs()));
    let odd = (l1 + l2 + l3) % 2 == 1;
    // Even l1+l2+l3: real. Odd: purely imaginary, i·v, and -i·(i·v) = v.
    let (kept, dropped) = if odd {
        (max_im, max_re)
    } else {
        (max_re, max_im)
    };
    assert!(
        kept > 0.1 && dropped < 1e-12,
        "({l1}, {l2}, {l3}): real-basis CG not of the expected phase (re {max_re}, im {max_im})"
    );
    let dense: Vec<f64> = values
        .iter()
        .map(|c| if odd { c.im } else { c.re })
        .collect();
    let mut nonzero = Vec::new();
    for i1 in 0..d1 {
        for i2 in 0..d2 {
            for i3 in 0..d3 {
                let v = dense[(i1 * d2 + i2) * d3 + i3];
                if v.abs() > ZERO {
                    nonzero.push((i1 as u8, i2 as u8, i3 as u8, v));
                }
            }
        }
    }
    Coupling {
        l1,
        l2,
        l3,
        dense,
        nonzero,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn racah_matches_textbook_values() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-14;
        // ⟨1 0 1 0 | 2 0⟩ = √(2/3), ⟨1 1 1 -1 | 0 0⟩ = 1/√3, ⟨1 0 1 0 | 0 0⟩ = -1/√3.
        assert!(close(complex_cg(1, 0, 1, 0, 2, 0), (2.0f64 / 3.0).sqrt()));
        assert!(close(complex_cg(1, 1, 1, -1, 0, 0), 1.0 / 3f64.sqrt()));
        assert!(close(complex_cg(1, 0, 1, 0, 0, 0), -1.0 / 3f64.sqrt()));
        // ⟨1 1 1 0 | 1 1⟩ = 1/√2, ⟨1 0 1 0 | 1 0⟩ = 0, ⟨2 2 1 -1 | 2 1⟩ = √(1/3).
        assert!(close(
            complex_cg(1, 1, 1, 0, 1, 1),
            std::f64::consts::FRAC_1_SQRT_2
        ));
        assert!(close(complex_cg(1, 0, 1, 0, 1, 0), 0.0));
        assert!(close(complex_cg(2, 2, 1, -1, 2, 1), (1.0f64 / 3.0).sqrt()));
        // Stretched coupling is 1.
        assert!(close(complex_cg(3, 3, 2, 2, 5, 5), 1.0));
    }

    #[test]
    fn l1_l1_to_l1_is_the_cross_product() {
        // In the (y, z, x) basis the antisymmetric 1⊗1→1 coupling is ∝ the cross product.
        let cg = ClebschGordan::new(1);
        let c = cg.get(1, 1, 1).unwrap();
        let (a, b) = ([0.3, -0.5, 0.9], [1.1, 0.2, -0.4]); // (y, z, x) components
        let mut out = [0.0; 3];
        c.apply(&a, &b, &mut out);
        let va = glam::DVec3::new(a[2], a[0], a[1]);
        let vb = glam::DVec3::new(b[2], b[0], b[1]);
        let cross = va.cross(vb);
        let cross = [cross.y, cross.z, cross.x];
        let ratio = out[0] / cross[0];
        assert!((ratio.abs() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-13);
        for i in 0..3 {
            assert!((out[i] - ratio * cross[i]).abs() < 1e-13);
        }
    }
}
