//! The reverse pass to the weights, for training: ∂E/∂θ of every weight
//! ([`Evaluator::backward_weights`]). It runs the steps of `reverse` from the
//! readout back to the embedding and, at each stage, the weight gradient of that stage.
//! Written over [`Real`]: in dual numbers its ε parts are the weight gradient of a
//! directional derivative (the force and stress terms of the loss, and the energy term
//! through the seeds' ε parts). Those are all training reads, so in dual numbers the
//! weight gradients of the linear maps, the product basis and the radial MLPs form only
//! their ε parts, and the real parts of `g` are not ∂E/∂θ.

use super::dense::{self, Block};
use super::graph::split_rows_by_atom;
use super::model::{Layer, Model};
use super::network::{Evaluator, Graph, LayerTape, Tape};
use super::parameters::{LayerOffsets, ParameterLayout};
use super::planar;
use super::readout::Readouts;
use super::reverse::{bond_sums, UpdateGrad};
use super::scalar::{Planes, Real};
use super::shape::LayerShape;
use super::spherical_harmonics::dim;
use rayon::prelude::*;

/// What the reverse pass to the weights starts from besides the energy's readouts: each
/// atom's weight in the energy, and a seed of the last features.
#[derive(Clone, Copy, Debug)]
pub struct Seeds<'a, T> {
    /// w_i: the pass gives ∂/∂θ Σ_i w_i E_i (None: every weight 1, the total energy). A
    /// batch of frames merged into one graph weights each frame's atoms alike.
    pub energy: Option<&'a [T]>,
    /// s, one value per last feature h: Σ s·h is added to the energy (the dipole head's
    /// share of a loss).
    pub last: Option<&'a [T]>,
}

impl Evaluator {
    /// ∂E/∂θ added into the flat gradient `g` laid out by `at`, E being the energy of a
    /// forward pass that kept what the weights need (`forward_with(.., true)`), its atoms
    /// weighted and its last features seeded as `seeds` says (in dual numbers: the ε
    /// parts only, see the module's documentation).
    pub fn backward_weights<T: Real>(
        &self,
        model: &Model,
        graph: &Graph,
        tape: &Tape<T>,
        at: &ParameterLayout,
        g: &mut [T],
        seeds: Seeds<T>,
    ) {
        let c = self.shape.hyper.channels;
        let readouts =
            Readouts::new(model, &graph.species, self.shape.channel_norm).weighted(seeds.energy);
        let mut grad = self.last_readout_seed(model, &readouts);
        if let Some(s) = seeds.last {
            for (a, &b) in grad.iter_mut().zip(s) {
                *a += b;
            }
        }
        let fout = c * self.shape.n_sh;
        readouts.weight_grad(&tape.last, fout, &mut g[at.readout..at.readout + c]);
        for (t, (layer, lt)) in model.layers.iter().zip(&tape.layers).enumerate().rev() {
            let (ls, off) = (&self.shape.layers[t], &at.layers[t]);
            let mut u = self.update_backward(layer, ls, graph, lt, &grad);
            self.update_weight_grad(ls, graph, lt, &u, off, g);
            let gw = &mut g[off.radial..off.radial + layer.radial.parameter_count()];
            let grad_up =
                self.convolve_backward_both((layer, ls), graph, (tape, lt), &u.message, gw);
            self.up_weight_grad(ls, lt, &grad_up, off, g);
            self.up_backward(layer, ls, &grad_up, &mut u.input);
            grad = u.input;
            // layer t − 1's readout, of the features that are layer t's input
            if let Some(p) = t.checked_sub(1) {
                if let Some(o) = at.layers[p].readout {
                    readouts.weight_grad(&lt.input, ls.input.size(), &mut g[o..o + c]);
                }
                readouts.seed(&model.layers[p].readout, ls.input.size(), &mut grad);
            }
        }
        for i in 0..graph.atoms() {
            let s = graph.species[i];
            for ch in 0..c {
                g[at.embedding + s * c + ch] += grad[i * c + ch];
            }
        }
    }

    /// 3' of a layer towards the weights: the gradient of its radial MLP's weights added
    /// into `gw`, and ∂E/∂(up-projected features) returned. In dual numbers both loops
    /// and the sums over bonds run over planes: the harmonics' from the forward pass, the
    /// radial MLP's output as its tape keeps it, and the messages' gradient split once.
    fn convolve_backward_both<T: Real>(
        &self,
        (layer, ls): (&Layer, &LayerShape),
        graph: &Graph,
        (tape, lt): (&Tape<T>, &LayerTape<T>),
        grad_message: &[T],
        gw: &mut [T],
    ) -> Vec<T> {
        let n_w = ls.radial_outputs();
        let duals = (T::as_duals(&lt.up), T::as_duals(grad_message));
        let planes = (tape.sh_planes.as_ref(), T::radial_planes(&lt.radial));
        if let ((Some(up), Some(gm)), (Some(sh), Some(w))) = (duals, planes) {
            let (up, gm) = (Planes::of(up), Planes::of(gm));
            let tables = (&self.shape, &self.cg);
            let grad_up =
                planar::convolve_backward_features(tables, ls, graph, (sh.view(), w, gm.view()));
            let grad_w = planar::convolve_backward_weights(
                tables,
                ls,
                graph,
                (sh.view(), up.view(), gm.view()),
            );
            let bonds = Planes {
                re: bond_sums(graph, &grad_w.re, n_w),
                eps: bond_sums(graph, &grad_w.eps, n_w),
            };
            T::radial_weight_grad(&layer.radial, &lt.radial, bonds.view(), gw);
            return T::from_duals(grad_up).expect("dual numbers in, dual numbers out");
        }
        let radial_w = T::radial_output(&lt.radial);
        let grad_w = self.convolve_backward_weights(ls, graph, &tape.sh, &lt.up, grad_message);
        let grad_up = self.convolve_backward_features(ls, graph, &tape.sh, &radial_w, grad_message);
        let grad_w_bond = bond_sums(graph, &grad_w, n_w);
        T::radial_backward(&layer.radial, &lt.radial, &grad_w_bond, None, Some(gw));
        grad_up
    }

