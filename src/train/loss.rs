//! The loss of one frame and its exact gradient with respect to every trainable weight.
//!
//! L = w_E (ΔE/N)² + w_F/(3N) Σ_i |ΔF_i|² + w_S/9 Σ_ab Δσ_ab² + w_μ |Δμ|²,
//! Δ = predicted − reference.
//! The force and stress terms depend on θ through ∂E/∂r. With v_i = ΔF_i and u = Δσ held
//! fixed, their θ-gradient is the θ-gradient of the directional derivative Σ_e t_e·∂E/∂r_e
//! along the edge tangents t_e = −(2w_F/3N)(v_j − v_i) + (2w_S/9V) uᵀr_e. One forward and
//! reverse pass in dual numbers, with the edge embedding moved along t_e in its ε part,
//! gives ∂E/∂θ (real part) and that gradient (ε part) at once:
//! ∂L/∂θ = (2w_E ΔE/N²) Re ∂E/∂θ + Eps ∂E/∂θ. Seeding the energy with 1 + ε(2w_E ΔE/N²)
//! instead of 1 puts that sum whole into the ε part (since ε² = 0, a seed's ε part adds its
//! real-point derivative there). So the frames of a batch go through one pass over the union
//! of their graphs, each frame's atoms seeded with its own factor: the matrix products of the
//! pass then run over all the batch's atoms at once. The dipole term reaches the network
//! through the last features in the same way: its seed s = ∂(w_μ|Δμ|²)/∂h goes into the ε
//! part of their seed; the head's own weights get their gradient directly.

use crate::potential::equivariant::dipole::{dipole, dipole_backward, Dipole};
use crate::potential::equivariant::model::Model;
use crate::potential::equivariant::network::{Embedding, Evaluator, Graph, Tape};
use crate::potential::equivariant::parameters::ParameterLayout;
use crate::potential::equivariant::reverse_weights::Seeds;
use crate::potential::equivariant::spherical_harmonics::total_dim;
use crate::potential::Scratch;
use glam::{DMat3, DVec3};
use num_dual::Dual64;
use std::borrow::Cow;
use std::ops::Range;

/// One training frame: its graph and reference labels (eV, eV/Å, eV/Å³).
#[derive(Clone, Debug)]
pub struct Sample {
    pub graph: Graph,
    pub energy: f64,
    pub forces: Vec<DVec3>,
    /// Stress with ASE's sign (positive = tensile) and the cell volume, for periodic frames
    /// that carry it.
    pub stress: Option<(DMat3, f64)>,
    /// The reference dipole, for frames that carry one.
    pub dipole: Option<DipoleLabel>,
}

/// A frame's reference dipole (e·Å) and what the dipole head needs to predict it: the
/// positions as given and the total charge.
#[derive(Clone, Debug)]
pub struct DipoleLabel {
    pub vector: DVec3,
    pub positions: Vec<DVec3>,
    pub total_charge: f64,
}

/// Weights of the three terms of the loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossWeights {
    /// Of the squared energy error per atom (eV²).
    pub energy: f64,
    /// Of the mean squared force component error (eV²/Å²).
    pub forces: f64,
    /// Of the mean squared stress component error (eV²/Å⁶).
    pub stress: f64,
    /// Of the squared dipole error |Δμ|² (e²·Å²), for models with a dipole head.
    pub dipole: f64,
}

/// The loss of a frame and the errors behind it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameErrors {
    pub loss: f64,
    pub atoms: usize,
    /// Predicted − reference total energy (eV).
    pub energy_error: f64,
    /// Σ |ΔF| components and Σ ΔF² over the frame's 3N components (eV/Å, eV²/Å²).
    pub force_abs: f64,
    pub force_sq: f64,
    /// Σ Δσ² over the 9 components (eV²/Å⁶), when the frame has a stress.
    pub stress_sq: Option<f64>,
    /// Predicted − reference dipole (e·Å), when the model has a head and the frame a dipole.
    pub dipole_error: Option<DVec3>,
}

/// Prediction of a frame's energy, forces, stress and dipole, its edge gradients ∂E/∂r_e
/// and its last features (for the dipole's gradient), and where its atoms lie in the graph
/// of the pass.
struct Prediction {
    atoms: Range<usize>,
    energy: f64,
    forces: Vec<DVec3>,
    edge_grad: Vec<DVec3>,
    dipole: Option<Dipole>,
    last: Vec<f64>,
}

/// Where each frame's atoms and edges lie in the union of the frames' graphs.
fn spans(samples: &[&Sample]) -> Vec<(Range<usize>, Range<usize>)> {
    let (mut a, mut e) = (0, 0);
    (samples.iter())
        .map(|s| {
            let (atoms, edges) = (a..a + s.graph.atoms(), e..e + s.graph.vector.len());
            (a, e) = (atoms.end, edges.end);
            (atoms, edges)
        })
        .collect()
}

