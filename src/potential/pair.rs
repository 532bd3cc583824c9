//! Shared driver for pair potentials: one parallel loop over a half or full neighbour list
//! that accumulates energy, forces and virial for any `PairKernel`.

use super::ForceOutput;
use crate::neighbors::{ListKind, NeighborList};
use crate::system::System;
use glam::{DMat3, DVec3};
use rayon::prelude::*;

/// The physics of a pair potential: energy and force of two species at a distance.
pub trait PairKernel: Sync {
    /// For species `si`, `sj` at squared distance `r2`: `Some((e, f))` with the pair energy
    /// `e` and `f = −(de/dr)/r`, or `None` beyond the pair's cutoff.
    fn pair(&self, si: usize, sj: usize, r2: f64) -> Option<(f64, f64)>;
}

/// Parameters for every ordered species pair, stored densely for lookup in the inner loop.
#[derive(Clone, Debug)]
pub struct PairTable<T> {
    n: usize,
    entries: Vec<T>,
}

impl<T: Clone> PairTable<T> {
    /// A table for `n` species filled with `value`.
    pub fn new(n: usize, value: T) -> PairTable<T> {
        PairTable {
            n,
            entries: vec![value; n * n],
        }
    }

    /// Number of species.
    pub fn species(&self) -> usize {
        self.n
    }

    /// Sets the parameters of pair (i, j) and (j, i).
    pub fn set(&mut self, i: usize, j: usize, value: T) {
        self.entries[i * self.n + j] = value.clone();
        self.entries[j * self.n + i] = value;
    }

    /// Parameters of pair (i, j).
    #[inline(always)]
    pub fn get(&self, i: usize, j: usize) -> &T {
        &self.entries[i * self.n + j]
    }

    /// All entries.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.entries.iter()
    }
}

/// Partial sums of one block of atoms.
struct Accumulator {
    energy: f64,
    virial: [f64; 6],
}

/// Evaluates a pair kernel over every pair of `list`, adding into `out`.
///
/// With a half list each pair is seen once and Newton's third law scatters the force to
/// both atoms; blocks of atoms then write into private force buffers that are summed at the
/// end, so the result is deterministic for a given thread count.
pub fn compute_pairs<K: PairKernel>(
    kernel: &K,
    system: &System,
    list: &NeighborList,
    out: &mut ForceOutput,
) {
    let n = system.len();
    let threads = rayon::current_num_threads().max(1);
    let blocks = if n < 2048 || threads == 1 { 1 } else { threads };
    let ranges = balanced_ranges(list, n, blocks);
    let want_atom_energy = out.per_atom_energy.is_some();
    let half = list.kind() == ListKind::Half;

    let mut acc = Vec::with_capacity(blocks);
    if blocks == 1 {
        let mut atom_energy = out.per_atom_energy.take();
        acc.push(run_block(
            kernel,
            system,
            list,
            0..n,
            half,
            &mut out.forces,
            atom_energy.as_deref_mut(),
        ));
        out.per_atom_energy = atom_energy;
    } else {
        let partial: Vec<(Accumulator, Vec<DVec3>, Option<Vec<f64>>)> = ranges
            .into_par_iter()
            .map(|range| {
                let mut forces = vec![DVec3::ZERO; n];
                let mut energies = want_atom_energy.then(|| vec![0.0; n]);
                let a = run_block(
                    kernel,
                    system,
                    list,
                    range,
                    half,
                    &mut forces,
                    energies.as_deref_mut(),
                );
                (a, forces, energies)
            })
            .collect();
        out.forces
            .par_iter_mut()
            .enumerate()
            .with_min_len(4096)
            .for_each(|(i, f)| {
                for p in &partial {
                    *f += p.1[i];
                }
            });
        if let Some(e) = &mut out.per_atom_energy {
            for p in &partial {
                if let Some(pe) = &p.2 {
                    for (a, b) in e.iter_mut().zip(pe) {
                        *a += b;
                    }
                }
            }
        }
        acc.extend(partial.into_iter().map(|p| p.0));
    }
    for a in acc {
        out.energy += a.energy;
        let [xx, yy, zz, xy, xz, yz] = a.virial;
        out.virial += DMat3::from_cols(
            DVec3::new(xx, xy, xz),
            DVec3::new(xy, yy, yz),
            DVec3::new(xz, yz, zz),
        );
    }
}

/// Splits atoms 0..n into `blocks` contiguous ranges holding similar numbers of pairs.
fn balanced_ranges(list: &NeighborList, n: usize, blocks: usize) -> Vec<std::ops::Range<usize>> {
    let total = list.len().max(1);
    let mut ranges = Vec::with_capacity(blocks);
    let mut start = 0;
    let mut seen = 0;
    for b in 1..=blocks {
        let target = total * b / blocks;
        let mut end = start;
        while end < n && (seen < target || b == blocks) {
            seen += list.raw(end).len();
            end += 1;
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

#[inline(always)]
fn run_block<K: PairKernel>(
    kernel: &K,
    system: &System,
    list: &NeighborList,
    range: std::ops::Range<usize>,
    half: bool,
    forces: &mut [DVec3],
    mut atom_energy: Option<&mut [f64]>,
) -> Accumulator {
    let x = &system.positions;
    let species = &system.species;
    let mut energy = 0.0;
    let mut v = [0.0; 6];
    // a full list sees each pair twice: count half of it each time
    let weight = if half { 1.0 } else { 0.5 };
    for i in range {
        let xi = x[i];
        let si = species[i];
        let mut fi = DVec3::ZERO;
        let mut ei = 0.0;
        for &entry in list.raw(i) {
            let (j, shift) = list.decode(entry);
            let d = x[j] + shift - xi;
            let r2 = d.length_squared();
            let Some((e, fpair)) = kernel.pair(si, species[j], r2) else {
                continue;
            };
            let fj = d * fpair;
            fi -= fj;
            if half {
                forces[j] += fj;
            }
            ei += e;
            v[0] += d.x * fj.x;
            v[1] += d.y * fj.y;
            v[2] += d.z * fj.z;
            v[3] += d.x * fj.y;
            v[4] += d.x * fj.z;
            v[5] += d.y * fj.z;
            if let Some(ae) = atom_energy.as_deref_mut() {
                if half {
                    ae[j] += 0.5 * e;
                }
            }
        }
        forces[i] += fi;
        energy += ei;
        if let Some(ae) = atom_energy.as_deref_mut() {
            ae[i] += 0.5 * ei;
        }
    }
    Accumulator {
        energy: energy * weight,
        virial: v.map(|c| c * weight),
    }
}
