//! Neighbour lists equal brute force on random systems: orthorhombic, triclinic, boxes
//! smaller than twice the range (several images), non-periodic and mixed periodicity.

mod common;

use common::*;
use eqmd::cell::Cell;
use eqmd::neighbors::{ListKind, NeighborList};
use eqmd::system::System;
use glam::DVec3;
use proptest::prelude::*;
use std::collections::BTreeSet;

/// A pair as (i, j, translation in whole lattice vectors).
type Pair = (usize, usize, [i64; 3]);

/// Every (i, j, n) with |x_j + n·h − x_i| < range, by looping over all atoms and images.
fn brute_force(system: &System, range: f64) -> BTreeSet<Pair> {
    let cell = &system.cell;
    let widths = cell.perpendicular_widths();
    let mut reach = [0i64; 3];
    for k in 0..3 {
        if cell.pbc()[k] {
            reach[k] = (range / widths[k]).ceil() as i64 + 1;
        }
    }
    let mut set = BTreeSet::new();
    for i in 0..system.len() {
        for j in 0..system.len() {
            for a in -reach[0]..=reach[0] {
                for b in -reach[1]..=reach[1] {
                    for c in -reach[2]..=reach[2] {
                        if i == j && (a, b, c) == (0, 0, 0) {
                            continue;
                        }
                        let t = cell.translation([a as i32, b as i32, c as i32]);
                        let d = system.positions[j] + t - system.positions[i];
                        if d.length() < range {
                            set.insert((i, j, [a, b, c]));
                        }
                    }
                }
            }
        }
    }
    set
}

/// The list's pairs in the same form, each pair of a half list added from both ends.
fn from_list(system: &System, list: &NeighborList) -> BTreeSet<Pair> {
    let inv = system.cell.matrix().inverse();
    let mut set = BTreeSet::new();
    for i in 0..system.len() {
        for nb in list.neighbors(i) {
            let n = if system.cell.is_vacuum() {
                [0, 0, 0]
            } else {
                (inv * nb.shift).round().as_i64vec3().to_array()
            };
            let fresh = set.insert((i, nb.j, n));
            assert!(fresh, "pair ({i}, {}, {n:?}) listed twice", nb.j);
            if list.kind() == ListKind::Half {
                let fresh = set.insert((nb.j, i, [-n[0], -n[1], -n[2]]));
                assert!(fresh, "pair ({}, {i}) listed from both ends", nb.j);
            }
        }
    }
    set
}

fn check(mut system: System, cutoff: f64, skin: f64) {
    for kind in [ListKind::Half, ListKind::Full] {
        let mut list = NeighborList::new(kind, cutoff, skin);
        list.rebuild(&mut system);
        let expected = brute_force(&system, cutoff + skin);
        let got = from_list(&system, &list);
        assert_eq!(got.len(), expected.len(), "{kind:?}: pair count");
        assert_eq!(got, expected, "{kind:?}: pairs differ");
    }
}

