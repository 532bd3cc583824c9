//! EAM agrees with LAMMPS (`pair_style eam` with Cu_u3.eam, `pair_style eam/alloy` with
//! CuNi.eam.alloy) to 1e-10 relative: energy, per-atom energies, forces, virial, pressure.
//! Fixtures: tests/fixtures/eam, made by `./make_fixtures.sh` there. Also finite-difference
//! forces and virial, a cluster in vacuum against a direct double sum, and errors for
//! malformed files.

mod common;

use common::*;
use eqmd::cell::Cell;
use eqmd::io::extxyz::ArrayValue;
use eqmd::neighbors::NeighborList;
use eqmd::potential::eam::file::{parse_funcfl, parse_setfl, read_funcfl, read_setfl};
use eqmd::potential::eam::{resample, Funcfl, Spline};
use eqmd::potential::{Eam, ForceOutput, Potential};
use eqmd::system::System;
use eqmd::units::Units;
use glam::{DMat3, DVec3};

const TOL: f64 = 1e-10;

fn cu_u3() -> Eam {
    Eam::from_funcfl(&[read_funcfl(&fixture("eam/Cu_u3.eam")).unwrap()])
}

/// CuNi.eam.alloy lists Ni first; map the system's species onto the file's elements.
fn cuni(system: &System) -> Eam {
    let file = read_setfl(&fixture("eam/CuNi.eam.alloy")).unwrap();
    let map: Vec<usize> = system
        .species_names
        .iter()
        .map(|n| file.elements.iter().position(|e| &e.name == n).unwrap())
        .collect();
    Eam::from_setfl(&file, &map)
}

fn check(case: &str, make: impl Fn(&System) -> Eam) {
    let frame = read_fixture(&format!("eam/{case}.xyz"));
    let mut system = system_from_frame(&frame);
    let eam = make(&system);
    let mut list = NeighborList::new(eam.list_kind(), eam.cutoff(), 1.0);
    list.rebuild(&mut system);
    let mut out = ForceOutput::new(system.len()).with_per_atom_energy();
    eam.compute(&system, &list, &mut out);

    let e_ref = frame.energy().unwrap();
    let rel = (out.energy - e_ref).abs() / e_ref.abs();
    assert!(
        rel < TOL,
        "{case}: energy {} vs LAMMPS {e_ref} (rel {rel:e})",
        out.energy
    );

    if let Some(ArrayValue::Float { data, .. }) = frame.arrays.get("energies") {
        let mine = out.per_atom_energy.as_ref().unwrap();
        let scale = data.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        for (k, (a, b)) in mine.iter().zip(data).enumerate() {
            assert!(
                (a - b).abs() < TOL * scale,
                "{case}: atom {k} energy {a} vs {b}"
            );
        }
    }
    let f_err = forces_rel_err(&out.forces, &frame.forces().unwrap());
    assert!(f_err < TOL, "{case}: forces rel err {f_err:e}");

    let v = frame.info["virial"].as_f64_vec().unwrap();
    let w_ref = DMat3::from_cols_array(&[v[0], v[3], v[6], v[1], v[4], v[7], v[2], v[5], v[8]]);
    let w_err = mat_rel_err(out.virial, w_ref);
    assert!(w_err < TOL, "{case}: virial rel err {w_err:e}");
    let p_ref = frame.info["pressure"].as_f64().unwrap();
    let p = system.pressure(&out.virial);
    assert!(
        (p - p_ref).abs() < TOL * p_ref.abs(),
        "{case}: pressure {p} vs {p_ref}"
    );
}

#[test]
fn funcfl_copper_matches_lammps() {
    check("cu_u3_perturbed", |_| cu_u3());
}

#[test]
fn funcfl_copper_triclinic_matches_lammps() {
    check("cu_u3_triclinic", |_| cu_u3());
}

#[test]
fn funcfl_copper_with_close_pairs_matches_lammps() {
    check("cu_u3_close_pairs", |_| cu_u3());
}

#[test]
fn setfl_copper_nickel_alloy_matches_lammps() {
    check("cuni_alloy_random", cuni);
}

#[test]
fn eam_forces_and_virial_are_gradients() {
    for case in ["cu_u3_triclinic", "cuni_alloy_random"] {
        let frame = read_fixture(&format!("eam/{case}.xyz"));
        let mut system = system_from_frame(&frame);
        system.positions.truncate(60);
        system.species.truncate(60);
        let eam = if case.starts_with("cu_u3") {
            cu_u3()
        } else {
            cuni(&system)
        };
        let out = compute(&eam, &system);
        let fd = fd_forces(&eam, &system, 1e-5);
        let err = forces_rel_err(&out.forces, &fd);
        assert!(err < 1e-6, "{case}: forces vs finite differences {err:e}");
        let w = fd_virial(&eam, &system, 1e-5);
        let err = mat_rel_err(out.virial, w);
        assert!(err < 1e-6, "{case}: virial vs strain derivative {err:e}");
    }
}

