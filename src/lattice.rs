//! Crystal lattices that decks can ask for: simple cubic, bcc, fcc and diamond, repeated
//! along each axis, as LAMMPS's `lattice` + `create_atoms` build them.

use crate::cell::Cell;
use glam::DVec3;
use serde::{Deserialize, Serialize};

/// The cubic lattices eqmd builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatticeKind {
    Sc,
    Bcc,
    Fcc,
    Diamond,
}

impl LatticeKind {
    /// Basis sites of the conventional cubic cell, in fractions of the lattice constant.
    pub fn basis(self) -> Vec<DVec3> {
        let fcc = [
            DVec3::new(0.0, 0.0, 0.0),
            DVec3::new(0.5, 0.5, 0.0),
            DVec3::new(0.5, 0.0, 0.5),
            DVec3::new(0.0, 0.5, 0.5),
        ];
        match self {
            LatticeKind::Sc => vec![DVec3::ZERO],
            LatticeKind::Bcc => vec![DVec3::ZERO, DVec3::splat(0.5)],
            LatticeKind::Fcc => fcc.to_vec(),
            LatticeKind::Diamond => fcc
                .iter()
                .flat_map(|&b| [b, b + DVec3::splat(0.25)])
                .collect(),
        }
    }

    /// The lattice constant that gives `density` atoms per unit volume.
    pub fn constant_for_density(self, density: f64) -> f64 {
        (self.basis().len() as f64 / density).cbrt()
    }
}

/// Sites of a lattice: the periodic box and, for every atom, its basis index and position.
pub fn build(kind: LatticeKind, a: f64, repeat: [usize; 3]) -> (Cell, Vec<(usize, DVec3)>) {
    let basis = kind.basis();
    let mut sites = Vec::with_capacity(basis.len() * repeat.iter().product::<usize>());
    for k in 0..repeat[2] {
        for j in 0..repeat[1] {
            for i in 0..repeat[0] {
                let origin = DVec3::new(i as f64, j as f64, k as f64);
                for (b, site) in basis.iter().enumerate() {
                    sites.push((b, (origin + *site) * a));
                }
            }
        }
    }
    let lengths = DVec3::new(repeat[0] as f64, repeat[1] as f64, repeat[2] as f64) * a;
    (Cell::orthorhombic(lengths), sites)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_density() {
        let (cell, sites) = build(LatticeKind::Fcc, 1.6796, [20, 20, 20]);
        assert_eq!(sites.len(), 32_000);
        let a = LatticeKind::Fcc.constant_for_density(0.8442);
        assert!((a - 1.6796).abs() < 1e-4);
        assert!((cell.volume() - (20.0 * 1.6796f64).powi(3)).abs() < 1e-6);
        assert_eq!(build(LatticeKind::Diamond, 1.0, [1, 1, 1]).1.len(), 8);
        assert_eq!(build(LatticeKind::Bcc, 1.0, [2, 1, 1]).1.len(), 4);
    }
}
