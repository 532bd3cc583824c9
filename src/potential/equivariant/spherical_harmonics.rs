//! Real spherical harmonics `Y_lm(r̂)` for `l = 0..=3`, their gradients with respect to the
//! (unnormalised) input vector, and the real Wigner-D matrices they rotate with.
//!
//! # Convention
//!
//! The basis is the standard real ("tesseral") harmonics with `z` as the polar axis and no
//! Condon–Shortley phase, `θ` the angle from `+z`, `φ` the azimuth from `+x` towards `+y`:
//!
//! ```text
//! Y_lm = sqrt(2l+1) · sqrt((l-|m|)!/(l+|m|)!) · P_l^|m|(cos θ) · { √2 cos(m φ)    m > 0
//!                                                                { 1              m = 0
//!                                                                { √2 sin(|m| φ)  m < 0
//! ```
//!
//! with `P_l^m` the associated Legendre functions *without* the `(-1)^m` phase (all
//! positive near `θ = π/2`). This is "component" normalisation, as in e3nn:
//! `Σ_m Y_lm(r̂)² = 2l + 1` in every direction (so `Y_00 = 1`), and the sphere average of
//! `Y_lm Y_l'm'` is `δ_ll' δ_mm'`. Components are stored with `m` running `-l..=l`, blocks
//! `l = 0, 1, ..` one after the other: `Y_lm` sits at index `l² + l + m`.
//!
//! As polynomials of the unit vector `(x, y, z)`:
//!
//! | l | m = -l ..= l |
//! |---|---|
//! | 0 | `1` |
//! | 1 | `√3 y`, `√3 z`, `√3 x` |
//! | 2 | `√15 xy`, `√15 yz`, `√5/2 (3z²-1)`, `√15 xz`, `√15/2 (x²-y²)` |
//! | 3 | `√(35/8) y(3x²-y²)`, `√105 xyz`, `√(21/8) y(5z²-1)`, `√7/2 (5z³-3z)`, `√(21/8) x(5z²-1)`, `√105/2 z(x²-y²)`, `√(35/8) x(x²-3y²)` |
//!
//! e3nn (≥ 0.5) uses the same functions with `y` as the polar axis:
//! `Y_eqmd(x, y, z) = Y_e3nn(y, z, x)`. For `l = 1` the basis is `(y, z, x)`, so
//! `D_1(R) = P R Pᵀ` with `P` the permutation taking `(x, y, z)` to `(y, z, x)`.

use glam::DVec3;

/// Highest degree `l` implemented by the explicit polynomials.
pub const LMAX: usize = 3;

/// Number of components `2l + 1` of the degree-`l` block.
pub const fn dim(l: usize) -> usize {
    2 * l + 1
}

/// Index `l²` of the first component (`m = -l`) of block `l` in a concatenated vector.
pub const fn offset(l: usize) -> usize {
    l * l
}

/// Total number of components `(lmax + 1)²` of blocks `0..=lmax`.
pub const fn total_dim(lmax: usize) -> usize {
    (lmax + 1) * (lmax + 1)
}

/// `Y_lm(r / |r|)` for `l = 0..=lmax` into `out[..(lmax + 1)²]` (layout in the module doc).
///
/// A zero vector has no direction: it gives `Y_00 = 1` and zeros for `l ≥ 1`.
pub fn spherical_harmonics(lmax: usize, r: DVec3, out: &mut [f64]) {
    check_lmax(lmax, out.len());
    let norm = r.length();
    if norm == 0.0 {
        zero_vector(lmax, out, None);
        return;
    }
    polynomials(lmax, r / norm, out, None);
}

/// `Y_lm(r / |r|)` and their gradients `∂Y_lm/∂r` with respect to the unnormalised `r`
/// (what forces need); layouts as in [`spherical_harmonics`].
///
/// Gradients are perpendicular to `r` and scale as `1/|r|`. A zero vector gives `Y_00 = 1`,
/// zeros elsewhere and zero gradients (the direction, hence the gradient, is undefined).
pub fn spherical_harmonics_with_gradient(
    lmax: usize,
    r: DVec3,
    values: &mut [f64],
    gradients: &mut [DVec3],
) {
    check_lmax(lmax, values.len());
    assert!(
        gradients.len() >= total_dim(lmax),
        "gradient buffer too short"
    );
    let norm = r.length();
    if norm == 0.0 {
        zero_vector(lmax, values, Some(gradients));
        return;
    }
    let u = r / norm;
    let n = total_dim(lmax);
    polynomials(lmax, u, values, Some(&mut gradients[..n]));
    // Chain rule through u = r/|r|: ∂u/∂r = (I - u uᵀ)/|r|, symmetric.
    let inv = 1.0 / norm;
    for g in &mut gradients[..n] {
        *g = (*g - u * u.dot(*g)) * inv;
    }
}

