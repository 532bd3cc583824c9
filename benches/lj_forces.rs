//! One Lennard-Jones force call (energy, forces, virial) on `in.lj` at 4k, 32k, 256k atoms.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eqmd::neighbors::NeighborList;
use eqmd::potential::{ForceOutput, Potential};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let lj = common::lj();
    let mut g = common::group(c, "lj_forces");
    for n in common::CELLS {
        let mut system = common::lj_system(n);
        let mut list = NeighborList::new(lj.list_kind(), lj.cutoff(), common::SKIN);
        list.rebuild(&mut system);
        let mut out = ForceOutput::new(system.len());
        g.throughput(Throughput::Elements(system.len() as u64));
        g.bench_function(BenchmarkId::from_parameter(system.len()), |b| {
            b.iter(|| {
                out.reset(system.len());
                lj.compute(&system, &list, &mut out);
                black_box(out.energy)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
