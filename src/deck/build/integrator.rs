//! The `[integrator]`, `[thermostat]`, `[barostat]` and `[neighbors]` sections (or a
//! stage's own): the integrator with its thermostat and barostat, the force and
//! displacement limits of a blown-up run and the neighbour skin.

use super::positive_quantity;
use crate::deck::quantity::{Dimension, Quantity};
use crate::deck::schema::{BarostatSection, CoupleKind, IntegratorKind, ThermostatSection};
use crate::deck::{DeckError, LoadedDeck};
use crate::integrate::{
    CRescale, CRescaleSettings, Coupling, Integrator, Langevin, Mtk, MtkSettings, NoseHooverChain,
    VelocityVerlet,
};
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
    match deck
        .deck
        .integrator
        .as_ref()
        .and_then(|i| i.max_force.as_ref())
    {
        Some(f) => positive_quantity(deck, "integrator.max_force", f, Dimension::Force),
        None => Ok(f64::INFINITY),
    }
}

/// The farthest an atom may move in one step before the run stops: the deck's, or the
/// neighbour skin (an atom moving farther between two list checks outruns the list).
pub fn max_displacement(deck: &LoadedDeck) -> Result<f64, DeckError> {
    let limit = deck
        .deck
        .integrator
        .as_ref()
        .and_then(|i| i.max_displacement.as_ref());
    match limit {
        Some(d) => positive_quantity(deck, "integrator.max_displacement", d, Dimension::Length),
        None => neighbor_skin(deck),
    }
}

/// What one stretch of dynamics runs under, with the deck key its sections sit at (`""`
/// for the top level, `stage[1].` for a stage).
pub struct DynamicsSpec<'a> {
    pub prefix: String,
    pub timestep: f64,
    pub thermostat: Option<&'a ThermostatSection>,
    pub barostat: Option<&'a BarostatSection>,
    /// Mixed into the Langevin and C-rescale seeds, so that stages draw other numbers.
    pub stage: u64,
}

