//! eqmd: molecular dynamics in one binary, with classical pair potentials and (in time) an
//! SO(3)-equivariant network as force fields.
//!
//! The data path reads straight through the modules: a `deck` builds a `system` in a
//! `cell`; a `neighbors` list feeds a `potential`; an `integrate` scheme advances the
//! `simulation`; `io` writes what observers record.

pub mod cell;
pub mod cli;
pub mod deck;
pub mod integrate;
pub mod io;
pub mod lattice;
pub mod neighbors;
pub mod nn;
pub mod potential;
pub mod run;
pub mod simulation;
pub mod system;
pub mod units;
