//! The network's mathematical foundations: real spherical harmonics (values, gradients,
//! rotation behaviour), Wigner-D matrices and real Clebsch–Gordan couplings, all checked on
//! seeded random inputs against independent formulas and symmetry identities.

use eqmd::potential::equivariant::clebsch_gordan::{triangle, ClebschGordan};
use eqmd::potential::equivariant::spherical_harmonics::{
    dim, offset, spherical_harmonics, spherical_harmonics_with_gradient, total_dim, wigner_d, LMAX,
};
use glam::{DMat3, DQuat, DVec3};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const N: usize = total_dim(LMAX);

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// A random non-zero vector with length in [0.3, 3.3).
fn random_vector(rng: &mut ChaCha8Rng) -> DVec3 {
    let u = DVec3::new(normal(rng), normal(rng), normal(rng)).normalize();
    u * (0.3 + 3.0 * rng.random::<f64>())
}

/// A uniformly random rotation from a random unit quaternion.
fn random_rotation(rng: &mut ChaCha8Rng) -> DMat3 {
    let q = DQuat::from_xyzw(normal(rng), normal(rng), normal(rng), normal(rng)).normalize();
    DMat3::from_quat(q)
}

fn random_block(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| normal(rng)).collect()
}

fn sh(r: DVec3) -> [f64; N] {
    let mut y = [0.0; N];
    spherical_harmonics(LMAX, r, &mut y);
    y
}

fn block(y: &[f64], l: usize) -> &[f64] {
    &y[offset(l)..offset(l) + dim(l)]
}

/// `m · v` for a row-major `n × n` matrix.
fn matvec(m: &[f64], v: &[f64]) -> Vec<f64> {
    let n = v.len();
    (0..n)
        .map(|i| (0..n).map(|j| m[i * n + j] * v[j]).sum())
        .collect()
}

fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            c[i * n + j] = (0..n).map(|k| a[i * n + k] * b[k * n + j]).sum();
        }
    }
    c
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

/// Associated Legendre `P_l^m(t)`, m ≥ 0, without the Condon–Shortley phase, by the
/// textbook recurrence.
fn legendre(l: usize, m: usize, t: f64) -> f64 {
    let s = (1.0 - t * t).max(0.0).sqrt();
    let mut pmm = 1.0;
    for k in 0..m {
        pmm *= (2 * k + 1) as f64 * s;
    }
    if l == m {
        return pmm;
    }
    let mut prev = pmm;
    let mut cur = t * (2 * m + 1) as f64 * pmm;
    for ll in m + 2..=l {
        let next = ((2 * ll - 1) as f64 * t * cur - (ll + m - 1) as f64 * prev) / (ll - m) as f64;
        prev = cur;
        cur = next;
    }
    cur
}

/// The documented convention from spherical angles: component-normalised real harmonics.
fn textbook_y(l: usize, m: i64, r: DVec3) -> f64 {
    let u = r.normalize();
    let theta = u.z.clamp(-1.0, 1.0).acos();
    let phi = u.y.atan2(u.x);
    let am = m.unsigned_abs() as usize;
    let norm = ((2 * l + 1) as f64 * factorial(l - am) / factorial(l + am)).sqrt();
    let p = legendre(l, am, theta.cos());
    let sqrt2 = std::f64::consts::SQRT_2;
    norm * p
        * match m.cmp(&0) {
            std::cmp::Ordering::Greater => sqrt2 * (m as f64 * phi).cos(),
            std::cmp::Ordering::Equal => 1.0,
            std::cmp::Ordering::Less => sqrt2 * (am as f64 * phi).sin(),
        }
}

#[test]
fn normalisation_and_y00() {
    let mut rng = rng(1);
    for _ in 0..200 {
        let y = sh(random_vector(&mut rng));
        assert_eq!(y[0], 1.0);
        for l in 0..=LMAX {
            let s: f64 = block(&y, l).iter().map(|v| v * v).sum();
            assert!((s - dim(l) as f64).abs() < 1e-12, "l = {l}: Σ Y² = {s}");
        }
    }
}

