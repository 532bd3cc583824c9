//! The convolution's channel loops in dual numbers, over separate real and ε planes.
//!
//! Dual numbers lie in memory as (re, ε) pairs, and every vector operation on them first
//! shuffles the two apart. The convolution's loops (the forward pass and both reverse
//! passes to the weights) multiply three duals per channel for every coupling entry of
//! every edge: split once into planes per pass, they run as plain real loops. Each is the
//! same as its generic counterpart in `network`, `reverse` and `reverse_weights`, term by
//! term: for acc += (a·b)·k, re += (a_r b_r) k_r and ε += (a_r b_ε + a_ε b_r) k_r +
//! (a_r b_r) k_ε.

use super::network::{Evaluator, Graph};
use super::reverse::split_rows_by_atom;
use super::shape::LayerShape;
use num_dual::Dual64;
use rayon::prelude::*;

/// A slice of dual numbers as its real and ε planes.
pub(super) struct Planes {
    re: Vec<f64>,
    eps: Vec<f64>,
}

impl Planes {
    pub(super) fn of(x: &[Dual64]) -> Planes {
        Planes {
            re: x.iter().map(|d| d.re).collect(),
            eps: x.iter().map(|d| d.eps).collect(),
        }
    }

    fn zeros(n: usize) -> Planes {
        Planes {
            re: vec![0.0; n],
            eps: vec![0.0; n],
        }
    }

    fn into_duals(self) -> Vec<Dual64> {
        (self.re.into_iter().zip(self.eps))
            .map(|(r, e)| Dual64::new(r, e))
            .collect()
    }

    /// Rows `range` of both planes.
    fn rows(&self, start: usize, len: usize) -> (&[f64], &[f64]) {
        (&self.re[start..start + len], &self.eps[start..start + len])
    }
}

/// acc += (a ⊙ b)·k for rows of channels, in planes (`k` one dual number).
#[inline(always)]
fn triple(
    (acc_r, acc_e): (&mut [f64], &mut [f64]),
    (a_r, a_e): (&[f64], &[f64]),
    (b_r, b_e): (&[f64], &[f64]),
    (k_r, k_e): (f64, f64),
) {
    let n = acc_r.len();
    let (acc_e, a_r, a_e, b_r, b_e) = (&mut acc_e[..n], &a_r[..n], &a_e[..n], &b_r[..n], &b_e[..n]);
    for ch in 0..n {
        let p_r = a_r[ch] * b_r[ch];
        let p_e = a_r[ch] * b_e[ch] + a_e[ch] * b_r[ch];
        acc_r[ch] += p_r * k_r;
        acc_e[ch] += p_e * k_r + p_r * k_e;
    }
}

