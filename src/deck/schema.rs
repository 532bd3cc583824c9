//! The input deck, version 1, as TOML: one struct per section. Unknown keys are errors.

use super::quantity::Quantity;
use crate::lattice::LatticeKind;
use crate::potential::Mixing;
use crate::units::Units;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A whole deck.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deck {
    /// Deck format version; only 1 exists.
    #[serde(default = "default_version")]
    pub version: u32,
    /// Unit system of every bare number in the deck.
    #[serde(default)]
    pub units: Units,
    pub system: SystemSection,
    pub potential: PotentialSection,
    #[serde(default)]
    pub neighbors: NeighborsSection,
    /// Timestep, run length and limits; with `[[stage]]` blocks, the defaults of their
    /// timestep and limits (the stages give the steps).
    pub integrator: Option<IntegratorSection>,
    pub thermostat: Option<ThermostatSection>,
    /// NPT: a barostat beside the thermostat.
    pub barostat: Option<BarostatSection>,
    /// An energy minimisation before the dynamics (or instead of it, without `[integrator]`).
    pub minimize: Option<MinimizeSection>,
    /// Stages run in order, sharing the system, potential and outputs.
    #[serde(default, rename = "stage")]
    pub stages: Vec<StageSection>,
    #[serde(default)]
    pub thermo: ThermoSection,
    pub trajectory: Option<TrajectorySection>,
    pub h5md: Option<H5mdSection>,
    #[serde(default)]
    pub checkpoint: CheckpointSection,
}

fn default_version() -> u32 {
    1
}

/// Where the atoms come from and how they start moving.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSection {
    /// An extended-XYZ file (last frame is used), relative to the deck's folder.
    pub structure: Option<String>,
    /// A lattice to build instead of reading a file.
    pub lattice: Option<LatticeSection>,
    /// Initial Maxwell–Boltzmann temperature; omitted keeps the file's velocities (or rest).
    pub temperature: Option<Quantity>,
    /// Seed for the initial velocities (and the thermostat unless it has its own).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Masses per species name; defaults are standard atomic masses (metal) or 1 (lj).
    #[serde(default)]
    pub masses: BTreeMap<String, Quantity>,
    /// Closest two atoms of the starting structure may be; default 0.5 Å (metal) or 0.5 σ
    /// (lj). 0 turns the check off.
    pub min_distance: Option<Quantity>,
}

fn default_seed() -> u64 {
    12345
}

/// A cubic lattice repeated along each axis.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatticeSection {
    pub kind: LatticeKind,
    /// Lattice constant (length units)...
    pub a: Option<Quantity>,
    /// ...or number density (atoms per volume), as LAMMPS's `lattice fcc 0.8442` in lj units.
    pub density: Option<f64>,
    /// Unit cells along a, b, c.
    pub repeat: [i64; 3],
    /// One species for all sites, or one per basis site.
    pub species: SpeciesList,
    /// Displaces every atom by a uniform random amount in [−d, d] along each axis (as
    /// LAMMPS's `displace_atoms random`), seeded by `system.seed`: a perturbed start for a
    /// minimisation.
    pub displace: Option<Quantity>,
}

/// A species name or a list of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum SpeciesList {
    One(String),
    PerSite(Vec<String>),
}

/// The force field, tagged by `type`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PotentialSection {
    /// 12-6 Lennard-Jones.
    LennardJones {
        /// Default cutoff of every pair.
        cutoff: Quantity,
        #[serde(default)]
        shift: bool,
        #[serde(default)]
        mixing: Mixing,
        pairs: Vec<LjPairSection>,
    },
    /// Morse.
    Morse {
        cutoff: Quantity,
        #[serde(default)]
        shift: bool,
        pairs: Vec<MorsePairSection>,
    },
    /// Embedded-atom method from LAMMPS `funcfl` files (`pair_style eam`).
    Eam {
        /// One file for every species (typical for a pure metal)...
        file: Option<String>,
        /// ...or one file per species name.
        #[serde(default)]
        files: BTreeMap<String, String>,
    },
    /// Embedded-atom method from a LAMMPS `setfl` file (`pair_style eam/alloy`).
    EamAlloy {
        file: String,
        /// Species name → element name in the file; by default the species name itself.
        #[serde(default)]
        elements: BTreeMap<String, String>,
    },
    /// The SO(3)-equivariant network, from a model file (HDF5).
    Equivariant {
        /// The model file, relative to the deck.
        model: String,
    },
    /// Several potentials added together.
    Sum { terms: Vec<PotentialSection> },
}

/// Lennard-Jones parameters of one species pair.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LjPairSection {
    pub species: [String; 2],
    pub epsilon: Quantity,
    pub sigma: Quantity,
    pub cutoff: Option<Quantity>,
}

/// Morse parameters of one species pair.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MorsePairSection {
    pub species: [String; 2],
    pub d0: Quantity,
    pub alpha: Quantity,
    pub r0: Quantity,
    pub cutoff: Option<Quantity>,
}

/// Neighbour-list settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeighborsSection {
    /// Skin added to the cutoff; default 0.3 (lj) or 1.0 Å (metal), as LAMMPS.
    pub skin: Option<Quantity>,
}

