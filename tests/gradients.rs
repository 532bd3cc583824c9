//! Forces are minus the finite-difference gradient of the energy and the virial is minus
//! the finite-difference strain derivative, for every classical potential, in periodic
//! (orthorhombic, triclinic, small) and vacuum systems, through half and full lists.

mod common;

use common::*;
use eqmd::cell::Cell;
use eqmd::neighbors::{ListKind, NeighborList};
use eqmd::potential::{
    ForceOutput, LennardJones, LjPair, Mixing, Morse, MorsePair, Potential, Sum,
};
use eqmd::system::System;
use glam::DVec3;

fn binary_lj(shift: bool) -> LennardJones {
    let p = |epsilon, sigma, cutoff| LjPair {
        epsilon,
        sigma,
        cutoff,
    };
    LennardJones::new(
        2,
        &[(0, 0, p(1.0, 1.0, 2.5)), (1, 1, p(0.6, 1.2, 3.0))],
        Mixing::Geometric,
        shift,
    )
    .unwrap()
}

fn binary_morse() -> Morse {
    let p = |d0, alpha, r0| MorsePair {
        d0,
        alpha,
        r0,
        cutoff: 2.8,
    };
    Morse::new(
        2,
        &[
            (0, 0, p(0.8, 2.0, 1.1)),
            (0, 1, p(0.5, 1.7, 1.2)),
            (1, 1, p(0.3, 1.5, 1.3)),
        ],
        true,
    )
    .unwrap()
}

fn systems() -> Vec<(&'static str, System)> {
    let triclinic = periodic(
        DVec3::new(6.0, 0.0, 0.0),
        DVec3::new(1.5, 5.5, 0.0),
        DVec3::new(-1.0, 0.8, 6.2),
    );
    let small = periodic(
        DVec3::new(3.2, 0.0, 0.0),
        DVec3::new(0.9, 3.0, 0.0),
        DVec3::new(0.3, -0.5, 3.4),
    );
    let slab = Cell::new(
        DVec3::new(5.0, 0.0, 0.0),
        DVec3::new(0.0, 5.0, 0.0),
        DVec3::new(0.0, 0.0, 8.0),
        [true, true, false],
    )
    .unwrap();
    vec![
        ("triclinic", random_system(triclinic, 40, 2, 0.9, 0.0, 11)),
        ("small box", random_system(small, 6, 2, 0.9, 0.0, 12)),
        ("slab", random_system(slab, 30, 2, 0.9, 0.0, 13)),
        ("vacuum", random_system(Cell::vacuum(), 25, 2, 0.9, 4.0, 14)),
    ]
}

fn check_gradients(name: &str, potential: &dyn Potential) {
    for (label, system) in systems() {
        let out = compute(potential, &system);
        let fd = fd_forces(potential, &system, 1e-5);
        let err = forces_rel_err(&out.forces, &fd);
        assert!(
            err < 1e-6,
            "{name} / {label}: forces vs finite differences, rel err {err:e}"
        );
        if system.cell.is_periodic() {
            let w = fd_virial(potential, &system, 1e-5);
            let err = mat_rel_err(out.virial, w);
            assert!(
                err < 1e-6,
                "{name} / {label}: virial vs strain derivative, rel err {err:e}"
            );
        }
        // Newton's third law: the total force vanishes
        let total: DVec3 = out.forces.iter().sum();
        assert!(
            total.length() < 1e-9 * (1.0 + out.forces.len() as f64),
            "{name} / {label}: ΣF = {total}"
        );
    }
}

#[test]
fn lennard_jones_forces_and_virial_are_gradients() {
    check_gradients("LJ", &binary_lj(false));
    check_gradients("LJ shifted", &binary_lj(true));
}

#[test]
fn morse_forces_and_virial_are_gradients() {
    check_gradients("Morse", &binary_morse());
}

#[test]
fn sum_forces_and_virial_are_gradients_and_add_up() {
    let sum = Sum::new(vec![Box::new(binary_lj(true)), Box::new(binary_morse())]);
    check_gradients("LJ + Morse", &sum);
    for (label, system) in systems() {
        let a = compute(&binary_lj(true), &system);
        let b = compute(&binary_morse(), &system);
        let s = compute(&sum, &system);
        assert!(
            (s.energy - a.energy - b.energy).abs() < 1e-10 * s.energy.abs().max(1.0),
            "{label}"
        );
    }
}

