//! A minimisation stage of `eqmd run`: the deck's settings handed to `minimize`, a log line
//! every few iterations, and SIGINT or SIGTERM stopping it between iterations.

use crate::deck::{CellRelax, MinimizeAlgorithm, MinimizeStage};
use crate::minimize::{Algorithm, CellMode, Iteration, MinimizeSettings};
use crate::simulation::Simulation;
use std::sync::atomic::{AtomicBool, Ordering};

/// Relaxes the simulation's structure (and cell) as the stage asks; the forces then belong
/// to the relaxed state. Not converging within the iterations allowed is a warning.
pub fn run(
    sim: &mut Simulation,
    m: &MinimizeStage,
    interrupted: &AtomicBool,
) -> anyhow::Result<()> {
    let settings = MinimizeSettings {
        algorithm: match m.algorithm {
            MinimizeAlgorithm::Fire => Algorithm::Fire,
            MinimizeAlgorithm::Lbfgs => Algorithm::Lbfgs,
        },
        cell: match m.cell {
            CellRelax::None => CellMode::Fixed,
            CellRelax::Iso => CellMode::Iso,
            CellRelax::Aniso => CellMode::Aniso,
            CellRelax::Tri => CellMode::Tri,
        },
        pressure: m.pressure,
        fmax: m.fmax,
        smax: m.smax,
        max_iterations: m.max_iterations,
        max_step: m.max_step,
    };
    let atoms = sim.system().len().max(1) as f64;
    let every = m.every;
    let mut observe = |it: &Iteration| -> anyhow::Result<()> {
        if it.iteration % every == 0 {
            log::info!(
                "minimise {:>6}: E = {:.10} ({:.10} per atom), max |F| = {:.3e}, max stress residual = {:.3e}, V = {:.6}",
                it.iteration,
                it.energy,
                it.energy / atoms,
                it.max_force,
                it.max_stress,
                it.volume
            );
        }
        if interrupted.load(Ordering::Relaxed) {
            anyhow::bail!("interrupted (the structure so far is not saved as relaxed)");
        }
        Ok(())
    };
    let r = sim.minimize(&settings, &mut observe)?;
    let s = sim.system();
    let line = format!(
        "{} iterations ({} force calls): E = {:.10} ({:.10} per atom), max |F| = {:.3e}, max stress residual = {:.3e}, V = {:.8}",
        r.iterations,
        r.evaluations,
        r.energy,
        r.energy / atoms,
        r.max_force,
        r.max_stress,
        s.cell.volume()
    );
    if r.converged {
        log::info!("converged after {line}");
    } else {
        log::warn!(
            "minimisation did not converge (fmax {}, smax {}) within {line}",
            m.fmax,
            m.smax
        );
    }
    Ok(())
}
