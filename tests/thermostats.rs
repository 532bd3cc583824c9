//! NVT thermostats sample the canonical ensemble: the mean temperature matches the target
//! within its statistical error, and the kinetic energy has the canonical variance
//! Var(KE) = (N_f / 2)(k_B T)², i.e. Var(T) / T² = 2 / N_f.

use eqmd::integrate::{maxwell_boltzmann, Integrator, Langevin, NoseHooverChain};
use eqmd::lattice::{build, LatticeKind};
use eqmd::potential::LennardJones;
use eqmd::simulation::Simulation;
use eqmd::system::System;
use eqmd::units::Units;

const TARGET: f64 = 1.2;

/// 108 LJ atoms (fcc 3×3×3, ρ* = 0.8442) starting at twice the target temperature.
fn simulation(integrator: Box<dyn Integrator>) -> Simulation {
    let a = LatticeKind::Fcc.constant_for_density(0.8442);
    let (cell, sites) = build(LatticeKind::Fcc, a, [3, 3, 3]);
    let mut s = System::new(cell, Units::Lj);
    let k = s.add_species("A", 1.0);
    for (_, r) in sites {
        s.add_atom(k, r);
    }
    maxwell_boltzmann(&mut s, 2.0 * TARGET, 4);
    let lj = LennardJones::single(1.0, 1.0, 2.5, true);
    Simulation::new(s, Box::new(lj), integrator, 0.3)
}

/// Runs, discards an equilibration, and returns (mean T, standard error of the mean from
/// block averages, variance of T, degrees of freedom).
fn sample(mut sim: Simulation, steps: u64) -> (f64, f64, f64, f64) {
    for _ in 0..2000 {
        sim.step().unwrap();
    }
    let mut temps = Vec::new();
    for _ in 0..steps {
        sim.step().unwrap();
        if sim.current_step() % 5 == 0 {
            temps.push(sim.thermo().temp);
        }
    }
    let n = temps.len() as f64;
    let mean = temps.iter().sum::<f64>() / n;
    let var = temps.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let blocks = 40;
    let len = temps.len() / blocks;
    let block_means: Vec<f64> = temps
        .chunks(len)
        .take(blocks)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let bm = block_means.iter().sum::<f64>() / blocks as f64;
    let bvar = block_means.iter().map(|m| (m - bm).powi(2)).sum::<f64>() / (blocks as f64 - 1.0);
    let sem = (bvar / blocks as f64).sqrt();
    (mean, sem, var, sim.degrees_of_freedom())
}

fn check(name: &str, integrator: Box<dyn Integrator>) {
    let (mean, sem, var, dof) = sample(simulation(integrator), 60_000);
    let canonical = 2.0 * TARGET * TARGET / dof;
    println!(
        "{name}: <T> = {mean:.5} ± {sem:.5} (target {TARGET}), Var(T) = {var:.6} (canonical {canonical:.6})"
    );
    assert!(sem < 0.01, "{name}: statistics too poor (sem {sem})");
    assert!(
        (mean - TARGET).abs() < 4.0 * sem,
        "{name}: <T> = {mean} ± {sem}, target {TARGET}"
    );
    let ratio = var / canonical;
    assert!(
        (0.85..1.15).contains(&ratio),
        "{name}: Var(T) / canonical = {ratio}"
    );
}

#[test]
fn langevin_samples_the_canonical_ensemble() {
    check("Langevin", Box::new(Langevin::new(0.005, TARGET, 0.5, 99)));
}

#[test]
fn nose_hoover_chain_samples_the_canonical_ensemble() {
    check(
        "Nosé–Hoover chain",
        Box::new(NoseHooverChain::new(0.005, TARGET, 0.25, 3)),
    );
}

/// Langevin runs with the same seed are identical; with another seed they differ.
#[test]
fn langevin_is_reproducible_from_its_seed() {
    let run = |seed| {
        let mut sim = simulation(Box::new(Langevin::new(0.005, TARGET, 0.5, seed)));
        for _ in 0..200 {
            sim.step().unwrap();
        }
        sim.system().positions.clone()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

/// The Nosé–Hoover chain conserves its extended energy up to an integration error that
/// shrinks as dt² (a wrong conserved quantity or chain update would not converge).
#[test]
fn nose_hoover_chain_conserves_its_extended_energy() {
    let deviation = |dt: f64| {
        let mut sim = simulation(Box::new(NoseHooverChain::new(dt, TARGET, 0.25, 3)));
        let h0 = sim.thermo().conserved;
        let mut worst: f64 = 0.0;
        for _ in 0..(10.0 / dt) as usize {
            sim.step().unwrap();
            worst = worst.max((sim.thermo().conserved - h0).abs());
        }
        worst / h0.abs()
    };
    let (coarse, fine) = (deviation(0.002), deviation(0.001));
    assert!(
        fine < 1e-4,
        "extended energy deviates by {fine:e} at dt = 0.001"
    );
    assert!(
        coarse / fine > 2.5,
        "not second order: {coarse:e} -> {fine:e}"
    );
}

#[test]
fn every_integrator_counts_the_same_degrees_of_freedom() {
    // at step 0 the thermo temperature is the one the velocities were drawn at, whatever
    // integrator follows; and the Langevin kicks keep the zero total momentum
    let integrators: Vec<Box<dyn Integrator>> = vec![
        Box::new(eqmd::integrate::VelocityVerlet::new(0.005)),
        Box::new(Langevin::new(0.005, TARGET, 0.5, 99)),
        Box::new(NoseHooverChain::new(0.005, TARGET, 0.5, 3)),
    ];
    for integrator in integrators {
        let name = integrator.name();
        let mut sim = simulation(integrator);
        assert_eq!(sim.degrees_of_freedom(), 3.0 * 108.0 - 3.0, "{name}");
        assert!((sim.thermo().temp - 2.0 * TARGET).abs() < 1e-12, "{name}");
        for _ in 0..200 {
            sim.step().unwrap();
        }
        assert!(sim.system().momentum().length() < 1e-10, "{name}");
    }
}
