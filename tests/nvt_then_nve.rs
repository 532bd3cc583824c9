//! Equilibrate under a thermostat, then continue without one, in one deck: the shipped
//! two-stage `inputs/ethanol_500k.toml` (Langevin at 500 K, then NVE), shortened, on the
//! small random-weight model `potentials/random-hco-l1.h5` instead of the trained one. The
//! steps count on across the stages, the NVE stage conserves energy while the NVT stage did
//! not, and its error is the integrator's (it shrinks as dt²).

mod common;

use common::eqmd;
use eqmd::io::thermo::read_csv;
use eqmd::state::Thermo;
use std::path::{Path, PathBuf};

const NVT_STEPS: u64 = 300;
const NVE_STEPS: u64 = 400;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the shipped deck into `dir` on the small model with stages of `nvt` and `nve`
/// steps at timestep `dt` (ps); returns its thermo rows (every `every` steps).
fn run(dir: &Path, nvt: u64, nve: u64, dt: f64, every: u64) -> Vec<Thermo> {
    let model = root().join("potentials/random-hco-l1.h5");
    let deck = root().join("inputs/ethanol_500k.toml");
    let sets = [
        format!("potential.model={}", model.display()),
        format!("thermo.every={every}"),
        "trajectory.every=100".to_string(),
        format!("stage[0].steps={nvt}"),
        format!("stage[1].steps={nve}"),
        format!("integrator.timestep={dt}"),
    ];
    let mut args: Vec<String> = vec![
        "run".into(),
        deck.to_string_lossy().into_owned(),
        "--quiet".into(),
        "--output-dir".into(),
        dir.to_string_lossy().into_owned(),
    ];
    for s in sets {
        args.extend(["--set".to_string(), s]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = eqmd(&args);
    assert!(
        out.status.success(),
        "the deck failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_csv(&dir.join("ethanol_500k.thermo.csv")).unwrap()
}

/// Largest |E(t) − E(first)| over the rows.
fn max_deviation(rows: &[&Thermo]) -> f64 {
    rows.iter()
        .map(|r| (r.etotal - rows[0].etotal).abs())
        .fold(0.0, f64::max)
}

/// Tolerance: the energy may move by at most 1e-4 eV (≈ 1e-4 of the kinetic energy of
/// 9 atoms at 500 K, 0.58 eV). Velocity Verlet's own error with these forces is ~1e-6 eV
/// and shrinks as dt² (checked below), while a thermostat left on moves the energy by a
/// sizeable fraction of the kinetic energy within 150 fs (checked to exceed 1e-2 eV).
const TOLERANCE_EV: f64 = 1e-4;

#[test]
fn nve_stage_continues_the_nvt_stage_and_conserves_energy() {
    let dir = tempfile::tempdir().unwrap();
    let rows = run(dir.path(), NVT_STEPS, NVE_STEPS, 0.0005, 10);
    // one clock across the stages, every row once
    let steps: Vec<u64> = rows.iter().map(|r| r.step).collect();
    let expected: Vec<u64> = (0..=NVT_STEPS + NVE_STEPS).step_by(10).collect();
    assert_eq!(
        steps, expected,
        "thermo steps count from 0 across the stages"
    );
    let nvt: Vec<&Thermo> = rows.iter().filter(|r| r.step <= NVT_STEPS).collect();
    let nve: Vec<&Thermo> = rows.iter().filter(|r| r.step >= NVT_STEPS).collect();
    let (nve_dev, nvt_dev) = (max_deviation(&nve), max_deviation(&nvt));
    println!("max |E - E0|: NVE stage {nve_dev:.3e} eV, NVT stage {nvt_dev:.3e} eV");
    assert!(nve_dev < TOLERANCE_EV, "NVE energy moved by {nve_dev:e} eV");
    assert!(
        nvt_dev > 100.0 * TOLERANCE_EV,
        "the thermostat moved the energy by only {nvt_dev:e} eV: the tolerance cannot tell NVE from NVT"
    );
    let trajectory = eqmd::io::extxyz::read_file(&dir.path().join("ethanol_500k.xyz")).unwrap();
    assert_eq!(trajectory.len(), 8, "frames at steps 0, 100, ..., 700");

    // the NVE error is the integrator's: halving dt (same times) divides it by about four
    let fine_dir = tempfile::tempdir().unwrap();
    let fine = run(fine_dir.path(), 2 * NVT_STEPS, 2 * NVE_STEPS, 0.00025, 20);
    let fine_nve: Vec<&Thermo> = fine.iter().filter(|r| r.step >= 2 * NVT_STEPS).collect();
    let ratio = nve_dev / max_deviation(&fine_nve);
    println!("dt 0.5 fs / 0.25 fs: max deviation ratio {ratio:.2}");
    assert!((2.8..5.5).contains(&ratio), "ratio for dt ratio 2: {ratio}");
}
