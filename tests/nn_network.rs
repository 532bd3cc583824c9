//! The equivariant network on random weights and random inputs: forces are minus the
//! finite-difference gradient of the energy, the virial minus its strain derivative; the
//! energy is invariant under rotations, translations, permutations of like atoms and lattice
//! shifts (and inversion with parity); forces rotate with the input.

mod common;

use common::*;
use eqmd::cell::Cell;
use eqmd::potential::equivariant::model::{Hyper, Model};
use eqmd::potential::equivariant::potential::Equivariant;
use eqmd::system::System;
use glam::{DMat3, DQuat, DVec3};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn hyper(lmax: usize, parity: bool) -> Hyper {
    Hyper {
        parity,
        ..small_hyper(lmax)
    }
}

fn network(lmax: usize, parity: bool, system: &System) -> Equivariant {
    Equivariant::new(
        Model::random(hyper(lmax, parity), 7 + lmax as u64),
        &system.species_names,
    )
    .unwrap()
}

fn molecule(seed: u64) -> System {
    random_system(Cell::vacuum(), 7, 2, 0.9, 3.0, seed)
}

fn crystal(seed: u64) -> System {
    let cell = periodic(
        DVec3::new(4.5, 0.0, 0.0),
        DVec3::new(0.8, 4.2, 0.0),
        DVec3::new(-0.4, 0.6, 4.8),
    );
    random_system(cell, 8, 2, 1.0, 0.0, seed)
}

fn random_rotation(rng: &mut ChaCha8Rng) -> DMat3 {
    let q = DQuat::from_xyzw(
        rng.random::<f64>() - 0.5,
        rng.random::<f64>() - 0.5,
        rng.random::<f64>() - 0.5,
        rng.random::<f64>() - 0.5,
    )
    .normalize();
    DMat3::from_quat(q)
}

#[test]
fn forces_are_minus_the_energy_gradient() {
    for lmax in 0..=3 {
        for system in [molecule(1), crystal(2)] {
            let net = network(lmax, false, &system);
            let out = compute(&net, &system);
            let fd = fd_forces(&net, &system, 1e-5);
            let err = forces_rel_err(&out.forces, &fd);
            assert!(
                err < 1e-6,
                "L = {lmax}: forces vs finite differences {err:e}"
            );
            let total: DVec3 = out.forces.iter().sum();
            assert!(total.length() < 1e-10, "L = {lmax}: ΣF = {total}");
        }
    }
}

#[test]
fn virial_is_minus_the_strain_derivative() {
    for lmax in [0, 2] {
        let system = crystal(3);
        let net = network(lmax, false, &system);
        let out = compute(&net, &system);
        let w = fd_virial(&net, &system, 1e-5);
        let err = mat_rel_err(out.virial, w);
        assert!(
            err < 1e-6,
            "L = {lmax}: virial vs strain derivative {err:e}"
        );
    }
}

#[test]
fn energy_is_invariant_and_forces_rotate() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for lmax in 0..=3 {
        let system = molecule(4);
        let net = network(lmax, false, &system);
        let out = compute(&net, &system);
        let e0 = out.energy;
        for _ in 0..3 {
            let rot = random_rotation(&mut rng);
            let shift = DVec3::new(123.0, -456.0, 789.0) * rng.random::<f64>();
            let mut moved = system.clone();
            for r in &mut moved.positions {
                *r = rot * *r + shift;
            }
            let o = compute(&net, &moved);
            assert!(
                (o.energy - e0).abs() < 1e-9 * e0.abs().max(1.0),
                "L = {lmax}: E changed by {:e}",
                o.energy - e0
            );
            for (f, f0) in o.forces.iter().zip(&out.forces) {
                assert!(
                    (*f - rot * *f0).length() < 1e-9 * (1.0 + f0.length()),
                    "L = {lmax}: F(Rx) != R F(x)"
                );
            }
        }
        // permutation of like atoms
        let mut perm = system.clone();
        perm.positions.reverse();
        perm.species.reverse();
        let o = compute(&net, &perm);
        assert!(
            (o.energy - e0).abs() < 1e-9 * e0.abs().max(1.0),
            "L = {lmax}: permutation"
        );
    }
}

