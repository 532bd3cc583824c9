//! One EAM force call (Cu_u3, LAMMPS `in.eam` system) on a thermalised fcc copper crystal
//! at 4k and 32k atoms, and the same for a full MD step.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eqmd::integrate::{maxwell_boltzmann, VelocityVerlet};
use eqmd::lattice::{build, LatticeKind};
use eqmd::potential::eam::file::read_funcfl;
use eqmd::potential::{Eam, ForceOutput, Potential};
use eqmd::simulation::Simulation;
use eqmd::system::System;
use eqmd::units::Units;
use std::hint::black_box;
use std::path::Path;

fn copper(n: usize) -> (System, Eam) {
    let (cell, sites) = build(LatticeKind::Fcc, 3.615, [n, n, n]);
    let mut system = System::new(cell, Units::Metal);
    let k = system.add_species("Cu", 63.55);
    for (_, r) in sites {
        system.add_atom(k, r);
    }
    maxwell_boltzmann(&mut system, 1600.0, 376847);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("potentials/Cu_u3.eam");
    (system, Eam::from_funcfl(&[read_funcfl(&file).unwrap()]))
}

fn bench(c: &mut Criterion) {
    let mut g = common::group(c, "eam");
    for n in [10, 20] {
        let (system, eam) = copper(n);
        let atoms = system.len();
        // 30 steps of 5 fs so that the crystal is thermally disordered
        let mut sim = Simulation::new(
            system,
            Box::new(eam.clone()),
            Box::new(VelocityVerlet::new(0.005)),
            1.0,
        );
        for _ in 0..30 {
            sim.step().unwrap();
        }
        g.throughput(Throughput::Elements(atoms as u64));
        g.bench_function(BenchmarkId::new("force", atoms), |b| {
            let mut out = ForceOutput::new(atoms);
            b.iter(|| {
                out.reset(atoms);
                eam.compute(sim.system(), sim.neighbors(), &mut out);
                black_box(out.energy)
            })
        });
        g.bench_function(BenchmarkId::new("step", atoms), |b| {
            b.iter(|| {
                sim.step().unwrap();
                black_box(sim.forces().energy)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
