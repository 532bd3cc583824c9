//! Reference data for training: frames of an extended-XYZ file turned into graphs with
//! labels, the seeded train/validation split, and the statistics a model starts from (the
//! per-species energy shift by least squares, the force scale, the average neighbour count).

use super::loss::{DipoleLabel, Sample};
use crate::io::binary::fnv1a;
use crate::io::extxyz;
use crate::io::structure::Atoms;
use crate::neighbors::{refusal, ListKind, NeighborList};
use crate::potential::equivariant::potential::build_graph;
use crate::units::Units;
use anyhow::Context;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The species of a data file, in order of first appearance.
pub fn species_of(path: &Path) -> anyhow::Result<Vec<String>> {
    Ok(species_in(&extxyz::read_file(path)?))
}

/// The species of `frames`, in order of first appearance.
pub fn species_in(frames: &[extxyz::Frame]) -> Vec<String> {
    let mut species: Vec<String> = Vec::new();
    for f in frames {
        for s in &f.symbols {
            if !species.contains(s) {
                species.push(s.clone());
            }
        }
    }
    species
}

/// Every frame of `path` as a sample: graph within `cutoff`, atoms labelled by their index
/// in `species`; energy and forces are required, stress is used when the frame is periodic
/// and carries one.
pub fn load_samples(path: &Path, species: &[String], cutoff: f64) -> anyhow::Result<Vec<Sample>> {
    let frames = extxyz::read_file(path)?;
    samples_of(&frames, path, species, cutoff)
}

/// Every frame of `path` turned by a random rotation of its own (uniform over rotations,
/// seeded by `seed` and the frame's index): positions, forces and dipole rotate, the energy
/// does not. For molecules (frames without a cell): what a model of any orientation should
/// predict alike.
pub fn load_rotated_samples(
    path: &Path,
    species: &[String],
    cutoff: f64,
    seed: u64,
) -> anyhow::Result<Vec<Sample>> {
    let mut frames = extxyz::read_file(path)?;
    for (k, frame) in frames.iter_mut().enumerate() {
        anyhow::ensure!(
            frame.lattice.is_none(),
            "{} frame {}: only frames without a cell (molecules) can be rotated",
            path.display(),
            k + 1
        );
        let r = frame_rotation(seed, k as u64);
        for p in &mut frame.positions {
            *p = r * *p;
        }
        if let Some(f) = frame.forces() {
            frame.set_forces(&f.iter().map(|f| r * *f).collect::<Vec<_>>());
        }
        if let Some(extxyz::InfoValue::FloatArray(d)) = frame.info.get_mut("dipole") {
            if d.len() == 3 {
                let v = r * glam::DVec3::from_slice(d);
                d.copy_from_slice(&v.to_array());
            }
        }
    }
    samples_of(&frames, path, species, cutoff)
}

/// The rotation of frame `k` under seed `seed`: uniform over rotations, the same for the
/// same pair (what `eqmd eval --rotate`, the symmetry study and augmentation turn by).
pub fn frame_rotation(seed: u64, k: u64) -> glam::DMat3 {
    random_rotation(&mut ChaCha8Rng::seed_from_u64(seed.wrapping_add(k)))
}

/// The rotation seed of augmentation's epoch `epoch` (frame k then turns by
/// `frame_rotation(augment_seed(seed, epoch), k)`): a function of the epoch alone, so a
/// resumed run turns its frames as the uninterrupted one would.
pub fn augment_seed(seed: u64, epoch: usize) -> u64 {
    (seed ^ 0xA076_1D64_78BD_642F).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((epoch as u64) << 32)
}

/// `sample` turned by the rotation `r`: its edge vectors, forces, stress (R σ Rᵀ), dipole
/// and the positions behind it rotate; the energy and the graph's topology do not. Turning
/// a training frame this way is what a frame of another orientation would give.
pub fn rotate_sample(sample: &Sample, r: glam::DMat3) -> Sample {
    let mut out = sample.clone();
    for v in &mut out.graph.vector {
        *v = r * *v;
    }
    for f in &mut out.forces {
        *f = r * *f;
    }
    if let Some((s, _)) = &mut out.stress {
        *s = r * *s * r.transpose();
    }
    if let Some(d) = &mut out.dipole {
        d.vector = r * d.vector;
        for p in &mut d.positions {
            *p = r * *p;
        }
    }
    out
}

/// A rotation drawn uniformly (a normalised Gaussian quaternion).
fn random_rotation(rng: &mut ChaCha8Rng) -> glam::DMat3 {
    use rand_distr::{Distribution, StandardNormal};
    let mut g = || -> f64 { StandardNormal.sample(rng) };
    let q = glam::DQuat::from_xyzw(g(), g(), g(), g()).normalize();
    glam::DMat3::from_quat(q)
}