#[test]
fn periodic_energy_is_invariant_under_lattice_shifts_and_rotations() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let system = crystal(5);
    let net = network(2, false, &system);
    let e0 = compute(&net, &system).energy;
    let mut shifted = system.clone();
    shifted.positions[2] += system.cell.vector(1) * 2.0 - system.cell.vector(0);
    assert!((compute(&net, &shifted).energy - e0).abs() < 1e-9 * e0.abs().max(1.0));
    let rot = random_rotation(&mut rng);
    let mut rotated = system.clone();
    rotated.cell = Cell::from_matrix(rot * system.cell.matrix(), [true; 3]).unwrap();
    for r in &mut rotated.positions {
        *r = rot * *r;
    }
    assert!((compute(&net, &rotated).energy - e0).abs() < 1e-9 * e0.abs().max(1.0));
}

#[test]
fn parity_makes_the_energy_invariant_under_inversion() {
    for lmax in 1..=3 {
        let system = molecule(6);
        let mut inverted = system.clone();
        for r in &mut inverted.positions {
            *r = -*r;
        }
        let with = network(lmax, true, &system);
        let e = compute(&with, &system).energy;
        assert!(
            (compute(&with, &inverted).energy - e).abs() < 1e-9 * e.abs().max(1.0),
            "L = {lmax}"
        );
        // without parity the pseudo-tensor couplings make the energy chiral in general: a
        // second layer makes pseudo-tensors from true ones, a third reads them into scalars
        let mut h = hyper(lmax, false);
        h.layers = 3;
        let without = Equivariant::new(Model::random(h, 3), &system.species_names).unwrap();
        let e = compute(&without, &system).energy;
        let ei = compute(&without, &inverted).energy;
        assert!(
            (ei - e).abs() > 1e-9,
            "L = {lmax}: SO(3)-only model should see chirality"
        );
    }
}

/// Each layer's reverse pass on its own: models of 1, 2 and 3 layers (the first layer sees
/// only scalars, later ones every degree), forces against finite differences.
#[test]
fn each_layer_reverse_pass_matches_finite_differences() {
    let system = crystal(8);
    for layers in 1..=3 {
        let mut h = hyper(2, false);
        h.layers = layers;
        let net =
            Equivariant::new(Model::random(h, 40 + layers as u64), &system.species_names).unwrap();
        let out = compute(&net, &system);
        let fd = fd_forces(&net, &system, 1e-5);
        let err = forces_rel_err(&out.forces, &fd);
        assert!(
            err < 1e-6,
            "{layers} layers: forces vs finite differences {err:e}"
        );
    }
}

fn product_network(lmax: usize, parity: bool, correlation: usize, system: &System) -> Equivariant {
    let mut h = hyper(lmax, parity);
    h.correlation = correlation;
    let seed = 70 + 4 * lmax as u64 + correlation as u64;
    Equivariant::new(Model::random(h, seed), &system.species_names).unwrap()
}

