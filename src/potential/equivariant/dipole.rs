//! The dipole head, as MACE's AtomicDipolesMACE reads a dipole out of its features: per
//! atom a charge q_i from the last layer's scalars and an atomic dipole μ_i from its l = 1
//! features (1o under parity), both linear maps over channels with the 1/√C
//! normalisation of the readout; the charges are shifted by one common amount so that they
//! add up to the frame's total charge Q, and μ = Σ_i (q_i r_i + μ_i). For a neutral frame
//! the shifted charges sum to zero, so μ does not depend on the origin; μ rotates with the
//! frame because r_i and the l = 1 features do. Two heads beside it, for comparison:
//! charges only (μ = Σ_i q_i r_i, still equivariant) and an invariant head that reads three
//! numbers off the summed scalars as Cartesian components (which cannot rotate).

use super::model::{DipoleHead, Model};
use super::parameters::DipoleOffsets;
use glam::DVec3;

/// The dipole of one frame and what it is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct Dipole {
    /// μ (charge × length: e·Å for the shipped units).
    pub vector: DVec3,
    /// The charges q_i after the shift to the total charge.
    pub charges: Vec<f64>,
    /// The atomic dipoles μ_i.
    pub atomic: Vec<DVec3>,
}

/// The dipole of a frame whose last-layer features are `last` (C·(L+1)² per atom, the
/// layout of [`super::irreps::Irreps`]), atoms at `positions`, total charge `total_charge`;
/// None for a model without a dipole head.
pub fn dipole(
    model: &Model,
    last: &[f64],
    positions: &[DVec3],
    total_charge: f64,
) -> Option<Dipole> {
    let head = model.hyper.dipole?;
    let c = model.hyper.channels;
    let n = positions.len();
    let stride = last.len() / n.max(1);
    let norm = 1.0 / (c as f64).sqrt();
    if head == DipoleHead::Invariant {
        let w = &model.dipole_cartesian;
        let mut v = [0.0; 3];
        for h in last.chunks_exact(stride) {
            for (k, vk) in v.iter_mut().enumerate() {
                *vk += h[..c]
                    .iter()
                    .zip(&w[k * c..(k + 1) * c])
                    .map(|(x, w)| x * w)
                    .sum::<f64>();
            }
        }
        return Some(Dipole {
            vector: DVec3::from_array(v) * norm,
            charges: vec![0.0; n],
            atomic: vec![DVec3::ZERO; n],
        });
    }
    let with_atomic = head == DipoleHead::ChargesAndDipoles && model.hyper.lmax >= 1;
    let (wq, wm) = (&model.dipole_charge, &model.dipole_atomic);
    let mut charges = Vec::with_capacity(n);
    let mut atomic = Vec::with_capacity(n);
    for h in last.chunks_exact(stride) {
        let q: f64 = h[..c].iter().zip(wq).map(|(x, w)| x * w).sum();
        charges.push(q * norm);
        // block l = 1 starts at C and holds the components (y, z, x), C channels each
        let component = |m: usize| -> f64 {
            let block = &h[c + m * c..c + (m + 1) * c];
            block.iter().zip(wm).map(|(x, w)| x * w).sum::<f64>() * norm
        };
        atomic.push(if with_atomic {
            DVec3::new(component(2), component(0), component(1))
        } else {
            DVec3::ZERO
        });
    }
    let shift = (charges.iter().sum::<f64>() - total_charge) / n.max(1) as f64;
    let mut vector = DVec3::ZERO;
    for ((q, r), m) in charges.iter_mut().zip(positions).zip(&atomic) {
        *q -= shift;
        vector += *r * *q + *m;
    }
    Some(Dipole {
        vector,
        charges,
        atomic,
    })
}

/// The reverse of [`dipole`] for a loss whose gradient with respect to μ is `g`: adds
/// ∂(g·μ)/∂h of every last feature into `seed` (laid out as `last`) and ∂(g·μ)/∂w of the
/// head's own maps into the flat gradient `grad` at `at`. The shift to the total charge
/// makes ∂μ/∂q_i = r_i − r̄, r̄ the mean position.
pub fn dipole_backward(
    model: &Model,
    last: &[f64],
    positions: &[DVec3],
    g: DVec3,
    seed: &mut [f64],
    grad: &mut [f64],
    at: &DipoleOffsets,
) {
    let Some(head) = model.hyper.dipole else {
        return;
    };
    let c = model.hyper.channels;
    let n = positions.len().max(1);
    let stride = last.len() / n;
    let norm = 1.0 / (c as f64).sqrt();
    let rows = last.chunks_exact(stride).zip(seed.chunks_exact_mut(stride));
    if head == DipoleHead::Invariant {
        let (w, o) = (
            &model.dipole_cartesian,
            at.cartesian.expect("an invariant head"),
        );
        let g = g.to_array();
        for (h, s) in rows {
            for (k, gk) in g.iter().enumerate() {
                for ch in 0..c {
                    s[ch] += gk * norm * w[k * c + ch];
                    grad[o + k * c + ch] += gk * norm * h[ch];
                }
            }
        }
        return;
    }
    let mean = positions.iter().copied().sum::<DVec3>() / n as f64;
    let charge_at = at.charge.expect("a head with charges");
    // the components (y, z, x) of block l = 1
    let gm = [g.y, g.z, g.x];
    let atomic_at = at.atomic.filter(|_| model.hyper.lmax >= 1);
    for ((h, s), r) in rows.zip(positions) {
        let dq = g.dot(*r - mean) * norm;
        for ch in 0..c {
            s[ch] += dq * model.dipole_charge[ch];
            grad[charge_at + ch] += dq * h[ch];
        }
        if let Some(o) = atomic_at {
            for (m, &gm) in gm.iter().enumerate() {
                let f = c + m * c;
                for ch in 0..c {
                    s[f + ch] += gm * norm * model.dipole_atomic[ch];
                    grad[o + ch] += gm * norm * h[f + ch];
                }
            }
        }
    }
}
