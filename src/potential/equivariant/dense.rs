//! The linear maps of the network as matrix products over many atoms at once.
//!
//! A map W `[out × inp]` acts on one block of every atom's features: `d` rows of `inp`
//! channels per atom (the `2l + 1` components of one degree). Taken over all atoms, one
//! component m at a time, the rows form a strided matrix X `[atoms × inp]` (row i at
//! `offset + i·stride`), and the map, its transpose and its weight gradient are matrix
//! products: Y += s·X·Wᵀ, X̄ += s·Ȳ·W, W̄ += s·Ȳᵀ·X. Each is one call of a cache-blocked
//! SIMD kernel (`gemm::dgemm`) instead of a loop per atom; in dual numbers the
//! real and ε parts are two strided planes of the same array, so a product costs two real
//! products (the weight gradient too: both its factors are dual, but training reads only
//! its ε part, so its real part is not formed).

use super::gemm::{View, ViewMut};
use super::scalar::Real;

/// One block of every atom's features: `atoms` atoms `stride` values apart, the block
/// at `offset` within each, its components one after the other (each as wide as the map
/// that reads or writes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Block {
    pub offset: usize,
    pub stride: usize,
    pub atoms: usize,
}

impl Block {
    /// The block at `offset` of `atoms` atoms of `stride` values each.
    pub fn new(offset: usize, stride: usize, atoms: usize) -> Block {
        Block {
            offset,
            stride,
            atoms,
        }
    }

    /// The same block of `atoms` atoms from atom `first` on.
    pub fn atoms_from(self, first: usize, atoms: usize) -> Block {
        Block::new(self.offset + first * self.stride, self.stride, atoms)
    }

    /// The rows of component m, `width` values each: a strided matrix `[atoms × width]`.
    fn rows(self, m: usize, width: usize) -> (usize, usize) {
        (self.offset + m * width, self.stride)
    }
}

/// y += s·W·x for each of the `d` components of a block of every atom: Y += s·X·Wᵀ per
/// component, W `[out × inp]`.
pub(super) fn apply<T: Real>(
    w: &[f64],
    (out, inp): (usize, usize),
    d: usize,
    (x, xb): (&[T], Block),
    (y, yb): (&mut [T], Block),
    s: f64,
) {
    debug_assert_eq!(xb.atoms, yb.atoms);
    debug_assert_eq!(w.len(), out * inp);
    for m in 0..d {
        let ((xo, xs), (yo, ys)) = (xb.rows(m, inp), yb.rows(m, out));
        let a = View::new(x, xo, (xs, 1));
        // Wᵀ `[inp × out]` is W read with swapped strides
        let b = View::new(w, 0, (1, inp));
        T::gemm_real(xb.atoms, inp, out, s, a, b, ViewMut::new(y, yo, (ys, 1)));
    }
}

/// x̄ += s·Wᵀ·ȳ per component, the transpose of [`apply`]: X̄ += s·Ȳ·W.
pub(super) fn apply_t<T: Real>(
    w: &[f64],
    (out, inp): (usize, usize),
    d: usize,
    (gy, gyb): (&[T], Block),
    (gx, gxb): (&mut [T], Block),
    s: f64,
) {
    debug_assert_eq!(gyb.atoms, gxb.atoms);
    debug_assert_eq!(w.len(), out * inp);
    for m in 0..d {
        let ((yo, ys), (xo, xs)) = (gyb.rows(m, out), gxb.rows(m, inp));
        let a = View::new(gy, yo, (ys, 1));
        let b = View::new(w, 0, (inp, 1));
        T::gemm_real(gyb.atoms, out, inp, s, a, b, ViewMut::new(gx, xo, (xs, 1)));
    }
}

/// W̄ += s Σ ȳ ⊗ x over the components of the block of every atom, the weight gradient
/// of [`apply`]: W̄ += s·Ȳᵀ·X per component (in dual numbers its ε part only, as
/// [`Real::gemm_weight_grad`]).
pub(super) fn weight_grad<T: Real>(
    gw: &mut [T],
    (out, inp): (usize, usize),
    d: usize,
    (gy, gyb): (&[T], Block),
    (x, xb): (&[T], Block),
    s: f64,
) {
    debug_assert_eq!(gyb.atoms, xb.atoms);
    debug_assert_eq!(gw.len(), out * inp);
    for m in 0..d {
        let ((yo, ys), (xo, xs)) = (gyb.rows(m, out), xb.rows(m, inp));
        // Ȳᵀ `[out × atoms]` is Ȳ read with swapped strides
        let a = View::new(gy, yo, (1, ys));
        let b = View::new(x, xo, (xs, 1));
        T::gemm_weight_grad(out, xb.atoms, inp, s, a, b, ViewMut::new(gw, 0, (inp, 1)));
    }
}

