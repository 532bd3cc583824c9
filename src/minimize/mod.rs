//! Energy minimisation: relaxes atom positions and, optionally, the cell to a local minimum
//! of the enthalpy H = E + P V, for any force field through the `Potential` trait.
//!
//! The cell is relaxed as in ASE's `UnitCellFilter` and LAMMPS's `fix box/relax`: the
//! optimisers see generalised coordinates (reference positions and a deformation gradient,
//! `cell`), evaluated by an `Objective`, and move them with FIRE (`fire`) or L-BFGS with a
//! backtracking line search (`lbfgs`).

mod cell;
mod fire;
mod lbfgs;
mod objective;

pub use objective::{Evaluation, Objective};

use crate::cell::CellError;
use crate::neighbors::NeighborList;
use crate::potential::{ForceOutput, Potential};
use crate::system::System;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The optimiser that moves the coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Fast inertial relaxation (Bitzek et al. 2006): robust far from the minimum.
    Fire,
    /// Limited-memory BFGS with a line search that never lets the enthalpy rise: fewer
    /// force calls close to the minimum.
    Lbfgs,
}

/// Which degrees of freedom of the cell relax with the atoms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellMode {
    /// The cell stays as it is; only atoms move (molecules in vacuum, fixed volume).
    Fixed,
    /// The cell scales uniformly (one variable) until the pressure is the target.
    Iso,
    /// Each axis scales on its own until each normal stress is the target.
    Aniso,
    /// Lengths, angles and shape relax (an upper-triangular deformation, no rotation)
    /// until all six stress components match the target.
    Tri,
}

impl fmt::Display for CellMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CellMode::Fixed => "fixed",
            CellMode::Iso => "iso",
            CellMode::Aniso => "aniso",
            CellMode::Tri => "tri",
        })
    }
}

/// What to relax, toward what target, and when to stop.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinimizeSettings {
    /// The optimiser.
    pub algorithm: Algorithm,
    /// Which cell degrees of freedom relax.
    pub cell: CellMode,
    /// Target pressure in the system's pressure units (bar in metal, reduced in lj).
    pub pressure: f64,
    /// Converged when the largest force on an atom is at most this (energy / length).
    pub fmax: f64,
    /// With a free cell, also converged only when the largest stress residual the mode
    /// can relax (pressure for iso, normal stresses for aniso, all six for tri) is at most
    /// this (pressure units).
    pub smax: f64,
    /// Most optimiser steps; the report says whether it converged before.
    pub max_iterations: usize,
    /// Largest move of an atom in one step (length); the cell block of the generalised
    /// coordinates counts as one more atom.
    pub max_step: f64,
}

/// One line of progress, handed to the observer once per iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Iteration {
    /// Iteration number, 0 for the starting state.
    pub iteration: usize,
    /// Potential energy (energy units).
    pub energy: f64,
    /// E + P V (equal to the energy with a fixed cell).
    pub enthalpy: f64,
    /// Largest force on an atom.
    pub max_force: f64,
    /// Largest stress residual the cell mode relaxes (0 with a fixed cell).
    pub max_stress: f64,
    /// Cell volume (0 for a system that is not periodic).
    pub volume: f64,
    /// True when the optimiser restarted here: FIRE zeroed its velocities, or L-BFGS
    /// dropped its memory.
    pub restart: bool,
}

/// The outcome of a minimisation; the system then holds the relaxed positions and cell.
#[derive(Clone, Debug)]
pub struct MinimizeReport {
    /// Optimiser steps taken.
    pub iterations: usize,
    /// Force evaluations made (L-BFGS's line search may take several per step).
    pub evaluations: usize,
    /// Final potential energy.
    pub energy: f64,
    /// Final enthalpy E + P V.
    pub enthalpy: f64,
    /// Final largest force on an atom.
    pub max_force: f64,
    /// Final largest stress residual (0 with a fixed cell).
    pub max_stress: f64,
    /// Whether both tolerances were met.
    pub converged: bool,
    /// Energy, forces and virial at the final state.
    pub forces: ForceOutput,
}

/// Why a minimisation could not run or stopped early. After an error in the middle the
/// system holds the last state evaluated.
#[derive(Debug, thiserror::Error)]
pub enum MinimizeError {
    #[error("cell relaxation `{mode}` needs a cell periodic along all three axes, but the periodicity is {pbc:?}; relax with cell `fixed`")]
    NotPeriodic { mode: CellMode, pbc: [bool; 3] },
    #[error("invalid minimisation settings: {0}")]
    Settings(String),
    #[error("iteration {iteration}: the potential energy is not a finite number ({energy})")]
    NonFiniteEnergy { iteration: usize, energy: f64 },
    #[error("iteration {iteration}: the force on atom {} is not finite", atom + 1)]
    NonFiniteForce { iteration: usize, atom: usize },
    #[error("iteration {iteration}: the virial is not finite")]
    NonFiniteVirial { iteration: usize },
    // the causes are said in the message and not chained, so that a report of the
    // whole chain says them once
    #[error("iteration {iteration}: the relaxed cell is invalid: {cause}")]
    Cell { iteration: usize, cause: CellError },
    #[error("stopped at iteration {iteration}: {cause:#}")]
    Stopped {
        iteration: usize,
        cause: anyhow::Error,
    },
}

