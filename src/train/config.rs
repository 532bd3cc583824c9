//! The training deck, version 1, as TOML: data and split, model shape, loss weights,
//! optimiser, schedule, stopping and outputs. Unknown keys are errors; paths are relative
//! to the deck.

use crate::deck::Versioned;
use crate::potential::equivariant::model::{DipoleHead, Hyper};
use crate::potential::equivariant::shape::{Shape, ShapeError};
use serde::Deserialize;

/// A whole training deck.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainDeck {
    #[serde(default = "one")]
    pub version: u32,
    pub data: DataSection,
    pub model: ModelSection,
    #[serde(default)]
    pub loss: LossSection,
    #[serde(default)]
    pub optimizer: OptimizerSection,
    #[serde(default)]
    pub schedule: ScheduleSection,
    /// MACE's stage two, if the deck has one.
    pub stage_two: Option<StageTwoSection>,
    pub output: OutputSection,
}

impl Versioned for TrainDeck {
    fn version(&self) -> u32 {
        self.version
    }
}

fn one() -> u32 {
    1
}

/// Where the frames come from and how they are split.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Extended XYZ with `energy` and `forces` (and `stress` for periodic frames).
    pub file: String,
    /// Frames drawn (seeded shuffle) to train on.
    pub train: usize,
    /// Frames drawn to validate on, from the rest of `file` unless `validation_file` is set.
    pub validation: usize,
    /// A separate validation file (its first `validation` frames are used).
    pub validation_file: Option<String>,
    /// Seed of the split.
    #[serde(default)]
    pub seed: u64,
    /// Augmentation: every epoch, each training frame is turned by a fresh random rotation
    /// (seeded by the optimizer's seed, the epoch and the frame), as a model that must not
    /// learn an orientation of the data sees it.
    #[serde(default)]
    pub rotate: bool,
}

/// The model's shape when the training deck (or `eqmd model init`) does not give it.
pub mod defaults {
    /// Largest irrep degree L.
    pub const LMAX: usize = 2;
    /// Channels per irrep.
    pub const CHANNELS: usize = 32;
    /// Interaction layers.
    pub const LAYERS: usize = 3;
    /// Cutoff radius (Å).
    pub const CUTOFF: f64 = 5.0;
    /// Bessel functions of the radial basis.
    pub const RADIAL_BASIS: usize = 8;
    /// Hidden widths of the radial MLP.
    pub const RADIAL_HIDDEN: [usize; 2] = [64, 64];
    /// Factors in each layer's product basis (1: the NequIP layer).
    pub const CORRELATION: usize = 1;
}

/// The model's shape; scale, shift and average neighbour count come from the data. Every
/// key is optional, with the shape of [`defaults`].
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Species in embedding order (default: as they appear in the data).
    pub species: Option<Vec<String>>,
    pub lmax: usize,
    pub channels: usize,
    pub layers: usize,
    /// Cutoff (Å).
    pub cutoff: f64,
    pub radial_basis: usize,
    pub radial_hidden: Vec<usize>,
    pub parity: bool,
    /// Factors in each layer's product basis (1 = NequIP layer, 2..3 = MACE layer).
    pub correlation: usize,
    /// Read out every layer's scalars into the energy (MACE), not only the last layer's.
    pub layer_readouts: bool,
    /// A dipole head beside the energy: "charges+dipoles" (charges and atomic dipoles),
    /// "charges" or "invariant" (see `DipoleHead`); train it with `loss.dipole` on frames
    /// that carry a `dipole`.
    pub dipole: Option<String>,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Start from the weights, scale, shift and neighbour count of this model file
    /// instead of random weights (its shape and species must be the section's), to
    /// continue a finished training with another schedule or fine-tune on new data.
    pub init: Option<String>,
    /// With `init`, a file of fewer channels than `channels` or a lower `lmax` (and
    /// otherwise the section's shape) is widened to them: it computes what the file did,
    /// and what is new starts from weights drawn with `seed` or at zero (more capacity
    /// without starting again).
    pub widen: bool,
}

