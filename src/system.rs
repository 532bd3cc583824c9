//! The configuration the dynamics acts on: positions, velocities, masses and species of
//! every atom, inside a `Cell`, in one unit system.

use crate::cell::Cell;
use crate::units::Units;
use glam::{DMat3, DVec3};

/// Most atoms a system may hold (the neighbour list packs indices into 27 bits); readers
/// refuse files that declare more before reading them.
pub const MAX_ATOMS: usize = 1 << 27;

/// Atoms in a cell: the state that integrators advance and potentials read.
#[derive(Clone, Debug)]
pub struct System {
    /// The periodic (or vacuum) cell.
    pub cell: Cell,
    /// Cartesian positions (length units).
    pub positions: Vec<DVec3>,
    /// Velocities (length per time unit).
    pub velocities: Vec<DVec3>,
    /// Species index of every atom, into `species_names` and `species_masses`.
    pub species: Vec<usize>,
    /// Names of the species, e.g. `["Cu"]` or `["A", "B"]`.
    pub species_names: Vec<String>,
    /// Mass of each species (mass units).
    pub species_masses: Vec<f64>,
    /// The unit system every number above is expressed in.
    pub units: Units,
}

impl System {
    /// An empty system in `cell` with the given unit system.
    pub fn new(cell: Cell, units: Units) -> System {
        System {
            cell,
            positions: Vec::new(),
            velocities: Vec::new(),
            species: Vec::new(),
            species_names: Vec::new(),
            species_masses: Vec::new(),
            units,
        }
    }

    /// Registers a species (or returns the index of an existing one of that name).
    pub fn add_species(&mut self, name: &str, mass: f64) -> usize {
        if let Some(k) = self.species_index(name) {
            return k;
        }
        self.species_names.push(name.to_string());
        self.species_masses.push(mass);
        self.species_names.len() - 1
    }

    /// Adds an atom of species index `species` at rest.
    pub fn add_atom(&mut self, species: usize, position: DVec3) {
        self.species.push(species);
        self.positions.push(position);
        self.velocities.push(DVec3::ZERO);
    }

    /// Index of the species called `name`.
    pub fn species_index(&self, name: &str) -> Option<usize> {
        self.species_names.iter().position(|s| s == name)
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True when the system holds no atoms.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Mass of atom `i`.
    #[inline]
    pub fn mass(&self, i: usize) -> f64 {
        self.species_masses[self.species[i]]
    }

    /// Per-atom masses, in atom order.
    pub fn masses(&self) -> Vec<f64> {
        self.species
            .iter()
            .map(|&s| self.species_masses[s])
            .collect()
    }

    /// Kinetic degrees of freedom: 3N − 3 (total momentum is fixed), as LAMMPS counts them.
    pub fn degrees_of_freedom(&self) -> f64 {
        let n = self.len() as f64;
        if self.len() > 1 {
            3.0 * n - 3.0
        } else {
            3.0 * n
        }
    }

    /// Kinetic energy tensor Σ m v ⊗ v / 2 in energy units.
    pub fn kinetic_tensor(&self) -> DMat3 {
        let mut t = DMat3::ZERO;
        for (i, v) in self.velocities.iter().enumerate() {
            let m = self.mass(i);
            t += DMat3::from_cols(*v * v.x, *v * v.y, *v * v.z) * m;
        }
        t * (0.5 * self.units.mvv_to_energy())
    }

    /// Kinetic energy in energy units.
    pub fn kinetic_energy(&self) -> f64 {
        let sum: f64 = self
            .velocities
            .iter()
            .enumerate()
            .map(|(i, v)| self.mass(i) * v.length_squared())
            .sum();
        0.5 * sum * self.units.mvv_to_energy()
    }

    /// Instantaneous temperature with 3N − 3 degrees of freedom (momentum fixed).
    pub fn temperature(&self) -> f64 {
        self.temperature_with_dof(self.degrees_of_freedom())
    }

    /// Instantaneous temperature 2 KE / (dof k_B).
    pub fn temperature_with_dof(&self, dof: f64) -> f64 {
        if dof == 0.0 {
            return 0.0;
        }
        2.0 * self.kinetic_energy() / (dof * self.units.boltzmann())
    }

    /// Total momentum Σ m v.
    pub fn momentum(&self) -> DVec3 {
        self.velocities
            .iter()
            .enumerate()
            .map(|(i, v)| *v * self.mass(i))
            .sum()
    }

    /// Removes the centre-of-mass velocity so the total momentum is zero.
    pub fn zero_momentum(&mut self) {
        let total_mass: f64 = (0..self.len()).map(|i| self.mass(i)).sum();
        if total_mass == 0.0 {
            return;
        }
        let vcm = self.momentum() / total_mass;
        for v in &mut self.velocities {
            *v -= vcm;
        }
    }

    /// Pressure (deck units) from the kinetic energy and a virial W = Σ r_ij ⊗ f_ij.
    pub fn pressure(&self, virial: &DMat3) -> f64 {
        let volume = self.cell.volume();
        if volume == 0.0 || !self.cell.is_periodic() {
            return 0.0;
        }
        let trace = virial.x_axis.x + virial.y_axis.y + virial.z_axis.z;
        (2.0 * self.kinetic_energy() + trace) / (3.0 * volume)
            * self.units.energy_per_volume_to_pressure()
    }

    /// Wraps every position into the cell along periodic axes.
    pub fn wrap_positions(&mut self) {
        let cell = self.cell;
        for r in &mut self.positions {
            *r = cell.wrap(*r);
        }
    }
}
