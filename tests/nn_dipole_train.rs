//! Training a dipole head with `eqmd train` on GFN2-xTB dipoles (`inputs/data/gfn2-ethanol.xyz`):
//! the validation dipole error falls, the metrics CSV and `eqmd eval` report it, and decks
//! that ask for a head without dipoles, or for the loss without a head, are refused.

mod common;

use common::eqmd;
use std::path::{Path, PathBuf};

fn deck(dir: &Path, data: &str, extra: &str) -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        r#"version = 1
[data]
file = "{root}/inputs/data/{data}"
train = 40
validation = 10
seed = 3

[model]
lmax = 1
channels = 8
layers = 2
cutoff = 4.0
radial_basis = 6
radial_hidden = [16]
parity = true
seed = 2
{extra}

[optimizer]
kind = "amsgrad"
learning_rate = 0.01
batch = 4
epochs = 25
ema = 0.9
seed = 5

[output]
model = "model.h5"
"#
    );
    let path = dir.join("train.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_dipole_head_learns_and_eval_reports_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(
        dir.path(),
        "gfn2-ethanol.xyz",
        "dipole = \"charges+dipoles\"\n[loss]\nenergy = 1.0\nforces = 1.0\ndipole = 100.0",
    );
    let out = eqmd(&["train", d.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.path().join("model.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (mae, norm) = (
        col("val_dipole_mae_e_angstrom"),
        col("val_dipole_norm_error_e_angstrom"),
    );
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let at = |r: &Vec<&str>, k: usize| r[k].parse::<f64>().unwrap();
    let (first, last) = (at(&rows[0], mae), at(rows.last().unwrap(), mae));
    println!("validation dipole MAE {first:.4} -> {last:.4} e·Å");
    assert!(last < 0.5 * first, "dipole MAE {first} -> {last}");
    assert!(at(rows.last().unwrap(), norm) >= last);
    let model = dir.path().join("model.h5");
    let out = eqmd(&[
        "eval",
        model.to_str().unwrap(),
        "--deck",
        d.to_str().unwrap(),
        "--json",
    ]);
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for key in [
        "dipole_mae_e_angstrom",
        "dipole_norm_error_e_angstrom",
        "dipole_mae_debye",
    ] {
        assert!(json.contains(key), "{key}: {json}");
    }
    let out = eqmd(&[
        "eval",
        model.to_str().unwrap(),
        "--deck",
        d.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dipole MAE") && text.contains(" D)"),
        "{text}"
    );
}

#[test]
fn a_head_needs_dipoles_and_the_loss_needs_a_head() {
    let dir = tempfile::tempdir().unwrap();
    for (data, extra, key, says) in [
        (
            "rmd17-ethanol.xyz",
            "dipole = \"charges+dipoles\"\n[loss]\ndipole = 1.0",
            "model.dipole",
            "frame 1 has no `dipole`",
        ),
        (
            "gfn2-ethanol.xyz",
            "[loss]\ndipole = 1.0",
            "loss.dipole",
            "set model.dipole = \"charges+dipoles\"",
        ),
        (
            "gfn2-ethanol.xyz",
            "dipole = \"charges+dipoles\"",
            "model.dipole",
            "needs loss.dipole > 0",
        ),
        (
            "gfn2-ethanol.xyz",
            "dipole = \"quadrupole\"\n[loss]\ndipole = 1.0",
            "model.dipole",
            "not a dipole head (one of charges+dipoles, charges, invariant)",
        ),
    ] {
        let d = deck(dir.path(), data, extra);
        let out = eqmd(&["train", d.to_str().unwrap(), "-q"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("train.toml") && err.contains(key) && err.contains(says),
            "{extra}: {err}"
        );
    }
}
