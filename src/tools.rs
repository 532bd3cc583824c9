//! The network's command-line tools: writing a model with random weights, widening one to
//! more channels, describing a model file, timing energy + forces on a structure (as
//! nequip-benchmark does), and measuring a model's errors on reference data.

use crate::io::extxyz;
use crate::io::guard::{check_outputs, NamedPath};
use crate::io::structure::Atoms;
use crate::neighbors::{refusal, NeighborList};
use crate::potential::equivariant::file;
use crate::potential::equivariant::model::{Hyper, Model};
use crate::potential::equivariant::network::Evaluator;
use crate::potential::equivariant::potential::Equivariant;
use crate::potential::equivariant::shape::Shape;
use crate::potential::{ForceOutput, Potential};
use crate::units::Units;
use std::path::Path;
use std::time::Instant;

/// Refuses a model output (`--output`) that is a folder or special file or one of `inputs`,
/// or that exists unless `force`: no model is lost by accident.
fn check_model_output(output: &Path, inputs: &[NamedPath], force: bool) -> anyhow::Result<()> {
    check_outputs(&[NamedPath::new("--output", output)], inputs, &[])
        .map_err(|r| anyhow::anyhow!("{}: {}", r.key, r.message))?;
    anyhow::ensure!(
        force || !output.exists(),
        "--output: {} exists; give --force to replace it",
        output.display()
    );
    Ok(())
}

/// Writes a model with random weights (tests, benchmarks, a starting point for training).
/// `output` may not be a folder or special file, nor an existing file unless `force`.
pub fn init(
    hyper: Hyper,
    seed: u64,
    energy_scale: f64,
    output: &Path,
    force: bool,
) -> anyhow::Result<Model> {
    check_model_output(output, &[], force)?;
    anyhow::ensure!(!hyper.species.is_empty(), "give at least one species");
    anyhow::ensure!(hyper.layers > 0, "layers must be positive");
    let mut model = Model::random_of(&Shape::new(hyper)?, seed);
    for s in &mut model.scale {
        *s = energy_scale;
    }
    file::save(&model, output)?;
    Ok(model)
}

/// Writes `input` widened to `channels` channels and degree `lmax` (each None: the
/// file's; new weights drawn with `seed`) to `output`, which may not be the input nor,
/// without `force`, an existing file.
pub fn widen(
    input: &Path,
    (channels, lmax): (Option<usize>, Option<usize>),
    seed: u64,
    output: &Path,
    force: bool,
) -> anyhow::Result<Model> {
    check_model_output(output, &[NamedPath::new("the model", input)], force)?;
    let narrow = file::load(input)?;
    let channels = channels.unwrap_or(narrow.hyper.channels);
    let lmax = lmax.unwrap_or(narrow.hyper.lmax);
    let model = crate::potential::equivariant::widen::widen(&narrow, channels, lmax, seed)
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    file::save(&model, output)?;
    Ok(model)
}

/// Timing of energy + forces on one structure.
#[derive(Clone, Debug)]
pub struct Benchmark {
    pub atoms: usize,
    pub edges: usize,
    pub repeat: usize,
    pub median_us_per_call: f64,
    pub atom_evaluations_per_second: f64,
}

