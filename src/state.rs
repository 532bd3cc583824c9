//! The state of a run as plain data: the thermo row and the snapshot a checkpoint holds.
//! The MD loop produces them (and restores a snapshot); the file formats in `io` encode
//! them, without knowing the loop.

use crate::units::Units;
use glam::{DMat3, DVec3};

/// Thermodynamic state at one step, in the system's units (energies total over the system).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thermo {
    pub step: u64,
    pub time: f64,
    pub pe: f64,
    pub ke: f64,
    pub etotal: f64,
    pub temp: f64,
    pub press: f64,
    /// Total energy plus the energy the thermostat took: conserved by every integrator.
    pub conserved: f64,
    /// The cell's volume (0 for a molecule in vacuum).
    pub volume: f64,
    /// The dipole moment, when the potential predicts one.
    pub dipole: Option<DVec3>,
}

/// Everything needed to continue a run exactly: the atoms, the cell, the clock, the
/// integrator's state and the positions the neighbour list was built from.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub step: u64,
    pub time: f64,
    pub units: Units,
    pub cell: DMat3,
    pub pbc: [bool; 3],
    pub species_names: Vec<String>,
    pub species_masses: Vec<f64>,
    pub species: Vec<usize>,
    pub positions: Vec<DVec3>,
    pub velocities: Vec<DVec3>,
    /// Positions at the last neighbour-list build.
    pub neighbor_reference: Vec<DVec3>,
    /// The cell at the last neighbour-list build (it differs from `cell` when a barostat
    /// has changed the cell since).
    pub neighbor_cell: DMat3,
    /// The deck stage the run was in (0 for a single-stage deck).
    pub stage: u64,
    /// Opaque integrator state (`Integrator::state`).
    pub integrator: Vec<u64>,
    /// Potential energy at these positions, so that a restart under another potential
    /// (other parameters or files) is noticed; NaN when unknown (version-1 checkpoints).
    pub potential_energy: f64,
    /// The settings the dynamics depend on beyond the system (timestep, thermostat,
    /// neighbour skin), as `key = value` text in the deck's key names; empty when unknown.
    pub settings: Vec<(String, String)>,
}
