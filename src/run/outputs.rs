//! What a run leaves on disk: the thermo log, trajectories and checkpoints, opened for a
//! new run or appended to when a run is restarted, and flushed as they are written.

use crate::deck::{H5mdField, LoadedDeck};
use crate::io::checkpoint;
use crate::io::extxyz::{self, ExtxyzWriter, Frame};
use crate::io::guard::{check_outputs, NamedPath};
use crate::io::h5md::{H5mdFields, H5mdWriter};
use crate::io::thermo::{Columns, ThermoLog};
use crate::simulation::Simulation;
use crate::state::Snapshot;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// The frame to write to an extended-XYZ trajectory: positions, velocities and forces now.
pub fn current_frame(sim: &Simulation) -> Frame {
    let s = sim.system();
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
    // ASE reads velocities only as `momenta`, in its own units
    let scale = s.units.ase_time();
    let momenta: Vec<_> = (0..s.len())
        .map(|i| s.velocities[i] * (s.mass(i) * scale))
        .collect();
    frame.set_vector_array("momenta", &momenta);
    frame.set_forces(&sim.forces().forces);
    if s.cell.pbc() == [true; 3] {
        // ASE's stress: (1/V) ∂E/∂ε = −W/V, the potential's part, in energy per volume
        frame.set_stress(sim.forces().virial * (-1.0 / s.cell.volume()));
    }
    let info = &mut frame.info;
    info.insert(
        "energy".into(),
        extxyz::InfoValue::Float(sim.forces().energy),
    );
    info.insert(
        "step".into(),
        extxyz::InfoValue::Int(sim.current_step() as i64),
    );
    info.insert("time".into(), extxyz::InfoValue::Float(sim.time()));
    frame
}

/// Cuts an extended-XYZ trajectory after its last frame at or before step `upto`, so that
/// a restarted run continues it without repeating frames; the bytes it keeps are not
/// rewritten, and a last frame a killed run left half written goes too. Refuses a file
/// whose frames hold other atoms than the run's (a trajectory of another run).
fn truncate_extxyz(path: &Path, upto: u64, sim: &Simulation) -> Result<(), String> {
    if !path.exists() {
        return Ok(());
    }
    let (frames, cut_off) = extxyz::read_file_with_offsets(path).map_err(|e| e.to_string())?;
    let s = sim.system();
    for (k, (f, _)) in frames.iter().enumerate() {
        let same = f.symbols.len() == s.len()
            && f.symbols
                .iter()
                .zip(&s.species)
                .all(|(a, &b)| *a == s.species_names[b]);
        if !same {
            return Err(format!(
                "{}: frame {} holds {} atoms that are not this run's {} (another run's trajectory?); \
                 name another file or remove it",
                path.display(),
                k + 1,
                f.symbols.len(),
                s.len()
            ));
        }
    }
    let keep = frames
        .iter()
        .take_while(|(f, _)| match f.info.get("step") {
            Some(extxyz::InfoValue::Int(s)) => *s as u64 <= upto,
            _ => true,
        })
        .count();
    if let Some(offset) = frames.get(keep).map(|(_, o)| *o).or(cut_off) {
        if keep == frames.len() {
            log::info!(
                "{}: its last frame was cut off while it was written; it is dropped",
                path.display()
            );
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(offset));
        file.map_err(|e| format!("cannot cut {} after step {upto}: {e}", path.display()))?;
    }
    Ok(())
}

/// Every file a run writes, keyed as the deck names it: the thermo log (default
/// `<deck>.thermo.csv`), the trajectories the deck asks for and the checkpoint (default
/// `<deck>.checkpoint`), relative paths under `output_dir` or the deck's folder.
pub fn output_files(deck: &LoadedDeck, output_dir: Option<&Path>) -> Vec<NamedPath> {
    let d = &deck.deck;
    let thermo = d
        .thermo
        .file
        .clone()
        .unwrap_or_else(|| format!("{}.thermo.csv", deck.stem()));
    let checkpoint = d
        .checkpoint
        .file
        .clone()
        .unwrap_or_else(|| format!("{}.checkpoint", deck.stem()));
    let mut files = vec![NamedPath::new(
        "thermo.file",
        output_path(deck, output_dir, &thermo),
    )];
    if let Some(t) = &d.trajectory {
        files.push(NamedPath::new(
            "trajectory.file",
            output_path(deck, output_dir, &t.file),
        ));
    }
    if let Some(h) = &d.h5md {
        files.push(NamedPath::new(
            "h5md.file",
            output_path(deck, output_dir, &h.file),
        ));
    }
    files.push(NamedPath::new(
        "checkpoint.file",
        output_path(deck, output_dir, &checkpoint),
    ));
    files
}

