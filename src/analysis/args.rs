//! The arguments of `eqmd analyze rdf|msd|vacf` and `eqmd plot` (their `--help`), and what
//! each prints when it is done.

use super::commands::{lag_files, rdf_files, TrajectoryArgs, Written};
use clap::Args;
use std::path::PathBuf;

/// `eqmd analyze rdf`.
#[derive(Debug, Args)]
pub struct RdfArgs {
    #[command(flatten)]
    pub input: TrajectoryArgs,
    /// Largest distance (the trajectory's length unit, Å in metal units). Default: half
    /// the narrowest perpendicular width of the cell, the most the minimum-image
    /// convention allows (a larger value is an error); without periodicity, the diagonal
    /// of the box around the atoms.
    #[arg(long, value_name = "R")]
    pub r_max: Option<f64>,
    /// Number of bins between 0 and --r-max (1 to 1,000,000).
    #[arg(long, default_value_t = 200,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub bins: usize,
    /// Species pairs to report beside the total, comma-separated (e.g. `Cu-Cu,Cu-Ni`).
    /// Default: every pair.
    #[arg(long, value_name = "A-B,...")]
    pub pairs: Option<String>,
    /// For a system that is not periodic along every axis: the volume to normalise by, so
    /// that the columns are g(r) (as ASE's `get_rdf(volume=...)`). Without it such a
    /// system's columns are `rho_*`, the number density of B atoms at distance r from an
    /// A atom (MDAnalysis's `InterRDF(norm="density")` divided by the number of A atoms).
    #[arg(long, value_name = "V")]
    pub volume: Option<f64>,
}

/// The time options of the time-correlation analyses.
#[derive(Debug, Args)]
pub struct LagArgs {
    #[command(flatten)]
    pub input: TrajectoryArgs,
    /// Time between consecutive frames of the file (the frame's index times DT is its
    /// time): needed when the frames carry no time (extended XYZ without a `time` key),
    /// and replaces the file's times when given.
    #[arg(long, value_name = "DT")]
    pub dt: Option<f64>,
    /// Largest lag time. Default: half the span of the selected frames (longer lags
    /// average over few time origins).
    #[arg(long, value_name = "TIME")]
    pub max_lag: Option<f64>,
}

/// `eqmd plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The thermo CSV of a run (header `step,time,pe,ke,etotal,temp,press`, and any other
    /// numeric columns such as `vol` or `mux,muy,muz`), or any CSV of numbers under a
    /// header, such as the metrics of `eqmd train` (empty cells are missing values; a
    /// column without any value is not drawn). Several files are drawn on the same panels,
    /// one curve each, to compare runs: the panels are the first file's columns.
    #[arg(required = true, num_args = 1.., value_name = "CSV")]
    pub thermo: Vec<PathBuf>,
    /// The SVG to write (default, for one CSV: its name with `.svg`; required for several).
    #[arg(short, long, value_name = "SVG")]
    pub output: Option<PathBuf>,
    /// The column of the horizontal axis (default `time`, else `step`, else the first
    /// column: `epoch` in a training log; `--x seconds` draws it against training time).
    #[arg(long, value_name = "COLUMN")]
    pub x: Option<String>,
    /// The columns to draw, one panel each, comma-separated (default: every numeric
    /// column but step and time).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub columns: Option<Vec<String>>,
    /// Logarithmic vertical axes (errors of a training that fall over decades); values at
    /// or below zero are left out.
    #[arg(long)]
    pub log_y: bool,
}

fn report(w: &Written) {
    println!(
        "wrote {} and {} from {} frames; {}",
        w.csv.display(),
        w.svg.display(),
        w.frames,
        w.summary
    );
}

impl RdfArgs {
    /// Computes and writes the RDF.
    pub fn run(&self) -> anyhow::Result<()> {
        let w = rdf_files(
            &self.input,
            self.r_max,
            self.bins,
            self.pairs.as_deref(),
            self.volume,
        )?;
        report(&w);
        Ok(())
    }
}

impl LagArgs {
    /// Computes and writes the MSD (`velocities` false) or the VACF (true).
    pub fn run(&self, velocities: bool) -> anyhow::Result<()> {
        report(&lag_files(&self.input, self.dt, self.max_lag, velocities)?);
        Ok(())
    }
}

impl PlotArgs {
    /// Draws the thermo columns.
    pub fn run(&self) -> anyhow::Result<()> {
        let svg = match (&self.output, self.thermo.as_slice()) {
            (Some(svg), _) => svg.clone(),
            (None, [csv]) => csv.with_extension("svg"),
            (None, _) => anyhow::bail!("several CSVs need --output, the SVG to write"),
        };
        let panels = super::plot::Panels {
            x: self.x.as_deref(),
            only: self.columns.as_deref(),
            log_y: self.log_y,
        };
        let drawn = super::plot::thermo(&self.thermo, &svg, &panels)?;
        println!("wrote {} ({})", svg.display(), drawn.join(", "));
        Ok(())
    }
}
