//! Neighbour-list build (wrap, bin, half list) for the `in.lj` fcc system at 4k, 32k, 256k atoms.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eqmd::neighbors::NeighborList;
use eqmd::potential::Potential;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let lj = common::lj();
    let mut g = common::group(c, "neighbors");
    for n in common::CELLS {
        let mut system = common::lj_system(n);
        let mut list = NeighborList::new(lj.list_kind(), lj.cutoff(), common::SKIN);
        g.throughput(Throughput::Elements(system.len() as u64));
        g.bench_function(BenchmarkId::from_parameter(system.len()), |b| {
            b.iter(|| {
                list.rebuild(&mut system);
                black_box(list.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
