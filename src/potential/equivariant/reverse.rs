//! The reverse pass: from the total energy back to every edge vector (∂E/∂r_e, for forces
//! and the virial; [`Evaluator::backward`]), one helper per stage of the forward pass taken
//! in reverse (readout, gate and linear maps, convolution, radial MLP, linear map per
//! degree). The pass to the weights ([`Evaluator::backward_weights`], in
//! [`super::reverse_weights`]) runs the same steps. Written over [`Real`], so that pass in
//! dual numbers gives the weight gradient of a directional derivative.

use super::dense::{self, Block};
use super::graph::split_rows_by_atom;
use super::model::{Layer, Model};
use super::network::{Evaluator, Graph, LayerTape, ProductTape, Tape, ATOMS_PER_BLOCK};
use super::readout::Readouts;
use super::scalar::Real;
use super::shape::LayerShape;
use super::spherical_harmonics::dim;
use glam::DVec3;
use rayon::prelude::*;

/// What the gate and linear maps give back: ∂E/∂(pre-gate outputs), ∂E/∂messages and
/// ∂E/∂(input features) through the self-connection; with a product basis, ∂E/∂B and
/// ∂E/∂A on the way (empty without).
pub(super) struct UpdateGrad<T> {
    pub(super) pre_gate: Vec<T>,
    pub(super) message: Vec<T>,
    pub(super) input: Vec<T>,
    pub(super) product_out: Vec<T>,
    pub(super) product_in: Vec<T>,
}

impl Evaluator {
    /// ∂E/∂r_e for every edge, E being the total energy of the forward pass.
    pub fn backward(&self, model: &Model, graph: &Graph, tape: &Tape) -> Vec<DVec3> {
        self.backward_weighted(model, graph, tape, None)
    }

    /// ∂E/∂r_e for every edge, E being Σ_i w_i E_i over the atoms' energies of the forward
    /// pass (`atom_weight` w, one per atom; None: every weight 1, the total energy).
    pub fn backward_weighted(
        &self,
        model: &Model,
        graph: &Graph,
        tape: &Tape,
        atom_weight: Option<&[f64]>,
    ) -> Vec<DVec3> {
        let n_edges = graph.vector.len();
        let n_sh = self.shape.n_sh;
        let nb = model.hyper.radial_basis;
        let (grad_sh, grad_basis) = self.reverse_to_embedding(model, graph, tape, atom_weight);
        // edge vectors: through the spherical harmonics, and through the bond length on the
        // first edge of each bond (it moves both atoms, so once per bond is all of it)
        (0..n_edges)
            .into_par_iter()
            .map(|e| {
                let r = graph.vector[e];
                let mut g = DVec3::ZERO;
                for m in 0..n_sh {
                    g += tape.sh_grad[e * n_sh + m] * grad_sh[e * n_sh + m];
                }
                let b = graph.bond[e];
                if graph.bond_edges[b][0] == e {
                    let dr: f64 = (0..nb)
                        .map(|k| grad_basis[b * nb + k] * tape.basis_grad[b * nb + k])
                        .sum();
                    let len = r.length();
                    if len > 0.0 {
                        g += r * (dr / len);
                    }
                }
                g
            })
            .collect()
    }

    /// ∂E/∂Y per edge and ∂E/∂B per bond.
    fn reverse_to_embedding(
        &self,
        model: &Model,
        graph: &Graph,
        tape: &Tape,
        atom_weight: Option<&[f64]>,
    ) -> (Vec<f64>, Vec<f64>) {
        let nb = model.hyper.radial_basis;
        let readouts =
            Readouts::new(model, &graph.species, self.shape.channel_norm).weighted(atom_weight);
        let mut grad = self.last_readout_seed(model, &readouts);
        let mut grad_sh = vec![0.0; graph.vector.len() * self.shape.n_sh];
        let mut grad_basis = vec![0.0; graph.bond_edges.len() * nb];
        for (t, (layer, lt)) in model.layers.iter().zip(&tape.layers).enumerate().rev() {
            let ls = &self.shape.layers[t];
            let mut u = self.update_backward(layer, ls, graph, lt, &grad);
            let radial_w = &f64::radial_output(&lt.radial);
            let grad_w = self.convolve_backward_positions(
                ls,
                graph,
                (&tape.sh, &lt.up, radial_w),
                &u.message,
                &mut grad_sh,
            );
            let grad_up =
                self.convolve_backward_features(ls, graph, &tape.sh, radial_w, &u.message);
            let grad_w_bond = bond_sums(graph, &grad_w, ls.radial_outputs());
            let mut gb = vec![0.0; grad_basis.len()];
            f64::radial_backward(&layer.radial, &lt.radial, &grad_w_bond, Some(&mut gb), None);
            for (a, &b) in grad_basis.iter_mut().zip(&gb) {
                *a += b;
            }
            self.up_backward(layer, ls, &grad_up, &mut u.input);
            grad = u.input;
            if let Some(p) = t.checked_sub(1) {
                readouts.seed(&model.layers[p].readout, ls.input.size(), &mut grad);
            }
        }
        (grad_sh, grad_basis)
    }

