//! Energy minimisation (`eqmd::minimize`): the LJ fcc lattice constant against a lattice
//! sum written out here, EAM copper against LAMMPS (`fix box/relax iso 0.0` + `min_style
//! cg`, etol 0, ftol 1e-10: a0 = 3.61499998 Å, −3.54000000 eV/atom), a sheared copper cell
//! relaxed in full (tri), ethanol relaxed by the rMD17 network with FIRE, finite-difference
//! checks of the enthalpy gradient for every cell mode, and errors for bad input.

use eqmd::cell::Cell;
use eqmd::io::extxyz;
use eqmd::lattice::{self, LatticeKind};
use eqmd::minimize::{
    minimize, Algorithm, CellMode, Iteration, MinimizeError, MinimizeReport, MinimizeSettings,
    Objective,
};
use eqmd::neighbors::NeighborList;
use eqmd::potential::eam::file::read_funcfl;
use eqmd::potential::equivariant::{file, potential::Equivariant};
use eqmd::potential::{Eam, LennardJones, Potential};
use eqmd::system::System;
use eqmd::units::{atomic_mass, Units};
use glam::{DMat3, DVec3};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

/// LAMMPS's relaxed fcc Cu with Cu_u3.eam.
const CU_A0: f64 = 3.61499998;
const CU_E0: f64 = -3.54000000;

