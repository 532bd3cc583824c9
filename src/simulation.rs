//! The MD loop: system → neighbour list → potential → integrator → observers. One step is
//! `initial_integrate`, list update, one force call, `final_integrate`. The loop gives its
//! state as plain data (`state`): the thermo row, and a snapshot it can be restored from.

use crate::integrate::Integrator;
use crate::neighbors::NeighborList;
use crate::potential::{ForceOutput, Potential};
use crate::state::{Snapshot, Thermo};
use crate::system::System;
use glam::DVec3;
use rayon::prelude::*;

/// Why a run stopped early. Atoms are named by their 1-based index, as in the trajectory.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The forces or the potential energy are not finite, or a force exceeds the limit.
    #[error("step {step}: the simulation blew up: {what} (worst atom {}, |F| = {force:e}); the last good state, step {}, is kept", atom + 1, step.saturating_sub(1))]
    BlowUp {
        step: u64,
        what: String,
        atom: usize,
        force: f64,
    },
    /// A position, a velocity or the kinetic energy is not finite, or an atom moved farther
    /// in one step than the limit: motion no integrator can mean.
    #[error("step {step}: the simulation blew up: {what} (worst atom {}); the last good state, step {}, is kept", atom + 1, step.saturating_sub(1))]
    Motion {
        step: u64,
        what: String,
        atom: usize,
    },
}

/// A system advancing in time under one potential and one integrator. The fields are
/// private so that they stay consistent: the neighbour list and the forces always belong to
/// the current positions, and the step and the time advance together.
pub struct Simulation {
    system: System,
    potential: Box<dyn Potential>,
    integrator: Box<dyn Integrator>,
    neighbors: NeighborList,
    /// Forces, energy and virial of the current positions.
    forces: ForceOutput,
    step: u64,
    time: f64,
    /// Largest force magnitude tolerated before the run stops (energy per length).
    force_limit: f64,
    /// Largest distance an atom may move in one step before the run stops (length).
    max_displacement: f64,
    /// Positions and velocities before the step under way.
    last_good: (Vec<DVec3>, Vec<DVec3>),
    /// The cell before the step under way (a barostat changes it).
    last_good_cell: crate::cell::Cell,
    /// Whether the run may change the cell (a barostat or a relaxing cell in some stage),
    /// so that a checkpoint with another cell than the deck's is accepted.
    cell_free: bool,
}

/// `dst ← src` for large arrays, in parallel.
fn copy_parallel(dst: &mut Vec<DVec3>, src: &[DVec3]) {
    dst.resize(src.len(), DVec3::ZERO);
    dst.par_chunks_mut(8192)
        .zip(src.par_chunks(8192))
        .for_each(|(d, s)| d.copy_from_slice(s));
}

/// A length for a message: four decimals, or the exponent form when large.
fn short(x: f64) -> String {
    if x < 1e6 {
        format!("{x:.4}")
    } else {
        format!("{x:.4e}")
    }
}

/// The first vector with a non-finite component.
fn first_non_finite(v: &[DVec3]) -> Option<usize> {
    v.par_iter()
        .with_min_len(4096)
        .position_first(|x| !x.is_finite())
}

/// The largest squared distance between `a[i]` and `b[i]`, and its `i`.
fn farthest(a: &[DVec3], b: &[DVec3]) -> (f64, usize) {
    a.par_iter()
        .zip(b.par_iter())
        .with_min_len(4096)
        .enumerate()
        .map(|(i, (a, b))| ((*b - *a).length_squared(), i))
        .reduce(|| (0.0, 0), |x, y| if y.0 > x.0 { y } else { x })
}

