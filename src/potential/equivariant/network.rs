//! Evaluation of the network on a graph of atoms and bonds: the edge embedding and the
//! forward pass (energy), in any [`Real`]; the hand-written reverse pass that gives ∂E/∂r
//! for every edge (forces, virial) and ∂E/∂θ (training) is in `reverse`.
//!
//! Edges are directed: edge e of atom i points to a neighbour j, r_e = r_j − r_i, and
//! carries the message from j to i. Edges i→j and j→i share their radial weights (they
//! depend on |r| only) and Y_l(−r̂) = (−1)^l Y_l(r̂), so the reverse pass gathers what each
//! atom's features receive from its own edge list, without scattering.

use super::clebsch_gordan::{ClebschGordan, Coupling};
use super::dense::{self, Block};
pub use super::graph::Graph;
use super::mlp::MlpTape;
use super::model::{Layer, Model};
use super::planar;
use super::radial::RadialBasis;
use super::readout::read_out;
use super::scalar::{Planes, Real};
use super::shape::{LayerShape, Shape};
use super::spherical_harmonics::{dim, spherical_harmonics_with_gradient};
use glam::DVec3;
use rayon::prelude::*;

/// Atoms per parallel block of the linear maps: each block's maps are matrix products
/// over its atoms, and blocks run on the thread pool.
pub(super) const ATOMS_PER_BLOCK: usize = 64;

/// Everything the reverse pass needs from the forward pass.
pub struct Tape<T: Real = f64> {
    pub(super) sh: Vec<T>,
    /// The harmonics as real and ε planes, in a dual pass (what its convolutions read).
    pub(super) sh_planes: Option<Planes>,
    /// ∂Y/∂r per edge and ∂B/∂r per bond: only for the reverse pass to positions.
    pub(super) sh_grad: Vec<DVec3>,
    pub(super) basis_grad: Vec<f64>,
    pub(super) layers: Vec<LayerTape<T>>,
    /// The last features (kept for the gradient of the readout and for the dipole head).
    pub(super) last: Vec<T>,
}

impl<T: Real> Tape<T> {
    /// Every layer's radial MLP pass, for a dual pass over the same graph and model to
    /// reuse ([`Evaluator::forward_with`]).
    pub fn into_radial(self) -> Vec<T::RadialTape> {
        self.layers.into_iter().map(|l| l.radial).collect()
    }

    /// The last layer's features, C·(L+1)² per atom (what the readouts read); empty unless
    /// the pass was for the weights or the model has a dipole head.
    pub fn last(&self) -> &[T] {
        &self.last
    }
}

/// One layer's share of the tape: its up-projected features, radial weights (with the
/// MLP's activations) and pre-gate outputs; its input and messages when the reverse pass
/// goes to the weights.
pub(super) struct LayerTape<T: Real> {
    pub(super) input: Vec<T>,
    pub(super) up: Vec<T>,
    pub(super) radial: T::RadialTape,
    pub(super) message: Vec<T>,
    pub(super) pre_gate: Vec<T>,
    pub(super) product: Option<ProductTape<T>>,
}

/// What a layer's product basis keeps for the reverse pass, per atom: its input A, the pair
/// products of A and its output B.
pub(super) struct ProductTape<T: Real> {
    pub(super) a: Vec<T>,
    pub(super) pairs: Vec<T>,
    pub(super) b: Vec<T>,
}

/// The network's shape and its shared, weight-independent tables: what every pass over a
/// model of that shape reads besides the weights.
pub struct Evaluator {
    pub(super) shape: Shape,
    pub(super) cg: ClebschGordan,
    pub(super) basis: RadialBasis,
}

/// The edge embedding in real numbers, with the derivatives forces need.
pub struct Embedding {
    /// Spherical harmonics Y_lm(r̂_e), `[edges × (L+1)²]`.
    pub sh: Vec<f64>,
    /// ∂Y_lm/∂r_e, same shape.
    pub sh_grad: Vec<DVec3>,
    /// Radial basis B_k(|r|) of the first edge of every bond, `[bonds × basis]`.
    pub basis: Vec<f64>,
    /// dB_k/d|r|, same shape.
    pub basis_grad: Vec<f64>,
}

impl Evaluator {
    /// The shape and tables of `model` (Clebsch–Gordan coefficients, radial basis), for
    /// passes over it or any model of the same hyper-parameters.
    pub fn new(model: &Model) -> Evaluator {
        Evaluator {
            shape: model.shape(),
            cg: ClebschGordan::new(model.hyper.lmax),
            basis: RadialBasis::new(model.hyper.radial_basis, model.hyper.cutoff),
        }
    }

    pub(super) fn coupling(&self, l1: usize, l2: usize, l3: usize) -> &Coupling {
        self.cg
            .get(l1, l2, l3)
            .expect("paths follow the triangle rule")
    }

