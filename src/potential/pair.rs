//! Shared machinery of pair potentials: the `PairPotential` trait that gives them their
//! `Potential` impl, and one parallel loop over a half or full neighbour list that
//! accumulates energy, forces and virial for any `PairKernel`.

use super::{ForceOutput, Potential, Scratch};
use crate::neighbors::{ListKind, NeighborList};
use crate::system::System;
use glam::{DMat3, DVec3};
use rayon::prelude::*;
use std::ops::Range;

/// A potential whose forces come from a pass of a `PairKernel` over the pairs of a half
/// list. Implementing it gives the `Potential` impl, so a potential states its physics
/// only: its name, its cutoff, and the kernel (with whatever must come before it).
pub trait PairPotential: Send + Sync {
    /// The name for logs; the cutoff is appended.
    const NAME: &'static str;

    /// Largest distance at which two atoms interact (`Potential::cutoff`).
    fn pair_cutoff(&self) -> f64;

    /// The force buffers the pair pass borrows, owned by the potential.
    fn buffers(&self) -> &PairBuffers;

    /// Runs the pair pass: hands `pass` the kernel, after any work the kernel needs first
    /// (EAM: the densities and embedding energies).
    fn pairs(&self, pass: PairPass<'_>);
}

impl<P: PairPotential> Potential for P {
    fn name(&self) -> String {
        format!(
            "{} (rc = {})",
            P::NAME,
            super::short_number(self.pair_cutoff())
        )
    }

    fn cutoff(&self) -> f64 {
        self.pair_cutoff()
    }

    fn list_kind(&self) -> ListKind {
        ListKind::Half
    }

    fn compute(&self, system: &System, list: &NeighborList, out: &mut ForceOutput) {
        self.pairs(PairPass {
            system,
            list,
            out,
            buffers: self.buffers(),
        });
    }
}

/// One evaluation of a `PairPotential`: the system, the list it was given, the output to
/// add into, and the potential's buffers; `run` sums a kernel over the pairs.
pub struct PairPass<'a> {
    system: &'a System,
    list: &'a NeighborList,
    out: &'a mut ForceOutput,
    buffers: &'a PairBuffers,
}

impl<'a> PairPass<'a> {
    /// The system evaluated.
    pub fn system(&self) -> &'a System {
        self.system
    }

    /// The neighbour list of the evaluation.
    pub fn list(&self) -> &'a NeighborList {
        self.list
    }

    /// The output, for terms that are not pair sums (EAM's embedding energies).
    pub fn output(&mut self) -> &mut ForceOutput {
        self.out
    }

    /// Adds the energy, forces and virial of `kernel` over the pairs of the list.
    pub fn run<K: PairKernel>(self, kernel: &K) {
        compute_pairs(kernel, self.system, self.list, self.out, self.buffers);
    }

    /// The same over another list of the same atoms (EAM: the pairs within the cutoff).
    pub fn run_over<K: PairKernel>(self, kernel: &K, list: &NeighborList) {
        compute_pairs(kernel, self.system, list, self.out, self.buffers);
    }
}

/// Per-block force buffers of the pair loop, kept between calls so that blocks do not
/// fault in fresh pages each step.
#[derive(Clone, Debug, Default)]
pub struct PairBuffers(Scratch<Vec<Vec<DVec3>>>);

/// The physics of a pair interaction: energy and force of atoms `i`, `j` of species `si`,
/// `sj` at a distance (the indices let many-body potentials look up per-atom data).
pub trait PairKernel: Sync {
    /// At squared distance `r2`: `Some((e, f))` with the pair energy `e` and
    /// `f = −(de/dr)/r`, or `None` beyond the pair's cutoff.
    fn pair(&self, i: usize, j: usize, si: usize, sj: usize, r2: f64) -> Option<(f64, f64)>;

