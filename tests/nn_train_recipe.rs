//! The training recipe's options beyond the schedule: MACE's stage two (other loss weights
//! and a held rate for the end of the budget, the best model chosen anew) and weight decay on
//! the maps MACE decays. Each changes what it says and nothing else, resumes exactly, and
//! bad values are refused with the key.

mod common;

use common::train::{assert_same_outputs, deck, load_error, run};
use eqmd::potential::equivariant::file;
use eqmd::potential::equivariant::model::Model;
use eqmd::potential::equivariant::shape::BlockKind;
use eqmd::train::config::{LossSection, OptimizerSection, StageTwoSection};
use std::path::Path;

const STAGE_TWO: &str = "[stage_two]\nstart = 0.5\nlearning_rate = 2e-3\nenergy = 1e6\n";

/// (learning rate, validation loss) of every epoch of a metrics CSV.
fn rates_and_losses(path: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l
                .split(',')
                .map(|x| x.parse().unwrap_or(f64::NAN))
                .collect();
            (f[1], f[6])
        })
        .collect()
}

#[test]
fn stage_two_changes_the_loss_and_the_rate_at_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(dir.path(), STAGE_TWO);
    let o = run(&d, &["optimizer.epochs=6"], false);
    let rows = rates_and_losses(&dir.path().join("model.csv"));
    assert_eq!(rows.len(), 6);
    // the deck's plateau schedule keeps 0.01 over six epochs; stage two holds its own rate
    for (k, (lr, _)) in rows.iter().enumerate() {
        let want = if k < 3 { 0.01 } else { 2e-3 };
        assert_eq!(*lr, want, "epoch {}", k + 1);
    }
    // an energy weight of 1e6 makes the energy term dominate the validation loss
    let (before, after) = (rows[2].1, rows[3].1);
    assert!(after > 20.0 * before, "validation loss {before} -> {after}");
    // the best model is chosen among stage two's epochs only
    assert!(o.best_epoch >= 4, "best epoch {}", o.best_epoch);
    // without stage two the same deck runs at 0.01 throughout
    let plain = tempfile::tempdir().unwrap();
    run(&deck(plain.path(), ""), &["optimizer.epochs=6"], false);
    let rows = rates_and_losses(&plain.path().join("model.csv"));
    assert!(rows.iter().all(|(lr, _)| *lr == 0.01));
}

#[test]
fn stage_two_starts_at_its_fraction_of_the_epochs_or_of_the_time_limit() {
    let two = StageTwoSection {
        start: 0.8,
        learning_rate: 1e-3,
        energy: Some(1000.0),
        forces: None,
        stress: None,
        dipole: Some(0.5),
    };
    let mut opt = OptimizerSection {
        epochs: 100,
        max_minutes: 10.0,
        ..OptimizerSection::default()
    };
    assert!(!two.due(79, 0.0, &opt));
    assert!(two.due(80, 0.0, &opt));
    // 80 % of ten minutes comes first
    assert!(!two.due(10, 479.0, &opt));
    assert!(two.due(10, 480.0, &opt));
    opt.max_minutes = 0.0;
    assert!(!two.due(10, 1e9, &opt), "no time limit: the epochs alone");
    let base = LossSection {
        energy: 1.0,
        forces: 2.0,
        stress: 3.0,
        dipole: 4.0,
    };
    let l = two.loss(&base);
    assert_eq!(
        (l.energy, l.forces, l.stress, l.dipole),
        (1000.0, 2.0, 3.0, 0.5)
    );
}

#[test]
fn a_run_resumed_across_the_start_of_stage_two_ends_where_a_whole_one_does() {
    let whole = tempfile::tempdir().unwrap();
    run(
        &deck(whole.path(), STAGE_TWO),
        &["optimizer.epochs=6"],
        false,
    );
    // stopped before stage two (which starts with epoch 4 of 6) and in it; the first part's
    // start is set so that its shorter budget starts stage two at the same epoch
    for (stop, start) in [(2, "0.99"), (4, "0.75")] {
        let split = tempfile::tempdir().unwrap();
        let d = deck(split.path(), STAGE_TWO);
        let first = [
            format!("optimizer.epochs={stop}"),
            format!("stage_two.start={start}"),
        ];
        run(&d, &[&first[0], &first[1]], false);
        let o = run(&d, &["optimizer.epochs=6"], true);
        assert_eq!(o.epochs, 6);
        let what = format!("a stop at epoch {stop}");
        assert_same_outputs(whole.path(), split.path(), &what);
    }
}