/// The Langevin thermostat's or C-rescale barostat's seed: the deck's, or one derived
/// from the system's seed and the stage.
fn derived_seed(deck: &LoadedDeck, seed: Option<u64>, salt: u64, stage: u64) -> u64 {
    seed.unwrap_or(deck.deck.system.seed ^ salt ^ stage.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The top-level timestep (`integrator.timestep`), required for dynamics.
pub fn deck_timestep(deck: &LoadedDeck) -> Result<Option<f64>, DeckError> {
    let Some(q) = deck
        .deck
        .integrator
        .as_ref()
        .and_then(|i| i.timestep.as_ref())
    else {
        return Ok(None);
    };
    positive_quantity(deck, "integrator.timestep", q, Dimension::Time).map(Some)
}

/// Builds the integrator (with its thermostat and barostat, if any) of the top-level
/// sections.
pub fn build_integrator(deck: &LoadedDeck) -> Result<Box<dyn Integrator>, DeckError> {
    let dt = deck_timestep(deck)?
        .ok_or_else(|| deck.error("integrator.timestep", "missing: dynamics needs a timestep"))?;
    let d = &deck.deck;
    build_dynamics(
        deck,
        &DynamicsSpec {
            prefix: String::new(),
            timestep: dt,
            thermostat: d.thermostat.as_ref(),
            barostat: d.barostat.as_ref(),
            stage: 0,
        },
    )
}

/// Builds the integrator a thermostat and a barostat ask for.
pub fn build_dynamics(
    deck: &LoadedDeck,
    spec: &DynamicsSpec,
) -> Result<Box<dyn Integrator>, DeckError> {
    let key = |k: &str| format!("{}{k}", spec.prefix);
    let pressure = |q: &Quantity| -> Result<f64, DeckError> {
        let k = key("barostat.pressure");
        let p = super::quantity(deck, &k, q, Dimension::Pressure)?;
        if p.is_finite() {
            Ok(p)
        } else {
            Err(deck.error(&k, format!("must be a finite number, got {p}")))
        }
    };
    if let Some(BarostatSection::Mtk {
        pressure: p,
        damping,
        couple,
    }) = spec.barostat
    {
        let Some(ThermostatSection::NoseHoover {
            temperature,
            damping: t_damping,
            chain,
        }) = spec.thermostat
        else {
            return Err(deck.error(
                &key("barostat.type"),
                "the MTK barostat runs with a Nosé–Hoover thermostat (LAMMPS's fix npt): \
                 give thermostat.type = \"nose-hoover\", or use type = \"c-rescale\"",
            ));
        };
        let (t, tau_t) = thermostat_target(deck, &spec.prefix, temperature, t_damping)?;
        let chain = chain_length(deck, &spec.prefix, *chain)?;
        let settings = MtkSettings {
            timestep: spec.timestep,
            temperature: t,
            temperature_damping: tau_t,
            pressure: pressure(p)?,
            pressure_damping: positive_quantity(
                deck,
                &key("barostat.damping"),
                damping,
                Dimension::Time,
            )?,
            coupling: match couple {
                CoupleKind::Iso => Coupling::Iso,
                CoupleKind::Aniso => Coupling::Aniso,
            },
            chain,
        };
        return Ok(Box::new(Mtk::new(settings)));
    }
    let thermostatted = build_thermostat(deck, spec)?;
    let Some(BarostatSection::CRescale {
        pressure: p,
        damping,
        compressibility,
        seed,
    }) = spec.barostat
    else {
        return Ok(thermostatted);
    };
    let temperature = match spec.thermostat {
        Some(ThermostatSection::Langevin { temperature, .. })
        | Some(ThermostatSection::NoseHoover { temperature, .. }) => positive_quantity(
            deck,
            &key("thermostat.temperature"),
            temperature,
            Dimension::Temperature,
        )?,
        None => return Err(deck.error(
            &key("barostat.type"),
            "the C-rescale barostat needs a thermostat (its temperature sets the volume's noise)",
        )),
    };
    let settings = CRescaleSettings {
        temperature,
        pressure: pressure(p)?,
        damping: positive_quantity(deck, &key("barostat.damping"), damping, Dimension::Time)?,
        compressibility: positive_quantity(
            deck,
            &key("barostat.compressibility"),
            compressibility,
            Dimension::InversePressure,
        )?,
        seed: derived_seed(deck, *seed, 0xc0de, spec.stage),
    };
    Ok(Box::new(CRescale::new(settings, thermostatted)))
}

/// A thermostat's target temperature and relaxation time, both positive.
fn thermostat_target(
    deck: &LoadedDeck,
    prefix: &str,
    temperature: &Quantity,
    damping: &Quantity,
) -> Result<(f64, f64), DeckError> {
    let key = format!("{prefix}thermostat.temperature");
    let t = positive_quantity(deck, &key, temperature, Dimension::Temperature)?;
    let key = format!("{prefix}thermostat.damping");
    let tau = positive_quantity(deck, &key, damping, Dimension::Time)?;
    Ok((t, tau))
}

/// The longest Nosé–Hoover chain a deck may ask for (LAMMPS uses 3; a chain is a few
/// numbers per link, stored per step in the checkpoint).
const MAX_CHAIN: usize = 1000;

/// A Nosé–Hoover chain's length, 1 to [`MAX_CHAIN`].
fn chain_length(deck: &LoadedDeck, prefix: &str, chain: usize) -> Result<usize, DeckError> {
    let key = format!("{prefix}thermostat.chain");
    if chain < 1 {
        return Err(deck.error(&key, "the chain needs at least 1 thermostat"));
    }
    if chain > MAX_CHAIN {
        let msg = format!("a chain of {chain} thermostats: at most {MAX_CHAIN}");
        return Err(deck.error(&key, msg));
    }
    Ok(chain)
}

/// Velocity Verlet, alone or split by a thermostat.
fn build_thermostat(
    deck: &LoadedDeck,
    spec: &DynamicsSpec,
) -> Result<Box<dyn Integrator>, DeckError> {
    let dt = spec.timestep;
    Ok(match spec.thermostat {
        None => match deck
            .deck
            .integrator
            .as_ref()
            .map(|i| i.kind)
            .unwrap_or_default()
        {
            IntegratorKind::VelocityVerlet => Box::new(VelocityVerlet::new(dt)),
        },
        Some(ThermostatSection::Langevin {
            temperature,
            damping,
            seed,
        }) => {
            let (t, tau) = thermostat_target(deck, &spec.prefix, temperature, damping)?;
            let seed = derived_seed(deck, *seed, 0x5eed, spec.stage);
            Box::new(Langevin::new(dt, t, tau, seed))
        }
        Some(ThermostatSection::NoseHoover {
            temperature,
            damping,
            chain,
        }) => {
            let (t, tau) = thermostat_target(deck, &spec.prefix, temperature, damping)?;
            let chain = chain_length(deck, &spec.prefix, *chain)?;
            Box::new(NoseHooverChain::new(dt, t, tau, chain))
        }
    })
}
