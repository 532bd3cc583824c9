//! One velocity-Verlet NVE step of the `in.lj` liquid (after 50 steps) at 4k, 32k, 256k atoms.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eqmd::integrate::VelocityVerlet;
use eqmd::simulation::Simulation;

fn bench(c: &mut Criterion) {
    let mut g = common::group(c, "md_step");
    for n in common::CELLS {
        let system = common::lj_system(n);
        let atoms = system.len();
        let integrator = Box::new(VelocityVerlet::new(0.005));
        let mut sim = Simulation::new(system, Box::new(common::lj()), integrator, common::SKIN);
        for _ in 0..50 {
            sim.step().unwrap();
        }
        g.throughput(Throughput::Elements(atoms as u64));
        g.bench_function(BenchmarkId::from_parameter(atoms), |b| {
            b.iter(|| sim.step().unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
