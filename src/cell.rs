//! The simulation cell: three lattice vectors (orthorhombic or triclinic) and periodicity
//! per axis. Wrapping and minimum image live here, so nothing else needs to know the shape.

use glam::{DMat3, DVec3};

/// A parallelepiped cell whose lattice vectors are the columns of `matrix`.
///
/// Along a non-periodic axis the vector only frames the system (binning, output); atoms may
/// lie outside it. A molecule in vacuum has no lattice at all: `Cell::vacuum()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    matrix: DMat3,
    inverse: DMat3,
    pbc: [bool; 3],
}

/// Why a cell could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CellError {
    #[error("the lattice vectors are degenerate (zero volume) but the cell is periodic")]
    Degenerate,
    #[error("lattice vectors must be finite numbers")]
    NotFinite,
}

impl Cell {
    /// A cell from lattice vectors `a`, `b`, `c` and periodicity per axis.
    pub fn new(a: DVec3, b: DVec3, c: DVec3, pbc: [bool; 3]) -> Result<Cell, CellError> {
        Cell::from_matrix(DMat3::from_cols(a, b, c), pbc)
    }

    /// A cell from a matrix whose columns are the lattice vectors.
    pub fn from_matrix(matrix: DMat3, pbc: [bool; 3]) -> Result<Cell, CellError> {
        if !matrix.is_finite() {
            return Err(CellError::NotFinite);
        }
        let det = matrix.determinant();
        if det.abs() < 1e-12 {
            if pbc.iter().any(|&p| p) {
                return Err(CellError::Degenerate);
            }
            return Ok(Cell::vacuum());
        }
        Ok(Cell {
            matrix,
            inverse: matrix.inverse(),
            pbc,
        })
    }

    /// An orthorhombic, fully periodic box with edge lengths `lengths`.
    pub fn orthorhombic(lengths: DVec3) -> Cell {
        Cell::from_matrix(DMat3::from_diagonal(lengths), [true; 3])
            .expect("orthorhombic box needs positive lengths")
    }

    /// No lattice and no periodicity: a molecule in vacuum.
    pub fn vacuum() -> Cell {
        Cell {
            matrix: DMat3::ZERO,
            inverse: DMat3::IDENTITY,
            pbc: [false; 3],
        }
    }

    /// True when there is no lattice at all (molecule in vacuum).
    pub fn is_vacuum(&self) -> bool {
        self.matrix == DMat3::ZERO
    }

    /// Lattice vectors as matrix columns (zero for a vacuum cell).
    pub fn matrix(&self) -> DMat3 {
        self.matrix
    }

    /// Lattice vector `i` (0 = a, 1 = b, 2 = c).
    pub fn vector(&self, i: usize) -> DVec3 {
        self.matrix.col(i)
    }

    /// Periodicity along a, b, c.
    pub fn pbc(&self) -> [bool; 3] {
        self.pbc
    }

    /// True if any axis is periodic.
    pub fn is_periodic(&self) -> bool {
        self.pbc.iter().any(|&p| p)
    }

    /// Volume of the cell (0 for vacuum).
    pub fn volume(&self) -> f64 {
        self.matrix.determinant().abs()
    }

    /// Perpendicular distances between opposite faces, the widths that limit a cutoff.
    pub fn perpendicular_widths(&self) -> DVec3 {
        if self.is_vacuum() {
            return DVec3::splat(f64::INFINITY);
        }
        let (a, b, c) = (self.vector(0), self.vector(1), self.vector(2));
        let v = self.volume();
        DVec3::new(
            v / b.cross(c).length(),
            v / c.cross(a).length(),
            v / a.cross(b).length(),
        )
    }

    /// Fractional coordinates of a Cartesian position (Cartesian itself for vacuum).
    pub fn fractional(&self, r: DVec3) -> DVec3 {
        self.inverse * r
    }

    /// Cartesian position of fractional coordinates.
    pub fn cartesian(&self, s: DVec3) -> DVec3 {
        if self.is_vacuum() {
            return s;
        }
        self.matrix * s
    }

