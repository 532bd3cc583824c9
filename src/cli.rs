//! The command line: `eqmd run DECK`, `eqmd train DECK`, `eqmd learning-curve DECK`,
//! `eqmd symmetry-study DECK`, `eqmd model init|show`, `eqmd eval`, `eqmd benchmark`,
//! `eqmd analyze ir|rdf|msd|vacf`, `eqmd plot`.

use crate::potential::equivariant::{
    file,
    model::{DipoleHead, Hyper},
};
use crate::run::{run_deck, RunOptions};
use crate::tools;
use crate::train::config::defaults;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::LazyLock;

/// The default radial widths as `--radial-hidden` takes them: comma-separated.
static RADIAL_HIDDEN: LazyLock<String> = LazyLock::new(|| {
    let widths: Vec<String> = defaults::RADIAL_HIDDEN
        .iter()
        .map(usize::to_string)
        .collect();
    widths.join(",")
});

/// eqmd: molecular dynamics with classical and machine-learned potentials.
#[derive(Debug, Parser)]
#[command(name = "eqmd", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Whether the command was given `-q`: then only warnings and errors are logged
    /// (unless RUST_LOG says otherwise).
    pub fn quiet(&self) -> bool {
        match &self.command {
            Command::Run { quiet, .. }
            | Command::Train { quiet, .. }
            | Command::LearningCurve { quiet, .. }
            | Command::SymmetryStudy { quiet, .. } => *quiet,
            _ => false,
        }
    }
}

