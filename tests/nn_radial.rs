//! The radial part of the equivariant potential: Bessel basis with cutoff envelope, and the
//! radial MLP with its backward pass, all checked against central finite differences.

use eqmd::potential::equivariant::mlp::{Mlp, MlpTape};
use eqmd::potential::equivariant::radial::RadialBasis;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CUTOFF: f64 = 5.0;

fn basis() -> RadialBasis {
    RadialBasis::new(8, CUTOFF)
}

fn values(b: &RadialBasis, r: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut v, mut d) = (vec![f64::NAN; b.n], vec![f64::NAN; b.n]);
    b.evaluate(r, &mut v, &mut d);
    (v, d)
}

/// Relative agreement, with an absolute floor of `rel · 0.01` for quantities passing through
/// zero (near the cutoff the envelope polynomial loses ~1e-14 absolute to cancellation).
fn assert_close(analytic: f64, numeric: f64, rel: f64, what: &str) {
    let tol = rel * analytic.abs().max(numeric.abs()).max(1e-2);
    assert!(
        (analytic - numeric).abs() <= tol,
        "{what}: analytic {analytic:e} vs finite difference {numeric:e}"
    );
}

#[test]
fn basis_matches_definition() {
    let b = basis();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..50 {
        let r: f64 = rng.random_range(0.01..CUTOFF);
        let (v, _) = values(&b, r);
        let (u, _) = b.envelope(r);
        for (k, &value) in v.iter().enumerate() {
            let n = (k + 1) as f64;
            let bessel = (2.0 / CUTOFF).sqrt() * (n * std::f64::consts::PI * r / CUTOFF).sin() / r;
            assert_close(value, u * bessel, 1e-12, "B_n(r)");
        }
    }
}

#[test]
fn basis_derivative_matches_central_differences() {
    let b = basis();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let h = 1e-5;
    for _ in 0..200 {
        let r: f64 = rng.random_range(0.3..CUTOFF - 2.0 * h);
        let (_, d) = values(&b, r);
        let (vp, _) = values(&b, r + h);
        let (vm, _) = values(&b, r - h);
        for k in 0..b.n {
            let fd = (vp[k] - vm[k]) / (2.0 * h);
            assert_close(d[k], fd, 1e-7, &format!("dB_{}/dr at r = {r}", k + 1));
        }
    }
}

#[test]
fn envelope_derivative_matches_central_differences() {
    let b = basis();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let h = 1e-5;
    for _ in 0..200 {
        let r: f64 = rng.random_range(0.0..CUTOFF - 2.0 * h);
        let (_, du) = b.envelope(r);
        let fd = (b.envelope(r + h).0 - b.envelope(r - h).0) / (2.0 * h);
        assert_close(du, fd, 1e-7, &format!("du/dr at r = {r}"));
    }
}

#[test]
fn envelope_and_two_derivatives_vanish_at_cutoff() {
    let b = basis();
    assert_eq!(b.envelope(CUTOFF), (0.0, 0.0));
    assert_eq!(b.envelope(0.0), (1.0, 0.0));
    // approaching from below: u ~ h³, u' ~ h², u'' ~ h
    for &h in &[1e-2, 1e-3, 1e-4] {
        let (u, du) = b.envelope(CUTOFF - h);
        assert!(u.abs() < 100.0 * h.powi(3), "u(r_c - {h}) = {u}");
        assert!(du.abs() < 100.0 * h.powi(2), "u'(r_c - {h}) = {du}");
        let d2 = (b.envelope(CUTOFF - h + 1e-6).1 - b.envelope(CUTOFF - h - 1e-6).1) / 2e-6;
        assert!(d2.abs() < 100.0 * h, "u''(r_c - {h}) = {d2}");
    }
    // u'' at r_c itself by central differences across the cutoff: O(h) (u''' jumps there,
    // |u'''| = p(p+1)(p+2)/r_c³ ≈ 2.7), whereas |u''| is O(1) inside, e.g. at r_c/2.
    let mid = (b.envelope(0.5 * CUTOFF + 1e-4).1 - b.envelope(0.5 * CUTOFF - 1e-4).1) / 2e-4;
    assert!(mid.abs() > 0.1, "u''(r_c/2) = {mid}");
    for &h in &[1e-3, 1e-4] {
        let d2 = (b.envelope(CUTOFF + h).0 - 2.0 * b.envelope(CUTOFF).0 + b.envelope(CUTOFF - h).0)
            / (h * h);
        assert!(d2.abs() < h, "u''(r_c) = {d2} (h = {h})");
        let d2 = (b.envelope(CUTOFF + h).1 - b.envelope(CUTOFF - h).1) / (2.0 * h);
        assert!(d2.abs() < h, "u''(r_c) from u' = {d2} (h = {h})");
    }
}

