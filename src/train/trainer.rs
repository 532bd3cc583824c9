//! The training loop: mini-batches of frames in parallel, Adam on the exact gradient of
//! the loss, a moving average of the weights that is what gets validated and saved, the
//! learning-rate schedule, early stopping, the checkpoint ([`Saves`] says when).

use super::check::{check, shape_differences};
use super::config::{LossSection, TrainDeck};
use super::data::{
    augment_seed, average_neighbors, energy_shift, fingerprint, force_rms, frame_rotation,
    load_samples, rotate_sample, species_of, split,
};
use super::loss::{batch_gradient, frame_errors, FrameErrors, LossWeights, Sample};
use super::metrics::{csv_row, open_csv, Summary};
use super::optimizer::{clip_norm, update_average, weight_decay, Schedule, WEIGHTS_PER_BLOCK};
use super::saves::{Saves, Signals};
use super::state::{model_path, TrainState};
use crate::deck::LoadedDeck;
use crate::io::guard::{self, NamedPath};
use crate::potential::equivariant::file;
use crate::potential::equivariant::model::Model;
use crate::potential::equivariant::network::Evaluator;
use crate::potential::equivariant::parameters::ParameterLayout;
use crate::potential::equivariant::shape::{BlockKind, Shape};
use crate::potential::equivariant::widen::widen;
use crate::potential::Scratch;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The loss weights of a deck's loss section.
fn loss_weights(l: &LossSection) -> LossWeights {
    LossWeights {
        energy: l.energy,
        forces: l.forces,
        stress: l.stress,
        dipole: l.dipole,
    }
}

/// How many groups [`batch_groups`] makes of a batch of `frames` on `threads` threads: one
/// per thread, at most one per frame, at least one.
fn group_count(frames: usize, threads: usize) -> usize {
    threads.clamp(1, frames.max(1))
}

/// A batch split into at most `threads` groups of consecutive frames, as even as can be:
/// each group goes through one pass over its frames' merged graphs (longer matrix
/// products), and groups run in parallel. The gradient's rounding hence depends on the
/// thread count: a resumed run repeats a run bit for bit on as many threads.
fn batch_groups(batch: &[usize], threads: usize) -> Vec<&[usize]> {
    let groups = group_count(batch.len(), threads);
    let (base, extra) = (batch.len() / groups, batch.len() % groups);
    let mut rest = batch;
    (0..groups)
        .map(|k| {
            let (group, tail) = rest.split_at(base + usize::from(k < extra));
            rest = tail;
            group
        })
        .collect()
}

/// What a finished training reports.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Epochs done (counting those before a resume).
    pub epochs: usize,
    /// The epoch whose moving-average weights were saved.
    pub best_epoch: usize,
    /// Validation errors of the saved model.
    pub best: Summary,
    /// Seconds of training (counting those before a resume).
    pub seconds: f64,
    /// Where the model was written.
    pub model: PathBuf,
    /// Trainable weights.
    pub parameters: usize,
}

/// A training deck read and checked, with its data loaded.
pub struct Training {
    pub deck: LoadedDeck<TrainDeck>,
    /// Frames to train on and to validate on.
    pub train: Vec<Sample>,
    pub validation: Vec<Sample>,
    /// The model's species, in embedding order.
    pub species: Vec<String>,
    /// Replace an existing `output.model` when starting afresh (`eqmd train --force`);
    /// without it such a run is refused, so that no shipped model is lost by accident.
    pub overwrite: bool,
}

impl Training {
    /// Reads the deck (with `--set` overrides), checks it and loads and splits the data.
    pub fn load(path: &std::path::Path, overrides: &[String]) -> anyhow::Result<Training> {
        Training::from_deck(LoadedDeck::<TrainDeck>::load(path, overrides)?)
    }

