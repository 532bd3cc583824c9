//! Time integration, split the way LAMMPS splits its fixes: `initial_integrate` runs before
//! forces are computed (half kick, drift, thermostat half steps) and `final_integrate` after
//! (the second half kick). Velocity Verlet (NVE), Langevin (BAOAB), a Nosé–Hoover chain
//! (NVT), MTK Nosé–Hoover NPT and the C-rescale barostat around any of the thermostats share
//! the kick and drift below.

mod barostat;
mod c_rescale;
mod chain;
mod langevin;
mod mtk;
mod nose_hoover;
mod rng;
mod velocities;

pub use barostat::{check_periodic, Coupling};
pub use c_rescale::{CRescale, CRescaleSettings};
pub use langevin::Langevin;
pub use mtk::{Mtk, MtkSettings};
pub use nose_hoover::NoseHooverChain;
pub use velocities::maxwell_boltzmann;

use crate::potential::ForceOutput;
use crate::system::System;
use glam::DVec3;
use rayon::prelude::*;

/// A time integrator acting on a system between force evaluations.
pub trait Integrator: Send {
    /// A short description for logs.
    fn name(&self) -> String;
    /// The timestep (time units).
    fn timestep(&self) -> f64;
    /// What the trajectory depends on, as (name, value) text: `timestep`, `thermostat`
    /// (its kind, or `none`) and the thermostat's parameters; a checkpoint keeps them, so
    /// that a restart under others is refused.
    fn settings(&self) -> Vec<(&'static str, String)>;
    /// Advances velocities and positions up to the next force evaluation.
    fn initial_integrate(&mut self, system: &mut System, forces: &ForceOutput);
    /// Completes the step with the new forces.
    fn final_integrate(&mut self, system: &mut System, forces: &ForceOutput);
    /// True for integrators that change the cell (barostats).
    fn changes_cell(&self) -> bool {
        false
    }
    /// Energy that left the system into the thermostat so far; adding it to the total
    /// energy gives the quantity the integrator conserves (zero for NVE).
    fn reservoir_energy(&self, _system: &System) -> f64 {
        0.0
    }
    /// The integrator's internal state (thermostat variables, random-number generator) as
    /// words, so that a checkpoint can restore it exactly.
    fn state(&self) -> Vec<u64> {
        Vec::new()
    }
    /// Restores a state from `state`; an error if it does not fit this integrator.
    fn restore(&mut self, state: &[u64]) -> Result<(), String> {
        if state.is_empty() {
            Ok(())
        } else {
            Err(format!("{} has no state to restore", self.name()))
        }
    }
}

/// Atoms per parallel work item in the O(N) updates.
const CHUNK: usize = 4096;

/// v ← v + dt · F / m (in the system's units).
pub fn kick(system: &mut System, forces: &[DVec3], dt: f64) {
    let scale = dt * system.units.force_over_mass_to_accel();
    let inv_mass: Vec<f64> = system.species_masses.iter().map(|m| scale / m).collect();
    system
        .velocities
        .par_chunks_mut(CHUNK)
        .zip(forces.par_chunks(CHUNK))
        .zip(system.species.par_chunks(CHUNK))
        .for_each(|((v, f), s)| {
            for ((v, f), &s) in v.iter_mut().zip(f).zip(s) {
                *v += *f * inv_mass[s];
            }
        });
}

/// x ← x + dt · v.
pub fn drift(system: &mut System, dt: f64) {
    system
        .positions
        .par_chunks_mut(CHUNK)
        .zip(system.velocities.par_chunks(CHUNK))
        .for_each(|(x, v)| {
            for (x, v) in x.iter_mut().zip(v) {
                *x += *v * dt;
            }
        });
}

/// Velocity Verlet: microcanonical (NVE), time-reversible and symplectic.
#[derive(Clone, Debug)]
pub struct VelocityVerlet {
    dt: f64,
}

impl VelocityVerlet {
    /// Velocity Verlet with timestep `dt`.
    pub fn new(dt: f64) -> VelocityVerlet {
        VelocityVerlet { dt }
    }
}

impl Integrator for VelocityVerlet {
    fn name(&self) -> String {
        format!("velocity Verlet (NVE, dt = {})", self.dt)
    }

    fn timestep(&self) -> f64 {
        self.dt
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("timestep", self.dt.to_string()),
            ("thermostat", "none".into()),
        ]
    }

    fn initial_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        kick(system, &forces.forces, 0.5 * self.dt);
        drift(system, self.dt);
    }

    fn final_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        kick(system, &forces.forces, 0.5 * self.dt);
    }
}
