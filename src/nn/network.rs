//! Evaluation of the network on a graph of atoms and bonds: the forward pass (energy) and
//! the hand-written reverse pass giving ∂E/∂r for every edge, from which forces and the
//! virial follow exactly.
//!
//! Edges are directed: edge e of atom i points to a neighbour j, r_e = r_j − r_i, and
//! carries the message from j to i. Edges i→j and j→i share their radial weights (they
//! depend on |r| only) and Y_l(−r̂) = (−1)^l Y_l(r̂), so the reverse pass gathers what each
//! atom's features receive from its own edge list, without scattering.

use super::clebsch_gordan::{ClebschGordan, Coupling};
use super::mlp::MlpTape;
use super::model::{Layer, Model};
use super::radial::RadialBasis;
use super::spherical_harmonics::{dim, spherical_harmonics_with_gradient, total_dim};
use glam::DVec3;
use rayon::prelude::*;

/// Atoms (as model species indices) and their directed edges within the cutoff.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub species: Vec<usize>,
    /// Edges of atom i are `edge_start[i]..edge_start[i + 1]`.
    pub edge_start: Vec<usize>,
    pub neighbor: Vec<usize>,
    pub vector: Vec<DVec3>,
    /// The bond of each edge: i→j and j→i are one bond and share radial weights.
    pub bond: Vec<usize>,
    /// The two edges of each bond (the second is the reverse of the first).
    pub bond_edges: Vec<[usize; 2]>,
}

impl Graph {
    /// Number of atoms.
    pub fn atoms(&self) -> usize {
        self.species.len()
    }

    fn edges(&self, i: usize) -> std::ops::Range<usize> {
        self.edge_start[i]..self.edge_start[i + 1]
    }

    /// Pairs every edge with its reverse (j→i with the opposite vector), so that the radial
    /// network runs once per bond. An edge without a reverse (not from a full list) is a
    /// bond of its own.
    pub fn find_bonds(&mut self) {
        let e_total = self.vector.len();
        self.bond = vec![usize::MAX; e_total];
        self.bond_edges.clear();
        for i in 0..self.atoms() {
            for e in self.edges(i) {
                if self.bond[e] != usize::MAX {
                    continue;
                }
                let (j, r) = (self.neighbor[e], self.vector[e]);
                let tol = 1e-9 * (1.0 + r.length());
                let reverse = self.edges(j).find(|&f| {
                    f != e
                        && self.neighbor[f] == i
                        && self.bond[f] == usize::MAX
                        && (self.vector[f] + r).length() <= tol
                });
                let b = self.bond_edges.len();
                self.bond[e] = b;
                match reverse {
                    Some(f) => {
                        self.bond[f] = b;
                        self.bond_edges.push([e, f]);
                    }
                    None => self.bond_edges.push([e, e]),
                }
            }
        }
    }
}

/// Offsets of the blocks of one layer's tensors, per atom.
struct Layout {
    channels: usize,
    lmax: usize,
    /// Start of each path's message block.
    message: Vec<usize>,
    message_len: usize,
    /// Factor of the linear map from a path into its output degree l3: 1/√(C · paths into l3).
    down_scale: Vec<f64>,
}

impl Layout {
    fn new(model: &Model, layer: &Layer) -> Layout {
        let c = model.hyper.channels;
        let mut message = Vec::with_capacity(layer.paths.len());
        let mut at = 0;
        for p in &layer.paths {
            message.push(at);
            at += c * dim(p.l3);
        }
        let lmax = model.hyper.lmax;
        let down_scale = (0..=lmax)
            .map(|l| {
                let paths = layer.paths.iter().filter(|p| p.l3 == l).count();
                1.0 / ((c * paths) as f64).sqrt()
            })
            .collect();
        Layout {
            channels: c,
            lmax,
            message,
            message_len: at,
            down_scale,
        }
    }
    /// Features of degree ≤ l: C (l+1)².
    fn features(&self, lmax: usize) -> usize {
        self.channels * total_dim(lmax)
    }
    fn feature_offset(&self, l: usize) -> usize {
        self.channels * l * l
    }
    /// Pre-gate block l: block 0 holds C scalars and C gates per l ≥ 1.
    fn gate_offset(&self, l: usize) -> usize {
        let c = self.channels;
        if l == 0 {
            0
        } else {
            c * (1 + self.lmax) + c * (l * l - 1)
        }
    }
    fn gate_len(&self) -> usize {
        self.gate_offset(self.lmax + 1)
    }
}

