//! Energy, forces, virial and pressure agree with LAMMPS on the same configurations.
//! The fixtures in tests/fixtures/lammps were made by `./make_fixtures.sh` there (Debian's
//! LAMMPS, `lmp`); see its README.

mod common;

use common::*;
use eqmd::potential::{LennardJones, LjPair, Mixing, Morse, MorsePair, Potential};
use eqmd::system::System;
use glam::DMat3;

/// Relative tolerance: the sums agree to rounding.
const TOL: f64 = 1e-10;

fn check(case: &str, potential: &dyn Potential, system: &System) {
    let frame = read_fixture(&format!("lammps/{case}.xyz"));
    let out = compute(potential, system);
    let e_ref = frame.energy().unwrap();
    let e_err = (out.energy - e_ref).abs() / e_ref.abs();
    assert!(
        e_err < TOL,
        "{case}: energy {} vs LAMMPS {e_ref} (rel {e_err:e})",
        out.energy
    );

    let f_ref = frame.forces().unwrap();
    let max_f = f_ref.iter().fold(0.0f64, |m, f| m.max(f.length()));
    if max_f > 1e-8 {
        let f_err = forces_rel_err(&out.forces, &f_ref);
        assert!(f_err < TOL, "{case}: forces rel err {f_err:e}");
    } else {
        let worst = out.forces.iter().fold(0.0f64, |m, f| m.max(f.length()));
        assert!(
            worst < 1e-10,
            "{case}: lattice forces should vanish, got {worst:e}"
        );
    }

    let v: Vec<f64> = frame.info["virial"].as_f64_vec().unwrap();
    let w_ref = DMat3::from_cols_array(&[v[0], v[3], v[6], v[1], v[4], v[7], v[2], v[5], v[8]]);
    let w_err = mat_rel_err(out.virial, w_ref);
    assert!(
        w_err < TOL,
        "{case}: virial rel err {w_err:e}\n{:?}\n{:?}",
        out.virial,
        w_ref
    );

    let p_ref = frame.info["pressure"].as_f64().unwrap();
    let p = system.pressure(&out.virial);
    let p_err = (p - p_ref).abs() / p_ref.abs();
    assert!(
        p_err < TOL,
        "{case}: pressure {p} vs LAMMPS {p_ref} (rel {p_err:e})"
    );
}

fn lj_one(eps: f64, sigma: f64, rc: f64, shift: bool) -> LennardJones {
    LennardJones::single(eps, sigma, rc, shift)
}

#[test]
fn lj_fcc_lattice_matches_lammps() {
    let s = system_from_frame(&read_fixture("lammps/lj_fcc_lattice.xyz"));
    check("lj_fcc_lattice", &lj_one(1.0, 1.0, 2.5, false), &s);
}

#[test]
fn lj_perturbed_fcc_matches_lammps() {
    let s = system_from_frame(&read_fixture("lammps/lj_fcc_perturbed.xyz"));
    check("lj_fcc_perturbed", &lj_one(1.0, 1.0, 2.5, false), &s);
}

#[test]
fn lj_triclinic_perturbed_matches_lammps() {
    let s = system_from_frame(&read_fixture("lammps/lj_triclinic_perturbed.xyz"));
    check("lj_triclinic_perturbed", &lj_one(1.0, 1.0, 2.5, false), &s);
}

#[test]
fn lj_small_triclinic_box_with_several_images_matches_lammps() {
    let s = system_from_frame(&read_fixture("lammps/lj_small_triclinic.xyz"));
    check("lj_small_triclinic", &lj_one(1.0, 1.0, 2.5, true), &s);
}

#[test]
fn lj_binary_arithmetic_mixing_matches_lammps() {
    let s = system_from_frame(&read_fixture("lammps/lj_binary_mixed.xyz"));
    let a = s.species_index("A").unwrap();
    let b = s.species_index("B").unwrap();
    let pair = |epsilon, sigma| LjPair {
        epsilon,
        sigma,
        cutoff: 2.5,
    };
    let lj = LennardJones::new(
        2,
        &[(a, a, pair(1.0, 1.0)), (b, b, pair(0.5, 1.2))],
        Mixing::Arithmetic,
        true,
    )
    .unwrap();
    let mixed = lj.pair_parameters(a, b);
    assert!((mixed.sigma - 1.1).abs() < 1e-15 && (mixed.epsilon - 0.5f64.sqrt()).abs() < 1e-15);
    check("lj_binary_mixed", &lj, &s);
}

#[test]
fn morse_copper_matches_lammps_in_metal_units() {
    let s = system_from_frame(&read_fixture("lammps/morse_cu_perturbed.xyz"));
    let p = MorsePair {
        d0: 0.3429,
        alpha: 1.3588,
        r0: 2.866,
        cutoff: 6.0,
    };
    check(
        "morse_cu_perturbed",
        &Morse::new(1, &[(0, 0, p)], false).unwrap(),
        &s,
    );
}

#[test]
fn lj_argon_matches_lammps_in_metal_units() {
    let s = system_from_frame(&read_fixture("lammps/lj_argon_metal.xyz"));
    check("lj_argon_metal", &lj_one(0.0104, 3.40, 8.5, true), &s);
}