/// Times `repeat` evaluations of energy + forces of `model` on the last frame of
/// `structure` (after one warm-up call).
pub fn benchmark(model: Model, structure: &Path, repeat: usize) -> anyhow::Result<Benchmark> {
    let frame = extxyz::read_last_frame(structure)?;
    let mut system = Atoms::from(&frame)
        .to_system(Units::Metal, structure)
        .map_err(anyhow::Error::msg)?;
    let net = Equivariant::new(model, &system.species_names).map_err(anyhow::Error::msg)?;
    if let Some(why) = refusal(&system, net.cutoff(), net.list_kind()) {
        anyhow::bail!(
            "{}: the neighbour list for the model's cutoff {} {why}",
            structure.display(),
            net.cutoff()
        );
    }
    let mut list = NeighborList::new(net.list_kind(), net.cutoff(), 0.0);
    list.rebuild(&mut system);
    let edges = net.graph(&system, &list).vector.len();
    let n = system.len();
    let mut out = ForceOutput::new(n);
    net.compute(&system, &list, &mut out);
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat.max(1) {
        out.reset(n);
        let start = Instant::now();
        net.compute(&system, &list, &mut out);
        times.push(start.elapsed().as_secs_f64());
        anyhow::ensure!(out.energy.is_finite(), "the energy is not finite");
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    Ok(Benchmark {
        atoms: n,
        edges,
        repeat: times.len(),
        median_us_per_call: 1e6 * median,
        atom_evaluations_per_second: n as f64 / median,
    })
}

/// Errors of a model against reference energies and forces.
#[derive(Clone, Debug, PartialEq)]
pub struct Errors {
    pub n_frames: usize,
    pub energy_mae_mev: f64,
    pub energy_mae_mev_per_atom: f64,
    pub energy_rmse_mev: f64,
    pub force_mae_mev_per_angstrom: f64,
    pub force_rmse_mev_per_angstrom: f64,
    /// Dipole MAE per component and mean |Δμ| (e·Å), for a model with a dipole head on
    /// frames with dipoles.
    pub dipole: Option<(f64, f64)>,
}

/// Energy and force errors of `model` on every frame of `data` (frames need `energy` and
/// `forces`), as `eqmd eval` reports them: the training metrics, frames in parallel.
pub fn evaluate_errors(model: &Model, data: &Path, rotate: Option<u64>) -> anyhow::Result<Errors> {
    use crate::train::data::{load_rotated_samples, load_samples};
    let (species, cutoff) = (&model.hyper.species, model.hyper.cutoff);
    let samples = match rotate {
        None => load_samples(data, species, cutoff)?,
        Some(seed) => load_rotated_samples(data, species, cutoff, seed)?,
    };
    errors_on(model, &samples, |k| {
        format!("{} frame {}", data.display(), k + 1)
    })
}

/// The errors of `model` on the training and on the validation frames of a training deck's
/// split, apart (evaluating on the whole data file would mix frames it was fitted to into
/// the figure). The model must know the deck's species in its order and use its cutoff.
pub fn evaluate_split(model: &Model, deck: &Path) -> anyhow::Result<(Errors, Errors)> {
    let training = crate::train::trainer::Training::load(deck, &[])?;
    let (species, cutoff) = (&training.species, training.deck.deck.model.cutoff);
    anyhow::ensure!(
        model.hyper.species == *species && model.hyper.cutoff == cutoff,
        "{}: the model's species {:?} and cutoff {} Å are not the deck's ({:?}, {} Å)",
        deck.display(),
        model.hyper.species,
        model.hyper.cutoff,
        species,
        cutoff
    );
    let at = |part: &'static str| {
        move |k: usize| format!("{}: {part} frame {} of the split", deck.display(), k + 1)
    };
    let train = errors_on(model, &training.train, at("training"))?;
    Ok((
        train,
        errors_on(model, &training.validation, at("validation"))?,
    ))
}

/// The errors of `model` on `samples`; a prediction that is not finite is an error naming
/// the frame (`which` says where frame k is), not a NaN in the report.
fn errors_on(
    model: &Model,
    samples: &[crate::train::loss::Sample],
    which: impl Fn(usize) -> String,
) -> anyhow::Result<Errors> {
    use crate::train::{loss, metrics::Summary};
    use rayon::prelude::*;
    let ev = Evaluator::new(model);
    let no_loss = loss::LossWeights {
        energy: 0.0,
        forces: 0.0,
        stress: 0.0,
        dipole: 0.0,
    };
    let errors: Vec<loss::FrameErrors> = samples
        .par_iter()
        .map(|s| loss::frame_errors(&ev, model, s, &no_loss))
        .collect();
    let finite = |e: &loss::FrameErrors| {
        e.energy_error.is_finite()
            && e.force_abs.is_finite()
            && e.force_sq.is_finite()
            && e.dipole_error.is_none_or(|d| d.is_finite())
    };
    if let Some(k) = errors.iter().position(|e| !finite(e)) {
        anyhow::bail!(
            "{}: the model predicts a non-finite energy, force or dipole (do its scale or \
             weights overflow?)",
            which(k)
        );
    }
    let s = Summary::of(&errors);
    Ok(Errors {
        n_frames: s.frames,
        energy_mae_mev: s.energy_mae_mev,
        energy_mae_mev_per_atom: s.energy_mae_mev_per_atom,
        energy_rmse_mev: s.energy_rmse_mev,
        force_mae_mev_per_angstrom: s.force_mae,
        force_rmse_mev_per_angstrom: s.force_rmse,
        dipole: s.dipole,
    })
}