    /// ∂E/∂(product-basis weights) of every atom and ∂E/∂(its maps to the outputs).
    fn product_weight_grad<T: Real>(
        &self,
        (ls, lt, u): (&LayerShape, &LayerTape<T>, &UpdateGrad<T>),
        graph: &Graph,
        off: &LayerOffsets,
        g: &mut [T],
    ) {
        let (Some(ps), Some(pt)) = (&ls.product, &lt.product) else {
            return;
        };
        let (c, size, gl, n) = (
            ls.input.channels,
            ps.irreps.size(),
            ls.gated.size(),
            graph.atoms(),
        );
        for (i, &s) in graph.species.iter().enumerate() {
            let range = i * size..(i + 1) * size;
            let (a, gb) = (&pt.a[range.clone()], &u.product_out[range]);
            let y = &pt.pairs[i * ps.pair_len..(i + 1) * ps.pair_len];
            let o = off.product[s];
            ps.weight_grad(&self.cg, (a, y), gb, &mut g[o..o + ps.paths.len() * c]);
        }
        for (l, &o) in off.mix.iter().enumerate() {
            let rows = ls.gated_rows(l);
            let bo = Block::new(ls.gated.offset(l), gl, n);
            let bb = Block::new(ps.irreps.offset(l), size, n);
            let gw = &mut g[o..o + rows * c];
            let norm = self.shape.channel_norm;
            dense::weight_grad(gw, (rows, c), dim(l), (&u.pre_gate, bo), (&pt.b, bb), norm);
        }
    }

    /// ∂E/∂(linear maps per path), ∂E/∂(self-connections) and the product basis's weight
    /// gradients, from what the update's reverse pass gave back.
    fn update_weight_grad<T: Real>(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        lt: &LayerTape<T>,
        u: &UpdateGrad<T>,
        off: &LayerOffsets,
        g: &mut [T],
    ) {
        let (c, n) = (ls.input.channels, graph.atoms());
        let (fin, gl, len) = (ls.input.size(), ls.gated.size(), ls.message_len);
        // the linear maps per path lead to the pre-gate outputs, or to A of the product basis
        let (into, into_len) = match &ls.product {
            Some(ps) => (&u.product_in, ps.irreps.size()),
            None => (&u.pre_gate, gl),
        };
        let offset = |l: usize| match &ls.product {
            Some(ps) => ps.irreps.offset(l),
            None => ls.gated.offset(l),
        };
        for (p, ins) in ls.instructions.iter().enumerate() {
            let (l3, d3) = (ins.path.l3, dim(ins.path.l3));
            let rows = ins.weight_shape[0];
            let gw = &mut g[off.down[p]..off.down[p] + rows * c];
            let (bi, bm) = (
                Block::new(offset(l3), into_len, n),
                Block::new(ins.message, len, n),
            );
            dense::weight_grad(
                gw,
                (rows, c),
                d3,
                (into, bi),
                (&lt.message, bm),
                ins.path_weight,
            );
        }
        self.product_weight_grad((ls, lt, u), graph, off, g);
        let norm = self.shape.channel_norm;
        for (s, i0, run) in dense::species_runs(&graph.species) {
            for (l, &o) in off.self_connection[s].iter().enumerate() {
                let rows = ls.self_connection[l][0];
                let bo = Block::new(ls.gated.offset(l), gl, n).atoms_from(i0, run);
                let bx = Block::new(ls.input.offset(l), fin, n).atoms_from(i0, run);
                let gw = &mut g[o..o + rows * c];
                dense::weight_grad(
                    gw,
                    (rows, c),
                    dim(l),
                    (&u.pre_gate, bo),
                    (&lt.input, bx),
                    norm,
                );
            }
        }
    }

