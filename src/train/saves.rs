//! When a training run writes its files. The best model and the checkpoint are written at
//! most once per `output.checkpoint_seconds` of training, after the last epoch, and when
//! the run stops on a signal or an error: a run of short epochs then trains rather than
//! encodes and writes, and a stopped run still leaves the last epoch it finished, whole.
//! SIGINT or SIGTERM stops a run between two batches (a second one at once).

use super::state::TrainState;
use crate::potential::equivariant::file;
use crate::potential::equivariant::model::Model;
use anyhow::Context;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The files of a training run and what of them is not yet written.
pub struct Saves<'a> {
    every: Duration,
    last: Instant,
    model_path: &'a Path,
    checkpoint: &'a Path,
    /// The best moving-average model since the last write.
    best: Option<Model>,
    /// The last finished epoch's state and model, when not yet written.
    pending: Option<(TrainState, Model)>,
}

impl<'a> Saves<'a> {
    /// Writes the best model to `model_path` and the checkpoint to `checkpoint`, at most once
    /// per `every_seconds` (0: after every epoch).
    pub fn new(every_seconds: f64, model_path: &'a Path, checkpoint: &'a Path) -> Saves<'a> {
        Saves {
            // beyond what a Duration holds: never due (checked decks give no negative or NaN)
            every: Duration::try_from_secs_f64(every_seconds).unwrap_or(Duration::MAX),
            last: Instant::now(),
            model_path,
            checkpoint,
            best: None,
            pending: None,
        }
    }

    /// Remembers the model of an epoch that validated better than any before.
    pub fn improved(&mut self, averaged: &Model) {
        self.best = Some(averaged.clone());
    }

    /// After an epoch: writes the files when they are due, or else keeps a copy of the
    /// epoch's state and model to write later.
    pub fn finished(&mut self, state: &TrainState, model: &Model) -> anyhow::Result<()> {
        self.pending = None;
        if self.last.elapsed() >= self.every {
            self.write(state, model)
        } else {
            self.pending = Some((state.clone(), model.clone()));
            Ok(())
        }
    }

    /// Writes what is not yet written: the run ends (dropping it flushes too: the run stops).
    pub fn flush(&mut self) -> anyhow::Result<()> {
        match self.pending.take() {
            Some((state, model)) => self.write(&state, &model),
            None => self.write_best(),
        }
    }

    fn write(&mut self, state: &TrainState, model: &Model) -> anyhow::Result<()> {
        self.write_best()?;
        state.save(model, self.checkpoint)?;
        self.last = Instant::now();
        Ok(())
    }

    fn write_best(&mut self) -> anyhow::Result<()> {
        if let Some(best) = self.best.take() {
            file::save(&best, self.model_path)?;
        }
        Ok(())
    }
}

impl Drop for Saves<'_> {
    /// A run that stops on an error still leaves its last whole epoch.
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            log::error!("{e:#}");
        }
    }
}

/// SIGINT and SIGTERM during training, caught once per process: the first sets a flag the
/// loop reads between batches, a second ends the process at once.
pub struct Signals(Arc<AtomicBool>);

impl Signals {
    /// Installs the handlers, the first time only.
    pub fn install() -> anyhow::Result<Signals> {
        static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
        if let Some(flag) = FLAG.get() {
            return Ok(Signals(Arc::clone(flag)));
        }
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag))
                .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&flag)))
                .context("cannot install the signal handlers")?;
        }
        Ok(Signals(Arc::clone(FLAG.get_or_init(|| flag))))
    }

    /// An error once a signal came, in epoch `epoch` with `done` epochs finished.
    pub fn check(&self, epoch: usize, done: usize, checkpoint: &Path) -> anyhow::Result<()> {
        if !self.0.load(Ordering::Relaxed) {
            return Ok(());
        }
        if done == 0 {
            anyhow::bail!("interrupted in epoch {epoch}, before any epoch finished");
        }
        anyhow::bail!(
            "interrupted in epoch {epoch}: the checkpoint {} holds epoch {done}, from which \
             `--resume` continues",
            checkpoint.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::config::OptimizerSection;
    use crate::train::optimizer::Schedule;

    #[test]
    fn files_are_written_when_due_and_what_is_pending_when_flushed_or_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/potentials/random-hco-l1.h5");
        let model = file::load(Path::new(shipped)).unwrap();
        let opt = OptimizerSection::default();
        let mut state = TrainState::fresh(model.trainable(), &opt, Schedule::Constant, 9);
        let (best, ckpt) = (dir.path().join("best.h5"), dir.path().join("run.ckpt"));
        let epoch = |state: &mut TrainState, k: usize| {
            state.epoch = k;
            state.elapsed = k as f64;
        };
        // beyond any Duration: no panic, never due (written when dropped)
        let never = dir.path().join("never.ckpt");
        let mut saves = Saves::new(1e300, &best, &never);
        saves.finished(&state, &model).unwrap();
        assert!(!never.exists());
        drop(saves);
        assert!(never.exists());
        // an hour apart: nothing is written until the flush, which writes the last epoch
        let mut saves = Saves::new(3600.0, &best, &ckpt);
        for k in 1..=3 {
            epoch(&mut state, k);
            if k == 2 {
                saves.improved(&model);
            }
            saves.finished(&state, &model).unwrap();
            assert!(!ckpt.exists() && !best.exists(), "epoch {k}");
        }
        saves.flush().unwrap();
        assert_eq!(TrainState::load(&ckpt).unwrap().0, state);
        assert_eq!(file::load(&best).unwrap(), model);
        // dropped (a run stopped by an error): the pending epoch is written too
        epoch(&mut state, 4);
        saves.finished(&state, &model).unwrap();
        drop(saves);
        assert_eq!(TrainState::load(&ckpt).unwrap().0.epoch, 4);
        // 0 s: every epoch
        let mut saves = Saves::new(0.0, &best, &ckpt);
        epoch(&mut state, 5);
        saves.finished(&state, &model).unwrap();
        assert_eq!(TrainState::load(&ckpt).unwrap().0.epoch, 5);
    }
}