    /// Maps a position into the cell along periodic axes (fractional coordinate in [0, 1))
    /// by subtracting whole lattice vectors. A position already inside is returned
    /// unchanged, bit for bit, so wrapping never perturbs a trajectory.
    pub fn wrap(&self, r: DVec3) -> DVec3 {
        if !self.is_periodic() {
            return r;
        }
        // whole lattice vectors counted in f64, so that an atom any number of cells away
        // (beyond what an i32 holds) still comes home
        let s = self.fractional(r);
        let mut n = DVec3::ZERO;
        for k in 0..3 {
            if self.pbc[k] {
                n[k] = s[k].floor();
            }
        }
        if n == DVec3::ZERO {
            return r;
        }
        let wrapped = r - self.matrix * n;
        // rounding can leave a coordinate a hair outside [0, 1): one more step fixes it
        let s = self.fractional(wrapped);
        let mut m = DVec3::ZERO;
        for k in 0..3 {
            if self.pbc[k] && !(0.0..1.0).contains(&s[k]) {
                m[k] = s[k].floor();
            }
        }
        if m == DVec3::ZERO {
            wrapped
        } else {
            wrapped - self.matrix * m
        }
    }

    /// The periodic image of a separation vector nearest to the origin, by rounding the
    /// fractional components (exact for orthorhombic cells and for separations shorter than
    /// half the perpendicular widths).
    pub fn minimum_image(&self, d: DVec3) -> DVec3 {
        if !self.is_periodic() {
            return d;
        }
        let mut s = self.fractional(d);
        for k in 0..3 {
            if self.pbc[k] {
                s[k] -= s[k].round();
            }
        }
        self.cartesian(s)
    }

    /// Cartesian translation by integer multiples of the lattice vectors.
    pub fn translation(&self, n: [i32; 3]) -> DVec3 {
        self.matrix * DVec3::new(n[0] as f64, n[1] as f64, n[2] as f64)
    }

    /// The same cell with the lattice vectors deformed by `strain` (r → (1 + ε) r).
    pub fn strained(&self, strain: DMat3) -> Cell {
        let m = (DMat3::IDENTITY + strain) * self.matrix;
        Cell::from_matrix(m, self.pbc).unwrap_or(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_minimum_image_triclinic() {
        let cell = Cell::new(
            DVec3::new(4.0, 0.0, 0.0),
            DVec3::new(1.0, 5.0, 0.0),
            DVec3::new(0.5, -0.7, 6.0),
            [true; 3],
        )
        .unwrap();
        let r = DVec3::new(13.3, -7.2, 25.0);
        let w = cell.wrap(r);
        let s = cell.fractional(w);
        assert!(s.min_element() >= -1e-15 && s.max_element() < 1.0);
        assert_eq!(cell.wrap(w), w, "a wrapped position is left as it is");
        let d = cell.fractional(w - r);
        for k in 0..3 {
            assert!((d[k] - d[k].round()).abs() < 1e-12);
        }
        let m = cell.minimum_image(DVec3::new(3.9, 0.1, 0.0));
        assert!((m - DVec3::new(-0.1, 0.1, 0.0)).length() < 1e-12);
    }

    #[test]
    fn wrap_brings_home_an_atom_any_number_of_cells_away() {
        let cell = Cell::orthorhombic(DVec3::splat(10.0));
        // 2^33 cells along x: beyond what an i32 counts
        let far = DVec3::new(4.8 + 10.0 * 2f64.powi(33), -3.0e11 + 2.5, 1.0);
        let w = cell.wrap(far);
        let s = cell.fractional(w);
        assert!(s.min_element() >= 0.0 && s.max_element() < 1.0, "{w}");
        assert!((w.x - 4.8).abs() < 1e-4 && (w.y - 2.5).abs() < 1e-3, "{w}");
        assert_eq!(w.z, 1.0);
    }

    #[test]
    fn degenerate_periodic_cell_is_an_error() {
        let e = Cell::from_matrix(DMat3::ZERO, [true, false, false]);
        assert_eq!(e, Err(CellError::Degenerate));
        assert!(Cell::from_matrix(DMat3::ZERO, [false; 3])
            .unwrap()
            .is_vacuum());
    }

    #[test]
    fn perpendicular_widths_of_orthorhombic_box() {
        let cell = Cell::orthorhombic(DVec3::new(2.0, 3.0, 4.0));
        assert!((cell.perpendicular_widths() - DVec3::new(2.0, 3.0, 4.0)).length() < 1e-12);
        assert!((cell.volume() - 24.0).abs() < 1e-12);
    }
}
