//! Runs whose motion goes wrong stop at the step it does, as a blow-up of the forces does:
//! a message with the step and the worst atom, the last good frame and a checkpoint kept,
//! exit 1. Positions or velocities that overflow, a kinetic energy that does, and an atom
//! moving farther in one step than `integrator.max_displacement` all stop the run.

mod common;

use common::eqmd;
use eqmd::io::checkpoint;
use std::path::{Path, PathBuf};

fn deck(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/decks/failure")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs a failure deck (with `extra` overrides) into `dir`; returns stderr after checking
/// that the run failed with exit 1 and without a panic.
fn run_failing(name: &str, dir: &Path, extra: &[&str]) -> String {
    let deck = deck(name);
    let mut args = vec!["run", &deck, "-q", "--output-dir", dir.to_str().unwrap()];
    for e in extra {
        args.extend(["--set", e]);
    }
    let out = eqmd(&args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{name}: {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    err
}

/// The last frame of the trajectory `stem.xyz` is finite, at step 0, and the checkpoint
/// `stem.checkpoint` holds the same positions.
fn last_good_kept(dir: &Path, stem: &str) {
    let frames = eqmd::io::extxyz::read_file(&dir.join(format!("{stem}.xyz"))).unwrap();
    let last = frames.last().unwrap();
    assert!(last.positions.iter().all(|r| r.is_finite()));
    let c = checkpoint::read(&dir.join(format!("{stem}.checkpoint"))).unwrap();
    assert_eq!(c.step, 0);
    assert_eq!(c.positions, last.positions);
    assert!(c.velocities.iter().all(|v| v.is_finite()));
}

#[test]
fn positions_that_overflow_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_failing("positions_overflow.toml", dir.path(), &[]);
    assert!(
        err.contains("step 1: the simulation blew up: a position is not finite")
            && err.contains("worst atom ")
            && err.contains("the last good state, step 0, is kept")
            && err.contains("checkpoint of it written to"),
        "{err}"
    );
    last_good_kept(dir.path(), "positions_overflow");
}

#[test]
fn velocities_that_overflow_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_failing("velocities_overflow.toml", dir.path(), &[]);
    assert!(
        err.contains("step 1: the simulation blew up: a velocity is not finite")
            && err.contains("worst atom 1"),
        "{err}"
    );
    last_good_kept(dir.path(), "velocities_overflow");
    let c = checkpoint::read(&dir.path().join("velocities_overflow.checkpoint")).unwrap();
    assert_eq!(c.positions[0].x, -5.0, "the starting positions are kept");
}

#[test]
fn a_kinetic_energy_that_overflows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_failing("kinetic_overflow.toml", dir.path(), &[]);
    assert!(
        err.contains("the initial velocities already fail")
            && err.contains("the kinetic energy is inf")
            && err.contains("worst atom 2"),
        "{err}"
    );
}

#[test]
fn an_atom_outrunning_the_neighbour_list_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_failing("too_far.toml", dir.path(), &[]);
    assert!(
        err.contains("step 1: the simulation blew up: an atom moved")
            && err.contains("more than integrator.max_displacement = 0.3")
            && err.contains("worst atom "),
        "{err}"
    );
    last_good_kept(dir.path(), "too_far");
}

#[test]
fn max_displacement_is_a_deck_key() {
    // a sane timestep passes the default limit (the skin) but not a limit of 0.001 σ
    let dir = tempfile::tempdir().unwrap();
    let sane = [
        "integrator.timestep=0.005",
        "integrator.max_displacement=0.001",
    ];
    let err = run_failing("too_far.toml", dir.path(), &sane);
    assert!(
        err.contains("step 1: the simulation blew up: an atom moved")
            && err.contains("more than integrator.max_displacement = 0.001"),
        "{err}"
    );
    let deck = deck("too_far.toml");
    let d = dir.path().to_str().unwrap();
    let out = eqmd(&[
        "run",
        &deck,
        "-q",
        "--output-dir",
        d,
        "--set",
        "integrator.timestep=0.005",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = eqmd(&[
        "run",
        &deck,
        "-q",
        "--output-dir",
        d,
        "--set",
        "integrator.max_displacement=-1",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("key `integrator.max_displacement`") && err.contains("positive"),
        "{err}"
    );
}

#[test]
fn a_neighbour_list_too_large_for_the_machine_is_refused_before_it_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let deck = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("inputs/lj_melt.toml");
    let deck = deck.to_str().unwrap();
    for (skin, message) in [
        ("1e9", "periodic images of the cell, too many to index"),
        ("200", "GiB are available"),
    ] {
        let set = format!("neighbors.skin={skin}");
        let args = [
            "run",
            deck,
            "-q",
            "--output-dir",
            dir.path().to_str().unwrap(),
            "--set",
            &set,
        ];
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{skin}: {err}");
        assert!(
            err.contains("lj_melt.toml")
                && err.contains("neighbors.skin")
                && err.contains(message)
                && !err.contains("panicked"),
            "{skin}: {err}"
        );
        // refused before step 0: no thermo file
        assert!(!dir.path().join("lj_melt.thermo.csv").exists());
    }
}
