//! Verlet neighbour lists built from linked cells, with a skin so that a list survives many
//! steps. Pairs are found through explicit periodic images, so boxes smaller than twice the
//! list range (several images of one neighbour), triclinic cells, mixed periodicity and
//! molecules in vacuum all take the same path. Building is O(N) and rayon-parallel.

mod demand;
mod grid;

pub use demand::{available_memory, demand, refusal, Demand};

use crate::system::System;
use glam::{DMat3, DVec3};
use grid::{encode, BinGrid, Gathered};
use rayon::prelude::*;

/// Whether each pair is stored once (half) or from both ends (full).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Each pair once: suited to pair potentials that apply Newton's third law.
    Half,
    /// Each pair from both atoms: suited to many-body potentials and message passing.
    Full,
}

/// A Verlet list: for every atom, the neighbours within cutoff + skin and the lattice
/// translation to apply to each. Potentials read it; only `update` rebuilds it.
#[derive(Clone, Debug)]
pub struct NeighborList {
    kind: ListKind,
    cutoff: f64,
    skin: f64,
    offsets: Vec<usize>,
    direct_end: Vec<usize>,
    entries: Vec<u32>,
    images: Vec<DVec3>,
    /// The lattice translations of `images` in cell units (integer triples), so that the
    /// Cartesian shifts can follow a cell that changes between builds.
    image_cells: Vec<DVec3>,
    /// The cell `images` were computed for.
    images_cell: DMat3,
    image_bits: u32,
    reference_positions: Vec<DVec3>,
    reference_cell: DMat3,
    builds: usize,
}

/// One neighbour of an atom: its index and the translation that brings the right image of
/// it next to the atom, so the separation is `positions[j] + shift - positions[i]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbor {
    pub j: usize,
    pub shift: DVec3,
}

impl NeighborList {
    /// An empty list of `kind` for interactions up to `cutoff`, padded by `skin`.
    pub fn new(kind: ListKind, cutoff: f64, skin: f64) -> NeighborList {
        NeighborList {
            kind,
            cutoff,
            skin,
            offsets: vec![0],
            direct_end: Vec::new(),
            entries: Vec::new(),
            images: vec![DVec3::ZERO],
            image_cells: vec![DVec3::ZERO],
            images_cell: DMat3::ZERO,
            image_bits: 0,
            reference_positions: Vec::new(),
            reference_cell: DMat3::ZERO,
            builds: 0,
        }
    }

    /// Half or full.
    pub fn kind(&self) -> ListKind {
        self.kind
    }

    /// The interaction cutoff the list serves.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// The skin added to the cutoff.
    pub fn skin(&self) -> f64 {
        self.skin
    }

    /// How many times the list has been built.
    pub fn builds(&self) -> usize {
        self.builds
    }

    /// Total number of stored pairs (each pair twice in a full list).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no pair is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True if the list may miss a pair: the atom count changed, or some atom moved, beyond
    /// the affine motion of a changing cell, farther than the skin allows. With the cell
    /// deformed by F = h h_ref⁻¹ since the build, a pair left out (|r_ref| ≥ r_c + skin) is
    /// now at least (1 − ‖F − I‖)(r_c + skin) − 2 max|x − F x_ref| apart; the list holds
    /// while that is at least r_c (for a fixed cell: while no atom moved half the skin).
    pub fn needs_rebuild(&self, system: &System) -> bool {
        if self.builds == 0 || self.reference_positions.len() != system.len() {
            return true;
        }
        let now = system.cell.matrix();
        if now == self.reference_cell {
            let limit = 0.25 * self.skin * self.skin;
            return self
                .reference_positions
                .par_iter()
                .zip(system.positions.par_iter())
                .with_min_len(4096)
                .any(|(a, b)| (*b - *a).length_squared() > limit);
        }
        if system.cell.is_vacuum() || self.reference_cell.determinant() == 0.0 {
            return true;
        }
        let f = now * self.reference_cell.inverse();
        let d = f - DMat3::IDENTITY;
        let strain =
            (d.x_axis.length_squared() + d.y_axis.length_squared() + d.z_axis.length_squared())
                .sqrt();
        let range = self.cutoff + self.skin;
        let slack = 0.5 * ((1.0 - strain) * range - self.cutoff);
        if !slack.is_finite() || slack <= 0.0 {
            return true;
        }
        let limit = slack * slack;
        self.reference_positions
            .par_iter()
            .zip(system.positions.par_iter())
            .with_min_len(4096)
            .any(|(a, b)| (*b - f * *a).length_squared() > limit)
    }

