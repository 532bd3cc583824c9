//! The radial distribution function g(r) of a trajectory, in total and per species pair.
//!
//! Pairs are found with eqmd's cell-list neighbour list (minimum image in periodic cells of
//! any shape: `r_max` is at most half the narrowest perpendicular width, so each pair is
//! counted once, at its nearest image). In a fully periodic cell, g_AB(r) is the number of
//! A–B pairs in the shell [r, r + dr) over the number an ideal gas of the same density
//! would put there: N_A N_B / V (N_A (N_A − 1) / 2V for like pairs, and N (N − 1) / 2V for
//! the total) times the exact shell volume 4π/3 ((r + dr)³ − r³), summed over frames with
//! each frame's own volume, so g → 1 at large r. ASE's `get_rdf` divides like pairs by
//! N_A² instead of N_A (N_A − 1), so that its values are ours times (N_A − 1) / N_A;
//! MDAnalysis's `InterRDF` with `exclusion_block=(1, 1)` is ours.
//!
//! A system that is not periodic along every axis has no volume to normalise by: unless
//! one is given (`volume`), the result is the local number density ρ_AB(r), the mean
//! number of B atoms per unit volume in the shell at r around an A atom (MDAnalysis's
//! `InterRDF(norm="density")` divided by N_A), which is g_AB(r) times the mean density of B.

use super::trajectory::Trajectory;
use crate::neighbors::{refusal, ListKind, NeighborList};
use crate::system::System;
use crate::units::Units;
use glam::DVec3;
use rayon::prelude::*;

/// What to compute.
#[derive(Clone, Debug, PartialEq)]
pub struct RdfOptions {
    /// Largest distance; by default half the narrowest periodic width (or, in vacuum, the
    /// diagonal of the box around the atoms).
    pub r_max: Option<f64>,
    /// Number of bins between 0 and `r_max`.
    pub bins: usize,
    /// Species pairs (A, B) to report beside the total; all pairs when None.
    pub pairs: Option<Vec<(String, String)>>,
    /// Volume to normalise by when the system is not periodic.
    pub volume: Option<f64>,
}

/// An RDF: bin centres and one column per pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Rdf {
    /// Bin centres.
    pub r: Vec<f64>,
    /// Bin width.
    pub dr: f64,
    /// (name, values): `total` first, then `A-B` for every pair.
    pub columns: Vec<(String, Vec<f64>)>,
    /// True for g(r) (dimensionless), false for the density ρ(r) (per volume).
    pub normalised: bool,
}

/// Parses `A-B,C-D` into pairs.
pub fn parse_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    (text.split(',').map(str::trim).filter(|s| !s.is_empty()))
        .map(|p| match p.split_once('-') {
            Some((a, b)) if !a.is_empty() && !b.is_empty() && !b.contains('-') => {
                Ok((a.to_string(), b.to_string()))
            }
            _ => Err(format!("--pairs: {p:?} is not a pair like Cu-Ni")),
        })
        .collect()
}

/// The RDF of the frames of `t`; errors name the option or the frame at fault.
pub fn rdf(t: &Trajectory, options: &RdfOptions) -> Result<Rdf, String> {
    let bins = options.bins;
    if bins == 0 {
        return Err("--bins must be at least 1".into());
    }
    let ns = t.species_names.len();
    let pairs = chosen_pairs(t, options.pairs.as_deref())?;
    let periodic = t.frames.iter().all(|f| f.cell.pbc() == [true; 3]);
    if let Some(v) = options.volume {
        if periodic {
            return Err(
                "--volume is for systems that are not periodic: the cell's volume is used".into(),
            );
        }
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("--volume {v}: must be a positive volume"));
        }
    }
    let r_max = r_max(t, options.r_max)?;
    let dr = r_max / bins as f64;
    let (counts, inverse_volume) = accumulate(t, options.volume, r_max, bins)?;
    let normalised = periodic || options.volume.is_some();
    let n_of = t.counts();
    let frames = t.frames.len() as f64;
    let shell = |k: usize| {
        let (r0, r1) = (k as f64 * dr, (k + 1) as f64 * dr);
        4.0 / 3.0 * std::f64::consts::PI * (r1.powi(3) - r0.powi(3))
    };
    let column = |count: &dyn Fn(usize) -> f64, pairs_per_volume: f64, centres: f64| {
        (0..bins)
            .map(|k| match normalised {
                true => count(k) / (pairs_per_volume * inverse_volume * shell(k)),
                false => count(k) / (centres * frames * shell(k)),
            })
            .collect::<Vec<f64>>()
    };
    let total_count = |k: usize| -> f64 { (0..ns * ns).map(|p| counts[p * bins + k]).sum() };
    let n = t.species.len() as f64;
    // unordered pairs counted once: twice that many neighbours around the centres
    let total = match normalised {
        true => column(&total_count, n * (n - 1.0) / 2.0, n),
        false => column(&|k| 2.0 * total_count(k), 1.0, n),
    };
    let mut columns = vec![("total".to_string(), total)];
    for (a, b) in pairs {
        let (lo, hi) = (a.min(b), a.max(b));
        let at = |k: usize| counts[(lo * ns + hi) * bins + k];
        let (na, nb) = (n_of[a] as f64, n_of[b] as f64);
        let like = a == b;
        if like && na < 2.0 || na * nb == 0.0 {
            // no pair of that kind exists: g is undefined, and no column of NaN is written
            let name = format!("{}-{}", t.species_names[a], t.species_names[b]);
            let why = format!("{name}: too few atoms for a pair ({na} and {nb})");
            if options.pairs.is_some() {
                return Err(format!("--pairs {why}"));
            }
            log::warn!("{why}: its column is left out");
            continue;
        }
        let values = match (normalised, like) {
            (true, true) => column(&at, na * (na - 1.0) / 2.0, na),
            (true, false) => column(&at, na * nb, na),
            (false, true) => column(&|k| 2.0 * at(k), 1.0, na),
            (false, false) => column(&at, 1.0, na),
        };
        let name = format!("{}-{}", t.species_names[a], t.species_names[b]);
        columns.push((name, values));
    }
    Ok(Rdf {
        r: (0..bins).map(|k| (k as f64 + 0.5) * dr).collect(),
        dr,
        columns,
        normalised,
    })
}