fn root(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A 4×4×4 fcc box of one species at lattice constant `a`.
fn fcc(a: f64, name: &str, units: Units) -> System {
    let (cell, sites) = lattice::build(LatticeKind::Fcc, a, [4, 4, 4]);
    let mut s = System::new(cell, units);
    let k = s.add_species(name, 1.0);
    for (_, r) in sites {
        s.add_atom(k, r);
    }
    s
}

/// Moves every coordinate of every atom by a uniform random amount in ±`amplitude`.
fn shake(system: &mut System, amplitude: f64, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for r in &mut system.positions {
        *r += DVec3::from_array(std::array::from_fn(|_| {
            amplitude * (2.0 * rng.random::<f64>() - 1.0)
        }));
    }
}

fn cu_eam() -> Eam {
    Eam::from_funcfl(&[read_funcfl(&root("potentials/Cu_u3.eam")).unwrap()])
}

fn settings(algorithm: Algorithm, cell: CellMode, fmax: f64, smax: f64) -> MinimizeSettings {
    MinimizeSettings {
        algorithm,
        cell,
        pressure: 0.0,
        fmax,
        smax,
        max_iterations: 20_000,
        max_step: 0.1,
    }
}

/// Minimises with a fresh neighbour list, returning the report and every iteration.
fn relax(
    system: &mut System,
    potential: &dyn Potential,
    settings: &MinimizeSettings,
) -> (MinimizeReport, Vec<Iteration>) {
    let mut list = NeighborList::new(potential.list_kind(), potential.cutoff(), 0.5);
    let mut lines = Vec::new();
    let report = minimize(system, potential, &mut list, settings, &mut |it| {
        lines.push(*it);
        Ok(())
    })
    .unwrap();
    (report, lines)
}

/// Energy per atom of the infinite LJ fcc crystal (ε = σ = 1, unshifted, cut at `rc`):
/// half the sum of 4 (r⁻¹² − r⁻⁶) over the lattice vectors (a/2)(i, j, k), i + j + k even,
/// shorter than `rc`; with `derivative`, d/da of it instead.
fn lj_fcc(a: f64, rc: f64, derivative: bool) -> f64 {
    let m = (2.0 * rc / a).ceil() as i32;
    let mut sum = 0.0;
    for i in -m..=m {
        for j in -m..=m {
            for k in -m..=m {
                if (i + j + k) % 2 != 0 || (i, j, k) == (0, 0, 0) {
                    continue;
                }
                let r = 0.5 * a * ((i * i + j * j + k * k) as f64).sqrt();
                if r >= rc {
                    continue;
                }
                sum += if derivative {
                    // dφ/dr · dr/da with dr/da = r / a
                    (-48.0 * r.powi(-13) + 24.0 * r.powi(-7)) * r / a
                } else {
                    4.0 * (r.powi(-12) - r.powi(-6))
                };
            }
        }
    }
    0.5 * sum
}

/// The distinct neighbour distances of fcc at `a` up to `limit`.
fn fcc_shells(a: f64, limit: f64) -> Vec<f64> {
    let m = (2.0 * limit / a).ceil() as i32;
    let mut n2: Vec<i32> = Vec::new();
    for i in -m..=m {
        for j in -m..=m {
            for k in -m..=m {
                if (i + j + k) % 2 == 0 && (i, j, k) != (0, 0, 0) {
                    n2.push(i * i + j * j + k * k);
                }
            }
        }
    }
    n2.sort_unstable();
    n2.dedup();
    n2.iter()
        .map(|&n| 0.5 * a * (n as f64).sqrt())
        .filter(|&r| r < limit)
        .collect()
}

#[test]
fn lj_fcc_lattice_constant_matches_the_lattice_sum() {
    // the gap between the 4th (a√2) and 5th (a√(5/2)) shells, where r_c sits more than
    // 5 % from every shell at the answer
    let rc = 2.32;
    // the minimum: the zero of dE/da, by bisection on the analytic sum
    let (mut lo, mut hi) = (1.45, 1.65);
    assert!(lj_fcc(lo, rc, true) < 0.0 && lj_fcc(hi, rc, true) > 0.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if lj_fcc(mid, rc, true) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let a0 = 0.5 * (lo + hi);
    let e0 = lj_fcc(a0, rc, false);
    for r in fcc_shells(a0, 2.0 * rc) {
        assert!((r / rc - 1.0).abs() > 0.05, "shell at {r} too close to r_c");
    }
    // no shell crosses r_c between the start and the answer
    let inside = |a: f64| fcc_shells(a, 2.0 * rc).iter().filter(|&&r| r < rc).count();
    assert_eq!(inside(1.6), inside(a0));
    println!("LJ fcc, r_c = {rc}: a0 = {a0:.12}, E/atom = {e0:.12}");

    let lj = LennardJones::single(1.0, 1.0, rc, false);
    for algorithm in [Algorithm::Fire, Algorithm::Lbfgs] {
        let mut s = fcc(1.6, "A", Units::Lj);
        let (report, _) = relax(&mut s, &lj, &settings(algorithm, CellMode::Iso, 1e-8, 1e-7));
        assert!(report.converged, "{algorithm:?}: {report:?}");
        let a = s.cell.vector(0).length() / 4.0;
        let e = report.energy / s.len() as f64;
        println!(
            "{algorithm:?}: a = {a:.12} (rel {:.1e}), E/atom = {e:.12} (rel {:.1e}), {} iterations, {} evaluations",
            (a - a0).abs() / a0,
            (e - e0).abs() / e0.abs(),
            report.iterations,
            report.evaluations
        );
        assert!(
            (a - a0).abs() < 1e-6 * a0,
            "{algorithm:?}: a = {a}, expected {a0}"
        );
        assert!(
            (e - e0).abs() < 1e-6 * e0.abs(),
            "{algorithm:?}: E = {e}, expected {e0}"
        );
    }
}

#[test]
fn eam_copper_relaxes_to_the_lammps_lattice_constant() {
    let eam = cu_eam();
    for algorithm in [Algorithm::Fire, Algorithm::Lbfgs] {
        let mut s = fcc(3.70, "Cu", Units::Metal);
        shake(&mut s, 0.05, 7);
        let (report, _) = relax(
            &mut s,
            &eam,
            &settings(algorithm, CellMode::Iso, 1e-6, 1e-3),
        );
        assert!(report.converged, "{algorithm:?}: {report:?}");
        let a = s.cell.vector(0).length() / 4.0;
        let e = report.energy / s.len() as f64;
        let pressure = s.pressure(&report.forces.virial);
        println!(
            "Cu {algorithm:?}: a = {a:.10} Å (rel {:.1e}), E/atom = {e:.10} eV (rel {:.1e}), P = {pressure:.1e} bar, max |F| = {:.1e}, {} iterations, {} evaluations",
            (a - CU_A0).abs() / CU_A0,
            (e - CU_E0).abs() / CU_E0.abs(),
            report.max_force,
            report.iterations,
            report.evaluations
        );
        assert!((a - CU_A0).abs() < 1e-6 * CU_A0, "{algorithm:?}: a = {a}");
        assert!(
            (e - CU_E0).abs() < 1e-6 * CU_E0.abs(),
            "{algorithm:?}: E = {e}"
        );
        assert!(pressure.abs() < 1e-3, "{algorithm:?}: P = {pressure}");
        assert!(report.forces.max_force().0 < 1e-6);
    }
}

#[test]
fn sheared_copper_relaxes_all_six_stresses() {
    let eam = cu_eam();
    let shear = DMat3::from_cols(
        DVec3::new(1.02, 0.0, 0.0),
        DVec3::new(0.03, 0.99, 0.0),
        DVec3::new(-0.02, 0.04, 1.01),
    );
    for algorithm in [Algorithm::Fire, Algorithm::Lbfgs] {
        let mut s = fcc(CU_A0, "Cu", Units::Metal);
        s.cell = Cell::from_matrix(shear * s.cell.matrix(), [true; 3]).unwrap();
        for r in &mut s.positions {
            *r = shear * *r;
        }
        shake(&mut s, 0.02, 11);
        let smax = 5e-3;
        let (report, _) = relax(
            &mut s,
            &eam,
            &settings(algorithm, CellMode::Tri, 1e-6, smax),
        );
        assert!(report.converged, "{algorithm:?}: {report:?}");
        let stress =
            report.forces.virial * (Units::Metal.energy_per_volume_to_pressure() / s.cell.volume());
        let worst = (0..3)
            .map(|c| stress.col(c).abs().max_element())
            .fold(0.0, f64::max);
        let e = report.energy / s.len() as f64;
        // the relaxed cell is the cubic one: hᵀh = (4 a0)² I
        let h = s.cell.matrix();
        let metric = h.transpose() * h * (1.0 / (4.0 * CU_A0).powi(2)) - DMat3::IDENTITY;
        let strain = (0..3)
            .map(|c| metric.col(c).abs().max_element())
            .fold(0.0, f64::max);
        println!(
            "Cu tri {algorithm:?}: E/atom = {e:.10} eV (rel {:.1e}), largest stress {worst:.1e} bar, metric deviation {strain:.1e}, {} iterations, {} evaluations",
            (e - CU_E0).abs() / CU_E0.abs(),
            report.iterations,
            report.evaluations
        );
        assert!(
            worst <= smax * (1.0 + 1e-9),
            "{algorithm:?}: stress {stress}"
        );
        assert!(
            (e - CU_E0).abs() < 1e-6 * CU_E0.abs(),
            "{algorithm:?}: E = {e}"
        );
        assert!(strain < 2e-6, "{algorithm:?}: cell {h}");
    }
}

#[test]
fn ethanol_relaxes_downhill_with_the_network() {
    let frame = extxyz::read_file(&root("inputs/data/rmd17-ethanol.xyz"))
        .unwrap()
        .remove(0);
    let mut s = System::new(Cell::vacuum(), Units::Metal);
    for (name, r) in frame.symbols.iter().zip(&frame.positions) {
        let k = s.add_species(name, atomic_mass(name).unwrap());
        s.add_atom(k, *r);
    }
    let model = file::load(&root("potentials/rmd17-ethanol.h5")).unwrap();
    let net = Equivariant::new(model, &s.species_names).unwrap();
    let settings = MinimizeSettings {
        max_iterations: 5000,
        ..settings(Algorithm::Fire, CellMode::Fixed, 1e-3, 0.0)
    };
    let (report, lines) = relax(&mut s, &net, &settings);
    assert!(report.converged, "{report:?}");
    assert!(report.max_force < 1e-3 && report.forces.max_force().0 < 1e-3);
    let start = lines[0].energy;
    let restarts: Vec<f64> = lines
        .iter()
        .filter(|l| l.restart)
        .map(|l| l.energy)
        .collect();
    println!(
        "ethanol FIRE: {start:.6} → {:.6} eV in {} iterations, {} restarts, max |F| {:.1e} eV/Å",
        report.energy,
        report.iterations,
        restarts.len(),
        report.max_force
    );
    assert!(report.energy < start - 0.01, "{} vs {start}", report.energy);
    for w in restarts.windows(2) {
        assert!(
            w[1] <= w[0] + 1e-12 * w[0].abs(),
            "restart energies {restarts:?}"
        );
    }
    // the accepted states never rise either
    for w in lines.windows(2) {
        assert!(w[1].energy <= w[0].energy + 1e-12 * w[0].energy.abs());
    }
}

/// A 2×2×2 fcc LJ box, shaken, with a pressure target: the analytic gradient of the
/// enthalpy against central differences, at a point where the cell is already deformed.
#[test]
fn enthalpy_gradient_matches_finite_differences() {
    let lj = LennardJones::single(1.0, 1.0, 2.5, true);
    for mode in [
        CellMode::Fixed,
        CellMode::Iso,
        CellMode::Aniso,
        CellMode::Tri,
    ] {
        let (cell, sites) = lattice::build(LatticeKind::Fcc, 1.6, [2, 2, 2]);
        let mut s = System::new(cell, Units::Lj);
        let a = s.add_species("A", 1.0);
        for (_, r) in sites {
            s.add_atom(a, r);
        }
        shake(&mut s, 0.08, 3);
        let mut list = NeighborList::new(lj.list_kind(), lj.cutoff(), 0.3);
        let (mut objective, mut q) = Objective::new(&mut s, &lj, &mut list, mode, 0.7).unwrap();
        let n = 3 * 32;
        for (k, u) in q[n..].iter_mut().enumerate() {
            *u = 32.0 * 0.03 * if k % 2 == 0 { 1.0 } else { -0.7 };
        }
        let analytic = objective.evaluate(&q, 0).unwrap().gradient;
        let h = 1e-5;
        let mut worst: f64 = 0.0;
        for k in 0..q.len() {
            let mut plus = q.clone();
            plus[k] += h;
            let mut minus = q.clone();
            minus[k] -= h;
            let hp = objective.evaluate(&plus, 0).unwrap().enthalpy;
            let hm = objective.evaluate(&minus, 0).unwrap().enthalpy;
            let fd = (hp - hm) / (2.0 * h);
            worst = worst.max((fd - analytic[k]).abs());
        }
        let scale = analytic.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        let cell_scale = analytic[n..].iter().fold(0.0f64, |m, g| m.max(g.abs()));
        println!(
            "{mode}: worst |fd − analytic| {worst:.1e} of {scale:.2e} (cell {cell_scale:.2e})"
        );
        assert!(worst < 1e-6 * scale, "{mode}: {worst} vs {scale}");
        if mode != CellMode::Fixed {
            assert!(
                cell_scale > 1e-2,
                "{mode}: the cell gradient is not exercised"
            );
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    let lj = LennardJones::single(1.0, 1.0, 2.5, true);
    let mut cluster = System::new(Cell::vacuum(), Units::Lj);
    let k = cluster.add_species("A", 1.0);
    cluster.add_atom(k, DVec3::ZERO);
    cluster.add_atom(k, DVec3::new(1.2, 0.0, 0.0));
    let mut list = NeighborList::new(lj.list_kind(), lj.cutoff(), 0.3);
    let iso = settings(Algorithm::Lbfgs, CellMode::Iso, 1e-6, 1e-6);
    let e = minimize(&mut cluster, &lj, &mut list, &iso, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(e, MinimizeError::NotPeriodic { .. }), "{e}");
    assert!(
        e.to_string().contains("periodic along all three axes"),
        "{e}"
    );

    let mut slab = fcc(1.6, "A", Units::Lj);
    slab.cell = Cell::from_matrix(slab.cell.matrix(), [true, true, false]).unwrap();
    let tri = settings(Algorithm::Fire, CellMode::Tri, 1e-6, 1e-6);
    let e = minimize(&mut slab, &lj, &mut list, &tri, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(e, MinimizeError::NotPeriodic { .. }), "{e}");

    let zero_step = MinimizeSettings {
        max_step: 0.0,
        ..settings(Algorithm::Fire, CellMode::Fixed, 1e-6, 1e-6)
    };
    let e = minimize(&mut cluster, &lj, &mut list, &zero_step, &mut |_| Ok(())).unwrap_err();
    assert!(e.to_string().contains("max_step"), "{e}");

    // two atoms on top of each other: no finite energy, named as such
    cluster.positions[1] = DVec3::ZERO;
    let fixed = settings(Algorithm::Fire, CellMode::Fixed, 1e-6, 1e-6);
    let e = minimize(&mut cluster, &lj, &mut list, &fixed, &mut |_| Ok(())).unwrap_err();
    assert!(e.to_string().starts_with("iteration 0:"), "{e}");

    // an observer's error stops the minimisation and comes back
    cluster.positions[1] = DVec3::new(1.5, 0.0, 0.0);
    let e = minimize(&mut cluster, &lj, &mut list, &fixed, &mut |it| {
        if it.iteration == 3 {
            anyhow::bail!("interrupted")
        }
        Ok(())
    })
    .unwrap_err();
    assert_eq!(e.to_string(), "stopped at iteration 3: interrupted");
}
