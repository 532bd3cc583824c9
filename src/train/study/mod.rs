//! The symmetry study: three dipole heads on one network, trained on the same frames with
//! the same budget, evaluated on the validation frames as given and turned by seeded random
//! rotations. An invariant head (three numbers read off the scalars) can only learn the
//! data's average orientation, and under rotation does no better than predicting zero;
//! trained on randomly rotated frames it collapses toward zero. The charge head
//! (μ = Σ q_i r_i) and the charge-plus-atomic-dipole head rotate with the frame, so their
//! errors do not change under rotation. Every head is also trained on each training-set
//! size of `frames` (a learning curve); the invariant head with rotation augmentation only
//! on the largest. Results go to a CSV and an SVG figure ([`plot`]).

pub mod plot;
mod rows;

pub use rows::{read_csv, write_csv, Predictor, Row, CSV_HEADER, CSV_NAME, SVG_NAME};

use super::config::TrainDeck;
use super::data::{frame_rotation, rotate_sample};
use super::loss::Sample;
use super::trainer::{Outcome, Training};
use crate::deck::{DeckError, LoadedDeck, Versioned};
use crate::potential::equivariant::file;
use crate::potential::equivariant::model::DipoleHead;
use anyhow::Context;
use glam::DVec3;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The heads compared, in the order of the figure.
pub const HEADS: [DipoleHead; 3] = [
    DipoleHead::Invariant,
    DipoleHead::Charges,
    DipoleHead::ChargesAndDipoles,
];

/// A study deck, version 1: the training deck every run starts from, the training-set
/// sizes, the budget of every run, the seed of the validation rotations and the output.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyDeck {
    pub version: u32,
    /// The training deck (relative to this deck): data, split, network, loss (with
    /// `loss.dipole` > 0), optimizer; its `model.dipole` is replaced by each head in turn.
    pub base: String,
    /// Training-set sizes; the validation frames are the base deck's, the same for all.
    pub frames: Vec<usize>,
    /// Epochs per run (`optimizer.epochs` of the base deck when absent).
    pub epochs: Option<usize>,
    /// Minutes of training per run at most (`optimizer.max_minutes` when absent; 0: none).
    pub minutes: Option<f64>,
    /// Seed of the rotations of the validation frames (frame k turns by the rotation of
    /// `eqmd eval --rotate SEED`).
    #[serde(default = "one")]
    pub rotation_seed: u64,
    /// Folder of `symmetry-study.csv` and `symmetry-study.svg` (relative to this deck).
    pub output: String,
}

fn one() -> u64 {
    1
}

impl Versioned for StudyDeck {
    fn version(&self) -> u32 {
        self.version
    }
}

/// A study deck read and checked against its base deck, ready to run.
pub struct SymmetryStudy {
    pub deck: LoadedDeck<StudyDeck>,
    pub base: LoadedDeck<TrainDeck>,
    /// Folder of every run's model, metrics and checkpoint (that of the base deck's model).
    pub scratch: PathBuf,
}

/// Reads a study deck (with `--set` overrides) and checks what needs no data.
pub fn load_deck(path: &Path, overrides: &[String]) -> Result<LoadedDeck<StudyDeck>, DeckError> {
    let deck = LoadedDeck::<StudyDeck>::load(path, overrides)?;
    let d = &deck.deck;
    if d.frames.is_empty() || d.frames.contains(&0) {
        return Err(deck.error("frames", "must list positive training-set sizes"));
    }
    if d.epochs == Some(0) {
        return Err(deck.error("epochs", "must be positive"));
    }
    if let Some(m) = d.minutes.filter(|m| !(m.is_finite() && *m >= 0.0)) {
        return Err(deck.error("minutes", format!("must be zero or positive, got {m}")));
    }
    Ok(deck)
}

