//! The function a minimiser descends: the enthalpy H = E + P V of a system as a function of
//! its generalised coordinates, with its gradient, evaluated through the `Potential` trait.

use super::cell::Coordinates;
use super::{CellMode, MinimizeError};
use crate::neighbors::NeighborList;
use crate::potential::{ForceOutput, Potential};
use crate::system::System;
use glam::DVec3;

/// The enthalpy of a system as a function of generalised coordinates q (reference positions
/// and, with a free cell, the deformation of the cell): what FIRE and L-BFGS minimise, open
/// for tests and other optimisers. Every evaluation puts q into the system.
pub struct Objective<'a> {
    system: &'a mut System,
    potential: &'a dyn Potential,
    neighbors: &'a mut NeighborList,
    coordinates: Coordinates,
    mode: CellMode,
    /// Target pressure in energy per volume.
    pressure: f64,
    /// Target pressure in pressure units.
    target: f64,
    out: ForceOutput,
    placed: Vec<DVec3>,
    evaluated: Option<Vec<f64>>,
    evaluations: usize,
}

/// The enthalpy and its gradient at one point q, with the numbers that decide convergence.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Potential energy.
    pub energy: f64,
    /// E + P V (the energy with a fixed cell).
    pub enthalpy: f64,
    /// ∂H/∂q.
    pub gradient: Vec<f64>,
    /// Largest force on an atom.
    pub max_force: f64,
    /// Largest stress residual the cell mode relaxes (pressure units; 0 with a fixed cell).
    pub max_stress: f64,
    /// Cell volume (0 unless periodic along all axes).
    pub volume: f64,
}

impl<'a> Objective<'a> {
    /// The objective of `system` (starting at q = the returned vector, the system as it is)
    /// for relaxing `cell` toward `pressure` (pressure units). A free cell needs a system
    /// periodic along all three axes.
    pub fn new(
        system: &'a mut System,
        potential: &'a dyn Potential,
        neighbors: &'a mut NeighborList,
        cell: CellMode,
        pressure: f64,
    ) -> Result<(Objective<'a>, Vec<f64>), MinimizeError> {
        let pbc = system.cell.pbc();
        if cell != CellMode::Fixed && pbc != [true; 3] {
            return Err(MinimizeError::NotPeriodic { mode: cell, pbc });
        }
        let (coordinates, q) = Coordinates::new(system, cell);
        let n = system.len();
        let objective = Objective {
            pressure: pressure / system.units.energy_per_volume_to_pressure(),
            target: pressure,
            system,
            potential,
            neighbors,
            coordinates,
            mode: cell,
            out: ForceOutput::new(n),
            placed: Vec::with_capacity(n),
            evaluated: None,
            evaluations: 0,
        };
        Ok((objective, q))
    }

    /// How many times the potential has been evaluated.
    pub fn evaluations(&self) -> usize {
        self.evaluations
    }

    /// The energy, forces and virial of the last evaluation.
    pub fn output(&self) -> &ForceOutput {
        &self.out
    }

    /// The largest move of an atom in the step `dq` (the cell block counts as one atom).
    pub fn max_move(&self, dq: &[f64]) -> f64 {
        self.coordinates.max_move(dq)
    }

    /// Puts `q` into the system and evaluates H and ∂H/∂q there; `iteration` names the
    /// iteration in errors.
    pub fn evaluate(&mut self, q: &[f64], iteration: usize) -> Result<Evaluation, MinimizeError> {
        self.coordinates
            .apply(q, self.system)
            .map_err(|cause| MinimizeError::Cell { iteration, cause })?;
        self.placed.clear();
        self.placed.extend_from_slice(&self.system.positions);
        if self.neighbors.update(self.system) {
            self.coordinates.note_wrap(&self.placed, self.system);
        }
        self.out.reset(self.system.len());
        self.potential
            .compute(self.system, self.neighbors, &mut self.out);
        self.evaluations += 1;
        self.evaluated = Some(q.to_vec());
        self.check_finite(iteration)?;

        let units = self.system.units;
        let w = (self.out.virial + self.out.virial.transpose()) * 0.5;
        let free = self.mode != CellMode::Fixed;
        let volume = if self.system.cell.pbc() == [true; 3] {
            self.system.cell.volume()
        } else {
            0.0
        };
        let enthalpy = if free {
            self.out.energy + self.pressure * volume
        } else {
            self.out.energy
        };
        let mut gradient = vec![0.0; q.len()];
        self.coordinates.gradient(
            q,
            &self.out.forces,
            &w,
            self.pressure,
            volume,
            &mut gradient,
        );
        let max_stress = if free {
            let r = w * (units.energy_per_volume_to_pressure() / volume)
                - glam::DMat3::IDENTITY * self.target;
            self.coordinates.stress_residual(&r)
        } else {
            0.0
        };
        Ok(Evaluation {
            energy: self.out.energy,
            enthalpy,
            gradient,
            max_force: self.out.max_force().0,
            max_stress,
            volume,
        })
    }

    /// An error naming the iteration (and atom) if the energy, a force or, with a free
    /// cell, the virial is not finite.
    fn check_finite(&self, iteration: usize) -> Result<(), MinimizeError> {
        let energy = self.out.energy;
        if !energy.is_finite() {
            return Err(MinimizeError::NonFiniteEnergy { iteration, energy });
        }
        if let Some(atom) = self.out.forces.iter().position(|f| !f.is_finite()) {
            return Err(MinimizeError::NonFiniteForce { iteration, atom });
        }
        if self.mode != CellMode::Fixed && !self.out.virial.is_finite() {
            return Err(MinimizeError::NonFiniteVirial { iteration });
        }
        Ok(())
    }

    /// Leaves the system at `q` and returns the output there, evaluating once more if the
    /// last evaluation was elsewhere (an optimiser's rejected trial).
    pub fn finish(&mut self, q: &[f64], iteration: usize) -> Result<ForceOutput, MinimizeError> {
        if self.evaluated.as_deref() != Some(q) {
            self.evaluate(q, iteration)?;
        }
        Ok(self.out.clone())
    }
}
