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

/// The norm of a frame's error: `dipole_norm_error_e_angstrom`, energy MAE and force RMSE
/// from `eqmd eval --json`.
fn norms(json: &str) -> [f64; 3] {
    let get = |key: &str| -> f64 {
        let at = json
            .find(&format!("\"{key}\": "))
            .unwrap_or_else(|| panic!("{key}: {json}"));
        let rest = &json[at + key.len() + 4..];
        rest[..rest.find([',', '}']).unwrap()]
            .trim()
            .parse()
            .unwrap()
    };
    [
        get("dipole_norm_error_e_angstrom"),
        get("energy_mae_mev"),
        get("force_rmse_mev_per_angstrom"),
    ]
}

/// `eqmd eval --rotate SEED` turns every molecule by a random rotation: an equivariant
/// head's errors (in norm) and the energy and force errors do not change; the invariant
/// head's dipole error does.
#[test]
fn rotated_frames_leave_an_equivariant_model_s_errors_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = format!(
        "{}/inputs/data/gfn2-ethanol.xyz",
        env!("CARGO_MANIFEST_DIR")
    );
    let small = dir.path().join("small.xyz");
    let frames = eqmd::io::extxyz::read_file(std::path::Path::new(&data)).unwrap();
    eqmd::io::extxyz::write_file(&small, &frames[..20]).unwrap();
    for (head, moves) in [
        ("charges+dipoles", false),
        ("charges", false),
        ("invariant", true),
    ] {
        let model = dir.path().join(format!("{head}.h5"));
        common::init_dipole_model(&model, head);
        let eval = |extra: &[&str]| {
            let mut args = vec![
                "eval",
                model.to_str().unwrap(),
                small.to_str().unwrap(),
                "--json",
            ];
            args.extend(extra);
            let out = eqmd(&args);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            norms(&String::from_utf8_lossy(&out.stdout))
        };
        let (given, turned) = (eval(&[]), eval(&["--rotate", "7"]));
        let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        assert!(
            same(given[1], turned[1]) && same(given[2], turned[2]),
            "{head}: {given:?} vs {turned:?}"
        );
        assert_eq!(
            !same(given[0], turned[0]),
            moves,
            "{head}: dipole {given:?} vs {turned:?}"
        );
    }
}
