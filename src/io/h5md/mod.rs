//! H5MD 1.1 trajectories (<https://www.nongnu.org/h5md/>), written frame by frame and
//! flushed after every frame, so a run killed with SIGKILL leaves a file readable up to the
//! last flushed frame; and read back (the last complete frame, to restart from).
//!
//! Layout (N atoms, n frames):
//!
//! ```text
//! /h5md                 version = [1, 1]; author (name), creator (name = "eqmd", version)
//! /particles/all/box    dimension = 3, boundary = "periodic" | "none" per axis
//!     edges/{step, time, value [n, 3, 3]}   rows = box vectors a, b, c (zeros in vacuum)
//! /particles/all/{position, velocity, force}/{step [n] int64, time [n], value [n, N, 3]}
//! /particles/all/species  [N] int32 species indices; attribute `names` lists the names
//! /observables/{pe, ke, etotal, temp, press}/{step, time, value [n]}
//! /parameters           attribute `units` = "metal" | "lj" (eqmd's unit system)
//! ```
//!
//! Choices where H5MD leaves room or where eqmd departs from it:
//! - `species` is Integer (allowed) rather than an HDF5 enumeration; the names are a
//!   variable-length string attribute `names` on it (index i ↦ `names[i]`).
//! - `unit` attributes (variable-length ASCII, on every `value` and `time`) are spelled as
//!   MDAnalysis's H5MD reader knows them: "Angstrom", "Angstrom ps-1", and forces in
//!   "kJ mol-1 Angstrom-1" (converted from eV/Å on writing: MDAnalysis knows no eV);
//!   `lj` runs carry no `unit` attribute (reduced units have no unit string), and the unit
//!   system is recorded in `/parameters/units` instead.
//! - `box/edges/step` and `time` are hard links to `position`'s, as H5MD requires; every
//!   other element has its own `step` and `time`.
//! - Per-atom `value`s are chunked one frame per chunk; `step`, `time`, observables and
//!   edges use 1024-row chunks (one frame per chunk would make millions of tiny chunks).
//! - HDF5 file locking is off, so a live trajectory can be read (h5py, `read_last_frame`)
//!   while the run writes it; eqmd never writes one file from two processes.
//!
//! Crash safety: each frame writes the observables, then every particle element (value,
//! then time, then step; position last), then flushes. A reader counts as complete only the
//! frames present in every dataset under `/particles/all`, so a run cut mid-frame loses at
//! most that frame. The file keeps HDF5's default (oldest) format, which has no "open for
//! writing" flag, so a killed run's file opens without `h5clear`. A run killed during the
//! flush itself can leave a last frame whose chunk was never written (values and times
//! are filled with NaN and steps with −1, so other tools show it as such) or lies past the
//! end of the file the superblock records (HDF5 refuses to read it): readers count neither
//! (`torn`), and a restart raises the recorded end past the bytes written, as `h5clear
//! --increment` does, before it cuts the file back to the checkpoint's frames.
//!
//! This file holds the layout's constants, the stored fields, the frame read back, the error
//! type, the unit strings and the error helpers both halves share; [`H5mdWriter`] (create,
//! append, write) is in `write`, opening a file and reading its frames in `read`, and their
//! public items are re-exported here.

mod read;
mod torn;
mod write;

pub use read::{
    frame_count, read_dipole_series, read_frames, read_last_frame, read_velocity_series, time_unit,
    units, VelocitySeries,
};
pub use write::H5mdWriter;

use crate::units::Units;
use glam::{DMat3, DVec3};
use std::path::{Path, PathBuf};

/// Which per-atom fields to store.
#[derive(Clone, Copy, Debug)]
pub struct H5mdFields {
    /// Positions (needed to restart from the file).
    pub position: bool,
    /// Velocities (needed for an exact restart).
    pub velocity: bool,
    /// Forces on the atoms.
    pub force: bool,
    /// The dipole moment, as `/observables/dipole` (when the potential predicts one).
    pub dipole: bool,
}

/// Why an H5MD file could not be written or read; every message starts with the file name.
#[derive(Debug, thiserror::Error)]
pub enum H5mdError {
    /// The file could not be reached (missing, unreadable).
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        /// What the system said (in the message, not chained: said once).
        cause: std::io::Error,
    },
    /// The HDF5 library refused an operation (disk full, a damaged file, ...) or the data
    /// do not fit (shapes, indices); said in one line, without the library's error stack.
    #[error("{}: {}", path.display(), crate::hdf5_file::brief(cause))]
    Hdf5 { path: PathBuf, cause: hdf5::Error },
    /// An HDF5 file that lacks what H5MD (or eqmd's restart) needs.
    #[error("{}: not a usable H5MD trajectory: {what}", path.display())]
    NotH5md { path: PathBuf, what: String },
    /// Data that do not fit the file (atom count, array lengths).
    #[error("{}: {what}", path.display())]
    Invalid { path: PathBuf, what: String },
}

/// The last complete frame of an H5MD file (the frame a run can restart from).
#[derive(Clone, Debug, PartialEq)]
pub struct H5mdFrame {
    /// Integration step of the frame.
    pub step: u64,
    /// Simulation time of the frame (time units of the run).
    pub time: f64,
    /// Box vectors as the columns (zero for a vacuum cell).
    pub cell: DMat3,
    /// Periodicity along a, b, c (`boundary` = "periodic").
    pub pbc: [bool; 3],
    /// Species names, indexed by `species`.
    pub species_names: Vec<String>,
    /// Species index of every atom.
    pub species: Vec<usize>,
    /// Cartesian positions.
    pub positions: Vec<DVec3>,
    /// Velocities, when the file stores them.
    pub velocities: Option<Vec<DVec3>>,
}

/// Rows per chunk for `step`, `time`, observables and box edges.
const SMALL_CHUNK: usize = 1024;
/// The observables under `/observables`, from `Thermo`.
const OBSERVABLES: [&str; 5] = ["pe", "ke", "etotal", "temp", "press"];
/// Time-dependent elements under `/particles/all` that count towards complete frames.
const PARTICLE_ELEMENTS: [&str; 4] = ["position", "velocity", "force", "box/edges"];

/// The factor from eqmd's force unit to the file's: eV/Å to kJ mol⁻¹ Å⁻¹ in metal units.
pub fn force_factor(units: Units) -> f64 {
    match units {
        Units::Lj => 1.0,
        Units::Metal => crate::units::EV_IN_KJ_PER_MOL,
    }
}

/// The `unit` string of a quantity, or None in reduced (lj) units. Spelled as H5MD's
/// units module and MDAnalysis's H5MD reader both read them.
fn unit(units: Units, quantity: &str) -> Option<&'static str> {
    match units {
        Units::Lj => None,
        Units::Metal => Some(match quantity {
            "time" => "ps",
            "position" | "edges" => "Angstrom",
            "velocity" => "Angstrom ps-1",
            "force" => "kJ mol-1 Angstrom-1",
            "dipole" => "e Angstrom",
            "temp" => "K",
            "press" => "bar",
            _ => "eV",
        }),
    }
}

/// An hdf5::Error from a message (string conversions, data that do not fit).
fn bad(e: impl std::fmt::Display) -> hdf5::Error {
    hdf5::Error::from(e.to_string())
}

fn hdf5_err(path: &Path, cause: hdf5::Error) -> H5mdError {
    H5mdError::Hdf5 {
        path: path.to_path_buf(),
        cause,
    }
}

fn not_h5md(path: &Path, what: &str) -> H5mdError {
    H5mdError::NotH5md {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}
