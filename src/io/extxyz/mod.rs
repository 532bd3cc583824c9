//! Extended-XYZ reader and writer, compatible with ASE's `ase.io.extxyz` dialect.
//!
//! A file is a sequence of frames: an atom-count line, a comment line of `key=value` pairs
//! (`Lattice`, `Properties`, `pbc` and free per-frame info), then one line per atom whose
//! columns are described by `Properties` (default `species:S:1:pos:R:3`).
//! Floats are written in shortest round-trip form, so write → read is bit-exact.
//!
//! This file holds the frame type and its accessors, the per-frame and per-atom value types
//! and the read error; the parser is in `read`, formatting and the appending writer in
//! `write`, and their public functions are re-exported here.

use glam::{DMat3, DVec3};
use std::collections::BTreeMap;

/// `ensure!(cond, "fmt", args..)`: return `Err(String)` unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

mod read;
mod write;

pub use read::{
    read_file, read_file_with_offsets, read_frames_at, read_last_frame, read_str, FramesWithOffsets,
};
pub use write::{write_file, write_frame, ExtxyzWriter};

/// One frame of an extended-XYZ file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    /// Cell vectors as the COLUMNS (`DMat3::from_cols(a, b, c)`); None when there is no Lattice.
    pub lattice: Option<DMat3>,
    /// Periodicity per axis; if pbc is absent: `[true; 3]` with a Lattice, else `[false; 3]` (ASE).
    pub pbc: [bool; 3],
    /// Chemical symbols (the `species` column).
    pub symbols: Vec<String>,
    /// Cartesian positions (the `pos` column).
    pub positions: Vec<DVec3>,
    /// Every other `key=value` of the comment line (energy, stress, virial, free strings...).
    pub info: BTreeMap<String, InfoValue>,
    /// Every other per-atom column, keyed by its name in `Properties` (forces, velocities, Z...).
    pub arrays: BTreeMap<String, ArrayValue>,
}

/// A per-frame value from the comment line, typed as ASE infers it (int, float, bool, else string).
///
/// As in ASE, one-element arrays read back as scalars, empty arrays as `Str("")`, and strings
/// that look like numbers or booleans as those.
#[derive(Clone, Debug, PartialEq)]
pub enum InfoValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    BoolArray(Vec<bool>),
    IntArray(Vec<i64>),
    FloatArray(Vec<f64>),
}

impl InfoValue {
    /// The value as a float, for numeric scalars (ints are widened).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            InfoValue::Float(x) => Some(x),
            InfoValue::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    /// The value as a float vector, for numeric arrays (ints are widened).
    pub fn as_f64_vec(&self) -> Option<Vec<f64>> {
        match self {
            InfoValue::FloatArray(v) => Some(v.clone()),
            InfoValue::IntArray(v) => Some(v.iter().map(|&i| i as f64).collect()),
            _ => None,
        }
    }
}

/// A per-atom property (one or more columns), stored row-major with `len = natoms * ncols`.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayValue {
    Float { ncols: usize, data: Vec<f64> },
    Int { ncols: usize, data: Vec<i64> },
    Bool { ncols: usize, data: Vec<bool> },
    Str { ncols: usize, data: Vec<String> },
}

impl ArrayValue {
    /// Number of columns per atom.
    pub fn ncols(&self) -> usize {
        self.meta().1
    }

    /// (type letter in `Properties`, ncols, number of stored values).
    fn meta(&self) -> (char, usize, usize) {
        match self {
            ArrayValue::Float { ncols, data } => ('R', *ncols, data.len()),
            ArrayValue::Int { ncols, data } => ('I', *ncols, data.len()),
            ArrayValue::Bool { ncols, data } => ('L', *ncols, data.len()),
            ArrayValue::Str { ncols, data } => ('S', *ncols, data.len()),
        }
    }
}

/// A read error, located by file name and 1-based line number (0 for I/O errors).
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ExtxyzError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn err(file: &str, line: usize, message: impl Into<String>) -> ExtxyzError {
    let (file, message) = (file.to_string(), message.into());
    ExtxyzError {
        file,
        line,
        message,
    }
}

impl Frame {
    /// A molecule-like frame (no lattice, no pbc, no extras); both vectors must be equally long.
    pub fn new(symbols: Vec<String>, positions: Vec<DVec3>) -> Frame {
        let mut f = Frame::default();
        (f.symbols, f.positions) = (symbols, positions);
        f
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True when the frame has no atoms.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The info value `energy` (ASE may also write `free_energy`, which stays in `info`).
    pub fn energy(&self) -> Option<f64> {
        self.info.get("energy")?.as_f64()
    }

    /// Sets the info value `energy`.
    pub fn set_energy(&mut self, e: f64) {
        self.info.insert("energy".into(), InfoValue::Float(e));
    }

    /// The per-atom `forces` array, if present with 3 float columns.
    pub fn forces(&self) -> Option<Vec<DVec3>> {
        self.vector_array("forces")
    }

    /// Any 3-column float array as vectors (e.g. `velocities`); None if absent or shaped otherwise.
    pub fn vector_array(&self, name: &str) -> Option<Vec<DVec3>> {
        match self.arrays.get(name)? {
            ArrayValue::Float { ncols: 3, data } => Some(to_vecs(data)),
            _ => None,
        }
    }

    /// The info value `stress`: 9 values in ASE's flattening order (Fortran, column-major; equal to
    /// row-major for a symmetric stress) or 6 Voigt values (xx yy zz yz xz xy).
    pub fn stress(&self) -> Option<DMat3> {
        let v = self.info.get("stress")?.as_f64_vec()?;
        if let Ok(a) = <[f64; 9]>::try_from(v.as_slice()) {
            return Some(DMat3::from_cols_array(&a));
        }
        let [xx, yy, zz, yz, xz, xy] = <[f64; 6]>::try_from(v.as_slice()).ok()?;
        let cols = [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]];
        Some(DMat3::from_cols_array_2d(&cols))
    }

    /// Sets the info value `stress` as the 9-vector ASE writes (column-major).
    pub fn set_stress(&mut self, s: DMat3) {
        let v = InfoValue::FloatArray(s.to_cols_array().to_vec());
        self.info.insert("stress".into(), v);
    }

    /// Sets the per-atom `forces` array (3 float columns).
    pub fn set_forces(&mut self, f: &[DVec3]) {
        self.set_vector_array("forces", f);
    }

    /// Sets any per-atom 3-column float array (e.g. `velocities`).
    pub fn set_vector_array(&mut self, name: &str, v: &[DVec3]) {
        let data = v.iter().flat_map(|p| p.to_array()).collect();
        let value = ArrayValue::Float { ncols: 3, data };
        self.arrays.insert(name.to_string(), value);
    }
}

fn to_vecs(data: &[f64]) -> Vec<DVec3> {
    data.chunks_exact(3).map(DVec3::from_slice).collect()
}
