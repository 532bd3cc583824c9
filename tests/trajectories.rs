//! Trajectories written by runs: H5MD and extended XYZ side by side, continued by a
//! restart without repeated frames, readable after SIGKILL, and usable as the starting
//! structure of the next run.

mod common;

use common::eqmd;
use eqmd::io::{extxyz, h5md};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const DECK: &str = "tests/decks/good/lj_h5md.toml";

fn deck() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(DECK)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn h5md_and_extxyz_hold_the_same_frames_and_a_restart_continues_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let deck = deck();
    let out = eqmd(&[
        "run",
        &deck,
        "-q",
        "--output-dir",
        d,
        "--set",
        "integrator.steps=50",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h5 = dir.path().join("lj.h5");
    assert_eq!(h5md::frame_count(&h5).unwrap(), 6);
    let ckpt = dir.path().join("lj_h5md.checkpoint");
    let ckpt = ckpt.to_str().unwrap();
    let out = eqmd(&["run", &deck, "-q", "--output-dir", d, "--restart", ckpt]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        h5md::frame_count(&h5).unwrap(),
        11,
        "steps 0, 10, ..., 100 once each"
    );
    let last = h5md::read_last_frame(&h5).unwrap();
    assert_eq!(last.step, 100);
    let frames = extxyz::read_file(&dir.path().join("lj.xyz")).unwrap();
    assert_eq!(frames.len(), 11);
    assert_eq!(frames[10].positions, last.positions);
    assert_eq!(
        frames[10].vector_array("velocities").unwrap(),
        last.velocities.unwrap()
    );
}

#[test]
fn a_run_starts_from_the_last_frame_of_an_h5md_or_extxyz_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = eqmd(&["run", &deck(), "-q", "--output-dir", d]);
    assert!(out.status.success());
    for file in ["lj.h5", "lj.xyz"] {
        // the same deck, with the structure read from the trajectory instead of a lattice
        let text = std::fs::read_to_string(deck()).unwrap().replace(
            "lattice = { kind = \"fcc\", density = 0.8442, repeat = [3, 3, 3], species = \"A\" }",
            &format!("structure = \"{}\"", dir.path().join(file).display()),
        );
        let from_file = dir.path().join(format!("from_{file}.toml"));
        std::fs::write(&from_file, text.replace("temperature = 1.2\nseed", "seed")).unwrap();
        // its outputs elsewhere: the deck's own trajectory names are its structure now
        let elsewhere = dir.path().join(format!("out_{file}"));
        let out = eqmd(&[
            "run",
            from_file.to_str().unwrap(),
            "-q",
            "--output-dir",
            elsewhere.to_str().unwrap(),
            "--set",
            "integrator.steps=5",
        ]);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_h5md_trajectory_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut child = common::eqmd_command()
        .args([
            "run",
            &deck(),
            "-q",
            "--output-dir",
            d,
            "--set",
            "integrator.steps=100000000",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let h5 = dir.path().join("lj.h5");
    let start = Instant::now();
    while h5md::frame_count(&h5).unwrap_or(0) < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no frames written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let n = h5md::frame_count(&h5).unwrap();
    assert!(n >= 5);
    let last = h5md::read_last_frame(&h5).unwrap();
    assert_eq!(last.step, 10 * (n as u64 - 1));
    assert!(last.positions.iter().all(|r| r.is_finite()));
}

/// A structure named like an H5MD file that is not one is refused in one line naming the
/// deck, its key and what the file is: a directory, a text file, a truncated trajectory,
/// a model file. No HDF5 error stack reaches the user.
#[test]
fn a_structure_that_is_not_an_h5md_trajectory_is_named_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = eqmd(&["run", &deck(), "-q", "--output-dir", d.to_str().unwrap()]);
    assert!(out.status.success());
    std::fs::create_dir(d.join("folder.h5")).unwrap();
    std::fs::write(d.join("text.h5"), "not HDF5\n").unwrap();
    let whole = std::fs::read(d.join("lj.h5")).unwrap();
    std::fs::write(d.join("truncated.h5"), &whole[..whole.len() / 3]).unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("potentials/cu-emt.h5");
    std::fs::copy(model, d.join("model.h5")).unwrap();
    for (file, says) in [
        ("folder.h5", "is a directory, not an H5MD trajectory"),
        ("text.h5", "is not an HDF5 file"),
        ("truncated.h5", "truncated"),
        ("model.h5", "it is an eqmd model file"),
    ] {
        let text = std::fs::read_to_string(deck()).unwrap().replace(
            "lattice = { kind = \"fcc\", density = 0.8442, repeat = [3, 3, 3], species = \"A\" }",
            &format!("structure = \"{}\"", d.join(file).display()),
        );
        let bad = d.join("from_bad.toml");
        std::fs::write(&bad, text.replace("temperature = 1.2\nseed", "seed")).unwrap();
        let elsewhere = d.join("out");
        let out = eqmd(&[
            "run",
            bad.to_str().unwrap(),
            "-q",
            "--output-dir",
            elsewhere.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(
            err.contains("from_bad.toml") && err.contains("system.structure") && err.contains(says),
            "{file}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{file}: one line: {err}");
        assert!(!err.contains("HDF5-DIAG"), "{file}: {err}");
    }
}
