//! From a checked deck to the objects a run needs: the system, the potential and the
//! integrator. Every value that can be wrong is checked here with the key it came from.

use super::quantity::{Dimension, Quantity};
use super::schema::*;
use super::{DeckError, LoadedDeck};
use crate::integrate::{maxwell_boltzmann, Integrator, Langevin, NoseHooverChain, VelocityVerlet};
use crate::io::structure::{self, default_mass};
use crate::lattice;
use crate::potential::eam::file::{read_funcfl, read_setfl};
use crate::potential::equivariant::file as nn_file;
use crate::potential::equivariant::potential::Equivariant;
use crate::potential::{Eam, LennardJones, LjPair, Morse, MorsePair, Potential, Sum};
use crate::system::System;
use crate::units::Units;

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

/// Most atoms a system may hold (the neighbour list packs indices into 27 bits).
const MAX_ATOMS: usize = 1 << 27;

/// Requires a finite, strictly positive number.
fn positive(deck: &LoadedDeck, key: &str, value: f64) -> Result<f64, DeckError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(deck.error(key, format!("must be a positive number, got {value}")))
    }
}

/// Builds the system: atoms from a file or a lattice, masses, initial velocities.
pub fn build_system(deck: &LoadedDeck) -> Result<System, DeckError> {
    let d = &deck.deck;
    let s = &d.system;
    let mut system = match (&s.structure, &s.lattice) {
        (Some(_), Some(_)) => {
            return Err(deck.error("system", "give either `structure` or `lattice`, not both"))
        }
        (None, None) => {
            return Err(deck.error(
                "system",
                "missing `structure` (an extended-XYZ file) or `lattice`",
            ))
        }
        (Some(file), None) => system_from_file(deck, file)?,
        (None, Some(l)) => system_from_lattice(deck, l)?,
    };
    for (name, mass) in &s.masses {
        let key = format!("system.masses.{name}");
        let mass = positive_quantity(deck, &key, mass, Dimension::Mass)?;
        match system.species_index(name) {
            Some(k) => system.species_masses[k] = mass,
            None => {
                return Err(deck.error(
                    &key,
                    format!(
                        "unknown species `{name}`: the system has {}",
                        system.species_names.join(", ")
                    ),
                ))
            }
        }
    }
    for (k, name) in system.species_names.iter().enumerate() {
        if system.species_masses[k].is_nan() {
            return Err(deck.error(
                "system.masses",
                format!("no mass known for species `{name}`: give it in [system.masses]"),
            ));
        }
    }
    if let Some(t) = &s.temperature {
        let t = quantity(deck, "system.temperature", t, Dimension::Temperature)?;
        if !(t.is_finite() && t >= 0.0) {
            return Err(deck.error(
                "system.temperature",
                format!("must be a non-negative number, got {t}"),
            ));
        }
        maxwell_boltzmann(&mut system, t, s.seed);
        log::info!(
            "initial velocities: Maxwell–Boltzmann at {t} (seed {})",
            s.seed
        );
    } else {
        let moving = system.velocities.iter().any(|v| *v != glam::DVec3::ZERO);
        match &s.structure {
            Some(f) if moving => log::info!(
                "initial velocities: those of the last frame of {}",
                deck.resolve(f).display()
            ),
            _ => log::info!("initial velocities: zero (no `system.temperature`)"),
        }
    }
    Ok(system)
}

fn system_from_file(deck: &LoadedDeck, file: &str) -> Result<System, DeckError> {
    let path = deck.resolve(file);
    if !path.exists() {
        return Err(deck.error(
            "system.structure",
            format!("structure file {} does not exist", path.display()),
        ));
    }
    structure::read_last_frame(&path)
        .and_then(|atoms| atoms.to_system(deck.deck.units, &path))
        .map_err(|e| deck.error("system.structure", e))
}