/// Timestep and run length.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegratorSection {
    /// Only `velocity-verlet` exists; thermostats wrap it.
    #[serde(rename = "type", default)]
    pub kind: IntegratorKind,
    pub timestep: Option<Quantity>,
    /// The step to run to (a restarted run continues up to it); with stages, each stage
    /// gives its own steps instead.
    pub steps: Option<u64>,
    /// Largest force tolerated before the run stops as blown up (e.g. "50 eV/A").
    pub max_force: Option<Quantity>,
    /// Farthest an atom may move in one step before the run stops (e.g. "0.5 A"); default
    /// the neighbour skin, beyond which the list cannot follow an atom.
    pub max_displacement: Option<Quantity>,
}

/// The integrators a deck can name in `integrator.type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntegratorKind {
    /// Velocity Verlet (the thermostats split it as they need).
    #[default]
    VelocityVerlet,
}

/// NVT thermostats, tagged by `type`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ThermostatSection {
    /// Langevin (BAOAB) with friction 1/damping.
    Langevin {
        temperature: Quantity,
        damping: Quantity,
        seed: Option<u64>,
    },
    /// Nosé–Hoover chain.
    NoseHoover {
        temperature: Quantity,
        damping: Quantity,
        #[serde(default = "default_chain")]
        chain: usize,
    },
}

fn default_chain() -> usize {
    3
}

/// Barostats, tagged by `type`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BarostatSection {
    /// Martyna–Tobias–Klein (LAMMPS `fix npt`), with the Nosé–Hoover thermostat.
    Mtk {
        pressure: Quantity,
        damping: Quantity,
        #[serde(default)]
        couple: CoupleKind,
    },
    /// Stochastic cell rescaling (Bernetti & Bussi), isotropic, with any thermostat.
    CRescale {
        pressure: Quantity,
        damping: Quantity,
        /// Isothermal compressibility (inverse pressure, e.g. "4.5e-5 1/bar").
        compressibility: Quantity,
        seed: Option<u64>,
    },
}

/// How a barostat couples the cell's axes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoupleKind {
    #[default]
    Iso,
    Aniso,
}

/// Energy minimisation settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimizeSection {
    /// `fire` (default) or `lbfgs`.
    #[serde(default)]
    pub algorithm: MinimizeAlgorithm,
    /// `none` (default), `iso`, `aniso` or `tri`: whether and how the cell relaxes too.
    #[serde(default)]
    pub cell: CellRelax,
    /// Target pressure of a relaxing cell (default 0).
    pub pressure: Option<Quantity>,
    /// Converged when no force exceeds this (default 1e-4 eV/Å or 1e-4 ε/σ).
    pub fmax: Option<Quantity>,
    /// ...and, with a relaxing cell, no stress component differs from the target by more
    /// than this (default 0.01 bar or 1e-5 ε/σ³).
    pub smax: Option<Quantity>,
    /// Iterations before giving up (default 10,000).
    pub max_iterations: Option<usize>,
    /// Largest move of an atom in one iteration (default 0.1 Å or 0.1 σ).
    pub max_step: Option<Quantity>,
    /// Iterations between log lines (default 1: a line per iteration).
    pub every: Option<usize>,
}

/// The minimisation algorithms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MinimizeAlgorithm {
    #[default]
    Fire,
    Lbfgs,
}

/// Which cell degrees of freedom a minimisation relaxes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellRelax {
    #[default]
    None,
    Iso,
    Aniso,
    Tri,
}

/// One stage of a multi-stage deck: a minimisation, or dynamics for `steps` steps under
/// its own thermostat and barostat (none: NVE).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSection {
    /// A name for logs.
    pub name: Option<String>,
    /// Steps of dynamics in this stage.
    pub steps: Option<u64>,
    /// Timestep of this stage; default `integrator.timestep`.
    pub timestep: Option<Quantity>,
    pub thermostat: Option<ThermostatSection>,
    pub barostat: Option<BarostatSection>,
    /// Makes this a minimisation stage.
    pub minimize: Option<MinimizeSection>,
}

/// Thermodynamic output.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThermoSection {
    /// Steps between rows.
    #[serde(default = "default_every")]
    pub every: u64,
    /// CSV file (relative to the output folder); default `<deck name>.thermo.csv`.
    pub file: Option<String>,
    /// Energies (`pe`, `ke`, `etotal`) per atom rather than totals, as LAMMPS's
    /// `thermo_modify norm`; by default per atom in lj units and totals in metal units,
    /// LAMMPS's defaults. Trajectories always hold totals.
    pub norm: Option<bool>,
}

impl Default for ThermoSection {
    fn default() -> Self {
        ThermoSection {
            every: default_every(),
            file: None,
            norm: None,
        }
    }
}

fn default_every() -> u64 {
    100
}

/// Trajectory output as extended XYZ.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectorySection {
    pub file: String,
    #[serde(default = "default_every")]
    pub every: u64,
}

/// Checkpoints of the full state, for `eqmd run --restart`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSection {
    /// File (relative to the output folder); default `<deck name>.checkpoint`.
    pub file: Option<String>,
    /// Steps between checkpoints; 0 (the default) writes one only at the end, on
    /// interruption and on a blow-up.
    #[serde(default)]
    pub every: u64,
}

/// An H5MD trajectory (HDF5), flushed after every frame.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct H5mdSection {
    pub file: String,
    #[serde(default = "default_every")]
    pub every: u64,
    /// Per-atom fields to store; default all three.
    #[serde(default = "all_fields")]
    pub fields: Vec<H5mdField>,
}

/// A per-atom field of an H5MD trajectory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum H5mdField {
    Position,
    Velocity,
    Force,
}

fn all_fields() -> Vec<H5mdField> {
    vec![H5mdField::Position, H5mdField::Velocity, H5mdField::Force]
}
