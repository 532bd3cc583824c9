//! The product basis of a MACE-style layer: from an atom's aggregated messages A (irreps
//! l = 0..=L, C channels), the symmetric polynomial B = Σ_ν Σ_paths w · (A ⊗ … ⊗ A)_L of
//! body order ν + 1 (ν = 1..=correlation factors of A), each channel on its own, with
//! per-species weights per path and channel. Written over [`Real`], so that one reverse
//! pass gives forces and, in dual numbers, the training gradient.
//!
//! A coupling path multiplies degrees as a tree of Clebsch–Gordan couplings: ν = 1 is
//! A_L itself; ν = 2 couples (A_l1 ⊗ A_l2)_L with l1 ≤ l2; ν = 3 couples
//! ((A_l1 ⊗ A_l2)_k ⊗ A_l3)_L with l1 ≤ l2 ≤ l3 and every intermediate k ≤ L_max. Because
//! the factors are one vector, (A_l ⊗ A_l)_k vanishes for odd k and is left out; the trees
//! of one multiset {l1, l2, l3} span every coupling of it (up to the cap on k). With parity
//! a path keeps the parity of its output: l1 + l2 (+ l3) + L even.

use super::clebsch_gordan::{triangle, ClebschGordan, Coupling};
use super::irreps::Irreps;
use super::scalar::Real;
use super::spherical_harmonics::dim;

/// The unweighted pair product (A_l1 ⊗ A_l2)_k every path of ν ≥ 2 starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub l1: usize,
    pub l2: usize,
    pub k: usize,
    /// Start of its C·(2k + 1) numbers in an atom's pair buffer.
    pub offset: usize,
}

/// One term of the product basis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProductPath {
    /// Number of factors of A (1, 2 or 3).
    pub nu: usize,
    /// The factors' degrees (unused entries 0): A_l1 for ν = 1, (l1, l2) for ν = 2 and
    /// (l1, l2, l3) for ν = 3.
    pub l: [usize; 3],
    /// Intermediate degree k of the first two factors (ν = 3), the output's for ν = 2.
    pub k: usize,
    /// Degree of the output.
    pub out: usize,
    /// Index of the pair product it reads (ν ≥ 2).
    pub pair: usize,
    /// Factor of its weights: 1/√(paths into `out`).
    pub path_weight: f64,
}

impl ProductPath {
    /// The path as six integers (ν, l1, l2, l3, k, L), as the model file records it.
    pub fn code(&self) -> [usize; 6] {
        [self.nu, self.l[0], self.l[1], self.l[2], self.k, self.out]
    }
}

/// The product basis of one layer: its pair products and paths, in the order of their
/// weights (rows of a species' `[paths × C]` block).
#[derive(Clone, Debug, PartialEq)]
pub struct ProductShape {
    /// Largest number of factors.
    pub correlation: usize,
    /// Irreps of A and of B.
    pub irreps: Irreps,
    pub pairs: Vec<Pair>,
    /// Numbers in one atom's pair buffer.
    pub pair_len: usize,
    pub paths: Vec<ProductPath>,
}

