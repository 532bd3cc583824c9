//! Nosé–Hoover chain thermostat (Martyna, Klein & Tuckerman 1992) integrated with the
//! Trotter splitting of Martyna, Tuckerman, Tobias & Klein (1996): a chain half step,
//! velocity Verlet, a chain half step.

use super::{drift, kick, Integrator};
use crate::system::System;
use glam::DVec3;

/// NVT by a chain of `len` Nosé–Hoover thermostats with relaxation time `damping`.
#[derive(Clone, Debug)]
pub struct NoseHooverChain {
    dt: f64,
    temperature: f64,
    damping: f64,
    positions: Vec<f64>,
    velocities: Vec<f64>,
}

impl NoseHooverChain {
    /// Timestep `dt`, target `temperature`, relaxation time `damping`, chain length `len` ≥ 1.
    pub fn new(dt: f64, temperature: f64, damping: f64, len: usize) -> NoseHooverChain {
        let len = len.max(1);
        NoseHooverChain {
            dt,
            temperature,
            damping,
            positions: vec![0.0; len],
            velocities: vec![0.0; len],
        }
    }

    /// Thermostat masses: Q₀ = N_f kT τ², Qₖ = kT τ².
    fn masses(&self, system: &System) -> Vec<f64> {
        let kt = system.units.boltzmann() * self.temperature;
        let tau2 = self.damping * self.damping;
        (0..self.velocities.len())
            .map(|k| {
                if k == 0 {
                    system.degrees_of_freedom() * kt * tau2
                } else {
                    kt * tau2
                }
            })
            .collect()
    }

    /// Force on chain element `k` given twice the kinetic energy of the particles.
    fn chain_force(&self, k: usize, twice_ke: f64, q: &[f64], dof: f64, kt: f64) -> f64 {
        if k == 0 {
            (twice_ke - dof * kt) / q[0]
        } else {
            (q[k - 1] * self.velocities[k - 1].powi(2) - kt) / q[k]
        }
    }

    /// Propagates chain and particle velocities by half a timestep.
    fn half_step(&mut self, system: &mut System) {
        let m = self.velocities.len();
        let q = self.masses(system);
        let kt = system.units.boltzmann() * self.temperature;
        let dof = system.degrees_of_freedom();
        let (dt2, dt4, dt8) = (0.5 * self.dt, 0.25 * self.dt, 0.125 * self.dt);
        let mut twice_ke = 2.0 * system.kinetic_energy();

        for k in (0..m).rev() {
            if k + 1 < m {
                self.velocities[k] *= (-dt8 * self.velocities[k + 1]).exp();
            }
            self.velocities[k] += dt4 * self.chain_force(k, twice_ke, &q, dof, kt);
            if k + 1 < m {
                self.velocities[k] *= (-dt8 * self.velocities[k + 1]).exp();
            }
        }
        let scale = (-dt2 * self.velocities[0]).exp();
        for v in &mut system.velocities {
            *v *= scale;
        }
        twice_ke *= scale * scale;
        for (x, v) in self.positions.iter_mut().zip(&self.velocities) {
            *x += dt2 * v;
        }
        for k in 0..m {
            if k + 1 < m {
                self.velocities[k] *= (-dt8 * self.velocities[k + 1]).exp();
            }
            self.velocities[k] += dt4 * self.chain_force(k, twice_ke, &q, dof, kt);
            if k + 1 < m {
                self.velocities[k] *= (-dt8 * self.velocities[k + 1]).exp();
            }
        }
    }
}

impl Integrator for NoseHooverChain {
    fn name(&self) -> String {
        format!(
            "Nosé–Hoover chain (T = {}, damping = {}, length {}, dt = {})",
            self.temperature,
            self.damping,
            self.velocities.len(),
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
            ("chain", self.velocities.len().to_string()),
        ]
    }

    fn initial_integrate(&mut self, system: &mut System, forces: &[DVec3]) {
        self.half_step(system);
        kick(system, forces, 0.5 * self.dt);
        drift(system, self.dt);
    }

    fn final_integrate(&mut self, system: &mut System, forces: &[DVec3]) {
        kick(system, forces, 0.5 * self.dt);
        self.half_step(system);
    }

    /// Chain positions then chain velocities.
    fn state(&self) -> Vec<u64> {
        self.positions
            .iter()
            .chain(&self.velocities)
            .map(|x| x.to_bits())
            .collect()
    }

    fn restore(&mut self, state: &[u64]) -> Result<(), String> {
        let m = self.velocities.len();
        if state.len() != 2 * m {
            return Err(format!(
                "a Nosé–Hoover chain of {m} has {} words, got {}",
                2 * m,
                state.len()
            ));
        }
        for (x, w) in self
            .positions
            .iter_mut()
            .chain(&mut self.velocities)
            .zip(state)
        {
            *x = f64::from_bits(*w);
        }
        Ok(())
    }

    /// Σ Qₖ vₖ²/2 + N_f kT ξ₀ + kT Σₖ₌₁ ξₖ: the chain's share of the conserved energy.
    fn reservoir_energy(&self, system: &System) -> f64 {
        let q = self.masses(system);
        let kt = system.units.boltzmann() * self.temperature;
        let dof = system.degrees_of_freedom();
        let kinetic: f64 = q
            .iter()
            .zip(&self.velocities)
            .map(|(q, v)| 0.5 * q * v * v)
            .sum();
        let potential: f64 = self
            .positions
            .iter()
            .enumerate()
            .map(|(k, x)| if k == 0 { dof * kt * x } else { kt * x })
            .sum();
        kinetic + potential
    }
}
