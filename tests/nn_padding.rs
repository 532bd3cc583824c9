//! The network's energy of some atoms among others (`Equivariant::compute_weighted`), as a
//! process of a domain decomposition computes it: the owned atoms count, the padding atoms
//! around them do not. Forces are minus the gradient of that weighted energy, and owned
//! atoms padded with their periodic images out to layers × cutoff give back, once the
//! padding forces are added to their owners, the periodic energy, forces and virial.

mod common;

use common::*;
use eqmd::cell::Cell;
use eqmd::neighbors::{ListKind, NeighborList};
use eqmd::potential::equivariant::model::{Hyper, Model};
use eqmd::potential::equivariant::potential::Equivariant;
use eqmd::potential::ForceOutput;
use eqmd::system::System;
use glam::{DMat3, DVec3};

fn network(lmax: usize, correlation: usize, system: &System) -> Equivariant {
    let hyper = Hyper {
        parity: true,
        correlation,
        layer_readouts: true,
        ..small_hyper(lmax)
    };
    Equivariant::new(Model::random(hyper, 11), &system.species_names).unwrap()
}

/// Energy, forces and virial of Σ w_i E_i.
fn weighted(net: &Equivariant, system: &System, w: &[f64]) -> ForceOutput {
    let mut s = system.clone();
    let mut list = NeighborList::new(ListKind::Full, 3.0, 0.0);
    list.rebuild(&mut s);
    let mut out = ForceOutput::new(s.len()).with_per_atom_energy();
    net.compute_weighted(&s, &list, Some(w), &mut out);
    out
}

#[test]
fn forces_are_minus_the_gradient_of_the_weighted_energy() {
    let system = random_system(Cell::vacuum(), 9, 2, 0.9, 3.2, 5);
    for (lmax, nu) in [(1, 1), (2, 3)] {
        let net = network(lmax, nu, &system);
        let w: Vec<f64> = (0..system.len()).map(|i| [1.0, 0.0, 0.5][i % 3]).collect();
        let out = weighted(&net, &system, &w);
        let e = |s: &System| weighted(&net, s, &w).energy;
        let h = 1e-5;
        for i in 0..system.len() {
            for k in 0..3 {
                let (mut p, mut m) = (system.clone(), system.clone());
                p.positions[i][k] += h;
                m.positions[i][k] -= h;
                let fd = -(e(&p) - e(&m)) / (2.0 * h);
                let f = out.forces[i][k];
                assert!(
                    (f - fd).abs() <= 1e-7 * (1.0 + fd.abs()),
                    "L = {lmax}, ν = {nu}: atom {i} axis {k}: {f} vs {fd}"
                );
            }
        }
        let per_atom = out.per_atom_energy.as_ref().unwrap();
        assert!((per_atom.iter().sum::<f64>() - out.energy).abs() < 1e-12);
        assert!(per_atom.iter().zip(&w).all(|(e, w)| *w != 0.0 || *e == 0.0));
    }
}

/// The atoms of `system` (a periodic cell) followed by every periodic image of them
/// within `depth` of the cell, in a vacuum; the owner of each atom.
fn padded(system: &System, depth: f64) -> (System, Vec<usize>) {
    let cell = system.cell;
    let mut out = System::new(Cell::vacuum(), system.units);
    for (k, name) in system.species_names.iter().enumerate() {
        out.add_species(name, system.species_masses[k]);
    }
    let mut owner = Vec::new();
    for i in 0..system.len() {
        out.add_atom(system.species[i], system.positions[i]);
        owner.push(i);
    }
    let reach = 4;
    for a in -reach..=reach {
        for b in -reach..=reach {
            for c in -reach..=reach {
                if (a, b, c) == (0, 0, 0) {
                    continue;
                }
                let shift = cell.cartesian(DVec3::new(a as f64, b as f64, c as f64));
                for i in 0..system.len() {
                    let r = system.positions[i] + shift;
                    let near = system.positions.iter().any(|p| (*p - r).length() < depth);
                    if near {
                        out.add_atom(system.species[i], r);
                        owner.push(i);
                    }
                }
            }
        }
    }
    (out, owner)
}

#[test]
fn owned_atoms_among_their_images_give_the_periodic_energy_forces_and_virial() {
    let cell = periodic(
        DVec3::new(4.5, 0.0, 0.0),
        DVec3::new(0.8, 4.2, 0.0),
        DVec3::new(-0.4, 0.6, 4.8),
    );
    let crystal = random_system(cell, 8, 2, 1.0, 0.0, 3);
    for (lmax, nu) in [(1, 1), (2, 3)] {
        let net = network(lmax, nu, &crystal);
        let whole = compute(&net, &crystal);
        // two layers of 3 Å: an owned atom's energy sees atoms up to 6 Å away
        let (pad, owner) = padded(&crystal, 2.0 * 3.0 + 0.5);
        let w: Vec<f64> = owner
            .iter()
            .enumerate()
            .map(|(k, _)| if k < crystal.len() { 1.0 } else { 0.0 })
            .collect();
        let part = weighted(&net, &pad, &w);
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
        assert!(
            rel(part.energy, whole.energy) < 1e-12,
            "L = {lmax}, ν = {nu}: {} vs {}",
            part.energy,
            whole.energy
        );
        let mut folded = vec![DVec3::ZERO; crystal.len()];
        for (k, &o) in owner.iter().enumerate() {
            folded[o] += part.forces[k];
        }
        assert!(
            forces_rel_err(&folded, &whole.forces) < 1e-11,
            "L = {lmax}, ν = {nu}: forces {}",
            forces_rel_err(&folded, &whole.forces)
        );
        assert!(
            mat_rel_err(part.virial, whole.virial) < 1e-11,
            "L = {lmax}, ν = {nu}: virial {:?} vs {:?}",
            part.virial,
            whole.virial
        );
        assert_ne!(whole.virial, DMat3::ZERO);
    }
}