#[test]
fn basis_is_exactly_zero_beyond_cutoff() {
    let b = basis();
    for &r in &[CUTOFF, CUTOFF + 1e-12, CUTOFF + 0.5, 100.0] {
        let (v, d) = values(&b, r);
        assert!(
            v.iter().chain(&d).all(|&x| x == 0.0),
            "r = {r}: {v:?} {d:?}"
        );
        assert_eq!(b.envelope(r), (0.0, 0.0));
    }
    // and continuous just inside
    let (v, d) = values(&b, CUTOFF - 1e-6);
    assert!(v.iter().chain(&d).all(|&x| x.abs() < 1e-9), "{v:?} {d:?}");
}

#[test]
fn tiny_and_zero_radius_give_the_limit() {
    let b = basis();
    let norm = (2.0 / CUTOFF).sqrt();
    for &r in &[0.0, 1e-300, 1e-12, 1e-8, 1e-4] {
        let (v, d) = values(&b, r);
        for k in 0..b.n {
            assert!(v[k].is_finite() && d[k].is_finite(), "NaN at r = {r}");
            let a = (k + 1) as f64 * std::f64::consts::PI / CUTOFF;
            assert_close(v[k], norm * a, 1e-6, &format!("B_{}({r})", k + 1));
            assert!(d[k].abs() < 1e-2, "dB/dr({r}) = {}", d[k]);
        }
    }
    // series and direct branches agree on the derivative around the switch-over
    let h = 1e-6;
    for &r in &[0.05, 0.08, 0.1, 0.2] {
        let (_, d) = values(&b, r);
        let (vp, _) = values(&b, r + h);
        let (vm, _) = values(&b, r - h);
        for k in 0..b.n {
            assert_close(d[k], (vp[k] - vm[k]) / (2.0 * h), 1e-6, "dB/dr near 0");
        }
    }
}

#[test]
fn batch_basis_equals_single_evaluations() {
    let b = basis();
    let rs = [0.0, 0.7, 2.5, 4.99, 5.0, 7.0];
    let (mut v, mut d) = (vec![0.0; rs.len() * b.n], vec![0.0; rs.len() * b.n]);
    b.evaluate_batch(&rs, &mut v, &mut d);
    for (i, &r) in rs.iter().enumerate() {
        let (vi, di) = values(&b, r);
        assert_eq!(&v[i * b.n..(i + 1) * b.n], &vi[..]);
        assert_eq!(&d[i * b.n..(i + 1) * b.n], &di[..]);
    }
}

