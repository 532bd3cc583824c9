//! The product basis's loops in dual numbers, over separate real and ε planes: one atom's
//! A, pair products and B are split into planes on entry and joined on exit, and the
//! loops over paths, coupling entries and channels run as plain real loops (see
//! `planar`, which does the same for the convolution). Each method is its generic
//! counterpart in [`ProductShape`] term by term, except that the weight gradient forms
//! only its ε part, the part training reads (as `Real::gemm_weight_grad`).

use super::clebsch_gordan::ClebschGordan;
use super::product::{row_range, ProductShape};
use super::scalar::Planes;
use super::spherical_harmonics::dim;
use num_dual::Dual64;

impl ProductShape {
    /// [`pairs_of`](ProductShape::pairs_of) in dual numbers.
    pub(super) fn pairs_of_planar(&self, cg: &ClebschGordan, a: &[Dual64], y: &mut [Dual64]) {
        let c = self.irreps.channels;
        let a = Planes::of(a);
        let mut yp = Planes::zeros(y.len());
        let (yr, ye) = (&mut yp.re, &mut yp.eps);
        for p in &self.pairs {
            let (o1, o2) = (self.irreps.offset(p.l1), self.irreps.offset(p.l2));
            for &(i1, i2, i3, v) in &cg.get(p.l1, p.l2, p.k).expect("a pair's coupling").nonzero {
                let (r1, r2) = (row_range(o1, i1, c), row_range(o2, i2, c));
                let ((x1r, x1e), (x2r, x2e)) = (a.rows(r1), a.rows(r2));
                let r3 = row_range(p.offset, i3, c);
                let (ysr, yse) = (&mut yr[r3.clone()], &mut ye[r3]);
                for ch in 0..c {
                    ysr[ch] += x1r[ch] * x2r[ch] * v;
                    yse[ch] += (x1r[ch] * x2e[ch] + x1e[ch] * x2r[ch]) * v;
                }
            }
        }
        yp.write_to(y);
    }

    /// [`forward`](ProductShape::forward) in dual numbers.
    pub(super) fn forward_planar(
        &self,
        cg: &ClebschGordan,
        w: &[f64],
        (a, y): (&[Dual64], &[Dual64]),
        b: &mut [Dual64],
    ) {
        let c = self.irreps.channels;
        let (a, y) = (Planes::of(a), Planes::of(y));
        let mut bp = Planes::zeros(b.len());
        let (br, be) = (&mut bp.re, &mut bp.eps);
        for (p, path) in self.paths.iter().enumerate() {
            let wp = &w[p * c..(p + 1) * c];
            let s = path.path_weight;
            let ob = self.irreps.offset(path.out);
            let len = c * dim(path.out);
            match path.nu {
                1 | 2 => {
                    let (xr, xe) = match path.nu {
                        1 => a.rows(ob..ob + len),
                        _ => {
                            y.rows(self.pairs[path.pair].offset..self.pairs[path.pair].offset + len)
                        }
                    };
                    let (bsr, bse) = (&mut br[ob..ob + len], &mut be[ob..ob + len]);
                    for m in (0..len).step_by(c) {
                        for ch in 0..c {
                            let f = wp[ch] * s;
                            bsr[m + ch] += xr[m + ch] * f;
                            bse[m + ch] += xe[m + ch] * f;
                        }
                    }
                }
                _ => {
                    let (oy, o3) = (self.pairs[path.pair].offset, self.irreps.offset(path.l[2]));
                    let coupling = cg
                        .get(path.k, path.l[2], path.out)
                        .expect("a path's coupling");
                    for &(i1, i2, i3, v) in &coupling.nonzero {
                        let ((yr, ye), (xr, xe)) =
                            (y.rows(row_range(oy, i1, c)), a.rows(row_range(o3, i2, c)));
                        let r3 = row_range(ob, i3, c);
                        let (bsr, bse) = (&mut br[r3.clone()], &mut be[r3]);
                        for ch in 0..c {
                            let f = wp[ch] * s * v;
                            bsr[ch] += yr[ch] * xr[ch] * f;
                            bse[ch] += (yr[ch] * xe[ch] + ye[ch] * xr[ch]) * f;
                        }
                    }
                }
            }
        }
        bp.write_to(b);
    }

