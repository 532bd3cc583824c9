//! What a neighbour list will need before it is built: the periodic images its range
//! reaches, the entries it will hold and the bytes they take, estimated in floating point
//! so that no request, however large, overflows or allocates on the way to a refusal.

use super::ListKind;
use crate::system::System;

/// The estimated demand of a list of range `cutoff + skin` on a system.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Demand {
    /// Periodic images of the cell the build walks (1 without periodic axes).
    pub images: f64,
    /// Entries (neighbour pairs as stored) of the whole list.
    pub entries: f64,
    /// Bytes of the build: entries while gathered and when laid out, and the image table.
    pub bytes: f64,
}

/// Bits of an entry (u32) shared by the atom index and the image index.
const ENTRY_BITS: u32 = 32;

/// Estimates the demand of a `kind` list of reach `range` on `system`.
pub fn demand(system: &System, range: f64, kind: ListKind) -> Demand {
    let n = system.len() as f64;
    let pbc = system.cell.pbc();
    let widths = system.cell.perpendicular_widths();
    let mut images = 1.0;
    // the volume the atoms occupy and the part of it one atom's range reaches
    let (mut volume, mut reach) = (1.0, 1.0);
    for k in 0..3 {
        if pbc[k] {
            let extent = (range / widths[k]).ceil() + 1.0;
            images *= 2.0 * extent + 1.0;
            volume *= widths[k];
            reach *= 2.0 * range;
        } else {
            let (lo, hi) = system
                .positions
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), r| {
                    (lo.min(r[k]), hi.max(r[k]))
                });
            let span = (hi - lo).max(1e-3 * range).max(f64::MIN_POSITIVE);
            volume *= span;
            reach *= (2.0 * range).min(span);
        }
    }
    // a ball inside the cube of side 2 r: π/6 of it
    let per_atom = (n / volume * reach * std::f64::consts::FRAC_PI_6).min(n * images);
    let share = match kind {
        ListKind::Half => 0.5,
        ListKind::Full => 1.0,
    };
    let entries = n * per_atom * share;
    Demand {
        images,
        entries,
        bytes: 2.0 * 4.0 * entries + 24.0 * images,
    }
}

impl Demand {
    /// Whether atom and image indices fit together in one entry.
    pub fn encodable(&self, atoms: usize) -> bool {
        let image_bits = self.images.max(1.0).log2().ceil();
        let atom_bits = (atoms.max(1) as f64).log2().ceil();
        image_bits + atom_bits < ENTRY_BITS as f64
    }
}

/// Why a `kind` list of reach `range` cannot be built on `system`, or None when it can: its
/// atom and image indices do not fit in an entry, or it would need more memory than the
/// machine has available. Every builder of a list from input asks this first, so that no
/// request, however large, allocates or panics on the way to a refusal. Lists under
/// `ALWAYS_AFFORDABLE` bytes are not weighed against the machine's memory, so that the
/// thousands of small frames of a training set do not each read `/proc/meminfo`.
pub fn refusal(system: &System, range: f64, kind: ListKind) -> Option<String> {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let d = demand(system, range, kind);
    if !d.encodable(system.len()) {
        return Some(format!(
            "reaches {:.3e} periodic images of the cell, too many to index beside {} atoms",
            d.images,
            system.len()
        ));
    }
    if d.bytes < ALWAYS_AFFORDABLE {
        return None;
    }
    let available = available_memory()?;
    (d.bytes > available).then(|| {
        format!(
            "would need about {:.1} GiB ({:.3e} pairs, {:.3e} images); {:.1} GiB are available",
            d.bytes / GIB,
            d.entries,
            d.images,
            available / GIB
        )
    })
}

/// Bytes of a list below which `refusal` does not ask how much memory the machine has:
/// 64 MiB, which any machine that runs eqmd has to spare.
pub const ALWAYS_AFFORDABLE: f64 = 64.0 * 1024.0 * 1024.0;

/// Bytes of memory this machine has available (`MemAvailable`), if it says.
pub fn available_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::lattice::{build, LatticeKind};
    use crate::neighbors::NeighborList;
    use crate::units::Units;
    use glam::DVec3;

    fn fcc(repeat: usize) -> System {
        let a = LatticeKind::Fcc.constant_for_density(0.8442);
        let (cell, sites) = build(LatticeKind::Fcc, a, [repeat; 3]);
        let mut s = System::new(cell, Units::Lj);
        let k = s.add_species("A", 1.0);
        for (_, r) in sites {
            s.add_atom(k, r);
        }
        s
    }

    #[test]
    fn the_estimate_is_near_the_list_it_predicts() {
        for (mut s, range) in [(fcc(6), 2.8), (fcc(3), 5.0)] {
            for kind in [ListKind::Full, ListKind::Half] {
                let d = demand(&s, range, kind);
                let mut list = NeighborList::new(kind, range, 0.0);
                list.rebuild(&mut s);
                let ratio = d.entries / list.len() as f64;
                assert!((0.8..1.25).contains(&ratio), "{kind:?} r {range}: {ratio}");
            }
        }
        // a cluster in vacuum: never more than all pairs
        let mut s = System::new(Cell::vacuum(), Units::Lj);
        let k = s.add_species("A", 1.0);
        for i in 0..50 {
            s.add_atom(k, DVec3::new(i as f64, 0.0, 0.0));
        }
        let d = demand(&s, 1e9, ListKind::Full);
        assert!(d.entries <= 50.0 * 50.0 && d.entries > 0.0, "{d:?}");
    }

    #[test]
    fn huge_ranges_are_finite_and_flagged() {
        let s = fcc(3);
        let d = demand(&s, 1e9, ListKind::Full);
        assert!(d.bytes.is_finite() && d.bytes > 1e20, "{d:?}");
        assert!(!d.encodable(s.len()));
        assert!(demand(&s, 2.5, ListKind::Full).encodable(s.len()));
    }
}