/// The frames' graphs as one: the frame's own for a single frame.
fn union_of<'a>(samples: &[&'a Sample]) -> Cow<'a, Graph> {
    match samples {
        [one] => Cow::Borrowed(&one.graph),
        _ => Cow::Owned(Graph::union(samples.iter().map(|s| &s.graph))),
    }
}

/// Every frame's prediction from one pass over `graph`, the union of their graphs, and
/// the pass's tape (whose radial MLP passes the dual pass reuses).
fn predict(
    ev: &Evaluator,
    model: &Model,
    samples: &[&Sample],
    graph: &Graph,
    emb: &Embedding,
) -> (Vec<Prediction>, Tape) {
    let (energies, tape) = ev.forward_embedded(model, graph, emb);
    let edge_grad = ev.backward(model, graph, &tape);
    let forces = graph.forces(&edge_grad);
    let per_atom = tape.last().len() / graph.atoms().max(1);
    let predictions = (samples.iter().zip(spans(samples)))
        .map(|(s, (atoms, edges))| {
            let last = &tape.last()[atoms.start * per_atom..atoms.end * per_atom];
            let dipole =
                (s.dipole.as_ref()).and_then(|d| dipole(model, last, &d.positions, d.total_charge));
            Prediction {
                energy: energies[atoms.clone()].iter().sum(),
                forces: forces[atoms.clone()].to_vec(),
                atoms,
                edge_grad: edge_grad[edges].to_vec(),
                last: if dipole.is_some() {
                    last.to_vec()
                } else {
                    Vec::new()
                },
                dipole,
            }
        })
        .collect();
    (predictions, tape)
}

/// The loss and errors of `sample`, and per-term factors for the gradient.
fn errors(p: &Prediction, sample: &Sample, w: &LossWeights) -> (FrameErrors, Option<DMat3>) {
    let n = sample.graph.atoms();
    let nf = n as f64;
    let de = p.energy - sample.energy;
    let (mut force_abs, mut force_sq) = (0.0, 0.0);
    for (f, r) in p.forces.iter().zip(&sample.forces) {
        let d = *f - *r;
        force_abs += d.abs().element_sum();
        force_sq += d.length_squared();
    }
    let mut loss = w.energy * (de / nf).powi(2) + w.forces * force_sq / (3.0 * nf);
    let (mut stress_sq, mut du) = (None, None);
    if let Some((reference, volume)) = sample.stress {
        // ASE's sign: σ = −W/V = (1/V) Σ_e r_e ⊗ ∂E/∂r_e, positive = tensile
        let d = sample.graph.virial(&p.edge_grad) * (-1.0 / volume) - reference;
        let sq: f64 = d.to_cols_array().iter().map(|x| x * x).sum();
        loss += w.stress * sq / 9.0;
        stress_sq = Some(sq);
        du = Some(d);
    }
    let dipole_error = match (&p.dipole, &sample.dipole) {
        (Some(p), Some(reference)) => Some(p.vector - reference.vector),
        _ => None,
    };
    if let Some(d) = dipole_error {
        loss += w.dipole * d.length_squared();
    }
    let e = FrameErrors {
        loss,
        atoms: n,
        energy_error: de,
        force_abs,
        force_sq,
        stress_sq,
        dipole_error,
    };
    (e, du)
}

/// The loss and errors of `model` on `sample`, without gradients (validation).
pub fn frame_errors(
    ev: &Evaluator,
    model: &Model,
    sample: &Sample,
    w: &LossWeights,
) -> FrameErrors {
    let emb = ev.embed(model, &sample.graph);
    let (p, _) = predict(ev, model, &[sample], &sample.graph, &emb);
    errors(&p[0], sample, w).0
}

/// The loss of `model` on `sample`, its gradient added into `grad` (laid out by `layout`):
/// [`batch_gradient`] of one frame.
pub fn frame_gradient(
    ev: &Evaluator,
    model: &Model,
    layout: &ParameterLayout,
    sample: &Sample,
    w: &LossWeights,
    grad: &mut [f64],
    scratch: &Scratch<Vec<Dual64>>,
) -> FrameErrors {
    batch_gradient(ev, model, layout, &[sample], w, grad, scratch)[0]
}