    /// Spherical harmonics of every edge and the radial basis of every bond, with their
    /// derivatives.
    pub fn embed(&self, model: &Model, graph: &Graph) -> Embedding {
        let lmax = model.hyper.lmax;
        let n_sh = self.shape.n_sh;
        let nb = model.hyper.radial_basis;
        let n_edges = graph.vector.len();
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
        Embedding {
            sh,
            sh_grad,
            basis,
            basis_grad,
        }
    }

    /// Atomic energies, and the tape for `backward`.
    pub fn forward(&self, model: &Model, graph: &Graph) -> (Vec<f64>, Tape) {
        let emb = self.embed(model, graph);
        let (energies, mut tape) =
            self.forward_with(model, graph, (emb.sh, &emb.basis), false, None);
        tape.sh_grad = emb.sh_grad;
        tape.basis_grad = emb.basis_grad;
        (energies, tape)
    }

    /// [`forward`](Self::forward) from an embedding already computed (training reuses it).
    pub fn forward_embedded(
        &self,
        model: &Model,
        graph: &Graph,
        emb: &Embedding,
    ) -> (Vec<f64>, Tape) {
        let (energies, mut tape) =
            self.forward_with(model, graph, (emb.sh.clone(), &emb.basis), false, None);
        tape.sh_grad = emb.sh_grad.clone();
        tape.basis_grad = emb.basis_grad.clone();
        (energies, tape)
    }

    /// The forward pass over a given edge embedding, in any [`Real`]; `for_weights` keeps
    /// what the reverse pass to the weights needs. `radial`, when given, holds every
    /// layer's radial MLP already run over the real parts of `basis` (the real pass
    /// before a dual one: [`Tape::into_radial`]), which is then not run again.
    pub fn forward_with<T: Real>(
        &self,
        model: &Model,
        graph: &Graph,
        (sh, basis): (Vec<T>, &[T]),
        for_weights: bool,
        radial: Option<Vec<MlpTape>>,
    ) -> (Vec<T>, Tape<T>) {
        let shape = &self.shape;
        let c = shape.hyper.channels;
        let n = graph.atoms();
        let zero = T::from(0.0);

        // embedding: scalars only
        let mut features = vec![zero; n * c];
        for (i, &s) in graph.species.iter().enumerate() {
            for (f, &e) in features[i * c..(i + 1) * c]
                .iter_mut()
                .zip(&model.embedding[s * c..(s + 1) * c])
            {
                *f = T::from(e);
            }
        }
        let sh_planes = T::as_duals(&sh).map(Planes::of);
        let mut tapes = Vec::with_capacity(model.layers.len());
        let mut done = radial.map(Vec::into_iter);
        // Σ h·r of every atom over the layers read out (scaled and shifted at the end)
        let mut read = vec![zero; n];
        for (layer, ls) in model.layers.iter().zip(&shape.layers) {
            let up = self.up(layer, ls, &features);
            let mut radial = T::RadialTape::default();
            match done.as_mut().and_then(Iterator::next) {
                Some(real) => T::radial_forward_after(&layer.radial, real, basis, &mut radial),
                None => {
                    T::radial_forward(&layer.radial, basis, graph.bond_edges.len(), &mut radial)
                }
            }
            let message = self.convolve_layer(ls, graph, (&sh, sh_planes.as_ref()), &up, &radial);
            let product = self.product(layer, ls, graph, &message);
            let (pre_gate, next) =
                self.update(layer, ls, graph, (&message, product.as_ref()), &features);
            read_out(&layer.readout, &next, ls.output.size(), &mut read);
            let input = std::mem::replace(&mut features, next);
            let keep = |v: Vec<T>| if for_weights { v } else { Vec::new() };
            tapes.push(LayerTape {
                input: keep(input),
                up,
                radial,
                message: keep(message),
                pre_gate,
                product,
            });
        }
        // readout of the scalars, scaled and shifted per species
        read_out(&model.readout, &features, c * shape.n_sh, &mut read);
        let inv_c = shape.channel_norm;
        let energies = (read.iter().zip(&graph.species))
            .map(|(&x, &s)| x * (model.scale[s] * inv_c) + model.shift[s])
            .collect();
        let tape = Tape {
            sh,
            sh_planes,
            sh_grad: Vec::new(),
            basis_grad: Vec::new(),
            layers: tapes,
            // kept for the reverse pass to the weights and for the dipole head
            last: if for_weights || model.hyper.dipole.is_some() {
                features
            } else {
                Vec::new()
            },
        };
        (energies, tape)
    }
}

