//! `eqmd run`: a deck in, a simulation run, thermo, trajectory and checkpoint files out.
//! SIGINT and SIGTERM finish the current step, flush every file, write a checkpoint and
//! stop with an error; a blow-up keeps the last good frame and a checkpoint.

mod minimize;
mod outputs;

pub use outputs::{current_frame, output_path, Outputs};

use crate::deck::{self, LoadedDeck, Stage, StageKind};
use crate::integrate::VelocityVerlet;
use crate::io::checkpoint;
use crate::simulation::Simulation;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Options of one run besides the deck.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `key=value` overrides applied to the deck.
    pub overrides: Vec<String>,
    /// Folder for relative output paths (default: the deck's folder).
    pub output_dir: Option<PathBuf>,
    /// Print the thermo table on stdout.
    pub echo: bool,
    /// Show a progress bar (only when stderr is a terminal).
    pub progress: bool,
    /// Continue from this checkpoint.
    pub restart: Option<PathBuf>,
}

/// What a finished run reports.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub atoms: usize,
    pub steps: u64,
    pub seconds: f64,
    pub thermo_file: PathBuf,
    pub neighbor_builds: usize,
}

/// Builds the simulation a deck describes, under the integrator of its first dynamics
/// stage (velocity Verlet for a deck that only minimises).
pub fn prepare(deck: &LoadedDeck) -> anyhow::Result<Simulation> {
    let (mut sim, stages) = prepare_stages(deck)?;
    if let Some(integrator) = stages.into_iter().find_map(|s| match s.kind {
        StageKind::Dynamics { integrator, .. } => Some(integrator),
        StageKind::Minimize(_) => None,
    }) {
        sim.set_integrator(integrator);
    }
    Ok(sim)
}

/// Builds the simulation and the stages a deck describes. The simulation holds a
/// placeholder integrator until a dynamics stage gives it its own.
pub fn prepare_stages(deck: &LoadedDeck) -> anyhow::Result<(Simulation, Vec<Stage>)> {
    let system = deck::build_system(deck)?;
    let potential = deck::build_potential(deck, &system)?;
    let stages = deck::build_stages(deck)?;
    let skin = deck::neighbor_skin(deck)?;
    check_neighbor_demand(deck, &system, potential.as_ref(), skin)?;
    let cell_free = stages.iter().any(Stage::changes_cell);
    if cell_free {
        crate::integrate::check_periodic(&system).map_err(|m| {
            let key = if deck.deck.stages.is_empty() {
                if deck.deck.barostat.is_some() {
                    "barostat"
                } else {
                    "minimize.cell"
                }
            } else {
                "stage"
            };
            deck.error(key, m)
        })?;
    }
    log::info!(
        "{} atoms, {} species; potential: {}; {}",
        system.len(),
        system.species_names.len(),
        potential.name(),
        describe(&stages)
    );
    let dt = stages
        .iter()
        .find_map(|s| match &s.kind {
            StageKind::Dynamics { integrator, .. } => Some(integrator.timestep()),
            StageKind::Minimize(_) => None,
        })
        .unwrap_or(1.0);
    let mut sim = Simulation::new(system, potential, Box::new(VelocityVerlet::new(dt)), skin);
    sim.set_cell_free(cell_free);
    Ok((sim, stages))
}

/// The stages for the log: their names, and each dynamics stage's integrator.
fn describe(stages: &[Stage]) -> String {
    let parts: Vec<String> = stages
        .iter()
        .map(|s| match &s.kind {
            StageKind::Minimize(m) => format!(
                "{}: minimise ({:?}, cell {:?})",
                s.name, m.algorithm, m.cell
            ),
            StageKind::Dynamics { integrator, end } => {
                format!("{}: {} to step {end}", s.name, integrator.name())
            }
        })
        .collect();
    parts.join("; ")
}

/// Refuses, before anything is allocated, a neighbour list that cannot be encoded or would
/// need more memory than the machine has available, naming the cutoff and skin asked for.
fn check_neighbor_demand(
    deck: &LoadedDeck,
    system: &crate::system::System,
    potential: &dyn crate::potential::Potential,
    skin: f64,
) -> anyhow::Result<()> {
    let cutoff = potential.cutoff();
    let Some(why) = crate::neighbors::refusal(system, cutoff + skin, potential.list_kind()) else {
        return Ok(());
    };
    let key = if skin > cutoff {
        "neighbors.skin"
    } else {
        "potential.cutoff"
    };
    let msg = format!(
        "the neighbour list for cutoff {} + skin {} {why}",
        crate::potential::short_number(cutoff),
        crate::potential::short_number(skin)
    );
    Err(deck.error(key, msg).into())
}