#[test]
fn reference_values() {
    let s3 = 3f64.sqrt();
    // Y_1 is √3 (y, z, x).
    assert!(max_diff(block(&sh(DVec3::X), 1), &[0.0, 0.0, s3]) < 1e-15);
    assert!(max_diff(block(&sh(DVec3::Y), 1), &[s3, 0.0, 0.0]) < 1e-15);
    assert!(max_diff(block(&sh(2.5 * DVec3::Z), 1), &[0.0, s3, 0.0]) < 1e-15);
    // Y_2 along (1, 1, 1)/√3: xy = yz = zx = 1/3, 3z² - 1 = 0, x² - y² = 0.
    let s15 = 15f64.sqrt();
    let expect = [s15 / 3.0, s15 / 3.0, 0.0, s15 / 3.0, 0.0];
    assert!(max_diff(block(&sh(DVec3::ONE), 2), &expect) < 1e-14);
    // Y_2 and Y_3 on the z axis: only m = 0, equal to √(2l+1).
    let yz = sh(DVec3::Z);
    assert!(max_diff(block(&yz, 2), &[0.0, 0.0, 5f64.sqrt(), 0.0, 0.0]) < 1e-15);
    let e3 = [0.0, 0.0, 0.0, 7f64.sqrt(), 0.0, 0.0, 0.0];
    assert!(max_diff(block(&yz, 3), &e3) < 1e-14);
    // Every (l, m) at random directions against the Legendre/angle formula.
    let mut rng = rng(2);
    for _ in 0..100 {
        let r = random_vector(&mut rng);
        let y = sh(r);
        for l in 0..=LMAX {
            for m in -(l as i64)..=l as i64 {
                let got = y[offset(l) + (m + l as i64) as usize];
                let want = textbook_y(l, m, r);
                assert!(
                    (got - want).abs() < 1e-12,
                    "Y_{l},{m}({r}): {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn gradients_match_finite_differences_and_are_tangent() {
    let mut rng = rng(3);
    let h = 1e-5;
    for _ in 0..100 {
        let r = random_vector(&mut rng);
        let mut y = [0.0; N];
        let mut g = [DVec3::ZERO; N];
        spherical_harmonics_with_gradient(LMAX, r, &mut y, &mut g);
        assert_eq!(y, sh(r), "values differ between the two entry points");
        // Scale of a gradient: |∇Y_l| ≲ l·√(2l+1)/|r|.
        let scale = 1.0 / r.length();
        for k in 0..3 {
            let mut e = DVec3::ZERO;
            e[k] = h;
            let (yp, ym) = (sh(r + e), sh(r - e));
            for i in 0..N {
                let fd = (yp[i] - ym[i]) / (2.0 * h);
                let tol = 1e-7 * (g[i][k].abs() + scale);
                assert!(
                    (fd - g[i][k]).abs() < tol,
                    "∂Y[{i}]/∂r_{k} at {r}: {} vs fd {fd}",
                    g[i][k]
                );
            }
        }
        for (i, gi) in g.iter().enumerate() {
            assert!(
                r.dot(*gi).abs() < 1e-12 * (1.0 + gi.length() * r.length()),
                "r·∇Y[{i}]"
            );
        }
    }
}

#[test]
fn rotating_the_vector_rotates_the_harmonics() {
    let mut rng = rng(4);
    for _ in 0..50 {
        let rot = random_rotation(&mut rng);
        let ds: Vec<Vec<f64>> = (0..=LMAX).map(|l| wigner_d(l, rot)).collect();
        for _ in 0..10 {
            let r = random_vector(&mut rng);
            let (y, yr) = (sh(r), sh(rot * r));
            for (l, d) in ds.iter().enumerate() {
                let dy = matvec(d, block(&y, l));
                assert!(max_diff(block(&yr, l), &dy) < 1e-12, "l = {l}");
            }
        }
    }
}

#[test]
fn wigner_d_is_an_orthogonal_representation() {
    let mut rng = rng(5);
    for _ in 0..50 {
        let (r1, r2) = (random_rotation(&mut rng), random_rotation(&mut rng));
        for l in 0..=LMAX {
            let n = dim(l);
            let (d1, d2, d12) = (wigner_d(l, r1), wigner_d(l, r2), wigner_d(l, r1 * r2));
            assert!(
                max_diff(&matmul(&d1, &d2, n), &d12) < 1e-12,
                "D(R1 R2), l = {l}"
            );
            let mut dt = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    dt[i * n + j] = d1[j * n + i];
                }
            }
            let mut id = vec![0.0; n * n];
            for i in 0..n {
                id[i * n + i] = 1.0;
            }
            assert!(max_diff(&matmul(&dt, &d1, n), &id) < 1e-12, "DᵀD, l = {l}");
            assert!(
                max_diff(&wigner_d(l, r1.transpose()), &dt) < 1e-12,
                "D(Rᵀ), l = {l}"
            );
        }
    }
}

#[test]
fn clebsch_gordan_selection_rules_and_sparsity() {
    let cg = ClebschGordan::new(LMAX);
    let mut count = 0;
    for l1 in 0..=LMAX + 1 {
        for l2 in 0..=LMAX + 1 {
            for l3 in 0..=LMAX + 1 {
                let c = cg.get(l1, l2, l3);
                let allowed = triangle(l1, l2, l3) && l1.max(l2).max(l3) <= LMAX;
                assert_eq!(c.is_some(), allowed, "({l1}, {l2}, {l3})");
                let Some(c) = c else { continue };
                count += 1;
                assert_eq!((c.l1, c.l2, c.l3), (l1, l2, l3));
                let (d1, d2, d3) = (dim(l1), dim(l2), dim(l3));
                assert_eq!(c.dense.len(), d1 * d2 * d3);
                let nz = c.dense.iter().filter(|v| v.abs() > 1e-12).count();
                assert_eq!(c.nonzero.len(), nz);
                for &(i1, i2, i3, v) in &c.nonzero {
                    assert_eq!(c.at(i1 as usize, i2 as usize, i3 as usize), v);
                }
                // Exact zeros stay exactly small outside the sparse list.
                let tiny = c
                    .dense
                    .iter()
                    .filter(|v| v.abs() <= 1e-12)
                    .fold(0.0, |a, v| v.abs().max(a));
                assert!(tiny < 1e-14);
            }
        }
    }
    assert_eq!(count, cg.iter().count());
    assert_eq!(count, 34); // allowed triples with l ≤ 3
}

#[test]
fn clebsch_gordan_orthonormality() {
    let cg = ClebschGordan::new(LMAX);
    for l1 in 0..=LMAX {
        for l2 in 0..=LMAX {
            for l3 in 0..=LMAX {
                for l3p in 0..=LMAX {
                    let (Some(a), Some(b)) = (cg.get(l1, l2, l3), cg.get(l1, l2, l3p)) else {
                        continue;
                    };
                    for m3 in 0..dim(l3) {
                        for m3p in 0..dim(l3p) {
                            let mut s = 0.0;
                            for i1 in 0..dim(l1) {
                                for i2 in 0..dim(l2) {
                                    s += a.at(i1, i2, m3) * b.at(i1, i2, m3p);
                                }
                            }
                            let want = if l3 == l3p && m3 == m3p { 1.0 } else { 0.0 };
                            assert!(
                                (s - want).abs() < 1e-13,
                                "({l1} {l2} {l3}/{l3p}) {m3} {m3p}: {s}"
                            );
                        }
                    }
                }
                if let Some(c) = cg.get(l1, l2, l3) {
                    let f: f64 = c.dense.iter().map(|v| v * v).sum();
                    assert!((f - dim(l3) as f64).abs() < 1e-12);
                }
            }
        }
    }
}

#[test]
fn clebsch_gordan_commutes_with_rotations() {
    let cg = ClebschGordan::new(LMAX);
    let mut rng = rng(6);
    for c in cg.iter() {
        let (l1, l2, l3) = (c.l1, c.l2, c.l3);
        for _ in 0..10 {
            let rot = random_rotation(&mut rng);
            let (d1, d2, d3) = (wigner_d(l1, rot), wigner_d(l2, rot), wigner_d(l3, rot));
            let x = random_block(&mut rng, dim(l1));
            let y = random_block(&mut rng, dim(l2));
            let mut rotated_in = vec![0.0; dim(l3)];
            c.apply(&matvec(&d1, &x), &matvec(&d2, &y), &mut rotated_in);
            let mut out = vec![0.0; dim(l3)];
            c.apply(&x, &y, &mut out);
            let rotated_out = matvec(&d3, &out);
            let err = max_diff(&rotated_in, &rotated_out);
            assert!(
                err < 1e-12,
                "({l1}, {l2}, {l3}): C(D1x ⊗ D2y) ≠ D3 C(x ⊗ y), error {err}"
            );
        }
    }
}

#[test]
fn coupled_harmonics_are_harmonics() {
    // Σ C Y_l1(r̂) Y_l2(r̂) = k Y_l3(r̂) with one k per triple (zero when l1 + l2 + l3 is odd).
    let cg = ClebschGordan::new(LMAX);
    let mut rng = rng(7);
    let dirs: Vec<DVec3> = (0..20).map(|_| random_vector(&mut rng)).collect();
    for c in cg.iter() {
        let (l1, l2, l3) = (c.l1, c.l2, c.l3);
        let mut k: Option<f64> = None;
        for &r in &dirs {
            let y = sh(r);
            let mut out = vec![0.0; dim(l3)];
            c.apply(block(&y, l1), block(&y, l2), &mut out);
            let target = block(&y, l3);
            let kr = out.iter().zip(target).map(|(a, b)| a * b).sum::<f64>() / dim(l3) as f64;
            let resid: Vec<f64> = target.iter().map(|t| kr * t).collect();
            assert!(
                max_diff(&out, &resid) < 1e-12,
                "({l1}, {l2}, {l3}) not ∝ Y_{l3}"
            );
            if let Some(k) = k {
                assert!((k - kr).abs() < 1e-12, "({l1}, {l2}, {l3}): factor varies");
            }
            k = Some(kr);
        }
        let k = k.unwrap();
        if (l1 + l2 + l3) % 2 == 1 {
            assert!(k.abs() < 1e-12);
        } else {
            // k = √((2l1+1)(2l2+1)/(2l3+1)) ⟨l1 0 l2 0 | l3 0⟩, non-zero for even triples.
            let want = ((dim(l1) * dim(l2)) as f64 / dim(l3) as f64).sqrt()
                * eqmd::potential::equivariant::clebsch_gordan::complex_cg(
                    l1 as i64, 0, l2 as i64, 0, l3 as i64, 0,
                );
            assert!(
                (k - want).abs() < 1e-12,
                "({l1}, {l2}, {l3}): k = {k}, want {want}"
            );
        }
    }
}