impl ProductShape {
    /// The product basis of order `correlation` over A = `irreps`, with parity or without.
    pub fn new(irreps: Irreps, correlation: usize, parity: bool) -> ProductShape {
        let lmax = irreps.lmax;
        let even = |s: usize| !parity || s % 2 == 0;
        let mut all_pairs = Vec::new();
        for l1 in 0..=lmax {
            for l2 in l1..=lmax {
                for k in 0..=lmax {
                    if triangle(l1, l2, k) && !(l1 == l2 && k % 2 == 1) {
                        all_pairs.push((l1, l2, k));
                    }
                }
            }
        }
        let mut raw = Vec::new();
        for l in 0..=lmax {
            raw.push((1, [l, 0, 0], l, l, usize::MAX));
        }
        if correlation >= 2 {
            for (q, &(l1, l2, k)) in all_pairs.iter().enumerate() {
                if even(l1 + l2 + k) {
                    raw.push((2, [l1, l2, 0], k, k, q));
                }
            }
        }
        if correlation >= 3 {
            for (q, &(l1, l2, k)) in all_pairs.iter().enumerate() {
                for l3 in l2..=lmax {
                    for out in 0..=lmax {
                        if triangle(k, l3, out) && even(l1 + l2 + l3 + out) {
                            raw.push((3, [l1, l2, l3], k, out, q));
                        }
                    }
                }
            }
        }
        // keep the pairs some path reads, renumbered
        let mut pairs = Vec::new();
        let mut index = vec![usize::MAX; all_pairs.len()];
        let mut pair_len = 0;
        for &(_, _, _, _, q) in &raw {
            if q != usize::MAX && index[q] == usize::MAX {
                let (l1, l2, k) = all_pairs[q];
                index[q] = pairs.len();
                pairs.push(Pair {
                    l1,
                    l2,
                    k,
                    offset: pair_len,
                });
                pair_len += irreps.channels * dim(k);
            }
        }
        raw.sort_by_key(|&(nu, l, k, out, _)| (out, nu, l, k));
        let into = |out: usize| raw.iter().filter(|p| p.3 == out).count();
        let paths = (raw.iter())
            .map(|&(nu, l, k, out, q)| ProductPath {
                nu,
                l,
                k,
                out,
                pair: if q == usize::MAX { 0 } else { index[q] },
                path_weight: 1.0 / (into(out) as f64).sqrt(),
            })
            .collect();
        ProductShape {
            correlation,
            irreps,
            pairs,
            pair_len,
            paths,
        }
    }

    /// Paths of ν factors.
    pub fn count(&self, nu: usize) -> usize {
        self.paths.iter().filter(|p| p.nu == nu).count()
    }
}

fn coupling(cg: &ClebschGordan, l1: usize, l2: usize, l3: usize) -> &Coupling {
    cg.get(l1, l2, l3)
        .expect("product paths follow the triangle rule")
}

/// Where the C channels of component `i` of an irreps block starting at `o` lie.
pub(super) fn row_range(o: usize, i: u8, c: usize) -> std::ops::Range<usize> {
    o + i as usize * c..o + (i as usize + 1) * c
}

/// One block of C channels of component `i` in an irreps block starting at `o`.
fn row<T>(x: &[T], o: usize, i: u8, c: usize) -> &[T] {
    &x[row_range(o, i, c)]
}

fn row_mut<T>(x: &mut [T], o: usize, i: u8, c: usize) -> &mut [T] {
    &mut x[row_range(o, i, c)]
}

/// The steps of one atom's product basis; in dual numbers over planes
/// (`product_planar`), otherwise the loops below.
impl ProductShape {
    /// The pair products of one atom's A into `y` (`pair_len` numbers, overwritten).
    pub fn pairs_of<T: Real>(&self, cg: &ClebschGordan, a: &[T], y: &mut [T]) {
        match (T::as_duals(a), T::as_duals_mut(y)) {
            (Some(a), Some(y)) => self.pairs_of_planar(cg, a, y),
            _ => self.pairs_of_loops(cg, a, y),
        }
    }

    /// B of one atom from its A, its pair products `y` and its species' weights
    /// `[paths × C]`, into `b` (irreps size, overwritten).
    pub fn forward<T: Real>(&self, cg: &ClebschGordan, w: &[f64], a: &[T], y: &[T], b: &mut [T]) {
        match (T::as_duals(a), T::as_duals(y), T::as_duals_mut(b)) {
            (Some(a), Some(y), Some(b)) => self.forward_planar(cg, w, (a, y), b),
            _ => self.forward_loops(cg, w, a, y, b),
        }
    }

    /// Through B of one atom: ∂E/∂A added into `ga` from ∂E/∂B `gb`, its A and pair
    /// products `y`, and its species' weights.
    pub fn backward<T: Real>(
        &self,
        cg: &ClebschGordan,
        w: &[f64],
        (a, y): (&[T], &[T]),
        gb: &[T],
        ga: &mut [T],
    ) {
        let duals = (T::as_duals(a), T::as_duals(y), T::as_duals(gb));
        match (duals, T::as_duals_mut(ga)) {
            ((Some(a), Some(y), Some(gb)), Some(ga)) => self.backward_planar(cg, w, (a, y), gb, ga),
            _ => self.backward_loops(cg, w, (a, y), gb, ga),
        }
    }

