//! Learning curves: validation errors against the number of training frames, for several
//! model shapes (an invariant L = 0 model against equivariant ones of similar size), each
//! trained from scratch by the training deck `base` with the frame count and model shape
//! changed. The validation frames are the same for every count (see
//! [`super::data::split`]), so the curves compare like with like. Results go to a CSV and
//! an SVG figure ([`plot`]).

pub mod plot;
mod points;

pub use points::{read_csv, write_csv, Point, CSV_HEADER, CSV_NAME, SVG_NAME};

use super::config::TrainDeck;
use super::data::species_in;
use super::trainer::Training;
use crate::deck::{DeckError, LoadedDeck, Versioned};
use crate::io::extxyz;
use crate::potential::equivariant::shape::Shape;
use anyhow::Context;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A curve deck, version 1: which training deck to start from, the training-set sizes,
/// the model shapes and the budget of every run.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurveDeck {
    pub version: u32,
    /// The training deck every run starts from (relative to this deck).
    pub base: String,
    /// Training-set sizes; the validation frames are the base deck's, the same for all.
    pub frames: Vec<usize>,
    /// The model shapes compared, `[[model]]` tables.
    pub model: Vec<CurveModel>,
    /// Epochs per run (`optimizer.epochs` of the base deck when absent).
    pub epochs: Option<usize>,
    /// Minutes of training per run at most (`optimizer.max_minutes` when absent; 0: none).
    pub minutes: Option<f64>,
    /// Folder of `learning-curves.csv` and `learning-curves.svg` (relative to this deck).
    pub output: String,
}

impl Versioned for CurveDeck {
    fn version(&self) -> u32 {
        self.version
    }
}

/// One model shape of a learning curve: its largest irrep degree, channels and (when
/// given) the product basis's correlation order; the other hyper-parameters are the base
/// deck's.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CurveModel {
    pub lmax: usize,
    pub channels: usize,
    /// Correlation order ν (the base deck's `model.correlation` when absent).
    pub correlation: Option<usize>,
}

/// A curve deck read and checked against its base deck and data, ready to run.
pub struct LearningCurve {
    pub deck: LoadedDeck<CurveDeck>,
    /// The base training deck, read once; every run trains a modified copy of it.
    pub base: LoadedDeck<TrainDeck>,
    /// Folder of every run's model, metrics and checkpoint (that of the base deck's model).
    pub scratch: PathBuf,
    /// Trainable weights of each `[[model]]`, in order.
    pub parameters: Vec<usize>,
}

/// Reads a curve deck (with `--set` overrides) and checks what needs no data: the keys,
/// non-empty `frames` and `model`, positive counts, the budget.
pub fn load_deck(path: &Path, overrides: &[String]) -> Result<LoadedDeck<CurveDeck>, DeckError> {
    let deck = LoadedDeck::<CurveDeck>::load(path, overrides)?;
    let d = &deck.deck;
    if d.frames.is_empty() {
        return Err(deck.error("frames", "must list at least one training-set size"));
    }
    if d.frames.contains(&0) {
        return Err(deck.error("frames", "training-set sizes must be positive"));
    }
    if d.model.is_empty() {
        return Err(deck.error("model", "must list at least one `[[model]]`"));
    }
    for (k, m) in d.model.iter().enumerate() {
        if let Some(j) = d.model[..k].iter().position(|o| o == m) {
            return Err(deck.error(&format!("model[{k}]"), format!("repeats model[{j}]")));
        }
    }
    if d.epochs == Some(0) {
        return Err(deck.error("epochs", "must be positive"));
    }
    if let Some(m) = d.minutes.filter(|m| !(m.is_finite() && *m >= 0.0)) {
        return Err(deck.error("minutes", format!("must be zero or positive, got {m}")));
    }
    Ok(deck)
}