/// Per-component MAE and mean norm of the errors `predicted(k) − μ_k` over `samples`.
fn errors(samples: &[Sample], predicted: impl Fn(usize) -> DVec3) -> (f64, f64) {
    let n = samples.len().max(1) as f64;
    let (mut abs, mut norm) = (0.0, 0.0);
    for (k, s) in samples.iter().enumerate() {
        let reference = s.dipole.as_ref().map_or(DVec3::ZERO, |d| d.vector);
        let d = predicted(k) - reference;
        abs += d.abs().element_sum();
        norm += d.length();
    }
    (abs / (3.0 * n), norm / n)
}

impl SymmetryStudy {
    /// Reads and checks the study deck and its base deck.
    pub fn load(path: &Path, overrides: &[String]) -> anyhow::Result<SymmetryStudy> {
        let deck = load_deck(path, overrides)?;
        let base = deck.resolve(&deck.deck.base);
        if !base.is_file() {
            return Err(deck
                .error("base", format!("{} is not a file", base.display()))
                .into());
        }
        let train = LoadedDeck::<TrainDeck>::load(&base, &[])?;
        if train.deck.loss.dipole <= 0.0 {
            return Err(train
                .error(
                    "loss.dipole",
                    "the study trains dipole heads: must be positive",
                )
                .into());
        }
        if train.deck.data.rotate {
            return Err(train
                .error(
                    "data.rotate",
                    "the study decides which runs are augmented: leave it false",
                )
                .into());
        }
        let model = std::path::absolute(train.resolve(&train.deck.output.model))
            .with_context(|| format!("{}: output.model", base.display()))?;
        let scratch = model
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let dir = deck.resolve(&deck.deck.output);
        let outputs = [dir.join(CSV_NAME), dir.join(SVG_NAME)];
        super::check::study_outputs(&deck, &train, &[&outputs[0], &outputs[1]])?;
        Ok(SymmetryStudy {
            deck,
            base: train,
            scratch,
        })
    }

    /// The training deck of one run: the base deck with the head, the augmentation, the
    /// frame count, the budget and per-run output paths in the scratch folder.
    pub fn run_deck(
        &self,
        head: DipoleHead,
        augmented: bool,
        frames: usize,
    ) -> LoadedDeck<TrainDeck> {
        let d = &self.deck.deck;
        let name = format!(
            "dipole-{}{}-n{frames}",
            head.name().replace('+', "-"),
            if augmented { "-rotations" } else { "" }
        );
        let path = |ext: &str| {
            let p = self.scratch.join(format!("{name}.{ext}"));
            p.to_string_lossy().into_owned()
        };
        let mut run = self.base.clone();
        let t = &mut run.deck;
        t.data.train = frames;
        t.data.rotate = augmented;
        t.model.dipole = Some(head.name().to_string());
        t.output.model = path("h5");
        t.output.metrics = Some(path("csv"));
        t.output.checkpoint = Some(path("ckpt"));
        if let Some(e) = d.epochs {
            t.optimizer.epochs = e;
        }
        if let Some(m) = d.minutes {
            t.optimizer.max_minutes = m;
        }
        run
    }

    /// The validation frames of `training`, each turned by its seeded rotation.
    fn rotated(&self, training: &Training) -> Vec<Sample> {
        let seed = self.deck.deck.rotation_seed;
        (training.validation.iter().enumerate())
            .map(|(k, s)| rotate_sample(s, frame_rotation(seed, k as u64)))
            .collect()
    }

    /// The two baselines on `training`'s split: zero, and the mean training dipole.
    fn baselines(&self, training: &Training, frames: usize) -> [Row; 2] {
        let rotated = self.rotated(training);
        let mean = training
            .train
            .iter()
            .filter_map(|s| s.dipole.as_ref().map(|d| d.vector))
            .sum::<DVec3>()
            / training.train.len().max(1) as f64;
        [(Predictor::Zero, DVec3::ZERO), (Predictor::Mean, mean)].map(|(predictor, v)| {
            let (mae, norm) = errors(&training.validation, |_| v);
            let (rmae, rnorm) = errors(&rotated, |_| v);
            Row {
                predictor,
                augmented: false,
                train_frames: frames,
                parameters: 0,
                epochs: 0,
                seconds: 0.0,
                energy_mae_mev_per_atom: f64::NAN,
                force_mae: f64::NAN,
                dipole_mae: mae,
                dipole_norm_error: norm,
                rotated_dipole_mae: rmae,
                rotated_dipole_norm_error: rnorm,
            }
        })
    }

