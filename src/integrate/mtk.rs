//! NPT by the Martyna–Tobias–Klein equations (MTK 1994, integrated as Tuckerman et al.
//! 2006 and LAMMPS's `fix npt` do): a Nosé–Hoover chain on the particles, a strain rate
//! v_ε with mass W = (N + 1) kT τ_p² per barostat degree of freedom, and a second chain on
//! the barostat. The equations, per axis a (iso: one v_ε for all axes):
//!
//! ṙ = v + v_ε r,  v̇ = F/m − (v_ε + Σ v_ε / N_f) v − ξ̇ v,
//! W v̇_ε = V (P_aa − P₀) + 2 KE / N_f − W v_ε η̇,
//!
//! (iso: W v̇_ε = 3 V (P − P₀) + 6 KE / N_f), which conserve
//! H = KE + U + P₀ V + W Σ v_ε²/2 + the two chains' energies.

use super::barostat::{dilate, pressure_tensor, Coupling};
use super::chain::Chain;
use super::{drift, kick, Integrator};
use crate::potential::ForceOutput;
use crate::system::System;
use glam::{DMat3, DVec3};

/// Parameters of MTK NPT, in the system's units (pressure in the deck's pressure units).
#[derive(Clone, Copy, Debug)]
pub struct MtkSettings {
    pub timestep: f64,
    pub temperature: f64,
    /// Thermostat relaxation time τ_T.
    pub temperature_damping: f64,
    pub pressure: f64,
    /// Barostat relaxation time τ_p.
    pub pressure_damping: f64,
    pub coupling: Coupling,
    /// Length of each of the two chains.
    pub chain: usize,
}

/// Nosé–Hoover NPT with the MTK barostat.
#[derive(Clone, Debug)]
pub struct Mtk {
    s: MtkSettings,
    particles: Chain,
    barostat: Chain,
    /// Strain rate per axis (all equal under iso coupling).
    rate: DVec3,
}

impl Mtk {
    /// MTK NPT with `settings`, barostat and thermostats at rest.
    pub fn new(settings: MtkSettings) -> Mtk {
        Mtk {
            s: settings,
            particles: Chain::new(settings.temperature_damping, settings.chain),
            barostat: Chain::new(settings.pressure_damping, settings.chain),
            rate: DVec3::ZERO,
        }
    }

    fn kt(&self, system: &System) -> f64 {
        system.units.boltzmann() * self.s.temperature
    }

    /// The barostat mass W = (N + 1) kT τ_p², LAMMPS's choice.
    fn mass(&self, system: &System) -> f64 {
        (system.len() as f64 + 1.0) * self.kt(system) * self.s.pressure_damping.powi(2)
    }

    /// Target pressure in energy per volume.
    fn target(&self, system: &System) -> f64 {
        self.s.pressure / system.units.energy_per_volume_to_pressure()
    }

    /// Twice the barostat's kinetic energy, W Σ v_ε² over its degrees of freedom.
    fn twice_barostat_ke(&self, system: &System) -> f64 {
        let w = self.mass(system);
        match self.s.coupling {
            Coupling::Iso => w * self.rate.x * self.rate.x,
            Coupling::Aniso => w * self.rate.length_squared(),
        }
    }

    /// Half a step of both chains: the barostat's (scaling v_ε), then the particles'.
    fn chains_half_step(&mut self, system: &mut System, barostat_first: bool) {
        let kt = self.kt(system);
        let nb = self.s.coupling.dimensions() as f64;
        if barostat_first {
            let scale =
                self.barostat
                    .half_step(self.s.timestep, self.twice_barostat_ke(system), nb, kt);
            self.rate *= scale;
        }
        let dof = system.degrees_of_freedom();
        let scale =
            self.particles
                .half_step(self.s.timestep, 2.0 * system.kinetic_energy(), dof, kt);
        for v in &mut system.velocities {
            *v *= scale;
        }
        if !barostat_first {
            let scale =
                self.barostat
                    .half_step(self.s.timestep, self.twice_barostat_ke(system), nb, kt);
            self.rate *= scale;
        }
    }

