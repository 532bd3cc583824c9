//! Files eqmd reads and writes: extended XYZ structures and trajectories, thermo logs.

pub mod binary;
pub mod checkpoint;
pub mod extxyz;
pub mod h5md;
pub mod thermo;
