//! What the barostats share: the instantaneous pressure tensor, how the cell and the atoms
//! are dilated together, and how the cell is coupled (`iso`: one strain for all three axes;
//! `aniso`: one per axis).

use crate::cell::Cell;
use crate::system::System;
use glam::{DMat3, DVec3};

/// How the three axes of the cell follow the pressure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coupling {
    /// One strain rate for all axes, driven by the mean pressure (LAMMPS `iso`).
    Iso,
    /// One strain rate per axis, driven by that axis's diagonal pressure (LAMMPS `aniso`).
    Aniso,
}

impl Coupling {
    /// The deck's name of it.
    pub fn name(self) -> &'static str {
        match self {
            Coupling::Iso => "iso",
            Coupling::Aniso => "aniso",
        }
    }

    /// Degrees of freedom of the barostat: 1 or 3.
    pub fn dimensions(self) -> usize {
        match self {
            Coupling::Iso => 1,
            Coupling::Aniso => 3,
        }
    }
}

/// The pressure tensor (2 K + W) / V in energy per volume, with the kinetic tensor K and
/// the virial W = Σ r_ij ⊗ f_ij.
pub fn pressure_tensor(system: &System, virial: &DMat3) -> DMat3 {
    let volume = system.cell.volume();
    (system.kinetic_tensor() * 2.0 + *virial) * (1.0 / volume)
}

/// Scales the cell and every position by `factors` along x, y and z (r → D r with
/// D = diag(factors)): the affine dilation a barostat applies.
pub fn dilate(system: &mut System, factors: DVec3) {
    let d = DMat3::from_diagonal(factors);
    let cell = Cell::from_matrix(d * system.cell.matrix(), system.cell.pbc());
    if let Ok(cell) = cell {
        system.cell = cell;
        for r in &mut system.positions {
            *r *= factors;
        }
    }
}

/// Checks that a barostat can act on `system`: a periodic cell along every axis.
pub fn check_periodic(system: &System) -> Result<(), String> {
    if system.cell.pbc() == [true; 3] {
        Ok(())
    } else {
        Err(format!(
            "a barostat needs a cell periodic along every axis; this one is periodic along {:?}",
            system.cell.pbc()
        ))
    }
}