    /// 3'a, towards the weights: ∂E/∂w_e per edge, each atom over its own edges.
    pub(super) fn convolve_backward_weights<T: Real>(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        sh: &[T],
        up: &[T],
        grad_message: &[T],
    ) -> Vec<T> {
        let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), self.shape.n_sh);
        let n_w = ls.radial_outputs();
        let norm = self.shape.message_norm;
        let mut grad_w = vec![T::from(0.0); graph.vector.len() * n_w];
        let edge_chunks = split_rows_by_atom(graph, &mut grad_w, n_w);
        edge_chunks.into_par_iter().for_each(|(i, gw_i)| {
            let gm = &grad_message[i * ls.message_len..(i + 1) * ls.message_len];
            for (k, e) in graph.edges(i).enumerate() {
                let j = graph.neighbor[e];
                let y = &sh[e * n_sh..(e + 1) * n_sh];
                let hu = &up[j * fin..(j + 1) * fin];
                let gw = &mut gw_i[k * n_w..(k + 1) * n_w];
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let path = ins.path;
                    let cg = self.coupling(path.l1, path.l2, path.l3);
                    let x = &hu[ls.input.offset(path.l1)..];
                    let o2 = path.l2 * path.l2;
                    let gmp = &gm[ins.message..ins.message + c * dim(path.l3)];
                    let gwp = &mut gw[p * c..(p + 1) * c];
                    for &(i1, i2, i3, v) in &cg.nonzero {
                        let coef = y[o2 + i2 as usize] * (norm * v);
                        let xs = &x[i1 as usize * c..(i1 as usize + 1) * c];
                        let gs = &gmp[i3 as usize * c..(i3 as usize + 1) * c];
                        for ((gwc, &xc), &gc) in gwp.iter_mut().zip(xs).zip(gs) {
                            *gwc += xc * gc * coef;
                        }
                    }
                }
            }
        });
        grad_w
    }

    /// ∂E/∂(linear maps per degree), from ∂E/∂(up-projected features).
    fn up_weight_grad<T: Real>(
        &self,
        ls: &LayerShape,
        lt: &LayerTape<T>,
        grad_up: &[T],
        off: &LayerOffsets,
        g: &mut [T],
    ) {
        let (c, fin) = (ls.input.channels, ls.input.size());
        let n = grad_up.len() / fin;
        for (l, &o) in off.up.iter().enumerate() {
            let b = Block::new(ls.input.offset(l), fin, n);
            let norm = self.shape.channel_norm;
            dense::weight_grad(
                &mut g[o..o + c * c],
                (c, c),
                dim(l),
                (grad_up, b),
                (&lt.input, b),
                norm,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::equivariant::model::Model;
    use crate::potential::equivariant::shape::Hyper;
    use glam::DVec3;
    use num_dual::Dual64;

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

    /// f(a, b, c) trilinear (each of the convolution's loops is, in its three inputs): its
    /// dual value is f(a_r, b_r, c_r) + ε[f(a_ε, b_r, c_r) + f(a_r, b_ε, c_r) +
    /// f(a_r, b_r, c_ε)], all from the generic loops in reals.
    fn check(
        got: &[Dual64],
        f: impl Fn(&[f64], &[f64], &[f64]) -> Vec<f64>,
        (a, b, c): (&[Dual64], &[Dual64], &[Dual64]),
    ) {
        let (a, b, c) = (Planes::of(a), Planes::of(b), Planes::of(c));
        let re = f(&a.re, &b.re, &c.re);
        let terms = [
            f(&a.eps, &b.re, &c.re),
            f(&a.re, &b.eps, &c.re),
            f(&a.re, &b.re, &c.eps),
        ];
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

    /// The planar loops (what the dual passes run) are the generic loops in dual numbers.
    #[test]
    fn planar_convolution_is_the_generic_one_in_dual_numbers() {
        let (ev, graph) = setup();
        let ls = &ev.shape.layers[1];
        let (edges, bonds, atoms) = (graph.vector.len(), graph.bond_edges.len(), graph.atoms());
        let sh = duals(edges * ev.shape.n_sh, 0.1);
        let up = duals(atoms * ls.input.size(), 2.3);
        let w = duals(bonds * ls.radial_outputs(), 4.5);
        let gm = duals(atoms * ls.message_len, 6.7);
        let tables = (&ev.shape, &ev.cg);
        let (shp, upp, wp, gmp) = (
            Planes::of(&sh),
            Planes::of(&up),
            Planes::of(&w),
            Planes::of(&gm),
        );
        let m = planar::convolve(tables, ls, &graph, (shp.view(), upp.view(), wp.view()));
        check(
            &m,
            |s, u, w| ev.convolve(ls, &graph, s, u, w),
            (&sh, &up, &w),
        );
        let planes = (shp.view(), wp.view(), gmp.view());
        let gu = planar::convolve_backward_features(tables, ls, &graph, planes);
        let f =
            |s: &[f64], w: &[f64], g: &[f64]| ev.convolve_backward_features(ls, &graph, s, w, g);
        check(&gu, f, (&sh, &w, &gm));
        let planes = (shp.view(), upp.view(), gmp.view());
        let gw = planar::convolve_backward_weights(tables, ls, &graph, planes).into_duals();
        let f = |s: &[f64], u: &[f64], g: &[f64]| ev.convolve_backward_weights(ls, &graph, s, u, g);
        check(&gw, f, (&sh, &up, &gm));
    }
}
