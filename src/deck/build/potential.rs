//! The `[potential]` section: one builder per potential kind, each checking its values
//! and species names against the system; a sum builds its terms the same way.

use super::{non_negative_quantity, positive_quantity, species_of, unknown_species};
use crate::deck::quantity::{Dimension, Quantity};
use crate::deck::schema::{LjPairSection, MorsePairSection, PotentialSection};
use crate::deck::{DeckError, LoadedDeck};
use crate::potential::eam::file::{read_funcfl, read_setfl};
use crate::potential::equivariant::file as nn_file;
use crate::potential::equivariant::potential::Equivariant;
use crate::potential::{Eam, LennardJones, LjPair, Mixing, Morse, MorsePair, Potential, Sum};
use crate::system::System;
use std::collections::BTreeMap;

/// Builds the potential the deck names, checked against the system's species.
pub fn build_potential(
    deck: &LoadedDeck,
    system: &System,
) -> Result<Box<dyn Potential>, DeckError> {
    Builder { deck, system }.potential(&deck.deck.potential, "potential")
}

/// Builds potentials of the deck's sections: reads the deck (for values and error
/// locations) and the system (for species).
#[derive(Clone, Copy)]
struct Builder<'a> {
    deck: &'a LoadedDeck,
    system: &'a System,
}

