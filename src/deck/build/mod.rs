//! From a checked deck to the objects a run needs, one builder per deck section: the
//! system ([`system`], refusing overlapping atoms through [`overlap`]), the potential
//! ([`potential`]), the integrator with its thermostat and barostat, the neighbour skin and
//! the force and displacement limits ([`integrator`]), and the stages a deck runs in order
//! ([`stages`]). Every value that can be wrong is checked here
//! with the key it came from.

mod integrator;
mod overlap;
mod potential;
mod stages;
mod system;

pub use integrator::{
    build_dynamics, build_integrator, force_limit, max_displacement, neighbor_skin, DynamicsSpec,
};
pub use potential::build_potential;
pub use stages::{build_stages, MinimizeStage, Stage, StageKind};
pub use system::build_system;

use super::quantity::{Dimension, Quantity};
use super::{DeckError, LoadedDeck};
use crate::system::System;

/// A quantity from the deck in the deck's units, checked against its dimension.
fn quantity(
    deck: &LoadedDeck,
    key: &str,
    value: &Quantity,
    dimension: Dimension,
) -> Result<f64, DeckError> {
    value
        .value(deck.deck.units, dimension)
        .map_err(|m| deck.error(key, m))
}

/// A quantity that must be finite and strictly positive.
fn positive_quantity(
    deck: &LoadedDeck,
    key: &str,
    value: &Quantity,
    dimension: Dimension,
) -> Result<f64, DeckError> {
    let v = quantity(deck, key, value, dimension)?;
    positive(deck, key, v)
}

/// A quantity that must be finite and zero or positive.
fn non_negative_quantity(
    deck: &LoadedDeck,
    key: &str,
    value: &Quantity,
    dimension: Dimension,
) -> Result<f64, DeckError> {
    let v = quantity(deck, key, value, dimension)?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(deck.error(key, format!("must be a non-negative number, got {v}")))
    }
}

/// Requires a finite, strictly positive number.
fn positive(deck: &LoadedDeck, key: &str, value: f64) -> Result<f64, DeckError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(deck.error(key, format!("must be a positive number, got {value}")))
    }
}

/// The error for a species name the system does not hold, given at `key`.
fn unknown_species(deck: &LoadedDeck, system: &System, key: &str, name: &str) -> DeckError {
    deck.error(
        key,
        format!(
            "unknown species `{name}`: the system has {}",
            system.species_names.join(", ")
        ),
    )
}

/// Index of a species named at `key`.
fn species_of(
    deck: &LoadedDeck,
    system: &System,
    key: &str,
    name: &str,
) -> Result<usize, DeckError> {
    system
        .species_index(name)
        .ok_or_else(|| unknown_species(deck, system, key, name))
}