    /// ∂E/∂(weights `[paths × C]`) of one atom's species added into `gw`, from ∂E/∂B `gb`,
    /// its A and pair products `y` (in dual numbers the ε part only, the part training
    /// reads).
    pub fn weight_grad<T: Real>(
        &self,
        cg: &ClebschGordan,
        (a, y): (&[T], &[T]),
        gb: &[T],
        gw: &mut [T],
    ) {
        let duals = (T::as_duals(a), T::as_duals(y), T::as_duals(gb));
        match (duals, T::as_duals_mut(gw)) {
            ((Some(a), Some(y), Some(gb)), Some(gw)) => self.weight_grad_planar(cg, (a, y), gb, gw),
            _ => self.weight_grad_loops(cg, (a, y), gb, gw),
        }
    }
}

/// The steps in any [`Real`], loops over paths, coupling entries and channels.
impl ProductShape {
    /// [`pairs_of`](Self::pairs_of) in any [`Real`].
    pub(super) fn pairs_of_loops<T: Real>(&self, cg: &ClebschGordan, a: &[T], y: &mut [T]) {
        let c = self.irreps.channels;
        y.fill(T::from(0.0));
        for p in &self.pairs {
            let (o1, o2) = (self.irreps.offset(p.l1), self.irreps.offset(p.l2));
            for &(i1, i2, i3, v) in &coupling(cg, p.l1, p.l2, p.k).nonzero {
                let (x1, x2) = (row(a, o1, i1, c), row(a, o2, i2, c));
                let ys = row_mut(y, p.offset, i3, c);
                for ((yc, &p1), &p2) in ys.iter_mut().zip(x1).zip(x2) {
                    *yc += p1 * p2 * v;
                }
            }
        }
    }

    /// [`forward`](Self::forward) in any [`Real`].
    pub(super) fn forward_loops<T: Real>(
        &self,
        cg: &ClebschGordan,
        w: &[f64],
        a: &[T],
        y: &[T],
        b: &mut [T],
    ) {
        let c = self.irreps.channels;
        b.fill(T::from(0.0));
        for (p, path) in self.paths.iter().enumerate() {
            let wp = &w[p * c..(p + 1) * c];
            let s = path.path_weight;
            let ob = self.irreps.offset(path.out);
            let len = c * dim(path.out);
            match path.nu {
                1 | 2 => {
                    let x = match path.nu {
                        1 => &a[ob..ob + len],
                        _ => &y[self.pairs[path.pair].offset..][..len],
                    };
                    for (bm, xm) in b[ob..ob + len].chunks_mut(c).zip(x.chunks(c)) {
                        for ((bc, &xc), &wc) in bm.iter_mut().zip(xm).zip(wp) {
                            *bc += xc * (wc * s);
                        }
                    }
                }
                _ => {
                    let (oy, o3) = (self.pairs[path.pair].offset, self.irreps.offset(path.l[2]));
                    for &(i1, i2, i3, v) in &coupling(cg, path.k, path.l[2], path.out).nonzero {
                        let (ys, xs) = (row(y, oy, i1, c), row(a, o3, i2, c));
                        let bs = row_mut(b, ob, i3, c);
                        for (((bc, &yc), &xc), &wc) in bs.iter_mut().zip(ys).zip(xs).zip(wp) {
                            *bc += yc * xc * (wc * s * v);
                        }
                    }
                }
            }
        }
    }