impl Builder<'_> {
    /// The potential of `section`, found at `key` (`potential`, `potential.terms[1]`...).
    fn potential(
        self,
        section: &PotentialSection,
        key: &str,
    ) -> Result<Box<dyn Potential>, DeckError> {
        Ok(match section {
            PotentialSection::LennardJones {
                cutoff,
                shift,
                mixing,
                pairs,
            } => Box::new(self.lennard_jones(key, cutoff, *shift, *mixing, pairs)?),
            PotentialSection::Morse {
                cutoff,
                shift,
                pairs,
            } => Box::new(self.morse(key, cutoff, *shift, pairs)?),
            PotentialSection::Eam { file, files } => Box::new(self.eam(key, file, files)?),
            PotentialSection::EamAlloy { file, elements } => {
                Box::new(self.eam_alloy(key, file, elements)?)
            }
            PotentialSection::Equivariant { model } => Box::new(self.equivariant(key, model)?),
            PotentialSection::Sum { terms } => Box::new(self.sum(key, terms)?),
        })
    }

    /// Species indices and cutoff of the pair at `key` (`potential.pairs[0]`), the
    /// cutoff defaulting to the potential's.
    fn pair(
        self,
        key: &str,
        species: &[String; 2],
        cutoff: &Option<Quantity>,
        default_cutoff: f64,
    ) -> Result<(usize, usize, f64), DeckError> {
        let skey = format!("{key}.species");
        let i = species_of(self.deck, self.system, &skey, &species[0])?;
        let j = species_of(self.deck, self.system, &skey, &species[1])?;
        let rc = match cutoff {
            Some(c) => {
                positive_quantity(self.deck, &format!("{key}.cutoff"), c, Dimension::Length)?
            }
            None => default_cutoff,
        };
        Ok((i, j, rc))
    }

    /// A positive quantity at `key`.`field`.
    fn positive(
        self,
        key: &str,
        field: &str,
        value: &Quantity,
        dimension: Dimension,
    ) -> Result<f64, DeckError> {
        positive_quantity(self.deck, &format!("{key}.{field}"), value, dimension)
    }

    /// Names the species of a pair potential's error about pair (i, j).
    fn pair_error(
        self,
        key: &str,
        (i, j): (usize, usize),
        message: impl Fn(&str, &str) -> String,
    ) -> DeckError {
        let names = &self.system.species_names;
        self.deck
            .error(&format!("{key}.pairs"), message(&names[i], &names[j]))
    }

    /// 12-6 Lennard-Jones over the listed pairs, the others mixed.
    fn lennard_jones(
        self,
        key: &str,
        cutoff: &Quantity,
        shift: bool,
        mixing: Mixing,
        pairs: &[LjPairSection],
    ) -> Result<LennardJones, DeckError> {
        let cutoff = self.positive(key, "cutoff", cutoff, Dimension::Length)?;
        let mut explicit = Vec::with_capacity(pairs.len());
        for (p, pair) in pairs.iter().enumerate() {
            let k = format!("{key}.pairs[{p}]");
            let (i, j, rc) = self.pair(&k, &pair.species, &pair.cutoff, cutoff)?;
            let sigma = self.positive(&k, "sigma", &pair.sigma, Dimension::Length)?;
            let epsilon = non_negative_quantity(
                self.deck,
                &format!("{k}.epsilon"),
                &pair.epsilon,
                Dimension::Energy,
            )?;
            let lj = LjPair {
                epsilon,
                sigma,
                cutoff: rc,
            };
            explicit.push((i, j, lj));
        }
        let n = self.system.species_names.len();
        LennardJones::new(n, &explicit, mixing, shift)
            .map_err(|e| self.pair_error(key, e.pair(), |a, b| e.message(a, b)))
    }

    /// Morse over the listed pairs, which must be all of them.
    fn morse(
        self,
        key: &str,
        cutoff: &Quantity,
        shift: bool,
        pairs: &[MorsePairSection],
    ) -> Result<Morse, DeckError> {
        let cutoff = self.positive(key, "cutoff", cutoff, Dimension::Length)?;
        let mut explicit = Vec::with_capacity(pairs.len());
        for (p, pair) in pairs.iter().enumerate() {
            let k = format!("{key}.pairs[{p}]");
            let (i, j, rc) = self.pair(&k, &pair.species, &pair.cutoff, cutoff)?;
            let morse = MorsePair {
                d0: self.positive(&k, "d0", &pair.d0, Dimension::Energy)?,
                alpha: self.positive(&k, "alpha", &pair.alpha, Dimension::InverseLength)?,
                r0: self.positive(&k, "r0", &pair.r0, Dimension::Length)?,
                cutoff: rc,
            };
            explicit.push((i, j, morse));
        }
        let n = self.system.species_names.len();
        Morse::new(n, &explicit, shift)
            .map_err(|e| self.pair_error(key, e.pair(), |a, b| e.message(a, b)))
    }

    /// EAM from `funcfl` files: one for every species, or one per species name.
    fn eam(
        self,
        key: &str,
        file: &Option<String>,
        files: &BTreeMap<String, String>,
    ) -> Result<Eam, DeckError> {
        let deck = self.deck;
        let mut tables = Vec::with_capacity(self.system.species_names.len());
        for name in &self.system.species_names {
            let (path, k) = match (files.get(name), file) {
                (Some(f), _) => (f, format!("{key}.files.{name}")),
                (None, Some(f)) => (f, format!("{key}.file")),
                (None, None) => {
                    return Err(deck.error(
                        &format!("{key}.files"),
                        format!("no EAM file for species `{name}`: give `file` or `files.{name}`"),
                    ))
                }
            };
            let table =
                read_funcfl(&deck.resolve(path)).map_err(|e| deck.error(&k, e.to_string()))?;
            tables.push(table);
        }
        if let Some(unknown) = files
            .keys()
            .find(|s| self.system.species_index(s).is_none())
        {
            let k = format!("{key}.files.{unknown}");
            return Err(unknown_species(deck, self.system, &k, unknown));
        }
        Ok(Eam::from_funcfl(&tables))
    }

    /// EAM from a `setfl` file, species mapped to its elements by name.
    fn eam_alloy(
        self,
        key: &str,
        file: &str,
        elements: &BTreeMap<String, String>,
    ) -> Result<Eam, DeckError> {
        let deck = self.deck;
        let table = read_setfl(&deck.resolve(file))
            .map_err(|e| deck.error(&format!("{key}.file"), e.to_string()))?;
        let names: Vec<&str> = table.elements.iter().map(|e| e.name.as_str()).collect();
        if let Some(unknown) = elements
            .keys()
            .find(|s| self.system.species_index(s).is_none())
        {
            let k = format!("{key}.elements.{unknown}");
            return Err(unknown_species(deck, self.system, &k, unknown));
        }
        let mut map = Vec::with_capacity(self.system.species_names.len());
        for name in &self.system.species_names {
            let element = elements.get(name).unwrap_or(name);
            let index = names.iter().position(|e| e == element).ok_or_else(|| {
                deck.error(
                    &format!("{key}.elements"),
                    format!(
                        "species `{name}` is element `{element}`, which {file} does not hold \
                         (it has {})",
                        names.join(", ")
                    ),
                )
            })?;
            map.push(index);
        }
        Ok(Eam::from_setfl(&table, &map))
    }

    /// The equivariant network of a model file, for the system's species.
    fn equivariant(self, key: &str, model: &str) -> Result<Equivariant, DeckError> {
        let key = format!("{key}.model");
        let path = self.deck.resolve(model);
        let model = nn_file::load(&path).map_err(|e| self.deck.error(&key, e.to_string()))?;
        Equivariant::new(model, &self.system.species_names)
            .map_err(|e| self.deck.error(&key, format!("{}: {e}", path.display())))
    }

    /// The sum of the `terms`, each built as a potential of its own.
    fn sum(self, key: &str, terms: &[PotentialSection]) -> Result<Sum, DeckError> {
        if terms.is_empty() {
            return Err(self
                .deck
                .error(&format!("{key}.terms"), "a sum needs at least one term"));
        }
        let built = terms
            .iter()
            .enumerate()
            .map(|(t, s)| self.potential(s, &format!("{key}.terms[{t}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Sum::new(built))
    }
}