/// The squared norm of `model`'s trainable weights inside and outside the decayed blocks.
fn norms(model: &Model) -> (f64, f64) {
    let theta = model.trainable();
    let decayed = model.trainable_ranges(BlockKind::decays);
    let inside: f64 = decayed
        .iter()
        .flat_map(|r| theta[r.clone()].iter())
        .map(|x| x * x)
        .sum();
    let all: f64 = theta.iter().map(|x| x * x).sum();
    (inside, all - inside)
}

#[test]
fn weight_decay_covers_the_maps_mace_decays_and_shrinks_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(dir.path(), "");
    let shape = ["model.correlation=3", "optimizer.learning_rate=0.05"];
    run(&d, &shape, false);
    let plain = file::load(&dir.path().join("model.h5")).unwrap();
    // the ranges are exactly the blocks of the four decayed kinds, in the flat order
    let ranges = plain.trainable_ranges(BlockKind::decays);
    let blocks = plain.shape().blocks();
    let decayed: Vec<_> = blocks
        .iter()
        .filter(|b| b.trainable() && b.kind.decays())
        .collect();
    assert_eq!(ranges.len(), decayed.len());
    for (r, b) in ranges.iter().zip(&decayed) {
        assert_eq!(r.len(), b.size(), "{}", b.name);
    }
    let kinds = |f: fn(&BlockKind) -> bool| decayed.iter().any(|b| f(&b.kind));
    assert!(kinds(|k| matches!(k, BlockKind::Product { .. })));
    assert!(kinds(|k| matches!(k, BlockKind::Mix { .. })));
    assert!(kinds(|k| matches!(k, BlockKind::Down { .. })));
    assert!(kinds(|k| matches!(k, BlockKind::SelfConnection { .. })));
    for b in &blocks {
        let never = matches!(
            b.kind,
            BlockKind::Embedding | BlockKind::Radial { .. } | BlockKind::Up { .. }
        ) || matches!(b.kind, BlockKind::Readout | BlockKind::LayerReadout { .. });
        assert!(!(never && b.kind.decays()), "{} must not decay", b.name);
    }
    // a strong decay pulls the decayed weights toward zero and leaves the rest to the loss
    let decayed_dir = tempfile::tempdir().unwrap();
    let dd = deck(decayed_dir.path(), "");
    run(
        &dd,
        &[shape[0], shape[1], "optimizer.weight_decay=10.0"],
        false,
    );
    let shrunk = file::load(&decayed_dir.path().join("model.h5")).unwrap();
    let (p_in, p_out) = norms(&plain);
    let (s_in, s_out) = norms(&shrunk);
    println!("decayed blocks |θ|² {p_in:.4} -> {s_in:.4}, the rest {p_out:.4} -> {s_out:.4}");
    assert!(s_in < 0.8 * p_in, "decayed blocks {p_in} -> {s_in}");
    assert!(s_out > 0.8 * p_out, "other blocks {p_out} -> {s_out}");
    // zero decay is the plain run, bit for bit
    let zero = tempfile::tempdir().unwrap();
    let dz = deck(zero.path(), "");
    run(
        &dz,
        &[shape[0], shape[1], "optimizer.weight_decay=0.0"],
        false,
    );
    assert_eq!(plain, file::load(&zero.path().join("model.h5")).unwrap());
}

#[test]
fn bad_recipe_values_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("[stage_two]\nstart = 1.0\n", "stage_two.start", "(0, 1)"),
        ("[stage_two]\nstart = 0.0\n", "stage_two.start", "(0, 1)"),
        (
            "[stage_two]\nlearning_rate = 0.0\n",
            "stage_two.learning_rate",
            "positive",
        ),
        (
            "[stage_two]\nenergy = -1.0\n",
            "stage_two.energy",
            "zero or positive",
        ),
        (
            "[stage_two]\nforce = 1.0\n",
            "stage_two.force",
            "unknown field",
        ),
        (
            "[loss]\nenergy = 1.0\nforces = 1.0\n[stage_two]\nenergy = 0.0\nforces = 0.0\n",
            "stage_two",
            "every loss weight",
        ),
    ];
    for (extra, key, message) in cases {
        let err = load_error(&deck(dir.path(), extra), &[]);
        assert!(err.contains("train.toml:"), "the line: {err}");
        assert!(err.contains(key) && err.contains(message), "{err}");
    }
    let d = deck(dir.path(), "");
    for v in ["-1e-7", "nan"] {
        let err = load_error(&d, &[format!("optimizer.weight_decay={v}")]);
        assert!(err.contains("optimizer.weight_decay"), "{v}: {err}");
    }
}
