//! eqmd: molecular dynamics in one binary, with classical potentials and an SO(3)-equivariant
//! network (`potential::equivariant`) as force fields.
//!
//! The data path reads straight through the modules: a `deck` builds a `system` in a
//! `cell`; a `neighbors` list feeds a `potential`; an `integrate` scheme advances the
//! `simulation`, which gives its `state` (thermo rows, snapshots) as plain data for `io` to
//! write. The applications sit on top: `run` (`eqmd run`), `train` (`eqmd train`,
//! `eqmd learning-curve`) and `tools` (the model commands), tied to the binary by `cli`.

/// mimalloc keeps freed memory for reuse instead of returning large blocks to the system,
/// so the per-step buffers of the force fields (the network's are tens of megabytes) do
/// not fault in fresh pages every step. Set here so the binary, tests and benchmarks agree.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Has mimalloc keep freed memory for ten seconds before it returns it to the system (by
/// default it purges after one second, and the pages of large blocks sooner): training and
/// MD free and allocate the same large buffers every step, and each purge made the next
/// step fault in and zero fresh pages (5 % of a training step's time at the shipped
/// models' shape). The binary and the Python module call it first thing; `MIMALLOC_PURGE_DELAY` in
/// the environment still decides when set.
pub fn keep_freed_memory() {
    // mi_option_purge_delay of mimalloc.h (v2 and v3), which libmimalloc-sys does not name
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets the default of one of mimalloc's process-wide integer options, called
    // before the program starts its threads
    unsafe { libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 10_000) }
}

pub mod analysis;
pub mod cell;
pub mod cli;
pub mod cpu;
pub mod deck;
pub mod file_kind;
pub mod hdf5_file;
pub mod integrate;
pub mod io;
pub mod lattice;
pub mod minimize;
pub mod neighbors;
pub mod plot_axis;
pub mod potential;
pub mod run;
pub mod simulation;
pub mod state;
pub mod system;
pub mod tools;
pub mod train;
pub mod units;