/// The forward steps of one interaction layer.
impl Evaluator {
    /// Step 1, the linear map per degree of every atom's input features.
    fn up<T: Real>(&self, layer: &Layer, ls: &LayerShape, features: &[T]) -> Vec<T> {
        let (c, fin) = (ls.input.channels, ls.input.size());
        let mut up = vec![T::from(0.0); features.len()];
        up.par_chunks_mut(ATOMS_PER_BLOCK * fin)
            .zip(features.par_chunks(ATOMS_PER_BLOCK * fin))
            .for_each(|(u, x)| {
                let n = x.len() / fin;
                for l in 0..=ls.input.lmax {
                    let b = Block::new(ls.input.offset(l), fin, n);
                    let norm = self.shape.channel_norm;
                    dense::apply(&layer.up[l], (c, c), dim(l), (x, b), (u, b), norm);
                }
            });
        up
    }

    /// Step 3 as the forward pass runs it: in dual numbers over the harmonics' planes,
    /// computed once per pass, and the radial MLP's output planes, as it keeps them.
    fn convolve_layer<T: Real>(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        (sh, sh_planes): (&[T], Option<&Planes>),
        up: &[T],
        radial: &T::RadialTape,
    ) -> Vec<T> {
        let planes = (sh_planes, T::as_duals(up), T::radial_planes(radial));
        if let (Some(sh), Some(up), Some(w)) = planes {
            let up = Planes::of(up);
            let planes = (sh.view(), up.view(), w);
            let m = planar::convolve((&self.shape, &self.cg), ls, graph, planes);
            return T::from_duals(m).expect("dual numbers in, dual numbers out");
        }
        self.convolve(ls, graph, sh, up, &T::radial_output(radial))
    }