/// Runs of consecutive atoms of one species, `(species, first atom, atoms)`: the rows a
/// per-species map (the self-connection, the product basis) takes in one product.
pub(super) fn species_runs(species: &[usize]) -> Vec<(usize, usize, usize)> {
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for (i, &s) in species.iter().enumerate() {
        match runs.last_mut() {
            Some((t, _, n)) if *t == s => *n += 1,
            _ => runs.push((s, i, 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_dual::Dual64;

    /// The naive loops the products replace, in any Real.
    fn naive_apply<T: Real>(w: &[f64], (out, inp): (usize, usize), x: &[T], y: &mut [T], s: f64) {
        for (xr, yr) in x.chunks(inp).zip(y.chunks_mut(out)) {
            for (k, yk) in yr.iter_mut().enumerate() {
                for (c, &xc) in xr.iter().enumerate() {
                    *yk += xc * (w[k * inp + c] * s);
                }
            }
        }
    }

    fn values(n: usize, seed: f64) -> Vec<f64> {
        (0..n).map(|i| ((i as f64 + seed) * 0.7311).sin()).collect()
    }

    fn duals(n: usize, seed: f64) -> Vec<Dual64> {
        let (re, eps) = (values(n, seed), values(n, seed + 100.0));
        re.into_iter()
            .zip(eps)
            .map(|(r, e)| Dual64::new(r, e))
            .collect()
    }

    #[test]
    fn products_equal_the_loops_in_reals_and_duals() {
        let (out, inp, rows) = (5, 7, 4);
        let w = values(out * inp, 1.0);
        let (bx, by) = (Block::new(0, inp, rows), Block::new(0, out, rows));
        let x = duals(rows * inp, 2.0);
        let gy = duals(rows * out, 3.0);
        // forward
        let (mut y, mut y0) = (duals(rows * out, 4.0), duals(rows * out, 4.0));
        apply(&w, (out, inp), 1, (&x, bx), (&mut y, by), 0.5);
        naive_apply(&w, (out, inp), &x, &mut y0, 0.5);
        for (a, b) in y.iter().zip(&y0) {
            assert!((a.re - b.re).abs() < 1e-13 && (a.eps - b.eps).abs() < 1e-13);
        }
        // transpose: ⟨ȳ, W x⟩ = ⟨Wᵀ ȳ, x⟩ in the real parts
        let mut gx = vec![Dual64::from(0.0); rows * inp];
        apply_t(&w, (out, inp), 1, (&gy, by), (&mut gx, bx), 0.5);
        let mut wx = vec![Dual64::from(0.0); rows * out];
        apply(&w, (out, inp), 1, (&x, bx), (&mut wx, by), 0.5);
        let lhs: f64 = gy.iter().zip(&wx).map(|(a, b)| a.re * b.re).sum();
        let rhs: f64 = gx.iter().zip(&x).map(|(a, b)| a.re * b.re).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} {rhs}");
        // weight gradient, dual times dual: the ε part added, the real part left alone; in
        // reals the real part
        let mut gw = vec![Dual64::new(7.0, 0.25); out * inp];
        weight_grad(&mut gw, (out, inp), 1, (&gy, by), (&x, bx), 0.5);
        let (gyr, xr): (Vec<f64>, Vec<f64>) = (
            gy.iter().map(|v| v.re).collect(),
            x.iter().map(|v| v.re).collect(),
        );
        let mut gwr = vec![0.0; out * inp];
        weight_grad(&mut gwr, (out, inp), 1, (&gyr, by), (&xr, bx), 0.5);
        for k in 0..out {
            for c in 0..inp {
                let mut e = Dual64::from(0.0);
                for r in 0..rows {
                    e += gy[r * out + k] * x[r * inp + c] * 0.5;
                }
                let g = gw[k * inp + c];
                assert!(g.re == 7.0 && (g.eps - 0.25 - e.eps).abs() < 1e-13);
                assert!((gwr[k * inp + c] - e.re).abs() < 1e-13);
            }
        }
        // reals: the same kernel without the ε plane
        let xr: Vec<f64> = x.iter().map(|v| v.re).collect();
        let mut yr = vec![0.0; rows * out];
        apply(&w, (out, inp), 1, (&xr, bx), (&mut yr, by), 0.5);
        for (a, b) in yr.iter().zip(&wx) {
            assert!((a - b.re).abs() < 1e-14);
        }
    }

    #[test]
    fn a_block_reads_its_components_of_each_atom() {
        // 3 atoms of 6 values, a block of 2 components × 2 channels at offset 1
        let x: Vec<f64> = (0..18).map(|v| v as f64).collect();
        let w = [1.0, 0.0, 0.0, 1.0]; // identity
        let mut y = vec![0.0; 18];
        let b = Block::new(1, 6, 3);
        apply(&w, (2, 2), 2, (&x, b), (&mut y, b), 1.0);
        for i in 0..3 {
            assert_eq!(y[i * 6], 0.0);
            assert_eq!(&y[i * 6 + 1..i * 6 + 5], &x[i * 6 + 1..i * 6 + 5]);
            assert_eq!(y[i * 6 + 5], 0.0);
        }
        // the last two atoms only
        let mut z = vec![0.0; 18];
        apply(
            &w,
            (2, 2),
            2,
            (&x, b.atoms_from(1, 2)),
            (&mut z, b.atoms_from(1, 2)),
            1.0,
        );
        assert!(z[..6].iter().all(|&v| v == 0.0));
        assert_eq!(&z[6..], &y[6..]);
    }

    #[test]
    fn species_runs_cover_every_atom_once() {
        assert_eq!(
            species_runs(&[1, 1, 2, 0, 0, 0, 1]),
            vec![(1, 0, 2), (2, 2, 1), (0, 3, 3), (1, 6, 1)]
        );
        assert!(species_runs(&[]).is_empty());
    }

    #[test]
    #[should_panic(expected = "out of bounds")]
    fn a_view_past_the_slice_is_refused() {
        let x = vec![0.0; 10];
        let mut y = vec![0.0; 10];
        let b = Block::new(0, 5, 3);
        apply(&[1.0; 4], (2, 2), 1, (&x, b), (&mut y, b), 1.0);
    }
}
