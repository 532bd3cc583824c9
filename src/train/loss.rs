//! The loss of one frame and its exact gradient with respect to every trainable weight.
//!
//! L = w_E (ΔE/N)² + w_F/(3N) Σ_i |ΔF_i|² + w_S/9 Σ_ab Δσ_ab² + w_μ |Δμ|²,
//! Δ = predicted − reference.
//! The force and stress terms depend on θ through ∂E/∂r. With v_i = ΔF_i and u = Δσ held
//! fixed, their θ-gradient is the θ-gradient of the directional derivative Σ_e t_e·∂E/∂r_e
//! along the edge tangents t_e = −(2w_F/3N)(v_j − v_i) + (2w_S/9V) uᵀr_e. One forward and
//! reverse pass in dual numbers, with the edge embedding moved along t_e in its ε part,
//! gives ∂E/∂θ (real part) and that gradient (ε part) at once:
//! ∂L/∂θ = (2w_E ΔE/N²) Re ∂E/∂θ + Eps ∂E/∂θ. The dipole term reaches the network
//! through the last features: its seed s = ∂(w_μ|Δμ|²)/∂h goes into the ε part of the
//! reverse pass's seed, where (since ε² = 0) it adds exactly Σ s·∂h/∂θ at the real point;
//! the head's own weights get their gradient directly.

use crate::potential::equivariant::dipole::{dipole, dipole_backward, Dipole};
use crate::potential::equivariant::model::Model;
use crate::potential::equivariant::network::{Embedding, Evaluator, Graph};
use crate::potential::equivariant::parameters::ParameterLayout;
use crate::potential::equivariant::spherical_harmonics::total_dim;
use crate::potential::Scratch;
use glam::{DMat3, DVec3};
use num_dual::Dual64;

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

/// Prediction of energy, forces, stress and dipole, the edge gradients ∂E/∂r_e and the
/// last features (for the dipole's gradient).
struct Prediction {
    energy: f64,
    forces: Vec<DVec3>,
    edge_grad: Vec<DVec3>,
    dipole: Option<Dipole>,
    last: Vec<f64>,
}

fn predict(ev: &Evaluator, model: &Model, sample: &Sample, emb: &Embedding) -> Prediction {
    let graph = &sample.graph;
    let (energies, tape) = ev.forward_embedded(model, graph, emb);
    let edge_grad = ev.backward(model, graph, &tape);
    let dipole = (sample.dipole.as_ref())
        .and_then(|d| dipole(model, tape.last(), &d.positions, d.total_charge));
    Prediction {
        energy: energies.iter().sum(),
        forces: graph.forces(&edge_grad),
        edge_grad,
        last: if dipole.is_some() {
            tape.last().to_vec()
        } else {
            Vec::new()
        },
        dipole,
    }
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
    let p = predict(ev, model, sample, &emb);
    errors(&p, sample, w).0
}

/// The loss of `model` on `sample`, its gradient added into `grad` (laid out by `layout`).
/// `scratch` lends the dual weight gradient, kept between frames because a fresh one per
/// frame costs page faults on every call; frames evaluated in parallel share one pool.
pub fn frame_gradient(
    ev: &Evaluator,
    model: &Model,
    layout: &ParameterLayout,
    sample: &Sample,
    w: &LossWeights,
    grad: &mut [f64],
    scratch: &Scratch<Vec<Dual64>>,
) -> FrameErrors {
    let graph = &sample.graph;
    let emb = ev.embed(model, graph);
    let p = predict(ev, model, sample, &emb);
    let (err, stress_error) = errors(&p, sample, w);
    let nf = graph.atoms() as f64;
    let energy_factor = 2.0 * w.energy * err.energy_error / (nf * nf);
    let force_factor = -2.0 * w.forces / (3.0 * nf);
    let strain = stress_error.map(|u| {
        let volume = sample.stress.expect("a stress error needs a stress").1;
        u.transpose() * (2.0 * w.stress / (9.0 * volume))
    });
    let tangent: Vec<DVec3> = (0..graph.atoms())
        .flat_map(|i| {
            let (p, s) = (&p, &sample.forces);
            (graph.edge_start[i]..graph.edge_start[i + 1]).map(move |e| {
                let j = graph.neighbor[e];
                let dv = (p.forces[j] - s[j]) - (p.forces[i] - s[i]);
                let mut t = dv * force_factor;
                if let Some(m) = strain {
                    t += m * graph.vector[e];
                }
                t
            })
        })
        .collect();

    // the edge embedding moved along the tangents, in its ε part
    let n_sh = total_dim(model.hyper.lmax);
    let nb = model.hyper.radial_basis;
    let sh: Vec<Dual64> = emb
        .sh
        .iter()
        .zip(&emb.sh_grad)
        .enumerate()
        .map(|(k, (&y, g))| Dual64::new(y, g.dot(tangent[k / n_sh])))
        .collect();
    let basis: Vec<Dual64> = emb
        .basis
        .iter()
        .zip(&emb.basis_grad)
        .enumerate()
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
    let (_, tape) = ev.forward_with(model, graph, sh, &basis, true);
    let last_seed = dipole_seed(model, layout, sample, &p, &err, w, grad);
    scratch.with(|g| {
        g.clear();
        g.resize(layout.len, Dual64::new(0.0, 0.0));
        ev.backward_weights(
            model,
            graph,
            &tape,
            layout,
            &mut g[..],
            last_seed.as_deref(),
        );
        for (a, d) in grad.iter_mut().zip(g.iter()) {
            *a += energy_factor * d.re + d.eps;
        }
    });
    err
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
