//! `eqmd run`: a deck in, a simulation run, thermo, trajectory and checkpoint files out.
//! SIGINT and SIGTERM finish the current step, flush every file, write a checkpoint and
//! stop with an error; a blow-up keeps the last good frame and a checkpoint.

mod outputs;

pub use outputs::{current_frame, output_path, Outputs};

use crate::deck::{self, LoadedDeck};
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

/// Builds the simulation a deck describes.
pub fn prepare(deck: &LoadedDeck) -> anyhow::Result<Simulation> {
    let system = deck::build_system(deck)?;
    let potential = deck::build_potential(deck, &system)?;
    let integrator = deck::build_integrator(deck)?;
    let skin = deck::neighbor_skin(deck)?;
    check_neighbor_demand(deck, &system, potential.as_ref(), skin)?;
    log::info!(
        "{} atoms, {} species; potential: {}; integrator: {}",
        system.len(),
        system.species_names.len(),
        potential.name(),
        integrator.name()
    );
    Ok(Simulation::new(system, potential, integrator, skin))
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
    let d = crate::neighbors::demand(system, cutoff + skin, potential.list_kind());
    let available = crate::neighbors::available_memory();
    let why = if !d.encodable(system.len()) {
        Some(format!(
            "reaches {:.3e} periodic images of the cell, too many to index beside {} atoms",
            d.images,
            system.len()
        ))
    } else {
        available.filter(|&a| d.bytes > a).map(|a| {
            format!(
                "would need about {:.1} GiB ({:.3e} pairs, {:.3e} images); {:.1} GiB are available",
                d.bytes / GIB,
                d.entries,
                d.images,
                a / GIB
            )
        })
    };
    match why {
        None => Ok(()),
        Some(why) => {
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
    }
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Runs the deck at `path` to the step the deck names (from a checkpoint if asked).
pub fn run_deck(path: &Path, options: &RunOptions) -> anyhow::Result<RunSummary> {
    let deck = LoadedDeck::<crate::deck::Deck>::load(path, &options.overrides)?;
    let mut sim = prepare(&deck)?;
    sim.set_force_limit(deck::force_limit(&deck)?);
    sim.set_max_displacement(deck::max_displacement(&deck)?);
    let settings = dynamics_settings(&sim);
    if let Some(file) = &options.restart {
        restore(&deck, &mut sim, file, &settings)?;
    }
    let deck_name = path.display();
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
        settings,
    )?;
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&interrupted))
            .context("cannot install the signal handlers")?;
    }

    let steps = deck.deck.integrator.steps;
    let first_step = sim.current_step();
    let bar = progress_bar(options.progress, steps, first_step);
    let start = Instant::now();
    if !restart {
        outputs.observe(&sim, true, sim.current_step() >= steps)?;
    }
    while sim.current_step() < steps {
        if let Err(e) = sim.step() {
            bar.abandon();
            let file = outputs.save_state(&sim)?;
            anyhow::bail!(
                "{deck_name}: {e}: checkpoint of it written to {}",
                file.display()
            );
        }
        outputs.observe(&sim, false, sim.current_step() == steps)?;
        bar.inc(1);
        if interrupted.load(Ordering::Relaxed) {
            bar.abandon();
            // only the checkpoint: a frame off the trajectories' cadence would make a
            // restarted run's files differ from an uninterrupted run's
            let file = outputs.save_checkpoint(&sim)?;
            anyhow::bail!(
                "{deck_name}: interrupted at step {}: files flushed, checkpoint written to {} \
                 (continue with --restart)",
                sim.current_step(),
                file.display()
            );
        }
    }
    bar.finish_and_clear();
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

/// Puts `sim` in the state of the checkpoint `file`, refusing one written under other
/// settings, of another system or potential, or already at the deck's last step.
fn restore(
    deck: &LoadedDeck,
    sim: &mut Simulation,
    file: &Path,
    settings: &[(String, String)],
) -> anyhow::Result<()> {
    let c = checkpoint::read(file)?;
    let refuse = |e: String| anyhow::anyhow!("cannot restart from {}: {e}", file.display());
    compare_settings(&c.settings, settings).map_err(refuse)?;
    sim.restore(&c).map_err(refuse)?;
    let steps = deck.deck.integrator.steps;
    if c.step >= steps {
        let e = deck.error(
            "integrator.steps",
            format!(
                "is {steps}: cannot restart from {}, which is already at step {}; nothing \
                 to run (raise integrator.steps to continue)",
                file.display(),
                c.step
            ),
        );
        return Err(e.into());
    }
    log::info!(
        "restarting from {} at step {}",
        file.display(),
        sim.current_step()
    );
    Ok(())
}

/// What the dynamics depend on besides the system and the potential, keyed as the deck
/// names them: the units, the neighbour skin (it sets when the list is rebuilt, and so the
/// summation order) and the integrator's settings (timestep, thermostat and its
/// parameters). The run length and the limits of a blown-up run are not in it.
fn dynamics_settings(sim: &Simulation) -> Vec<(String, String)> {
    let mut out = vec![
        ("units".to_string(), sim.system().units.name().to_string()),
        (
            "neighbors.skin".to_string(),
            sim.neighbors().skin().to_string(),
        ),
    ];
    for (name, value) in sim.integrator().settings() {
        let key = match name {
            "timestep" => "integrator.timestep".to_string(),
            "thermostat" => "thermostat.type".to_string(),
            other => format!("thermostat.{other}"),
        };
        out.push((key, value));
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
