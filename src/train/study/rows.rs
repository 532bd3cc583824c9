//! The results of a symmetry study: one row per trained dipole head (or baseline) and
//! training-set size, and the CSV that holds them.

use anyhow::Context;
use std::path::Path;

/// What predicted the dipole of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Predictor {
    /// μ = 0 for every frame.
    Zero,
    /// The mean dipole vector of the training frames, for every frame.
    Mean,
    /// A trained head (see `DipoleHead`), by its deck name.
    Head(&'static str),
}

impl Predictor {
    /// Its name in the CSV: `zero`, `mean` or the head's deck name.
    pub fn name(&self) -> &'static str {
        match self {
            Predictor::Zero => "zero",
            Predictor::Mean => "mean",
            Predictor::Head(name) => name,
        }
    }
}

/// One row: a predictor trained (or taken) on `train_frames` frames and its validation
/// errors on the frames as given and as turned by seeded random rotations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub predictor: Predictor,
    /// Trained with random-rotation augmentation.
    pub augmented: bool,
    pub train_frames: usize,
    /// Trainable weights (0 for the baselines).
    pub parameters: usize,
    pub epochs: usize,
    pub seconds: f64,
    /// Validation energy and force MAE of the trained model (NaN for the baselines).
    pub energy_mae_mev_per_atom: f64,
    pub force_mae: f64,
    /// Dipole MAE per component and mean |Δμ| (e·Å), frames as given.
    pub dipole_mae: f64,
    pub dipole_norm_error: f64,
    /// The same on the rotated frames.
    pub rotated_dipole_mae: f64,
    pub rotated_dipole_norm_error: f64,
}

/// Header of the study's CSV.
pub const CSV_HEADER: &str = "head,augmented,train_frames,parameters,epochs,seconds,val_energy_mae_mev_per_atom,val_force_mae_mev_per_angstrom,dipole_mae_e_angstrom,dipole_norm_error_e_angstrom,rotated_dipole_mae_e_angstrom,rotated_dipole_norm_error_e_angstrom";

/// Name of the CSV in the output folder.
pub const CSV_NAME: &str = "symmetry-study.csv";
/// Name of the SVG figure in the output folder.
pub const SVG_NAME: &str = "symmetry-study.svg";

/// A number for the CSV: empty where it does not apply (NaN).
fn field(v: f64, digits: usize) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v:.digits$}")
    }
}

impl Row {
    /// The label of the row in the figure and the console.
    pub fn label(&self) -> String {
        let name = self.predictor.name();
        match self.augmented {
            true => format!("{name} (rotations)"),
            false => name.to_string(),
        }
    }

    /// The row as a CSV line.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{:.2},{},{},{:.6},{:.6},{:.6},{:.6}",
            self.predictor.name(),
            self.augmented,
            self.train_frames,
            self.parameters,
            self.epochs,
            self.seconds,
            field(self.energy_mae_mev_per_atom, 6),
            field(self.force_mae, 6),
            self.dipole_mae,
            self.dipole_norm_error,
            self.rotated_dipole_mae,
            self.rotated_dipole_norm_error
        )
    }

    /// Parses a line written by [`Row::csv_row`].
    pub fn parse(line: &str) -> anyhow::Result<Row> {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        anyhow::ensure!(f.len() == 12, "expected 12 fields, found {}", f.len());
        let predictor = match f[0] {
            "zero" => Predictor::Zero,
            "mean" => Predictor::Mean,
            name => Predictor::Head(
                crate::potential::equivariant::model::DipoleHead::parse(name)
                    .map_err(anyhow::Error::msg)?
                    .name(),
            ),
        };
        let num = |k: usize| -> anyhow::Result<f64> {
            match f[k] {
                "" => Ok(f64::NAN),
                s => s.parse().with_context(|| format!("field {}: `{s}`", k + 1)),
            }
        };
        let int = |k: usize| -> anyhow::Result<usize> {
            f[k].parse()
                .with_context(|| format!("field {}: `{}`", k + 1, f[k]))
        };
        Ok(Row {
            predictor,
            augmented: f[1]
                .parse()
                .with_context(|| format!("field 2: `{}`", f[1]))?,
            train_frames: int(2)?,
            parameters: int(3)?,
            epochs: int(4)?,
            seconds: num(5)?,
            energy_mae_mev_per_atom: num(6)?,
            force_mae: num(7)?,
            dipole_mae: num(8)?,
            dipole_norm_error: num(9)?,
            rotated_dipole_mae: num(10)?,
            rotated_dipole_norm_error: num(11)?,
        })
    }
}

/// Writes `rows` with the header to `path`, creating its folder.
pub fn write_csv(path: &Path, rows: &[Row]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut text = format!("{CSV_HEADER}\n");
    for r in rows {
        text += &r.csv_row();
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a CSV written by [`write_csv`].
pub fn read_csv(path: &Path) -> anyhow::Result<Vec<Row>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim() == CSV_HEADER => {}
        _ => anyhow::bail!("{}: not a symmetry-study CSV (header)", path.display()),
    }
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| Row::parse(l).with_context(|| format!("{} line {}", path.display(), k + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_survive_the_csv() {
        let row = Row {
            predictor: Predictor::Head("charges+dipoles"),
            augmented: true,
            train_frames: 50,
            parameters: 1234,
            epochs: 7,
            seconds: 1.5,
            energy_mae_mev_per_atom: 0.25,
            force_mae: 12.5,
            dipole_mae: 0.0125,
            dipole_norm_error: 0.025,
            rotated_dipole_mae: 0.0126,
            rotated_dipole_norm_error: 0.0251,
        };
        let base = Row {
            predictor: Predictor::Mean,
            augmented: false,
            parameters: 0,
            energy_mae_mev_per_atom: f64::NAN,
            force_mae: f64::NAN,
            ..row
        };
        let back = Row::parse(&row.csv_row()).unwrap();
        assert_eq!(back, row);
        let back = Row::parse(&base.csv_row()).unwrap();
        assert!(back.force_mae.is_nan() && back.predictor == Predictor::Mean);
        assert!(Row::parse("bogus,false,1,1,1,1,,,1,1,1,1").is_err());
        assert!(Row::parse("zero,false,1").is_err());
    }
}
