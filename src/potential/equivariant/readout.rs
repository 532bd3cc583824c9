//! The readouts: every atom's energy is a linear map r of its scalars, summed over the last
//! layer and, with `layer_readouts`, over every earlier one too (as MACE reads out each
//! layer), then scaled and shifted per species: E_i = s_i/√C · Σ_t r_t·h_i^t + shift_i.
//! The forward sum, and the readouts' share of both reverse passes: the seed they give
//! ∂E/∂(features) of each layer read out, and ∂E/∂r.

use super::model::Model;
use super::scalar::Real;

/// out_i += Σ_ch h_i[ch] r[ch] for every atom's scalars (the first channels of its
/// `stride` features); nothing for an empty readout.
pub(super) fn read_out<T: Real>(r: &[f64], features: &[T], stride: usize, out: &mut [T]) {
    if r.is_empty() {
        return;
    }
    for (o, h) in out.iter_mut().zip(features.chunks_exact(stride)) {
        for (&x, &w) in h.iter().zip(r) {
            *o += x * w;
        }
    }
}

/// What every readout of a graph multiplies by: the species' scale over √C, per atom,
/// and, when only some atoms' energies count, the weight of each atom's energy, in the
/// number type `W` of the pass (a dual weight carries a second energy in its ε part).
pub(super) struct Readouts<'a, W: Real = f64> {
    scale: &'a [f64],
    species: &'a [usize],
    norm: f64,
    atom_weight: Option<&'a [W]>,
}

impl<'a> Readouts<'a> {
    /// The readouts of `model` on atoms of `species`, with the channel normalisation 1/√C.
    pub fn new(model: &'a Model, species: &'a [usize], norm: f64) -> Self {
        Readouts {
            scale: &model.scale,
            species,
            norm,
            atom_weight: None,
        }
    }
}

impl<'a, W: Real> Readouts<'a, W> {
    /// The same readouts for the energy Σ_i w_i E_i instead of Σ_i E_i (for instance the
    /// energy of the atoms a process owns, w_i = 1, seen among padding atoms, w_i = 0; or
    /// the frames of a training batch, each atom's energy weighted as its frame's).
    pub fn weighted<V: Real>(self, atom_weight: Option<&'a [V]>) -> Readouts<'a, V> {
        Readouts {
            scale: self.scale,
            species: self.species,
            norm: self.norm,
            atom_weight,
        }
    }

    /// Number of atoms.
    pub fn atoms(&self) -> usize {
        self.species.len()
    }

    /// ∂E/∂(features read out by `r`), `stride` values per atom, added into `grad`:
    /// w_i s_i/√C · r on every atom's scalars; nothing for an empty readout.
    pub fn seed(&self, r: &[f64], stride: usize, grad: &mut [W]) {
        if r.is_empty() {
            return;
        }
        for (i, (g, &s)) in grad.chunks_exact_mut(stride).zip(self.species).enumerate() {
            let f = |w: f64| self.scale[s] * w * self.norm;
            match self.atom_weight {
                None => g.iter_mut().zip(r).for_each(|(g, &w)| *g += W::from(f(w))),
                Some(a) => (g.iter_mut().zip(r)).for_each(|(g, &w)| *g += a[i] * f(w)),
            }
        }
    }

    /// ∂E/∂r of the readout of `features` (`stride` values per atom), added into `g`
    /// (one entry per channel).
    pub fn weight_grad(&self, features: &[W], stride: usize, g: &mut [W]) {
        for (i, (h, &s)) in features.chunks_exact(stride).zip(self.species).enumerate() {
            let f = self.scale[s] * self.norm;
            match self.atom_weight {
                None => g.iter_mut().zip(h).for_each(|(g, &x)| *g += x * f),
                Some(a) => (g.iter_mut().zip(h)).for_each(|(g, &x)| *g += x * a[i] * f),
            }
        }
    }
}