/// Everything the reverse pass needs from the forward pass.
pub struct Tape {
    sh: Vec<f64>,
    sh_grad: Vec<DVec3>,
    basis_grad: Vec<f64>,
    layers: Vec<LayerTape>,
}

/// One layer's share of the tape: its up-projected features, radial weights (with the
/// MLP's activations) and pre-gate outputs.
struct LayerTape {
    up: Vec<f64>,
    radial: MlpTape,
    pre_gate: Vec<f64>,
}

/// The network's shared, weight-independent tables.
pub struct Evaluator {
    cg: ClebschGordan,
    basis: RadialBasis,
}

/// y[m][k] += s Σ_c W[k][c] x[m][c] for a block of `d` components, channels fastest.
fn linear(w: &[f64], rows: usize, cols: usize, x: &[f64], y: &mut [f64], d: usize, s: f64) {
    for m in 0..d {
        let xm = &x[m * cols..(m + 1) * cols];
        let ym = &mut y[m * rows..(m + 1) * rows];
        for (yk, wk) in ym.iter_mut().zip(w.chunks_exact(cols)) {
            let dot: f64 = wk.iter().zip(xm).map(|(a, b)| a * b).sum();
            *yk += s * dot;
        }
    }
}

/// x̄[m][c] += s Σ_k W[k][c] ȳ[m][k]: the transpose of `linear`.
fn linear_t(w: &[f64], rows: usize, cols: usize, gy: &[f64], gx: &mut [f64], d: usize, s: f64) {
    for m in 0..d {
        let gym = &gy[m * rows..(m + 1) * rows];
        let gxm = &mut gx[m * cols..(m + 1) * cols];
        for (&g, wk) in gym.iter().zip(w.chunks_exact(cols)) {
            let f = s * g;
            for (a, b) in gxm.iter_mut().zip(wk) {
                *a += f * b;
            }
        }
    }
}

fn silu(x: f64) -> (f64, f64) {
    let s = 1.0 / (1.0 + (-x).exp());
    (x * s, s * (1.0 + x * (1.0 - s)))
}

fn sigmoid(x: f64) -> (f64, f64) {
    let s = 1.0 / (1.0 + (-x).exp());
    (s, s * (1.0 - s))
}

impl Evaluator {
    /// Tables for `model` (Clebsch–Gordan coefficients, radial basis).
    pub fn new(model: &Model) -> Evaluator {
        Evaluator {
            cg: ClebschGordan::new(model.hyper.lmax),
            basis: RadialBasis::new(model.hyper.radial_basis, model.hyper.cutoff),
        }
    }

    fn coupling(&self, l1: usize, l2: usize, l3: usize) -> &Coupling {
        self.cg
            .get(l1, l2, l3)
            .expect("paths follow the triangle rule")
    }