/// Relaxes `system` with `potential` to the tolerances of `settings`, calling `observe`
/// once per iteration (an error from it stops the minimisation and is returned).
///
/// Positions and, unless the cell is fixed, the cell are updated in place; velocities are
/// untouched. Not converging within `max_iterations` is not an error: see `converged`.
pub fn minimize(
    system: &mut System,
    potential: &dyn Potential,
    neighbors: &mut NeighborList,
    settings: &MinimizeSettings,
    observe: &mut dyn FnMut(&Iteration) -> anyhow::Result<()>,
) -> Result<MinimizeReport, MinimizeError> {
    check_settings(settings)?;
    let n = system.len();
    let (mut objective, q) = Objective::new(
        system,
        potential,
        neighbors,
        settings.cell,
        settings.pressure,
    )?;
    log::info!(
        "minimising {n} atoms with {:?}, cell {} (target pressure {}), fmax {}, smax {}",
        settings.algorithm,
        settings.cell,
        settings.pressure,
        settings.fmax,
        settings.smax
    );
    let mut progress = Progress { settings, observe };
    let outcome = match settings.algorithm {
        Algorithm::Fire => fire::run(&mut objective, q, &mut progress)?,
        Algorithm::Lbfgs => lbfgs::run(&mut objective, q, &mut progress)?,
    };
    let evaluation = outcome.evaluation;
    let forces = objective.finish(&outcome.q, outcome.iterations)?;
    log::debug!(
        "minimisation {} after {} iterations ({} force evaluations): energy {}, max force {:e}, max stress {:e}",
        if outcome.converged { "converged" } else { "did not converge" },
        outcome.iterations,
        objective.evaluations(),
        evaluation.energy,
        evaluation.max_force,
        evaluation.max_stress
    );
    Ok(MinimizeReport {
        iterations: outcome.iterations,
        evaluations: objective.evaluations(),
        energy: evaluation.energy,
        enthalpy: evaluation.enthalpy,
        max_force: evaluation.max_force,
        max_stress: evaluation.max_stress,
        converged: outcome.converged,
        forces,
    })
}

/// Rejects tolerances and steps that are negative, zero where they must not be, or NaN.
fn check_settings(s: &MinimizeSettings) -> Result<(), MinimizeError> {
    let bad = |what: &str, value: f64| {
        Err(MinimizeError::Settings(format!(
            "{what} must be a finite number{}, not {value}",
            if what == "max_step" {
                " above 0"
            } else {
                " at least 0"
            }
        )))
    };
    for (what, value) in [("fmax", s.fmax), ("smax", s.smax)] {
        if !(value.is_finite() && value >= 0.0) {
            return bad(what, value);
        }
    }
    if !(s.max_step.is_finite() && s.max_step > 0.0) {
        return bad("max_step", s.max_step);
    }
    if !s.pressure.is_finite() {
        return Err(MinimizeError::Settings(format!(
            "the target pressure must be a finite number, not {}",
            s.pressure
        )));
    }
    Ok(())
}

/// Where an optimiser ended: its coordinates, their evaluation, and whether it converged.
struct Outcome {
    q: Vec<f64>,
    evaluation: Evaluation,
    iterations: usize,
    converged: bool,
}

/// What the optimisers share: the settings, the observer and the convergence test.
struct Progress<'a> {
    settings: &'a MinimizeSettings,
    observe: &'a mut dyn FnMut(&Iteration) -> anyhow::Result<()>,
}

impl Progress<'_> {
    /// Hands iteration `iteration` at `e` to the observer; true when `e` is converged.
    fn report(
        &mut self,
        iteration: usize,
        e: &Evaluation,
        restart: bool,
    ) -> Result<bool, MinimizeError> {
        let line = Iteration {
            iteration,
            energy: e.energy,
            enthalpy: e.enthalpy,
            max_force: e.max_force,
            max_stress: e.max_stress,
            volume: e.volume,
            restart,
        };
        log::debug!(
            "minimise {iteration}: E {} H {} fmax {:e} smax {:e} V {}{}",
            e.energy,
            e.enthalpy,
            e.max_force,
            e.max_stress,
            e.volume,
            if restart { " (restart)" } else { "" }
        );
        (self.observe)(&line).map_err(|cause| MinimizeError::Stopped { iteration, cause })?;
        let s = self.settings;
        Ok(e.max_force <= s.fmax && (s.cell == CellMode::Fixed || e.max_stress <= s.smax))
    }
}

/// The smallest enthalpy change taken as real rather than rounding: sums of many
/// per-atom terms are not reproducible to better than this when the neighbour order
/// changes, so the descent tests allow it.
fn noise_floor(enthalpy: f64) -> f64 {
    1e-12 * enthalpy.abs()
}

/// Σ a_k b_k.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// y ← y + s x.
fn axpy(s: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += s * x;
    }
}
