//! Initial velocities drawn from the Maxwell–Boltzmann distribution.

use crate::system::System;
use glam::DVec3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Draws Maxwell–Boltzmann velocities at `temperature` (seeded, reproducible), removes the
/// total momentum and rescales so the instantaneous temperature is exactly `temperature`.
pub fn maxwell_boltzmann(system: &mut System, temperature: f64, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kt = system.units.boltzmann() * temperature / system.units.mvv_to_energy();
    for i in 0..system.len() {
        let sigma = (kt / system.mass(i)).sqrt();
        let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
        system.velocities[i] = DVec3::new(g(), g(), g()) * sigma;
    }
    system.zero_momentum();
    let t = system.temperature();
    if t > 0.0 {
        let scale = (temperature / t).sqrt();
        for v in &mut system.velocities {
            *v *= scale;
        }
    }
}