fn check_lmax(lmax: usize, len: usize) {
    assert!(
        lmax <= LMAX,
        "spherical harmonics implemented up to l = {LMAX}"
    );
    assert!(len >= total_dim(lmax), "output buffer too short");
}

fn zero_vector(lmax: usize, values: &mut [f64], gradients: Option<&mut [DVec3]>) {
    let n = total_dim(lmax);
    values[..n].fill(0.0);
    values[0] = 1.0;
    if let Some(g) = gradients {
        g[..n].fill(DVec3::ZERO);
    }
}

/// The table's polynomials at `u` and, optionally, their plain gradients `∇_u p` (the
/// caller projects them onto the tangent plane).
fn polynomials(lmax: usize, u: DVec3, v: &mut [f64], g: Option<&mut [DVec3]>) {
    let (x, y, z) = (u.x, u.y, u.z);
    v[0] = 1.0;
    if lmax >= 1 {
        let s3 = 3f64.sqrt();
        v[1] = s3 * y;
        v[2] = s3 * z;
        v[3] = s3 * x;
    }
    if lmax >= 2 {
        let s15 = 15f64.sqrt();
        let s5 = 5f64.sqrt();
        v[4] = s15 * x * y;
        v[5] = s15 * y * z;
        v[6] = 0.5 * s5 * (3.0 * z * z - 1.0);
        v[7] = s15 * x * z;
        v[8] = 0.5 * s15 * (x * x - y * y);
    }
    if lmax >= 3 {
        let (a, b, c, d) = l3_constants();
        v[9] = a * y * (3.0 * x * x - y * y);
        v[10] = b * x * y * z;
        v[11] = c * y * (5.0 * z * z - 1.0);
        v[12] = d * z * (5.0 * z * z - 3.0);
        v[13] = c * x * (5.0 * z * z - 1.0);
        v[14] = 0.5 * b * z * (x * x - y * y);
        v[15] = a * x * (x * x - 3.0 * y * y);
    }
    let Some(g) = g else { return };
    g[0] = DVec3::ZERO;
    if lmax >= 1 {
        let s3 = 3f64.sqrt();
        g[1] = DVec3::new(0.0, s3, 0.0);
        g[2] = DVec3::new(0.0, 0.0, s3);
        g[3] = DVec3::new(s3, 0.0, 0.0);
    }
    if lmax >= 2 {
        let s15 = 15f64.sqrt();
        let s5 = 5f64.sqrt();
        g[4] = s15 * DVec3::new(y, x, 0.0);
        g[5] = s15 * DVec3::new(0.0, z, y);
        g[6] = DVec3::new(0.0, 0.0, 3.0 * s5 * z);
        g[7] = s15 * DVec3::new(z, 0.0, x);
        g[8] = s15 * DVec3::new(x, -y, 0.0);
    }
    if lmax >= 3 {
        let (a, b, c, d) = l3_constants();
        let q = 5.0 * z * z - 1.0;
        g[9] = a * DVec3::new(6.0 * x * y, 3.0 * (x * x - y * y), 0.0);
        g[10] = b * DVec3::new(y * z, x * z, x * y);
        g[11] = c * DVec3::new(0.0, q, 10.0 * y * z);
        g[12] = DVec3::new(0.0, 0.0, d * (15.0 * z * z - 3.0));
        g[13] = c * DVec3::new(q, 0.0, 10.0 * x * z);
        g[14] = b * DVec3::new(x * z, -y * z, 0.5 * (x * x - y * y));
        g[15] = a * DVec3::new(3.0 * (x * x - y * y), -6.0 * x * y, 0.0);
    }
}

/// `(√(35/8), √105, √(21/8), √7/2)`, the `l = 3` prefactors.
fn l3_constants() -> (f64, f64, f64, f64) {
    (
        (35.0f64 / 8.0).sqrt(),
        105f64.sqrt(),
        (21.0f64 / 8.0).sqrt(),
        0.5 * 7f64.sqrt(),
    )
}