impl Simulation {
    /// Sets up the run and evaluates the initial forces.
    pub fn new(
        mut system: System,
        potential: Box<dyn Potential>,
        integrator: Box<dyn Integrator>,
        skin: f64,
    ) -> Simulation {
        let mut neighbors = NeighborList::new(potential.list_kind(), potential.cutoff(), skin);
        neighbors.rebuild(&mut system);
        let mut forces = ForceOutput::new(system.len());
        potential.compute(&system, &neighbors, &mut forces);
        Simulation {
            system,
            potential,
            integrator,
            neighbors,
            forces,
            step: 0,
            time: 0.0,
            force_limit: f64::INFINITY,
            max_displacement: f64::INFINITY,
            last_good: (Vec::new(), Vec::new()),
            last_good_cell: crate::cell::Cell::vacuum(),
            cell_free: false,
        }
    }

    /// Lets a restart take the checkpoint's cell, for runs whose cell changes.
    pub fn set_cell_free(&mut self, free: bool) {
        self.cell_free = free;
    }

    /// Relaxes positions (and the cell, if asked) by energy minimisation; the forces then
    /// belong to the relaxed state. `observe` sees every iteration.
    pub fn minimize(
        &mut self,
        settings: &crate::minimize::MinimizeSettings,
        observe: &mut dyn FnMut(&crate::minimize::Iteration) -> anyhow::Result<()>,
    ) -> Result<crate::minimize::MinimizeReport, crate::minimize::MinimizeError> {
        let report = crate::minimize::minimize(
            &mut self.system,
            self.potential.as_ref(),
            &mut self.neighbors,
            settings,
            observe,
        )?;
        self.forces = report.forces.clone();
        Ok(report)
    }

    /// Replaces the integrator (the next stage of a deck), keeping atoms and forces;
    /// returns the one it replaces.
    pub fn set_integrator(&mut self, integrator: Box<dyn Integrator>) -> Box<dyn Integrator> {
        std::mem::replace(&mut self.integrator, integrator)
    }

    /// The atoms, their cell and their state now.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Forces, energy and virial of the current positions.
    pub fn forces(&self) -> &ForceOutput {
        &self.forces
    }

    /// The neighbour list of the current positions.
    pub fn neighbors(&self) -> &NeighborList {
        &self.neighbors
    }

    /// The force field.
    pub fn potential(&self) -> &dyn Potential {
        self.potential.as_ref()
    }

    /// The integrator and its state.
    pub fn integrator(&self) -> &dyn Integrator {
        self.integrator.as_ref()
    }

    /// Steps done since the start of the run, counting those before a restart
    /// ([`Simulation::step`] advances one).
    pub fn current_step(&self) -> u64 {
        self.step
    }

    /// Simulated time since the start of the run.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// Largest force magnitude tolerated before the run stops (energy per length).
    pub fn force_limit(&self) -> f64 {
        self.force_limit
    }

    /// Sets the largest force magnitude tolerated (infinite by default).
    pub fn set_force_limit(&mut self, limit: f64) {
        self.force_limit = limit;
    }

    /// Largest distance an atom may move in one step before the run stops (length).
    pub fn max_displacement(&self) -> f64 {
        self.max_displacement
    }

    /// Sets the largest distance an atom may move in one step (infinite by default; decks
    /// default to the neighbour skin, see `deck::max_displacement`).
    pub fn set_max_displacement(&mut self, limit: f64) {
        self.max_displacement = limit;
    }

    /// Recomputes forces for the current positions (updating the list if needed).
    pub fn compute_forces(&mut self) {
        self.neighbors.update(&mut self.system);
        self.forces.reset(self.system.len());
        self.potential
            .compute(&self.system, &self.neighbors, &mut self.forces);
    }

    /// Advances one timestep. If the motion or the forces blow up (see [`RunError`]), stops
    /// with an error and puts back the positions and velocities of the last good step, so
    /// that they can be saved.
    pub fn step(&mut self) -> Result<(), RunError> {
        copy_parallel(&mut self.last_good.0, &self.system.positions);
        copy_parallel(&mut self.last_good.1, &self.system.velocities);
        self.last_good_cell = self.system.cell;
        let next = self.step + 1;
        self.integrator
            .initial_integrate(&mut self.system, &self.forces);
        // checked before the list sees the positions: non-finite ones cannot be binned
        if let Err(e) = self.check_motion(next) {
            return Err(self.undo(e));
        }
        self.compute_forces();
        if let Err(e) = self.check(next) {
            return Err(self.undo(e));
        }
        self.integrator
            .final_integrate(&mut self.system, &self.forces);
        if let Err(e) = self.check_velocities(next) {
            return Err(self.undo(e));
        }
        self.step += 1;
        self.time += self.integrator.timestep();
        Ok(())
    }

