//! The training checkpoint: the optimiser's whole state next to the current model, so that
//! `eqmd train DECK --resume` continues exactly where the run stopped. Two files: the model
//! (`<checkpoint>.h5`, the usual model format) and the state (`<checkpoint>`: magic
//! `EQMDTRN1`, version, little-endian fields, FNV-1a checksum), each written atomically.
//! Format 3 adds a fingerprint of the frames trained on; formats 1 and 2 still read.

use super::config::{OptimizerKind, OptimizerSection};
use super::optimizer::{Adam, Schedule};
use crate::io::binary::{write_atomically, FrameError, Reader, Writer};
use crate::potential::equivariant::file;
use crate::potential::equivariant::model::Model;
use anyhow::Context;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"EQMDTRN1";
const VERSION: u64 = 3;

/// Everything besides the model that the next epoch depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    pub learning_rate: f64,
    /// The weights (the model file next to the state holds the same; these decide).
    pub weights: Vec<f64>,
    /// Moving average of the weights.
    pub average: Vec<f64>,
    pub adam: Adam,
    pub schedule: Schedule,
    pub best_validation: f64,
    /// The epoch of the best validation loss (0: none yet).
    pub best_epoch: usize,
    pub epochs_since_best: usize,
    /// Seconds of training so far.
    pub elapsed: f64,
    /// Whether stage two has begun (format 2; format-1 files had none).
    pub stage_two: bool,
    /// A fingerprint of the training and validation frames the run was made on (format 3;
    /// older files had none), so that a resume on another split is refused.
    pub data: Option<u64>,
}

/// Where the model of a checkpoint lives.
pub fn model_path(checkpoint: &Path) -> PathBuf {
    let mut s = checkpoint.as_os_str().to_owned();
    s.push(".h5");
    PathBuf::from(s)
}

impl TrainState {
    /// The state before the first epoch of a run from `weights`.
    pub fn fresh(weights: Vec<f64>, opt: &OptimizerSection, schedule: Schedule, data: u64) -> Self {
        TrainState {
            epoch: 0,
            learning_rate: opt.learning_rate,
            average: weights.clone(),
            adam: Adam::new(weights.len(), opt.kind == OptimizerKind::Amsgrad),
            weights,
            schedule,
            best_validation: f64::INFINITY,
            best_epoch: 0,
            epochs_since_best: 0,
            elapsed: 0.0,
            stage_two: false,
            data: Some(data),
        }
    }

    fn encode(&self) -> Vec<u8> {
        self.encode_as(VERSION)
    }

    /// The bytes of format `version` (1 lacks the stage-two flag).
    fn encode_as(&self, version: u64) -> Vec<u8> {
        let mut w = Writer::framed(MAGIC);
        w.u64(version);
        w.u64(self.epoch as u64);
        w.f64(self.learning_rate);
        w.f64s(&self.weights);
        w.f64s(&self.average);
        w.u64(u64::from(self.adam.amsgrad));
        w.u64(self.adam.step);
        w.f64s(&self.adam.m);
        w.f64s(&self.adam.v);
        w.f64s(&self.adam.v_max);
        match &self.schedule {
            Schedule::Constant => w.u64(0),
            Schedule::Plateau {
                factor,
                patience,
                min,
                best,
                bad_epochs,
            } => {
                w.u64(1);
                w.f64(*factor);
                w.u64(*patience as u64);
                w.f64(*min);
                w.f64(*best);
                w.u64(*bad_epochs as u64);
            }
            Schedule::Cosine {
                initial,
                min,
                epochs,
            } => {
                w.u64(2);
                w.f64(*initial);
                w.f64(*min);
                w.u64(*epochs as u64);
            }
            Schedule::CosineTime {
                initial,
                min,
                seconds,
            } => {
                w.u64(3);
                w.f64(*initial);
                w.f64(*min);
                w.f64(*seconds);
            }
        }
        w.f64(self.best_validation);
        w.u64(self.best_epoch as u64);
        w.u64(self.epochs_since_best as u64);
        w.f64(self.elapsed);
        if version >= 2 {
            w.u64(u64::from(self.stage_two));
        }
        if version >= 3 {
            w.u64(u64::from(self.data.is_some()));
            w.u64(self.data.unwrap_or(0));
        }
        w.seal()
    }