    /// Checks a deck already read (perhaps changed since: errors are located in the file
    /// it was read from) and loads and splits the data.
    pub fn from_deck(deck: LoadedDeck<TrainDeck>) -> anyhow::Result<Training> {
        check(&deck)?;
        let d = &deck.deck;
        let data = deck.resolve(&d.data.file);
        let species = match &d.model.species {
            Some(s) => s.clone(),
            None => species_of(&data)?,
        };
        let all = load_samples(&data, &species, d.model.cutoff)?;
        if d.model.dipole.is_some() {
            if let Some(k) = all.iter().position(|s| s.dipole.is_none()) {
                let msg = format!(
                    "a dipole head is trained on dipoles, and {} frame {} has no `dipole`",
                    data.display(),
                    k + 1
                );
                return Err(deck.error("model.dipole", msg).into());
            }
        }
        let (train, validation) = match &d.data.validation_file {
            Some(v) => {
                let (t, _) = split(all.len(), d.data.train, 0, d.data.seed)
                    .map_err(|e| deck.error("data.train", e.to_string()))?;
                let vpath = deck.resolve(v);
                let mut val = load_samples(&vpath, &species, d.model.cutoff)?;
                if val.len() < d.data.validation {
                    return Err(deck
                        .error(
                            "data.validation",
                            format!("{} has only {} frames", vpath.display(), val.len()),
                        )
                        .into());
                }
                val.truncate(d.data.validation);
                (t.iter().map(|&k| all[k].clone()).collect(), val)
            }
            None => {
                let (t, v) = split(all.len(), d.data.train, d.data.validation, d.data.seed)
                    .map_err(|e| deck.error("data.train", e.to_string()))?;
                (
                    t.iter().map(|&k| all[k].clone()).collect(),
                    v.iter().map(|&k| all[k].clone()).collect(),
                )
            }
        };
        Ok(Training {
            deck,
            train,
            validation,
            species,
            overwrite: false,
        })
    }

    /// The initial model: the one `model.init` names, or random weights of the deck's
    /// shape, the average neighbour count of the training frames, scale = their force
    /// RMS, shift = least-squares per-species energies.
    pub fn initial_model(&self) -> anyhow::Result<Model> {
        let m = &self.deck.deck.model;
        let train: Vec<&Sample> = self.train.iter().collect();
        let hyper = m.hyper(self.species.clone(), average_neighbors(&train).max(1.0));
        if let Some(init) = &m.init {
            let path = self.deck.resolve(init);
            let mut model =
                file::load(&path).with_context(|| format!("model.init: {}", path.display()))?;
            let (c, l) = (model.hyper.channels, model.hyper.lmax);
            let narrower = c < m.channels || l < m.lmax;
            if m.widen && narrower {
                model = widen(&model, m.channels.max(c), m.lmax.max(l), m.seed).map_err(|e| {
                    self.deck
                        .error(&format!("model.{}", e.key()), e.to_string())
                })?;
            }
            let differ = shape_differences(&model.hyper, &hyper);
            if !differ.is_empty() {
                let hint = if narrower && !m.widen {
                    " (model.widen = true widens a file of fewer channels or a lower lmax)"
                } else {
                    ""
                };
                let msg = format!(
                    "{} does not have the deck's shape: {}{hint}",
                    path.display(),
                    differ.join(", ")
                );
                return Err(self.deck.error("model.init", msg).into());
            }
            return Ok(model);
        }
        // with the data's species the weights may pass the bound a deck alone could not tell
        let shape = Shape::new(hyper).map_err(|e| {
            self.deck
                .error(&format!("model.{}", e.key()), e.to_string())
        })?;
        let mut model = Model::random_of(&shape, m.seed);
        let scale = force_rms(&train);
        model.scale = vec![if scale > 0.0 { scale } else { 1.0 }; self.species.len()];
        model.shift = energy_shift(&train, self.species.len());
        Ok(model)
    }

    /// Refuses a checkpoint made on another model shape or another split of the frames
    /// than the deck's: resuming continues one run exactly, it never mixes two.
    fn check_resume(
        &self,
        checkpoint: &Path,
        state: &TrainState,
        model: &Model,
        data: u64,
    ) -> anyhow::Result<()> {
        let m = &self.deck.deck.model;
        let deck = m.hyper(self.species.clone(), model.hyper.avg_neighbors);
        let differ = shape_differences(&model.hyper, &deck);
        if !differ.is_empty() {
            let msg = format!(
                "the checkpoint {} holds a model of another shape than the deck's ({}): \
                 --resume continues the run that made it, with the same [model]",
                checkpoint.display(),
                differ.join(", ")
            );
            return Err(self.deck.error("model", msg).into());
        }
        if state.data.is_some_and(|d| d != data) {
            let msg = format!(
                "the checkpoint {} was trained on other frames than the deck's split (the \
                 file, data.train, data.validation or data.seed changed): --resume continues \
                 the run that made it, on the same frames",
                checkpoint.display()
            );
            return Err(self.deck.error("data", msg).into());
        }
        Ok(())
    }