    /// [`backward`](Self::backward) in any [`Real`].
    pub(super) fn backward_loops<T: Real>(
        &self,
        cg: &ClebschGordan,
        w: &[f64],
        (a, y): (&[T], &[T]),
        gb: &[T],
        ga: &mut [T],
    ) {
        let c = self.irreps.channels;
        let mut gy = vec![T::from(0.0); self.pair_len];
        for (p, path) in self.paths.iter().enumerate() {
            let wp = &w[p * c..(p + 1) * c];
            let s = path.path_weight;
            let ob = self.irreps.offset(path.out);
            let len = c * dim(path.out);
            match path.nu {
                1 | 2 => {
                    let gx = match path.nu {
                        1 => &mut ga[ob..ob + len],
                        _ => &mut gy[self.pairs[path.pair].offset..][..len],
                    };
                    for (gm, bm) in gx.chunks_mut(c).zip(gb[ob..ob + len].chunks(c)) {
                        for ((gc, &bc), &wc) in gm.iter_mut().zip(bm).zip(wp) {
                            *gc += bc * (wc * s);
                        }
                    }
                }
                _ => {
                    let (oy, o3) = (self.pairs[path.pair].offset, self.irreps.offset(path.l[2]));
                    for &(i1, i2, i3, v) in &coupling(cg, path.k, path.l[2], path.out).nonzero {
                        let (gs, ys, xs) =
                            (row(gb, ob, i3, c), row(y, oy, i1, c), row(a, o3, i2, c));
                        let (gas, gys) = (row_mut(ga, o3, i2, c), row_mut(&mut gy, oy, i1, c));
                        let rows = gas
                            .iter_mut()
                            .zip(gys)
                            .zip(gs.iter().zip(wp))
                            .zip(ys.iter().zip(xs));
                        for (((ga, gy), (&g, &wc)), (&yc, &xc)) in rows {
                            let t = g * (wc * s * v);
                            *ga += t * yc;
                            *gy += t * xc;
                        }
                    }
                }
            }
        }
        for p in &self.pairs {
            let (o1, o2) = (self.irreps.offset(p.l1), self.irreps.offset(p.l2));
            for &(i1, i2, i3, v) in &coupling(cg, p.l1, p.l2, p.k).nonzero {
                let gs = row(&gy, p.offset, i3, c);
                for (ch, &g) in gs.iter().enumerate() {
                    let (x1, x2) = (o1 + i1 as usize * c + ch, o2 + i2 as usize * c + ch);
                    let t = g * v;
                    let (p1, p2) = (a[x1], a[x2]);
                    ga[x1] += t * p2;
                    ga[x2] += t * p1;
                }
            }
        }
    }