/// The things eqmd does.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a finished run's trajectory.
    #[command(subcommand)]
    Analyze(AnalyzeCommand),
    /// Draw a thermo CSV as an SVG, one panel per column against time.
    ///
    /// Every numeric column of a run's `thermo.file` (pe, ke, etotal, temp, press, vol,
    /// ...) gets a panel of its own, against time (or step). Any CSV of numbers works the
    /// same, such as the metrics of `eqmd train` (against the epoch, or `--x seconds`).
    /// Several CSVs share the panels, one curve each, to compare runs, e.g.
    /// `eqmd plot a.csv b.csv --x seconds --columns val_force_mae_mev_per_angstrom --log-y
    /// -o ab.svg`.
    Plot(crate::analysis::args::PlotArgs),
    /// Run the simulation an input deck (TOML) describes: dynamics (NVE, NVT, NPT), a
    /// minimisation (`[minimize]`, the cell free or not), or `[[stage]]` blocks of both run
    /// in order on one step clock.
    ///
    /// Writes, under --output-dir or else beside the deck: the thermo CSV
    /// (step,time,pe,ke,etotal,temp,press, and vol when the cell can change; energies per
    /// atom in lj units and totals in metal units unless `thermo.norm` says; `thermo.file`, default `<deck>.thermo.csv`),
    /// the checkpoint (`checkpoint.file`, default `<deck>.checkpoint`, at the end, every
    /// `checkpoint.every` steps and on a stop) and, if the deck asks, an extended-XYZ
    /// trajectory (`trajectory.file`) and an H5MD one (`h5md.file`). No output may be the
    /// deck, its structure or potential files, another output or a special file.
    /// Relative input paths in the deck resolve against its folder. Set RUST_LOG=debug
    /// for details.
    Run {
        /// The input deck.
        deck: PathBuf,
        /// Override a deck value, e.g. `--set integrator.steps=20000` or, in a stage,
        /// `--set stage[1].steps=5000` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Folder for relative output paths (default: the deck's folder).
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
        /// Quiet: no thermo table, no progress bar, only warnings and errors logged.
        #[arg(long, short)]
        quiet: bool,
        /// Continue from a checkpoint written by an earlier run of this deck, bit for bit,
        /// in the stage it was written in, up to the deck's `integrator.steps` (or its last
        /// stage's end); thermo and trajectory files are continued as an uninterrupted run
        /// would have written them. A checkpoint of another system, potential, timestep,
        /// thermostat, barostat or skin, or one already at the end, is refused, naming what
        /// differs.
        #[arg(long, value_name = "FILE")]
        restart: Option<PathBuf>,
    },
    /// Fit an equivariant network to reference energies, forces and stress (extended XYZ)
    /// as a training deck (TOML) describes: seeded train/validation split, Adam with exact
    /// gradients, moving-average weights, learning-rate schedule (plateau, or cosine over the
    /// epochs or the time limit), weight decay (`optimizer.weight_decay`), MACE's stage two
    /// (`[stage_two]`: other loss weights and a held rate for the end of the budget), early
    /// stopping. Writes the best model (by validation loss), a CSV of metrics per epoch and a
    /// checkpoint (at most once per `output.checkpoint_seconds`, default 10, and at the end);
    /// Ctrl-C stops between two batches with the last whole epoch written, for `--resume`.
    /// Set RUST_LOG=info for a line per epoch.
    Train {
        /// The training deck.
        deck: PathBuf,
        /// Override a deck value, e.g. `--set optimizer.epochs=10` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Continue from the deck's checkpoint exactly where it stopped.
        #[arg(long)]
        resume: bool,
        /// Replace the deck's `output.model` if it exists (otherwise a fresh run refuses to
        /// start, so that no model is lost by accident).
        #[arg(long)]
        force: bool,
        /// Quiet: no progress bar, only warnings and errors logged.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Measure learning curves: validation errors against the number of training frames
    /// for several model shapes (e.g. an invariant L = 0 model against equivariant L = 1, 2
    /// ones of similar size), as a curve deck (TOML) describes.
    ///
    /// The deck names a training deck (`base`), the training-set sizes (`frames`), the
    /// models (`[[model]]` with `lmax`, `channels` and optionally `correlation`, the
    /// product basis's order ν), the budget of every run (`epochs`,
    /// `minutes`) and an `output` folder. Every model is trained from scratch on every
    /// size, all validated on the same frames; per-run models, metrics and checkpoints go
    /// to the folder of the base deck's `output.model`. Writes `learning-curves.csv` (one
    /// row per run: parameters, epochs, seconds, validation energy and force errors) and
    /// `learning-curves.svg` (force and energy MAE against frames, log-log), both rewritten
    /// after every run. Set RUST_LOG=info for a line per epoch.
    LearningCurve {
        /// The curve deck.
        deck: PathBuf,
        /// Override a curve-deck value, e.g. `--set epochs=50` or `--set frames=[50,100]`
        /// (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Only re-draw the SVG from the existing CSV, without training.
        #[arg(long)]
        plot_only: bool,
        /// No progress bar and no line per run.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Train three dipole heads on one network with the same data and budget, and show
    /// which survive a rotation: an invariant head (three numbers read off the scalars), a
    /// charge head (μ = Σ q_i r_i) and charges plus atomic dipoles from the l = 1 features.
    ///
    /// The study deck names a training deck (`base`, with `loss.dipole` > 0: its data,
    /// split, network and optimizer), the training-set sizes (`frames`), the budget of
    /// every run (`epochs`, `minutes`), the seed of the validation rotations
    /// (`rotation_seed`) and an `output` folder. Every head is trained on every size, and
    /// the invariant head once more on the largest with random-rotation augmentation; each
    /// is evaluated on the validation frames as given and rotated, beside two baselines
    /// (zero, and the mean training dipole). Writes `symmetry-study.csv` (one row per run)
    /// and `symmetry-study.svg` (errors on the largest set; learning curves), both
    /// rewritten after every run; per-run models go to the folder of the base deck's
    /// `output.model`.
    SymmetryStudy {
        /// The study deck.
        deck: PathBuf,
        /// Override a study-deck value, e.g. `--set epochs=20` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Only re-draw the SVG from the existing CSV, without training.
        #[arg(long)]
        plot_only: bool,
        /// No progress bar and no line per run.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Create or inspect equivariant-network model files.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Report a network model's energy and force errors (MAE, RMSE) on reference frames of
    /// an extended-XYZ file that carry `energy` and `forces` (eV, eV/Å), and its dipole
    /// errors (e·Å and Debye) if it has a dipole head and the frames a `dipole`.
    Eval {
        /// The model file.
        model: PathBuf,
        /// The reference data (extended XYZ with energy and forces).
        #[arg(required_unless_present = "deck")]
        data: Option<PathBuf>,
        /// A training deck instead of a data file: its training and validation frames, as
        /// its seeded split chose them, are reported apart (JSON: `train`, `validation`).
        #[arg(long, conflicts_with = "data")]
        deck: Option<PathBuf>,
        /// Turn every frame of DATA (molecules) by a random rotation of its own, seeded by
        /// SEED and the frame's index, before evaluating: positions, forces and dipoles
        /// rotate, energies do not. An equivariant model scores the same as on the frames
        /// as given; one that learned their orientation does not.
        #[arg(long, value_name = "SEED", conflicts_with = "deck")]
        rotate: Option<u64>,
        /// Print JSON (`n_frames`, `energy_mae_mev`, `energy_mae_mev_per_atom`,
        /// `energy_rmse_mev`, `force_mae_mev_per_angstrom`, `force_rmse_mev_per_angstrom`;
        /// with a dipole head on frames with `dipole`, also `dipole_mae_e_angstrom` (per
        /// component), `dipole_norm_error_e_angstrom` (mean |Δμ|) and the same in Debye).
        #[arg(long)]
        json: bool,
    },
    /// Time energy + forces of a network model on a structure (median µs per call).
    Benchmark {
        /// The model file.
        #[arg(long)]
        model: PathBuf,
        /// An extended-XYZ structure (its last frame is used).
        #[arg(long)]
        structure: PathBuf,
        /// Timed calls after one warm-up call (1 to 1,000,000).
        #[arg(long, default_value_t = 20,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        repeat: usize,
        /// Print JSON (`median_us_per_call`, `atoms`, ...) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// What `eqmd model` does.
/// The analyses of `eqmd analyze`.
#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// The infrared spectrum of an H5MD trajectory written with a dipole-head model
    /// (`/observables/dipole`): the Fourier transform of the autocorrelation of dμ/dt
    /// (Hann window, harmonic quantum correction), as a CSV of wavenumber (cm⁻¹) and
    /// normalised intensity and an SVG figure beside it; when the trajectory stores
    /// velocities, the vibrational density of states (mass-weighted velocity
    /// autocorrelation) of the same frames as a third column and a second curve. Write the
    /// dipole often (h5md.every of a few femtoseconds): the highest wavenumber seen is
    /// 1 / (2 c · interval).
    Ir {
        /// The H5MD trajectory.
        trajectory: PathBuf,
        /// The CSV to write (default `<trajectory>.ir.csv`); the figure gets `.svg`.
        #[arg(short, long, value_name = "CSV")]
        output: Option<PathBuf>,
        /// Largest lag of the autocorrelation (ps): the resolution is 1 / (2 c · lag).
        #[arg(long, default_value_t = 1.0)]
        max_lag: f64,
        /// Right end of the figure's axis (cm⁻¹).
        #[arg(long, default_value_t = 4000.0)]
        max_wavenumber: f64,
    },
    /// The radial distribution function g(r), total and per species pair.
    ///
    /// Of an H5MD or extended-XYZ trajectory, averaged over the selected frames: pairs at
    /// their minimum image in periodic cells of any shape, normalised by an ideal gas of the
    /// same density (N_A (N_A - 1) pairs for like species), so g -> 1 at large r. A system
    /// not periodic along every axis gets the number density around an atom (`rho_*`)
    /// unless --volume is given. Writes a CSV (`r,g_total,g_A-B,...`) and an SVG.
    Rdf(crate::analysis::args::RdfArgs),
    /// The mean square displacement against lag time, total and per species.
    ///
    /// Averaged over time origins, periodic jumps unwrapped (each frame's displacement from
    /// the previous one at its minimum image: no atom may move half a cell between two
    /// frames). Writes a CSV (`lag_time,msd_total,msd_A,...`) and an SVG.
    Msd(crate::analysis::args::LagArgs),
    /// The velocity autocorrelation against lag time, total and per species.
    ///
    /// <v(0).v(t)> averaged over time origins, raw (`vacf_*`) and normalised to 1 at lag 0
    /// (`vacf_norm_*`). Needs velocities: H5MD with "velocity" in h5md.fields, or extended
    /// XYZ with a `velocities`, `vel` or (ASE's) `momenta` column. Writes a CSV and an SVG.
    Vacf(crate::analysis::args::LagArgs),
}

/// Where `eqmd model init` and `eqmd model widen` write their model.
#[derive(Debug, clap::Args)]
pub struct ModelOutput {
    /// Output model file (HDF5); never an input.
    #[arg(short, long)]
    output: PathBuf,
    /// Replace the output if it exists (otherwise an existing file is refused, so that no
    /// model is lost by accident).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Write a model with random weights (for tests, benchmarks, or to start training).
    Init {
        /// Species the model knows, comma-separated (e.g. H,C,O).
        #[arg(long, value_delimiter = ',', required = true)]
        species: Vec<String>,
        /// Largest irrep degree L (0 = invariant model), at most 3.
        #[arg(long, default_value_t = defaults::LMAX)]
        lmax: usize,
        /// Channels per irrep.
        #[arg(long, default_value_t = defaults::CHANNELS)]
        channels: usize,
        /// Interaction layers.
        #[arg(long, default_value_t = defaults::LAYERS)]
        layers: usize,
        /// Cutoff radius (Å).
        #[arg(long, default_value_t = defaults::CUTOFF)]
        cutoff: f64,
        /// Bessel functions of the radial basis.
        #[arg(long, default_value_t = defaults::RADIAL_BASIS)]
        radial_basis: usize,
        /// Hidden widths of the radial MLP, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = RADIAL_HIDDEN.as_str())]
        radial_hidden: Vec<usize>,
        /// Keep only parity-conserving couplings (0e, 1o, 2e, 3o): invariant under inversion.
        #[arg(long)]
        parity: bool,
        /// Factors of the aggregated messages in each layer's product basis: 1 is a
        /// NequIP layer, 2 or 3 a MACE layer of body order 3 or 4.
        #[arg(long, default_value_t = defaults::CORRELATION)]
        correlation: usize,
        /// Read out every layer's scalars and sum them into the energy (as MACE does),
        /// not only the last layer's.
        #[arg(long)]
        layer_readouts: bool,
        /// Add a dipole head: `charges+dipoles` (charges from the last scalars and atomic
        /// dipoles from the last l = 1 features, μ = Σ_i (q_i r_i + μ_i)), `charges` (μ =
        /// Σ_i q_i r_i) or `invariant` (three numbers from the summed scalars, not
        /// equivariant: a baseline).
        #[arg(long, value_name = "HEAD", value_parser = DipoleHead::parse)]
        dipole: Option<DipoleHead>,
        /// Average neighbour count used to normalise messages.
        #[arg(long, default_value_t = 20.0)]
        avg_neighbors: f64,
        /// Scale of the atomic energies (eV).
        #[arg(long, default_value_t = 1.0)]
        energy_scale: f64,
        /// Seed of the random weights.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        out: ModelOutput,
    },
    /// Widen a model to more channels or a higher degree L: the wide model computes the
    /// same energies, forces, virial and dipoles (to rounding); its new features start from
    /// random weights and are read through weights that start at zero, for training to use
    /// (more capacity without starting again; a training deck does the same with
    /// `model.widen`).
    Widen {
        /// The model file to widen.
        file: PathBuf,
        /// Channels of the wide model (at least the file's; default: the file's).
        #[arg(long)]
        channels: Option<usize>,
        /// Largest irrep degree of the wide model (at least the file's, at most 3; default:
        /// the file's).
        #[arg(long)]
        lmax: Option<usize>,
        /// Seed of the new features' weights.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        out: ModelOutput,
    },
    /// Print a model's hyper-parameters and parameter count.
    Show {
        /// The model file.
        file: PathBuf,
    },
}

/// Runs the parsed command line.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            deck,
            overrides,
            output_dir,
            quiet,
            restart,
        } => {
            let options = RunOptions {
                overrides,
                output_dir,
                echo: !quiet,
                progress: true,
                restart,
            };
            // run on a worker of the thread pool, so that the parallel loops of every step
            // start without a hand-off between threads
            let summary = rayon::scope(|_| run_deck(&deck, &options))?;
            if !quiet {
                println!(
                    "{} steps of {} atoms in {:.3} s ({:.4} µs/atom-step); thermo in {}",
                    summary.steps,
                    summary.atoms,
                    summary.seconds,
                    1e6 * summary.seconds / (summary.atoms as f64 * summary.steps.max(1) as f64),
                    summary.thermo_file.display()
                );
            }
            Ok(())
        }
        Command::Model(ModelCommand::Init {
            species,
            lmax,
            channels,
            layers,
            cutoff,
            radial_basis,
            radial_hidden,
            parity,
            correlation,
            layer_readouts,
            dipole,
            avg_neighbors,
            energy_scale,
            seed,
            out: ModelOutput { output, force },
        }) => {
            let hyper = Hyper {
                species,
                lmax,
                channels,
                layers,
                cutoff,
                radial_basis,
                radial_hidden,
                parity,
                avg_neighbors,
                correlation,
                layer_readouts,
                dipole,
            };
            let model = tools::init(hyper, seed, energy_scale, &output, force)?;
            println!("wrote {}\n{}", output.display(), model.shape().describe());
            Ok(())
        }
        Command::Analyze(AnalyzeCommand::Ir {
            trajectory,
            output,
            max_lag,
            max_wavenumber,
        }) => {
            let output = output.unwrap_or_else(|| trajectory.with_extension("ir.csv"));
            let ir = crate::analysis::files::ir(&trajectory, &output, max_lag, max_wavenumber)?;
            let list = |p: &[f64]| -> String {
                let p: Vec<String> = p.iter().map(|k| format!("{k:.0}")).collect();
                p.join(", ")
            };
            println!(
                "wrote {} and {}; IR peaks above 5 % at {} cm⁻¹",
                output.display(),
                ir.svg.display(),
                list(&ir.peaks)
            );
            if let Some(p) = &ir.vdos_peaks {
                println!("density-of-states peaks above 5 % at {} cm⁻¹", list(p));
            }
            Ok(())
        }
        Command::Analyze(AnalyzeCommand::Rdf(args)) => args.run(),
        Command::Analyze(AnalyzeCommand::Msd(args)) => args.run(false),
        Command::Analyze(AnalyzeCommand::Vacf(args)) => args.run(true),
        Command::Plot(args) => args.run(),
        Command::Model(ModelCommand::Widen {
            file,
            channels,
            lmax,
            seed,
            out: ModelOutput { output, force },
        }) => {
            let model = tools::widen(&file, (channels, lmax), seed, &output, force)?;
            println!("wrote {}\n{}", output.display(), model.shape().describe());
            Ok(())
        }
        Command::Model(ModelCommand::Show { file: path }) => {
            let model = file::load(&path)?;
            print!("{}", model.shape().describe());
            Ok(())
        }
        Command::Train {
            deck,
            overrides,
            resume,
            force,
            quiet,
        } => {
            let mut training = crate::train::trainer::Training::load(&deck, &overrides)?;
            training.overwrite = force;
            // on a worker of the thread pool, as `run` (and the learning curve and symmetry
            // study, made of trainings): every batch's parallel loops then start without a
            // hand-off between threads, which cost a fifth of a one-thread training
            let o = rayon::scope(|_| training.run(resume, !quiet))?;
            println!("model             {}", o.model.display());
            println!("weights           {}", o.parameters);
            println!("epochs            {} (best {})", o.epochs, o.best_epoch);
            println!("training time     {:.1} s", o.seconds);
            println!(
                "validation        E MAE {:.3} meV ({:.3} meV/atom), F MAE {:.3} meV/Å, F RMSE {:.3} meV/Å",
                o.best.energy_mae_mev, o.best.energy_mae_mev_per_atom, o.best.force_mae, o.best.force_rmse
            );
            if let Some(s) = o.best.stress_rmse {
                println!("validation stress RMSE {s:.4} meV/Å³");
            }
            Ok(())
        }
        Command::LearningCurve {
            deck,
            overrides,
            plot_only,
            quiet,
        } => rayon::scope(|_| learning_curve(&deck, &overrides, plot_only, quiet)),
        Command::SymmetryStudy {
            deck,
            overrides,
            plot_only,
            quiet,
        } => rayon::scope(|_| tools::symmetry_study(&deck, &overrides, plot_only, quiet)),
        Command::Eval {
            model,
            data,
            deck,
            rotate,
            json,
        } => {
            let model = file::load(&model)?;
            match (data, deck) {
                (Some(data), None) => {
                    let e = tools::evaluate_errors(&model, &data, rotate)?;
                    match json {
                        true => println!("{}", e.json()),
                        false => print!("{}", e.table()),
                    }
                }
                (None, Some(deck)) => {
                    let (train, val) = tools::evaluate_split(&model, &deck)?;
                    match json {
                        true => println!(
                            "{{\"train\": {}, \"validation\": {}}}",
                            train.json(),
                            val.json()
                        ),
                        false => print!(
                            "training frames\n{}\nvalidation frames\n{}",
                            train.table(),
                            val.table()
                        ),
                    }
                }
                _ => anyhow::bail!("eqmd eval takes a data file or --deck TRAINING.toml, not both"),
            }
            Ok(())
        }
        Command::Benchmark {
            model,
            structure,
            repeat,
            json,
        } => {
            let b = tools::benchmark(file::load(&model)?, &structure, repeat)?;
            if json {
                println!(
                    "{{\"median_us_per_call\": {}, \"atoms\": {}, \"edges\": {}, \"repeat\": {}, \"atom_evaluations_per_second\": {}}}",
                    b.median_us_per_call, b.atoms, b.edges, b.repeat, b.atom_evaluations_per_second
                );
            } else {
                println!(
                    "{} atoms, {} edges: median {:.1} µs per energy + forces call over {} call{} ({:.0} atom-evaluations/s, {} thread{})",
                    b.atoms,
                    b.edges,
                    b.median_us_per_call,
                    b.repeat,
                    if b.repeat == 1 { "" } else { "s" },
                    b.atom_evaluations_per_second,
                    rayon::current_num_threads(),
                    if rayon::current_num_threads() == 1 { "" } else { "s" }
                );
            }
            Ok(())
        }
    }
}

