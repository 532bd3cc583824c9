//! Stochastic cell rescaling (Bernetti & Bussi, J. Chem. Phys. 153, 114107 (2020)):
//! isotropic NPT as a first-order stochastic equation for ε = ln V,
//!
//! dε = −(β_T / τ_p)(P₀ − P − kT/V) dt + √(2 kT β_T / (V τ_p)) dW,
//!
//! applied before each step, with positions and the cell scaled by e^{dε/3} and velocities
//! by e^{−dε/3}; any thermostat keeps the temperature. It samples the isothermal–isobaric
//! ensemble with the right volume fluctuations and never drives the cell by inertia, which
//! makes it robust for potentials that are not smooth everywhere (learned ones).

use super::barostat::dilate;
use super::rng::{rng_from_state, rng_state, RNG_WORDS};
use super::Integrator;
use crate::potential::ForceOutput;
use crate::system::System;
use glam::DVec3;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Parameters of the C-rescale barostat, in the system's units (pressure and
/// compressibility in the deck's pressure units).
#[derive(Clone, Copy, Debug)]
pub struct CRescaleSettings {
    pub temperature: f64,
    pub pressure: f64,
    /// Relaxation time of the volume, τ_p.
    pub damping: f64,
    /// Isothermal compressibility β_T (inverse pressure); sets only how fast the volume
    /// relaxes, not the fluctuations it samples.
    pub compressibility: f64,
    pub seed: u64,
}

/// A thermostatted integrator with the C-rescale barostat before each step.
pub struct CRescale {
    s: CRescaleSettings,
    inner: Box<dyn Integrator>,
    rng: ChaCha8Rng,
    /// Work the barostat has done on the system beyond P₀ dV (energy units).
    work: f64,
}

impl CRescale {
    /// C-rescale around `inner` (which sets the timestep and the temperature).
    pub fn new(settings: CRescaleSettings, inner: Box<dyn Integrator>) -> CRescale {
        CRescale {
            s: settings,
            inner,
            rng: ChaCha8Rng::seed_from_u64(settings.seed),
            work: 0.0,
        }
    }

    /// One rescaling over a timestep, from the pressure of the current state.
    fn rescale(&mut self, system: &mut System, forces: &ForceOutput) {
        let to_pressure = system.units.energy_per_volume_to_pressure();
        let dt = self.inner.timestep();
        let volume = system.cell.volume();
        let kt = system.units.boltzmann() * self.s.temperature;
        let p0 = self.s.pressure / to_pressure;
        let beta = self.s.compressibility * to_pressure;
        let ke = system.kinetic_energy();
        let trace = forces.virial.x_axis.x + forces.virial.y_axis.y + forces.virial.z_axis.z;
        let p = (2.0 * ke + trace) / (3.0 * volume);
        let noise: f64 = StandardNormal.sample(&mut self.rng);
        let d_eps = -beta / self.s.damping * (p0 - p - kt / volume) * dt
            + (2.0 * kt * beta * dt / (volume * self.s.damping)).sqrt() * noise;
        let mu = (d_eps / 3.0).exp();
        dilate(system, DVec3::splat(mu));
        for v in &mut system.velocities {
            *v /= mu;
        }
        // energy the scaling put in: kinetic exactly, potential to first order (−tr W dε/3)
        let d_ke = system.kinetic_energy() - ke;
        let d_pe = -trace * d_eps / 3.0;
        let d_pv = p0 * (system.cell.volume() - volume);
        self.work -= d_ke + d_pe + d_pv;
    }
}

impl Integrator for CRescale {
    fn name(&self) -> String {
        format!(
            "{} with C-rescale (P = {}, damping {}, compressibility {})",
            self.inner.name(),
            self.s.pressure,
            self.s.damping,
            self.s.compressibility
        )
    }

    fn timestep(&self) -> f64 {
        self.inner.timestep()
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        let mut out = self.inner.settings();
        out.extend([
            ("barostat", "c-rescale".to_string()),
            ("barostat.pressure", self.s.pressure.to_string()),
            ("barostat.damping", self.s.damping.to_string()),
            (
                "barostat.compressibility",
                self.s.compressibility.to_string(),
            ),
            ("barostat.seed", self.s.seed.to_string()),
        ]);
        out
    }

    fn changes_cell(&self) -> bool {
        true
    }

    fn initial_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        self.rescale(system, forces);
        self.inner.initial_integrate(system, forces);
    }

    fn final_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        self.inner.final_integrate(system, forces);
    }

    /// The thermostat's share, P₀ V, and the barostat's work: an effective energy that
    /// changes only by the first-order error of the potential-energy estimate.
    fn reservoir_energy(&self, system: &System) -> f64 {
        let p0 = self.s.pressure / system.units.energy_per_volume_to_pressure();
        self.inner.reservoir_energy(system) + p0 * system.cell.volume() + self.work
    }

    /// The thermostat's words, then the generator (seed, stream, position) and the work.
    fn state(&self) -> Vec<u64> {
        let mut words = self.inner.state();
        words.extend(rng_state(&self.rng));
        words.push(self.work.to_bits());
        words
    }

    fn restore(&mut self, state: &[u64]) -> Result<(), String> {
        let own = RNG_WORDS + 1;
        if state.len() < own {
            return Err(format!(
                "a C-rescale state has at least {own} words, got {}",
                state.len()
            ));
        }
        let (inner, mine) = state.split_at(state.len() - own);
        self.inner.restore(inner)?;
        self.rng = rng_from_state(mine[..RNG_WORDS].try_into().expect("7 words"));
        self.work = f64::from_bits(mine[RNG_WORDS]);
        Ok(())
    }
}
