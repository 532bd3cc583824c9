//! Time correlations of a trajectory: the mean square displacement and the velocity
//! autocorrelation, against the lag time, averaged over all time origins and over the atoms
//! (in total and per species).
//!
//! MSD(τ) = ⟨|r_i(t + τ) − r_i(t)|²⟩ on unwrapped positions: each frame's displacement from
//! the one before is taken at its minimum image (in the later frame's cell), so periodic
//! jumps vanish as long as no atom moves half a cell width between two frames.
//! VACF(τ) = ⟨v_i(t) · v_i(t + τ)⟩, raw (velocity²) and normalised by its value at τ = 0.

use super::trajectory::Trajectory;
use glam::DVec3;
use rayon::prelude::*;

/// A function of the lag time: `lag` and named columns of the same length.
#[derive(Clone, Debug, PartialEq)]
pub struct LagSeries {
    /// Lag times, from 0 in steps of the frames' spacing.
    pub lag: Vec<f64>,
    /// (name, values): totals first, then per species.
    pub columns: Vec<(String, Vec<f64>)>,
}

/// The number of lags (including 0) for frames `dt` apart: up to `max_lag` (at most the
/// whole series), by default half of it.
fn lag_count(frames: usize, dt: f64, max_lag: Option<f64>) -> Result<usize, String> {
    match max_lag {
        None => Ok((frames - 1) / 2 + 1),
        Some(m) if !(m.is_finite() && m >= 0.0) => {
            Err(format!("--max-lag {m}: must be a non-negative time"))
        }
        Some(m) => {
            let k = (m / dt + 1e-6).floor() as usize;
            if k > frames - 1 {
                return Err(format!(
                    "--max-lag {m} is longer than the selected frames span ({})",
                    dt * (frames - 1) as f64
                ));
            }
            Ok(k + 1)
        }
    }
}

/// Positions with periodic jumps removed, atom by atom: `out[i][k]` is atom i in frame k.
pub fn unwrapped(t: &Trajectory) -> Vec<Vec<DVec3>> {
    let n = t.species.len();
    let mut out: Vec<Vec<DVec3>> = (0..n).map(|_| Vec::with_capacity(t.frames.len())).collect();
    let mut worst: f64 = 0.0;
    for (k, f) in t.frames.iter().enumerate() {
        let widths = f.cell.perpendicular_widths();
        let pbc = f.cell.pbc();
        let narrowest = (0..3)
            .filter(|&a| pbc[a])
            .map(|a| widths[a])
            .fold(f64::INFINITY, f64::min);
        for (i, r) in f.positions.iter().enumerate() {
            let next = match k {
                0 => *r,
                _ => {
                    let previous = &t.frames[k - 1].positions[i];
                    let d = f.cell.minimum_image(*r - *previous);
                    worst = worst.max(d.length() / narrowest);
                    out[i][k - 1] + d
                }
            };
            out[i].push(next);
        }
    }
    if worst > 0.25 {
        log::warn!(
            "{}: an atom moved {:.0} % of the narrowest cell width between two frames: \
             unwrapping periodic jumps needs frames closer in time",
            t.path.display(),
            100.0 * worst
        );
    }
    out
}

/// Sums over atoms (per species) of Σ_origins f(x_i(t), x_i(t + τ)) for every lag,
/// divided into means over atoms and origins: (total, per species).
fn correlate(
    t: &Trajectory,
    series: &[Vec<DVec3>],
    lags: usize,
    f: impl Fn(DVec3, DVec3) -> f64 + Sync,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let ns = t.species_names.len();
    let frames = t.frames.len();
    let sums = (0..series.len())
        .into_par_iter()
        .fold(
            || vec![0.0f64; ns * lags],
            |mut acc, i| {
                let x = &series[i];
                let s = t.species[i];
                for k in 0..lags {
                    let sum: f64 = (0..frames - k).map(|o| f(x[o], x[o + k])).sum();
                    acc[s * lags + k] += sum;
                }
                acc
            },
        )
        .reduce(
            || vec![0.0f64; ns * lags],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let counts = t.counts();
    let per_species: Vec<Vec<f64>> = (0..ns)
        .map(|s| {
            (0..lags)
                .map(|k| sums[s * lags + k] / (counts[s] * (frames - k)) as f64)
                .collect()
        })
        .collect();
    let n = t.species.len();
    let total = (0..lags)
        .map(|k| (0..ns).map(|s| sums[s * lags + k]).sum::<f64>() / (n * (frames - k)) as f64)
        .collect();
    (total, per_species)
}

/// The mean square displacement of the frames of `t` at `times` (evenly spaced `dt`).
pub fn msd(t: &Trajectory, dt: f64, max_lag: Option<f64>) -> Result<LagSeries, String> {
    let lags = lag_count(t.frames.len(), dt, max_lag)?;
    let series = unwrapped(t);
    let (total, per_species) = correlate(t, &series, lags, |a, b| (b - a).length_squared());
    let mut columns = vec![("msd_total".to_string(), total)];
    for (name, values) in t.species_names.iter().zip(per_species) {
        columns.push((format!("msd_{name}"), values));
    }
    Ok(LagSeries {
        lag: (0..lags).map(|k| k as f64 * dt).collect(),
        columns,
    })
}

/// The velocity autocorrelation of the frames of `t` (evenly spaced `dt`): for the total
/// and every species, raw (`vacf_*`) and normalised to 1 at lag 0 (`vacf_norm_*`).
pub fn vacf(t: &Trajectory, dt: f64, max_lag: Option<f64>) -> Result<LagSeries, String> {
    let lags = lag_count(t.frames.len(), dt, max_lag)?;
    let n = t.species.len();
    let mut series: Vec<Vec<DVec3>> = vec![Vec::with_capacity(t.frames.len()); n];
    for f in &t.frames {
        let v = (f.velocities.as_ref())
            .ok_or_else(|| format!("frame {} has no velocities", f.index))?;
        for (i, v) in v.iter().enumerate() {
            series[i].push(*v);
        }
    }
    let (total, per_species) = correlate(t, &series, lags, |a, b| a.dot(b));
    let mut columns = Vec::new();
    let names = std::iter::once("total").chain(t.species_names.iter().map(String::as_str));
    for (name, raw) in names.zip(std::iter::once(total).chain(per_species)) {
        if raw[0] == 0.0 {
            log::warn!("{name}: the velocities are all zero: the normalised VACF is NaN");
        }
        let norm = raw.iter().map(|c| c / raw[0]).collect();
        columns.push((format!("vacf_{name}"), raw));
        columns.push((format!("vacf_norm_{name}"), norm));
    }
    Ok(LagSeries {
        lag: (0..lags).map(|k| k as f64 * dt).collect(),
        columns,
    })
}