    /// ∂E/∂(last features) from the model's readout: only the scalars are read out.
    pub(super) fn last_readout_seed<T: Real>(
        &self,
        model: &Model,
        readouts: &Readouts<T>,
    ) -> Vec<T> {
        let fout = self.shape.hyper.channels * self.shape.n_sh;
        let mut grad = vec![T::from(0.0); readouts.atoms() * fout];
        readouts.seed(&model.readout, fout, &mut grad);
        grad
    }

    /// 4'. From ∂E/∂(output features) of every atom: through the gate to the pre-gate
    /// outputs, then through the linear maps per path to the messages and through the
    /// self-connection to the input features.
    pub(super) fn update_backward<T: Real>(
        &self,
        layer: &Layer,
        ls: &LayerShape,
        graph: &Graph,
        lt: &LayerTape<T>,
        grad: &[T],
    ) -> UpdateGrad<T> {
        let n = graph.atoms();
        let c = ls.input.channels;
        let (fin, fout, gl) = (ls.input.size(), ls.output.size(), ls.gated.size());
        let zero = T::from(0.0);
        let mut u = UpdateGrad {
            pre_gate: vec![zero; n * gl],
            message: vec![zero; n * ls.message_len],
            input: vec![zero; n * fin],
            product_out: Vec::new(),
            product_in: Vec::new(),
        };
        let (len, norm) = (ls.message_len, self.shape.channel_norm);
        u.input
            .par_chunks_mut(ATOMS_PER_BLOCK * fin)
            .zip(u.message.par_chunks_mut(ATOMS_PER_BLOCK * len))
            .zip(u.pre_gate.par_chunks_mut(ATOMS_PER_BLOCK * gl))
            .enumerate()
            .for_each(|(k, ((gx, gm), go))| {
                let (first, atoms) = (k * ATOMS_PER_BLOCK, go.len() / gl);
                let o = &lt.pre_gate[first * gl..(first + atoms) * gl];
                let gout = &grad[first * fout..(first + atoms) * fout];
                for ((o, gout), go) in
                    (o.chunks_exact(gl).zip(gout.chunks_exact(fout))).zip(go.chunks_exact_mut(gl))
                {
                    gate_backward(ls, o, gout, go);
                }
                let from = |l: usize| Block::new(ls.gated.offset(l), gl, atoms);
                if ls.product.is_none() {
                    for (p, ins) in ls.instructions.iter().enumerate() {
                        let (l3, d3) = (ins.path.l3, dim(ins.path.l3));
                        let (bm, shape) = (
                            Block::new(ins.message, len, atoms),
                            (ins.weight_shape[0], c),
                        );
                        let w = &layer.down[p];
                        dense::apply_t(
                            w,
                            shape,
                            d3,
                            (&*go, from(l3)),
                            (&mut *gm, bm),
                            ins.path_weight,
                        );
                    }
                }
                let species = &graph.species[first..first + atoms];
                for (s, i0, run) in dense::species_runs(species) {
                    for (l, w) in layer.self_connection[s].iter().enumerate() {
                        let bx = Block::new(ls.input.offset(l), fin, atoms).atoms_from(i0, run);
                        let shape = (ls.self_connection[l][0], c);
                        let bo = from(l).atoms_from(i0, run);
                        dense::apply_t(w, shape, dim(l), (&*go, bo), (&mut *gx, bx), norm);
                    }
                }
            });
        if let Some(pt) = &lt.product {
            self.product_backward(layer, ls, graph, pt, &mut u);
        }
        u
    }

