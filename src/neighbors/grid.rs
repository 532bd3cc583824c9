//! Linked-cell binning for the neighbour-list build: bins in fractional coordinates, atoms
//! sorted by bin, lattice images as a table, and stencils of contiguous bin runs.

use crate::system::System;
use glam::DVec3;
use rayon::prelude::*;

/// Bins per list range along each axis: smaller bins test fewer distant pairs.
const BINS_PER_RANGE: f64 = 2.0;

/// Packs a neighbour index and an image index into one word (image in the top bits).
#[inline]
pub(super) fn encode(j: usize, image: usize, image_bits: u32) -> u32 {
    if image_bits == 0 {
        j as u32
    } else {
        j as u32 | ((image as u32) << (32 - image_bits))
    }
}

/// Range of lattice images along each axis: −extent..=extent.
#[derive(Clone, Copy, Debug)]
pub(super) struct ImageExtent(pub(super) [i32; 3]);

impl ImageExtent {
    pub(super) fn count(&self) -> usize {
        self.0.iter().map(|&e| (2 * e + 1) as usize).product()
    }

    pub(super) fn index(&self, n: (i32, i32, i32)) -> usize {
        let w = self.0.map(|e| 2 * e + 1);
        (((n.0 + self.0[0]) * w[1] + (n.1 + self.0[1])) * w[2] + (n.2 + self.0[2])) as usize
    }
}

/// Linked-cell bins in fractional coordinates (Cartesian for a vacuum cell).
pub(super) struct BinGrid {
    /// Bins along each axis.
    pub(super) count: [i64; 3],
    /// Fractional width of one bin along each axis.
    pub(super) width: [f64; 3],
    /// Fractional coordinate where bin 0 starts along each axis.
    pub(super) origin: [f64; 3],
    /// How many bins away a neighbour within range can be.
    pub(super) reach: [i64; 3],
    pub(super) periodic: [bool; 3],
}

/// Atoms sorted by bin (counting sort), with their positions in that order so that the
/// inner loop of the build streams through memory.
pub(super) struct Bins {
    pub(super) start: Vec<usize>,
    pub(super) atoms: Vec<u32>,
    pub(super) positions: Vec<DVec3>,
}

/// Neighbours gathered bin by bin: (atom, start in `entries`, direct count, total count).
#[derive(Default)]
pub(super) struct Gathered {
    pub(super) atoms: Vec<(usize, usize, usize, usize)>,
    pub(super) entries: Vec<u32>,
}

/// A run of stencil bins consecutive in memory (along the last axis) and in the same
/// lattice image, so that their atoms form one contiguous range; `own_bin` marks the run
/// that holds the atom's own bin in its own image.
pub(super) struct StencilSegment {
    pub(super) first_bin: usize,
    pub(super) last_bin: usize,
    pub(super) image: usize,
    pub(super) shift: DVec3,
    pub(super) own_bin: bool,
}