/// e·Å in Debye.
const DEBYE_PER_E_ANGSTROM: f64 = 4.803204;

impl Errors {
    /// The figures as one JSON object.
    pub fn json(&self) -> String {
        let dipole = self
            .dipole
            .map(|(mae, norm)| {
                format!(
                    ", \"dipole_mae_e_angstrom\": {mae}, \"dipole_norm_error_e_angstrom\": {norm}, \"dipole_mae_debye\": {}, \"dipole_norm_error_debye\": {}",
                    mae * DEBYE_PER_E_ANGSTROM,
                    norm * DEBYE_PER_E_ANGSTROM
                )
            })
            .unwrap_or_default();
        format!(
            "{{\"n_frames\": {}, \"energy_mae_mev\": {}, \"energy_mae_mev_per_atom\": {}, \"energy_rmse_mev\": {}, \"force_mae_mev_per_angstrom\": {}, \"force_rmse_mev_per_angstrom\": {}{dipole}}}",
            self.n_frames,
            self.energy_mae_mev,
            self.energy_mae_mev_per_atom,
            self.energy_rmse_mev,
            self.force_mae_mev_per_angstrom,
            self.force_rmse_mev_per_angstrom
        )
    }

    /// The figures as a table, one per line.
    pub fn table(&self) -> String {
        format!(
            "frames            {}\nenergy MAE        {:.3} meV ({:.3} meV/atom)\nenergy RMSE       {:.3} meV\nforce MAE         {:.3} meV/Å\nforce RMSE        {:.3} meV/Å\n",
            self.n_frames,
            self.energy_mae_mev,
            self.energy_mae_mev_per_atom,
            self.energy_rmse_mev,
            self.force_mae_mev_per_angstrom,
            self.force_rmse_mev_per_angstrom
        ) + &self
            .dipole
            .map(|(mae, norm)| {
                let d = DEBYE_PER_E_ANGSTROM;
                format!(
                    "dipole MAE        {mae:.4} e·Å ({:.4} D) per component\ndipole |Δμ|       {norm:.4} e·Å ({:.4} D)\n",
                    mae * d,
                    norm * d
                )
            })
            .unwrap_or_default()
    }
}

/// `eqmd symmetry-study`: runs the study (or only re-draws its figure), a line per run,
/// and says where the results are.
pub fn symmetry_study(
    deck: &Path,
    overrides: &[String],
    plot_only: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    use crate::train::study::{replot, SymmetryStudy};
    if plot_only {
        println!("wrote {}", replot(deck, overrides)?.display());
        return Ok(());
    }
    let study = SymmetryStudy::load(deck, overrides)?;
    if !quiet {
        println!(
            "frames {:?}; scratch files in {}",
            study.deck.deck.frames,
            study.scratch.display()
        );
        println!(
            "{:<28} {:>6} {:>7} {:>6} {:>8} {:>10} {:>12} {:>12} {:>12}",
            "dipole from",
            "frames",
            "weights",
            "epochs",
            "seconds",
            "F (meV/Å)",
            "μ MAE (e·Å)",
            "rotated",
            "|Δμ| rot."
        );
    }
    study.run(!quiet, |r| {
        if !quiet {
            println!(
                "{:<28} {:>6} {:>7} {:>6} {:>8.1} {:>10.2} {:>12.4} {:>12.4} {:>12.4}",
                r.label(),
                r.train_frames,
                r.parameters,
                r.epochs,
                r.seconds,
                r.force_mae,
                r.dipole_mae,
                r.rotated_dipole_mae,
                r.rotated_dipole_norm_error
            );
        }
    })?;
    println!(
        "wrote {} and {}",
        study.csv_path().display(),
        study.svg_path().display()
    );
    Ok(())
}