/// Pair counts over all frames, `counts[(a * ns + b) * bins + k]` for species a ≤ b in
/// bin k, and the sum over frames of 1 / volume (`volume`, else each frame's cell's).
fn accumulate(
    t: &Trajectory,
    volume: Option<f64>,
    r_max: f64,
    bins: usize,
) -> Result<(Vec<f64>, f64), String> {
    let ns = t.species_names.len();
    let dr = r_max / bins as f64;
    let mut counts = vec![0.0f64; ns * ns * bins];
    let mut inverse_volume = 0.0;
    for f in &t.frames {
        let c = frame_counts(t, f.cell, &f.positions, r_max, dr, bins)
            .map_err(|e| format!("frame {}: {e}", f.index))?;
        counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
        inverse_volume += 1.0 / volume.unwrap_or_else(|| f.cell.volume());
    }
    Ok((counts, inverse_volume))
}

/// The species pairs to report, as indices: those asked for, or every pair (a ≤ b).
fn chosen_pairs(
    t: &Trajectory,
    asked: Option<&[(String, String)]>,
) -> Result<Vec<(usize, usize)>, String> {
    let ns = t.species_names.len();
    let Some(asked) = asked else {
        return Ok((0..ns).flat_map(|a| (a..ns).map(move |b| (a, b))).collect());
    };
    let index = |name: &str| {
        t.species_names
            .iter()
            .position(|s| s == name)
            .ok_or_else(|| {
                format!(
                    "--pairs: no species {name} in {} (it has {})",
                    t.path.display(),
                    t.species_names.join(", ")
                )
            })
    };
    asked
        .iter()
        .map(|(a, b)| Ok((index(a)?, index(b)?)))
        .collect()
}

/// The largest distance: as asked (checked against every frame's cell) or the default.
fn r_max(t: &Trajectory, asked: Option<f64>) -> Result<f64, String> {
    // half the narrowest periodic width of every frame
    let mut limit = f64::INFINITY;
    let mut limit_frame = 0;
    let mut extent: f64 = 0.0;
    for f in &t.frames {
        let (pbc, widths) = (f.cell.pbc(), f.cell.perpendicular_widths());
        for k in (0..3).filter(|&k| pbc[k]) {
            if 0.5 * widths[k] < limit {
                (limit, limit_frame) = (0.5 * widths[k], f.index);
            }
        }
        let (lo, hi) = (f.positions.iter()).fold((DVec3::MAX, DVec3::MIN), |(lo, hi), r| {
            (lo.min(*r), hi.max(*r))
        });
        extent = extent.max((hi - lo).length());
    }
    match asked {
        Some(r) if !(r.is_finite() && r > 0.0) => {
            Err(format!("--r-max {r}: must be a positive distance"))
        }
        Some(r) if r > limit * (1.0 + 1e-12) => Err(format!(
            "--r-max {r} is beyond half the narrowest perpendicular width of the cell \
             ({limit:.6} in frame {limit_frame}): beyond it the minimum image is not unique; \
             give --r-max {limit:.4} or less"
        )),
        Some(r) => Ok(r),
        None if limit.is_finite() => Ok(limit),
        None if extent > 0.0 => Ok(extent * (1.0 + 1e-9)),
        None => Err("the atoms all sit at one point: give --r-max".into()),
    }
}

/// Pair counts of one frame per bin, for every species pair (a ≤ b).
fn frame_counts(
    t: &Trajectory,
    cell: crate::cell::Cell,
    positions: &[DVec3],
    r_max: f64,
    dr: f64,
    bins: usize,
) -> Result<Vec<f64>, String> {
    let ns = t.species_names.len();
    let mut system = System::new(cell, Units::Metal);
    system.species_names = t.species_names.clone();
    system.species_masses = vec![1.0; ns];
    system.positions = positions.to_vec();
    system.velocities = vec![DVec3::ZERO; positions.len()];
    system.species = t.species.clone();
    if let Some(why) = refusal(&system, r_max, ListKind::Half) {
        return Err(format!("the pairs within --r-max {r_max}: the list {why}"));
    }
    let mut list = NeighborList::new(ListKind::Half, r_max, 0.0);
    list.rebuild(&mut system);
    let r = &system.positions;
    let species = &system.species;
    let counts = (0..system.len())
        .into_par_iter()
        .with_min_len(256)
        .fold(
            || vec![0.0f64; ns * ns * bins],
            |mut h, i| {
                for nb in list.neighbors(i) {
                    let d = (r[nb.j] + nb.shift - r[i]).length();
                    let k = (d / dr) as usize;
                    if d < r_max && k < bins {
                        let (a, b) = (species[i], species[nb.j]);
                        let (lo, hi) = (a.min(b), a.max(b));
                        h[(lo * ns + hi) * bins + k] += 1.0;
                    }
                }
                h
            },
        )
        .reduce(
            || vec![0.0f64; ns * ns * bins],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    Ok(counts)
}
