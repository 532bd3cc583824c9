//! Files eqmd reads and writes: extended XYZ and H5MD structures and trajectories (and the
//! one conversion of a structure into a `System`), thermo logs, checkpoints.

pub mod binary;
pub mod checkpoint;
pub mod extxyz;
pub mod guard;
pub mod h5md;
pub mod structure;
pub mod thermo;
