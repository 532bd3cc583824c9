//! The pairs of a Verlet list that lie within the cutoff now, gathered into a list of
//! their own in the same pass that sums a per-atom pair term over them (the densities of
//! EAM). The force pass then runs over the near pairs without testing, and mispredicting,
//! the skin pairs again.

use crate::neighbors::{ListKind, NeighborList};
use crate::system::System;
use rayon::prelude::*;

/// A per-atom sum over pairs, such as the electron density of EAM.
pub trait PairTerm: Sync {
    /// What the pair (i, j) at squared distance `r2` adds to atom i and to atom j.
    fn term(&self, i: usize, j: usize, r2: f64) -> (f64, f64);
}

/// The near-pair list and its working space, kept from call to call so that a step does
/// not fault in fresh pages.
#[derive(Debug)]
pub struct NearPairs {
    blocks: Vec<EntryBlock>,
    list: NeighborList,
}

/// Working space of one block of atoms: the near entries, per atom its (direct, total)
/// counts, and the per-atom sums.
type EntryBlock = (Vec<u32>, Vec<(usize, usize)>, Vec<f64>);

impl Default for NearPairs {
    fn default() -> NearPairs {
        NearPairs {
            blocks: Vec::new(),
            list: NeighborList::new(ListKind::Half, 0.0, 0.0),
        }
    }
}

impl NearPairs {
    /// Keeps the pairs of `list` closer than `cutoff` now (see `list`) and returns the
    /// per-atom sums of `term` over them (a full list adds only atom i's share).
    pub fn gather<T: PairTerm>(
        &mut self,
        list: &NeighborList,
        system: &System,
        cutoff: f64,
        term: &T,
    ) -> Vec<f64> {
        let n = system.len();
        let blocks = if n < 2048 {
            1
        } else {
            2 * rayon::current_num_threads()
        };
        // contiguous blocks of atoms holding similar numbers of entries; the last block
        // ends at the last atom, with or without entries
        let offsets = list.offsets();
        let bounds: Vec<usize> = (0..=blocks)
            .map(|b| {
                if b == blocks {
                    return n;
                }
                let target = list.len() * b / blocks;
                offsets.partition_point(|&o| o < target).min(n)
            })
            .collect();
        self.blocks.resize_with(blocks, Default::default);
        self.blocks
            .par_iter_mut()
            .enumerate()
            .for_each(|(b, part)| {
                let atoms = bounds[b]..bounds[b + 1].max(bounds[b]);
                gather_block(list, system, cutoff * cutoff, term, atoms, part);
            });
        let parts = &self.blocks[..];
        let mut sums = vec![0.0; n];
        sums.par_chunks_mut(4096)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (k, s) in chunk.iter_mut().enumerate() {
                    *s = parts.iter().map(|p| p.2[c * 4096 + k]).sum();
                }
            });
        let kept = parts
            .iter()
            .map(|(entries, counts, _)| (&entries[..], &counts[..]));
        self.list.set_subset(list, cutoff, kept);
        sums
    }

    /// The pairs kept by the last `gather`, as a list of the same kind with no skin.
    pub fn list(&self) -> &NeighborList {
        &self.list
    }
}

/// One block of atoms of `gather`: keeps their pairs within √`cut2` in `part` and adds
/// the terms over them into its sums.
#[inline(always)]
fn gather_block<T: PairTerm>(
    list: &NeighborList,
    system: &System,
    cut2: f64,
    term: &T,
    atoms: std::ops::Range<usize>,
    part: &mut EntryBlock,
) {
    let n = system.len();
    let x = &system.positions;
    let half = list.kind() == ListKind::Half;
    let (entries, counts, sums) = part;
    entries.clear();
    counts.clear();
    sums.clear();
    sums.resize(n, 0.0);
    for i in atoms {
        let xi = x[i];
        let before = entries.len();
        // first keep the pairs inside without a branch (skin pairs come
        // unpredictably), then sum over the kept ones
        entries.resize(before + list.count(i), 0);
        let mut kept = before;
        for &j in list.direct(i) {
            let r2 = (x[j as usize] - xi).length_squared();
            entries[kept] = j;
            kept += (r2 < cut2) as usize;
        }
        let direct_end = kept;
        for &e in list.imaged(i) {
            let (j, shift) = list.decode(e);
            let r2 = (x[j] + shift - xi).length_squared();
            entries[kept] = e;
            kept += (r2 < cut2) as usize;
        }
        entries.truncate(kept);
        let mut own = 0.0;
        for &j in &entries[before..direct_end] {
            let j = j as usize;
            let (a, bj) = term.term(i, j, (x[j] - xi).length_squared());
            own += a;
            if half {
                sums[j] += bj;
            }
        }
        for &e in &entries[direct_end..kept] {
            let (j, shift) = list.decode(e);
            let (a, bj) = term.term(i, j, (x[j] + shift - xi).length_squared());
            own += a;
            if half {
                sums[j] += bj;
            }
        }
        sums[i] += own;
        counts.push((direct_end - before, kept - before));
    }
}
