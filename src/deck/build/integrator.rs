//! The `[integrator]`, `[thermostat]` and `[neighbors]` sections: the integrator with its
//! thermostat, the force and displacement limits of a blown-up run and the neighbour skin.

use super::positive_quantity;
use crate::deck::quantity::{Dimension, Quantity};
use crate::deck::schema::{IntegratorKind, ThermostatSection};
use crate::deck::{DeckError, LoadedDeck};
use crate::integrate::{Integrator, Langevin, NoseHooverChain, VelocityVerlet};
use crate::units::Units;

/// The neighbour skin: the deck's, or LAMMPS's default for the unit system.
pub fn neighbor_skin(deck: &LoadedDeck) -> Result<f64, DeckError> {
    match &deck.deck.neighbors.skin {
        Some(s) => positive_quantity(deck, "neighbors.skin", s, Dimension::Length),
        None => Ok(match deck.deck.units {
            Units::Lj => 0.3,
            Units::Metal => 1.0,
        }),
    }
}

/// The force limit beyond which a run stops as blown up (infinite if the deck sets none).
pub fn force_limit(deck: &LoadedDeck) -> Result<f64, DeckError> {
    match &deck.deck.integrator.max_force {
        Some(f) => positive_quantity(deck, "integrator.max_force", f, Dimension::Force),
        None => Ok(f64::INFINITY),
    }
}

/// The farthest an atom may move in one step before the run stops: the deck's, or the
/// neighbour skin (an atom moving farther between two list checks outruns the list).
pub fn max_displacement(deck: &LoadedDeck) -> Result<f64, DeckError> {
    match &deck.deck.integrator.max_displacement {
        Some(d) => positive_quantity(deck, "integrator.max_displacement", d, Dimension::Length),
        None => neighbor_skin(deck),
    }
}

/// A thermostat's target temperature and relaxation time, both positive.
fn thermostat_target(
    deck: &LoadedDeck,
    temperature: &Quantity,
    damping: &Quantity,
) -> Result<(f64, f64), DeckError> {
    let key = "thermostat.temperature";
    let t = positive_quantity(deck, key, temperature, Dimension::Temperature)?;
    let tau = positive_quantity(deck, "thermostat.damping", damping, Dimension::Time)?;
    Ok((t, tau))
}

/// The Langevin thermostat's seed: the deck's, or one derived from the system's seed.
fn langevin_seed(deck: &LoadedDeck, seed: Option<u64>) -> u64 {
    seed.unwrap_or(deck.deck.system.seed ^ 0x5eed)
}

/// Builds the integrator (with its thermostat, if any).
pub fn build_integrator(deck: &LoadedDeck) -> Result<Box<dyn Integrator>, DeckError> {
    let d = &deck.deck;
    let dt = positive_quantity(
        deck,
        "integrator.timestep",
        &d.integrator.timestep,
        Dimension::Time,
    )?;
    // the thermostats below are splittings of velocity Verlet, the only integrator
    Ok(match &d.thermostat {
        None => match d.integrator.kind {
            IntegratorKind::VelocityVerlet => Box::new(VelocityVerlet::new(dt)),
        },
        Some(ThermostatSection::Langevin {
            temperature,
            damping,
            seed,
        }) => {
            let (t, tau) = thermostat_target(deck, temperature, damping)?;
            Box::new(Langevin::new(dt, t, tau, langevin_seed(deck, *seed)))
        }
        Some(ThermostatSection::NoseHoover {
            temperature,
            damping,
            chain,
        }) => {
            let (t, tau) = thermostat_target(deck, temperature, damping)?;
            if *chain < 1 {
                return Err(deck.error("thermostat.chain", "the chain needs at least 1 thermostat"));
            }
            Box::new(NoseHooverChain::new(dt, t, tau, *chain))
        }
    })
}
