//! eqmd: molecular dynamics in one binary, with classical pair potentials and (in time) an
//! SO(3)-equivariant network as force fields.
//!
//! The data path reads straight through the modules: a `deck` builds a `system` in a
//! `cell`; a `neighbors` list feeds a `potential`; an `integrate` scheme advances the
//! `simulation`, which gives its `state` (thermo rows, snapshots) as plain data for `io` to
//! write.

/// mimalloc keeps freed memory for reuse instead of returning large blocks to the system,
/// so the per-step buffers of the force fields (the network's are tens of megabytes) do
/// not fault in fresh pages every step. Set here so the binary, tests and benchmarks agree.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod cell;
pub mod cli;
pub mod deck;
pub mod integrate;
pub mod io;
pub mod lattice;
pub mod neighbors;
pub mod potential;
pub mod run;
pub mod simulation;
pub mod state;
pub mod system;
pub mod tools;
pub mod train;
pub mod units;