/// The EAM energy of `system` from one `funcfl` file as a plain double sum over all
/// atom pairs, on the grid `Eam::from_funcfl` uses (one point fewer than the file holds).
fn direct_energy(f: &Funcfl, system: &System) -> f64 {
    let (rho_max, r_max) = ((f.nrho - 1) as f64 * f.drho, (f.nr - 1) as f64 * f.dr);
    let nrho = ((rho_max / f.drho + 0.5) as usize).max(5);
    let nr = ((r_max / f.dr + 0.5) as usize).max(5);
    let embedding = Spline::new(&resample(&f.frho, f.drho, nrho, f.drho), f.drho);
    let density = Spline::new(&resample(&f.rhor, f.dr, nr, f.dr), f.dr);
    let z: Vec<f64> = resample(&f.zr, f.dr, nr, f.dr);
    let z2r: Vec<f64> = z.iter().map(|z| 27.2 * 0.529 * z * z).collect();
    let z2r = Spline::new(&z2r, f.dr);
    let x = &system.positions;
    let mut energy = 0.0;
    for i in 0..x.len() {
        let mut rho = 0.0;
        for j in (0..x.len()).filter(|&j| j != i) {
            let r = (x[j] - x[i]).length();
            if r < f.cutoff {
                rho += density.value(r);
                energy += 0.5 * z2r.value(r) / r;
            }
        }
        energy += embedding.value(rho);
    }
    energy
}

#[test]
fn copper_cluster_in_vacuum_matches_the_direct_sum() {
    // a few atoms in no cell, the last one alone beyond the cutoff of all the others
    let mut system = System::new(Cell::vacuum(), Units::Metal);
    let cu = system.add_species("Cu", 63.546);
    for r in [
        DVec3::new(0.0, 0.0, 0.0),
        DVec3::new(2.55, 0.1, 0.0),
        DVec3::new(1.2, 2.2, 0.1),
        DVec3::new(1.3, 0.8, 2.1),
        DVec3::new(3.6, 2.4, 1.9),
        DVec3::new(20.0, 20.0, 20.0),
    ] {
        system.add_atom(cu, r);
    }
    let file = read_funcfl(&fixture("eam/Cu_u3.eam")).unwrap();
    let eam = Eam::from_funcfl(std::slice::from_ref(&file));
    let out = compute(&eam, &system);
    let direct = direct_energy(&file, &system);
    let rel = (out.energy - direct).abs() / direct.abs();
    assert!(
        rel < TOL,
        "energy {} vs direct sum {direct} (rel {rel:e})",
        out.energy
    );
    let fd = fd_forces(&eam, &system, 1e-5);
    let err = forces_rel_err(&out.forces, &fd);
    assert!(err < 1e-6, "forces vs finite differences {err:e}");
    assert_eq!(out.forces[5], DVec3::ZERO, "the lone atom feels no force");
}

/// Header lines are read as LAMMPS reads them: their first words, the rest ignored, the
/// tables from the next line on. Extra words (a comment, a lattice) change nothing; a line
/// with too few is an error, as is a setfl count that its element names do not match.
#[test]
fn header_lines_are_read_by_their_first_words_as_lammps_does() {
    let good = std::fs::read_to_string(fixture("eam/Cu_u3.eam")).unwrap();
    let reference = parse_funcfl(&good, "Cu_u3.eam").unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines[1] = "   29     63.550".into();
    lines[2] = format!("{} 7 8 # two words too many", lines[2]);
    let extra = parse_funcfl(&lines.join("\n"), "extra.eam").unwrap();
    assert_eq!(extra, reference);
    lines[2] = "  500  5.0100200400801306e-04  500  1.0000000000000009e-02".into();
    let e = parse_funcfl(&lines.join("\n"), "short.eam")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cutoff"), "{e}");

    let alloy = std::fs::read_to_string(fixture("eam/CuNi.eam.alloy")).unwrap();
    let reference = parse_setfl(&alloy, "CuNi.eam.alloy").unwrap();
    let mut lines: Vec<String> = alloy.lines().map(str::to_string).collect();
    lines[4] = format!("{} extra words", lines[4]);
    let extra = parse_setfl(&lines.join("\n"), "extra.eam.alloy").unwrap();
    assert_eq!(extra, reference);
    for count in ["1000000000 Ni Cu", "3 Ni Cu", "1 Ni Cu"] {
        lines[3] = count.into();
        let e = parse_setfl(&lines.join("\n"), "n.eam.alloy")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("n.eam.alloy:4:") && e.contains("element names"),
            "{count}: {e}"
        );
    }
}

#[test]
fn malformed_potential_files_name_the_line() {
    let good = std::fs::read_to_string(fixture("eam/Cu_u3.eam")).unwrap();
    // truncated: the file ends inside the density table
    let cut: String = good.lines().take(200).collect::<Vec<_>>().join("\n");
    let e = parse_funcfl(&cut, "cut.eam").unwrap_err().to_string();
    assert!(e.starts_with("cut.eam:201:") && e.contains("ends"), "{e}");
    // a bad number on line 10
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines[9] = lines[9].replacen('.', "x.", 1);
    let e = parse_funcfl(&lines.join("\n"), "bad.eam")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("bad.eam:10:") && e.contains("not a number"),
        "{e}"
    );
    // a zero grid spacing on line 3
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines[2] = "  500  0.0  500  1.0e-02  4.95".into();
    let e = parse_funcfl(&lines.join("\n"), "grid.eam")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("grid.eam:3:") && e.contains("drho"), "{e}");
    // a setfl with a bad element count
    let alloy = std::fs::read_to_string(fixture("eam/CuNi.eam.alloy")).unwrap();
    let mut lines: Vec<String> = alloy.lines().map(str::to_string).collect();
    lines[3] = "  two Ni Cu".into();
    let e = parse_setfl(&lines.join("\n"), "x.eam.alloy")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("x.eam.alloy:4:"), "{e}");
    let e = read_funcfl(std::path::Path::new("no/such.eam"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no/such.eam"), "{e}");
}