impl BinGrid {
    pub(super) fn new(system: &System, range: f64) -> BinGrid {
        let cell = &system.cell;
        let widths = if cell.is_vacuum() {
            DVec3::ONE
        } else {
            cell.perpendicular_widths()
        };
        let n_atoms = system.len().max(1) as f64;
        // no more bins along an axis than a few per atom, however large the cell or small
        // the range (a few atoms in a huge periodic box, or atoms spread far in vacuum)
        let cap = (4.0 * n_atoms).cbrt().ceil().max(1.0) * 4.0;
        let mut count = [1i64; 3];
        let mut width = [1.0; 3];
        let mut origin = [0.0; 3];
        let mut reach = [0i64; 3];
        let periodic = cell.pbc();
        for k in 0..3 {
            // fractional distance that a Cartesian distance `range` can span along k
            let span = range / widths[k];
            if periodic[k] {
                let nb = (BINS_PER_RANGE / span).floor().min(cap).max(1.0) as i64;
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

    pub(super) fn total_bins(&self) -> usize {
        (self.count[0] * self.count[1] * self.count[2]) as usize
    }

    pub(super) fn flat(&self, b: [i64; 3]) -> usize {
        ((b[0] * self.count[1] + b[1]) * self.count[2] + b[2]) as usize
    }

    /// The lattice images a stencil can reach, their translations and the bits to encode them.
    pub(super) fn image_table(&self, system: &System) -> (Vec<DVec3>, u32, ImageExtent) {
        let extent = ImageExtent(std::array::from_fn(|k| {
            if self.periodic[k] {
                ((self.count[k] - 1 + self.reach[k]) / self.count[k] + 1) as i32
            } else {
                0
            }
        }));
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

    pub(super) fn bin_of(&self, s: DVec3) -> [i64; 3] {
        let mut b = [0i64; 3];
        for k in 0..3 {
            let x = ((s[k] - self.origin[k]) / self.width[k]).floor() as i64;
            b[k] = x.clamp(0, self.count[k] - 1);
        }
        b
    }

    pub(super) fn assign(&self, system: &System) -> Bins {
        let atom_bin: Vec<usize> = system
            .positions
            .par_iter()
            .map(|r| self.flat(self.bin_of(system.cell.fractional(*r))))
            .collect();
        let nbins = self.total_bins();
        let mut start = vec![0usize; nbins + 1];
        for &b in &atom_bin {
            start[b + 1] += 1;
        }
        for k in 0..nbins {
            start[k + 1] += start[k];
        }
        let mut fill = start.clone();
        let mut atoms = vec![0u32; atom_bin.len()];
        let mut positions = vec![DVec3::ZERO; atom_bin.len()];
        for (i, &b) in atom_bin.iter().enumerate() {
            let k = fill[b];
            atoms[k] = i as u32;
            positions[k] = system.positions[i];
            fill[b] += 1;
        }
        Bins {
            start,
            atoms,
            positions,
        }
    }

    /// Unflattens a bin index.
    pub(super) fn unflat(&self, f: usize) -> [i64; 3] {
        let f = f as i64;
        let z = f % self.count[2];
        let y = (f / self.count[2]) % self.count[1];
        let x = f / (self.count[2] * self.count[1]);
        [x, y, z]
    }

    /// The bins (with images) within reach of bin `flat`, merged into runs along the last
    /// axis. For a half list only offsets that are lexicographically ≥ 0, so that every
    /// pair is found from one end only (the own-bin run then starts at the own bin).
    pub(super) fn stencil(
        &self,
        flat: usize,
        half: bool,
        images: &[DVec3],
        extent: &ImageExtent,
        out: &mut Vec<StencilSegment>,
    ) {
        out.clear();
        let bin = self.unflat(flat);
        let r = self.reach;
        let e = extent.0;
        let (wy, wz) = (2 * e[1] as i64 + 1, 2 * e[2] as i64 + 1);
        for dx in -r[0]..=r[0] {
            let Some((bx, nx)) = self.stencil_bin(0, bin[0] + dx) else {
                continue;
            };
            for dy in -r[1]..=r[1] {
                if half && (dx, dy) < (0, 0) {
                    continue;
                }
                let Some((by, ny)) = self.stencil_bin(1, bin[1] + dy) else {
                    continue;
                };
                let row = (bx * self.count[1] + by) * self.count[2];
                let row_image =
                    (nx as i64 + e[0] as i64) * wy * wz + (ny as i64 + e[1] as i64) * wz;
                let first_dz = if half && (dx, dy) == (0, 0) { 0 } else { -r[2] };
                for dz in first_dz..=r[2] {
                    let Some((bz, nz)) = self.stencil_bin(2, bin[2] + dz) else {
                        continue;
                    };
                    let b = (row + bz) as usize;
                    let image = (row_image + nz as i64 + e[2] as i64) as usize;
                    let own = (dx, dy, dz) == (0, 0, 0);
                    match out.last_mut() {
                        Some(seg)
                            if seg.image == image && seg.last_bin + 1 == b && !(own && half) =>
                        {
                            seg.last_bin = b;
                            seg.own_bin |= own;
                        }
                        _ => out.push(StencilSegment {
                            first_bin: b,
                            last_bin: b,
                            image,
                            shift: images[image],
                            own_bin: own,
                        }),
                    }
                }
            }
        }
    }

    /// The bin along axis `k` that a stencil offset lands in, with the lattice image it
    /// stands for, or None past the edge of a non-periodic axis.
    #[inline]
    pub(super) fn stencil_bin(&self, k: usize, b: i64) -> Option<(i64, i32)> {
        let n = self.count[k];
        if self.periodic[k] {
            Some(if (0..n).contains(&b) {
                (b, 0)
            } else {
                (b.rem_euclid(n), b.div_euclid(n) as i32)
            })
        } else if b < 0 || b >= self.count[k] {
            None
        } else {
            Some((b, 0))
        }
    }
}