    /// Half a step of the strain rate under the pressure of the current state.
    fn rate_half_step(&mut self, system: &System, virial: &DMat3) {
        let p = pressure_tensor(system, virial);
        let volume = system.cell.volume();
        let w = self.mass(system);
        let p0 = self.target(system);
        let twice_ke_per_dof = 2.0 * system.kinetic_energy() / system.degrees_of_freedom();
        let half = 0.5 * self.s.timestep;
        match self.s.coupling {
            Coupling::Iso => {
                let trace = p.x_axis.x + p.y_axis.y + p.z_axis.z;
                let f = (volume * (trace - 3.0 * p0) + 3.0 * twice_ke_per_dof) / w;
                self.rate = DVec3::splat(self.rate.x + half * f);
            }
            Coupling::Aniso => {
                let diagonal = DVec3::new(p.x_axis.x, p.y_axis.y, p.z_axis.z);
                let f =
                    (volume * (diagonal - DVec3::splat(p0)) + DVec3::splat(twice_ke_per_dof)) / w;
                self.rate += f * half;
            }
        }
    }

    /// Half a kick with the barostat's drag on the velocities around it (quarter steps).
    fn coupled_kick(&self, system: &mut System, forces: &[DVec3]) {
        let drag = self.rate + DVec3::splat(self.rate.element_sum() / system.degrees_of_freedom());
        let quarter = (-drag * (0.25 * self.s.timestep)).exp();
        for v in &mut system.velocities {
            *v *= quarter;
        }
        kick(system, forces, 0.5 * self.s.timestep);
        for v in &mut system.velocities {
            *v *= quarter;
        }
    }
}

impl Integrator for Mtk {
    fn name(&self) -> String {
        let s = &self.s;
        format!(
            "MTK Nosé–Hoover NPT (T = {}, damping {}; P = {}, damping {}, {}; chains of {}, dt = {})",
            s.temperature,
            s.temperature_damping,
            s.pressure,
            s.pressure_damping,
            s.coupling.name(),
            s.chain,
            s.timestep
        )
    }

    fn timestep(&self) -> f64 {
        self.s.timestep
    }

    fn settings(&self) -> Vec<(&'static str, String)> {
        let s = &self.s;
        vec![
            ("timestep", s.timestep.to_string()),
            ("thermostat", "nose-hoover".into()),
            ("temperature", s.temperature.to_string()),
            ("damping", s.temperature_damping.to_string()),
            ("chain", s.chain.to_string()),
            ("barostat", "mtk".into()),
            ("barostat.pressure", s.pressure.to_string()),
            ("barostat.damping", s.pressure_damping.to_string()),
            ("barostat.couple", s.coupling.name().into()),
        ]
    }

    fn changes_cell(&self) -> bool {
        true
    }

    fn initial_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        self.chains_half_step(system, true);
        self.rate_half_step(system, &forces.virial);
        self.coupled_kick(system, &forces.forces);
        let half = (self.rate * (0.5 * self.s.timestep)).exp();
        dilate(system, half);
        drift(system, self.s.timestep);
        dilate(system, half);
    }

    fn final_integrate(&mut self, system: &mut System, forces: &ForceOutput) {
        self.coupled_kick(system, &forces.forces);
        self.rate_half_step(system, &forces.virial);
        self.chains_half_step(system, false);
    }

    /// P₀ V + W Σ v_ε²/2 + both chains' energies.
    fn reservoir_energy(&self, system: &System) -> f64 {
        let kt = self.kt(system);
        let nb = self.s.coupling.dimensions() as f64;
        self.target(system) * system.cell.volume()
            + 0.5 * self.twice_barostat_ke(system)
            + self.particles.energy(system.degrees_of_freedom(), kt)
            + self.barostat.energy(nb, kt)
    }

    /// The particles' chain, the barostat's chain, then the three strain rates.
    fn state(&self) -> Vec<u64> {
        let mut words = self.particles.state();
        words.extend(self.barostat.state());
        words.extend(self.rate.to_array().map(f64::to_bits));
        words
    }

    fn restore(&mut self, state: &[u64]) -> Result<(), String> {
        let m = 2 * self.s.chain.max(1);
        if state.len() != 2 * m + 3 {
            return Err(format!(
                "an MTK state has {} words, got {}",
                2 * m + 3,
                state.len()
            ));
        }
        self.particles.restore(&state[..m])?;
        self.barostat.restore(&state[m..2 * m])?;
        let r = &state[2 * m..];
        self.rate = DVec3::new(
            f64::from_bits(r[0]),
            f64::from_bits(r[1]),
            f64::from_bits(r[2]),
        );
        Ok(())
    }
}