    /// Puts back the positions and velocities of the last good step and their forces.
    fn undo(&mut self, e: RunError) -> RunError {
        std::mem::swap(&mut self.system.positions, &mut self.last_good.0);
        std::mem::swap(&mut self.system.velocities, &mut self.last_good.1);
        self.system.cell = self.last_good_cell;
        self.compute_forces();
        e
    }

    /// After the drift: every velocity and position finite, and no atom moved farther than
    /// `max_displacement` since the last good step.
    fn check_motion(&self, step: u64) -> Result<(), RunError> {
        let motion = |what: String, atom| Err(RunError::Motion { step, what, atom });
        if let Some(atom) = first_non_finite(&self.system.velocities) {
            let v = self.system.velocities[atom];
            return motion(format!("a velocity is not finite: {v}"), atom);
        }
        if let Some(atom) = first_non_finite(&self.system.positions) {
            let r = self.system.positions[atom];
            return motion(format!("a position is not finite: {r}"), atom);
        }
        if self.max_displacement.is_finite() {
            let (d2, atom) = farthest(&self.last_good.0, &self.system.positions);
            if d2 > self.max_displacement * self.max_displacement {
                let what = format!(
                    "an atom moved {} in one step, more than integrator.max_displacement = {}",
                    short(d2.sqrt()),
                    self.max_displacement
                );
                return motion(what, atom);
            }
        }
        Ok(())
    }

    /// After the last kick: every velocity finite and the kinetic energy finite.
    fn check_velocities(&self, step: u64) -> Result<(), RunError> {
        let v = &self.system.velocities;
        if let Some(atom) = first_non_finite(v) {
            let what = format!("a velocity is not finite: {}", v[atom]);
            return Err(RunError::Motion { step, what, atom });
        }
        let ke = self.system.kinetic_energy();
        if !ke.is_finite() {
            let zero = vec![DVec3::ZERO; v.len()];
            let (_, atom) = farthest(&zero, v);
            let what = format!("the kinetic energy is {ke}");
            return Err(RunError::Motion { step, what, atom });
        }
        Ok(())
    }

    fn check(&self, step: u64) -> Result<(), RunError> {
        let (fmax, atom) = self.forces.max_force();
        let what = if !self.forces.energy.is_finite() {
            format!("the potential energy is {}", self.forces.energy)
        } else if !fmax.is_finite() {
            "a force is not finite".to_string()
        } else if fmax > self.force_limit {
            format!("a force exceeds the limit {}", self.force_limit)
        } else {
            return Ok(());
        };
        Err(RunError::BlowUp {
            step,
            what,
            atom,
            force: fmax,
        })
    }

    /// Kinetic degrees of freedom, 3N − 3 under every integrator (the Langevin
    /// thermostat's kicks sum to zero, so no integrator changes the total momentum).
    pub fn degrees_of_freedom(&self) -> f64 {
        self.system.degrees_of_freedom()
    }

    /// Checks the current forces: an error names the atom with the largest force if any
    /// is not finite or beyond `force_limit`.
    pub fn check_forces(&self) -> Result<(), RunError> {
        self.check(self.step)
    }

    /// Checks the current velocities: an error names the atom if a velocity or the kinetic
    /// energy is not finite.
    pub fn check_velocities_now(&self) -> Result<(), RunError> {
        self.check_velocities(self.step)
    }

