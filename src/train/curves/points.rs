//! The results of a learning-curve run: one point per trained model and training-set size,
//! and the CSV that holds them.

use anyhow::Context;
use std::path::Path;

/// One finished run: a row of the CSV and a point of the figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub lmax: usize,
    pub channels: usize,
    /// Correlation order ν of the product basis (1: messages as NequIP's).
    pub correlation: usize,
    /// Trainable weights of the model.
    pub parameters: usize,
    pub train_frames: usize,
    /// Epochs run (fewer than asked when the time limit or early stopping ended the run).
    pub epochs: usize,
    /// Training time, validation included.
    pub seconds: f64,
    /// Validation errors of the best epoch (by validation loss).
    pub val_energy_mae_mev_per_atom: f64,
    pub val_force_mae: f64,
    pub val_force_rmse: f64,
}

/// Header of the learning-curve CSV.
pub const CSV_HEADER: &str = "lmax,channels,correlation,parameters,train_frames,epochs,seconds,val_energy_mae_mev_per_atom,val_force_mae_mev_per_angstrom,val_force_rmse_mev_per_angstrom";

/// The header before the correlation column existed; its rows are read as ν = 1.
const CSV_HEADER_V1: &str = "lmax,channels,parameters,train_frames,epochs,seconds,val_energy_mae_mev_per_atom,val_force_mae_mev_per_angstrom,val_force_rmse_mev_per_angstrom";

/// Name of the CSV in the output folder.
pub const CSV_NAME: &str = "learning-curves.csv";
/// Name of the SVG figure in the output folder.
pub const SVG_NAME: &str = "learning-curves.svg";

impl Point {
    /// The point as a CSV row.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{:.2},{:.6},{:.6},{:.6}",
            self.lmax,
            self.channels,
            self.correlation,
            self.parameters,
            self.train_frames,
            self.epochs,
            self.seconds,
            self.val_energy_mae_mev_per_atom,
            self.val_force_mae,
            self.val_force_rmse
        )
    }

    /// Parses a CSV row written by [`Point::csv_row`]; `with_correlation` false reads a row
    /// of the older layout without the correlation column (ν = 1).
    pub fn parse(row: &str, with_correlation: bool) -> anyhow::Result<Point> {
        let mut f: Vec<&str> = row.split(',').map(str::trim).collect();
        if !with_correlation && f.len() == 9 {
            f.insert(2, "1");
        }
        anyhow::ensure!(f.len() == 10, "expected 10 columns, found {}", f.len());
        let int = |k: usize| {
            f[k].parse::<usize>()
                .with_context(|| format!("column {}: `{}` is not a count", k + 1, f[k]))
        };
        let real = |k: usize| {
            f[k].parse::<f64>()
                .with_context(|| format!("column {}: `{}` is not a number", k + 1, f[k]))
        };
        Ok(Point {
            lmax: int(0)?,
            channels: int(1)?,
            correlation: int(2)?,
            parameters: int(3)?,
            train_frames: int(4)?,
            epochs: int(5)?,
            seconds: real(6)?,
            val_energy_mae_mev_per_atom: real(7)?,
            val_force_mae: real(8)?,
            val_force_rmse: real(9)?,
        })
    }
}

/// Writes `points` as a CSV with its header, creating the folder.
pub fn write_csv(path: &Path, points: &[Point]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut text = format!("{CSV_HEADER}\n");
    for p in points {
        text.push_str(&p.csv_row());
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a CSV written by [`write_csv`] (or by a version without the correlation column);
/// errors name the file and the line.
pub fn read_csv(path: &Path) -> anyhow::Result<Vec<Point>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let with_correlation = match lines.next() {
        Some((_, h)) if h.trim() == CSV_HEADER => true,
        Some((_, h)) if h.trim() == CSV_HEADER_V1 => false,
        _ => anyhow::bail!("{}: the first line is not `{CSV_HEADER}`", path.display()),
    };
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            Point::parse(l, with_correlation)
                .with_context(|| format!("{}:{}", path.display(), n + 1))
        })
        .collect()
}