    /// Trains one head and evaluates its best model on the frames as given and rotated.
    fn train(
        &self,
        training: &Training,
        head: DipoleHead,
        augmented: bool,
        progress: bool,
    ) -> anyhow::Result<Row> {
        let frames = training.train.len();
        let o: Outcome = training.run(false, progress).with_context(|| {
            format!(
                "training the {} dipole head on {frames} frames",
                head.name()
            )
        })?;
        let model = file::load(&o.model)?;
        let rotated = training.evaluate(&model, &self.rotated(training));
        let (given, turned) = (o.best.dipole, rotated.dipole);
        let ((mae, norm), (rmae, rnorm)) = given
            .zip(turned)
            .context("the trained model predicted no dipole")?;
        Ok(Row {
            predictor: Predictor::Head(head.name()),
            augmented,
            train_frames: frames,
            parameters: o.parameters,
            epochs: o.epochs,
            seconds: o.seconds,
            energy_mae_mev_per_atom: o.best.energy_mae_mev_per_atom,
            force_mae: o.best.force_mae,
            dipole_mae: mae,
            dipole_norm_error: norm,
            rotated_dipole_mae: rmae,
            rotated_dipole_norm_error: rnorm,
        })
    }

    /// Where the CSV goes.
    pub fn csv_path(&self) -> PathBuf {
        self.deck.resolve(&self.deck.deck.output).join(CSV_NAME)
    }

    /// Where the figure goes.
    pub fn svg_path(&self) -> PathBuf {
        self.deck.resolve(&self.deck.deck.output).join(SVG_NAME)
    }

    /// Runs the study: for every training-set size the baselines and the three heads, then
    /// the invariant head with rotation augmentation on the largest size; the CSV and the
    /// figure are rewritten after every run, and `report` sees each row as it is done.
    pub fn run(&self, progress: bool, mut report: impl FnMut(&Row)) -> anyhow::Result<Vec<Row>> {
        let d = &self.deck.deck;
        let largest = d.frames.iter().copied().max().unwrap_or(0);
        let mut runs: Vec<(usize, DipoleHead, bool)> = (d.frames.iter())
            .flat_map(|&n| HEADS.map(|h| (n, h, false)))
            .collect();
        runs.push((largest, DipoleHead::Invariant, true));
        let mut rows = Vec::new();
        let mut push = |row: Row, rows: &mut Vec<Row>| -> anyhow::Result<()> {
            report(&row);
            rows.push(row);
            write_csv(&self.csv_path(), rows)?;
            plot::draw(rows, &self.svg_path())
        };
        for &(frames, head, augmented) in &runs {
            let mut training = Training::from_deck(self.run_deck(head, augmented, frames))?;
            // the runs' models are this study's own scratch files
            training.overwrite = true;
            if !rows.iter().any(|r: &Row| r.train_frames == frames) {
                for row in self.baselines(&training, frames) {
                    push(row, &mut rows)?;
                }
            }
            let row = self.train(&training, head, augmented, progress)?;
            push(row, &mut rows)?;
        }
        Ok(rows)
    }
}

/// Re-draws a study deck's figure from its CSV, without training; returns the SVG path.
pub fn replot(path: &Path, overrides: &[String]) -> anyhow::Result<PathBuf> {
    let deck = load_deck(path, overrides)?;
    let dir = deck.resolve(&deck.deck.output);
    let svg = dir.join(SVG_NAME);
    super::check::replot_output(&deck, &svg, &dir.join(CSV_NAME))?;
    let rows = read_csv(&dir.join(CSV_NAME))?;
    plot::draw(&rows, &svg)?;
    Ok(svg)
}