    /// The same as `pair` with zeros beyond the cutoff. Cheap kernels override it with a
    /// branch-free version: pairs inside and outside the cutoff alternate unpredictably
    /// in a Verlet list, and a mispredicted branch costs more than the arithmetic.
    #[inline(always)]
    fn pair_or_zero(&self, i: usize, j: usize, si: usize, sj: usize, r2: f64) -> (f64, f64) {
        self.pair(i, j, si, sj, r2).unwrap_or((0.0, 0.0))
    }
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

/// A block's partial sums and (if asked) per-atom energies; its forces are in a buffer.
type BlockResult = (Accumulator, Option<Vec<f64>>);

/// Partial sums of one block of atoms.
struct Accumulator {
    energy: f64,
    /// Σ over pairs through a lattice translation of shift ⊗ force (see `compute_pairs`).
    image_virial: DMat3,
}

/// Evaluates a pair kernel over every pair of `list`, adding into `out`.
///
/// With a half list each pair is seen once and Newton's third law scatters the force to
/// both atoms; blocks of atoms then write into private force buffers that are summed at the
/// end, so the result is deterministic for a given thread count.
///
/// The virial W = Σ_pairs d ⊗ f is not summed pair by pair: since d = x_j + s − x_i, it
/// equals Σ_i x_i ⊗ ΔF_i + Σ_pairs s ⊗ f, and only pairs through a translation s ≠ 0 (few
/// in a large box) need the second sum.
fn compute_pairs<K: PairKernel>(
    kernel: &K,
    system: &System,
    list: &NeighborList,
    out: &mut ForceOutput,
    buffers: &PairBuffers,
) {
    let n = system.len();
    let threads = rayon::current_num_threads().max(1);
    let blocks = if n < 2048 || threads == 1 { 1 } else { threads };
    let half = list.kind() == ListKind::Half;
    let single = system.species_names.len() == 1;
    let block = |range: Range<usize>, forces: &mut [DVec3], energies: Option<&mut [f64]>| match (
        half, single,
    ) {
        (true, true) => run_block::<K, true, true>(kernel, system, list, range, forces, energies),
        (true, false) => run_block::<K, true, false>(kernel, system, list, range, forces, energies),
        (false, true) => run_block::<K, false, true>(kernel, system, list, range, forces, energies),
        (false, false) => {
            run_block::<K, false, false>(kernel, system, list, range, forces, energies)
        }
    };

    let mut acc = Vec::with_capacity(blocks);
    if blocks == 1 {
        let before = moment(&system.positions, &out.forces);
        let mut atom_energy = out.per_atom_energy.take();
        acc.push(block(0..n, &mut out.forces, atom_energy.as_deref_mut()));
        out.per_atom_energy = atom_energy;
        out.virial += moment(&system.positions, &out.forces) - before;
    } else {
        let ranges = balanced_ranges(list, n, blocks);
        buffers
            .0
            .with(|spare| run_blocks(&block, &ranges, &system.positions, out, spare, &mut acc));
    }
    for a in acc {
        out.energy += a.energy;
        out.virial += a.image_virial;
    }
}

/// The blocks of atoms `ranges` of `compute_pairs` in parallel, their partial sums pushed
/// onto `acc`. The first block writes straight into the output, the others into `spare`
/// buffers that are added afterwards; the virial of the first block is the change of
/// Σ x ⊗ F.
fn run_blocks<B>(
    block: &B,
    ranges: &[Range<usize>],
    x: &[DVec3],
    out: &mut ForceOutput,
    spare: &mut Vec<Vec<DVec3>>,
    acc: &mut Vec<Accumulator>,
) where
    B: Fn(Range<usize>, &mut [DVec3], Option<&mut [f64]>) -> Accumulator + Sync,
{
    let n = x.len();
    let want_atom_energy = out.per_atom_energy.is_some();
    let before = moment(x, &out.forces);
    let mut atom_energy = out.per_atom_energy.take();
    let forces = &mut out.forces;
    spare.resize_with(ranges.len() - 1, Vec::new);
    let (first, partial): (Accumulator, Vec<BlockResult>) = rayon::join(
        || block(ranges[0].clone(), forces, atom_energy.as_deref_mut()),
        || {
            ranges[1..]
                .par_iter()
                .zip(spare.par_iter_mut())
                .map(|(range, forces)| {
                    forces.clear();
                    forces.resize(n, DVec3::ZERO);
                    let mut energies = want_atom_energy.then(|| vec![0.0; n]);
                    let a = block(range.clone(), forces, energies.as_deref_mut());
                    (a, energies)
                })
                .collect()
        },
    );
    out.per_atom_energy = atom_energy;
    out.virial += moment(x, &out.forces) - before;
    acc.push(first);
    let spare = &*spare;
    let moments: Vec<DMat3> = out
        .forces
        .par_chunks_mut(4096)
        .enumerate()
        .map(|(c, chunk)| {
            let mut m = DMat3::ZERO;
            for (k, f) in chunk.iter_mut().enumerate() {
                let i = c * 4096 + k;
                let mut df = DVec3::ZERO;
                for p in spare {
                    df += p[i];
                }
                *f += df;
                m += outer(x[i], df);
            }
            m
        })
        .collect();
    for m in moments {
        out.virial += m;
    }
    if let Some(e) = &mut out.per_atom_energy {
        for p in &partial {
            if let Some(pe) = &p.1 {
                for (a, b) in e.iter_mut().zip(pe) {
                    *a += b;
                }
            }
        }
    }
    acc.extend(partial.into_iter().map(|p| p.0));
}

/// The outer product a ⊗ b (matrix with entries a_k b_l).
#[inline(always)]
fn outer(a: DVec3, b: DVec3) -> DMat3 {
    DMat3::from_cols(a * b.x, a * b.y, a * b.z)
}

/// Σ_i x_i ⊗ F_i.
fn moment(x: &[DVec3], f: &[DVec3]) -> DMat3 {
    x.iter()
        .zip(f)
        .fold(DMat3::ZERO, |m, (x, f)| m + outer(*x, *f))
}

/// Splits atoms 0..n into `blocks` contiguous ranges holding similar numbers of pairs.
fn balanced_ranges(list: &NeighborList, n: usize, blocks: usize) -> Vec<Range<usize>> {
    let total = list.len().max(1);
    let mut ranges = Vec::with_capacity(blocks);
    let mut start = 0;
    let mut seen = 0;
    for b in 1..=blocks {
        let target = total * b / blocks;
        let mut end = start;
        while end < n && (seen < target || b == blocks) {
            seen += list.count(end);
            end += 1;
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

/// One block of atoms. `HALF`: the list holds each pair once and forces go to both atoms.
/// `SINGLE`: one species, so no species lookups in the inner loop.
#[inline(always)]
fn run_block<K: PairKernel, const HALF: bool, const SINGLE: bool>(
    kernel: &K,
    system: &System,
    list: &NeighborList,
    range: Range<usize>,
    forces: &mut [DVec3],
    mut atom_energy: Option<&mut [f64]>,
) -> Accumulator {
    let x = &system.positions;
    let species = &system.species;
    let mut energy = 0.0;
    let mut image_virial = DMat3::ZERO;
    for i in range {
        let xi = x[i];
        let si = if SINGLE { 0 } else { species[i] };
        let mut fi = DVec3::ZERO;
        let mut ei = 0.0;
        // pairs in the same image: no translation to look up
        for &j in list.direct(i) {
            let j = j as usize;
            let d = x[j] - xi;
            let sj = if SINGLE { 0 } else { species[j] };
            let (e, fpair) = kernel.pair_or_zero(i, j, si, sj, d.length_squared());
            let fj = d * fpair;
            fi -= fj;
            ei += e;
            if HALF {
                forces[j] += fj;
                if let Some(ae) = atom_energy.as_deref_mut() {
                    ae[j] += 0.5 * e;
                }
            }
        }
        for &entry in list.imaged(i) {
            let (j, shift) = list.decode(entry);
            let d = x[j] + shift - xi;
            let sj = if SINGLE { 0 } else { species[j] };
            let (e, fpair) = kernel.pair_or_zero(i, j, si, sj, d.length_squared());
            let fj = d * fpair;
            fi -= fj;
            ei += e;
            image_virial += outer(shift, fj);
            if HALF {
                forces[j] += fj;
                if let Some(ae) = atom_energy.as_deref_mut() {
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
    // a full list sees each pair twice
    let weight = if HALF { 1.0 } else { 0.5 };
    Accumulator {
        energy: energy * weight,
        image_virial: image_virial * weight,
    }
}