    /// 4'b. Through the product basis of every atom: ∂E/∂B from ∂E/∂(pre-gate outputs),
    /// ∂E/∂A from ∂E/∂B, ∂E/∂messages from ∂E/∂A.
    fn product_backward<T: Real>(
        &self,
        layer: &Layer,
        ls: &LayerShape,
        graph: &Graph,
        pt: &ProductTape<T>,
        u: &mut UpdateGrad<T>,
    ) {
        let ps = ls.product.as_ref().expect("a layer with a product basis");
        let (c, size, gl) = (ls.input.channels, ps.irreps.size(), ls.gated.size());
        let (n, zero) = (graph.atoms(), T::from(0.0));
        u.product_out = vec![zero; n * size];
        u.product_in = vec![zero; n * size];
        let (len, norm) = (ls.message_len, self.shape.channel_norm);
        (u.product_out.par_chunks_mut(ATOMS_PER_BLOCK * size))
            .zip(u.product_in.par_chunks_mut(ATOMS_PER_BLOCK * size))
            .zip(u.message.par_chunks_mut(ATOMS_PER_BLOCK * len))
            .enumerate()
            .for_each(|(k, ((gb, ga), gm))| {
                let (first, atoms) = (k * ATOMS_PER_BLOCK, gb.len() / size);
                let go = &u.pre_gate[first * gl..(first + atoms) * gl];
                for (l, w) in layer.mix.iter().enumerate() {
                    let bo = Block::new(ls.gated.offset(l), gl, atoms);
                    let bb = Block::new(ps.irreps.offset(l), size, atoms);
                    let shape = (ls.gated_rows(l), c);
                    dense::apply_t(w, shape, dim(l), (go, bo), (&mut *gb, bb), norm);
                }
                for i in first..first + atoms {
                    let a = &pt.a[i * size..(i + 1) * size];
                    let y = &pt.pairs[i * ps.pair_len..(i + 1) * ps.pair_len];
                    let w = &layer.product[graph.species[i]];
                    let r = (i - first) * size..(i - first + 1) * size;
                    ps.backward(&self.cg, w, (a, y), &gb[r.clone()], &mut ga[r]);
                }
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let (l3, d3) = (ins.path.l3, dim(ins.path.l3));
                    let ba = Block::new(ps.irreps.offset(l3), size, atoms);
                    let bm = Block::new(ins.message, len, atoms);
                    let w = &layer.down[p];
                    dense::apply_t(w, (c, c), d3, (&*ga, ba), (&mut *gm, bm), ins.path_weight);
                }
            });
    }

    /// 3'a, towards positions: ∂E/∂w_e per edge (returned) and ∂E/∂Y_e per edge (added into
    /// `grad_sh`), each atom over its own edges. `inputs` are the spherical harmonics, the
    /// up-projected features and the radial weights of the forward pass.
    fn convolve_backward_positions(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        inputs: (&[f64], &[f64], &[f64]),
        grad_message: &[f64],
        grad_sh: &mut [f64],
    ) -> Vec<f64> {
        let (sh, up, radial_w) = inputs;
        let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), self.shape.n_sh);
        let n_w = ls.radial_outputs();
        let norm = self.shape.message_norm;
        let mut grad_w = vec![0.0; graph.vector.len() * n_w];
        let edge_chunks = split_by_atom(graph, &mut grad_w, n_w, grad_sh, n_sh);
        edge_chunks.into_par_iter().for_each(|(i, gw_i, gy_i)| {
            let gm = &grad_message[i * ls.message_len..(i + 1) * ls.message_len];
            for (k, e) in graph.edges(i).enumerate() {
                let j = graph.neighbor[e];
                let y = &sh[e * n_sh..(e + 1) * n_sh];
                let w = &radial_w[graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w];
                let hu = &up[j * fin..(j + 1) * fin];
                let gw = &mut gw_i[k * n_w..(k + 1) * n_w];
                let gy = &mut gy_i[k * n_sh..(k + 1) * n_sh];
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let path = ins.path;
                    let cg = self.coupling(path.l1, path.l2, path.l3);
                    let x = &hu[ls.input.offset(path.l1)..];
                    let o2 = path.l2 * path.l2;
                    let gmp = &gm[ins.message..ins.message + c * dim(path.l3)];
                    let wp = &w[p * c..(p + 1) * c];
                    let gwp = &mut gw[p * c..(p + 1) * c];
                    for &(i1, i2, i3, v) in &cg.nonzero {
                        let yv = y[o2 + i2 as usize];
                        let xs = &x[i1 as usize * c..(i1 as usize + 1) * c];
                        let gs = &gmp[i3 as usize * c..(i3 as usize + 1) * c];
                        let f = norm * v;
                        let mut acc_y = 0.0;
                        for (((gwc, &wc), &xc), &gc) in gwp.iter_mut().zip(wp).zip(xs).zip(gs) {
                            let t = xc * gc * f;
                            *gwc += t * yv;
                            acc_y += t * wc;
                        }
                        gy[o2 + i2 as usize] += acc_y;
                    }
                }
            }
        });
        grad_w
    }

    /// 3'b. ∂E/∂(up-projected features) of every atom j, gathered over j's own edges (the
    /// reverse of each edge that carried j's features, Y_l(−r̂) = (−1)^l Y_l(r̂)).
    pub(super) fn convolve_backward_features<T: Real>(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        sh: &[T],
        radial_w: &[T],
        grad_message: &[T],
    ) -> Vec<T> {
        let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), self.shape.n_sh);
        let n_w = ls.radial_outputs();
        let norm = self.shape.message_norm;
        let mut grad_up = vec![T::from(0.0); graph.atoms() * fin];
        grad_up.par_chunks_mut(fin).enumerate().for_each(|(j, gu)| {
            for e in graph.edges(j) {
                let i = graph.neighbor[e];
                let y = &sh[e * n_sh..(e + 1) * n_sh];
                let w = &radial_w[graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w];
                let gm = &grad_message[i * ls.message_len..(i + 1) * ls.message_len];
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let path = ins.path;
                    let cg = self.coupling(path.l1, path.l2, path.l3);
                    let sign = if path.l2 % 2 == 0 { 1.0 } else { -1.0 };
                    let o2 = path.l2 * path.l2;
                    let gmp = &gm[ins.message..ins.message + c * dim(path.l3)];
                    let gx = &mut gu[ls.input.offset(path.l1)..];
                    let wp = &w[p * c..(p + 1) * c];
                    for &(i1, i2, i3, v) in &cg.nonzero {
                        let coef = y[o2 + i2 as usize] * (sign * norm * v);
                        let gs = &gmp[i3 as usize * c..(i3 as usize + 1) * c];
                        let gxs = &mut gx[i1 as usize * c..(i1 as usize + 1) * c];
                        for ((a, &wc), &gc) in gxs.iter_mut().zip(wp).zip(gs) {
                            *a += wc * gc * coef;
                        }
                    }
                }
            }
        });
        grad_up
    }

    /// 1'. Through the linear map per degree: ∂E/∂(input features) gains what the
    /// up-projected features received.
    pub(super) fn up_backward<T: Real>(
        &self,
        layer: &Layer,
        ls: &LayerShape,
        grad_up: &[T],
        grad_in: &mut [T],
    ) {
        let (c, fin) = (ls.input.channels, ls.input.size());
        grad_in
            .par_chunks_mut(ATOMS_PER_BLOCK * fin)
            .zip(grad_up.par_chunks(ATOMS_PER_BLOCK * fin))
            .for_each(|(gx, gu)| {
                let n = gu.len() / fin;
                for l in 0..=ls.input.lmax {
                    let b = Block::new(ls.input.offset(l), fin, n);
                    let norm = self.shape.channel_norm;
                    dense::apply_t(&layer.up[l], (c, c), dim(l), (gu, b), (&mut *gx, b), norm);
                }
            });
    }
}