fn cell_strategy() -> impl Strategy<Value = Cell> {
    (
        (2.0f64..12.0, 2.0f64..12.0, 2.0f64..12.0),
        (-0.4f64..0.4, -0.4f64..0.4, -0.4f64..0.4),
        prop::array::uniform3(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(|((a, b, c), (xy, xz, yz), pbc, tilted)| {
            let (xy, xz, yz) = if tilted {
                (xy * b, xz * c, yz * c)
            } else {
                (0.0, 0.0, 0.0)
            };
            Cell::new(
                DVec3::new(a, 0.0, 0.0),
                DVec3::new(xy, b, 0.0),
                DVec3::new(xz, yz, c),
                pbc,
            )
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn lists_equal_brute_force(
        cell in cell_strategy(),
        n in 1usize..60,
        cutoff in 0.5f64..4.0,
        skin in 0.0f64..1.0,
        seed in any::<u64>(),
    ) {
        let system = random_system(cell, n, 2, 0.0, 0.0, seed);
        check(system, cutoff, skin);
    }

    #[test]
    fn molecules_in_vacuum(n in 1usize..80, side in 1.0f64..15.0, cutoff in 0.5f64..5.0, seed in any::<u64>()) {
        let system = random_system(Cell::vacuum(), n, 1, 0.0, side, seed);
        check(system, cutoff, 0.3);
    }
}

#[test]
fn tiny_box_sees_many_images_of_one_neighbour() {
    // a 1.0 box with range 3.3: each atom sees dozens of images of every atom
    let cell = periodic(
        DVec3::X,
        DVec3::new(0.3, 1.1, 0.0),
        DVec3::new(0.2, -0.1, 0.9),
    );
    let system = random_system(cell, 3, 1, 0.0, 0.0, 7);
    check(system, 3.0, 0.3);
}

#[test]
fn large_lattice_matches_brute_force() {
    let (cell, sites) = eqmd::lattice::build(eqmd::lattice::LatticeKind::Fcc, 1.6796, [5, 5, 5]);
    let mut s = System::new(cell, eqmd::units::Units::Lj);
    let k = s.add_species("A", 1.0);
    for (_, r) in sites {
        s.add_atom(k, r + DVec3::new(0.01, -0.02, 0.03));
    }
    check(s, 2.5, 0.3);
}

#[test]
fn rebuilds_only_after_half_skin_displacement() {
    let cell = Cell::orthorhombic(DVec3::splat(10.0));
    let mut s = random_system(cell, 50, 1, 0.8, 0.0, 3);
    let mut list = NeighborList::new(ListKind::Half, 2.0, 0.4);
    assert!(list.update(&mut s));
    s.positions[0].x += 0.19;
    assert!(!list.update(&mut s), "0.19 < skin/2 must not rebuild");
    s.positions[0].x += 0.02;
    assert!(list.update(&mut s), "0.21 > skin/2 must rebuild");
    assert_eq!(list.builds(), 2);
}

/// A list kept across a change of the cell (a barostat's step) must still hold every pair
/// within the cutoff, with its translations moved to the new cell; a strain the skin cannot
/// cover must rebuild it.
#[test]
fn list_follows_a_deforming_cell() {
    let h = glam::DMat3::from_cols(
        DVec3::new(9.0, 0.0, 0.0),
        DVec3::new(1.5, 8.5, 0.0),
        DVec3::new(-0.7, 1.1, 9.5),
    );
    let cell = Cell::from_matrix(h, [true; 3]).unwrap();
    let (cutoff, skin) = (2.5, 0.5);
    let mut kept = 0;
    for seed in 0..40u64 {
        let mut s = random_system(cell, 120, 1, 0.9, 0.0, seed);
        let mut list = NeighborList::new(ListKind::Full, cutoff, skin);
        list.rebuild(&mut s);
        // a deformation of up to ±2.5 % per component and jitter of up to 0.1
        let r = |k: u64| ((seed * 31 + k) as f64 * 0.618_034).fract() * 2.0 - 1.0;
        let f = glam::DMat3::IDENTITY
            + glam::DMat3::from_cols_array(&std::array::from_fn(|k| 0.025 * r(k as u64)));
        s.cell = Cell::from_matrix(f * h, [true; 3]).unwrap();
        for (i, x) in s.positions.iter_mut().enumerate() {
            *x = f * *x + DVec3::new(r(9 + i as u64), r(500 + i as u64), r(900 + i as u64)) * 0.1;
        }
        if list.update(&mut s) {
            continue;
        }
        kept += 1;
        let within = brute_force(&s, cutoff);
        let listed = from_list(&s, &list);
        assert!(
            within.is_subset(&listed),
            "seed {seed}: a pair within the cutoff is missing"
        );
        for i in 0..s.len() {
            for nb in list.neighbors(i) {
                let n = (s.cell.matrix().inverse() * nb.shift).round();
                let t = s.cell.translation([n.x as i32, n.y as i32, n.z as i32]);
                assert!(
                    (nb.shift - t).length() < 1e-12,
                    "a translation of the old cell"
                );
            }
        }
    }
    assert!(
        kept >= 10,
        "only {kept} of 40 small deformations kept the list"
    );
    // 30 % strain: the skin cannot cover it
    let mut s = random_system(cell, 120, 1, 0.9, 0.0, 1);
    let mut list = NeighborList::new(ListKind::Full, cutoff, skin);
    list.rebuild(&mut s);
    s.cell = Cell::from_matrix(h * 0.7, [true; 3]).unwrap();
    for x in &mut s.positions {
        *x *= 0.7;
    }
    assert!(list.update(&mut s), "a 30 % compression must rebuild");
}
