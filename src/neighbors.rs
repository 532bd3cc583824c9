//! Verlet neighbour lists built from linked cells, with a skin so that a list survives many
//! steps. Pairs are found through explicit periodic images, so boxes smaller than twice the
//! list range (several images of one neighbour), triclinic cells, mixed periodicity and
//! molecules in vacuum all take the same path. Building is O(N) and rayon-parallel.

use crate::system::System;
use glam::{DMat3, DVec3};
use rayon::prelude::*;

/// Whether each pair is stored once (half) or from both ends (full).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Each pair once: suited to pair potentials that apply Newton's third law.
    Half,
    /// Each pair from both atoms: suited to many-body potentials and message passing.
    Full,
}

/// Bins per list range along each axis: smaller bins test fewer distant pairs.
const BINS_PER_RANGE: f64 = 2.0;
/// Atoms per parallel work item while building.
const BUILD_CHUNK: usize = 512;

/// A Verlet list: for every atom, the neighbours within cutoff + skin and the lattice
/// translation to apply to each. Potentials read it; only `update` rebuilds it.
#[derive(Clone, Debug)]
pub struct NeighborList {
    kind: ListKind,
    cutoff: f64,
    skin: f64,
    offsets: Vec<usize>,
    entries: Vec<u32>,
    images: Vec<DVec3>,
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
            entries: Vec::new(),
            images: vec![DVec3::ZERO],
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

    /// True if some atom moved more than half the skin since the last build, or the cell
    /// or atom count changed: the condition under which the list may miss a pair.
    pub fn needs_rebuild(&self, system: &System) -> bool {
        if self.builds == 0
            || self.reference_positions.len() != system.len()
            || self.reference_cell != system.cell.matrix()
        {
            return true;
        }
        let limit = 0.25 * self.skin * self.skin;
        self.reference_positions
            .par_iter()
            .zip(system.positions.par_iter())
            .with_min_len(4096)
            .any(|(a, b)| (*b - *a).length_squared() > limit)
    }

    /// Rebuilds the list if needed (wrapping positions into the cell first); returns whether
    /// it did.
    pub fn update(&mut self, system: &mut System) -> bool {
        if !self.needs_rebuild(system) {
            return false;
        }
        self.rebuild(system);
        true
    }

    /// Wraps positions into the cell along periodic axes and builds the list from them.
    pub fn rebuild(&mut self, system: &mut System) {
        system.wrap_positions();
        self.build(system);
    }