/// Through the gate of one atom: ∂E/∂(pre-gate outputs) `go` from its pre-gate outputs `o`
/// and ∂E/∂(output features) `gout` (SiLU on the scalars, sigmoid gates on l ≥ 1).
fn gate_backward<T: Real>(ls: &LayerShape, o: &[T], gout: &[T], go: &mut [T]) {
    let c = ls.input.channels;
    for ch in 0..c {
        go[ch] = gout[ch] * o[ch].silu().1;
    }
    for l in 1..=ls.output.lmax {
        for ch in 0..c {
            let gi = ls.gated.gates(l) + ch;
            let (g, dg) = o[gi].sigmoid();
            let mut gg = T::from(0.0);
            for k in 0..dim(l) {
                let fo = ls.output.offset(l) + k * c + ch;
                let po = ls.gated.offset(l) + k * c + ch;
                go[po] = gout[fo] * g;
                gg += gout[fo] * o[po];
            }
            go[gi] = gg * dg;
        }
    }
}

/// 2'. ∂E/∂(radial weights) per bond: the sum over its two edges.
pub(super) fn bond_sums<T: Real>(graph: &Graph, grad_w: &[T], n_w: usize) -> Vec<T> {
    let mut grad_w_bond = vec![T::from(0.0); graph.bond_edges.len() * n_w];
    grad_w_bond
        .par_chunks_mut(n_w)
        .zip(graph.bond_edges.par_iter())
        .for_each(|(g, &[e, f])| {
            g.copy_from_slice(&grad_w[e * n_w..(e + 1) * n_w]);
            if f != e {
                for (a, &b) in g.iter_mut().zip(&grad_w[f * n_w..(f + 1) * n_w]) {
                    *a += b;
                }
            }
        });
    grad_w_bond
}

/// Per-atom mutable views of two per-edge arrays (rows of `a` and `b` values per edge).
fn split_by_atom<'a, T>(
    graph: &Graph,
    x: &'a mut [T],
    a: usize,
    y: &'a mut [T],
    b: usize,
) -> Vec<(usize, &'a mut [T], &'a mut [T])> {
    let xs = split_rows_by_atom(graph, x, a);
    let ys = split_rows_by_atom(graph, y, b);
    (xs.into_iter().zip(ys))
        .map(|((i, xi), (_, yi))| (i, xi, yi))
        .collect()
}