    /// [`weight_grad`](Self::weight_grad) in any [`Real`], real parts included.
    pub(super) fn weight_grad_loops<T: Real>(
        &self,
        cg: &ClebschGordan,
        (a, y): (&[T], &[T]),
        gb: &[T],
        gw: &mut [T],
    ) {
        let c = self.irreps.channels;
        for (p, path) in self.paths.iter().enumerate() {
            let gwp = &mut gw[p * c..(p + 1) * c];
            let s = path.path_weight;
            let ob = self.irreps.offset(path.out);
            let len = c * dim(path.out);
            match path.nu {
                1 | 2 => {
                    let x = match path.nu {
                        1 => &a[ob..ob + len],
                        _ => &y[self.pairs[path.pair].offset..][..len],
                    };
                    for (xm, bm) in x.chunks(c).zip(gb[ob..ob + len].chunks(c)) {
                        for ((gc, &xc), &bc) in gwp.iter_mut().zip(xm).zip(bm) {
                            *gc += xc * bc * s;
                        }
                    }
                }
                _ => {
                    let (oy, o3) = (self.pairs[path.pair].offset, self.irreps.offset(path.l[2]));
                    for &(i1, i2, i3, v) in &coupling(cg, path.k, path.l[2], path.out).nonzero {
                        let (ys, xs) = (row(y, oy, i1, c), row(a, o3, i2, c));
                        let gs = row(gb, ob, i3, c);
                        for (((gc, &yc), &xc), &bc) in gwp.iter_mut().zip(ys).zip(xs).zip(gs) {
                            *gc += yc * xc * bc * (s * v);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::equivariant::spherical_harmonics::{total_dim, wigner_d};
    use glam::{DMat3, DQuat};

    fn irreps(lmax: usize) -> Irreps {
        Irreps { channels: 3, lmax }
    }

    #[test]
    fn path_counts_with_parity_to_l3() {
        let p = ProductShape::new(irreps(3), 3, true);
        let to = |nu: usize, out: usize| {
            (p.paths.iter())
                .filter(|q| q.nu == nu && q.out == out)
                .count()
        };
        // symmetric invariants of 0e+1o+2e+3o: 4 quadratic, 8 cubic
        assert_eq!((to(1, 0), to(2, 0), to(3, 0)), (1, 4, 8));
        // (0,1), (1,2), (2,3) into 1o
        assert_eq!(to(2, 1), 3);
        let one = ProductShape::new(irreps(3), 1, true);
        assert_eq!(one.paths.len(), 4);
        assert!(one.pairs.is_empty());
    }

    /// B(D A) = D B(A) for random A, weights and rotations, every degree and order.
    #[test]
    fn product_basis_commutes_with_rotations() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        for lmax in 0..=3 {
            for parity in [false, true] {
                let shape = ProductShape::new(irreps(lmax), 3, parity);
                let cg = ClebschGordan::new(lmax);
                let c = shape.irreps.channels;
                let n = shape.irreps.size();
                let a: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
                let w: Vec<f64> = (0..shape.paths.len() * c)
                    .map(|_| rng.random::<f64>() - 0.5)
                    .collect();
                let q = DQuat::from_xyzw(0.3, -0.5, 0.2, 0.7).normalize();
                let rot = DMat3::from_quat(q);
                let rotate = |x: &[f64]| {
                    let mut out = vec![0.0; n];
                    for l in 0..=lmax {
                        let d = wigner_d(l, rot);
                        let o = shape.irreps.offset(l);
                        for m in 0..dim(l) {
                            for k in 0..dim(l) {
                                for ch in 0..c {
                                    out[o + m * c + ch] += d[m * dim(l) + k] * x[o + k * c + ch];
                                }
                            }
                        }
                    }
                    out
                };
                let eval = |x: &[f64]| {
                    let mut y = vec![0.0; shape.pair_len];
                    shape.pairs_of(&cg, x, &mut y);
                    let mut b = vec![0.0; n];
                    shape.forward(&cg, &w, x, &y, &mut b);
                    b
                };
                let (left, right) = (eval(&rotate(&a)), rotate(&eval(&a)));
                for (x, y) in left.iter().zip(&right) {
                    assert!((x - y).abs() < 1e-12, "L = {lmax}: {x} vs {y}");
                }
                assert_eq!(total_dim(lmax) * c, n);
            }
        }
    }

    /// The reverse pass and the weight gradient against central differences of a random
    /// linear functional of B.
    #[test]
    fn reverse_pass_matches_finite_differences() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let shape = ProductShape::new(irreps(3), 3, false);
        let cg = ClebschGordan::new(3);
        let (c, n) = (shape.irreps.channels, shape.irreps.size());
        let mut rnd =
            |k: usize| -> Vec<f64> { (0..k).map(|_| rng.random::<f64>() - 0.5).collect() };
        let (a, w, gb) = (rnd(n), rnd(shape.paths.len() * c), rnd(n));
        let value = |a: &[f64], w: &[f64]| {
            let mut y = vec![0.0; shape.pair_len];
            shape.pairs_of(&cg, a, &mut y);
            let mut b = vec![0.0; n];
            shape.forward(&cg, w, a, &y, &mut b);
            b.iter().zip(&gb).map(|(x, g)| x * g).sum::<f64>()
        };
        let mut y = vec![0.0; shape.pair_len];
        shape.pairs_of(&cg, &a, &mut y);
        let mut ga = vec![0.0; n];
        shape.backward(&cg, &w, (&a, &y), &gb, &mut ga);
        let mut gw = vec![0.0; w.len()];
        shape.weight_grad(&cg, (&a, &y), &gb, &mut gw);
        let h = 1e-6;
        for i in 0..n {
            let (mut up, mut down) = (a.clone(), a.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (value(&up, &w) - value(&down, &w)) / (2.0 * h);
            assert!((fd - ga[i]).abs() < 1e-8, "∂/∂A[{i}]: {} vs {fd}", ga[i]);
        }
        for i in 0..w.len() {
            let (mut up, mut down) = (w.clone(), w.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (value(&a, &up) - value(&a, &down)) / (2.0 * h);
            assert!((fd - gw[i]).abs() < 1e-8, "∂/∂w[{i}]: {} vs {fd}", gw[i]);
        }
    }
}
