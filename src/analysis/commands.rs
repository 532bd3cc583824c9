//! `eqmd analyze rdf|msd|vacf` and `eqmd plot`: from the command's arguments to a CSV and
//! an SVG figure beside it (the same name with `.svg`), neither of which may be the input.

use super::dynamics::{msd, vacf, LagSeries};
use super::plot::{line_chart, Curve, Labels};
use super::rdf::{parse_pairs, rdf, RdfOptions};
use super::trajectory::{even_spacing, Selection, Trajectory};
use crate::io::guard::{check_outputs, NamedPath};
use anyhow::{anyhow, Context};
use clap::Args;
use std::path::{Path, PathBuf};

/// The trajectory and the frames of it to use, shared by the analyses.
#[derive(Debug, Args)]
pub struct TrajectoryArgs {
    /// The trajectory: H5MD (`.h5`, `.h5md`, `.hdf5`) or extended XYZ (anything else).
    pub trajectory: PathBuf,
    /// The frames to use, as a Python slice of the file's frames: `START:STOP:STEP`, each
    /// part optional and START, STOP negative to count from the end (`100:` skips 100
    /// frames, `::10` takes every tenth, `-50:` the last 50). Default: every frame.
    #[arg(long, value_name = "START:STOP:STEP", conflicts_with_all = ["skip", "every"])]
    pub frames: Option<String>,
    /// Leave out the first N frames (equilibration).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip: usize,
    /// Use every K-th frame after the skipped ones.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub every: usize,
    /// The CSV to write (default `<trajectory>.<analysis>.csv`); the figure gets the same
    /// name with `.svg`.
    #[arg(short, long, value_name = "CSV")]
    pub output: Option<PathBuf>,
}

impl TrajectoryArgs {
    fn selection(&self) -> anyhow::Result<Selection> {
        let s = match &self.frames {
            Some(text) => Selection::parse(text),
            None => Selection::skip_every(self.skip, self.every),
        };
        s.map_err(|e| anyhow!(e))
    }

    /// The CSV and SVG paths, checked against the trajectory.
    fn outputs(&self, analysis: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
        let csv = (self.output.clone())
            .unwrap_or_else(|| self.trajectory.with_extension(format!("{analysis}.csv")));
        let svg = csv.with_extension("svg");
        let outputs = [
            NamedPath::new("--output", &csv),
            NamedPath::new("the figure", &svg),
        ];
        check_outputs(
            &outputs,
            &[NamedPath::new("TRAJECTORY", &self.trajectory)],
            &[],
        )
        .map_err(|r| anyhow!("{}: {}", r.key, r.message))?;
        Ok((csv, svg))
    }
}

/// What an analysis wrote.
pub struct Written {
    pub csv: PathBuf,
    pub svg: PathBuf,
    /// Frames used.
    pub frames: usize,
    /// A line worth printing about the result.
    pub summary: String,
}

/// Writes `x` and the columns as a CSV with the header `x_name,names...`.
fn write_csv(
    path: &Path,
    x_name: &str,
    x: &[f64],
    columns: &[(String, Vec<f64>)],
) -> anyhow::Result<()> {
    let mut text = String::from(x_name);
    for (name, _) in columns {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    for (k, x) in x.iter().enumerate() {
        text += &format!("{x:.6e}");
        for (_, values) in columns {
            text += &format!(",{:.6e}", values[k]);
        }
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `eqmd analyze rdf`.
pub fn rdf_files(
    args: &TrajectoryArgs,
    r_max: Option<f64>,
    bins: usize,
    pairs: Option<&str>,
    volume: Option<f64>,
) -> anyhow::Result<Written> {
    let (csv, svg) = args.outputs("rdf")?;
    let options = RdfOptions {
        r_max,
        bins,
        pairs: pairs.map(parse_pairs).transpose().map_err(|e| anyhow!(e))?,
        volume,
    };
    let t = Trajectory::load(&args.trajectory, args.selection()?, false)?;
    let g = rdf(&t, &options).map_err(|e| anyhow!("{}: {e}", args.trajectory.display()))?;
    let prefix = if g.normalised { "g" } else { "rho" };
    let columns: Vec<(String, Vec<f64>)> = (g.columns.iter())
        .map(|(name, v)| (format!("{prefix}_{name}"), v.clone()))
        .collect();
    write_csv(&csv, "r", &g.r, &columns)?;
    let curves: Vec<Curve> = (columns.iter())
        .map(|(name, v)| Curve {
            name,
            x: &g.r,
            y: v,
        })
        .collect();
    let (title, y) = match g.normalised {
        true => ("Radial distribution function", "g(r)"),
        false => (
            "Local number density around an atom (no volume: not g(r))",
            "ρ(r) (per volume)",
        ),
    };
    let labels = Labels { title, x: "r", y };
    line_chart(&svg, &labels, &curves)?;
    let total = &g.columns[0].1;
    let peak = (0..total.len())
        .max_by(|&a, &b| total[a].total_cmp(&total[b]))
        .unwrap_or(0);
    Ok(Written {
        csv,
        svg,
        frames: t.frames.len(),
        summary: format!(
            "highest peak of {prefix}_total: {:.4} at r = {:.4} (bins of {:.4})",
            total[peak], g.r[peak], g.dr
        ),
    })
}

/// `eqmd analyze msd` (`velocities` false) or `eqmd analyze vacf` (true).
pub fn lag_files(
    args: &TrajectoryArgs,
    dt: Option<f64>,
    max_lag: Option<f64>,
    velocities: bool,
) -> anyhow::Result<Written> {
    let name = if velocities { "vacf" } else { "msd" };
    let (csv, svg) = args.outputs(name)?;
    let t = Trajectory::load(&args.trajectory, args.selection()?, velocities)?;
    let times = t.times(dt)?;
    let spacing = even_spacing(&times, &t.path)?;
    let where_ = |e: String| anyhow!("{}: {e}", t.path.display());
    let series: LagSeries = match velocities {
        true => vacf(&t, spacing, max_lag).map_err(where_)?,
        false => msd(&t, spacing, max_lag).map_err(where_)?,
    };
    write_csv(&csv, "lag_time", &series.lag, &series.columns)?;
    let unit = t
        .time_unit
        .as_deref()
        .map_or(String::new(), |u| format!(" ({u})"));
    let x = format!("lag time{unit}");
    let drawn: Vec<&(String, Vec<f64>)> = (series.columns.iter())
        .filter(|(n, _)| !velocities || n.starts_with("vacf_norm_"))
        .collect();
    let curves: Vec<Curve> = (drawn.iter())
        .map(|(name, v)| Curve {
            name,
            x: &series.lag,
            y: v,
        })
        .collect();
    let labels = match velocities {
        true => Labels {
            title: "Velocity autocorrelation (normalised; raw values in the CSV)",
            x: &x,
            y: "⟨v(0)·v(t)⟩ / ⟨v²⟩",
        },
        false => Labels {
            title: "Mean square displacement",
            x: &x,
            y: "MSD (length²)",
        },
    };
    line_chart(&svg, &labels, &curves)?;
    let last = series.lag.len() - 1;
    let summary = match velocities {
        true => format!("⟨v²⟩ = {:.6e}", series.columns[0].1[0]),
        false => format!(
            "MSD at the largest lag ({:.6}): {:.6e}",
            series.lag[last], series.columns[0].1[last]
        ),
    };
    Ok(Written {
        csv,
        svg,
        frames: t.frames.len(),
        summary,
    })
}