fn system_from_lattice(deck: &LoadedDeck, l: &LatticeSection) -> Result<System, DeckError> {
    for (k, &n) in l.repeat.iter().enumerate() {
        if n < 1 {
            return Err(deck.error(
                "system.lattice.repeat",
                format!("repeats must be at least 1, got {n} along axis {k}"),
            ));
        }
    }
    let a = match (&l.a, l.density) {
        (Some(a), None) => positive_quantity(deck, "system.lattice.a", a, Dimension::Length)?,
        (None, Some(rho)) => {
            l.kind
                .constant_for_density(positive(deck, "system.lattice.density", rho)?)
        }
        _ => {
            return Err(deck.error(
                "system.lattice",
                "give exactly one of `a` (lattice constant) and `density`",
            ))
        }
    };
    let basis = l.kind.basis().len();
    let names: Vec<String> = match &l.species {
        SpeciesList::One(s) => vec![s.clone(); basis],
        SpeciesList::PerSite(v) if v.len() == basis => v.clone(),
        SpeciesList::PerSite(v) => {
            return Err(deck.error(
                "system.lattice.species",
                format!(
                    "{} species given for a lattice with {basis} basis sites",
                    v.len()
                ),
            ))
        }
    };
    if let Some(bad) = names.iter().find(|n| n.trim().is_empty()) {
        return Err(deck.error(
            "system.lattice.species",
            format!("species name `{bad}` is empty"),
        ));
    }
    let repeat = l.repeat.map(|n| n as usize);
    let atoms = repeat
        .iter()
        .try_fold(l.kind.basis().len() as u128, |acc, &n| {
            acc.checked_mul(n as u128)
        })
        .unwrap_or(u128::MAX);
    if atoms > MAX_ATOMS as u128 {
        return Err(deck.error(
            "system.lattice.repeat",
            format!("these repeats give {atoms} atoms; eqmd handles at most {MAX_ATOMS}"),
        ));
    }
    let (cell, sites) = lattice::build(l.kind, a, repeat);
    let units = deck.deck.units;
    let mut system = System::new(cell, units);
    let kinds: Vec<usize> = names
        .iter()
        .map(|n| system.add_species(n, default_mass(units, n)))
        .collect();
    for (b, r) in sites {
        system.add_atom(kinds[b], r);
    }
    Ok(system)
}

/// Index of a species named in the potential section.
fn species_of(
    deck: &LoadedDeck,
    system: &System,
    key: &str,
    name: &str,
) -> Result<usize, DeckError> {
    system.species_index(name).ok_or_else(|| {
        deck.error(
            key,
            format!(
                "unknown species `{name}`: the system has {}",
                system.species_names.join(", ")
            ),
        )
    })
}

/// Builds the potential the deck names, checked against the system's species.
pub fn build_potential(
    deck: &LoadedDeck,
    system: &System,
) -> Result<Box<dyn Potential>, DeckError> {
    potential_from(deck, system, &deck.deck.potential, "potential")
}