    /// Atomic energies, and the tape for `backward`.
    pub fn forward(&self, model: &Model, graph: &Graph) -> (Vec<f64>, Tape) {
        let h = &model.hyper;
        let (c, lmax) = (h.channels, h.lmax);
        let n = graph.atoms();
        let n_edges = graph.vector.len();
        let n_sh = total_dim(lmax);
        let nb = h.radial_basis;

        // edge embedding: spherical harmonics and radial basis, with their derivatives
        let mut sh = vec![0.0; n_edges * n_sh];
        let mut sh_grad = vec![DVec3::ZERO; n_edges * n_sh];
        sh.par_chunks_mut(n_sh)
            .zip(sh_grad.par_chunks_mut(n_sh))
            .zip(graph.vector.par_iter())
            .for_each(|((y, gy), r)| spherical_harmonics_with_gradient(lmax, *r, y, gy));
        let n_bonds = graph.bond_edges.len();
        let mut basis = vec![0.0; n_bonds * nb];
        let mut basis_grad = vec![0.0; n_bonds * nb];
        basis
            .par_chunks_mut(nb)
            .zip(basis_grad.par_chunks_mut(nb))
            .zip(graph.bond_edges.par_iter())
            .for_each(|((b, gb), edges)| {
                self.basis.evaluate(graph.vector[edges[0]].length(), b, gb)
            });

        // embedding: scalars only
        let mut features = vec![0.0; n * c];
        for (i, &s) in graph.species.iter().enumerate() {
            features[i * c..(i + 1) * c].copy_from_slice(&model.embedding[s * c..(s + 1) * c]);
        }
        let norm = 1.0 / h.avg_neighbors.sqrt();
        let mut tapes = Vec::with_capacity(model.layers.len());
        for layer in &model.layers {
            let lay = Layout::new(model, layer);
            let (fin, fout) = (lay.features(layer.lmax_in), lay.features(lmax));
            let inv_c = 1.0 / (c as f64).sqrt();
            // 1. linear per degree
            let mut up = vec![0.0; n * fin];
            up.par_chunks_mut(fin)
                .zip(features.par_chunks(fin))
                .for_each(|(u, x)| {
                    for l in 0..=layer.lmax_in {
                        let (o, d) = (lay.feature_offset(l), dim(l));
                        let len = c * d;
                        linear(
                            &layer.up[l],
                            c,
                            c,
                            &x[o..o + len],
                            &mut u[o..o + len],
                            d,
                            inv_c,
                        );
                    }
                });
            // 2. radial weights per edge
            let mut radial = MlpTape::new();
            layer.radial.forward_batch(&basis, n_bonds, &mut radial);
            let weights = radial.output();
            let n_w = layer.paths.len() * c;
            // 3. convolution: messages gathered by each atom
            let mut message = vec![0.0; n * lay.message_len];
            message
                .par_chunks_mut(lay.message_len)
                .enumerate()
                .for_each(|(i, m)| {
                    for e in graph.edges(i) {
                        let j = graph.neighbor[e];
                        let y = &sh[e * n_sh..(e + 1) * n_sh];
                        let b = graph.bond[e];
                        let w = &weights[b * n_w..(b + 1) * n_w];
                        let hu = &up[j * fin..(j + 1) * fin];
                        for (p, path) in layer.paths.iter().enumerate() {
                            let cg = self.coupling(path.l1, path.l2, path.l3);
                            let d3 = dim(path.l3);
                            let x = &hu[lay.feature_offset(path.l1)..];
                            let yl = &y[path.l2 * path.l2..];
                            let mp = &mut m[lay.message[p]..lay.message[p] + c * d3];
                            let wp = &w[p * c..(p + 1) * c];
                            for &(i1, i2, i3, v) in &cg.nonzero {
                                let coef = norm * v * yl[i2 as usize];
                                let xs = &x[i1 as usize * c..(i1 as usize + 1) * c];
                                let ms = &mut mp[i3 as usize * c..(i3 as usize + 1) * c];
                                for ((m, &wc), &xc) in ms.iter_mut().zip(wp).zip(xs) {
                                    *m += wc * coef * xc;
                                }
                            }
                        }
                    }
                });
            // 4. linear per path, self-connection, gate
            let gl = lay.gate_len();
            let mut pre_gate = vec![0.0; n * gl];
            let mut next = vec![0.0; n * fout];
            pre_gate
                .par_chunks_mut(gl)
                .zip(next.par_chunks_mut(fout))
                .enumerate()
                .for_each(|(i, (o, out))| {
                    let m = &message[i * lay.message_len..(i + 1) * lay.message_len];
                    for (p, path) in layer.paths.iter().enumerate() {
                        let (l3, d3) = (path.l3, dim(path.l3));
                        let rows = h.out_channels(l3);
                        let s = lay.down_scale[l3];
                        let go = lay.gate_offset(l3);
                        let mp = &m[lay.message[p]..lay.message[p] + c * d3];
                        linear(
                            &layer.down[p],
                            rows,
                            c,
                            mp,
                            &mut o[go..go + rows * d3],
                            d3,
                            s,
                        );
                    }
                    let x = &features[i * fin..(i + 1) * fin];
                    let sc = &layer.self_connection[graph.species[i]];
                    for (l, w) in sc.iter().enumerate() {
                        let (d, rows) = (dim(l), h.out_channels(l));
                        let (fo, go) = (lay.feature_offset(l), lay.gate_offset(l));
                        linear(
                            w,
                            rows,
                            c,
                            &x[fo..fo + c * d],
                            &mut o[go..go + rows * d],
                            d,
                            inv_c,
                        );
                    }
                    for ch in 0..c {
                        out[ch] = silu(o[ch]).0;
                    }
                    for l in 1..=lmax {
                        let d = dim(l);
                        for ch in 0..c {
                            let g = sigmoid(o[c + (l - 1) * c + ch]).0;
                            for k in 0..d {
                                out[lay.feature_offset(l) + k * c + ch] =
                                    o[lay.gate_offset(l) + k * c + ch] * g;
                            }
                        }
                    }
                });
            features = next;
            tapes.push(LayerTape {
                up,
                radial,
                pre_gate,
            });
        }
        // readout of the scalars, scaled and shifted per species
        let fout = c * total_dim(lmax);
        let inv_c = 1.0 / (c as f64).sqrt();
        let energies = (0..n)
            .map(|i| {
                let s = graph.species[i];
                let x: f64 = (0..c)
                    .map(|ch| model.readout[ch] * features[i * fout + ch])
                    .sum();
                model.scale[s] * x * inv_c + model.shift[s]
            })
            .collect();
        let tape = Tape {
            sh,
            sh_grad,
            basis_grad,
            layers: tapes,
        };
        (energies, tape)
    }

