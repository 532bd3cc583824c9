//! Multi-stage decks: `[[stage]]` blocks run in order on one clock (minimise, then NPT,
//! NVT and NVE), and a run stopped anywhere continues bit for bit, barostat state and all.

mod common;

use common::eqmd;
use eqmd::io::checkpoint;
use std::path::Path;

/// A small LJ workflow: relax the lattice and its cell, NPT by C-rescale, NVT, NVE.
const WORKFLOW: &str = r#"
version = 1
units = "lj"
[system]
lattice = { kind = "fcc", density = 0.9, repeat = [4, 4, 4], species = "A", displace = 0.02 }
seed = 9
[potential]
type = "lennard-jones"
cutoff = 2.5
shift = true
pairs = [{ species = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[integrator]
timestep = 0.005
[[stage]]
name = "relax"
minimize = { algorithm = "fire", cell = "iso", pressure = 1.0, fmax = 1e-6, smax = 1e-6 }
[[stage]]
name = "npt"
steps = 100
thermostat = { type = "langevin", temperature = 0.8, damping = 0.5 }
barostat = { type = "c-rescale", pressure = 1.0, damping = 1.0, compressibility = 0.05 }
[[stage]]
name = "nvt"
steps = 100
thermostat = { type = "nose-hoover", temperature = 0.8, damping = 0.5 }
[[stage]]
name = "nve"
steps = 100
[thermo]
every = 10
[trajectory]
file = "w.xyz"
every = 50
"#;

fn run(dir: &Path, sets: &[&str], restart: bool) -> std::process::Output {
    let deck = dir.join("w.toml");
    std::fs::write(&deck, WORKFLOW).unwrap();
    let mut args = vec!["run", deck.to_str().unwrap(), "-q"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let ckpt = dir.join("w.checkpoint").to_string_lossy().into_owned();
    if restart {
        args.extend(["--restart", &ckpt]);
    }
    eqmd(&args)
}

fn ok(out: std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stages_share_one_clock_and_the_cell_follows_them() {
    let dir = tempfile::tempdir().unwrap();
    ok(run(dir.path(), &[], false));
    let rows = eqmd::io::thermo::read_csv(&dir.path().join("w.thermo.csv")).unwrap();
    let steps: Vec<u64> = rows.iter().map(|r| r.step).collect();
    // the start, the relaxed structure (still step 0), then every 10 steps to 300
    let mut expected = vec![0, 0];
    expected.extend((10..=300).step_by(10));
    assert_eq!(steps, expected);
    // the relaxed cell holds the target pressure with no kinetic energy
    let relaxed = &rows[1];
    assert!(
        (relaxed.press - 1.0).abs() < 1e-5,
        "relaxed pressure {}",
        relaxed.press
    );
    assert!(
        relaxed.volume < rows[0].volume,
        "P = 1 compresses the ρ = 0.9 lattice"
    );
    // NPT changes the volume, NVT and NVE keep it
    let vol = |step: u64| rows.iter().rev().find(|r| r.step == step).unwrap().volume;
    assert_ne!(vol(100), vol(10));
    assert_eq!(vol(100), vol(300));
    let frames = eqmd::io::extxyz::read_file(&dir.path().join("w.xyz")).unwrap();
    assert_eq!(frames.len(), 2 + 6, "start, relaxed, then every 50 steps");
    assert!(
        frames[1].stress().is_some(),
        "the relaxed frame has its stress"
    );
}

#[test]
fn a_stopped_multi_stage_run_continues_bit_for_bit() {
    let one = tempfile::tempdir().unwrap();
    ok(run(one.path(), &[], false));
    // stopped inside NPT (stage 2's clock ends at 60), then continued by the whole deck
    let two = tempfile::tempdir().unwrap();
    ok(run(
        two.path(),
        &["stage[1].steps=60", "stage[2].steps=0", "stage[3].steps=0"],
        false,
    ));
    let c = checkpoint::read(&two.path().join("w.checkpoint")).unwrap();
    assert_eq!((c.step, c.stage), (60, 1));
    ok(run(two.path(), &[], true));
    // stopped inside the last stage, then continued
    let three = tempfile::tempdir().unwrap();
    ok(run(three.path(), &["stage[3].steps=30"], false));
    let c = checkpoint::read(&three.path().join("w.checkpoint")).unwrap();
    assert_eq!((c.step, c.stage), (230, 3));
    ok(run(three.path(), &[], true));
    let a = checkpoint::read(&one.path().join("w.checkpoint")).unwrap();
    for dir in [&two, &three] {
        let b = checkpoint::read(&dir.path().join("w.checkpoint")).unwrap();
        assert_eq!(a.step, 300);
        assert_eq!(a.cell, b.cell, "cells differ");
        assert_eq!(a.positions, b.positions, "positions differ");
        assert_eq!(a, b, "states differ");
        let rows = |d: &Path| std::fs::read_to_string(d.join("w.thermo.csv")).unwrap();
        assert_eq!(rows(one.path()), rows(dir.path()));
    }
    // and the finished run has nothing left to do
    let out = run(one.path(), &[], true);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to run"));
}

/// MTK and C-rescale single-stage decks restart bit for bit mid-run.
#[test]
fn npt_runs_restart_bit_for_bit() {
    for barostat in [
        "{ type = \"mtk\", pressure = 1.0, damping = 1.0, couple = \"aniso\" }",
        "{ type = \"c-rescale\", pressure = 1.0, damping = 1.0, compressibility = 0.05 }",
    ] {
        let text = format!(
            r#"
version = 1
units = "lj"
[system]
lattice = {{ kind = "fcc", density = 0.8, repeat = [4, 4, 4], species = "A" }}
temperature = 1.0
[potential]
type = "lennard-jones"
cutoff = 2.5
pairs = [{{ species = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[integrator]
timestep = 0.005
steps = 200
[thermostat]
type = "nose-hoover"
temperature = 1.0
damping = 0.5
[barostat]
{}
"#,
            barostat.trim_matches(['{', '}']).replace(", ", "\n")
        );
        let go = |dir: &Path, extra: &[&str]| {
            let deck = dir.join("p.toml");
            std::fs::write(&deck, &text).unwrap();
            let mut args = vec!["run", deck.to_str().unwrap(), "-q"];
            args.extend(extra);
            ok(eqmd(&args));
        };
        let one = tempfile::tempdir().unwrap();
        go(one.path(), &[]);
        let two = tempfile::tempdir().unwrap();
        go(two.path(), &["--set", "integrator.steps=100"]);
        let ckpt = two
            .path()
            .join("p.checkpoint")
            .to_string_lossy()
            .into_owned();
        go(two.path(), &["--restart", &ckpt]);
        let a = checkpoint::read(&one.path().join("p.checkpoint")).unwrap();
        let b = checkpoint::read(&two.path().join("p.checkpoint")).unwrap();
        assert_ne!(
            a.cell, a.neighbor_cell,
            "{barostat}: the cell moved since the list was built"
        );
        assert_eq!(a, b, "{barostat}: states differ");
        let rows = |d: &Path| std::fs::read_to_string(d.join("p.thermo.csv")).unwrap();
        assert_eq!(rows(one.path()), rows(two.path()), "{barostat}");
        assert!(rows(one.path()).starts_with("step,time,pe,ke,etotal,temp,press,vol\n"));
    }
}

#[test]
fn bad_stage_decks_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (sets, message) in [
        (
            vec!["thermostat={ type = \"langevin\", temperature = 1.0, damping = 0.5 }"],
            "with [[stage]] blocks this belongs in each stage",
        ),
        (vec!["integrator.steps=10"], "`integrator.steps`"),
        (
            vec!["stage[2].minimize.cell=iso"],
            "a minimisation stage takes no dynamics settings",
        ),
        (vec!["stage[1].timestep=-1"], "stage[1].timestep"),
        (vec!["stage[7].steps=1"], "there is no `stage[7]`"),
        (
            vec!["stage[1].barostat.compressibility=-0.1"],
            "stage[1].barostat.compressibility",
        ),
    ] {
        let out = run(dir.path(), &sets, false);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{sets:?} ran");
        assert!(
            stderr.contains(message) && !stderr.contains("panicked"),
            "{sets:?}: {stderr}"
        );
    }
}
