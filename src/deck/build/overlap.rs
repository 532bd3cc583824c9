//! The starting structure's closest pair: a deck refuses two atoms closer than
//! `system.min_distance`, which no potential can start from (the forces are huge or
//! undefined and the run heats up to nonsense within a few steps).

use super::non_negative_quantity;
use crate::deck::quantity::Dimension;
use crate::deck::{DeckError, LoadedDeck};
use crate::neighbors::{refusal, ListKind, NeighborList};
use crate::system::System;
use crate::units::Units;
use rayon::prelude::*;

/// The closest two atoms may be unless the deck says otherwise: 0.5 Å or 0.5 σ, well
/// inside the repulsive wall of any real pair (H₂'s bond is 0.74 Å).
fn default_min_distance(units: Units) -> f64 {
    match units {
        Units::Lj | Units::Metal => 0.5,
    }
}

/// The closest pair of atoms in `system` nearer than `limit` (periodic images included):
/// the two indices (the lower first) and their distance. O(N) through a cell list; an
/// error says why that list cannot be built.
fn closest_pair(system: &System, limit: f64) -> Result<Option<(usize, usize, f64)>, String> {
    if limit <= 0.0 || system.len() < 2 {
        return Ok(None);
    }
    // bins no smaller than the mean spacing, so that a small limit in a large periodic box
    // does not ask for more bins than there are atoms
    let cell = &system.cell;
    let volume = cell.matrix().determinant().abs();
    let spacing = if cell.is_vacuum() || !volume.is_finite() {
        0.0
    } else {
        (volume / system.len() as f64).cbrt()
    };
    let range = limit.max(spacing);
    if let Some(why) = refusal(system, range, ListKind::Half) {
        return Err(why);
    }
    let mut wrapped = system.clone();
    let mut list = NeighborList::new(ListKind::Half, range, 0.0);
    list.rebuild(&mut wrapped);
    let r = &wrapped.positions;
    let pair = (0..wrapped.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            list.neighbors(i).map(move |n| {
                let d = (r[n.j] + n.shift - r[i]).length();
                (i.min(n.j), i.max(n.j), d)
            })
        })
        .filter(|&(_, _, d)| d < limit)
        .min_by(|a, b| a.2.total_cmp(&b.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    Ok(pair)
}

/// Refuses a starting system with two atoms closer than `system.min_distance`, naming both
/// (1-based, with species), their distance and where the atoms came from, at `key`.
pub fn check_min_distance(
    deck: &LoadedDeck,
    system: &System,
    key: &str,
    origin: &str,
) -> Result<(), DeckError> {
    let units = deck.deck.units;
    let limit = match &deck.deck.system.min_distance {
        Some(d) => non_negative_quantity(deck, "system.min_distance", d, Dimension::Length)?,
        None => default_min_distance(units),
    };
    let length = match units {
        Units::Lj => "σ",
        Units::Metal => "Å",
    };
    let found = closest_pair(system, limit).map_err(|why| {
        let at = match &deck.deck.system.min_distance {
            Some(_) => "system.min_distance",
            None => key,
        };
        deck.error(
            at,
            format!(
                "atoms closer than system.min_distance = {limit} {length} cannot be looked \
                 for in {origin}: the neighbour list {why}"
            ),
        )
    })?;
    let Some((i, j, d)) = found else {
        return Ok(());
    };
    let name = |k: usize| &system.species_names[system.species[k]];
    Err(deck.error(
        key,
        format!(
            "atoms {} ({}) and {} ({}) of {origin} are {d:.4} {length} apart, closer than \
             system.min_distance = {limit} {length} (overlapping atoms?)",
            i + 1,
            name(i),
            j + 1,
            name(j),
        ),
    ))
}
