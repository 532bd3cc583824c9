//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod h5md;
pub mod train;

use eqmd::cell::Cell;
use eqmd::io::extxyz::{self, Frame, InfoValue};
use eqmd::potential::equivariant::model::Hyper;
use eqmd::potential::{evaluate, ForceOutput, Potential};
use eqmd::system::System;
use eqmd::units::Units;
use glam::{DMat3, DVec3};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

/// Path of a file under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A system from an extended-XYZ frame (masses 1, units from the `units` info key).
pub fn system_from_frame(frame: &Frame) -> System {
    let units = match frame.info.get("units") {
        Some(InfoValue::Str(s)) if s == "metal" => Units::Metal,
        _ => Units::Lj,
    };
    let cell = match frame.lattice {
        Some(m) => Cell::from_matrix(m, frame.pbc).unwrap(),
        None => Cell::vacuum(),
    };
    let mut s = System::new(cell, units);
    for (name, r) in frame.symbols.iter().zip(&frame.positions) {
        let k = s.add_species(name, 1.0);
        s.add_atom(k, *r);
    }
    s
}

/// The first frame of a fixture file.
pub fn read_fixture(rel: &str) -> Frame {
    extxyz::read_file(&fixture(rel)).unwrap().remove(0)
}

/// A fully periodic cell from three vectors.
pub fn periodic(a: DVec3, b: DVec3, c: DVec3) -> Cell {
    Cell::new(a, b, c, [true; 3]).unwrap()
}

/// `n` atoms at random positions in `cell` (or in a cube of side `side` for vacuum),
/// no two closer than `min_dist`, species assigned at random among `species`.
pub fn random_system(
    cell: Cell,
    n: usize,
    species: usize,
    min_dist: f64,
    side: f64,
    seed: u64,
) -> System {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = System::new(cell, Units::Lj);
    for k in 0..species {
        s.add_species(&format!("S{k}"), 1.0 + k as f64);
    }
    let mut attempts = 0;
    while s.len() < n && attempts < 200_000 {
        attempts += 1;
        let f = DVec3::new(rng.random(), rng.random(), rng.random());
        let r = if cell.is_vacuum() {
            f * side
        } else {
            let mut r = cell.cartesian(f);
            for k in 0..3 {
                if !cell.pbc()[k] {
                    r += cell.vector(k) * (rng.random::<f64>() - 0.5) * 0.2;
                }
            }
            r
        };
        let ok = s.positions.iter().all(|p| {
            cell.minimum_image(*p - r).length() >= min_dist && (*p - r).length() >= min_dist
        });
        if ok {
            let k = rng.random_range(0..species);
            s.add_atom(k, r);
        }
    }
    s
}

/// Energy of `potential` on `system`.
pub fn energy(potential: &dyn Potential, system: &System) -> f64 {
    let mut s = system.clone();
    evaluate(potential, &mut s).energy
}

/// Energy, forces and virial of `potential` on `system`.
pub fn compute(potential: &dyn Potential, system: &System) -> ForceOutput {
    let mut s = system.clone();
    evaluate(potential, &mut s)
}

/// Central finite-difference forces −∂E/∂x.
pub fn fd_forces(potential: &dyn Potential, system: &System, h: f64) -> Vec<DVec3> {
    (0..system.len())
        .map(|i| {
            DVec3::from_array(std::array::from_fn(|k| {
                let mut plus = system.clone();
                plus.positions[i][k] += h;
                let mut minus = system.clone();
                minus.positions[i][k] -= h;
                -(energy(potential, &plus) - energy(potential, &minus)) / (2.0 * h)
            }))
        })
        .collect()
}

/// Applies the homogeneous deformation (1 + ε) to cell and positions.
pub fn strained(system: &System, eps: DMat3) -> System {
    let mut s = system.clone();
    s.cell = system.cell.strained(eps);
    let m = DMat3::IDENTITY + eps;
    for r in &mut s.positions {
        *r = m * *r;
    }
    s
}

