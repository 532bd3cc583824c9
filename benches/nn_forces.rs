//! Energy + forces of the equivariant network at the reference size (L = 2, 32 channels,
//! 3 layers, r_c = 5 Å, 8 Bessel functions, radial MLP 64-64, float64): ethanol (9 atoms)
//! and fcc copper 4×4×4 (256) and 6×6×6 (864) cells.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eqmd::cell::Cell;
use eqmd::io::extxyz;
use eqmd::lattice::{build, LatticeKind};
use eqmd::neighbors::NeighborList;
use eqmd::potential::equivariant::model::{Hyper, Model};
use eqmd::potential::equivariant::potential::Equivariant;
use eqmd::potential::{ForceOutput, Potential};
use eqmd::system::System;
use eqmd::units::Units;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn reference_model() -> Model {
    Model::random(
        Hyper {
            species: ["H", "C", "O", "Cu"].map(String::from).to_vec(),
            lmax: 2,
            channels: 32,
            layers: 3,
            cutoff: 5.0,
            radial_basis: 8,
            radial_hidden: vec![64, 64],
            parity: false,
            avg_neighbors: 20.0,
            correlation: 1,
            layer_readouts: false,
            dipole: None,
        },
        1,
    )
}

fn ethanol() -> System {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/structures/ethanol.xyz");
    let frame = extxyz::read_last_frame(&path).unwrap();
    let mut s = System::new(Cell::vacuum(), Units::Metal);
    for (name, r) in frame.symbols.iter().zip(&frame.positions) {
        let k = s.add_species(name, 1.0);
        s.add_atom(k, *r);
    }
    s
}

fn copper(n: usize) -> System {
    let (cell, sites) = build(LatticeKind::Fcc, 3.615, [n, n, n]);
    let mut s = System::new(cell, Units::Metal);
    let k = s.add_species("Cu", 63.546);
    for (_, r) in sites {
        s.add_atom(k, r);
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("equivariant");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, mut system) in [
        ("ethanol", ethanol()),
        ("cu256", copper(4)),
        ("cu864", copper(6)),
    ] {
        let net = Equivariant::new(reference_model(), &system.species_names).unwrap();
        let mut list = NeighborList::new(net.list_kind(), net.cutoff(), 0.0);
        list.rebuild(&mut system);
        let n = system.len();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("energy_forces", name), |b| {
            let mut out = ForceOutput::new(n);
            b.iter(|| {
                out.reset(n);
                net.compute(&system, &list, &mut out);
                black_box(out.energy)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
