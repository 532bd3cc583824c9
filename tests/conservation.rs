//! Energy-conservation regression: NVE on the shipped `inputs/lj_nve.toml` (the system of
//! LAMMPS's `in.lj.nve`: 4,000 atoms, shifted LJ, dt = 0.005) must conserve energy as well
//! as LAMMPS does on the same system and timestep. LAMMPS's figures, from
//! `run_anchor.py --cases nve` (docs/lammps-anchor.md): over 2,000 steps RMS 6.3e-6, max
//! deviation 1.7e-5; over 20,000 steps drift +6.4e-7 per 1,000 steps, RMS 8.9e-6, max
//! deviation 2.8e-5 (all relative to |E|).

use eqmd::deck::{Deck, LoadedDeck};
use eqmd::run::prepare;
use std::path::Path;

/// Relative drift per 1,000 steps (slope of a linear fit), RMS about the mean and largest
/// deviation from the first value, all relative to |mean E|.
struct Conservation {
    drift_per_1000: f64,
    rms: f64,
    max_dev: f64,
}

fn run_nve(steps: u64, every: u64, extra: &[&str]) -> Conservation {
    run_deck_nve("inputs/lj_nve.toml", steps, every, extra)
}

/// Runs the NVE deck at `deck` (relative to the crate) and measures its energy.
fn run_deck_nve(deck: &str, steps: u64, every: u64, extra: &[&str]) -> Conservation {
    let deck = Path::new(env!("CARGO_MANIFEST_DIR")).join(deck);
    let mut overrides = vec![format!("integrator.steps={steps}")];
    overrides.extend(extra.iter().map(|s| s.to_string()));
    let deck = LoadedDeck::<Deck>::load(&deck, &overrides).unwrap();
    let mut sim = prepare(&deck).unwrap();
    let mut samples = vec![(0.0, sim.thermo().etotal)];
    for _ in 0..steps {
        sim.step().unwrap();
        if sim.current_step() % every == 0 {
            samples.push((sim.current_step() as f64, sim.thermo().etotal));
        }
    }
    let n = samples.len() as f64;
    let mx = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let my = samples.iter().map(|s| s.1).sum::<f64>() / n;
    let sxx: f64 = samples.iter().map(|s| (s.0 - mx).powi(2)).sum();
    let sxy: f64 = samples.iter().map(|s| (s.0 - mx) * (s.1 - my)).sum();
    let scale = my.abs();
    let rms = (samples.iter().map(|s| (s.1 - my).powi(2)).sum::<f64>() / n).sqrt();
    let e0 = samples[0].1;
    let max_dev = samples.iter().map(|s| (s.1 - e0).abs()).fold(0.0, f64::max);
    let c = Conservation {
        drift_per_1000: sxy / sxx * 1000.0 / scale,
        rms: rms / scale,
        max_dev: max_dev / scale,
    };
    println!(
        "{}: NVE {steps} steps: drift/1000 steps {:+.3e}, RMS {:.3e}, max dev {:.3e}",
        deck.path.display(),
        c.drift_per_1000,
        c.rms,
        c.max_dev
    );
    c
}

/// CI length: 2,000 steps, sampled every 100 steps as LAMMPS's anchor samples them (the
/// first steps from the lattice melt fast and fluctuate most). Thresholds are LAMMPS's figures with a margin for the different
/// random velocities (RMS, max deviation ×2.5), and a drift bound a few times the noise of a
/// run this short.
#[test]
fn lj_nve_conserves_energy_like_lammps() {
    let c = run_nve(2000, 100, &[]);
    assert!(c.rms < 1.6e-5, "RMS fluctuation {:e}", c.rms);
    assert!(c.max_dev < 4.2e-5, "max deviation {:e}", c.max_dev);
    assert!(
        c.drift_per_1000.abs() < 1e-5,
        "drift {:e}",
        c.drift_per_1000
    );
}

/// Halving the timestep must shrink the fluctuation about fourfold (Verlet is second order);
/// a force inconsistent with the energy would not.
#[test]
fn lj_nve_fluctuation_scales_with_dt_squared() {
    let coarse = run_nve(400, 5, &["integrator.timestep=0.004"]);
    let fine = run_nve(800, 10, &["integrator.timestep=0.002"]);
    let ratio = coarse.rms / fine.rms;
    assert!(
        (2.8..5.5).contains(&ratio),
        "RMS ratio for dt ratio 2: {ratio}"
    );
}

/// 20,000 steps (100 τ), as LAMMPS's anchor: run with `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn lj_nve_long_run_drift() {
    let c = run_nve(20_000, 100, &[]);
    assert!(
        c.drift_per_1000.abs() < 2e-6,
        "drift {:e}",
        c.drift_per_1000
    );
    assert!(c.rms < 2.2e-5, "RMS {:e}", c.rms);
    assert!(c.max_dev < 7e-5, "max deviation {:e}", c.max_dev);
}

/// EAM and Morse copper: energy conserved over 2,000 steps of 2 fs, and the fluctuation
/// shrinks as dt² (forces consistent with the energy, no missed neighbours).
#[test]
fn eam_and_morse_conserve_energy() {
    for deck in [
        "tests/decks/nve/cu_eam.toml",
        "tests/decks/nve/cu_morse.toml",
    ] {
        let c = run_deck_nve(deck, 2000, 20, &[]);
        assert!(c.rms < 2e-5, "{deck}: RMS {:e}", c.rms);
        assert!(
            c.drift_per_1000.abs() < 1e-5,
            "{deck}: drift {:e}",
            c.drift_per_1000
        );
        let coarse = run_deck_nve(deck, 500, 5, &["integrator.timestep=0.004"]);
        let fine = run_deck_nve(deck, 1000, 10, &["integrator.timestep=0.002"]);
        let ratio = coarse.rms / fine.rms;
        assert!(
            (2.8..5.5).contains(&ratio),
            "{deck}: RMS ratio for dt ratio 2: {ratio}"
        );
    }
}

/// The equivariant network conserves energy in NVE (ethanol, random smooth model): forces
/// are the exact gradient, so the fluctuation shrinks as dt² and there is no drift.
#[test]
fn equivariant_network_conserves_energy() {
    let deck = "inputs/nn_ethanol.toml";
    let c = run_deck_nve(deck, 2000, 20, &[]);
    assert!(c.rms < 1e-6, "RMS {:e}", c.rms);
    assert!(
        c.drift_per_1000.abs() < 1e-6,
        "drift {:e}",
        c.drift_per_1000
    );
    let coarse = run_deck_nve(deck, 1000, 10, &["integrator.timestep=0.001"]);
    let fine = run_deck_nve(deck, 2000, 20, &["integrator.timestep=0.0005"]);
    let ratio = coarse.rms / fine.rms;
    assert!(
        (2.8..5.5).contains(&ratio),
        "RMS ratio for dt ratio 2: {ratio}"
    );
}