/// Central finite-difference virial W_ab = −∂E/∂ε_ab.
pub fn fd_virial(potential: &dyn Potential, system: &System, h: f64) -> DMat3 {
    let mut w = DMat3::ZERO;
    for a in 0..3 {
        for b in 0..3 {
            let mut e = DMat3::ZERO;
            e.col_mut(b)[a] = h;
            let plus = energy(potential, &strained(system, e));
            let minus = energy(potential, &strained(system, -e));
            w.col_mut(b)[a] = -(plus - minus) / (2.0 * h);
        }
    }
    w
}

/// Largest |a − b| over matrix entries, relative to the largest |b|.
pub fn mat_rel_err(a: DMat3, b: DMat3) -> f64 {
    let scale = b
        .to_cols_array()
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(1e-300);
    (a - b)
        .to_cols_array()
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        / scale
}

/// Largest force-component error relative to the largest reference force component.
pub fn forces_rel_err(a: &[DVec3], b: &[DVec3]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b
        .iter()
        .fold(0.0f64, |m, f| m.max(f.abs().max_element()))
        .max(1e-300);
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((*x - *y).abs().max_element()))
        / scale
}

/// The `eqmd` binary as a command, with logging quietened to warnings.
pub fn eqmd_command() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_eqmd"));
    c.env("RUST_LOG", "warn");
    c
}

/// Sends `signal` (as `kill` names it, e.g. "-INT") to a running `eqmd` once `file` has at
/// least `lines` lines, and waits for its output.
pub fn signal_once_written(
    child: std::process::Child,
    file: &Path,
    lines: usize,
    signal: &str,
) -> std::process::Output {
    let start = std::time::Instant::now();
    while std::fs::read_to_string(file).map_or(0, |t| t.lines().count()) < lines {
        let waited = start.elapsed();
        assert!(waited.as_secs() < 60, "{} never grew", file.display());
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let killed = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait_with_output().unwrap()
}

/// Runs `eqmd` with `args` and waits for it.
pub fn eqmd(args: &[&str]) -> std::process::Output {
    eqmd_command()
        .args(args)
        .output()
        .expect("the eqmd binary runs")
}

/// Whether python3 can import every one of `modules`, installing the missing ones with pip
/// first; prints why the calling test is skipped when it cannot.
pub fn python_with(modules: &[&str]) -> bool {
    let run = |args: &[&str]| {
        std::process::Command::new("python3")
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !run(&["--version"]) {
        println!("skipped: python3 is not installed");
        return false;
    }
    let missing: Vec<&str> = (modules.iter().copied())
        .filter(|m| !run(&["-c", &format!("import {m}")]))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let mut args = vec!["-m", "pip", "install", "--quiet"];
    args.extend(&missing);
    if !run(&args) {
        println!("skipped: {missing:?} missing and pip could not install them");
        return false;
    }
    true
}

/// A small network shape on species S0, S1 (4 channels, 2 layers, r_c 3 Å, one hidden
/// radial layer of 8), NequIP-like (correlation 1, last-layer readout, no dipole head):
/// tests change what they probe.
pub fn small_hyper(lmax: usize) -> Hyper {
    Hyper {
        species: vec!["S0".into(), "S1".into()],
        lmax,
        channels: 4,
        layers: 2,
        cutoff: 3.0,
        radial_basis: 6,
        radial_hidden: vec![8],
        parity: false,
        avg_neighbors: 6.0,
        correlation: 1,
        layer_readouts: false,
        dipole: None,
    }
}

/// Writes with `eqmd model init` a small random model of ethanol's species (L = 1 with
/// parity, 4 channels, 2 layers, r_c 4 Å) with the dipole head `head`.
pub fn init_dipole_model(path: &Path, head: &str) {
    let out = eqmd(&[
        "model",
        "init",
        "--species",
        "C,O,H",
        "--lmax",
        "1",
        "--channels",
        "4",
        "--layers",
        "2",
        "--cutoff",
        "4.0",
        "--radial-hidden",
        "8",
        "--parity",
        "--dipole",
        head,
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