impl Default for ModelSection {
    fn default() -> Self {
        ModelSection {
            species: None,
            lmax: defaults::LMAX,
            channels: defaults::CHANNELS,
            layers: defaults::LAYERS,
            cutoff: defaults::CUTOFF,
            radial_basis: defaults::RADIAL_BASIS,
            radial_hidden: defaults::RADIAL_HIDDEN.to_vec(),
            parity: false,
            correlation: defaults::CORRELATION,
            layer_readouts: false,
            dipole: None,
            seed: 0,
            init: None,
            widen: false,
        }
    }
}

impl ModelSection {
    /// The dipole head `dipole` names (None without one), or why the name is not one.
    pub fn dipole_head(&self) -> Result<Option<DipoleHead>, String> {
        self.dipole.as_deref().map(DipoleHead::parse).transpose()
    }

    /// Checks the shape this section describes by the rules every model follows
    /// ([`Shape::new`]: each hyper-parameter in range, the weights within bounds); the
    /// neighbour count comes from the data later, and so do the species unless the section
    /// lists them.
    pub fn check_shape(&self) -> Result<(), ShapeError> {
        let species = self.species.clone().unwrap_or_else(|| vec!["X".into()]);
        Shape::new(self.hyper(species, 1.0)).map(|_| ())
    }

    /// The hyper-parameters this section describes, for `species` (embedding order) and
    /// the average neighbour count measured on the data.
    pub fn hyper(&self, species: Vec<String>, avg_neighbors: f64) -> Hyper {
        Hyper {
            species,
            lmax: self.lmax,
            channels: self.channels,
            layers: self.layers,
            cutoff: self.cutoff,
            radial_basis: self.radial_basis,
            radial_hidden: self.radial_hidden.clone(),
            parity: self.parity,
            avg_neighbors,
            correlation: self.correlation,
            layer_readouts: self.layer_readouts,
            dipole: self.dipole_head().ok().flatten(),
        }
    }
}

/// Weights of the per-atom energy, force, stress (eV/Å³) and dipole (e·Å) terms.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSection {
    #[serde(default = "unit")]
    pub energy: f64,
    #[serde(default = "unit")]
    pub forces: f64,
    #[serde(default)]
    pub stress: f64,
    /// Of the squared dipole error |Δμ|² per frame (needs `model.dipole`).
    #[serde(default)]
    pub dipole: f64,
}

impl Default for LossSection {
    fn default() -> Self {
        LossSection {
            energy: 1.0,
            forces: 1.0,
            stress: 0.0,
            dipole: 0.0,
        }
    }
}

fn unit() -> f64 {
    1.0
}

/// The optimiser and the length of training.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerSection {
    /// `adam` or `amsgrad`.
    #[serde(default)]
    pub kind: OptimizerKind,
    #[serde(default = "learning_rate")]
    pub learning_rate: f64,
    /// Frames per step.
    #[serde(default = "batch")]
    pub batch: usize,
    #[serde(default = "epochs")]
    pub epochs: usize,
    /// Stop after this many minutes of training, whatever the epoch (0: no limit).
    #[serde(default)]
    pub max_minutes: f64,
    /// Largest gradient norm; longer gradients are scaled down to it (0: no clipping).
    #[serde(default = "clip")]
    pub clip: f64,
    /// Decay of the exponential moving average of the weights (0: none).
    #[serde(default = "ema")]
    pub ema: f64,
    /// Stop when the validation loss has not improved for this many epochs (0: never).
    #[serde(default)]
    pub early_stopping: usize,
    /// L2 weight decay λ (λθ added to the gradient, as torch's Adam does) on the maps that
    /// mix channels after the convolution and in the product basis, as MACE decays them;
    /// never on the embedding, the radial MLP or the readouts (0: none). It scales with the
    /// loss: MACE's 5e-7 beside a force weight of 1000 is 5e-10 beside eqmd's usual 1.
    #[serde(default)]
    pub weight_decay: f64,
    /// Seed of the frame order.
    #[serde(default)]
    pub seed: u64,
}

impl Default for OptimizerSection {
    fn default() -> Self {
        OptimizerSection {
            kind: OptimizerKind::default(),
            learning_rate: learning_rate(),
            batch: batch(),
            epochs: epochs(),
            max_minutes: 0.0,
            clip: clip(),
            ema: ema(),
            early_stopping: 0,
            weight_decay: 0.0,
            seed: 0,
        }
    }
}

