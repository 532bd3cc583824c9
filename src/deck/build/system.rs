//! The `[system]` section: atoms from a structure file or a lattice, masses per species and
//! the initial velocities; a starting structure with overlapping atoms is refused.

use super::overlap::check_min_distance;
use super::{non_negative_quantity, positive, positive_quantity, species_of};
use crate::cell::Cell;
use crate::deck::quantity::Dimension;
use crate::deck::schema::{LatticeSection, SpeciesList, SystemSection};
use crate::deck::{DeckError, LoadedDeck};
use crate::integrate::maxwell_boltzmann;
use crate::io::structure::{self, default_mass, Atoms};
use crate::lattice;
use crate::system::{System, MAX_ATOMS};

/// Builds the system: atoms from a file or a lattice (no two closer than
/// `system.min_distance`), masses, initial velocities.
pub fn build_system(deck: &LoadedDeck) -> Result<System, DeckError> {
    let s = &deck.deck.system;
    let (mut system, atoms) = match (&s.structure, &s.lattice) {
        (Some(_), Some(_)) => {
            return Err(deck.error("system", "give either `structure` or `lattice`, not both"))
        }
        (None, None) => {
            return Err(deck.error(
                "system",
                "missing `structure` (an extended-XYZ file) or `lattice`",
            ))
        }
        (Some(file), None) => {
            let (system, atoms) = system_from_file(deck, file)?;
            let origin = deck.resolve(file).display().to_string();
            check_min_distance(deck, &system, "system.structure", &origin)?;
            (system, Some(atoms))
        }
        (None, Some(l)) => {
            let system = system_from_lattice(deck, l)?;
            check_min_distance(deck, &system, "system.lattice", "the lattice")?;
            (system, None)
        }
    };
    set_masses(deck, s, &mut system)?;
    // ASE's momenta become velocities with the masses the deck settled on
    if let Some(v) = atoms.and_then(|a| a.velocities_from_momenta(&system)) {
        log::info!("velocities from the structure's momenta (ASE's column)");
        system.velocities = v;
    }
    initial_velocities(deck, s, &mut system)?;
    Ok(system)
}

/// Masses from `[system.masses]` over the defaults; every species must end with one.
fn set_masses(deck: &LoadedDeck, s: &SystemSection, system: &mut System) -> Result<(), DeckError> {
    for (name, mass) in &s.masses {
        let key = format!("system.masses.{name}");
        let mass = positive_quantity(deck, &key, mass, Dimension::Mass)?;
        let k = species_of(deck, system, &key, name)?;
        system.species_masses[k] = mass;
    }
    for (k, name) in system.species_names.iter().enumerate() {
        if system.species_masses[k].is_nan() {
            return Err(deck.error(
                "system.masses",
                format!("no mass known for species `{name}`: give it in [system.masses]"),
            ));
        }
    }
    Ok(())
}

/// Maxwell–Boltzmann velocities at `system.temperature`, or those the structure file
/// holds (zero for a lattice).
fn initial_velocities(
    deck: &LoadedDeck,
    s: &SystemSection,
    system: &mut System,
) -> Result<(), DeckError> {
    if let Some(t) = &s.temperature {
        let t = non_negative_quantity(deck, "system.temperature", t, Dimension::Temperature)?;
        maxwell_boltzmann(system, t, s.seed);
        let got = system.temperature();
        let finite = got.is_finite() && system.kinetic_energy().is_finite();
        if !finite || (system.len() > 1 && (got - t).abs() > 1e-9 * t) {
            return Err(deck.error(
                "system.temperature",
                format!(
                    "is {t}: velocities at that temperature overflow (they reach a kinetic \
                     energy of {:e}, a temperature of {got:e})",
                    system.kinetic_energy()
                ),
            ));
        }
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
    Ok(())
}

/// The last frame of an extended-XYZ or H5MD file, as a system and as read.
fn system_from_file(deck: &LoadedDeck, file: &str) -> Result<(System, Atoms), DeckError> {
    let path = deck.resolve(file);
    if !path.exists() {
        return Err(deck.error(
            "system.structure",
            format!("structure file {} does not exist", path.display()),
        ));
    }
    structure::check_units(&path, deck.deck.units)
        .and_then(|()| structure::read_last_frame(&path))
        .and_then(|atoms| Ok((atoms.to_system(deck.deck.units, &path)?, atoms)))
        .map_err(|e| deck.error("system.structure", e))
}

/// A lattice repeated along each axis, with default masses for its species.
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
    let names = lattice_species(deck, l)?;
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
    // the box must be a cell: a constant from a huge density, or a tiny one, is not
    let lengths = glam::DVec3::new(repeat[0] as f64, repeat[1] as f64, repeat[2] as f64) * a;
    if let Err(e) = Cell::from_matrix(glam::DMat3::from_diagonal(lengths), [true; 3]) {
        let key = match l.a {
            Some(_) => "system.lattice.a",
            None => "system.lattice.density",
        };
        return Err(deck.error(
            key,
            format!("the lattice constant {a:e} gives a box of {lengths} that is no cell: {e}"),
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
    if let Some(d) = &l.displace {
        let d =
            super::non_negative_quantity(deck, "system.lattice.displace", d, Dimension::Length)?;
        displace(&mut system, d, deck.deck.system.seed);
    }
    Ok(system)
}

/// Moves every atom by a uniform random vector in [−d, d]³, then wraps it into the cell.
fn displace(system: &mut System, d: f64, seed: u64) {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0xd15_b1ace);
    for r in &mut system.positions {
        let mut u = || d * (2.0 * rng.random::<f64>() - 1.0);
        *r += glam::DVec3::new(u(), u(), u());
    }
    system.wrap_positions();
}

/// The species of every basis site of the lattice.
fn lattice_species(deck: &LoadedDeck, l: &LatticeSection) -> Result<Vec<String>, DeckError> {
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
    Ok(names)
}
