//! Shared setup: the LAMMPS `in.lj` system (fcc at ρ* = 0.8442, T0 = 1.44, rc = 2.5, skin 0.3).
// each bench binary uses a different part of this module
#![allow(dead_code)]

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use eqmd::integrate::maxwell_boltzmann;
use eqmd::lattice::{build, LatticeKind};
use eqmd::potential::LennardJones;
use eqmd::system::System;
use eqmd::units::Units;
use std::time::Duration;

/// fcc cells per side: 4 n³ = 4,000, 32,000 and 256,000 atoms.
pub const CELLS: [usize; 3] = [10, 20, 40];
/// Neighbour-list skin of `in.lj`.
pub const SKIN: f64 = 0.3;

/// The `in.lj` atoms on an n × n × n fcc lattice with velocities at T0 = 1.44.
pub fn lj_system(n: usize) -> System {
    let a = LatticeKind::Fcc.constant_for_density(0.8442);
    let (cell, sites) = build(LatticeKind::Fcc, a, [n, n, n]);
    let mut system = System::new(cell, Units::Lj);
    let k = system.add_species("A", 1.0);
    for (_, r) in sites {
        system.add_atom(k, r);
    }
    maxwell_boltzmann(&mut system, 1.44, 87287);
    system
}

/// LJ with ε = σ = 1, cutoff 2.5, unshifted.
pub fn lj() -> LennardJones {
    LennardJones::single(1.0, 1.0, 2.5, false)
}

/// A group with few, flat samples so the 256k cases stay affordable.
pub fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g
}