fn random_vec(rng: &mut ChaCha8Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// L = Σ g · output for the batch `x`.
fn loss(mlp: &Mlp, x: &[f64], batch: usize, g: &[f64]) -> f64 {
    let mut tape = MlpTape::new();
    let out = mlp.forward_batch(x, batch, &mut tape);
    out.iter().zip(g).map(|(o, g)| o * g).sum()
}

#[test]
fn mlp_parameter_count_and_determinism() {
    let mlp = Mlp::new(&[8, 64, 64, 32], 7);
    assert_eq!(mlp.parameter_count(), 8 * 64 + 64 * 64 + 64 * 32);
    assert_eq!(
        mlp.weights.iter().map(Vec::len).sum::<usize>(),
        mlp.parameter_count()
    );
    assert_eq!((mlp.input_size(), mlp.output_size()), (8, 32));
    assert_eq!(mlp, Mlp::new(&[8, 64, 64, 32], 7));
    assert_ne!(mlp, Mlp::new(&[8, 64, 64, 32], 8));
    // N(0, 1) weights
    let w: Vec<f64> = mlp.weights.concat();
    let mean = w.iter().sum::<f64>() / w.len() as f64;
    let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64;
    assert!(
        mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
        "mean {mean}, var {var}"
    );
}

#[test]
fn mlp_batch_forward_equals_per_row_forward() {
    let mlp = Mlp::new(&[8, 16, 16, 5], 11);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let batch = 37;
    let x = random_vec(&mut rng, batch * 8);
    let mut tape = MlpTape::new();
    let out = mlp.forward_batch(&x, batch, &mut tape).to_vec();
    assert_eq!(out.len(), batch * 5);
    assert_eq!(tape.output(), &out[..]);
    for (row, out_row) in x.chunks_exact(8).zip(out.chunks_exact(5)) {
        let single = mlp.forward(row);
        for (a, b) in single.iter().zip(out_row) {
            assert!((a - b).abs() <= 1e-14 * a.abs().max(1.0), "{a} vs {b}");
        }
    }
    // reusing a tape with a different batch size
    let out2 = mlp.forward_batch(&x[..3 * 8], 3, &mut tape).to_vec();
    assert_eq!(&out2[..], &out[..3 * 5]);
    // no biases: zero input gives zero output
    assert!(mlp.forward(&[0.0; 8]).iter().all(|&y| y == 0.0));
}

#[test]
fn mlp_backward_matches_central_differences() {
    for (sizes, seed) in [
        (vec![8, 16, 16, 5], 21u64),
        (vec![3, 4], 22),
        (vec![6, 7, 9, 4, 2], 23),
    ] {
        let mlp = Mlp::new(&sizes, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
        let (n_in, n_out, batch) = (mlp.input_size(), mlp.output_size(), 4);
        let x = random_vec(&mut rng, batch * n_in);
        let g = random_vec(&mut rng, batch * n_out);
        let mut tape = MlpTape::new();
        mlp.forward_batch(&x, batch, &mut tape);
        let mut grad_x = vec![f64::NAN; batch * n_in];
        let mut grad_w = mlp.zero_gradients();
        mlp.backward_batch(&tape, &g, &mut grad_x, Some(&mut grad_w));
        let h = 1e-5;

        for i in 0..x.len() {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += h;
            xm[i] -= h;
            let fd = (loss(&mlp, &xp, batch, &g) - loss(&mlp, &xm, batch, &g)) / (2.0 * h);
            assert_close(grad_x[i], fd, 1e-7, &format!("{sizes:?} ∂L/∂x[{i}]"));
        }
        for (l, grad_layer) in grad_w.iter().enumerate() {
            for (j, &analytic) in grad_layer.iter().enumerate() {
                let (mut mp, mut mm) = (mlp.clone(), mlp.clone());
                mp.weights[l][j] += h;
                mm.weights[l][j] -= h;
                let fd = (loss(&mp, &x, batch, &g) - loss(&mm, &x, batch, &g)) / (2.0 * h);
                assert_close(analytic, fd, 1e-7, &format!("{sizes:?} ∂L/∂W[{l}][{j}]"));
            }
        }

        // gradients accumulate, and the weight gradient is optional
        let mut grad_x2 = vec![0.0; batch * n_in];
        mlp.backward_batch(&tape, &g, &mut grad_x2, Some(&mut grad_w));
        mlp.backward_batch(&tape, &g, &mut grad_x2, None);
        assert_eq!(grad_x, grad_x2);
        let mut once = mlp.zero_gradients();
        mlp.backward_batch(&tape, &g, &mut grad_x2, Some(&mut once));
        for (a, b) in grad_w.concat().iter().zip(once.concat()) {
            assert!((a - 2.0 * b).abs() <= 1e-14 * a.abs().max(1.0));
        }
    }
}

#[test]
fn radial_network_force_chain_rule() {
    // E(r) = Σ g · MLP(B(r)); dE/dr = Σ_n (∂E/∂B_n) dB_n/dr, checked against differences in r.
    let b = basis();
    let mlp = Mlp::new(&[b.n, 16, 16, 6], 31);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let g = random_vec(&mut rng, 6);
    let energy = |r: f64| {
        let (v, _) = values(&b, r);
        loss(&mlp, &v, 1, &g)
    };
    let h = 1e-5;
    for _ in 0..50 {
        let r: f64 = rng.random_range(0.3..CUTOFF - 2.0 * h);
        let (v, d) = values(&b, r);
        let mut tape = MlpTape::new();
        mlp.forward_batch(&v, 1, &mut tape);
        let mut grad_b = vec![0.0; b.n];
        mlp.backward_batch(&tape, &g, &mut grad_b, None);
        let de: f64 = grad_b.iter().zip(&d).map(|(gb, db)| gb * db).sum();
        let fd = (energy(r + h) - energy(r - h)) / (2.0 * h);
        assert_close(de, fd, 1e-7, &format!("dE/dr at r = {r}"));
    }
}
