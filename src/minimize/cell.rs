//! Generalised coordinates for relaxing atoms and cell together (ASE's `UnitCellFilter`):
//! the cell is h = F h0 and atom i sits at x_i = F (x0_i + t_i), with h0 the starting cell,
//! x0_i a reference position the optimiser moves, t_i the lattice translation the
//! neighbour list added when it wrapped the atom, and F the deformation gradient.
//!
//! The optimisers see one flat vector q = [x0_1, ..., x0_N, u_1, ..., u_k]: F = I + Σ u_k
//! B_k / c over an orthonormal basis B_k of the deformations the mode allows and c = N
//! (ASE's `cell_factor`), so that cell "forces" −∂H/∂u are on the scale of atomic forces.
//! For H = E + P V the gradients are ∂H/∂x0_i = −Fᵀ f_i and ∂H/∂F = −(W − P V I) F⁻ᵀ, with
//! W the (symmetric) virial Σ r_ij ⊗ f_ij.

use super::CellMode;
use crate::cell::{Cell, CellError};
use crate::system::System;
use glam::{DMat3, DVec3};

/// The map between the optimisers' vector q and the positions and cell of a system.
#[derive(Clone, Debug)]
pub(super) struct Coordinates {
    mode: CellMode,
    reference: DMat3,
    pbc: [bool; 3],
    translations: Vec<DVec3>,
    factor: f64,
    basis: Vec<DMat3>,
}

/// The matrix with a one at (row, col) and zeros elsewhere.
fn unit(row: usize, col: usize) -> DMat3 {
    let mut m = DMat3::ZERO;
    m.col_mut(col)[row] = 1.0;
    m
}

/// Σ_ab A_ab B_ab, the Frobenius inner product.
fn frobenius(a: &DMat3, b: &DMat3) -> f64 {
    (0..3).map(|c| a.col(c).dot(b.col(c))).sum()
}

/// An orthonormal basis of the deformations `mode` allows.
fn basis(mode: CellMode) -> Vec<DMat3> {
    match mode {
        CellMode::Fixed => Vec::new(),
        CellMode::Iso => vec![DMat3::IDENTITY / 3f64.sqrt()],
        CellMode::Aniso => (0..3).map(|a| unit(a, a)).collect(),
        CellMode::Tri => [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]
            .iter()
            .map(|&(r, c)| unit(r, c))
            .collect(),
    }
}

impl Coordinates {
    /// The coordinates of `system` as it is (F = I), and the starting vector q.
    pub(super) fn new(system: &System, mode: CellMode) -> (Coordinates, Vec<f64>) {
        let basis = basis(mode);
        let mut q = Vec::with_capacity(3 * system.len() + basis.len());
        q.extend(system.positions.iter().flat_map(|r| r.to_array()));
        q.resize(q.len() + basis.len(), 0.0);
        let coordinates = Coordinates {
            mode,
            reference: system.cell.matrix(),
            pbc: system.cell.pbc(),
            translations: vec![DVec3::ZERO; system.len()],
            factor: system.len().max(1) as f64,
            basis,
        };
        (coordinates, q)
    }

    /// Number of atoms.
    fn atoms(&self) -> usize {
        self.translations.len()
    }

    /// The deformation gradient F of `q`.
    pub(super) fn deformation(&self, q: &[f64]) -> DMat3 {
        let u = &q[3 * self.atoms()..];
        let mut f = DMat3::IDENTITY;
        for (b, &u) in self.basis.iter().zip(u) {
            f += *b * (u / self.factor);
        }
        f
    }

    /// Reference position x0_i of atom `i` in `q`.
    fn reference_position(q: &[f64], i: usize) -> DVec3 {
        DVec3::from_slice(&q[3 * i..3 * i + 3])
    }

    /// Puts the positions and cell of `q` into `system`.
    pub(super) fn apply(&self, q: &[f64], system: &mut System) -> Result<(), CellError> {
        let f = self.deformation(q);
        if self.mode != CellMode::Fixed {
            system.cell = Cell::from_matrix(f * self.reference, self.pbc)?;
        }
        for (i, (r, t)) in system
            .positions
            .iter_mut()
            .zip(&self.translations)
            .enumerate()
        {
            *r = f * (Self::reference_position(q, i) + *t);
        }
        Ok(())
    }

