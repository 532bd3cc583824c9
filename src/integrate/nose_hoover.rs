//! Nosé–Hoover chain thermostat (Martyna, Klein & Tuckerman 1992) integrated with the
//! Trotter splitting of Martyna, Tuckerman, Tobias & Klein (1996): a chain half step,
//! velocity Verlet, a chain half step.

use super::chain::Chain;
use super::{drift, kick, Integrator};
use crate::potential::ForceOutput;
use crate::system::System;

/// NVT by a chain of `len` Nosé–Hoover thermostats with relaxation time `damping`.
#[derive(Clone, Debug)]
pub struct NoseHooverChain {
    dt: f64,
    temperature: f64,
    damping: f64,
    chain: Chain,
}

impl NoseHooverChain {
    /// Timestep `dt`, target `temperature`, relaxation time `damping`, chain length `len` ≥ 1.
    pub fn new(dt: f64, temperature: f64, damping: f64, len: usize) -> NoseHooverChain {
        NoseHooverChain {
            dt,
            temperature,
            damping,
            chain: Chain::new(damping, len),
        }
    }

    /// Propagates chain and particle velocities by half a timestep.
    fn half_step(&mut self, system: &mut System) {
        let kt = system.units.boltzmann() * self.temperature;
        let dof = system.degrees_of_freedom();
        let twice_ke = 2.0 * system.kinetic_energy();
        let scale = self.chain.half_step(self.dt, twice_ke, dof, kt);
        for v in &mut system.velocities {
            *v *= scale;
        }
    }
}

impl Integrator for NoseHooverChain {
    fn name(&self) -> String {
        format!(
            "Nosé–Hoover chain (T = {}, damping = {}, length {}, dt = {})",
            self.temperature,
            self.damping,
            self.chain.len(),
            self.dt
        )
    }

    fn timestep(&self) -> f64 {
        self.dt
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("timestep", self.dt.to_string()),
            ("thermostat", "nose-hoover".into()),
            ("temperature", self.temperature.to_string()),
            ("damping", self.damping.to_string()),
            ("chain", self.chain.len().to_string()),
        ]
    }

    fn initial_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        self.half_step(system);
        kick(system, &forces.forces, 0.5 * self.dt);
        drift(system, self.dt);
    }

    fn final_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        kick(system, &forces.forces, 0.5 * self.dt);
        self.half_step(system);
    }

    /// Chain positions then chain velocities.
    fn state(&self) -> Vec<u64> {
        self.chain.state()
    }

    fn restore(&mut self, state: &[u64]) -> Result<(), String> {
        self.chain.restore(state)
    }

    /// Σ Qₖ vₖ²/2 + N_f kT ξ₀ + kT Σₖ₌₁ ξₖ: the chain's share of the conserved energy.
    fn reservoir_energy(&self, system: &System) -> f64 {
        let kt = system.units.boltzmann() * self.temperature;
        self.chain.energy(system.degrees_of_freedom(), kt)
    }
}