fn samples_of(
    frames: &[extxyz::Frame],
    path: &Path,
    species: &[String],
    cutoff: f64,
) -> anyhow::Result<Vec<Sample>> {
    anyhow::ensure!(!frames.is_empty(), "{}: no frames", path.display());
    frames
        .iter()
        .enumerate()
        .map(|(k, frame)| {
            let which = || format!("{} frame {}", path.display(), k + 1);
            let energy = frame
                .energy()
                .with_context(|| format!("{}: no `energy`", which()))?;
            let forces = frame
                .forces()
                .with_context(|| format!("{}: no `forces` array", which()))?;
            anyhow::ensure!(!frame.is_empty(), "{}: no atoms", which());
            anyhow::ensure!(
                energy.is_finite() && forces.iter().all(|f| f.is_finite()),
                "{}: the energy or a force is not finite",
                which()
            );
            let mut system = Atoms::from(frame)
                .to_system(Units::Metal, path)
                .map_err(anyhow::Error::msg)?;
            let map = system
                .species_names
                .iter()
                .map(|n| {
                    species.iter().position(|s| s == n).with_context(|| {
                        format!(
                            "{}: species `{n}` is not one of {}",
                            which(),
                            species.join(", ")
                        )
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if let Some(why) = refusal(&system, cutoff, ListKind::Full) {
                anyhow::bail!("{}: the neighbour list for cutoff {cutoff} {why}", which());
            }
            let mut list = NeighborList::new(ListKind::Full, cutoff, 0.0);
            list.rebuild(&mut system);
            let graph = build_graph(&system, &list, &map, cutoff);
            let stress = match frame.stress() {
                Some(s) if system.cell.is_periodic() => {
                    anyhow::ensure!(s.is_finite(), "{}: the stress is not finite", which());
                    Some((s, system.cell.volume()))
                }
                _ => None,
            };
            let dipole = dipole_label(frame).with_context(which)?;
            Ok(Sample {
                graph,
                energy,
                forces,
                stress,
                dipole,
            })
        })
        .collect()
}

/// The frame's `dipole` (3 numbers, e·Å, as ASE writes it) with its positions and total
/// charge (`total_charge`, default 0), if it has one.
fn dipole_label(frame: &extxyz::Frame) -> anyhow::Result<Option<DipoleLabel>> {
    let Some(value) = frame.info.get("dipole") else {
        return Ok(None);
    };
    let numbers: Vec<f64> = match value {
        extxyz::InfoValue::FloatArray(x) => x.clone(),
        extxyz::InfoValue::IntArray(x) => x.iter().map(|&i| i as f64).collect(),
        other => anyhow::bail!("`dipole` must be 3 numbers (e·Å), got {other:?}"),
    };
    anyhow::ensure!(
        numbers.len() == 3 && numbers.iter().all(|x| x.is_finite()),
        "`dipole` must be 3 finite numbers (e·Å), got {numbers:?}"
    );
    let total_charge = match frame.info.get("total_charge") {
        None => 0.0,
        Some(v) => v
            .as_f64()
            .filter(|q| q.is_finite())
            .with_context(|| format!("`total_charge` must be a finite number, got {v:?}"))?,
    };
    Ok(Some(DipoleLabel {
        vector: glam::DVec3::from_slice(&numbers),
        positions: frame.positions.clone(),
        total_charge,
    }))
}

/// A seeded shuffle of `0..n`: its first `n_train` indices train, its last `n_val`
/// validate, so the validation frames stay the same whatever `n_train` is (learning curves).
pub fn split(
    n: usize,
    n_train: usize,
    n_val: usize,
    seed: u64,
) -> anyhow::Result<(Vec<usize>, Vec<usize>)> {
    anyhow::ensure!(
        n_train + n_val <= n,
        "{n_train} training + {n_val} validation frames asked of {n} frames"
    );
    anyhow::ensure!(n_train > 0, "no training frames");
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let val = order[n - n_val..].to_vec();
    order.truncate(n_train);
    Ok((order, val))
}

/// Per-species energies μ_s minimising Σ_frames (E − Σ_s n_s μ_s)² + λ Σ_s (μ_s − ē)², ē
/// the mean energy per atom, λ tiny: the least-squares answer where the compositions
/// determine it, and for directions they leave open (one molecule: a single composition)
/// the answer closest to every species at ē.
pub fn energy_shift(samples: &[&Sample], n_species: usize) -> Vec<f64> {
    let k = n_species;
    let mut a = vec![0.0; k * k];
    let mut b = vec![0.0; k];
    let mut counts_total = 0.0;
    let (mut energy_total, mut atoms_total) = (0.0, 0.0);
    for s in samples {
        let mut n = vec![0.0; k];
        for &sp in &s.graph.species {
            n[sp] += 1.0;
        }
        for p in 0..k {
            b[p] += n[p] * s.energy;
            for q in 0..k {
                a[p * k + q] += n[p] * n[q];
            }
        }
        counts_total += n.iter().map(|x| x * x).sum::<f64>();
        energy_total += s.energy;
        atoms_total += s.graph.atoms() as f64;
    }
    let mean = energy_total / atoms_total.max(1.0);
    let ridge = 1e-8 * counts_total.max(1.0) / k as f64;
    for p in 0..k {
        a[p * k + p] += ridge;
        b[p] += ridge * mean;
    }
    solve(&mut a, &mut b, k);
    b
}

/// Gaussian elimination with partial pivoting on a small dense system (overwrites b).
fn solve(a: &mut [f64], b: &mut [f64], k: usize) {
    for col in 0..k {
        let piv = (col..k)
            .max_by(|&x, &y| a[x * k + col].abs().total_cmp(&a[y * k + col].abs()))
            .expect("non-empty");
        if a[piv * k + col] == 0.0 {
            continue;
        }
        for q in 0..k {
            a.swap(col * k + q, piv * k + q);
        }
        b.swap(col, piv);
        for row in col + 1..k {
            let f = a[row * k + col] / a[col * k + col];
            for q in col..k {
                a[row * k + q] -= f * a[col * k + q];
            }
            b[row] -= f * b[col];
        }
    }
    for col in (0..k).rev() {
        let d = a[col * k + col];
        let sum: f64 = (col + 1..k).map(|q| a[col * k + q] * b[q]).sum();
        b[col] = if d == 0.0 { 0.0 } else { (b[col] - sum) / d };
    }
}

/// Root mean square of the reference force components (the model's energy scale per Å).
pub fn force_rms(samples: &[&Sample]) -> f64 {
    let (mut sq, mut n) = (0.0, 0usize);
    for s in samples {
        for f in &s.forces {
            sq += f.length_squared();
            n += 3;
        }
    }
    (sq / n.max(1) as f64).sqrt()
}

/// Mean number of neighbours within the cutoff per atom.
pub fn average_neighbors(samples: &[&Sample]) -> f64 {
    let edges: usize = samples.iter().map(|s| s.graph.vector.len()).sum();
    let atoms: usize = samples.iter().map(|s| s.graph.atoms()).sum();
    edges as f64 / atoms.max(1) as f64
}

/// A fingerprint of a split: the energies and forces of its training frames, then of its
/// validation frames, in order (FNV-1a over their bits). A checkpoint keeps it, so that a
/// resume on another file, seed or split is refused rather than mixing two runs.
pub fn fingerprint(train: &[Sample], validation: &[Sample]) -> u64 {
    let mut bytes = Vec::new();
    for part in [train, validation] {
        bytes.extend((part.len() as u64).to_le_bytes());
        for s in part {
            bytes.extend(s.energy.to_le_bytes());
            for c in s.forces.iter().flat_map(|f| f.to_array()) {
                bytes.extend(c.to_le_bytes());
            }
        }
    }
    fnv1a(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::equivariant::network::Graph;

    fn sample(species: &[usize], energy: f64) -> Sample {
        Sample {
            graph: Graph {
                species: species.to_vec(),
                edge_start: vec![0; species.len() + 1],
                ..Graph::default()
            },
            energy,
            forces: Vec::new(),
            stress: None,
            dipole: None,
        }
    }

    #[test]
    fn shift_is_exact_where_compositions_decide_it() {
        // μ = (−1, −3): AB → −4, AAB → −5, ABB → −7
        let s = [
            sample(&[0, 1], -4.0),
            sample(&[0, 0, 1], -5.0),
            sample(&[0, 1, 1], -7.0),
        ];
        let mu = energy_shift(&s.iter().collect::<Vec<_>>(), 2);
        assert!(
            (mu[0] + 1.0).abs() < 1e-6 && (mu[1] + 3.0).abs() < 1e-6,
            "{mu:?}"
        );
    }

    #[test]
    fn one_composition_puts_every_species_at_the_mean_energy_per_atom() {
        let s = [sample(&[0, 0, 1, 2], -8.0), sample(&[0, 0, 1, 2], -9.0)];
        let mu = energy_shift(&s.iter().collect::<Vec<_>>(), 3);
        for m in &mu {
            assert!((m + 8.5 / 4.0).abs() < 1e-6, "{mu:?}");
        }
    }
}