impl LearningCurve {
    /// Reads and checks the curve deck, its base deck and the data: every training-set
    /// size must leave the validation frames aside.
    pub fn load(path: &Path, overrides: &[String]) -> anyhow::Result<LearningCurve> {
        let deck = load_deck(path, overrides)?;
        let d = &deck.deck;
        let base = deck.resolve(&d.base);
        if !base.is_file() {
            return Err(deck
                .error("base", format!("{} is not a file", base.display()))
                .into());
        }
        let train = LoadedDeck::<TrainDeck>::load(&base, &[])?;
        let t = &train.deck;
        let data = train.resolve(&t.data.file);
        let all = extxyz::read_file(&data)?;
        let frames = all.len();
        let available = if t.data.validation_file.is_some() {
            frames
        } else {
            frames.saturating_sub(t.data.validation)
        };
        if let Some(&n) = d.frames.iter().find(|&&n| n > available) {
            return Err(deck
                .error(
                    "frames",
                    format!(
                        "{n} training frames asked, but {} has {frames} frames, {available} of \
                         them for training",
                        data.display()
                    ),
                )
                .into());
        }
        let species = match &t.model.species {
            Some(s) => s.clone(),
            None => species_in(&all),
        };
        let parameters = (d.model.iter().enumerate())
            .map(|(k, m)| {
                let mut section = t.model.clone();
                section.lmax = m.lmax;
                section.channels = m.channels;
                section.correlation = m.correlation.unwrap_or(section.correlation);
                let shape = Shape::new(section.hyper(species.clone(), 1.0))
                    .map_err(|e| deck.error(&format!("model[{k}].{}", e.key()), e.to_string()))?;
                let blocks = shape.blocks();
                Ok(blocks
                    .iter()
                    .filter(|b| b.trainable())
                    .map(|b| b.size())
                    .sum())
            })
            .collect::<Result<Vec<usize>, DeckError>>()?;
        let (lo, hi) = (
            parameters.iter().min().copied().unwrap_or(0),
            parameters.iter().max().copied().unwrap_or(0),
        );
        if hi as f64 > 1.15 * lo as f64 {
            log::warn!("parameter counts {parameters:?} differ by more than 15 %");
        }
        // absolute, since the runs' output paths are resolved against the base deck
        let model = std::path::absolute(train.resolve(&t.output.model))
            .with_context(|| format!("{}: output.model", base.display()))?;
        let scratch = model
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        super::check::study_outputs(&deck, &train, &[&csv_path(&deck), &svg_path(&deck)])?;
        Ok(LearningCurve {
            deck,
            base: train,
            scratch,
            parameters,
        })
    }

    /// The training deck of one run: the base deck with the frame count, the model shape,
    /// the budget and per-run output paths in the scratch folder (errors are still located
    /// in the base deck).
    pub fn run_deck(&self, model: &CurveModel, frames: usize) -> LoadedDeck<TrainDeck> {
        let d = &self.deck.deck;
        let nu = model
            .correlation
            .unwrap_or(self.base.deck.model.correlation);
        let name = format!("l{}-c{}-nu{nu}-n{frames}", model.lmax, model.channels);
        let path = |ext: &str| {
            let p = self.scratch.join(format!("{name}.{ext}"));
            p.to_string_lossy().into_owned()
        };
        let mut run = self.base.clone();
        let t = &mut run.deck;
        t.data.train = frames;
        t.model.lmax = model.lmax;
        t.model.channels = model.channels;
        t.model.correlation = nu;
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

    /// Where the CSV goes.
    pub fn csv_path(&self) -> PathBuf {
        csv_path(&self.deck)
    }

    /// Where the figure goes.
    pub fn svg_path(&self) -> PathBuf {
        svg_path(&self.deck)
    }

    /// Trains every model on every training-set size (sizes in the outer loop, so that an
    /// interrupted run has compared the models on the smaller sizes), rewriting the CSV
    /// and the figure after every run; `report` sees each point as it is done.
    pub fn run(
        &self,
        progress: bool,
        mut report: impl FnMut(&Point),
    ) -> anyhow::Result<Vec<Point>> {
        let d = &self.deck.deck;
        let mut points = Vec::new();
        for &frames in &d.frames {
            for model in &d.model {
                let nu = model
                    .correlation
                    .unwrap_or(self.base.deck.model.correlation);
                let mut training = Training::from_deck(self.run_deck(model, frames))?;
                // the runs' models are this curve's own scratch files
                training.overwrite = true;
                let o = training.run(false, progress).with_context(|| {
                    format!(
                        "training L = {}, ν = {nu}, {} channels on {frames} frames",
                        model.lmax, model.channels
                    )
                })?;
                let point = Point {
                    lmax: model.lmax,
                    channels: model.channels,
                    correlation: nu,
                    parameters: o.parameters,
                    train_frames: frames,
                    epochs: o.epochs,
                    seconds: o.seconds,
                    val_energy_mae_mev_per_atom: o.best.energy_mae_mev_per_atom,
                    val_force_mae: o.best.force_mae,
                    val_force_rmse: o.best.force_rmse,
                };
                report(&point);
                points.push(point);
                write_csv(&self.csv_path(), &points)?;
                plot::draw(&points, &self.svg_path())?;
            }
        }
        Ok(points)
    }
}

/// The CSV path of a curve deck.
pub fn csv_path(deck: &LoadedDeck<CurveDeck>) -> PathBuf {
    deck.resolve(&deck.deck.output).join(CSV_NAME)
}

/// The SVG path of a curve deck.
pub fn svg_path(deck: &LoadedDeck<CurveDeck>) -> PathBuf {
    deck.resolve(&deck.deck.output).join(SVG_NAME)
}

/// Re-draws a curve deck's figure from its CSV, without training; returns the SVG path.
pub fn replot(path: &Path, overrides: &[String]) -> anyhow::Result<PathBuf> {
    let deck = load_deck(path, overrides)?;
    let svg = svg_path(&deck);
    super::check::replot_output(&deck, &svg, &csv_path(&deck))?;
    plot::plot_csv(&csv_path(&deck), &svg)?;
    Ok(svg)
}