    /// [`backward`](ProductShape::backward) in dual numbers.
    pub(super) fn backward_planar(
        &self,
        cg: &ClebschGordan,
        w: &[f64],
        (a, y): (&[Dual64], &[Dual64]),
        gb: &[Dual64],
        ga: &mut [Dual64],
    ) {
        let c = self.irreps.channels;
        let (a, y, gb) = (Planes::of(a), Planes::of(y), Planes::of(gb));
        // accumulated onto what `ga` holds, in the generic loops' order
        let mut gap = Planes::of(ga);
        let (gar, gae) = (&mut gap.re, &mut gap.eps);
        let mut gyp = Planes::zeros(self.pair_len);
        let (gyr, gye) = (&mut gyp.re, &mut gyp.eps);
        for (p, path) in self.paths.iter().enumerate() {
            let wp = &w[p * c..(p + 1) * c];
            let s = path.path_weight;
            let ob = self.irreps.offset(path.out);
            let len = c * dim(path.out);
            match path.nu {
                1 | 2 => {
                    let o = match path.nu {
                        1 => ob,
                        _ => self.pairs[path.pair].offset,
                    };
                    let (gxr, gxe) = match path.nu {
                        1 => (&mut gar[o..o + len], &mut gae[o..o + len]),
                        _ => (&mut gyr[o..o + len], &mut gye[o..o + len]),
                    };
                    let (gr, ge) = gb.rows(ob..ob + len);
                    for m in (0..len).step_by(c) {
                        for ch in 0..c {
                            let f = wp[ch] * s;
                            gxr[m + ch] += gr[m + ch] * f;
                            gxe[m + ch] += ge[m + ch] * f;
                        }
                    }
                }
                _ => {
                    let (oy, o3) = (self.pairs[path.pair].offset, self.irreps.offset(path.l[2]));
                    let coupling = cg
                        .get(path.k, path.l[2], path.out)
                        .expect("a path's coupling");
                    for &(i1, i2, i3, v) in &coupling.nonzero {
                        let (ry, rx) = (row_range(oy, i1, c), row_range(o3, i2, c));
                        let ((gr, ge), (yr, ye), (xr, xe)) = (
                            gb.rows(row_range(ob, i3, c)),
                            y.rows(ry.clone()),
                            a.rows(rx.clone()),
                        );
                        let (gasr, gase) = (&mut gar[rx.clone()], &mut gae[rx]);
                        let (gysr, gyse) = (&mut gyr[ry.clone()], &mut gye[ry]);
                        for ch in 0..c {
                            let f = wp[ch] * s * v;
                            let (tr, te) = (gr[ch] * f, ge[ch] * f);
                            gasr[ch] += tr * yr[ch];
                            gase[ch] += tr * ye[ch] + te * yr[ch];
                            gysr[ch] += tr * xr[ch];
                            gyse[ch] += tr * xe[ch] + te * xr[ch];
                        }
                    }
                }
            }
        }
        for p in &self.pairs {
            let (o1, o2) = (self.irreps.offset(p.l1), self.irreps.offset(p.l2));
            for &(i1, i2, i3, v) in &cg.get(p.l1, p.l2, p.k).expect("a pair's coupling").nonzero {
                let rg = row_range(p.offset, i3, c);
                for ch in 0..c {
                    let (x1, x2) = (o1 + i1 as usize * c + ch, o2 + i2 as usize * c + ch);
                    let (tr, te) = (gyr[rg.start + ch] * v, gye[rg.start + ch] * v);
                    let (p1r, p1e, p2r, p2e) = (a.re[x1], a.eps[x1], a.re[x2], a.eps[x2]);
                    gar[x1] += tr * p2r;
                    gae[x1] += tr * p2e + te * p2r;
                    gar[x2] += tr * p1r;
                    gae[x2] += tr * p1e + te * p1r;
                }
            }
        }
        gap.write_to(ga);
    }