/// The optimisers a training deck can name in `optimizer.kind`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam.
    #[default]
    Adam,
    /// Adam with the running maximum of the second moment (AMSGrad).
    Amsgrad,
}
fn learning_rate() -> f64 {
    0.01
}
fn batch() -> usize {
    5
}
fn epochs() -> usize {
    100
}
fn clip() -> f64 {
    100.0
}
fn ema() -> f64 {
    0.99
}

/// How the learning rate changes: `constant`, `plateau` (multiply by `factor` after
/// `patience` epochs without a better validation loss) or `cosine` (to `min` over the
/// epochs, or over `optimizer.max_minutes` with `over = "minutes"`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    #[serde(default)]
    pub kind: ScheduleKind,
    #[serde(default = "factor")]
    pub factor: f64,
    #[serde(default = "patience")]
    pub patience: usize,
    /// Smallest learning rate.
    #[serde(default = "min_lr")]
    pub min: f64,
    /// What the cosine runs over: the epochs, or the time limit.
    #[serde(default)]
    pub over: ScheduleSpan,
}

/// The length a decaying schedule spans (`schedule.over`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleSpan {
    /// `optimizer.epochs`: the same seed gives the same model, bit for bit.
    #[default]
    Epochs,
    /// `optimizer.max_minutes` of training time: the rate reaches its minimum when time
    /// runs out whatever the speed of the machine, at the price of bit-for-bit
    /// reproducibility (the rate of an epoch depends on the time it started).
    Minutes,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        ScheduleSection {
            kind: ScheduleKind::default(),
            factor: factor(),
            patience: patience(),
            min: min_lr(),
            over: ScheduleSpan::default(),
        }
    }
}

/// The learning-rate schedules a training deck can name in `schedule.kind`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The same rate throughout.
    Constant,
    /// Lower the rate when the validation loss stops improving.
    #[default]
    Plateau,
    /// Half a cosine down to the smallest rate over the epochs.
    Cosine,
}
fn factor() -> f64 {
    0.8
}
fn patience() -> usize {
    10
}
fn min_lr() -> f64 {
    1e-5
}

/// MACE's stage two: from a fraction `start` of the budget on (of `optimizer.epochs`, or of
/// `optimizer.max_minutes` if that comes first) the loss takes other weights, typically the
/// energy raised, and the rate is held at `learning_rate`; the best model is chosen anew under
/// the new loss. Weights not given keep their `[loss]` values.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageTwoSection {
    #[serde(default = "stage_two_start")]
    pub start: f64,
    #[serde(default = "stage_two_rate")]
    pub learning_rate: f64,
    pub energy: Option<f64>,
    pub forces: Option<f64>,
    pub stress: Option<f64>,
    pub dipole: Option<f64>,
}
fn stage_two_start() -> f64 {
    0.8
}
fn stage_two_rate() -> f64 {
    1e-3
}

impl StageTwoSection {
    /// Whether stage two has begun after `epochs` epochs and `elapsed` seconds of training.
    pub fn due(&self, epochs: usize, elapsed: f64, opt: &OptimizerSection) -> bool {
        let by_epochs = epochs as f64 >= self.start * opt.epochs as f64;
        let by_time = opt.max_minutes > 0.0 && elapsed >= self.start * 60.0 * opt.max_minutes;
        by_epochs || by_time
    }

    /// The loss weights of stage two, those not given taken from stage one's `base`.
    pub fn loss(&self, base: &LossSection) -> LossSection {
        LossSection {
            energy: self.energy.unwrap_or(base.energy),
            forces: self.forces.unwrap_or(base.forces),
            stress: self.stress.unwrap_or(base.stress),
            dipole: self.dipole.unwrap_or(base.dipole),
        }
    }
}

/// Where the results go.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// The trained model (HDF5): the moving-average weights of the best validation epoch.
    pub model: String,
    /// Metrics per epoch (CSV); default: the model path with `.csv`.
    pub metrics: Option<String>,
    /// Training state for `--resume`; default: the model path with `.ckpt`.
    pub checkpoint: Option<String>,
    /// The checkpoint and the best model are written at most once per this many seconds of
    /// training (and after the last epoch, or when the run stops); 0: after every epoch.
    #[serde(default = "default_checkpoint_seconds")]
    pub checkpoint_seconds: f64,
}

fn default_checkpoint_seconds() -> f64 {
    10.0
}
