//! The `Potential` trait that every force field implements, the buffer it fills, the
//! shared machinery of pair potentials, and the pool of working buffers they reuse.
//!
//! A potential only computes: it reads a `System` and a `NeighborList` it requested (by
//! cutoff and list kind) and adds energy, forces and virial into a `ForceOutput` in one
//! pass, so nothing computes forces twice.

pub mod eam;
pub mod equivariant;
mod lennard_jones;
mod morse;
mod pair;
mod scratch;
mod sum;

pub use eam::Eam;
pub use lennard_jones::{LennardJones, LjPair, Mixing};
pub use morse::{Morse, MorsePair};
pub use pair::{PairBuffers, PairKernel, PairPass, PairPotential, PairTable};
pub use scratch::Scratch;
pub use sum::Sum;

use crate::neighbors::{ListKind, NeighborList};
use crate::system::System;
use glam::{DMat3, DVec3};

/// Energy, forces and virial of one evaluation.
#[derive(Clone, Debug, Default)]
pub struct ForceOutput {
    /// Total potential energy (energy units).
    pub energy: f64,
    /// Force on every atom (energy per length).
    pub forces: Vec<DVec3>,
    /// Virial W = Σ r_ij ⊗ f_ij (energy units); pressure is (2 KE + tr W) / 3V.
    pub virial: DMat3,
    /// Per-atom energies, filled only when requested (`with_per_atom_energy`).
    pub per_atom_energy: Option<Vec<f64>>,
    /// The dipole moment (charge × length; e·Å in metal units), set by a potential that
    /// predicts one (a network with a dipole head) from the same pass as the energy.
    pub dipole: Option<DVec3>,
}

impl ForceOutput {
    /// A zeroed output for `n` atoms.
    pub fn new(n: usize) -> ForceOutput {
        ForceOutput {
            energy: 0.0,
            forces: vec![DVec3::ZERO; n],
            virial: DMat3::ZERO,
            per_atom_energy: None,
            dipole: None,
        }
    }

    /// Also asks potentials for per-atom energies.
    pub fn with_per_atom_energy(mut self) -> ForceOutput {
        self.per_atom_energy = Some(vec![0.0; self.forces.len()]);
        self
    }

    /// Zeroes everything, resized for `n` atoms, keeping the per-atom request.
    pub fn reset(&mut self, n: usize) {
        self.energy = 0.0;
        self.virial = DMat3::ZERO;
        self.dipole = None;
        self.forces.clear();
        self.forces.resize(n, DVec3::ZERO);
        if let Some(e) = &mut self.per_atom_energy {
            e.clear();
            e.resize(n, 0.0);
        }
    }

    /// Largest force magnitude and the atom it acts on.
    pub fn max_force(&self) -> (f64, usize) {
        self.forces
            .iter()
            .enumerate()
            .map(|(i, f)| (f.length(), i))
            .fold(
                (0.0, 0),
                |a, b| if b.0 > a.0 || b.0.is_nan() { b } else { a },
            )
    }
}

/// A force field: declares the range and list it needs, then computes energy, forces and
/// virial of a system in one call, adding them into `out`.
pub trait Potential: Send + Sync {
    /// A short name for logs.
    fn name(&self) -> String;
    /// Largest distance at which two atoms interact.
    fn cutoff(&self) -> f64;
    /// The neighbour-list kind this potential reads.
    fn list_kind(&self) -> ListKind;
    /// Adds energy, forces and virial of `system` into `out` (already sized and zeroed by
    /// the caller), reading the neighbour list `list` built for `cutoff()`.
    fn compute(&self, system: &System, list: &NeighborList, out: &mut ForceOutput);
}

/// A number as people write it in a name or a log line: ten significant digits at most,
/// so that a cutoff of 4.95 read as 4.949999999999989 prints as 4.95.
pub fn short_number(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return x.to_string();
    }
    let digits = (9 - x.abs().log10().floor() as i32).clamp(0, 17) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Builds a fresh list for `potential`, evaluates it once and returns the output: the
/// convenient path for tests, tools and single-point calculations.
pub fn evaluate(potential: &dyn Potential, system: &mut System) -> ForceOutput {
    let mut list = NeighborList::new(potential.list_kind(), potential.cutoff(), 0.0);
    list.rebuild(system);
    let mut out = ForceOutput::new(system.len());
    potential.compute(system, &list, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn short_numbers_drop_float_noise() {
        assert_eq!(short_number(4.949999999999989), "4.95");
        assert_eq!(short_number(5.0), "5");
        assert_eq!(short_number(2.5), "2.5");
        assert_eq!(short_number(0.0), "0");
        assert_eq!(short_number(1e-7), "0.0000001");
        assert_eq!(short_number(123456.0), "123456");
    }
}
