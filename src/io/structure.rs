//! Atoms as a structure file holds them, whatever its format, and the one conversion from
//! them to a [`System`]: a deck's `system.structure` (the last frame of an extended-XYZ or
//! H5MD file), the frames of training data and the structures of the model tools all come
//! through [`Atoms::to_system`].

use super::{extxyz, h5md};
use crate::cell::Cell;
use crate::system::System;
use crate::units::{atomic_mass, Units};
use glam::{DMat3, DVec3};
use std::path::Path;

/// One frame of atoms: cell (if any), periodicity, species, positions and, when the file
/// has them, velocities.
#[derive(Clone, Debug, PartialEq)]
pub struct Atoms {
    pub lattice: Option<DMat3>,
    pub pbc: [bool; 3],
    pub symbols: Vec<String>,
    pub positions: Vec<DVec3>,
    pub velocities: Option<Vec<DVec3>>,
    /// ASE's `momenta` column (amu Å per ASE time unit, [`Units::ase_time`]),
    /// used for the velocities when the file has no `velocities` column.
    pub momenta: Option<Vec<DVec3>>,
}

/// The mass a species gets unless a deck says otherwise: 1 in LJ units, the standard
/// atomic mass in metal units (NaN for a name that is not an element, which a deck must
/// then give).
pub fn default_mass(units: Units, species: &str) -> f64 {
    match units {
        Units::Lj => 1.0,
        Units::Metal => atomic_mass(species).unwrap_or(f64::NAN),
    }
}

/// Whether `path` names an H5MD file (by its extension); anything else is extended XYZ.
pub fn is_h5md(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "h5" || e == "h5md" || e == "hdf5")
}

/// Refuses an H5MD file whose units are not `units`: written by eqmd in another unit
/// system (`parameters/units`), or with positions in a length unit other than the one
/// `units` reads (Å in metal units; none in LJ units). Extended XYZ carries no units.
pub fn check_units(path: &Path, units: Units) -> Result<(), String> {
    if !is_h5md(path) {
        return Ok(());
    }
    let file = path.display();
    let (system, position) = h5md::units(path).map_err(|e| e.to_string())?;
    if let Some(u) = system.filter(|u| u != units.name()) {
        return Err(format!(
            "{file} was written in {u} units, the deck is in {} units",
            units.name()
        ));
    }
    let angstrom = ["Angstrom", "angstrom", "A", "Å", "Ang"];
    match (units, position) {
        (Units::Metal, Some(u)) if !angstrom.contains(&u.as_str()) => Err(format!(
            "{file}: positions in {u}; metal units read them in Angstrom"
        )),
        (Units::Lj, Some(u)) => Err(format!(
            "{file}: positions in {u}, but LJ units have no length unit"
        )),
        _ => Ok(()),
    }
}

/// The last frame of an extended-XYZ or H5MD file (told apart by [`is_h5md`]).
pub fn read_last_frame(path: &Path) -> Result<Atoms, String> {
    if let Some(kind) = crate::file_kind::not_a_file(path) {
        return Err(format!(
            "{} is {kind}, not a structure file",
            path.display()
        ));
    }
    if is_h5md(path) {
        let f = h5md::read_last_frame(path).map_err(|e| e.to_string())?;
        let periodic = f.pbc.iter().any(|&p| p);
        let lattice = (periodic || f.cell != DMat3::ZERO).then_some(f.cell);
        let symbols = (f.species.iter())
            .map(|&s| f.species_names[s].clone())
            .collect();
        Ok(Atoms {
            lattice,
            pbc: f.pbc,
            symbols,
            positions: f.positions,
            velocities: f.velocities,
            momenta: None,
        })
    } else {
        let f = extxyz::read_last_frame(path).map_err(|e| e.to_string())?;
        Ok(Atoms::from(&f))
    }
}

impl From<&extxyz::Frame> for Atoms {
    fn from(f: &extxyz::Frame) -> Atoms {
        Atoms {
            lattice: f.lattice,
            pbc: f.pbc,
            symbols: f.symbols.clone(),
            positions: f.positions.clone(),
            velocities: f.vector_array("velocities"),
            momenta: f.vector_array("momenta"),
        }
    }
}

impl Atoms {
    /// Velocities from ASE's momenta and the system's masses (metal units: converted from
    /// ASE's time unit; LJ units: p / m), or None without momenta or with a `velocities`
    /// column.
    pub fn velocities_from_momenta(&self, system: &System) -> Option<Vec<DVec3>> {
        if self.velocities.is_some() {
            return None;
        }
        let scale = 1.0 / system.units.ase_time();
        let p = self.momenta.as_ref()?;
        Some(
            (0..system.len())
                .map(|i| p[i] * (scale / system.mass(i)))
                .collect(),
        )
    }

    /// A system in `units`: the cell (vacuum without a lattice), species in order of first
    /// appearance with their [`default_mass`], positions and velocities (zero when the
    /// file has none). `source` names the file in every message.
    pub fn to_system(&self, units: Units, source: &Path) -> Result<System, String> {
        let file = source.display();
        let cell = match self.lattice {
            Some(m) => Cell::from_matrix(m, self.pbc).map_err(|e| format!("{file}: {e}"))?,
            None if self.pbc.iter().any(|&p| p) => {
                return Err(format!("{file}: periodic but without a Lattice"))
            }
            None => Cell::vacuum(),
        };
        let mut system = System::new(cell, units);
        for (name, r) in self.symbols.iter().zip(&self.positions) {
            let k = system.add_species(name, default_mass(units, name));
            system.add_atom(k, *r);
        }
        if let Some(v) = &self.velocities {
            system.velocities = v.clone();
        }
        if system.is_empty() {
            return Err(format!("{file} holds no atoms"));
        }
        Ok(system)
    }
}