    /// Rebuilds the list if needed (wrapping positions into the cell first); returns whether
    /// it did. A list kept across a change of the cell has its lattice translations moved
    /// to the new cell.
    pub fn update(&mut self, system: &mut System) -> bool {
        if !self.needs_rebuild(system) {
            self.follow_cell(system);
            return false;
        }
        self.rebuild(system);
        true
    }

    /// Recomputes the Cartesian lattice translations for the system's cell, if it changed.
    fn follow_cell(&mut self, system: &System) {
        let now = system.cell.matrix();
        if now != self.images_cell {
            for (shift, n) in self.images.iter_mut().zip(&self.image_cells) {
                *shift = now * *n;
            }
            self.images_cell = now;
        }
    }

    /// Wraps positions into the cell along periodic axes and builds the list from them.
    pub fn rebuild(&mut self, system: &mut System) {
        system.wrap_positions();
        self.build(system);
    }

    /// Makes this list the sub-list of `parent` that keeps, atom by atom in order, the
    /// entries of `blocks`: for each block of consecutive atoms its kept entries (encoded
    /// as in `parent`) and, per atom, how many of them are direct and how many in all. It
    /// then serves `cutoff` with no skin; potentials narrow a Verlet list to the pairs
    /// within the cutoff this way, reusing this list's allocations.
    pub fn set_subset<'a>(
        &mut self,
        parent: &NeighborList,
        cutoff: f64,
        blocks: impl IntoIterator<Item = (&'a [u32], &'a [(usize, usize)])>,
    ) {
        self.kind = parent.kind;
        self.cutoff = cutoff;
        self.skin = 0.0;
        self.images.clone_from(&parent.images);
        self.image_cells.clone_from(&parent.image_cells);
        self.images_cell = parent.images_cell;
        self.image_bits = parent.image_bits;
        self.reference_positions.clear();
        self.reference_cell = parent.reference_cell;
        self.builds = parent.builds;
        self.offsets.clear();
        self.direct_end.clear();
        self.entries.clear();
        self.offsets.push(0);
        for (entries, counts) in blocks {
            let base = self.entries.len();
            self.entries.extend_from_slice(entries);
            let mut at = base;
            for &(direct, total) in counts {
                self.direct_end.push(at + direct);
                at += total;
                self.offsets.push(at);
            }
        }
    }

    /// Where the entries of each atom start, n + 1 values ending with `len()`: for
    /// splitting the atoms into blocks holding similar numbers of pairs.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The positions the list was last built from (what `needs_rebuild` compares against).
    pub fn reference_positions(&self) -> &[DVec3] {
        &self.reference_positions
    }

    /// The cell the list was last built in (what `needs_rebuild` measures strain from).
    pub fn reference_cell(&self) -> DMat3 {
        self.reference_cell
    }

    /// Rebuilds the list exactly as it was built from `reference` (positions of the same
    /// atoms at the last build) in the cell `reference_cell`, then moves its translations to
    /// the system's cell: for a restart that must continue bit for bit.
    pub fn rebuild_from_reference(
        &mut self,
        system: &System,
        reference: &[DVec3],
        reference_cell: DMat3,
    ) {
        let mut then = system.clone();
        then.positions = reference.to_vec();
        if reference_cell != system.cell.matrix() {
            if let Ok(cell) = crate::cell::Cell::from_matrix(reference_cell, system.cell.pbc()) {
                then.cell = cell;
            }
        }
        self.build(&then);
        self.follow_cell(system);
    }

    /// Neighbours of atom `i` in the same image (no lattice translation): plain indices.
    /// Most pairs of a large box are here, and the inner loops of potentials run fastest on
    /// them.
    #[inline]
    pub fn direct(&self, i: usize) -> &[u32] {
        &self.entries[self.offsets[i]..self.direct_end[i]]
    }

    /// Neighbours of atom `i` through a lattice translation, packed; see `decode`.
    #[inline]
    pub fn imaged(&self, i: usize) -> &[u32] {
        &self.entries[self.direct_end[i]..self.offsets[i + 1]]
    }

    /// Number of neighbours of atom `i`.
    #[inline]
    pub fn count(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// Decodes a packed entry of `imaged` into the neighbour index and its translation.
    #[inline(always)]
    pub fn decode(&self, entry: u32) -> (usize, DVec3) {
        if self.image_bits == 0 {
            return (entry as usize, self.images[0]);
        }
        let shift = 32 - self.image_bits;
        let j = (entry & ((1u32 << shift) - 1)) as usize;
        (j, self.images[(entry >> shift) as usize])
    }

    /// The neighbours of atom `i`, direct ones first.
    pub fn neighbors(&self, i: usize) -> impl Iterator<Item = Neighbor> + '_ {
        let direct = self.direct(i).iter().map(|&j| Neighbor {
            j: j as usize,
            shift: DVec3::ZERO,
        });
        let imaged = self.imaged(i).iter().map(move |&e| {
            let (j, shift) = self.decode(e);
            Neighbor { j, shift }
        });
        direct.chain(imaged)
    }

    /// Builds the list from the current positions, which must already be wrapped along
    /// periodic axes (`rebuild` does that).
    fn build(&mut self, system: &System) {
        let n = system.len();
        let range = self.cutoff + self.skin;
        let grid = BinGrid::new(system, range);
        let (images, image_bits, image_extent) = grid.image_table(system);
        assert!(
            (n as u64) < (1u64 << (32 - image_bits)),
            "too many atoms ({n}) for the neighbour-list encoding"
        );
        let bins = grid.assign(system);
        let half = self.kind == ListKind::Half;
        let center = image_extent.index((0, 0, 0));
        let range2 = range * range;

        // Walk atoms bin by bin so that each stencil is computed once per bin; gather each
        // atom's neighbours into its chunk's buffer, then lay them out by atom index.
        let nbins = grid.total_bins();
        let bin_chunk = (nbins / (8 * rayon::current_num_threads())).clamp(1, 4096);
        let gathered: Vec<Gathered> = (0..nbins.div_ceil(bin_chunk))
            .into_par_iter()
            .map(|c| {
                let mut g = Gathered::default();
                let mut stencil = Vec::new();
                let mut scratch_direct = Vec::new();
                let mut scratch_imaged = Vec::new();
                for b in c * bin_chunk..((c + 1) * bin_chunk).min(nbins) {
                    let (first, last) = (bins.start[b], bins.start[b + 1]);
                    if first == last {
                        continue;
                    }
                    grid.stencil(b, half, &images, &image_extent, &mut stencil);
                    let candidates: usize = stencil
                        .iter()
                        .map(|s| bins.start[s.last_bin + 1] - bins.start[s.first_bin])
                        .sum();
                    if scratch_direct.len() < candidates {
                        scratch_direct.resize(candidates, 0u32);
                        scratch_imaged.resize(candidates, 0u32);
                    }
                    for ki in first..last {
                        let i = bins.atoms[ki] as usize;
                        let xi = bins.positions[ki];
                        let (mut nd, mut ni) = (0usize, 0usize);
                        for s in &stencil {
                            let (lo, hi) = (bins.start[s.first_bin], bins.start[s.last_bin + 1]);
                            let base = s.shift - xi;
                            // the atom itself is skipped; in the segment that starts at its
                            // own bin a half list takes later atoms only
                            let ranges = if s.own_bin {
                                if half {
                                    [(ki + 1, hi), (hi, hi)]
                                } else {
                                    [(lo, ki), (ki + 1, hi)]
                                }
                            } else {
                                [(lo, hi), (hi, hi)]
                            };
                            for (lo, hi) in ranges {
                                let positions = &bins.positions[lo..hi];
                                let atoms = &bins.atoms[lo..hi];
                                if s.image == center {
                                    let out = &mut scratch_direct[nd..nd + positions.len()];
                                    let mut m = 0;
                                    for (p, &j) in positions.iter().zip(atoms) {
                                        out[m] = j;
                                        m += ((*p + base).length_squared() < range2) as usize;
                                    }
                                    nd += m;
                                } else {
                                    let out = &mut scratch_imaged[ni..ni + positions.len()];
                                    let mut m = 0;
                                    for (p, &j) in positions.iter().zip(atoms) {
                                        out[m] = encode(j as usize, s.image, image_bits);
                                        m += ((*p + base).length_squared() < range2) as usize;
                                    }
                                    ni += m;
                                }
                            }
                        }
                        g.atoms.push((i, g.entries.len(), nd, nd + ni));
                        g.entries.extend_from_slice(&scratch_direct[..nd]);
                        g.entries.extend_from_slice(&scratch_imaged[..ni]);
                    }
                }
                g
            })
            .collect();

        // where each atom's neighbours were gathered: (chunk, start, direct, total)
        let mut source = vec![(0usize, 0usize, 0usize, 0usize); n];
        for (c, g) in gathered.iter().enumerate() {
            for &(i, from, direct, total) in &g.atoms {
                source[i] = (c, from, direct, total);
            }
        }
        self.offsets.clear();
        self.direct_end.clear();
        self.offsets.push(0);
        let mut at = 0;
        for &(_, _, direct, total) in &source {
            self.direct_end.push(at + direct);
            at += total;
            self.offsets.push(at);
        }
        self.entries.clear();
        self.entries.resize(at, 0);
        // copy into place in parallel, over blocks of atoms whose entries are contiguous
        const LAYOUT_BLOCK: usize = 4096;
        let mut blocks = Vec::with_capacity(n.div_ceil(LAYOUT_BLOCK));
        let mut rest = self.entries.as_mut_slice();
        for start in (0..n).step_by(LAYOUT_BLOCK) {
            let end = (start + LAYOUT_BLOCK).min(n);
            let (block, tail) = rest.split_at_mut(self.offsets[end] - self.offsets[start]);
            blocks.push((start..end, block));
            rest = tail;
        }
        blocks.into_par_iter().for_each(|(atoms, block)| {
            let mut at = 0;
            for &(c, from, _, total) in &source[atoms] {
                block[at..at + total].copy_from_slice(&gathered[c].entries[from..from + total]);
                at += total;
            }
        });
        let inverse = system.cell.matrix().inverse();
        self.image_cells = if system.cell.is_vacuum() {
            vec![DVec3::ZERO; images.len()]
        } else {
            images.iter().map(|t| (inverse * *t).round()).collect()
        };
        self.images = images;
        self.images_cell = system.cell.matrix();
        self.image_bits = image_bits;
        self.reference_positions.clear();
        self.reference_positions
            .extend_from_slice(&system.positions);
        self.reference_cell = system.cell.matrix();
        self.builds += 1;
        log::debug!(
            "neighbour list built: {} pairs for {} atoms ({} bins)",
            self.entries.len(),
            n,
            grid.total_bins()
        );
    }
}