    /// The raw packed entries of atom `i`; decode them with `decode`.
    #[inline]
    pub fn raw(&self, i: usize) -> &[u32] {
        &self.entries[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Decodes a packed entry into the neighbour index and its image translation.
    #[inline(always)]
    pub fn decode(&self, entry: u32) -> (usize, DVec3) {
        if self.image_bits == 0 {
            return (entry as usize, self.images[0]);
        }
        let shift = 32 - self.image_bits;
        let j = (entry & ((1u32 << shift) - 1)) as usize;
        (j, self.images[(entry >> shift) as usize])
    }

    /// The neighbours of atom `i`.
    pub fn neighbors(&self, i: usize) -> impl Iterator<Item = Neighbor> + '_ {
        self.raw(i).iter().map(move |&e| {
            let (j, shift) = self.decode(e);
            Neighbor { j, shift }
        })
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

        let range2 = range * range;
        let half = self.kind == ListKind::Half;
        let chunks: Vec<(Vec<u32>, Vec<usize>)> = (0..n.div_ceil(BUILD_CHUNK))
            .into_par_iter()
            .map(|c| {
                let start = c * BUILD_CHUNK;
                let end = (start + BUILD_CHUNK).min(n);
                let mut entries = Vec::with_capacity((end - start) * 48);
                let mut counts = Vec::with_capacity(end - start);
                for i in start..end {
                    let before = entries.len();
                    grid.for_each_candidate(&bins, bins.atom_bin[i], |j, image| {
                        let (ix, iy, iz) = image;
                        if half {
                            // keep (i, j, n) once: j > i, or j == i with n positive
                            if j < i || (j == i && (ix, iy, iz) <= (0, 0, 0)) {
                                return;
                            }
                        } else if j == i && image == (0, 0, 0) {
                            return;
                        }
                        let code = image_extent.index(image);
                        let shift = images[code];
                        let d = system.positions[j] + shift - system.positions[i];
                        if d.length_squared() < range2 {
                            entries.push(encode(j, code, image_bits));
                        }
                    });
                    counts.push(entries.len() - before);
                }
                (entries, counts)
            })
            .collect();

        self.entries.clear();
        self.offsets.clear();
        self.offsets.push(0);
        for (entries, counts) in chunks {
            self.entries.extend_from_slice(&entries);
            for c in counts {
                let last = *self.offsets.last().unwrap_or(&0);
                self.offsets.push(last + c);
            }
        }
        self.images = images;
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

/// Packs a neighbour index and an image index into one word (image in the top bits).
#[inline]
fn encode(j: usize, image: usize, image_bits: u32) -> u32 {
    if image_bits == 0 {
        j as u32
    } else {
        j as u32 | ((image as u32) << (32 - image_bits))
    }
}

/// Range of lattice images along each axis: −extent..=extent.
#[derive(Clone, Copy, Debug)]
struct ImageExtent([i32; 3]);

impl ImageExtent {
    fn count(&self) -> usize {
        self.0.iter().map(|&e| (2 * e + 1) as usize).product()
    }

    fn index(&self, n: (i32, i32, i32)) -> usize {
        let w = self.0.map(|e| 2 * e + 1);
        (((n.0 + self.0[0]) * w[1] + (n.1 + self.0[1])) * w[2] + (n.2 + self.0[2])) as usize
    }
}

/// Linked-cell bins in fractional coordinates (Cartesian for a vacuum cell).
struct BinGrid {
    /// Bins along each axis.
    count: [i64; 3],
    /// Fractional width of one bin along each axis.
    width: [f64; 3],
    /// Fractional coordinate where bin 0 starts along each axis.
    origin: [f64; 3],
    /// How many bins away a neighbour within range can be.
    reach: [i64; 3],
    periodic: [bool; 3],
}

/// Atoms sorted by bin (counting sort).
struct Bins {
    start: Vec<usize>,
    atoms: Vec<usize>,
    atom_bin: Vec<[i64; 3]>,
}

impl BinGrid {
    fn new(system: &System, range: f64) -> BinGrid {
        let cell = &system.cell;
        let widths = if cell.is_vacuum() {
            DVec3::ONE
        } else {
            cell.perpendicular_widths()
        };
        let n_atoms = system.len().max(1) as f64;
        let mut count = [1i64; 3];
        let mut width = [1.0; 3];
        let mut origin = [0.0; 3];
        let mut reach = [0i64; 3];
        let periodic = cell.pbc();
        for k in 0..3 {
            // fractional distance that a Cartesian distance `range` can span along k
            let span = range / widths[k];
            if periodic[k] {
                let nb = ((BINS_PER_RANGE / span).floor() as i64).max(1);
                count[k] = nb;
                width[k] = 1.0 / nb as f64;
            } else {
                let (lo, hi) = system
                    .positions
                    .iter()
                    .map(|r| cell.fractional(*r)[k])
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
                        (lo.min(s), hi.max(s))
                    });
                let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 0.0) };
                let extent = (hi - lo).max(0.0);
                // no more bins than a few per atom, however far atoms spread
                let cap = (4.0 * n_atoms).cbrt().ceil().max(1.0) * 4.0;
                let nb = ((extent * BINS_PER_RANGE / span).floor() + 1.0).min(cap);
                count[k] = nb as i64;
                width[k] = (extent / nb).max(span / BINS_PER_RANGE);
                origin[k] = lo;
            }
            reach[k] = (span / width[k]).ceil() as i64;
        }
        BinGrid {
            count,
            width,
            origin,
            reach,
            periodic,
        }
    }

    fn total_bins(&self) -> usize {
        (self.count[0] * self.count[1] * self.count[2]) as usize
    }

    fn flat(&self, b: [i64; 3]) -> usize {
        ((b[0] * self.count[1] + b[1]) * self.count[2] + b[2]) as usize
    }

    /// The lattice images a stencil can reach, their translations and the bits to encode them.
    fn image_table(&self, system: &System) -> (Vec<DVec3>, u32, ImageExtent) {
        let mut extent = [0i32; 3];
        for k in 0..3 {
            if self.periodic[k] {
                extent[k] = ((self.count[k] - 1 + self.reach[k]) / self.count[k] + 1) as i32;
            }
        }
        let extent = ImageExtent(extent);
        let mut images = vec![DVec3::ZERO; extent.count()];
        let e = extent.0;
        for a in -e[0]..=e[0] {
            for b in -e[1]..=e[1] {
                for c in -e[2]..=e[2] {
                    images[extent.index((a, b, c))] = system.cell.translation([a, b, c]);
                }
            }
        }
        let bits = usize::BITS - (images.len() - 1).leading_zeros();
        (images, bits, extent)
    }

    fn bin_of(&self, s: DVec3) -> [i64; 3] {
        let mut b = [0i64; 3];
        for k in 0..3 {
            let x = ((s[k] - self.origin[k]) / self.width[k]).floor() as i64;
            b[k] = x.clamp(0, self.count[k] - 1);
        }
        b
    }

    fn assign(&self, system: &System) -> Bins {
        let atom_bin: Vec<[i64; 3]> = system
            .positions
            .par_iter()
            .map(|r| self.bin_of(system.cell.fractional(*r)))
            .collect();
        let nbins = self.total_bins();
        let mut start = vec![0usize; nbins + 1];
        for b in &atom_bin {
            start[self.flat(*b) + 1] += 1;
        }
        for k in 0..nbins {
            start[k + 1] += start[k];
        }
        let mut fill = start.clone();
        let mut atoms = vec![0usize; atom_bin.len()];
        for (i, b) in atom_bin.iter().enumerate() {
            let f = self.flat(*b);
            atoms[fill[f]] = i;
            fill[f] += 1;
        }
        Bins {
            start,
            atoms,
            atom_bin,
        }
    }

    /// The bin along axis `k` that a stencil offset lands in, with the lattice image it
    /// stands for, or None past the edge of a non-periodic axis.
    #[inline]
    fn stencil_bin(&self, k: usize, b: i64) -> Option<(i64, i32)> {
        if self.periodic[k] {
            Some((
                b.rem_euclid(self.count[k]),
                b.div_euclid(self.count[k]) as i32,
            ))
        } else if b < 0 || b >= self.count[k] {
            None
        } else {
            Some((b, 0))
        }
    }

    /// Calls `visit(j, image)` for every atom in every bin of the stencil around `bin`, with
    /// the lattice image that bin stands for.
    #[inline]
    fn for_each_candidate(
        &self,
        bins: &Bins,
        bin: [i64; 3],
        mut visit: impl FnMut(usize, (i32, i32, i32)),
    ) {
        let r = self.reach;
        for dx in -r[0]..=r[0] {
            let Some((bx, nx)) = self.stencil_bin(0, bin[0] + dx) else {
                continue;
            };
            for dy in -r[1]..=r[1] {
                let Some((by, ny)) = self.stencil_bin(1, bin[1] + dy) else {
                    continue;
                };
                for dz in -r[2]..=r[2] {
                    let Some((bz, nz)) = self.stencil_bin(2, bin[2] + dz) else {
                        continue;
                    };
                    let f = self.flat([bx, by, bz]);
                    for &j in &bins.atoms[bins.start[f]..bins.start[f + 1]] {
                        visit(j, (nx, ny, nz));
                    }
                }
            }
        }
    }
}
