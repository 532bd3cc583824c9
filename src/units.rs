//! Unit systems: `metal` (Å, eV, ps, amu, K, bar) and `lj` (reduced σ = ε = m = k_B = 1).
//!
//! Every quantity inside eqmd is held in the deck's unit system; these constants convert
//! between the mechanical and thermodynamic pieces the way LAMMPS does (`mvv2e`, `ftm2v`,
//! `nktv2p`).

use serde::{Deserialize, Serialize};

/// The unit system a deck, a system and its output are expressed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// Å, eV, ps, amu, K, bar: the units of LAMMPS `metal` and of ASE.
    #[default]
    Metal,
    /// Reduced Lennard-Jones units: σ = ε = m = k_B = 1.
    Lj,
}

/// Boltzmann's constant in eV/K (CODATA 2018).
pub const BOLTZMANN_EV_PER_K: f64 = 8.617333262e-5;
/// One amu·Å²/ps² in eV.
pub const AMU_A2_PER_PS2_IN_EV: f64 = 1.0364269e-4;
/// One eV in kJ/mol (e N_A / 1000, CODATA 2018): H5MD forces are stored in kJ mol⁻¹ Å⁻¹,
/// a unit MDAnalysis and GROMACS-minded readers know.
pub const EV_IN_KJ_PER_MOL: f64 = 96.485_332_123_310_02;
/// One eV/Å³ in bar (the value LAMMPS uses, so pressures agree digit for digit).
pub const EV_PER_A3_IN_BAR: f64 = 1.602_176_5e6;

impl Units {
    /// ASE's unit of time in this unit system: Å √(amu/eV) ≈ 10.18 fs in metal units
    /// (ASE's velocities are in Å per it, its `momenta` in amu Å per it); 1 in LJ units,
    /// where ASE's numbers are taken as reduced.
    pub fn ase_time(self) -> f64 {
        match self {
            Units::Metal => AMU_A2_PER_PS2_IN_EV.sqrt(),
            Units::Lj => 1.0,
        }
    }

    /// k_B in energy units per temperature unit.
    pub fn boltzmann(self) -> f64 {
        match self {
            Units::Metal => BOLTZMANN_EV_PER_K,
            Units::Lj => 1.0,
        }
    }

    /// Converts m·v² (mass × velocity²) to energy units.
    pub fn mvv_to_energy(self) -> f64 {
        match self {
            Units::Metal => AMU_A2_PER_PS2_IN_EV,
            Units::Lj => 1.0,
        }
    }

    /// Converts force / mass to acceleration (velocity per time unit).
    pub fn force_over_mass_to_accel(self) -> f64 {
        1.0 / self.mvv_to_energy()
    }

    /// Converts energy / volume to pressure units.
    pub fn energy_per_volume_to_pressure(self) -> f64 {
        match self {
            Units::Metal => EV_PER_A3_IN_BAR,
            Units::Lj => 1.0,
        }
    }

    /// The name of the unit system, as written in decks.
    pub fn name(self) -> &'static str {
        match self {
            Units::Metal => "metal",
            Units::Lj => "lj",
        }
    }
}

/// Standard atomic masses (amu) for the elements a deck is likely to name.
pub fn atomic_mass(symbol: &str) -> Option<f64> {
    let m = match symbol {
        "H" => 1.008,
        "He" => 4.002602,
        "Li" => 6.94,
        "Be" => 9.0121831,
        "B" => 10.81,
        "C" => 12.011,
        "N" => 14.007,
        "O" => 15.999,
        "F" => 18.998403163,
        "Ne" => 20.1797,
        "Na" => 22.98976928,
        "Mg" => 24.305,
        "Al" => 26.9815385,
        "Si" => 28.085,
        "P" => 30.973761998,
        "S" => 32.06,
        "Cl" => 35.45,
        "Ar" => 39.948,
        "K" => 39.0983,
        "Ca" => 40.078,
        "Ti" => 47.867,
        "Cr" => 51.9961,
        "Fe" => 55.845,
        "Co" => 58.933194,
        "Ni" => 58.6934,
        "Cu" => 63.546,
        "Zn" => 65.38,
        "Ge" => 72.630,
        "Kr" => 83.798,
        "Mo" => 95.95,
        "Pd" => 106.42,
        "Ag" => 107.8682,
        "Xe" => 131.293,
        "W" => 183.84,
        "Pt" => 195.084,
        "Au" => 196.966569,
        "Pb" => 207.2,
        _ => return None,
    };
    Some(m)
}