    fn decode(bytes: &[u8]) -> Result<TrainState, String> {
        let mut r = Reader::framed(bytes, MAGIC, 16).map_err(|e| match e {
            FrameError::NotThisFormat => "not an eqmd training checkpoint".to_string(),
            FrameError::Checksum => "checksum mismatch (damaged file)".to_string(),
        })?;
        let version = r.u64()?;
        if !(1..=VERSION).contains(&version) {
            return Err(format!("format version {version} is not supported"));
        }
        let epoch = r.u64()? as usize;
        let learning_rate = r.f64()?;
        let weights = r.f64s()?;
        let average = r.f64s()?;
        let amsgrad = r.u64()? != 0;
        let step = r.u64()?;
        let (m, v, v_max) = (r.f64s()?, r.f64s()?, r.f64s()?);
        if amsgrad && v_max.len() != v.len() {
            return Err("AMSGrad state without its running maximum".into());
        }
        let mut adam = Adam::new(0, amsgrad);
        adam.step = step;
        adam.m = m;
        adam.v = v;
        adam.v_max = v_max;
        let schedule = match r.u64()? {
            0 => Schedule::Constant,
            1 => Schedule::Plateau {
                factor: r.f64()?,
                patience: r.u64()? as usize,
                min: r.f64()?,
                best: r.f64()?,
                bad_epochs: r.u64()? as usize,
            },
            2 => Schedule::Cosine {
                initial: r.f64()?,
                min: r.f64()?,
                epochs: r.u64()? as usize,
            },
            3 => Schedule::CosineTime {
                initial: r.f64()?,
                min: r.f64()?,
                seconds: r.f64()?,
            },
            k => return Err(format!("unknown schedule kind {k}")),
        };
        let mut state = TrainState {
            epoch,
            learning_rate,
            weights,
            average,
            adam,
            schedule,
            best_validation: r.f64()?,
            best_epoch: r.u64()? as usize,
            epochs_since_best: r.u64()? as usize,
            elapsed: r.f64()?,
            stage_two: version >= 2 && r.u64()? != 0,
            data: None,
        };
        if version >= 3 {
            let known = r.u64()? != 0;
            let fingerprint = r.u64()?;
            state.data = known.then_some(fingerprint);
        }
        if !(state.elapsed >= 0.0 && state.elapsed.is_finite() && state.learning_rate > 0.0) {
            return Err("time or learning rate out of range".into());
        }
        Ok(state)
    }

    /// Writes the state to `path` and the model next to it.
    pub fn save(&self, model: &Model, path: &Path) -> anyhow::Result<()> {
        let mp = model_path(path);
        let tmp = mp.with_extension("tmp.h5");
        file::save(model, &tmp)?;
        std::fs::rename(&tmp, &mp).with_context(|| format!("cannot write {}", mp.display()))?;
        write_atomically(path, &self.encode())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Reads a checkpoint written by [`TrainState::save`]: the state and the model.
    pub fn load(path: &Path) -> anyhow::Result<(TrainState, Model)> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the checkpoint {}", path.display()))?;
        let state = TrainState::decode(&bytes)
            .map_err(|e| anyhow::anyhow!("checkpoint {}: {e}", path.display()))?;
        let mut model = file::load(&model_path(path))?;
        let n = model.trainable().len();
        anyhow::ensure!(
            state.weights.len() == n
                && state.average.len() == n
                && state.adam.m.len() == n
                && state.adam.v.len() == n,
            "checkpoint {}: the optimiser state does not fit the model ({n} weights)",
            path.display()
        );
        model.set_trainable(&state.weights);
        Ok((state, model))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> TrainState {
        let mut adam = Adam::new(2, true);
        adam.step = 7;
        adam.m = vec![0.1, -0.2];
        TrainState {
            epoch: 3,
            learning_rate: 1e-3,
            weights: vec![1.0, 2.0],
            average: vec![1.5, 2.5],
            adam,
            schedule: Schedule::CosineTime {
                initial: 0.01,
                min: 1e-6,
                seconds: 60.0,
            },
            best_validation: 0.25,
            best_epoch: 2,
            epochs_since_best: 1,
            elapsed: 12.5,
            stage_two: true,
            data: Some(0x1234_5678_9abc_def0),
        }
    }

    #[test]
    fn state_round_trips_and_older_formats_read_without_what_they_lacked() {
        let s = state();
        assert_eq!(TrainState::decode(&s.encode()).unwrap(), s);
        let none = TrainState {
            data: None,
            ..s.clone()
        };
        assert_eq!(TrainState::decode(&none.encode()).unwrap(), none);
        let two = TrainState::decode(&s.encode_as(2)).unwrap();
        assert_eq!(two, none);
        let one = TrainState::decode(&s.encode_as(1)).unwrap();
        assert_eq!(
            one,
            TrainState {
                stage_two: false,
                ..none
            }
        );
        let err = TrainState::decode(&s.encode_as(4)).unwrap_err();
        assert!(err.contains("version 4"), "{err}");
    }
}