    /// The loss weights of stage one, or of stage two once it has begun.
    fn weights_of(&self, stage_two: bool) -> LossWeights {
        let d = &self.deck.deck;
        match (&d.stage_two, stage_two) {
            (Some(s), true) => loss_weights(&s.loss(&d.loss)),
            _ => loss_weights(&d.loss),
        }
    }

    /// Path of an output, resolved against the deck, defaulting to the model path with
    /// another extension.
    fn output(&self, given: &Option<String>, ext: &str) -> PathBuf {
        match given {
            Some(p) => self.deck.resolve(p),
            None => self
                .deck
                .resolve(&self.deck.deck.output.model)
                .with_extension(ext),
        }
    }

    /// Refuses outputs that are inputs, each other or special files, and (unless resuming
    /// or told to overwrite) a model file that exists already.
    fn check_outputs(
        &self,
        model: &Path,
        metrics: &Path,
        checkpoint: &Path,
        resume: bool,
    ) -> anyhow::Result<()> {
        let d = &self.deck.deck;
        let mut inputs = vec![
            NamedPath::new("the deck", &self.deck.path),
            NamedPath::new("data.file", self.deck.resolve(&d.data.file)),
        ];
        if let Some(v) = &d.data.validation_file {
            inputs.push(NamedPath::new("data.validation_file", self.deck.resolve(v)));
        }
        if let Some(i) = &d.model.init {
            inputs.push(NamedPath::new("model.init", self.deck.resolve(i)));
        }
        let outputs = [
            NamedPath::new("output.model", model),
            NamedPath::new("output.metrics", metrics),
            NamedPath::new("output.checkpoint", checkpoint),
            NamedPath::new("output.checkpoint", model_path(checkpoint)),
        ];
        guard::check_outputs(&outputs, &inputs, &[])
            .map_err(|r| self.deck.error(&r.key, r.message))?;
        if !resume && !self.overwrite && model.exists() {
            let msg = format!(
                "{} exists: training does not replace a model unless asked \
                 (eqmd train --force), or continues its own run (--resume)",
                model.display()
            );
            return Err(self.deck.error("output.model", msg).into());
        }
        Ok(())
    }

    /// Errors of `model` on `samples`, frames in parallel.
    pub fn evaluate(&self, model: &Model, samples: &[Sample]) -> Summary {
        self.evaluate_with(model, samples, &self.weights_of(false))
    }

    /// Errors of `model` on `samples` with the loss weights `w`.
    fn evaluate_with(&self, model: &Model, samples: &[Sample], w: &LossWeights) -> Summary {
        let ev = Evaluator::new(model);
        let errors: Vec<FrameErrors> = samples
            .par_iter()
            .map(|s| frame_errors(&ev, model, s, w))
            .collect();
        Summary::of(&errors)
    }