/// Layers with a product basis (ν = 2, 3) for every degree: forces against finite
/// differences, the virial against the strain derivative, the energy invariant and the
/// forces rotating, permutations of like atoms, inversion with parity.
#[test]
fn product_basis_layers_are_exact_and_equivariant() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for lmax in 0..=3 {
        for correlation in 2..=3 {
            let what = format!("L = {lmax}, ν = {correlation}");
            let system = crystal(9);
            let net = product_network(lmax, false, correlation, &system);
            let out = compute(&net, &system);
            let err = forces_rel_err(&out.forces, &fd_forces(&net, &system, 1e-5));
            assert!(err < 1e-6, "{what}: forces vs finite differences {err:e}");
            let err = mat_rel_err(out.virial, fd_virial(&net, &system, 1e-5));
            assert!(err < 1e-6, "{what}: virial vs strain derivative {err:e}");

            let system = molecule(10);
            let net = product_network(lmax, true, correlation, &system);
            let out = compute(&net, &system);
            let e0 = out.energy;
            let close = |e: f64| (e - e0).abs() < 1e-9 * e0.abs().max(1.0);
            let rot = random_rotation(&mut rng);
            let mut moved = system.clone();
            for r in &mut moved.positions {
                *r = rot * *r + DVec3::new(12.0, -3.0, 7.0);
            }
            let o = compute(&net, &moved);
            assert!(
                close(o.energy),
                "{what}: rotation changed E by {:e}",
                o.energy - e0
            );
            for (f, f0) in o.forces.iter().zip(&out.forces) {
                assert!(
                    (*f - rot * *f0).length() < 1e-9 * (1.0 + f0.length()),
                    "{what}"
                );
            }
            let mut perm = system.clone();
            perm.positions.reverse();
            perm.species.reverse();
            assert!(close(compute(&net, &perm).energy), "{what}: permutation");
            let mut inverted = system.clone();
            for r in &mut inverted.positions {
                *r = -*r;
            }
            assert!(close(compute(&net, &inverted).energy), "{what}: inversion");
            // the product basis changes the model: ν = 1 weights alone give another energy
            let nequip = network(lmax, true, &system);
            assert!(
                (compute(&nequip, &system).energy - e0).abs() > 1e-9,
                "{what}"
            );
        }
    }
}

/// Readouts of every layer: forces against finite differences, the virial against the
/// strain derivative, rotation and inversion invariance; zero readouts before the last
/// layer give the energy of the same model read out at its last layer only.
#[test]
fn layer_readouts_are_exact_and_invariant() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for (lmax, correlation) in [(0, 1), (2, 1), (3, 3), (1, 2)] {
        let what = format!("L = {lmax}, ν = {correlation}, readouts of every layer");
        let mut h = hyper(lmax, true);
        h.correlation = correlation;
        h.layers = 3;
        h.layer_readouts = true;
        let system = crystal(9);
        let model = Model::random(h.clone(), 90 + lmax as u64);
        let net = Equivariant::new(model.clone(), &system.species_names).unwrap();
        let out = compute(&net, &system);
        let err = forces_rel_err(&out.forces, &fd_forces(&net, &system, 1e-5));
        assert!(err < 1e-6, "{what}: forces vs finite differences {err:e}");
        let err = mat_rel_err(out.virial, fd_virial(&net, &system, 1e-5));
        assert!(err < 1e-6, "{what}: virial vs strain derivative {err:e}");

        let molecule = molecule(10);
        let net = Equivariant::new(model.clone(), &molecule.species_names).unwrap();
        let e0 = compute(&net, &molecule).energy;
        let rot = random_rotation(&mut rng);
        let mut moved = molecule.clone();
        for r in &mut moved.positions {
            *r = -(rot * *r) + DVec3::new(1.0, 2.0, -3.0);
        }
        let e = compute(&net, &moved).energy;
        assert!(
            (e - e0).abs() < 1e-9 * e0.abs().max(1.0),
            "{what}: {e} vs {e0}"
        );

        // the readouts of the earlier layers add to the energy, and only they
        let energy = |m: &Model| {
            let net = Equivariant::new(m.clone(), &molecule.species_names).unwrap();
            compute(&net, &molecule).energy
        };
        let mut zeroed = model.clone();
        for l in &mut zeroed.layers {
            l.readout.fill(0.0);
        }
        let e_zeroed = energy(&zeroed);
        assert!(
            (e_zeroed - e0).abs() > 1e-9,
            "{what}: the readouts change nothing"
        );
        for l in &mut zeroed.layers {
            l.readout.clear();
        }
        zeroed.hyper.layer_readouts = false;
        assert_eq!(energy(&zeroed), e_zeroed, "{what}");
    }
}
