//! Errors summed over frames, in the units reports use, and the CSV of metrics per epoch.

use super::loss::FrameErrors;
use std::io::Write;
use std::path::Path;

/// Errors of a set of frames: mean loss; energy MAE (meV, meV/atom) and RMSE; force MAE and RMSE
/// (meV/Å); stress RMSE (meV/Å³) when frames carry stress.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub frames: usize,
    pub loss: f64,
    pub energy_mae_mev: f64,
    pub energy_mae_mev_per_atom: f64,
    pub energy_rmse_mev: f64,
    pub force_mae: f64,
    pub force_rmse: f64,
    pub stress_rmse: Option<f64>,
    /// Dipole MAE per component and mean |Δμ| (e·Å), when the model has a dipole head and
    /// the frames dipoles.
    pub dipole: Option<(f64, f64)>,
}

impl Summary {
    /// The summary of per-frame errors.
    pub fn of(errors: &[FrameErrors]) -> Summary {
        let n = errors.len().max(1) as f64;
        let comps: usize = errors.iter().map(|e| 3 * e.atoms).sum();
        let comps = comps.max(1) as f64;
        let stress: Vec<f64> = errors.iter().filter_map(|e| e.stress_sq).collect();
        let dipoles: Vec<glam::DVec3> = errors.iter().filter_map(|e| e.dipole_error).collect();
        let dipole = (!dipoles.is_empty()).then(|| {
            let k = dipoles.len() as f64;
            let mae = dipoles.iter().map(|d| d.abs().element_sum()).sum::<f64>() / (3.0 * k);
            (mae, dipoles.iter().map(|d| d.length()).sum::<f64>() / k)
        });
        Summary {
            frames: errors.len(),
            loss: errors.iter().map(|e| e.loss).sum::<f64>() / n,
            energy_mae_mev: 1e3 * errors.iter().map(|e| e.energy_error.abs()).sum::<f64>() / n,
            energy_mae_mev_per_atom: 1e3
                * errors
                    .iter()
                    .map(|e| e.energy_error.abs() / e.atoms.max(1) as f64)
                    .sum::<f64>()
                / n,
            energy_rmse_mev: 1e3
                * (errors.iter().map(|e| e.energy_error.powi(2)).sum::<f64>() / n).sqrt(),
            force_mae: 1e3 * errors.iter().map(|e| e.force_abs).sum::<f64>() / comps,
            force_rmse: 1e3 * (errors.iter().map(|e| e.force_sq).sum::<f64>() / comps).sqrt(),
            stress_rmse: (!stress.is_empty())
                .then(|| 1e3 * (stress.iter().sum::<f64>() / (9.0 * stress.len() as f64)).sqrt()),
            dipole,
        }
    }
}

/// Header of the metrics CSV.
pub const CSV_HEADER: &str = "epoch,learning_rate,seconds,train_loss,train_energy_mae_mev_per_atom,train_force_mae_mev_per_angstrom,val_loss,val_energy_mae_mev,val_energy_mae_mev_per_atom,val_force_mae_mev_per_angstrom,val_force_rmse_mev_per_angstrom,val_stress_rmse_mev_per_angstrom3,val_dipole_mae_e_angstrom,val_dipole_norm_error_e_angstrom";

/// One CSV row.
pub fn csv_row(epoch: usize, lr: f64, seconds: f64, train: &Summary, val: &Summary) -> String {
    let stress = val
        .stress_rmse
        .map(|s| format!("{s:.6}"))
        .unwrap_or_default();
    let dipole = val
        .dipole
        .map(|(mae, norm)| format!("{mae:.6e},{norm:.6e}"))
        .unwrap_or_else(|| ",".into());
    format!(
        "{epoch},{lr:.6e},{seconds:.2},{:.6e},{:.6},{:.6},{:.6e},{:.6},{:.6},{:.6},{:.6},{stress},{dipole}",
        train.loss,
        train.energy_mae_mev_per_atom,
        train.force_mae,
        val.loss,
        val.energy_mae_mev,
        val.energy_mae_mev_per_atom,
        val.force_mae,
        val.force_rmse,
    )
}

/// Opens the CSV for a run: new with its header, or on resume keeping the rows of the
/// epochs up to `keep_epochs` (later rows belong to work the checkpoint does not hold).
pub fn open_csv(path: &Path, keep_epochs: Option<usize>) -> std::io::Result<std::fs::File> {
    let mut lines = vec![CSV_HEADER.to_string()];
    if let (Some(keep), Ok(old)) = (keep_epochs, std::fs::read_to_string(path)) {
        for line in old.lines().skip(1) {
            let epoch = line.split(',').next().and_then(|e| e.parse::<usize>().ok());
            if epoch.is_some_and(|e| e <= keep) {
                lines.push(line.to_string());
            }
        }
    }
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let mut f = std::fs::File::create(path)?;
    for l in lines {
        writeln!(f, "{l}")?;
    }
    Ok(f)
}