impl Evaluator {
    /// [`convolve`](Evaluator::convolve) in dual numbers.
    pub(super) fn convolve_planar(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        (sh, up, weights): (&Planes, &Planes, &Planes),
    ) -> Vec<Dual64> {
        let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), self.shape.n_sh);
        let n_w = ls.radial_outputs();
        let norm = self.shape.message_norm;
        let len = ls.message_len;
        let mut message = Planes::zeros(graph.atoms() * len);
        (message.re.par_chunks_mut(len))
            .zip(message.eps.par_chunks_mut(len))
            .enumerate()
            .for_each(|(i, (m_r, m_e))| {
                for e in graph.edges(i) {
                    let j = graph.neighbor[e];
                    let (y_r, y_e) = sh.rows(e * n_sh, n_sh);
                    let (w_r, w_e) = weights.rows(graph.bond[e] * n_w, n_w);
                    let (u_r, u_e) = up.rows(j * fin, fin);
                    for (p, ins) in ls.instructions.iter().enumerate() {
                        let path = ins.path;
                        let cg = self.coupling(path.l1, path.l2, path.l3);
                        let (o1, o2) = (ls.input.offset(path.l1), path.l2 * path.l2);
                        let w = (&w_r[p * c..(p + 1) * c], &w_e[p * c..(p + 1) * c]);
                        for &(i1, i2, i3, v) in &cg.nonzero {
                            let f = norm * v;
                            let k = (y_r[o2 + i2 as usize] * f, y_e[o2 + i2 as usize] * f);
                            let xo = o1 + i1 as usize * c;
                            let x = (&u_r[xo..xo + c], &u_e[xo..xo + c]);
                            let mo = ins.message + i3 as usize * c;
                            let acc = (&mut m_r[mo..mo + c], &mut m_e[mo..mo + c]);
                            triple(acc, w, x, k);
                        }
                    }
                }
            });
        message.into_duals()
    }

    /// [`convolve_backward_features`](Evaluator::convolve_backward_features) in dual
    /// numbers.
    pub(super) fn convolve_backward_features_planar(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        (sh, radial_w, grad_message): (&Planes, &Planes, &Planes),
    ) -> Vec<Dual64> {
        let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), self.shape.n_sh);
        let n_w = ls.radial_outputs();
        let norm = self.shape.message_norm;
        let len = ls.message_len;
        let mut grad_up = Planes::zeros(graph.atoms() * fin);
        (grad_up.re.par_chunks_mut(fin))
            .zip(grad_up.eps.par_chunks_mut(fin))
            .enumerate()
            .for_each(|(j, (g_r, g_e))| {
                for e in graph.edges(j) {
                    let i = graph.neighbor[e];
                    let (y_r, y_e) = sh.rows(e * n_sh, n_sh);
                    let (w_r, w_e) = radial_w.rows(graph.bond[e] * n_w, n_w);
                    let (gm_r, gm_e) = grad_message.rows(i * len, len);
                    for (p, ins) in ls.instructions.iter().enumerate() {
                        let path = ins.path;
                        let cg = self.coupling(path.l1, path.l2, path.l3);
                        let sign = if path.l2 % 2 == 0 { 1.0 } else { -1.0 };
                        let (o1, o2) = (ls.input.offset(path.l1), path.l2 * path.l2);
                        let w = (&w_r[p * c..(p + 1) * c], &w_e[p * c..(p + 1) * c]);
                        for &(i1, i2, i3, v) in &cg.nonzero {
                            let f = sign * norm * v;
                            let k = (y_r[o2 + i2 as usize] * f, y_e[o2 + i2 as usize] * f);
                            let go = ins.message + i3 as usize * c;
                            let g = (&gm_r[go..go + c], &gm_e[go..go + c]);
                            let xo = o1 + i1 as usize * c;
                            let acc = (&mut g_r[xo..xo + c], &mut g_e[xo..xo + c]);
                            triple(acc, w, g, k);
                        }
                    }
                }
            });
        grad_up.into_duals()
    }

    /// [`convolve_backward_weights`](Evaluator::convolve_backward_weights) in dual
    /// numbers.
    pub(super) fn convolve_backward_weights_planar(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        (sh, up, grad_message): (&Planes, &Planes, &Planes),
    ) -> Vec<Dual64> {
        let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), self.shape.n_sh);
        let n_w = ls.radial_outputs();
        let norm = self.shape.message_norm;
        let len = ls.message_len;
        let mut grad_w = Planes::zeros(graph.vector.len() * n_w);
        let rows_r = split_rows_by_atom(graph, &mut grad_w.re, n_w);
        let rows_e = split_rows_by_atom(graph, &mut grad_w.eps, n_w);
        (rows_r.into_par_iter().zip(rows_e)).for_each(|((i, gw_r), (_, gw_e))| {
            let (gm_r, gm_e) = grad_message.rows(i * len, len);
            for (k, e) in graph.edges(i).enumerate() {
                let j = graph.neighbor[e];
                let (y_r, y_e) = sh.rows(e * n_sh, n_sh);
                let (u_r, u_e) = up.rows(j * fin, fin);
                let gw_r = &mut gw_r[k * n_w..(k + 1) * n_w];
                let gw_e = &mut gw_e[k * n_w..(k + 1) * n_w];
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let path = ins.path;
                    let cg = self.coupling(path.l1, path.l2, path.l3);
                    let (o1, o2) = (ls.input.offset(path.l1), path.l2 * path.l2);
                    let (acc_r, acc_e) =
                        (&mut gw_r[p * c..(p + 1) * c], &mut gw_e[p * c..(p + 1) * c]);
                    for &(i1, i2, i3, v) in &cg.nonzero {
                        let f = norm * v;
                        let k = (y_r[o2 + i2 as usize] * f, y_e[o2 + i2 as usize] * f);
                        let xo = o1 + i1 as usize * c;
                        let x = (&u_r[xo..xo + c], &u_e[xo..xo + c]);
                        let go = ins.message + i3 as usize * c;
                        let g = (&gm_r[go..go + c], &gm_e[go..go + c]);
                        triple((&mut *acc_r, &mut *acc_e), x, g, k);
                    }
                }
            }
        });
        grad_w.into_duals()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::equivariant::model::Model;
    use crate::potential::equivariant::shape::Hyper;
    use glam::DVec3;

    /// Four atoms, every pair within reach, and a model of two layers to L = 2.
    fn setup() -> (Evaluator, Graph) {
        let hyper = Hyper {
            species: vec!["H".into(), "C".into()],
            lmax: 2,
            channels: 4,
            layers: 2,
            cutoff: 5.0,
            radial_basis: 4,
            radial_hidden: vec![8],
            parity: false,
            avg_neighbors: 3.0,
            correlation: 1,
            layer_readouts: false,
            dipole: None,
        };
        let model = Model::random(hyper, 3);
        let at = [
            DVec3::ZERO,
            DVec3::new(1.1, 0.2, -0.3),
            DVec3::new(-0.4, 1.3, 0.5),
            DVec3::new(0.6, -0.7, 1.2),
        ];
        let mut graph = Graph {
            species: vec![0, 1, 1, 0],
            edge_start: vec![0],
            ..Graph::default()
        };
        for (i, a) in at.iter().enumerate() {
            for (j, b) in at.iter().enumerate().filter(|&(j, _)| j != i) {
                graph.neighbor.push(j);
                graph.vector.push(*b - *a);
            }
            graph.edge_start.push(graph.neighbor.len());
        }
        graph.find_bonds();
        (Evaluator::new(&model), graph)
    }

    fn duals(n: usize, seed: f64) -> Vec<Dual64> {
        (0..n)
            .map(|k| {
                let x = k as f64 + seed;
                Dual64::new((0.7 * x).sin(), (1.3 * x + 0.4).cos())
            })
            .collect()
    }

    fn parts(x: &[Dual64]) -> (Vec<f64>, Vec<f64>) {
        (
            x.iter().map(|d| d.re).collect(),
            x.iter().map(|d| d.eps).collect(),
        )
    }

    /// f(a, b, c) trilinear: its dual value is f(a_r, b_r, c_r) + ε[f(a_ε, b_r, c_r) +
    /// f(a_r, b_ε, c_r) + f(a_r, b_r, c_ε)], all from the generic loops in reals.
    fn check(
        got: &[Dual64],
        f: impl Fn(&[f64], &[f64], &[f64]) -> Vec<f64>,
        (a, b, c): (&[Dual64], &[Dual64], &[Dual64]),
    ) {
        let ((ar, ae), (br, be), (cr, ce)) = (parts(a), parts(b), parts(c));
        let re = f(&ar, &br, &cr);
        let terms = [f(&ae, &br, &cr), f(&ar, &be, &cr), f(&ar, &br, &ce)];
        assert_eq!(got.len(), re.len());
        for (k, g) in got.iter().enumerate() {
            let eps: f64 = terms.iter().map(|t| t[k]).sum();
            assert!(
                (g.re - re[k]).abs() < 1e-12,
                "re[{k}]: {} vs {}",
                g.re,
                re[k]
            );
            assert!((g.eps - eps).abs() < 1e-12, "ε[{k}]: {} vs {eps}", g.eps);
        }
    }

    #[test]
    fn planar_loops_are_the_generic_ones_in_dual_numbers() {
        let (ev, graph) = setup();
        let ls = &ev.shape.layers[1];
        let (edges, bonds, atoms) = (graph.vector.len(), graph.bond_edges.len(), graph.atoms());
        let sh = duals(edges * ev.shape.n_sh, 0.1);
        let up = duals(atoms * ls.input.size(), 2.3);
        let w = duals(bonds * ls.radial_outputs(), 4.5);
        let gm = duals(atoms * ls.message_len, 6.7);
        let m = ev.convolve(ls, &graph, &sh, &up, &w);
        check(
            &m,
            |s, u, w| ev.convolve(ls, &graph, s, u, w),
            (&sh, &up, &w),
        );
        let gu = ev.convolve_backward_features(ls, &graph, &sh, &w, &gm);
        let f =
            |s: &[f64], w: &[f64], g: &[f64]| ev.convolve_backward_features(ls, &graph, s, w, g);
        check(&gu, f, (&sh, &w, &gm));
        let gw = ev.convolve_backward_weights(ls, &graph, &sh, &up, &gm);
        let f = |s: &[f64], u: &[f64], g: &[f64]| ev.convolve_backward_weights(ls, &graph, s, u, g);
        check(&gw, f, (&sh, &up, &gm));
    }
}