/// The losses of `model` on a batch of frames, the gradient of their sum added into `grad`
/// (laid out by `layout`), from one pass over the union of the frames' graphs.
/// `scratch` lends the dual weight gradient, kept between calls because a fresh one costs
/// page faults on every call; batches evaluated in parallel share one pool.
pub fn batch_gradient(
    ev: &Evaluator,
    model: &Model,
    layout: &ParameterLayout,
    samples: &[&Sample],
    w: &LossWeights,
    grad: &mut [f64],
    scratch: &Scratch<Vec<Dual64>>,
) -> Vec<FrameErrors> {
    let graph = union_of(samples);
    let graph = graph.as_ref();
    let emb = ev.embed(model, graph);
    let (predictions, real) = predict(ev, model, samples, graph, &emb);
    let mut errs = Vec::with_capacity(samples.len());
    let mut tangent = Vec::with_capacity(graph.vector.len());
    let mut energy_seed = Vec::with_capacity(graph.atoms());
    let mut last_seed: Option<Vec<Dual64>> = None;
    for (s, p) in samples.iter().zip(&predictions) {
        let atoms = p.atoms.clone();
        let (err, stress_error) = errors(p, s, w);
        tangent.extend(edge_tangents(s, p, w, stress_error));
        let nf = atoms.len() as f64;
        let energy_factor = 2.0 * w.energy * err.energy_error / (nf * nf);
        energy_seed.extend(atoms.clone().map(|_| Dual64::new(1.0, energy_factor)));
        if let Some(seed) = dipole_seed(model, layout, s, p, &err, w, grad) {
            let per_atom = seed.len() / atoms.len().max(1);
            let all =
                last_seed.get_or_insert_with(|| vec![Dual64::from(0.0); graph.atoms() * per_atom]);
            all[atoms.start * per_atom..atoms.end * per_atom].copy_from_slice(&seed);
        }
        errs.push(err);
    }
    let (sh, basis) = moved_embedding(model, graph, &emb, &tangent);
    // the radial MLPs' real parts are the force pass's: only their tangents are new
    let radial = Some(real.into_radial());
    let (_, tape) = ev.forward_with(model, graph, (sh, &basis), true, radial);
    let seeds = Seeds {
        energy: Some(&energy_seed),
        last: last_seed.as_deref(),
    };
    scratch.with(|g| {
        g.clear();
        g.resize(layout.len, Dual64::new(0.0, 0.0));
        ev.backward_weights(model, graph, &tape, layout, &mut g[..], seeds);
        for (a, d) in grad.iter_mut().zip(g.iter()) {
            *a += d.eps;
        }
    });
    errs
}

/// The tangent t_e of each of a frame's edges: −(2w_F/3N)(ΔF_j − ΔF_i), plus
/// (2w_S/9V) uᵀr_e with the stress error u when the frame has one.
fn edge_tangents(
    sample: &Sample,
    p: &Prediction,
    w: &LossWeights,
    stress_error: Option<DMat3>,
) -> Vec<DVec3> {
    let graph = &sample.graph;
    let force_factor = -2.0 * w.forces / (3.0 * graph.atoms() as f64);
    let strain = stress_error.map(|u| {
        let volume = sample.stress.expect("a stress error needs a stress").1;
        u.transpose() * (2.0 * w.stress / (9.0 * volume))
    });
    let delta: Vec<DVec3> = (p.forces.iter().zip(&sample.forces))
        .map(|(f, r)| *f - *r)
        .collect();
    (0..graph.atoms())
        .flat_map(|i| graph.edges(i).map(move |e| (i, e)))
        .map(|(i, e)| {
            let mut t = (delta[graph.neighbor[e]] - delta[i]) * force_factor;
            if let Some(m) = strain {
                t += m * graph.vector[e];
            }
            t
        })
        .collect()
}

/// The edge embedding moved along the tangents, in its ε part: the spherical harmonics of
/// every edge and the radial basis of every bond (moved along its first edge).
fn moved_embedding(
    model: &Model,
    graph: &Graph,
    emb: &Embedding,
    tangent: &[DVec3],
) -> (Vec<Dual64>, Vec<Dual64>) {
    let n_sh = total_dim(model.hyper.lmax);
    let nb = model.hyper.radial_basis;
    let sh = (emb.sh.iter().zip(&emb.sh_grad).enumerate())
        .map(|(k, (&y, g))| Dual64::new(y, g.dot(tangent[k / n_sh])))
        .collect();
    let basis = (emb.basis.iter().zip(&emb.basis_grad).enumerate())
        .map(|(k, (&b, &db))| {
            let e = graph.bond_edges[k / nb][0];
            let r = graph.vector[e];
            let len = r.length();
            let dr = if len > 0.0 {
                r.dot(tangent[e]) / len
            } else {
                0.0
            };
            Dual64::new(b, db * dr)
        })
        .collect();
    (sh, basis)
}

/// The dipole term's gradient: the head's own weights' share added into `grad`, and the
/// seed of the last features, in ε parts, for the reverse pass (None without the term).
fn dipole_seed(
    model: &Model,
    layout: &ParameterLayout,
    sample: &Sample,
    p: &Prediction,
    err: &FrameErrors,
    w: &LossWeights,
    grad: &mut [f64],
) -> Option<Vec<Dual64>> {
    let (label, d) = (sample.dipole.as_ref()?, err.dipole_error?);
    if w.dipole == 0.0 {
        return None;
    }
    let mut seed = vec![0.0; p.last.len()];
    let g = d * (2.0 * w.dipole);
    let at = &layout.dipole;
    dipole_backward(model, &p.last, &label.positions, g, &mut seed, grad, at);
    Some(seed.into_iter().map(|s| Dual64::new(0.0, s)).collect())
}