    /// Trains from scratch, or from the checkpoint with `resume`.
    pub fn run(&self, resume: bool, progress: bool) -> anyhow::Result<Outcome> {
        let d = &self.deck.deck;
        let opt = &d.optimizer;
        let out_model = self.deck.resolve(&d.output.model);
        let checkpoint = self.output(&d.output.checkpoint, "ckpt");
        let metrics = self.output(&d.output.metrics, "csv");
        self.check_outputs(&out_model, &metrics, &checkpoint, resume)?;
        let data = fingerprint(&self.train, &self.validation);
        let (mut state, mut model) = if resume {
            let (state, model) = TrainState::load(&checkpoint)?;
            self.check_resume(&checkpoint, &state, &model, data)?;
            (state, model)
        } else {
            let model = self.initial_model()?;
            let schedule = Schedule::of(&d.schedule, opt);
            let state = TrainState::fresh(model.trainable(), opt, schedule, data);
            (state, model)
        };
        // the cosine follows the deck's length, also when a resumed run is made longer
        match &mut state.schedule {
            Schedule::Cosine {
                epochs, initial, ..
            } => {
                *epochs = opt.epochs;
                *initial = opt.learning_rate;
            }
            Schedule::CosineTime {
                seconds, initial, ..
            } => {
                *seconds = 60.0 * opt.max_minutes;
                *initial = opt.learning_rate;
            }
            _ => {}
        }
        for p in [&out_model, &checkpoint] {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
        }
        let layout = ParameterLayout::of(&model);
        let ev = Evaluator::new(&model);
        let scratch = Scratch::default();
        let decayed = model.trainable_ranges(BlockKind::decays);
        let mut theta = model.trainable();
        let mut csv = open_csv(&metrics, resume.then_some(state.epoch))
            .with_context(|| format!("cannot write {}", metrics.display()))?;
        let h = &model.hyper;
        log::info!(
            "training {} weights on {} frames, validating on {}; L = {}, {} channels, {} layers, correlation {}, rc = {} Å, species {}",
            layout.len,
            self.train.len(),
            self.validation.len(),
            h.lmax,
            h.channels,
            h.layers,
            h.correlation,
            crate::potential::short_number(h.cutoff),
            h.species.join(", ")
        );
        let bar = if progress {
            ProgressBar::new(opt.epochs as u64)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} epoch {pos}/{len} {msg} [{elapsed_precise}<{eta}]",
            )
            .expect("valid template"),
        );
        bar.set_position(state.epoch as u64);
        let mut best: Option<Summary> = None;
        let mut averaged = model.clone();
        let (start, before) = (Instant::now(), state.elapsed);
        // gradients of a batch's groups of frames and their sum, reused: fresh ones every
        // batch cost page faults
        let groups = group_count(opt.batch, rayon::current_num_threads());
        let mut group_grads = vec![vec![0.0; layout.len]; groups];
        let mut grad = vec![0.0; layout.len];
        // an error or a signal stops the loop after the last whole epoch's files are written
        let mut saves = Saves::new(d.output.checkpoint_seconds, &out_model, &checkpoint);
        let signals = Signals::install()?;
        while state.epoch < opt.epochs {
            if opt.early_stopping > 0 && state.epochs_since_best >= opt.early_stopping {
                log::info!(
                    "no better validation loss for {} epochs: stopping",
                    opt.early_stopping
                );
                break;
            }
            if let Some(two) = d.stage_two.as_ref().filter(|_| !state.stage_two) {
                if two.due(state.epoch, state.elapsed, opt) {
                    log::info!(
                        "stage two from epoch {}: learning rate {:e}, the best model chosen anew",
                        state.epoch + 1,
                        two.learning_rate
                    );
                    state.stage_two = true;
                    state.learning_rate = two.learning_rate;
                    state.best_validation = f64::INFINITY;
                    state.epochs_since_best = 0;
                }
            }
            let w = self.weights_of(state.stage_two);
            let epoch = state.epoch + 1;
            let mut order: Vec<usize> = (0..self.train.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(
                opt.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ epoch as u64,
            ));
            let mut train_errors = Vec::with_capacity(order.len());
            for batch in order.chunks(opt.batch) {
                signals.check(epoch, state.epoch, &checkpoint)?;
                let groups = batch_groups(batch, rayon::current_num_threads());
                let group_grads = &mut group_grads[..groups.len()];
                let errors: Vec<Vec<FrameErrors>> = (group_grads.par_iter_mut())
                    .zip(groups.par_iter())
                    .map(|(g, group)| {
                        g.fill(0.0);
                        let turned: Vec<Sample>;
                        let samples: Vec<&Sample> = if d.data.rotate {
                            let seed = augment_seed(opt.seed, epoch);
                            turned = (group.iter())
                                .map(|&k| {
                                    rotate_sample(&self.train[k], frame_rotation(seed, k as u64))
                                })
                                .collect();
                            turned.iter().collect()
                        } else {
                            group.iter().map(|&k| &self.train[k]).collect()
                        };
                        batch_gradient(&ev, &model, &layout, &samples, &w, g, &scratch)
                    })
                    .collect();
                // summed in the batch's order, whatever thread computed each group
                let group_grads: &[Vec<f64>] = group_grads;
                let inv = 1.0 / batch.len() as f64;
                (grad.par_chunks_mut(WEIGHTS_PER_BLOCK).enumerate()).for_each(|(k, block)| {
                    let at = k * WEIGHTS_PER_BLOCK;
                    block.fill(0.0);
                    for g in group_grads.iter() {
                        for (a, b) in block.iter_mut().zip(&g[at..]) {
                            *a += b;
                        }
                    }
                    block.iter_mut().for_each(|g| *g *= inv);
                });
                errors.into_iter().for_each(|e| train_errors.extend(e));
                let norm = clip_norm(&mut grad, opt.clip);
                anyhow::ensure!(
                    norm.is_finite(),
                    "epoch {epoch}: the gradient is not finite (learning rate too large?)"
                );
                weight_decay(&mut grad, &theta, &decayed, opt.weight_decay);
                state.adam.update(&mut theta, &grad, state.learning_rate);
                model.set_trainable(&theta);
                state.weights.copy_from_slice(&theta);
                if opt.ema > 0.0 {
                    update_average(&mut state.average, &theta, opt.ema, state.adam.step);
                } else {
                    state.average.copy_from_slice(&theta);
                }
            }
            averaged.set_trainable(&state.average);
            let train = Summary::of(&train_errors);
            let val = self.evaluate_with(&averaged, &self.validation, &w);
            state.elapsed = before + start.elapsed().as_secs_f64();
            writeln!(
                csv,
                "{}",
                csv_row(epoch, state.learning_rate, state.elapsed, &train, &val)
            )?;
            csv.flush()?;
            let dipole = val
                .dipole
                .map(|(mae, _)| format!(", μ {mae:.4} e·Å"))
                .unwrap_or_default();
            log::info!(
                "epoch {epoch}: loss {:.4e}, validation: loss {:.4e}, E {:.3} meV/atom, F {:.2} meV/Å{dipole}",
                train.loss,
                val.loss,
                val.energy_mae_mev_per_atom,
                val.force_mae
            );
            if val.loss < state.best_validation {
                state.best_validation = val.loss;
                state.epochs_since_best = 0;
                saves.improved(&averaged);
                state.best_epoch = epoch;
                best = Some(val);
            } else {
                state.epochs_since_best += 1;
            }
            if !state.stage_two {
                state.learning_rate =
                    (state.schedule).next(state.learning_rate, epoch, state.elapsed, val.loss);
            }
            state.epoch = epoch;
            saves.finished(&state, &model)?;
            bar.set_position(epoch as u64);
            bar.set_message(format!(
                "loss {:.3e} | val E {:.2} meV/atom F {:.2} meV/Å | lr {:.1e}",
                train.loss, val.energy_mae_mev_per_atom, val.force_mae, state.learning_rate
            ));
            if opt.max_minutes > 0.0 && state.elapsed > 60.0 * opt.max_minutes {
                log::info!(
                    "time limit of {} minutes reached: stopping",
                    opt.max_minutes
                );
                break;
            }
        }
        saves.flush()?;
        drop(saves);
        bar.finish();
        anyhow::ensure!(
            state.best_epoch > 0,
            "no epoch gave a finite validation loss; no model was written"
        );
        let best = match best {
            Some(b) => b,
            // resumed after the best epoch: the model saved then
            None => self.evaluate_with(
                &file::load(&out_model)?,
                &self.validation,
                &self.weights_of(state.stage_two),
            ),
        };
        Ok(Outcome {
            epochs: state.epoch,
            best_epoch: state.best_epoch,
            best,
            seconds: state.elapsed,
            model: out_model,
            parameters: layout.len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::batch_groups;

    #[test]
    fn batches_split_into_even_groups_in_order() {
        let b = [4, 0, 3, 1, 2];
        assert_eq!(batch_groups(&b, 1), vec![&b[..]]);
        assert_eq!(batch_groups(&b, 2), vec![&b[..3], &b[3..]]);
        assert_eq!(batch_groups(&b, 3), vec![&b[..2], &b[2..4], &b[4..]]);
        assert_eq!(batch_groups(&b, 8).len(), 5);
        assert_eq!(batch_groups(&b[..1], 0), vec![&b[..1]]);
    }
}
