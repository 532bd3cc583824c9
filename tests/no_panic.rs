//! Bad input never panics: random and mangled text fed to every reader gives an error (or,
//! by chance, a valid result), never a panic.

use eqmd::deck::{Deck, LoadedDeck};
use eqmd::io::extxyz;
use eqmd::potential::eam::file::{parse_funcfl, parse_setfl};
use eqmd::train::config::TrainDeck;
use eqmd::train::state::TrainState;
use proptest::prelude::*;
use std::path::Path;

const DECK: &str = include_str!("../inputs/argon_nvt.toml");
const XYZ: &str = include_str!("../inputs/structures/ethanol.xyz");
const EAM: &str = include_str!("../potentials/Cu_u3.eam");
const TRAIN: &str = include_str!("../inputs/training/ethanol.toml");

/// `text` with the byte range `at..at+len` replaced by `with`, kept valid UTF-8.
fn mangle(text: &str, at: usize, len: usize, with: &str) -> String {
    let mut a = at.min(text.len());
    while !text.is_char_boundary(a) {
        a -= 1;
    }
    let mut b = (a + len).min(text.len());
    while !text.is_char_boundary(b) {
        b += 1;
    }
    format!("{}{}{}", &text[..a], with, &text[b..])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decks_never_panic(at in 0usize..2000, len in 0usize..40, with in "[ -~\n]{0,30}") {
        let text = mangle(DECK, at, len, &with);
        let _ = LoadedDeck::<Deck>::from_str(&text, Path::new("mangled.toml"), &[]);
    }

    #[test]
    fn training_decks_never_panic(at in 0usize..1200, len in 0usize..40, with in "[ -~\n]{0,30}") {
        let text = mangle(TRAIN, at, len, &with);
        let _ = LoadedDeck::<TrainDeck>::from_str(&text, Path::new("mangled.toml"), &[]);
    }

    #[test]
    fn training_checkpoints_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.ckpt");
        let mut framed = b"EQMDTRN1\x01\x00\x00\x00\x00\x00\x00\x00".to_vec();
        framed.extend_from_slice(&bytes);
        for content in [&bytes, &framed] {
            std::fs::write(&path, content).unwrap();
            prop_assert!(TrainState::load(&path).is_err());
        }
    }

    #[test]
    fn overrides_never_panic(set in "[ -~]{0,40}") {
        let _ = LoadedDeck::<Deck>::from_str(DECK, Path::new("deck.toml"), &[set]);
    }

    #[test]
    fn extxyz_never_panics(at in 0usize..1200, len in 0usize..60, with in "[ -~\n]{0,40}") {
        let text = mangle(XYZ, at, len, &with);
        let _ = extxyz::read_str(&text, "mangled.xyz");
    }

    #[test]
    fn eam_files_never_panic(at in 0usize..40000, len in 0usize..200, with in "[ -~\n]{0,40}") {
        let text = mangle(EAM, at, len, &with);
        let _ = parse_funcfl(&text, "mangled.eam");
        let _ = parse_setfl(&text, "mangled.eam.alloy");
    }

    #[test]
    fn checkpoints_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), keep in 0usize..64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.checkpoint");
        // random bytes, and random bytes behind a valid magic and version
        std::fs::write(&path, &bytes).unwrap();
        let _ = eqmd::io::checkpoint::read(&path);
        let mut framed = b"EQMDCKPT\x01\x00\x00\x00".to_vec();
        framed.extend_from_slice(&bytes[..keep.min(bytes.len())]);
        std::fs::write(&path, &framed).unwrap();
        let _ = eqmd::io::checkpoint::read(&path);
    }

    #[test]
    fn random_text_never_panics(text in "[ -~\n]{0,400}") {
        let _ = LoadedDeck::<Deck>::from_str(&text, Path::new("random.toml"), &[]);
        let _ = extxyz::read_str(&text, "random.xyz");
        let _ = parse_funcfl(&text, "random.eam");
        let _ = parse_setfl(&text, "random.eam.alloy");
    }
}