/// Real Wigner-D matrix `D_l(R)` (`dim(l)²` entries, row-major) with
/// `Y_l(R r) = D_l(R) Y_l(r)` for every `r`, in the basis of [`spherical_harmonics`].
///
/// Computed by least squares from harmonics at a fixed set of well-spread points `P`:
/// `D = Y(R P) Y(P)ᵀ (Y(P) Y(P)ᵀ)⁻¹`, exact to rounding. `rotation` may be any orthogonal
/// matrix (an improper one gives `det(R)^l D_l(R det R)`); D is then orthogonal too.
pub fn wigner_d(l: usize, rotation: glam::DMat3) -> Vec<f64> {
    assert!(l <= LMAX, "Wigner-D implemented up to l = {LMAX}");
    let d = dim(l);
    let points = sample_points();
    let mut buf = [0.0; total_dim(LMAX)];
    // A = Y_l(P) and B = Y_l(R P), one column per point.
    let mut a = vec![0.0; d * points.len()];
    let mut b = vec![0.0; d * points.len()];
    let np = points.len();
    for (k, &p) in points.iter().enumerate() {
        spherical_harmonics(l, p, &mut buf);
        for i in 0..d {
            a[i * np + k] = buf[offset(l) + i];
        }
        spherical_harmonics(l, rotation * p, &mut buf);
        for i in 0..d {
            b[i * np + k] = buf[offset(l) + i];
        }
    }
    // G = A Aᵀ (symmetric positive definite), H = B Aᵀ; D G = H, i.e. G Dᵀ = Hᵀ.
    let dot = |x: &[f64], i: usize, y: &[f64], j: usize| -> f64 {
        (0..np).map(|k| x[i * np + k] * y[j * np + k]).sum()
    };
    let mut gram = vec![0.0; d * d];
    let mut rhs = vec![0.0; d * d]; // rhs[j*d + i] = H[i][j], i.e. Hᵀ
    for i in 0..d {
        for j in 0..d {
            gram[i * d + j] = dot(&a, i, &a, j);
            rhs[j * d + i] = dot(&b, i, &a, j);
        }
    }
    let dt = solve_spd(&mut gram, &mut rhs, d);
    // dt holds Dᵀ; transpose into row-major D.
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            out[i * d + j] = dt[j * d + i];
        }
    }
    out
}

/// Points of a golden-angle (Fibonacci) spiral on the unit sphere: well spread, so the
/// Gram matrix of every `Y_l`, `l ≤ LMAX`, is well conditioned.
fn sample_points() -> Vec<DVec3> {
    const N: usize = 40;
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..N)
        .map(|k| {
            let z = 1.0 - (2.0 * k as f64 + 1.0) / N as f64;
            let rho = (1.0 - z * z).sqrt();
            let phi = golden * k as f64;
            DVec3::new(rho * phi.cos(), rho * phi.sin(), z)
        })
        .collect()
}

/// Solves `G X = R` for `X` (`n × n`, row-major) by Cholesky, `G` symmetric positive
/// definite; overwrites `g` with its factor and returns `X`.
fn solve_spd(g: &mut [f64], r: &mut [f64], n: usize) -> Vec<f64> {
    // Cholesky: G = L Lᵀ, L stored in the lower triangle of g.
    for j in 0..n {
        let mut s = g[j * n + j];
        for k in 0..j {
            s -= g[j * n + k] * g[j * n + k];
        }
        assert!(s > 0.0, "Gram matrix not positive definite");
        let ljj = s.sqrt();
        g[j * n + j] = ljj;
        for i in j + 1..n {
            let mut s = g[i * n + j];
            for k in 0..j {
                s -= g[i * n + k] * g[j * n + k];
            }
            g[i * n + j] = s / ljj;
        }
    }
    let mut x = r.to_vec();
    for c in 0..n {
        // Forward: L y = r[:, c].
        for i in 0..n {
            let mut s = x[i * n + c];
            for k in 0..i {
                s -= g[i * n + k] * x[k * n + c];
            }
            x[i * n + c] = s / g[i * n + i];
        }
        // Backward: Lᵀ x = y.
        for i in (0..n).rev() {
            let mut s = x[i * n + c];
            for k in i + 1..n {
                s -= g[k * n + i] * x[k * n + c];
            }
            x[i * n + c] = s / g[i * n + i];
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DMat3;

    #[test]
    fn component_normalisation_and_zero_vector() {
        let mut y = [0.0; 16];
        spherical_harmonics(3, DVec3::new(0.3, -1.2, 0.7), &mut y);
        assert!((y[0] - 1.0).abs() < 1e-15);
        for l in 0..=3 {
            let s: f64 = y[offset(l)..offset(l) + dim(l)].iter().map(|v| v * v).sum();
            assert!((s - dim(l) as f64).abs() < 1e-12, "l = {l}: {s}");
        }
        let mut g = [DVec3::ONE; 16];
        spherical_harmonics_with_gradient(3, DVec3::ZERO, &mut y, &mut g);
        assert_eq!(y[0], 1.0);
        assert!(y[1..].iter().all(|&v| v == 0.0));
        assert!(g.iter().all(|&v| v == DVec3::ZERO));
    }

    #[test]
    fn wigner_d_l1_is_permuted_rotation() {
        let rot = DMat3::from_axis_angle(DVec3::new(1.0, 2.0, -0.5).normalize(), 0.83);
        let d = wigner_d(1, rot);
        // Basis (y, z, x): D[i][j] = R[p(i)][p(j)] with p = (1, 2, 0).
        let p = [1, 2, 0];
        for i in 0..3 {
            for j in 0..3 {
                let rij = rot.col(p[j])[p[i]];
                assert!((d[i * 3 + j] - rij).abs() < 1e-13);
            }
        }
        let id = wigner_d(3, DMat3::IDENTITY);
        for i in 0..7 {
            for j in 0..7 {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((id[i * 7 + j] - e).abs() < 1e-13);
            }
        }
    }
}
