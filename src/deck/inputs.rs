//! The files a run deck reads (the deck itself, its structure, the potential's files), with
//! the keys that name them, so that no output can be pointed at one of them.

use super::{Deck, LoadedDeck, PotentialSection};
use crate::io::guard::NamedPath;

/// Every file the deck reads, keyed as the deck names it.
pub fn input_files(deck: &LoadedDeck<Deck>) -> Vec<NamedPath> {
    let mut files = vec![NamedPath::new("the deck", &deck.path)];
    if let Some(s) = &deck.deck.system.structure {
        files.push(NamedPath::new("system.structure", deck.resolve(s)));
    }
    potential_files(deck, &deck.deck.potential, "potential", &mut files);
    files
}

fn potential_files(
    deck: &LoadedDeck<Deck>,
    section: &PotentialSection,
    key: &str,
    files: &mut Vec<NamedPath>,
) {
    let mut add = |k: String, f: &str| files.push(NamedPath::new(k, deck.resolve(f)));
    match section {
        PotentialSection::Eam { file, files: per } => {
            if let Some(f) = file {
                add(format!("{key}.file"), f);
            }
            for (species, f) in per {
                add(format!("{key}.files.{species}"), f);
            }
        }
        PotentialSection::EamAlloy { file, .. } => add(format!("{key}.file"), file),
        PotentialSection::Equivariant { model } => add(format!("{key}.model"), model),
        PotentialSection::Sum { terms } => {
            for (t, term) in terms.iter().enumerate() {
                potential_files(deck, term, &format!("{key}.terms[{t}]"), files);
            }
        }
        PotentialSection::LennardJones { .. } | PotentialSection::Morse { .. } => {}
    }
}