/// `eqmd learning-curve`: checks the deck, prints the models and their sizes, runs every
/// training (or only re-draws the figure) and says where the results are.
fn learning_curve(
    deck: &std::path::Path,
    overrides: &[String],
    plot_only: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    use crate::train::curves::{replot, LearningCurve};
    if plot_only {
        let svg = replot(deck, overrides)?;
        println!("wrote {}", svg.display());
        return Ok(());
    }
    let curve = LearningCurve::load(deck, overrides)?;
    let d = &curve.deck.deck;
    if !quiet {
        for (m, n) in d.model.iter().zip(&curve.parameters) {
            let nu = m.correlation.unwrap_or(curve.base.deck.model.correlation);
            println!(
                "L = {}, ν = {nu}, {:>3} channels: {n} weights",
                m.lmax, m.channels
            );
        }
        println!(
            "{} runs on {:?} training frames; scratch files in {}",
            d.model.len() * d.frames.len(),
            d.frames,
            curve.scratch.display()
        );
        println!("lmax  ν channels frames epochs  seconds  E MAE (meV/atom)  F MAE (meV/Å)");
    }
    curve.run(!quiet, |p| {
        if !quiet {
            println!(
                "{:>4} {:>2} {:>8} {:>6} {:>6} {:>8.1} {:>17.3} {:>14.2}",
                p.lmax,
                p.correlation,
                p.channels,
                p.train_frames,
                p.epochs,
                p.seconds,
                p.val_energy_mae_mev_per_atom,
                p.val_force_mae
            );
        }
    })?;
    println!(
        "wrote {} and {}",
        curve.csv_path().display(),
        curve.svg_path().display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::config::ModelSection;

    #[test]
    fn model_init_defaults_are_the_training_deck_defaults() {
        let cli =
            Cli::try_parse_from(["eqmd", "model", "init", "--species", "H", "-o", "m.h5"]).unwrap();
        let Command::Model(ModelCommand::Init {
            lmax,
            channels,
            layers,
            cutoff,
            radial_basis,
            radial_hidden,
            parity,
            ..
        }) = cli.command
        else {
            panic!("not model init: {cli:?}");
        };
        let deck = ModelSection::default();
        assert_eq!(
            (lmax, channels, layers, radial_basis, parity),
            (
                deck.lmax,
                deck.channels,
                deck.layers,
                deck.radial_basis,
                deck.parity
            )
        );
        assert_eq!(cutoff, deck.cutoff);
        assert_eq!(radial_hidden, deck.radial_hidden);
    }
}
