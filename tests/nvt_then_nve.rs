//! Equilibrate under a thermostat, then continue without one: the shipped pair
//! `inputs/ethanol_500k_nvt.toml` (Langevin at 500 K) → `inputs/ethanol_500k_nve.toml`
//! (NVE from the last frame of the NVT trajectory), shortened, on the small random-weight
//! model `potentials/random-hco-l1.h5` instead of the trained one (which is larger and may
//! be rewritten while it trains). The NVE run must start exactly where the NVT run ended
//! (positions and velocities, hence energy) and then conserve energy.

mod common;

use common::eqmd;
use eqmd::io::extxyz::{self, Frame, InfoValue};
use eqmd::io::thermo::read_csv;
use eqmd::state::Thermo;
use std::path::{Path, PathBuf};

const NVT_STEPS: u64 = 300;
const NVE_STEPS: u64 = 400;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a shipped deck into `dir` on the small model; returns its thermo rows.
fn run(deck: &str, dir: &Path, extra: &[String]) -> Vec<Thermo> {
    let model = root().join("potentials/random-hco-l1.h5");
    let mut args: Vec<String> = vec![
        "run".into(),
        root()
            .join("inputs")
            .join(deck)
            .to_string_lossy()
            .into_owned(),
        "--quiet".into(),
        "--output-dir".into(),
        dir.to_string_lossy().into_owned(),
        "--set".into(),
        format!("potential.model={}", model.display()),
        "--set".into(),
        "thermo.every=10".into(),
        "--set".into(),
        "trajectory.every=100".into(),
    ];
    for e in extra {
        args.extend(["--set".to_string(), e.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = eqmd(&args);
    assert!(
        out.status.success(),
        "{deck} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stem = deck.trim_end_matches(".toml");
    read_csv(&dir.join(format!("{stem}.thermo.csv"))).unwrap()
}

fn step_of(frame: &Frame) -> i64 {
    match frame.info.get("step") {
        Some(InfoValue::Int(s)) => *s,
        other => panic!("frame without a step: {other:?}"),
    }
}

/// Largest |E(t) − E(0)| over the rows.
fn max_deviation(rows: &[Thermo]) -> f64 {
    rows.iter()
        .map(|r| (r.etotal - rows[0].etotal).abs())
        .fold(0.0, f64::max)
}

/// Runs the NVE deck from the NVT trajectory in `nvt_dir` with timestep `dt` (ps) for
/// `steps` steps, into a fresh folder, with a thermo row every `every` steps.
fn nve(nvt_dir: &Path, dt: f64, steps: u64, every: u64) -> (tempfile::TempDir, Vec<Thermo>) {
    let dir = tempfile::tempdir().unwrap();
    let start = nvt_dir.join("ethanol_500k_nvt.xyz");
    let rows = run(
        "ethanol_500k_nve.toml",
        dir.path(),
        &[
            format!("system.structure={}", start.display()),
            format!("integrator.steps={steps}"),
            format!("integrator.timestep={dt}"),
            format!("thermo.every={every}"),
        ],
    );
    (dir, rows)
}

/// Tolerance: the energy may move by at most 1e-4 eV (≈ 1e-4 of the kinetic energy of
/// 9 atoms at 500 K, 0.58 eV). That is what the test must tell apart: velocity Verlet's own
/// error with these forces is ~1e-6 eV and shrinks as dt² (checked below), while a
/// thermostat left on moves the energy by a sizeable fraction of the kinetic energy within
/// 150 fs (0.24 eV in the NVT part, checked to exceed 1e-2 eV), and redrawn velocities
/// would change it at step 0 by as much.
const TOLERANCE_EV: f64 = 1e-4;

#[test]
fn nve_starts_from_the_nvt_end_state_and_conserves_energy() {
    let nvt_dir = tempfile::tempdir().unwrap();
    let nvt = run(
        "ethanol_500k_nvt.toml",
        nvt_dir.path(),
        &[format!("integrator.steps={NVT_STEPS}")],
    );
    let (nve_dir, rows) = nve(nvt_dir.path(), 0.0005, NVE_STEPS, 10);

    // the NVE trajectory's first frame is the NVT trajectory's last one, bit for bit
    let nvt_frames = extxyz::read_file(&nvt_dir.path().join("ethanol_500k_nvt.xyz")).unwrap();
    let end = nvt_frames.last().unwrap();
    assert_eq!(step_of(end), NVT_STEPS as i64);
    let nve_frames = extxyz::read_file(&nve_dir.path().join("ethanol_500k_nve.xyz")).unwrap();
    let start = &nve_frames[0];
    assert_eq!(step_of(start), 0);
    assert_eq!(start.symbols, end.symbols);
    assert_eq!(start.positions, end.positions, "positions carried over");
    let v_end = end.vector_array("velocities").unwrap();
    assert_eq!(
        start.vector_array("velocities").unwrap(),
        v_end,
        "velocities carried over"
    );
    assert!(v_end.iter().any(|v| v.length() > 1.0), "the atoms move");

    // hence the same energies: kinetic exactly, potential up to summation order
    let (last, first) = (nvt.last().unwrap(), &rows[0]);
    assert_eq!(last.step, NVT_STEPS);
    assert_eq!(first.ke, last.ke, "kinetic energy carried over");
    assert!(
        (first.pe - last.pe).abs() < 1e-12,
        "potential energy: NVT ends at {}, NVE starts at {}",
        last.pe,
        first.pe
    );

    // NVE conserves energy; the thermostat did not
    assert_eq!(rows.last().unwrap().step, NVE_STEPS);
    let nve_dev = max_deviation(&rows);
    let nvt_dev = max_deviation(&nvt);
    println!("max |E - E0|: NVE {nve_dev:.3e} eV, NVT {nvt_dev:.3e} eV");
    assert!(nve_dev < TOLERANCE_EV, "NVE energy moved by {nve_dev:e} eV");
    assert!(
        nvt_dev > 100.0 * TOLERANCE_EV,
        "the thermostat moved the energy by only {nvt_dev:e} eV: the tolerance cannot tell NVE from NVT"
    );

    // the remaining error is the integrator's: halving dt divides it by about four
    // (sampled at the same times)
    let (_fine_dir, fine) = nve(nvt_dir.path(), 0.00025, 2 * NVE_STEPS, 20);
    let ratio = nve_dev / max_deviation(&fine);
    println!("dt 0.5 fs / 0.25 fs: max deviation ratio {ratio:.2}");
    assert!((2.8..5.5).contains(&ratio), "ratio for dt ratio 2: {ratio}");
}