/// Runs the deck at `path`, stage by stage, to the step the deck names (from a checkpoint
/// if asked).
pub fn run_deck(path: &Path, options: &RunOptions) -> anyhow::Result<RunSummary> {
    let deck = LoadedDeck::<crate::deck::Deck>::load(path, &options.overrides)?;
    let (mut sim, stages) = prepare_stages(&deck)?;
    sim.set_force_limit(deck::force_limit(&deck)?);
    sim.set_max_displacement(deck::max_displacement(&deck)?);
    let multi = !deck.deck.stages.is_empty();
    let settings: Vec<Vec<(String, String)>> = stages
        .iter()
        .enumerate()
        .map(|(k, st)| stage_settings(&sim, st, multi.then_some(k)))
        .collect();
    let cell_changes = stages.iter().any(Stage::changes_cell);
    let mut stages: Vec<Option<Stage>> = stages.into_iter().map(Some).collect();
    let mut first_stage = 0;
    if let Some(file) = &options.restart {
        first_stage = restore(&deck, &mut sim, file, &mut stages, &settings)?;
    }
    let deck_name = path.display().to_string();
    sim.check_forces().with_context(|| {
        format!("{deck_name}: the initial configuration already fails (overlapping atoms?)")
    })?;
    sim.check_velocities_now()
        .with_context(|| format!("{deck_name}: the initial velocities already fail"))?;
    let restart = options.restart.is_some();
    let mut outputs = Outputs::open(
        &deck,
        options.output_dir.as_deref(),
        options.echo,
        options.restart.as_deref(),
        &sim,
        settings[first_stage].clone(),
        cell_changes,
    )?;
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&interrupted))
            .context("cannot install the signal handlers")?;
    }
    let first_step = sim.current_step();
    let start = Instant::now();
    if restart {
        outputs.restore_thermo_row(&sim)?;
    } else {
        outputs.observe(&sim, true, false)?;
    }
    let ctx = Dynamics {
        deck_name: &deck_name,
        progress: options.progress,
        interrupted: &interrupted,
    };
    for k in first_stage..stages.len() {
        let Some(stage) = stages[k].take() else {
            continue;
        };
        outputs.set_stage(k as u64, settings[k].clone());
        match stage.kind {
            StageKind::Minimize(m) => {
                log::info!("{}: minimisation", stage.name);
                minimize::run(&mut sim, &m, &interrupted)
                    .with_context(|| format!("{deck_name}: {}", stage.name))?;
                outputs.write_now(&sim)?;
                let next = settings.get(k + 1).unwrap_or(&settings[k]).clone();
                outputs.set_stage(k as u64 + 1, next);
                outputs.save_checkpoint(&sim)?;
            }
            StageKind::Dynamics { integrator, end } => {
                if !(restart && k == first_stage) {
                    sim.set_integrator(integrator);
                }
                if sim.current_step() < end {
                    log::info!("{}: {} to step {end}", stage.name, sim.integrator().name());
                }
                run_dynamics(&mut sim, &mut outputs, end, &ctx)?;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let atoms = sim.system().len();
    let done = sim.current_step() - first_step;
    log::info!(
        "{done} steps of {atoms} atoms in {seconds:.3} s: {:.4} µs/atom-step, {} neighbour-list builds",
        1e6 * seconds / (atoms as f64 * done.max(1) as f64),
        sim.neighbors().builds()
    );
    log::info!(
        "writing thermo, trajectories and checkpoints took {:.3} s ({:.1} % of the run)",
        outputs.seconds,
        100.0 * outputs.seconds / seconds.max(1e-9)
    );
    Ok(RunSummary {
        atoms,
        steps: done,
        seconds,
        thermo_file: outputs.thermo_file,
        neighbor_builds: sim.neighbors().builds(),
    })
}

/// What a stretch of dynamics reports to.
struct Dynamics<'a> {
    deck_name: &'a str,
    progress: bool,
    interrupted: &'a AtomicBool,
}

/// Runs the simulation's integrator up to step `end`, writing what is due; a blow-up or a
/// signal stops with an error after saving what can be saved.
fn run_dynamics(
    sim: &mut Simulation,
    outputs: &mut Outputs,
    end: u64,
    ctx: &Dynamics,
) -> anyhow::Result<()> {
    let deck_name = ctx.deck_name;
    let bar = progress_bar(ctx.progress, end, sim.current_step());
    while sim.current_step() < end {
        if let Err(e) = sim.step() {
            bar.abandon();
            let file = outputs.save_state(sim)?;
            anyhow::bail!(
                "{deck_name}: {e}: checkpoint of it written to {}",
                file.display()
            );
        }
        outputs.observe(sim, false, sim.current_step() == end)?;
        bar.inc(1);
        if ctx.interrupted.load(Ordering::Relaxed) {
            bar.abandon();
            // only the checkpoint: a frame off the trajectories' cadence would make a
            // restarted run's files differ from an uninterrupted run's
            let file = outputs.save_checkpoint(sim)?;
            anyhow::bail!(
                "{deck_name}: interrupted at step {}: files flushed, checkpoint written to {} \
                 (continue with --restart)",
                sim.current_step(),
                file.display()
            );
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// The last step of the deck's dynamics.
fn last_step(stages: &[Option<Stage>]) -> u64 {
    stages
        .iter()
        .flatten()
        .filter_map(|s| match &s.kind {
            StageKind::Dynamics { end, .. } => Some(*end),
            StageKind::Minimize(_) => None,
        })
        .max()
        .unwrap_or(0)
}

/// Puts `sim` in the state of the checkpoint `file`, under the integrator of the stage it
/// was written in, refusing one written under other settings, of another system or
/// potential, or at the end of the deck's last stage. Returns the stage to continue in.
fn restore(
    deck: &LoadedDeck,
    sim: &mut Simulation,
    file: &Path,
    stages: &mut [Option<Stage>],
    settings: &[Vec<(String, String)>],
) -> anyhow::Result<usize> {
    let c = checkpoint::read(file)?;
    let refuse = |e: String| anyhow::anyhow!("cannot restart from {}: {e}", file.display());
    let k = c.stage as usize;
    let last = stages.len() - 1;
    let done_with = |s: &Option<Stage>| match s {
        Some(Stage {
            kind: StageKind::Dynamics { end, .. },
            ..
        }) => c.step >= *end,
        _ => false,
    };
    if k <= last {
        compare_settings(&c.settings, &settings[k]).map_err(refuse)?;
        if let Some(Stage {
            kind: StageKind::Dynamics { integrator, .. },
            ..
        }) = &mut stages[k]
        {
            let placeholder = Box::new(VelocityVerlet::new(integrator.timestep()));
            sim.set_integrator(std::mem::replace(integrator, placeholder));
        }
        sim.restore(&c).map_err(refuse)?;
    }
    if k > last || (k == last && done_with(&stages[k])) {
        let steps = last_step(stages);
        let key = if deck.deck.stages.is_empty() {
            "integrator.steps"
        } else {
            "stage"
        };
        let e = deck.error(
            key,
            format!(
                "is {steps}: cannot restart from {}, which is already at step {} at the end \
                 of the deck; nothing to run (raise {key} to continue)",
                file.display(),
                c.step
            ),
        );
        return Err(e.into());
    }
    log::info!(
        "restarting from {} at step {} (stage {})",
        file.display(),
        sim.current_step(),
        k + 1
    );
    Ok(k)
}

/// What a stage's dynamics depend on besides the system and the potential, keyed as the
/// deck names them: the units, the neighbour skin (it sets when the list is rebuilt, and so
/// the summation order), the integrator's settings (timestep, thermostat, barostat and
/// their parameters) and, in a multi-stage deck, the stage. The run length and the limits
/// of a blown-up run are not in it.
fn stage_settings(sim: &Simulation, stage: &Stage, index: Option<usize>) -> Vec<(String, String)> {
    let mut out = vec![
        ("units".to_string(), sim.system().units.name().to_string()),
        (
            "neighbors.skin".to_string(),
            sim.neighbors().skin().to_string(),
        ),
    ];
    if let Some(k) = index {
        out.push(("stage".to_string(), k.to_string()));
    }
    match &stage.kind {
        StageKind::Minimize(_) => out.push(("stage.kind".to_string(), "minimize".to_string())),
        StageKind::Dynamics { integrator, .. } => {
            for (name, value) in integrator.settings() {
                let key = match name {
                    "timestep" => "integrator.timestep".to_string(),
                    "thermostat" => "thermostat.type".to_string(),
                    "barostat" => "barostat.type".to_string(),
                    other if other.contains('.') => other.to_string(),
                    other => format!("thermostat.{other}"),
                };
                out.push((key, value));
            }
        }
    }
    out
}

/// Refuses a checkpoint written under other dynamics settings than the deck's, naming
/// every key that differs; a checkpoint without settings (version 1) is accepted with a
/// warning.
fn compare_settings(
    checkpoint: &[(String, String)],
    deck: &[(String, String)],
) -> Result<(), String> {
    if checkpoint.is_empty() {
        log::warn!("the checkpoint predates recorded settings: the deck's timestep, thermostat and skin cannot be checked against it");
        return Ok(());
    }
    let value = |list: &[(String, String)], key: &str| {
        list.iter()
            .find(|(k, _)| k == key)
            .map_or("(none)".to_string(), |(_, v)| v.clone())
    };
    let mut keys: Vec<&str> = Vec::new();
    for (k, _) in checkpoint.iter().chain(deck) {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    let differ: Vec<String> = keys
        .into_iter()
        .filter_map(|k| {
            let (a, b) = (value(checkpoint, k), value(deck, k));
            (a != b).then(|| format!("{k} = {a} in the checkpoint, {b} in the deck"))
        })
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "it was written under other settings: {}",
            differ.join("; ")
        ))
    }
}

/// A progress bar with ETA and steps per second when stderr is a terminal.
fn progress_bar(wanted: bool, steps: u64, at: u64) -> ProgressBar {
    if !(wanted && std::io::stderr().is_terminal()) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    bar.set_position(at);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
