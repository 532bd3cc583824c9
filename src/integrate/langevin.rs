//! Langevin dynamics with the BAOAB splitting (Leimkuhler & Matthews): kick, half drift,
//! exact Ornstein–Uhlenbeck velocity update, half drift, kick. Seeded and reproducible.

use super::rng::{rng_from_state, rng_state, RNG_WORDS};
use super::{drift, kick, Integrator};
use crate::potential::ForceOutput;
use crate::system::System;
use glam::DVec3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// NVT by a Langevin thermostat with friction 1/`damping` at `temperature`.
#[derive(Clone, Debug)]
pub struct Langevin {
    dt: f64,
    temperature: f64,
    damping: f64,
    seed: u64,
    rng: ChaCha8Rng,
    heat: f64,
}

impl Langevin {
    /// Timestep `dt`, target `temperature`, relaxation time `damping` (time units), RNG `seed`.
    pub fn new(dt: f64, temperature: f64, damping: f64, seed: u64) -> Langevin {
        Langevin {
            dt,
            temperature,
            damping,
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            heat: 0.0,
        }
    }

    /// The O step: v ← c₁ v + c₂ √(kT/m) ξ, exact for the Ornstein–Uhlenbeck process,
    /// with the random kicks' total momentum taken out (as LAMMPS's `fix langevin ... zero
    /// yes`): the centre of mass is not heated, the momentum stays zero, and the 3N − 3
    /// internal degrees of freedom every integrator counts sample the target temperature.
    fn thermalize(&mut self, system: &mut System) {
        let c1 = (-self.dt / self.damping).exp();
        let c2 = (1.0 - c1 * c1).sqrt();
        let kt = system.units.boltzmann() * self.temperature / system.units.mvv_to_energy();
        let ke_before = system.kinetic_energy();
        let n = system.len();
        let mut kicks = Vec::with_capacity(n);
        let (mut total, mut mass) = (DVec3::ZERO, 0.0);
        for i in 0..n {
            let sigma = c2 * (kt / system.mass(i)).sqrt();
            let mut g = || -> f64 { StandardNormal.sample(&mut self.rng) };
            let dv = DVec3::new(g(), g(), g()) * sigma;
            total += dv * system.mass(i);
            mass += system.mass(i);
            kicks.push(dv);
        }
        // a lone atom has no internal motion: it keeps its full kick
        let drift = if n > 1 { total / mass } else { DVec3::ZERO };
        for (v, dv) in system.velocities.iter_mut().zip(kicks) {
            *v = *v * c1 + dv - drift;
        }
        self.heat += ke_before - system.kinetic_energy();
    }
}

impl Integrator for Langevin {
    fn name(&self) -> String {
        format!(
            "Langevin BAOAB (T = {}, damping = {}, dt = {})",
            self.temperature, self.damping, self.dt
        )
    }

    fn timestep(&self) -> f64 {
        self.dt
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("timestep", self.dt.to_string()),
            ("thermostat", "langevin".into()),
            ("temperature", self.temperature.to_string()),
            ("damping", self.damping.to_string()),
            ("seed", self.seed.to_string()),
        ]
    }

    fn initial_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        kick(system, &forces.forces, 0.5 * self.dt);
        drift(system, 0.5 * self.dt);
        self.thermalize(system);
        drift(system, 0.5 * self.dt);
    }

    fn final_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        kick(system, &forces.forces, 0.5 * self.dt);
    }

    fn reservoir_energy(&self, _system: &System) -> f64 {
        self.heat
    }

    /// Seed (4 words), stream, word position (2 words) and the heat exchanged.
    fn state(&self) -> Vec<u64> {
        let mut words = rng_state(&self.rng).to_vec();
        words.push(self.heat.to_bits());
        words
    }

    fn restore(&mut self, state: &[u64]) -> Result<(), String> {
        let Some((heat, rng)) = state.split_last().filter(|_| state.len() == RNG_WORDS + 1) else {
            return Err(format!("a Langevin state has 8 words, got {}", state.len()));
        };
        self.rng = rng_from_state(rng.try_into().expect("7 words"));
        self.heat = f64::from_bits(*heat);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::units::Units;

    #[test]
    fn kicks_leave_a_zero_momentum_zero_and_heat_the_internal_motion() {
        let mut s = System::new(Cell::vacuum(), Units::Metal);
        let (h, o) = (s.add_species("H", 1.008), s.add_species("O", 15.999));
        for (k, x) in [(o, 0.0), (h, 1.0), (h, -1.0), (o, 3.0)] {
            s.add_atom(k, DVec3::new(x, 0.1 * x, 0.0));
        }
        let mut l = Langevin::new(0.001, 300.0, 0.01, 7);
        let mut t = 0.0;
        for step in 0..20_000 {
            l.thermalize(&mut s);
            assert!(
                s.momentum().length() < 1e-12,
                "step {step}: {}",
                s.momentum()
            );
            if step >= 1000 {
                t += s.temperature();
            }
        }
        let mean = t / 19_000.0;
        assert!((mean - 300.0).abs() < 10.0, "mean T {mean}");
    }
}