    /// The ε part of [`weight_grad`](ProductShape::weight_grad) in dual numbers, added into
    /// the ε parts of `gw` (their real parts are left as they are).
    pub(super) fn weight_grad_planar(
        &self,
        cg: &ClebschGordan,
        (a, y): (&[Dual64], &[Dual64]),
        gb: &[Dual64],
        gw: &mut [Dual64],
    ) {
        let c = self.irreps.channels;
        let (a, y, gb) = (Planes::of(a), Planes::of(y), Planes::of(gb));
        // accumulated onto what `gw` holds, in the generic loops' order
        let mut ge_w: Vec<f64> = gw.iter().map(|g| g.eps).collect();
        for (p, path) in self.paths.iter().enumerate() {
            let gwp = &mut ge_w[p * c..(p + 1) * c];
            let s = path.path_weight;
            let ob = self.irreps.offset(path.out);
            let len = c * dim(path.out);
            match path.nu {
                1 | 2 => {
                    let (xr, xe) = match path.nu {
                        1 => a.rows(ob..ob + len),
                        _ => {
                            y.rows(self.pairs[path.pair].offset..self.pairs[path.pair].offset + len)
                        }
                    };
                    let (gr, ge) = gb.rows(ob..ob + len);
                    for m in (0..len).step_by(c) {
                        for ch in 0..c {
                            gwp[ch] += (xr[m + ch] * ge[m + ch] + xe[m + ch] * gr[m + ch]) * s;
                        }
                    }
                }
                _ => {
                    let (oy, o3) = (self.pairs[path.pair].offset, self.irreps.offset(path.l[2]));
                    let coupling = cg
                        .get(path.k, path.l[2], path.out)
                        .expect("a path's coupling");
                    for &(i1, i2, i3, v) in &coupling.nonzero {
                        let ((yr, ye), (xr, xe)) =
                            (y.rows(row_range(oy, i1, c)), a.rows(row_range(o3, i2, c)));
                        let (gr, ge) = gb.rows(row_range(ob, i3, c));
                        let f = s * v;
                        for ch in 0..c {
                            let pr = yr[ch] * xr[ch];
                            let pe = yr[ch] * xe[ch] + ye[ch] * xr[ch];
                            gwp[ch] += (pr * ge[ch] + pe * gr[ch]) * f;
                        }
                    }
                }
            }
        }
        for (g, e) in gw.iter_mut().zip(ge_w) {
            g.eps = e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::equivariant::irreps::Irreps;

    fn duals(n: usize, seed: f64) -> Vec<Dual64> {
        (0..n)
            .map(|k| {
                let x = k as f64 + seed;
                Dual64::new((0.37 * x).sin(), (0.91 * x + 0.2).cos())
            })
            .collect()
    }

    fn close(a: &[Dual64], b: &[Dual64], what: &str) {
        assert_eq!(a.len(), b.len());
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x.re - y.re).abs() < 1e-12,
                "{what}[{k}] re: {} vs {}",
                x.re,
                y.re
            );
            assert!(
                (x.eps - y.eps).abs() < 1e-12,
                "{what}[{k}] ε: {} vs {}",
                x.eps,
                y.eps
            );
        }
    }

    /// Every step over planes gives what the generic loops give in dual numbers (the
    /// weight gradient: the same ε parts, its real parts untouched), to L = 3 and ν = 3.
    #[test]
    fn planar_steps_are_the_generic_loops_in_dual_numbers() {
        for (lmax, parity) in [(1, false), (2, true), (3, true), (3, false)] {
            let shape = ProductShape::new(Irreps { channels: 3, lmax }, 3, parity);
            let cg = ClebschGordan::new(lmax);
            let (c, n) = (shape.irreps.channels, shape.irreps.size());
            let w: Vec<f64> = duals(shape.paths.len() * c, 9.0)
                .iter()
                .map(|d| d.re)
                .collect();
            let (a, gb) = (duals(n, 0.5), duals(n, 3.5));
            let (mut y, mut y0) = (duals(shape.pair_len, 1.0), duals(shape.pair_len, 2.0));
            shape.pairs_of_planar(&cg, &a, &mut y);
            shape.pairs_of_loops(&cg, &a, &mut y0);
            close(&y, &y0, "pairs");
            let (mut b, mut b0) = (duals(n, 4.0), duals(n, 5.0));
            shape.forward_planar(&cg, &w, (&a, &y), &mut b);
            shape.forward_loops(&cg, &w, &a, &y, &mut b0);
            close(&b, &b0, "B");
            let (mut ga, mut ga0) = (duals(n, 6.0), duals(n, 6.0));
            shape.backward_planar(&cg, &w, (&a, &y), &gb, &mut ga);
            shape.backward_loops(&cg, &w, (&a, &y), &gb, &mut ga0);
            close(&ga, &ga0, "∂E/∂A");
            let m = shape.paths.len() * c;
            let (mut gw, mut gw0) = (duals(m, 7.0), duals(m, 7.0));
            shape.weight_grad_planar(&cg, (&a, &y), &gb, &mut gw);
            shape.weight_grad_loops(&cg, (&a, &y), &gb, &mut gw0);
            for (k, ((g, g0), start)) in gw.iter().zip(&gw0).zip(duals(m, 7.0)).enumerate() {
                assert_eq!(g.re, start.re, "∂E/∂w[{k}]: real part changed");
                assert!(
                    (g.eps - g0.eps).abs() < 1e-12,
                    "∂E/∂w[{k}] ε: {} vs {}",
                    g.eps,
                    g0.eps
                );
            }
        }
    }
}