/// Every output file of a run and when each is written.
pub struct Outputs {
    pub thermo_file: PathBuf,
    thermo: ThermoLog,
    thermo_every: u64,
    trajectory: Option<(ExtxyzWriter, u64, PathBuf)>,
    h5md: Option<(H5mdWriter, u64, PathBuf)>,
    checkpoint_file: PathBuf,
    checkpoint_every: u64,
    /// The dynamics settings of the stage under way, recorded in every checkpoint.
    settings: Vec<(String, String)>,
    /// The stage checkpoints record (the one under way, or the next after a finished
    /// minimisation).
    stage: u64,
    /// Wall time spent writing, to report what output costs.
    pub seconds: f64,
}

/// A path from the deck for an output: absolute as given, else under `output_dir` (or the
/// deck's folder).
pub fn output_path(deck: &LoadedDeck, output_dir: Option<&Path>, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match output_dir {
        Some(dir) => dir.join(p),
        None => deck.resolve(file),
    }
}

impl Outputs {
    /// Opens the outputs the deck asks for, after checking that none of them is an input,
    /// another output or a special file; `restart` (the checkpoint read) continues
    /// existing files. Checkpoints record `settings` (the deck's dynamics settings); the
    /// thermo log has a volume column if `cell_changes`.
    pub fn open(
        deck: &LoadedDeck,
        output_dir: Option<&Path>,
        echo: bool,
        restart: Option<&Path>,
        sim: &Simulation,
        settings: Vec<(String, String)>,
        cell_changes: bool,
    ) -> anyhow::Result<Outputs> {
        let d = &deck.deck;
        let append = restart.is_some();
        if d.thermo.every == 0 {
            return Err(deck.error("thermo.every", "must be at least 1").into());
        }
        let paths = output_files(deck, output_dir);
        let mut inputs = crate::deck::input_files(deck);
        if let Some(r) = restart {
            inputs.push(NamedPath::new("--restart", r));
        }
        check_outputs(&paths, &inputs, &[("checkpoint.file", "--restart")])
            .map_err(|r| deck.error(&r.key, r.message))?;
        for p in &paths {
            match p.path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the folder {}", dir.display()))?,
                _ => {}
            }
        }
        let path_of = |key: &str| {
            paths
                .iter()
                .find(|p| p.key == key)
                .map(|p| p.path.clone())
                .expect("every output has a path")
        };
        let trajectory = match &d.trajectory {
            Some(t) => {
                if t.every == 0 {
                    return Err(deck.error("trajectory.every", "must be at least 1").into());
                }
                let file = path_of("trajectory.file");
                let w = if append {
                    truncate_extxyz(&file, sim.current_step(), sim)
                        .map_err(|m| deck.error("trajectory.file", m))?;
                    ExtxyzWriter::append(&file)
                } else {
                    ExtxyzWriter::create(&file)
                }
                .with_context(|| format!("cannot write trajectory {}", file.display()))?;
                Some((w, t.every, file))
            }
            None => None,
        };
        let h5md = match &d.h5md {
            Some(h) => {
                if h.every == 0 {
                    return Err(deck.error("h5md.every", "must be at least 1").into());
                }
                let file = path_of("h5md.file");
                let fields = H5mdFields {
                    position: h.fields.contains(&H5mdField::Position),
                    velocity: h.fields.contains(&H5mdField::Velocity),
                    force: h.fields.contains(&H5mdField::Force),
                    dipole: sim.forces().dipole.is_some(),
                };
                if !fields.position {
                    return Err(deck
                        .error("h5md.fields", "must include \"position\"")
                        .into());
                }
                let w = if append && file.exists() {
                    H5mdWriter::append(&file, sim.system(), sim.current_step())?
                } else {
                    H5mdWriter::create(&file, sim.system(), fields)?
                };
                Some((w, h.every, file))
            }
            None => None,
        };
        // the thermo log last: a trajectory that cannot be continued leaves it untouched
        let thermo_file = path_of("thermo.file");
        let columns = Columns {
            volume: cell_changes,
            dipole: sim.forces().dipole.is_some(),
        };
        let thermo = if append {
            ThermoLog::append(&thermo_file, echo, sim.current_step(), columns)
        } else {
            ThermoLog::create(&thermo_file, echo, columns)
        }
        .with_context(|| format!("cannot write thermo file {}", thermo_file.display()))?;
        let units = sim.system().units;
        let thermo = if d.thermo.norm.unwrap_or(units == crate::units::Units::Lj) {
            thermo.per_atom(sim.system().len())
        } else {
            thermo
        };
        Ok(Outputs {
            thermo_file,
            thermo,
            thermo_every: d.thermo.every,
            trajectory,
            h5md,
            checkpoint_file: path_of("checkpoint.file"),
            checkpoint_every: d.checkpoint.every,
            settings,
            stage: 0,
            seconds: 0.0,
        })
    }

    /// The stage, and its settings, that checkpoints record from now on.
    pub fn set_stage(&mut self, stage: u64, settings: Vec<(String, String)>) {
        self.stage = stage;
        self.settings = settings;
    }

    /// At a restart, writes the thermo row of the restart step if it is due and the log
    /// lost it (a row cut short by a kill is dropped): the log then reads as an
    /// uninterrupted run's.
    pub fn restore_thermo_row(&mut self, sim: &Simulation) -> anyhow::Result<()> {
        let step = sim.current_step();
        let lost = self.thermo.last_step().is_none_or(|last| last < step);
        if lost && step % self.thermo_every == 0 {
            self.thermo.write(&sim.thermo())?;
        }
        Ok(())
    }

    /// Writes a thermo row and a frame to every trajectory now, whatever the cadence: the
    /// structure a minimisation leaves.
    pub fn write_now(&mut self, sim: &Simulation) -> anyhow::Result<()> {
        self.thermo.write(&sim.thermo())?;
        if let Some((w, _, file)) = &mut self.trajectory {
            w.write(&current_frame(sim))
                .with_context(|| format!("cannot write trajectory {}", file.display()))?;
        }
        if let Some((w, _, _)) = &mut self.h5md {
            let thermo = sim.thermo();
            let s = sim.system();
            w.write(
                sim.current_step(),
                sim.time(),
                s,
                &sim.forces().forces,
                &thermo,
            )?;
        }
        Ok(())
    }

    /// Writes whatever is due at the current step (`last` forces thermo and checkpoint).
    pub fn observe(&mut self, sim: &Simulation, first: bool, last: bool) -> anyhow::Result<()> {
        let start = std::time::Instant::now();
        let result = self.write_due(sim, first, last);
        self.seconds += start.elapsed().as_secs_f64();
        result
    }

    fn write_due(&mut self, sim: &Simulation, first: bool, last: bool) -> anyhow::Result<()> {
        let step = sim.current_step();
        if first || last || step % self.thermo_every == 0 {
            self.thermo.write(&sim.thermo())?;
        }
        if let Some((w, every, file)) = &mut self.trajectory {
            if first || step % *every == 0 {
                w.write(&current_frame(sim))
                    .with_context(|| format!("cannot write trajectory {}", file.display()))?;
            }
        }
        if let Some((w, every, _)) = &mut self.h5md {
            if first || step % *every == 0 {
                w.write(
                    step,
                    sim.time(),
                    sim.system(),
                    &sim.forces().forces,
                    &sim.thermo(),
                )?;
            }
        }
        let due = self.checkpoint_every > 0 && step % self.checkpoint_every == 0 && !first;
        if last || due {
            self.save_checkpoint(sim)?;
        }
        Ok(())
    }

    /// Saves the state as it is now, after a blow-up: the last good frame to the
    /// trajectories and a checkpoint. Returns the checkpoint's path.
    pub fn save_state(&mut self, sim: &Simulation) -> anyhow::Result<PathBuf> {
        if let Some((w, _, file)) = &mut self.trajectory {
            w.write(&current_frame(sim))?;
            log::info!("last good frame written to {}", file.display());
        }
        if let Some((w, _, file)) = &mut self.h5md {
            let thermo = sim.thermo();
            w.write(
                sim.current_step(),
                sim.time(),
                sim.system(),
                &sim.forces().forces,
                &thermo,
            )?;
            log::info!("last good frame written to {}", file.display());
        }
        self.save_checkpoint(sim)
    }

    /// Writes a checkpoint of the state as it is now, with the deck's settings; returns
    /// its path.
    pub fn save_checkpoint(&self, sim: &Simulation) -> anyhow::Result<PathBuf> {
        let c = Snapshot {
            settings: self.settings.clone(),
            stage: self.stage,
            ..sim.snapshot()
        };
        checkpoint::write(&c, &self.checkpoint_file).with_context(|| {
            format!("cannot write checkpoint {}", self.checkpoint_file.display())
        })?;
        Ok(self.checkpoint_file.clone())
    }
}