    /// Records the lattice translations by which wrapping moved atoms away from `placed`
    /// (where `apply` put them), so that the next `apply` starts from the wrapped images.
    pub(super) fn note_wrap(&mut self, placed: &[DVec3], system: &System) {
        for ((t, p), r) in self
            .translations
            .iter_mut()
            .zip(placed)
            .zip(&system.positions)
        {
            if p != r {
                let n = system.cell.fractional(*r - *p).round();
                *t += self.reference * n;
            }
        }
    }

    /// Writes ∂H/∂q into `gradient` from the forces, the symmetric virial `w` and the
    /// target pressure and volume (energy per volume, volume).
    pub(super) fn gradient(
        &self,
        q: &[f64],
        forces: &[DVec3],
        w: &DMat3,
        pressure: f64,
        volume: f64,
        gradient: &mut [f64],
    ) {
        let f = self.deformation(q);
        let ft = f.transpose();
        for (g, force) in gradient.chunks_exact_mut(3).zip(forces) {
            g.copy_from_slice(&(-(ft * *force)).to_array());
        }
        if self.basis.is_empty() {
            return;
        }
        let dh_df = (DMat3::IDENTITY * (pressure * volume) - *w) * f.inverse().transpose();
        let cell = &mut gradient[3 * self.atoms()..];
        for (g, b) in cell.iter_mut().zip(&self.basis) {
            *g = frobenius(&dh_df, b) / self.factor;
        }
    }

    /// The largest move of an atom in the step `dq` (the cell block counts as one atom,
    /// its length the Euclidean norm of the cell variables' change).
    pub(super) fn max_move(&self, dq: &[f64]) -> f64 {
        let n = self.atoms();
        let atoms = dq[..3 * n]
            .chunks_exact(3)
            .map(|d| d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
            .fold(0.0f64, f64::max);
        let cell: f64 = dq[3 * n..].iter().map(|u| u * u).sum();
        atoms.max(cell).sqrt()
    }

    /// The largest stress residual the mode relaxes, from r = W / V − P I in pressure
    /// units: |tr r| / 3 for iso, the largest |r_aa| for aniso, the largest |r_ab| for tri
    /// (0 with a fixed cell).
    pub(super) fn stress_residual(&self, r: &DMat3) -> f64 {
        let diagonal = DVec3::new(r.x_axis.x, r.y_axis.y, r.z_axis.z);
        match self.mode {
            CellMode::Fixed => 0.0,
            CellMode::Iso => (diagonal.element_sum() / 3.0).abs(),
            CellMode::Aniso => diagonal.abs().max_element(),
            CellMode::Tri => (0..3)
                .map(|c| r.col(c).abs().max_element())
                .fold(0.0, f64::max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Units;

    #[test]
    fn basis_is_orthonormal_and_starts_at_identity() {
        for mode in [CellMode::Iso, CellMode::Aniso, CellMode::Tri] {
            let b = basis(mode);
            for (i, x) in b.iter().enumerate() {
                for (j, y) in b.iter().enumerate() {
                    let expected = if i == j { 1.0 } else { 0.0 };
                    assert!((frobenius(x, y) - expected).abs() < 1e-15);
                }
            }
        }
        let mut s = System::new(Cell::orthorhombic(DVec3::splat(3.0)), Units::Lj);
        s.add_atom(0, DVec3::new(0.5, 1.0, 1.5));
        let (c, q) = Coordinates::new(&s, CellMode::Tri);
        assert_eq!(c.deformation(&q), DMat3::IDENTITY);
        assert_eq!(q.len(), 3 + 6);
    }

    #[test]
    fn wrapped_atoms_keep_their_reference_position() {
        let mut s = System::new(Cell::orthorhombic(DVec3::splat(3.0)), Units::Lj);
        s.add_atom(0, DVec3::new(3.5, -0.5, 1.0));
        let (mut c, mut q) = Coordinates::new(&s, CellMode::Iso);
        q[3] = 0.1;
        c.apply(&q, &mut s).unwrap();
        let placed = s.positions.clone();
        s.wrap_positions();
        c.note_wrap(&placed, &s);
        let wrapped = s.positions[0];
        c.apply(&q, &mut s).unwrap();
        assert!((s.positions[0] - wrapped).length() < 1e-12);
    }
}