/// A half list and a full list give the same energy, forces, virial and per-atom energies.
#[test]
fn half_and_full_lists_agree() {
    let lj = binary_lj(true);
    for (label, system) in systems() {
        let mut results = Vec::new();
        for kind in [ListKind::Half, ListKind::Full] {
            let mut s = system.clone();
            let mut list = NeighborList::new(kind, lj.cutoff(), 0.3);
            list.rebuild(&mut s);
            let mut out = ForceOutput::new(s.len()).with_per_atom_energy();
            lj.compute(&s, &list, &mut out);
            results.push(out);
        }
        let (h, f) = (&results[0], &results[1]);
        assert!(
            (h.energy - f.energy).abs() < 1e-10 * h.energy.abs().max(1.0),
            "{label}"
        );
        assert!(forces_rel_err(&h.forces, &f.forces) < 1e-10, "{label}");
        assert!(mat_rel_err(h.virial, f.virial) < 1e-10, "{label}");
        let pa: f64 = h.per_atom_energy.as_ref().unwrap().iter().sum();
        assert!(
            (pa - h.energy).abs() < 1e-10 * h.energy.abs().max(1.0),
            "{label}: Σ e_i = E"
        );
        let hf = h.per_atom_energy.as_ref().unwrap();
        let ff = f.per_atom_energy.as_ref().unwrap();
        for (a, b) in hf.iter().zip(ff) {
            assert!((a - b).abs() < 1e-10);
        }
    }
}

/// Energy is unchanged by a rigid translation, by shifting an atom by a lattice vector, and
/// by permuting atoms of the same species.
#[test]
fn energy_is_invariant_under_translation_image_shift_and_permutation() {
    let lj = binary_lj(false);
    for (label, system) in systems() {
        let e0 = energy(&lj, &system);
        let mut t = system.clone();
        for r in &mut t.positions {
            *r +=
                DVec3::new(123.4, -56.7, 8.9) * if system.cell.is_periodic() { 1.0 } else { 0.01 };
        }
        // a translation along a non-periodic axis stays exact only for vacuum; slabs move in-plane
        if label == "slab" {
            t = system.clone();
            for r in &mut t.positions {
                *r += DVec3::new(123.4, -56.7, 0.0);
            }
        }
        assert!(
            (energy(&lj, &t) - e0).abs() < 1e-9 * e0.abs().max(1.0),
            "{label}: translation"
        );
        if system.cell.pbc()[0] {
            let mut s = system.clone();
            s.positions[3] += system.cell.vector(0) * 3.0;
            assert!(
                (energy(&lj, &s) - e0).abs() < 1e-9 * e0.abs().max(1.0),
                "{label}: image shift"
            );
        }
        let mut p = system.clone();
        p.positions.reverse();
        p.species.reverse();
        assert!(
            (energy(&lj, &p) - e0).abs() < 1e-9 * e0.abs().max(1.0),
            "{label}: permutation"
        );
    }
}

/// Several threads split the atoms into blocks with private force buffers; the result
/// must equal the single-thread one (up to the order of summation) on a large system.
#[test]
fn blocked_parallel_forces_equal_serial_ones() {
    let (cell, sites) = eqmd::lattice::build(eqmd::lattice::LatticeKind::Fcc, 1.6796, [10, 10, 10]);
    let mut system = System::new(cell, eqmd::units::Units::Lj);
    let k = system.add_species("A", 1.0);
    for (n, (_, r)) in sites.into_iter().enumerate() {
        let wobble = DVec3::new(
            (n as f64 * 0.37).sin(),
            (n as f64 * 0.91).cos(),
            (n as f64 * 0.53).sin(),
        );
        system.add_atom(k, r + wobble * 0.05);
    }
    let lj = LennardJones::single(1.0, 1.0, 2.5, true);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut s = system.clone();
            let mut list = NeighborList::new(ListKind::Half, 2.5, 0.3);
            list.rebuild(&mut s);
            let mut out = ForceOutput::new(s.len()).with_per_atom_energy();
            lj.compute(&s, &list, &mut out);
            out
        })
    };
    let (one, three) = (run(1), run(3));
    assert!((one.energy - three.energy).abs() < 1e-10 * one.energy.abs());
    assert!(forces_rel_err(&three.forces, &one.forces) < 1e-12);
    assert!(mat_rel_err(three.virial, one.virial) < 1e-12);
    let (a, b) = (one.per_atom_energy.unwrap(), three.per_atom_energy.unwrap());
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
}
