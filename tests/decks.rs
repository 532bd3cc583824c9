//! Decks through the `eqmd` binary: every shipped deck in inputs/ and every deck in
//! tests/decks/good runs (shortened with --set); every deck in tests/decks/bad fails with a
//! non-zero exit, no panic, and a message naming the file, the line and the key, as its
//! `# expect...` header lines say.

mod common;

use common::eqmd;
use eqmd::deck::{Deck, LoadedDeck};
use std::path::{Path, PathBuf};

fn decks(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no decks in {}", dir.display());
    v
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The overrides that shorten `deck` to `steps` steps of each dynamics stage and as many
/// iterations of each minimisation.
fn shorten(deck: &Path, steps: u32) -> Vec<String> {
    let d = LoadedDeck::<Deck>::load(deck, &[]).unwrap().deck;
    let mut sets = Vec::new();
    for (k, stage) in d.stages.iter().enumerate() {
        if stage.minimize.is_some() {
            sets.push(format!("stage[{k}].minimize.max_iterations={steps}"));
        } else {
            sets.push(format!("stage[{k}].steps={steps}"));
        }
    }
    if d.minimize.is_some() {
        sets.push(format!("minimize.max_iterations={steps}"));
    }
    if d.stages.is_empty() && d.integrator.is_some() {
        sets.push(format!("integrator.steps={steps}"));
    }
    sets
}

/// Runs `deck` for `steps` steps (with `extra` overrides) into a fresh folder, checks its
/// thermo CSV and returns the folder.
fn run_short(deck: &Path, steps: u32, extra: &[String]) -> tempfile::TempDir {
    let out_dir = tempfile::tempdir().unwrap();
    let shortened = shorten(deck, steps);
    let mut args = vec!["run", deck.to_str().unwrap()];
    for s in &shortened {
        args.extend(["--set", s.as_str()]);
    }
    args.extend([
        "--set",
        "thermo.every=5",
        "--output-dir",
        out_dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    for e in extra {
        args.extend(["--set", e.as_str()]);
    }
    let out = eqmd(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{} failed:\n{stderr}", deck.display());
    let stem = deck.file_stem().unwrap().to_string_lossy();
    let thermo = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".csv"))
        .unwrap_or_else(|| panic!("{stem}: no thermo CSV written"));
    let rows = eqmd::io::thermo::read_csv(&thermo).unwrap();
    assert!(rows.len() >= 2, "{stem}: thermo rows");
    assert!(rows
        .iter()
        .all(|r| r.etotal.is_finite() && r.temp.is_finite()));
    out_dir
}

/// The deck's `system.structure` when that file does not exist: the output of another deck.
fn missing_structure(deck: &Path) -> Option<String> {
    let loaded = LoadedDeck::<Deck>::load(deck, &[]).unwrap();
    let structure = loaded.deck.system.structure.as_ref()?;
    (!loaded.resolve(structure).exists()).then(|| structure.clone())
}

/// Every shipped deck runs. A deck that starts from a trajectory another shipped deck
/// writes runs after the others, from that deck's output.
#[test]
fn shipped_decks_run() {
    let mut outputs = Vec::new();
    let mut chained = Vec::new();
    for deck in decks(&root().join("inputs")) {
        match missing_structure(&deck) {
            Some(structure) => chained.push((deck, structure)),
            None => outputs.push(run_short(&deck, 10, &[])),
        }
    }
    for (deck, structure) in chained {
        let from = outputs
            .iter()
            .map(|dir| dir.path().join(&structure))
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!(
                    "{}: no shipped deck writes its structure {structure}",
                    deck.display()
                )
            });
        outputs.push(run_short(
            &deck,
            10,
            &[format!("system.structure={}", from.display())],
        ));
    }
    // every H5MD file the shipped decks write opens in h5py and MDAnalysis
    let h5md: Vec<PathBuf> = outputs
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir.path()).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "h5"))
        .collect();
    assert!(!h5md.is_empty(), "no shipped deck writes H5MD");
    if common::python_with(&["h5py", "MDAnalysis"]) {
        for file in h5md {
            let out = std::process::Command::new("python3")
                .args(["-c", OPENS_IN_PYTHON])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Opens an H5MD file in h5py and in MDAnalysis's reader and checks they agree.
const OPENS_IN_PYTHON: &str = r#"
import sys
import h5py
import numpy as np
from MDAnalysis.coordinates.H5MD import H5MDReader
path = sys.argv[1]
with h5py.File(path, "r") as f:
    positions = f["particles/all/position/value"][()]
r = H5MDReader(path)
assert r.n_frames == len(positions) >= 1, (r.n_frames, len(positions))
for ts, p in zip(r, positions):
    assert np.all(np.isfinite(ts.positions))
    assert np.allclose(ts.positions, p, rtol=1e-6, atol=1e-5)
"#;

#[test]
fn good_decks_run() {
    for deck in decks(&root().join("tests/decks/good")) {
        run_short(&deck, 10, &[]);
    }
}

#[test]
fn bad_decks_fail_with_located_messages() {
    for deck in decks(&root().join("tests/decks/bad")) {
        let text = std::fs::read_to_string(&deck).unwrap();
        let header = |tag: &str| -> Vec<String> {
            text.lines()
                .filter_map(|l| l.strip_prefix(&format!("# {tag}: ")))
                .map(str::to_string)
                .collect()
        };
        let out = eqmd(&["run", deck.to_str().unwrap(), "--quiet"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = deck.file_name().unwrap().to_string_lossy();
        assert!(!out.status.success(), "{name}: should fail");
        assert_eq!(out.status.code(), Some(1), "{name}: exit code");
        assert!(!stderr.contains("panicked"), "{name}: panicked:\n{stderr}");
        let expected = header("expect");
        assert!(!expected.is_empty(), "{name}: no `# expect:` line");
        for e in expected {
            assert!(stderr.contains(&e), "{name}: missing `{e}` in:\n{stderr}");
        }
        for line in header("expect-line") {
            let place = format!("{name}:{line}:");
            assert!(
                stderr.contains(&place),
                "{name}: missing `{place}` in:\n{stderr}"
            );
        }
        for key in header("expect-key") {
            let k = format!("key `{key}`");
            assert!(stderr.contains(&k), "{name}: missing `{k}` in:\n{stderr}");
        }
    }
}

#[test]
fn set_overrides_deck_values_and_bad_overrides_are_errors() {
    let deck = root().join("tests/decks/good/lj_small.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = eqmd(&[
        "run",
        deck.to_str().unwrap(),
        "--set",
        "integrator.steps=7",
        "--set",
        "thermo.every=7",
        "--set",
        "thermo.file=custom.csv",
        "--output-dir",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = eqmd::io::thermo::read_csv(&dir.path().join("custom.csv")).unwrap();
    assert_eq!(rows.last().unwrap().step, 7);

    let out = eqmd(&[
        "run",
        deck.to_str().unwrap(),
        "--set",
        "integrator.timestep=-1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("(--set)") && stderr.contains("integrator.timestep"),
        "{stderr}"
    );

    let out = eqmd(&["run", deck.to_str().unwrap(), "--set", "nonsense"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("key=value"));

    for (set, message) in [
        ("integrator.steps=18446744073709551615", "out of range"),
        ("potential.pairs[3].epsilon=2", "there is no `pairs[3]`"),
    ] {
        let out = eqmd(&["run", deck.to_str().unwrap(), "--set", set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{set}: {stderr}");
        assert!(
            stderr.contains(message) && !stderr.contains("panicked"),
            "{set}: {stderr}"
        );
    }
}

#[test]
fn help_explains_every_command() {
    let out = eqmd(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("run"));
    let out = eqmd(&["run", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--set") && text.contains("--output-dir"),
        "{text}"
    );
}

#[test]
fn a_missing_deck_is_a_clear_error() {
    let out = eqmd(&["run", "no/such/deck.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/deck.toml"));
}

/// `system.min_distance` sets how close two starting atoms may be: the pair 0.01 Å apart
/// that the default refuses passes a limit of 0.005 Å, and a negative limit is an error.
#[test]
fn min_distance_is_a_deck_key() {
    let deck = root().join("tests/decks/bad/overlap_lj.toml");
    let dir = tempfile::tempdir().unwrap();
    let run = |limit: &str| {
        let set = format!("system.min_distance={limit}");
        let d = dir.path().to_str().unwrap();
        let args = ["run", deck.to_str().unwrap(), "-q", "--output-dir", d];
        let out = eqmd(&[&args[..], &["--set", &set, "--set", "integrator.steps=0"]].concat());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run("\"0.005 A\"");
    assert!(!err.contains("closer than"), "{err}");
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run("0.02");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("closer than system.min_distance = 0.02 Å"),
        "{err}"
    );
    let (code, err) = run("-1");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("key `system.min_distance`"), "{err}");
}

/// Thermo energies follow LAMMPS's `thermo_modify norm` defaults: per atom in lj units,
/// totals in metal units; `thermo.norm` chooses either, and nothing else changes.
#[test]
fn thermo_energies_are_per_atom_in_lj_units_as_in_lammps() {
    let rows = |deck: &str, extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let deck = root().join(deck);
        let mut args = vec![
            "run",
            deck.to_str().unwrap(),
            "-q",
            "--set",
            "integrator.steps=20",
            "--set",
            "thermo.every=10",
            "--output-dir",
            dir.path().to_str().unwrap(),
        ];
        args.extend(extra);
        let out = eqmd(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stem = Path::new(&deck)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        eqmd::io::thermo::read_csv(&dir.path().join(format!("{stem}.thermo.csv"))).unwrap()
    };
    // lj_small: 256 atoms in lj units
    let lj = "tests/decks/good/lj_small.toml";
    let (per_atom, total) = (rows(lj, &[]), rows(lj, &["--set", "thermo.norm=false"]));
    // argon_nve: 864 atoms in metal units
    let ar = "inputs/argon_nve.toml";
    let (ar_total, ar_per_atom) = (rows(ar, &[]), rows(ar, &["--set", "thermo.norm=true"]));
    for ((a, t), n) in per_atom
        .iter()
        .zip(&total)
        .map(|p| (p, 256.0))
        .chain(ar_per_atom.iter().zip(&ar_total).map(|p| (p, 864.0)))
    {
        for (x, y) in [(a.pe, t.pe), (a.ke, t.ke), (a.etotal, t.etotal)] {
            assert!((x * n - y).abs() <= 1e-12 * y.abs(), "{x} × {n} ≠ {y}");
        }
        assert_eq!((a.step, a.temp, a.press), (t.step, t.temp, t.press));
    }
    // LAMMPS's lj melt starts at pe −6.7733681 per atom (its log, norm yes)
    let melt = rows("inputs/lj_melt.toml", &[]);
    assert!((melt[0].pe + 6.7733681).abs() < 1e-7, "{}", melt[0].pe);
}