    /// Step 3, the convolution: the messages each atom gathers from its own edges, every path
    /// coupling the neighbour's up-projected features with the bond's spherical harmonics,
    /// weighted per channel by the bond's radial weights (dual passes run it over planes:
    /// [`convolve_layer`](Self::convolve_layer)).
    pub(super) fn convolve<T: Real>(
        &self,
        ls: &LayerShape,
        graph: &Graph,
        sh: &[T],
        up: &[T],
        weights: &[T],
    ) -> Vec<T> {
        let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), self.shape.n_sh);
        let n_w = ls.radial_outputs();
        let norm = self.shape.message_norm;
        let mut message = vec![T::from(0.0); graph.atoms() * ls.message_len];
        message
            .par_chunks_mut(ls.message_len)
            .enumerate()
            .for_each(|(i, m)| {
                for e in graph.edges(i) {
                    let j = graph.neighbor[e];
                    let y = &sh[e * n_sh..(e + 1) * n_sh];
                    let b = graph.bond[e];
                    let w = &weights[b * n_w..(b + 1) * n_w];
                    let hu = &up[j * fin..(j + 1) * fin];
                    for (p, ins) in ls.instructions.iter().enumerate() {
                        let path = ins.path;
                        let cg = self.coupling(path.l1, path.l2, path.l3);
                        let x = &hu[ls.input.offset(path.l1)..];
                        let yl = &y[path.l2 * path.l2..];
                        let mp = &mut m[ins.message..ins.message + c * dim(path.l3)];
                        let wp = &w[p * c..(p + 1) * c];
                        for &(i1, i2, i3, v) in &cg.nonzero {
                            let coef = yl[i2 as usize] * (norm * v);
                            let xs = &x[i1 as usize * c..(i1 as usize + 1) * c];
                            let ms = &mut mp[i3 as usize * c..(i3 as usize + 1) * c];
                            for ((m, &wc), &xc) in ms.iter_mut().zip(wp).zip(xs) {
                                *m += wc * xc * coef;
                            }
                        }
                    }
                }
            });
        message
    }

    /// Step 4 of a layer with a product basis: the linear maps per path give each atom's A,
    /// then its pair products and B with its species' weights.
    fn product<T: Real>(
        &self,
        layer: &Layer,
        ls: &LayerShape,
        graph: &Graph,
        message: &[T],
    ) -> Option<ProductTape<T>> {
        let ps = ls.product.as_ref()?;
        let (c, n, size) = (ls.input.channels, graph.atoms(), ps.irreps.size());
        let zero = T::from(0.0);
        let mut tape = ProductTape {
            a: vec![zero; n * size],
            pairs: vec![zero; n * ps.pair_len],
            b: vec![zero; n * size],
        };
        let len = ls.message_len;
        (tape.a.par_chunks_mut(ATOMS_PER_BLOCK * size))
            .zip(
                tape.pairs
                    .par_chunks_mut(ATOMS_PER_BLOCK * ps.pair_len.max(1)),
            )
            .zip(tape.b.par_chunks_mut(ATOMS_PER_BLOCK * size))
            .zip(message.par_chunks(ATOMS_PER_BLOCK * len))
            .zip(graph.species.par_chunks(ATOMS_PER_BLOCK))
            .for_each(|((((a, y), b), m), species)| {
                let n = species.len();
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let (l3, d3) = (ins.path.l3, dim(ins.path.l3));
                    let (bm, ba) = (
                        Block::new(ins.message, len, n),
                        Block::new(ps.irreps.offset(l3), size, n),
                    );
                    dense::apply(
                        &layer.down[p],
                        (c, c),
                        d3,
                        (m, bm),
                        (&mut *a, ba),
                        ins.path_weight,
                    );
                }
                for (k, &s) in species.iter().enumerate() {
                    let ak = &a[k * size..(k + 1) * size];
                    let yk = &mut y[k * ps.pair_len..(k + 1) * ps.pair_len];
                    ps.pairs_of(&self.cg, ak, yk);
                    let bk = &mut b[k * size..(k + 1) * size];
                    ps.forward(&self.cg, &layer.product[s], ak, yk, bk);
                }
            });
        Some(tape)
    }

    /// Step 5, the linear map per path (or per degree from the product basis) into the
    /// outputs, the species' self-connection of the input features, then the gate: the
    /// pre-gate outputs (kept for the reverse pass) and the layer's output features.
    fn update<T: Real>(
        &self,
        layer: &Layer,
        ls: &LayerShape,
        graph: &Graph,
        (message, product): (&[T], Option<&ProductTape<T>>),
        features: &[T],
    ) -> (Vec<T>, Vec<T>) {
        let c = ls.input.channels;
        let (fin, fout, gl) = (ls.input.size(), ls.output.size(), ls.gated.size());
        let n = graph.atoms();
        let mut pre_gate = vec![T::from(0.0); n * gl];
        let mut next = vec![T::from(0.0); n * fout];
        let (len, norm) = (ls.message_len, self.shape.channel_norm);
        let size = ls.output.size();
        pre_gate
            .par_chunks_mut(ATOMS_PER_BLOCK * gl)
            .zip(next.par_chunks_mut(ATOMS_PER_BLOCK * fout))
            .enumerate()
            .for_each(|(k, (o, out))| {
                let (first, atoms) = (k * ATOMS_PER_BLOCK, o.len() / gl);
                let into = |l: usize| Block::new(ls.gated.offset(l), gl, atoms);
                if let Some(pt) = product {
                    let b = &pt.b[first * size..(first + atoms) * size];
                    for (l, w) in layer.mix.iter().enumerate() {
                        let bb = Block::new(ls.output.offset(l), size, atoms);
                        let shape = (ls.gated_rows(l), c);
                        dense::apply(w, shape, dim(l), (b, bb), (&mut *o, into(l)), norm);
                    }
                } else {
                    let m = &message[first * len..(first + atoms) * len];
                    for (p, ins) in ls.instructions.iter().enumerate() {
                        let (l3, d3) = (ins.path.l3, dim(ins.path.l3));
                        let (bm, shape) = (
                            Block::new(ins.message, len, atoms),
                            (ins.weight_shape[0], c),
                        );
                        dense::apply(
                            &layer.down[p],
                            shape,
                            d3,
                            (m, bm),
                            (&mut *o, into(l3)),
                            ins.path_weight,
                        );
                    }
                }
                let x = &features[first * fin..(first + atoms) * fin];
                let species = &graph.species[first..first + atoms];
                for (s, i0, run) in dense::species_runs(species) {
                    for (l, w) in layer.self_connection[s].iter().enumerate() {
                        let bx = Block::new(ls.input.offset(l), fin, atoms).atoms_from(i0, run);
                        let shape = (ls.self_connection[l][0], c);
                        dense::apply(
                            w,
                            shape,
                            dim(l),
                            (x, bx),
                            (&mut *o, into(l).atoms_from(i0, run)),
                            norm,
                        );
                    }
                }
                for (o, out) in o.chunks_exact(gl).zip(out.chunks_exact_mut(fout)) {
                    gate(ls, o, out);
                }
            });
        (pre_gate, next)
    }
}

/// The gate of one atom: SiLU on the scalars, each l ≥ 1 channel scaled by the sigmoid of
/// its gate scalar.
fn gate<T: Real>(ls: &LayerShape, o: &[T], out: &mut [T]) {
    let c = ls.input.channels;
    for ch in 0..c {
        out[ch] = o[ch].silu().0;
    }
    for l in 1..=ls.output.lmax {
        for ch in 0..c {
            let g = o[ls.gated.gates(l) + ch].sigmoid().0;
            for k in 0..dim(l) {
                out[ls.output.offset(l) + k * c + ch] = o[ls.gated.offset(l) + k * c + ch] * g;
            }
        }
    }
}
