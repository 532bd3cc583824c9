//! The reverse pass: from the total energy back to every edge vector (∂E/∂r_e, for forces
//! and the virial) and, for training, to every weight (∂E/∂θ). Written over [`Real`], so the
//! same pass in dual numbers gives the weight gradient of a directional derivative.

use super::model::Model;
use super::network::{linear_t, linear_w, Evaluator, Graph, Layout, Tape};
use super::parameters::ParameterLayout;
use super::scalar::Real;
use super::spherical_harmonics::{dim, total_dim};
use glam::DVec3;
use rayon::prelude::*;

impl Evaluator {
    /// ∂E/∂r_e for every edge, E being the total energy of the forward pass.
    pub fn backward(&self, model: &Model, graph: &Graph, tape: &Tape) -> Vec<DVec3> {
        let h = &model.hyper;
        let n_edges = graph.vector.len();
        let n_sh = total_dim(h.lmax);
        let nb = h.radial_basis;
        let (grad_sh, grad_basis) = self.reverse(model, graph, tape, None);
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

    /// ∂E/∂Y per edge and ∂E/∂B per bond (the latter only without `weights`) and, with
    /// `weights`, ∂E/∂θ added into the flat gradient laid out by the [`ParameterLayout`].
    pub fn reverse<T: Real>(
        &self,
        model: &Model,
        graph: &Graph,
        tape: &Tape<T>,
        mut weights: Option<(&ParameterLayout, &mut [T])>,
    ) -> (Vec<T>, Vec<T>) {
        let h = &model.hyper;
        let zero = T::from(0.0);
        let (c, lmax) = (h.channels, h.lmax);
        let n = graph.atoms();
        let n_edges = graph.vector.len();
        let n_sh = total_dim(lmax);
        let nb = h.radial_basis;
        let norm = 1.0 / h.avg_neighbors.sqrt();
        let inv_c = 1.0 / (c as f64).sqrt();
        let fout = c * total_dim(lmax);

        // ∂E/∂(last features): only the scalars are read out
        let mut grad = vec![zero; n * fout];
        for i in 0..n {
            let s = graph.species[i];
            for ch in 0..c {
                grad[i * fout + ch] = T::from(model.scale[s] * model.readout[ch] * inv_c);
            }
        }
        if let Some((at, g)) = weights.as_mut() {
            for i in 0..n {
                let f = model.scale[graph.species[i]] * inv_c;
                for ch in 0..c {
                    g[at.readout + ch] += tape.last[i * fout + ch] * f;
                }
            }
        }
        let mut grad_sh = vec![zero; n_edges * n_sh];
        let n_bonds = graph.bond_edges.len();
        let mut grad_basis = vec![zero; n_bonds * nb];
        for (t, (layer, lt)) in model.layers.iter().zip(&tape.layers).enumerate().rev() {
            let lay = Layout::new(model, layer);
            let fin = lay.features(layer.lmax_in);
            let gl = lay.gate_len();
            let n_w = layer.paths.len() * c;
            // 4'. gate, self-connection and linear per path
            let mut grad_in = vec![zero; n * fin];
            let mut grad_message = vec![zero; n * lay.message_len];
            let mut grad_pre = vec![zero; n * gl];
            grad_in
                .par_chunks_mut(fin)
                .zip(grad_message.par_chunks_mut(lay.message_len))
                .zip(grad_pre.par_chunks_mut(gl))
                .enumerate()
                .for_each(|(i, ((gx, gm), go))| {
                    let o = &lt.pre_gate[i * gl..(i + 1) * gl];
                    let gout = &grad[i * fout..(i + 1) * fout];
                    for ch in 0..c {
                        go[ch] = gout[ch] * o[ch].silu().1;
                    }
                    for l in 1..=lmax {
                        let d = dim(l);
                        for ch in 0..c {
                            let gi = c + (l - 1) * c + ch;
                            let (g, dg) = o[gi].sigmoid();
                            let mut gg = zero;
                            for k in 0..d {
                                let fo = lay.feature_offset(l) + k * c + ch;
                                let po = lay.gate_offset(l) + k * c + ch;
                                go[po] = gout[fo] * g;
                                gg += gout[fo] * o[po];
                            }
                            go[gi] = gg * dg;
                        }
                    }
                    for (p, path) in layer.paths.iter().enumerate() {
                        let (l3, d3) = (path.l3, dim(path.l3));
                        let rows = h.out_channels(l3);
                        let s = lay.down_scale[l3];
                        let po = lay.gate_offset(l3);
                        let gmp = &mut gm[lay.message[p]..lay.message[p] + c * d3];
                        linear_t(&layer.down[p], rows, c, &go[po..po + rows * d3], gmp, d3, s);
                    }
                    let sc = &layer.self_connection[graph.species[i]];
                    for (l, w) in sc.iter().enumerate() {
                        let (d, rows) = (dim(l), h.out_channels(l));
                        let (fo, po) = (lay.feature_offset(l), lay.gate_offset(l));
                        linear_t(
                            w,
                            rows,
                            c,
                            &go[po..po + rows * d],
                            &mut gx[fo..fo + c * d],
                            d,
                            inv_c,
                        );
                    }
                });
            if let Some((at, g)) = weights.as_mut() {
                let off = &at.layers[t];
                for i in 0..n {
                    let go = &grad_pre[i * gl..(i + 1) * gl];
                    let m = &lt.message[i * lay.message_len..(i + 1) * lay.message_len];
                    for (p, path) in layer.paths.iter().enumerate() {
                        let (l3, d3) = (path.l3, dim(path.l3));
                        let rows = h.out_channels(l3);
                        let po = lay.gate_offset(l3);
                        let gw = &mut g[off.down[p]..off.down[p] + rows * c];
                        let mp = &m[lay.message[p]..lay.message[p] + c * d3];
                        linear_w(
                            gw,
                            rows,
                            c,
                            &go[po..po + rows * d3],
                            mp,
                            d3,
                            lay.down_scale[l3],
                        );
                    }
                    let x = &lt.input[i * fin..(i + 1) * fin];
                    for (l, &o) in off.self_connection[graph.species[i]].iter().enumerate() {
                        let (d, rows) = (dim(l), h.out_channels(l));
                        let (fo, po) = (lay.feature_offset(l), lay.gate_offset(l));
                        let gw = &mut g[o..o + rows * c];
                        linear_w(
                            gw,
                            rows,
                            c,
                            &go[po..po + rows * d],
                            &x[fo..fo + c * d],
                            d,
                            inv_c,
                        );
                    }
                }
            }
            // 3'a. per edge of atom i: ∂E/∂w_e and (towards positions) ∂E/∂Y_e
            let to_positions = weights.is_none();
            let radial_w = T::radial_output(&lt.radial);
            let mut grad_w = vec![zero; n_edges * n_w];
            let sh = &tape.sh;
            let up = &lt.up;
            let edge_chunks: Vec<(usize, &mut [T], &mut [T])> =
                split_by_atom(graph, &mut grad_w, n_w, &mut grad_sh, n_sh);
            edge_chunks.into_par_iter().for_each(|(i, gw_i, gy_i)| {
                let gm = &grad_message[i * lay.message_len..(i + 1) * lay.message_len];
                for (k, e) in graph.edges(i).enumerate() {
                    let j = graph.neighbor[e];
                    let y = &sh[e * n_sh..(e + 1) * n_sh];
                    let w = &radial_w[graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w];
                    let hu = &up[j * fin..(j + 1) * fin];
                    let gw = &mut gw_i[k * n_w..(k + 1) * n_w];
                    let gy = &mut gy_i[k * n_sh..(k + 1) * n_sh];
                    for (p, path) in layer.paths.iter().enumerate() {
                        let cg = self.coupling(path.l1, path.l2, path.l3);
                        let d3 = dim(path.l3);
                        let x = &hu[lay.feature_offset(path.l1)..];
                        let o2 = path.l2 * path.l2;
                        let gmp = &gm[lay.message[p]..lay.message[p] + c * d3];
                        let wp = &w[p * c..(p + 1) * c];
                        let gwp = &mut gw[p * c..(p + 1) * c];
                        for &(i1, i2, i3, v) in &cg.nonzero {
                            let yv = y[o2 + i2 as usize];
                            let xs = &x[i1 as usize * c..(i1 as usize + 1) * c];
                            let gs = &gmp[i3 as usize * c..(i3 as usize + 1) * c];
                            let f = norm * v;
                            if !to_positions {
                                for ((gwc, &xc), &gc) in gwp.iter_mut().zip(xs).zip(gs) {
                                    *gwc += xc * gc * f * yv;
                                }
                                continue;
                            }
                            let mut acc_y = zero;
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
            // 3'b. ∂E/∂(up features) of atom j, gathered over j's own edges (reversed)
            let mut grad_up = vec![zero; n * fin];
            grad_up.par_chunks_mut(fin).enumerate().for_each(|(j, gu)| {
                for e in graph.edges(j) {
                    let i = graph.neighbor[e];
                    let y = &sh[e * n_sh..(e + 1) * n_sh];
                    let w = &radial_w[graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w];
                    let gm = &grad_message[i * lay.message_len..(i + 1) * lay.message_len];
                    for (p, path) in layer.paths.iter().enumerate() {
                        let cg = self.coupling(path.l1, path.l2, path.l3);
                        let d3 = dim(path.l3);
                        let sign = if path.l2 % 2 == 0 { 1.0 } else { -1.0 };
                        let o2 = path.l2 * path.l2;
                        let gmp = &gm[lay.message[p]..lay.message[p] + c * d3];
                        let gx = &mut gu[lay.feature_offset(path.l1)..];
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
            // 2'. radial MLP, once per bond: ∂E/∂w of both directions, then ∂E/∂basis
            let mut grad_w_bond = vec![zero; n_bonds * n_w];
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
            match weights.as_mut() {
                Some((at, g)) => {
                    let o = at.layers[t].radial;
                    let gw = &mut g[o..o + layer.radial.parameter_count()];
                    T::radial_backward(&layer.radial, &lt.radial, &grad_w_bond, None, Some(gw));
                }
                None => {
                    let mut gb = vec![zero; n_bonds * nb];
                    T::radial_backward(
                        &layer.radial,
                        &lt.radial,
                        &grad_w_bond,
                        Some(&mut gb),
                        None,
                    );
                    for (a, &b) in grad_basis.iter_mut().zip(&gb) {
                        *a += b;
                    }
                }
            }
            if let Some((at, g)) = weights.as_mut() {
                for i in 0..n {
                    let gu = &grad_up[i * fin..(i + 1) * fin];
                    let x = &lt.input[i * fin..(i + 1) * fin];
                    for (l, &o) in at.layers[t].up.iter().enumerate() {
                        let (fo, d) = (lay.feature_offset(l), dim(l));
                        let len = c * d;
                        linear_w(
                            &mut g[o..o + c * c],
                            c,
                            c,
                            &gu[fo..fo + len],
                            &x[fo..fo + len],
                            d,
                            inv_c,
                        );
                    }
                }
            }
            // 1'. linear per degree
            grad_in
                .par_chunks_mut(fin)
                .zip(grad_up.par_chunks(fin))
                .for_each(|(gx, gu)| {
                    for l in 0..=layer.lmax_in {
                        let (o, d) = (lay.feature_offset(l), dim(l));
                        let len = c * d;
                        linear_t(
                            &layer.up[l],
                            c,
                            c,
                            &gu[o..o + len],
                            &mut gx[o..o + len],
                            d,
                            inv_c,
                        );
                    }
                });
            grad = grad_in;
        }
        if let Some((at, g)) = weights.as_mut() {
            for i in 0..n {
                let s = graph.species[i];
                for ch in 0..c {
                    g[at.embedding + s * c + ch] += grad[i * c + ch];
                }
            }
        }
        (grad_sh, grad_basis)
    }
}

/// Per-atom mutable views of two per-edge arrays (rows of `a` and `b` values per edge).
fn split_by_atom<'a, T>(
    graph: &Graph,
    mut x: &'a mut [T],
    a: usize,
    mut y: &'a mut [T],
    b: usize,
) -> Vec<(usize, &'a mut [T], &'a mut [T])> {
    let mut out = Vec::with_capacity(graph.atoms());
    for i in 0..graph.atoms() {
        let k = graph.edge_start[i + 1] - graph.edge_start[i];
        let (xi, xr) = std::mem::take(&mut x).split_at_mut(k * a);
        let (yi, yr) = std::mem::take(&mut y).split_at_mut(k * b);
        out.push((i, xi, yi));
        x = xr;
        y = yr;
    }
    out
}
