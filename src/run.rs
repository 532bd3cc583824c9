//! `eqmd run`: a deck in, a simulation run, thermo and trajectory files out.

use crate::deck::{self, LoadedDeck};
use crate::io::extxyz::{self, ExtxyzWriter, Frame};
use crate::io::thermo::ThermoLog;
use crate::simulation::Simulation;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
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
    log::info!(
        "{} atoms, {} species; potential: {}; integrator: {}",
        system.len(),
        system.species_names.len(),
        potential.name(),
        integrator.name()
    );
    Ok(Simulation::new(system, potential, integrator, skin))
}

fn output_path(deck: &LoadedDeck, options: &RunOptions, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match &options.output_dir {
        Some(dir) => dir.join(p),
        None => deck.resolve(file),
    }
}

/// The frame to write to a trajectory: positions, velocities and forces now.
pub fn current_frame(sim: &Simulation) -> Frame {
    let s = &sim.system;
    let names: Vec<String> = s
        .species
        .iter()
        .map(|&k| s.species_names[k].clone())
        .collect();
    let mut frame = Frame::new(names, s.positions.clone());
    if !s.cell.is_vacuum() {
        frame.lattice = Some(s.cell.matrix());
    }
    frame.pbc = s.cell.pbc();
    frame.set_vector_array("velocities", &s.velocities);
    frame.set_forces(&sim.forces.forces);
    frame
        .info
        .insert("energy".into(), extxyz::InfoValue::Float(sim.forces.energy));
    frame
        .info
        .insert("step".into(), extxyz::InfoValue::Int(sim.step as i64));
    frame
        .info
        .insert("time".into(), extxyz::InfoValue::Float(sim.time));
    frame
}

/// Runs the deck at `path` to the end.
pub fn run_deck(path: &Path, options: &RunOptions) -> anyhow::Result<RunSummary> {
    let deck = LoadedDeck::load(path, &options.overrides)?;
    let mut sim = prepare(&deck)?;
    let d = &deck.deck;
    if d.thermo.every == 0 {
        return Err(deck.error("thermo.every", "must be at least 1").into());
    }
    let thermo_name = d
        .thermo
        .file
        .clone()
        .unwrap_or_else(|| format!("{}.thermo.csv", deck.stem()));
    let thermo_file = output_path(&deck, options, &thermo_name);
    let mut thermo = ThermoLog::create(&thermo_file, options.echo)
        .with_context(|| format!("cannot write thermo file {}", thermo_file.display()))?;
    let mut trajectory = match &d.trajectory {
        Some(t) => {
            if t.every == 0 {
                return Err(deck.error("trajectory.every", "must be at least 1").into());
            }
            let file = output_path(&deck, options, &t.file);
            let w = ExtxyzWriter::create(&file)
                .with_context(|| format!("cannot write trajectory {}", file.display()))?;
            Some((w, t.every, file))
        }
        None => None,
    };

    let steps = d.integrator.steps;
    let bar = if options.progress && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(steps);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let start = Instant::now();
    thermo.write(&sim.thermo())?;
    if let Some((w, _, _)) = &mut trajectory {
        w.write(&current_frame(&sim))?;
    }
    for _ in 0..steps {
        if let Err(e) = sim.step() {
            if let Some((w, _, file)) = &mut trajectory {
                w.write(&current_frame(&sim))?;
                log::error!("last good frame written to {}", file.display());
            }
            bar.abandon();
            return Err(e.into());
        }
        if sim.step % d.thermo.every == 0 || sim.step == steps {
            let t = sim.thermo();
            thermo.write(&t)?;
            bar.set_message(format!("T = {:.4}  E = {:.6}", t.temp, t.etotal));
        }
        if let Some((w, every, _)) = &mut trajectory {
            if sim.step % *every == 0 {
                w.write(&current_frame(&sim))?;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let atoms = sim.system.len();
    log::info!(
        "{steps} steps of {atoms} atoms in {seconds:.3} s: {:.4} µs/atom-step, {} neighbour-list builds",
        1e6 * seconds / (atoms as f64 * steps.max(1) as f64),
        sim.neighbors.builds()
    );
    Ok(RunSummary {
        atoms,
        steps,
        seconds,
        thermo_file,
        neighbor_builds: sim.neighbors.builds(),
    })
}