    /// ∂E/∂r_e for every edge, E being the total energy of the forward pass.
    pub fn backward(&self, model: &Model, graph: &Graph, tape: &Tape) -> Vec<DVec3> {
        let h = &model.hyper;
        let (c, lmax) = (h.channels, h.lmax);
        let n = graph.atoms();
        let n_edges = graph.vector.len();
        let n_sh = total_dim(lmax);
        let nb = h.radial_basis;
        let norm = 1.0 / h.avg_neighbors.sqrt();
        let inv_c = 1.0 / (c as f64).sqrt();
        let fout = c * total_dim(lmax);

        // ∂E/∂(last features): only the scalars are read out
        let mut grad = vec![0.0; n * fout];
        for i in 0..n {
            let s = graph.species[i];
            for ch in 0..c {
                grad[i * fout + ch] = model.scale[s] * model.readout[ch] * inv_c;
            }
        }
        let mut grad_sh = vec![0.0; n_edges * n_sh];
        let n_bonds = graph.bond_edges.len();
        let mut grad_basis = vec![0.0; n_bonds * nb];
        for (layer, lt) in model.layers.iter().zip(&tape.layers).rev() {
            let lay = Layout::new(model, layer);
            let fin = lay.features(layer.lmax_in);
            let gl = lay.gate_len();
            let n_w = layer.paths.len() * c;
            // 4'. gate, self-connection and linear per path
            let mut grad_in = vec![0.0; n * fin];
            let mut grad_message = vec![0.0; n * lay.message_len];
            grad_in
                .par_chunks_mut(fin)
                .zip(grad_message.par_chunks_mut(lay.message_len))
                .enumerate()
                .for_each(|(i, (gx, gm))| {
                    let o = &lt.pre_gate[i * gl..(i + 1) * gl];
                    let gout = &grad[i * fout..(i + 1) * fout];
                    let mut go = vec![0.0; gl];
                    for ch in 0..c {
                        go[ch] = gout[ch] * silu(o[ch]).1;
                    }
                    for l in 1..=lmax {
                        let d = dim(l);
                        for ch in 0..c {
                            let gi = c + (l - 1) * c + ch;
                            let (g, dg) = sigmoid(o[gi]);
                            let mut gg = 0.0;
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
            // 3'a. per edge of atom i: ∂E/∂w_e and ∂E/∂Y_e
            let weights = lt.radial.output();
            let mut grad_w = vec![0.0; n_edges * n_w];
            let sh = &tape.sh;
            let up = &lt.up;
            let edge_chunks: Vec<(usize, &mut [f64], &mut [f64])> =
                split_by_atom(graph, &mut grad_w, n_w, &mut grad_sh, n_sh);
            edge_chunks.into_par_iter().for_each(|(i, gw_i, gy_i)| {
                let gm = &grad_message[i * lay.message_len..(i + 1) * lay.message_len];
                for (k, e) in graph.edges(i).enumerate() {
                    let j = graph.neighbor[e];
                    let y = &sh[e * n_sh..(e + 1) * n_sh];
                    let w = &weights[graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w];
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
                            let mut acc_y = 0.0;
                            for (((gwc, &wc), &xc), &gc) in gwp.iter_mut().zip(wp).zip(xs).zip(gs) {
                                let t = norm * v * xc * gc;
                                *gwc += t * yv;
                                acc_y += t * wc;
                            }
                            gy[o2 + i2 as usize] += acc_y;
                        }
                    }
                }
            });
            // 3'b. ∂E/∂(up features) of atom j, gathered over j's own edges (reversed)
            let mut grad_up = vec![0.0; n * fin];
            grad_up.par_chunks_mut(fin).enumerate().for_each(|(j, gu)| {
                for e in graph.edges(j) {
                    let i = graph.neighbor[e];
                    let y = &sh[e * n_sh..(e + 1) * n_sh];
                    let w = &weights[graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w];
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
                            let coef = sign * norm * v * y[o2 + i2 as usize];
                            let gs = &gmp[i3 as usize * c..(i3 as usize + 1) * c];
                            let gxs = &mut gx[i1 as usize * c..(i1 as usize + 1) * c];
                            for ((a, &wc), &gc) in gxs.iter_mut().zip(wp).zip(gs) {
                                *a += coef * wc * gc;
                            }
                        }
                    }
                }
            });
            // 2'. radial MLP, once per bond: ∂E/∂w of both directions, then ∂E/∂basis
            let mut grad_w_bond = vec![0.0; n_bonds * n_w];
            grad_w_bond
                .par_chunks_mut(n_w)
                .zip(graph.bond_edges.par_iter())
                .for_each(|(g, &[e, f])| {
                    g.copy_from_slice(&grad_w[e * n_w..(e + 1) * n_w]);
                    if f != e {
                        for (a, b) in g.iter_mut().zip(&grad_w[f * n_w..(f + 1) * n_w]) {
                            *a += b;
                        }
                    }
                });
            let mut gb = vec![0.0; n_bonds * nb];
            layer
                .radial
                .backward_batch(&lt.radial, &grad_w_bond, &mut gb, None);
            for (a, b) in grad_basis.iter_mut().zip(&gb) {
                *a += b;
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
}

/// Per-atom mutable views of two per-edge arrays (rows of `a` and `b` values per edge).
fn split_by_atom<'a>(
    graph: &Graph,
    mut x: &'a mut [f64],
    a: usize,
    mut y: &'a mut [f64],
    b: usize,
) -> Vec<(usize, &'a mut [f64], &'a mut [f64])> {
    let mut out = Vec::with_capacity(graph.atoms());
    for i in 0..graph.atoms() {
        let k = graph.edges(i).len();
        let (xi, xr) = std::mem::take(&mut x).split_at_mut(k * a);
        let (yi, yr) = std::mem::take(&mut y).split_at_mut(k * b);
        out.push((i, xi, yi));
        x = xr;
        y = yr;
    }
    out
}