fn potential_from(
    deck: &LoadedDeck,
    system: &System,
    section: &PotentialSection,
    key: &str,
) -> Result<Box<dyn Potential>, DeckError> {
    let n = system.species_names.len();
    match section {
        PotentialSection::LennardJones {
            cutoff,
            shift,
            mixing,
            pairs,
        } => {
            let cutoff =
                positive_quantity(deck, &format!("{key}.cutoff"), cutoff, Dimension::Length)?;
            let mut explicit = Vec::new();
            for (p, pair) in pairs.iter().enumerate() {
                let k = format!("{key}.pairs[{p}]");
                let i = species_of(deck, system, &format!("{k}.species"), &pair.species[0])?;
                let j = species_of(deck, system, &format!("{k}.species"), &pair.species[1])?;
                let rc = match &pair.cutoff {
                    Some(c) => {
                        positive_quantity(deck, &format!("{k}.cutoff"), c, Dimension::Length)?
                    }
                    None => cutoff,
                };
                let sigma =
                    positive_quantity(deck, &format!("{k}.sigma"), &pair.sigma, Dimension::Length)?;
                let epsilon = quantity(
                    deck,
                    &format!("{k}.epsilon"),
                    &pair.epsilon,
                    Dimension::Energy,
                )?;
                if !(epsilon.is_finite() && epsilon >= 0.0) {
                    return Err(deck.error(
                        &format!("{k}.epsilon"),
                        format!("must be a non-negative number, got {epsilon}"),
                    ));
                }
                explicit.push((
                    i,
                    j,
                    LjPair {
                        epsilon,
                        sigma,
                        cutoff: rc,
                    },
                ));
            }
            let lj = LennardJones::new(n, &explicit, *mixing, *shift).map_err(|e| {
                deck.error(
                    &format!("{key}.pairs"),
                    name_species(&e.to_string(), system),
                )
            })?;
            Ok(Box::new(lj))
        }
        PotentialSection::Morse {
            cutoff,
            shift,
            pairs,
        } => {
            let cutoff =
                positive_quantity(deck, &format!("{key}.cutoff"), cutoff, Dimension::Length)?;
            let mut explicit = Vec::new();
            for (p, pair) in pairs.iter().enumerate() {
                let k = format!("{key}.pairs[{p}]");
                let i = species_of(deck, system, &format!("{k}.species"), &pair.species[0])?;
                let j = species_of(deck, system, &format!("{k}.species"), &pair.species[1])?;
                let rc = match &pair.cutoff {
                    Some(c) => {
                        positive_quantity(deck, &format!("{k}.cutoff"), c, Dimension::Length)?
                    }
                    None => cutoff,
                };
                let d0 = positive_quantity(deck, &format!("{k}.d0"), &pair.d0, Dimension::Energy)?;
                let alpha = positive_quantity(
                    deck,
                    &format!("{k}.alpha"),
                    &pair.alpha,
                    Dimension::InverseLength,
                )?;
                let r0 = positive_quantity(deck, &format!("{k}.r0"), &pair.r0, Dimension::Length)?;
                explicit.push((
                    i,
                    j,
                    MorsePair {
                        d0,
                        alpha,
                        r0,
                        cutoff: rc,
                    },
                ));
            }
            let morse = Morse::new(n, &explicit, *shift).map_err(|e| {
                deck.error(
                    &format!("{key}.pairs"),
                    name_species(&e.to_string(), system),
                )
            })?;
            Ok(Box::new(morse))
        }
        PotentialSection::Eam { file, files } => {
            let mut tables = Vec::with_capacity(n);
            for name in &system.species_names {
                let (path, k) = match (files.get(name), file) {
                    (Some(f), _) => (f, format!("{key}.files.{name}")),
                    (None, Some(f)) => (f, format!("{key}.file")),
                    (None, None) => {
                        return Err(deck.error(
                            &format!("{key}.files"),
                            format!(
                                "no EAM file for species `{name}`: give `file` or `files.{name}`"
                            ),
                        ))
                    }
                };
                let table =
                    read_funcfl(&deck.resolve(path)).map_err(|e| deck.error(&k, e.to_string()))?;
                tables.push(table);
            }
            if let Some(unknown) = files.keys().find(|s| system.species_index(s).is_none()) {
                return Err(deck.error(
                    &format!("{key}.files.{unknown}"),
                    format!(
                        "unknown species `{unknown}`: the system has {}",
                        system.species_names.join(", ")
                    ),
                ));
            }
            Ok(Box::new(Eam::from_funcfl(&tables)))
        }
        PotentialSection::EamAlloy { file, elements } => {
            let table = read_setfl(&deck.resolve(file))
                .map_err(|e| deck.error(&format!("{key}.file"), e.to_string()))?;
            let names: Vec<&str> = table.elements.iter().map(|e| e.name.as_str()).collect();
            if let Some(unknown) = elements.keys().find(|s| system.species_index(s).is_none()) {
                return Err(deck.error(
                    &format!("{key}.elements.{unknown}"),
                    format!(
                        "unknown species `{unknown}`: the system has {}",
                        system.species_names.join(", ")
                    ),
                ));
            }
            let mut map = Vec::with_capacity(n);
            for name in &system.species_names {
                let element = elements.get(name).unwrap_or(name);
                let index = names.iter().position(|e| e == element).ok_or_else(|| {
                    deck.error(
                        &format!("{key}.elements"),
                        format!(
                            "species `{name}` is element `{element}`, which {file} does not hold (it has {})",
                            names.join(", ")
                        ),
                    )
                })?;
                map.push(index);
            }
            Ok(Box::new(Eam::from_setfl(&table, &map)))
        }
        PotentialSection::Equivariant { model } => {
            let key = format!("{key}.model");
            let path = deck.resolve(model);
            let model = nn_file::load(&path).map_err(|e| deck.error(&key, e.to_string()))?;
            let net = Equivariant::new(model, &system.species_names)
                .map_err(|e| deck.error(&key, format!("{}: {e}", path.display())))?;
            Ok(Box::new(net))
        }
        PotentialSection::Sum { terms } => {
            if terms.is_empty() {
                return Err(deck.error(&format!("{key}.terms"), "a sum needs at least one term"));
            }
            let built = terms
                .iter()
                .enumerate()
                .map(|(t, s)| potential_from(deck, system, s, &format!("{key}.terms[{t}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Box::new(Sum::new(built)))
        }
    }
}

/// Replaces "pair 0-1" in a potential's message by the species names.
fn name_species(message: &str, system: &System) -> String {
    let mut out = message.to_string();
    for (i, a) in system.species_names.iter().enumerate() {
        for (j, b) in system.species_names.iter().enumerate() {
            out = out.replace(&format!("pair {i}-{j}"), &format!("pair {a}-{b}"));
            out = out.replace(&format!("({i}, {i})"), &format!("({a}, {a})"));
            out = out.replace(&format!("({j}, {j})"), &format!("({b}, {b})"));
        }
    }
    out
}

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

/// Builds the integrator (with its thermostat, if any).
pub fn build_integrator(deck: &LoadedDeck) -> Result<Box<dyn Integrator>, DeckError> {
    let d = &deck.deck;
    if d.integrator.kind != "velocity-verlet" {
        return Err(deck.error(
            "integrator.type",
            format!(
                "unknown integrator `{}` (known: velocity-verlet)",
                d.integrator.kind
            ),
        ));
    }
    let dt = positive_quantity(
        deck,
        "integrator.timestep",
        &d.integrator.timestep,
        Dimension::Time,
    )?;
    Ok(match &d.thermostat {
        None => Box::new(VelocityVerlet::new(dt)),
        Some(ThermostatSection::Langevin {
            temperature,
            damping,
            seed,
        }) => {
            let (t, tau) = thermostat_target(deck, temperature, damping)?;
            Box::new(Langevin::new(
                dt,
                t,
                tau,
                seed.unwrap_or(d.system.seed ^ 0x5eed),
            ))
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