    /// Thermodynamic state now.
    pub fn thermo(&self) -> Thermo {
        let pe = self.forces.energy;
        let ke = self.system.kinetic_energy();
        Thermo {
            step: self.step,
            time: self.time,
            pe,
            ke,
            etotal: pe + ke,
            temp: self.system.temperature_with_dof(self.degrees_of_freedom()),
            press: self.system.pressure(&self.forces.virial),
            conserved: pe + ke + self.integrator.reservoir_energy(&self.system),
            volume: self.system.cell.volume(),
            dipole: self.forces.dipole,
        }
    }

    /// The full state now, as plain data for a checkpoint.
    pub fn snapshot(&self) -> Snapshot {
        let s = &self.system;
        Snapshot {
            step: self.step,
            time: self.time,
            units: s.units,
            cell: s.cell.matrix(),
            pbc: s.cell.pbc(),
            species_names: s.species_names.clone(),
            species_masses: s.species_masses.clone(),
            species: s.species.clone(),
            positions: s.positions.clone(),
            velocities: s.velocities.clone(),
            neighbor_reference: self.neighbors.reference_positions().to_vec(),
            neighbor_cell: self.neighbors.reference_cell(),
            stage: 0,
            integrator: self.integrator.state(),
            potential_energy: self.forces.energy,
            settings: Vec::new(),
        }
    }

    /// Puts the simulation back in the state of `c`: the atoms, the integrator's state and
    /// the neighbour list exactly as they were, then the forces, so that the run goes on bit
    /// for bit (with the same number of threads). Refuses a checkpoint of another system
    /// (units, species, atoms, masses, cell) or of another integrator, naming what differs.
    pub fn restore(&mut self, c: &Snapshot) -> Result<(), String> {
        let s = &mut self.system;
        if c.units != s.units {
            return Err(format!(
                "the checkpoint is in {} units, the deck in {}",
                c.units.name(),
                s.units.name()
            ));
        }
        if c.species_names != s.species_names || c.positions.len() != s.len() {
            return Err(format!(
                "the checkpoint holds {} atoms of species [{}]; the deck builds {} atoms of [{}]",
                c.positions.len(),
                c.species_names.join(", "),
                s.len(),
                s.species_names.join(", ")
            ));
        }
        if c.species_masses != s.species_masses {
            return Err(format!(
                "the checkpoint's masses [{}] differ from the deck's [{}]",
                join(&c.species_masses),
                join(&s.species_masses)
            ));
        }
        let cell_differs = c.cell != s.cell.matrix();
        if c.pbc != s.cell.pbc() || (cell_differs && !self.cell_free) {
            return Err(format!(
                "the checkpoint's cell {:?} (periodic {:?}) differs from the deck's {:?} ({:?})",
                c.cell.to_cols_array(),
                c.pbc,
                s.cell.matrix().to_cols_array(),
                s.cell.pbc()
            ));
        }
        self.integrator.restore(&c.integrator).map_err(|e| {
            format!(
                "{e}: the checkpoint was written under another integrator or thermostat than \
                 this deck's {}",
                self.integrator.name()
            )
        })?;
        let s = &mut self.system;
        if cell_differs {
            s.cell = crate::cell::Cell::from_matrix(c.cell, c.pbc)
                .map_err(|e| format!("the checkpoint's cell: {e}"))?;
        }
        s.species = c.species.clone();
        s.positions = c.positions.clone();
        s.velocities = c.velocities.clone();
        self.neighbors
            .rebuild_from_reference(&self.system, &c.neighbor_reference, c.neighbor_cell);
        self.forces.reset(self.system.len());
        self.potential
            .compute(&self.system, &self.neighbors, &mut self.forces);
        let (now, then) = (self.forces.energy, c.potential_energy);
        if then.is_finite() && (now - then).abs() > 1e-9 * now.abs().max(then.abs()) {
            return Err(format!(
                "the potential gives energy {now} at the checkpoint's positions where the run \
                 that wrote it had {then}: the deck's potential ({}) is not that run's",
                self.potential.name()
            ));
        }
        self.step = c.step;
        self.time = c.time;
        Ok(())
    }
}

/// Numbers as a comma-separated list for messages.
fn join(values: &[f64]) -> String {
    values
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
