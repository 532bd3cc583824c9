//! The dipole head on random weights and random molecules: μ rotates with the molecule
//! (and changes sign under inversion with parity), does not depend on the origin or on the
//! order of the atoms, and the charges add up to the frame's total charge. The
//! charges-only head rotates too; the invariant head does not rotate at all.

mod common;

use common::*;
use eqmd::cell::Cell;
use eqmd::neighbors::{ListKind, NeighborList};
use eqmd::potential::equivariant::dipole::Dipole;
use eqmd::potential::equivariant::model::{DipoleHead, Hyper, Model};
use eqmd::potential::equivariant::potential::Equivariant;
use eqmd::system::System;
use glam::{DMat3, DQuat, DVec3};

fn network(lmax: usize, parity: bool, correlation: usize, system: &System) -> Equivariant {
    with_head(
        lmax,
        parity,
        correlation,
        DipoleHead::ChargesAndDipoles,
        system,
    )
}

fn with_head(
    lmax: usize,
    parity: bool,
    correlation: usize,
    head: DipoleHead,
    system: &System,
) -> Equivariant {
    let hyper = Hyper {
        parity,
        correlation,
        dipole: Some(head),
        ..small_hyper(lmax)
    };
    Equivariant::new(Model::random(hyper, 3 + lmax as u64), &system.species_names).unwrap()
}

fn dipole(net: &Equivariant, system: &System, charge: f64) -> Dipole {
    let mut s = system.clone();
    let mut list = NeighborList::new(ListKind::Full, 3.0, 0.0);
    list.rebuild(&mut s);
    net.dipole(&s, &list, charge).expect("a dipole head")
}

fn transformed(system: &System, f: impl Fn(DVec3) -> DVec3) -> System {
    let mut s = system.clone();
    for r in &mut s.positions {
        *r = f(*r);
    }
    s
}

fn close(a: DVec3, b: DVec3, what: &str) {
    let scale = a.length().max(b.length()).max(1e-12);
    assert!((a - b).length() <= 1e-11 * scale, "{what}: {a} vs {b}");
}

const SHAPES: [(usize, bool, usize); 5] = [
    (1, true, 1),
    (1, false, 1),
    (2, true, 3),
    (3, true, 2),
    (3, false, 1),
];

#[test]
fn the_dipole_rotates_with_the_molecule_and_flips_under_inversion_with_parity() {
    let system = random_system(Cell::vacuum(), 8, 2, 0.9, 3.2, 21);
    let rotation = DMat3::from_quat(DQuat::from_axis_angle(
        DVec3::new(0.3, -0.8, 0.5).normalize(),
        1.1,
    ));
    for (lmax, parity, nu) in SHAPES {
        let net = network(lmax, parity, nu, &system);
        let mu = dipole(&net, &system, 0.0).vector;
        assert!(
            mu.length() > 1e-6,
            "L = {lmax}: a zero dipole proves nothing"
        );
        let rotated = dipole(&net, &transformed(&system, |r| rotation * r), 0.0).vector;
        close(
            rotated,
            rotation * mu,
            &format!("L = {lmax}, parity {parity}, ν = {nu}: rotation"),
        );
        if parity {
            let inverted = dipole(&net, &transformed(&system, |r| -r), 0.0).vector;
            close(inverted, -mu, &format!("L = {lmax}, ν = {nu}: inversion"));
        }
    }
}

#[test]
fn a_neutral_dipole_does_not_depend_on_the_origin_or_the_order_of_the_atoms() {
    let system = random_system(Cell::vacuum(), 7, 2, 0.9, 3.0, 4);
    for (lmax, parity, nu) in SHAPES {
        let net = network(lmax, parity, nu, &system);
        let d = dipole(&net, &system, 0.0);
        let moved = dipole(
            &net,
            &transformed(&system, |r| r + DVec3::new(10.0, -3.5, 2.25)),
            0.0,
        );
        close(moved.vector, d.vector, &format!("L = {lmax}: translation"));
        let mut reversed = system.clone();
        reversed.positions.reverse();
        reversed.species.reverse();
        close(
            dipole(&net, &reversed, 0.0).vector,
            d.vector,
            &format!("L = {lmax}: permutation"),
        );
    }
}

#[test]
fn the_charges_add_up_to_the_total_charge() {
    let system = random_system(Cell::vacuum(), 6, 2, 0.9, 3.0, 8);
    let net = network(1, true, 1, &system);
    for total in [0.0, 1.0, -2.5] {
        let d = dipole(&net, &system, total);
        let sum: f64 = d.charges.iter().sum();
        assert!((sum - total).abs() < 1e-12, "Σq = {sum}, Q = {total}");
        let direct: DVec3 = (0..system.len())
            .map(|i| system.positions[i] * d.charges[i] + d.atomic[i])
            .sum();
        close(d.vector, direct, "μ = Σ q r + μ_i");
    }
    // a charged frame's dipole moves with the origin by Q times the shift
    let t = DVec3::new(1.0, 2.0, -0.5);
    let a = dipole(&net, &system, 1.0).vector;
    let b = dipole(&net, &transformed(&system, |r| r + t), 1.0).vector;
    close(b - a, t, "Q = 1: shift of the origin");
}

/// Charges only: μ = Σ q_i r_i still rotates with the molecule. The invariant head gives
/// the same three numbers in every orientation: it cannot follow a rotation.
#[test]
fn charges_alone_rotate_and_the_invariant_head_cannot() {
    let system = random_system(Cell::vacuum(), 8, 2, 0.9, 3.2, 17);
    let rotation = DMat3::from_quat(DQuat::from_axis_angle(
        DVec3::new(0.2, 0.9, -0.4).normalize(),
        0.8,
    ));
    let rotated_system = transformed(&system, |r| rotation * r);
    let charges = with_head(1, true, 1, DipoleHead::Charges, &system);
    let d = dipole(&charges, &system, 0.0);
    assert!(d.atomic.iter().all(|m| *m == DVec3::ZERO));
    close(
        dipole(&charges, &rotated_system, 0.0).vector,
        rotation * d.vector,
        "charges: rotation",
    );
    let invariant = with_head(2, true, 1, DipoleHead::Invariant, &system);
    let mu = dipole(&invariant, &system, 0.0).vector;
    let turned = dipole(&invariant, &rotated_system, 0.0).vector;
    close(
        turned,
        mu,
        "invariant head: the same numbers after a rotation",
    );
    assert!(
        (turned - rotation * mu).length() > 1e-3 * mu.length(),
        "{turned} vs {}",
        rotation * mu
    );
}
