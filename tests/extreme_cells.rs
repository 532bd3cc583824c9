//! Cells and ranges at the edges of what makes sense: a few atoms in a huge periodic box,
//! atoms billions of cells away from their cell, cells far smaller than the range, ranges
//! of 1e300. Each either runs and gives the physics of an ordinary box, or is refused with
//! a message naming the key, without a panic, a hang or an attempt to allocate terabytes.

mod common;

use common::eqmd;
use std::path::Path;

/// A two-atom argon deck (metal units, Lennard-Jones with r_c 4.9 Å) on `structure`.
fn argon_deck(dir: &Path, structure: &str, extra: &str) -> std::path::PathBuf {
    let deck = dir.join("ar.toml");
    let text = format!(
        r#"version = 1
units = "metal"

[system]
structure = "{structure}"
masses = {{ Ar = 39.948 }}
{extra}

[potential]
type = "lennard-jones"
cutoff = 4.9
pairs = [{{ species = ["Ar", "Ar"], epsilon = 0.0104, sigma = 3.4 }}]

[integrator]
timestep = 0.001
steps = 1

[thermo]
every = 1
"#
    );
    std::fs::write(&deck, text).unwrap();
    deck
}

/// Writes two argon atoms at `a` and `b` in a periodic cube of side `side`.
fn two_atoms(path: &Path, side: &str, a: &str, b: &str) {
    let text = format!(
        "2\nLattice=\"{side} 0 0 0 {side} 0 0 0 {side}\" Properties=species:S:1:pos:R:3 \
         pbc=\"T T T\"\nAr {a}\nAr {b}\n"
    );
    std::fs::write(path, text).unwrap();
}

/// Runs `deck`; returns whether it succeeded and stderr, after checking for a panic.
fn run(deck: &Path, dir: &Path, sets: &[&str]) -> (bool, String) {
    let mut args = vec!["run", deck.to_str().unwrap(), "-q", "--output-dir"];
    args.push(dir.to_str().unwrap());
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = eqmd(&args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.success(), err)
}

/// The potential energy at step 0 of the run of `deck` into `dir`.
fn first_pe(deck: &Path, dir: &Path) -> f64 {
    let (ok, err) = run(deck, dir, &[]);
    assert!(ok, "{err}");
    let thermo = std::fs::read_to_string(dir.join("ar.thermo.csv")).unwrap();
    let mut lines = thermo.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let pe = header.iter().position(|h| *h == "pe").unwrap();
    lines
        .next()
        .unwrap()
        .split(',')
        .nth(pe)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn two_atoms_interact_alike_in_a_small_box_a_huge_box_and_billions_of_cells_apart() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("ar.xyz");
    let deck = argon_deck(dir.path(), "ar.xyz", "");
    two_atoms(&xyz, "20", "1 1 1", "4.8 1 1");
    let reference = first_pe(&deck, dir.path());
    assert!(
        reference < -0.005,
        "the pair 3.8 Å apart is bound: {reference}"
    );
    // a box of 10 µm: bins capped by the atom count, not by the box
    two_atoms(&xyz, "100000", "1 1 1", "4.8 1 1");
    let huge = first_pe(&deck, dir.path());
    assert!((huge - reference).abs() < 1e-12, "{huge} vs {reference}");
    // the second atom 2^33 cells away in x: wrapped home, not left out
    let far = format!("{} 1 1", 4.8 + 20.0 * 2f64.powi(33));
    two_atoms(&xyz, "20", "1 1 1", &far);
    let wrapped = first_pe(&deck, dir.path());
    assert!(
        (wrapped - reference).abs() < 1e-6,
        "{wrapped} vs {reference}"
    );
}

#[test]
fn a_cell_far_smaller_than_the_range_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("ar.xyz");
    two_atoms(&xyz, "0.0001", "0 0 0", "0.00005 0 0");
    let deck = argon_deck(dir.path(), "ar.xyz", "");
    for sets in [&[][..], &["system.min_distance=0"][..]] {
        let (ok, err) = run(&deck, dir.path(), sets);
        assert!(!ok && err.contains("ar.toml"), "{sets:?}: {err}");
        assert!(err.contains("periodic images"), "{sets:?}: {err}");
    }
}

#[test]
fn a_huge_minimum_distance_is_refused_not_searched() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("ar.xyz");
    two_atoms(&xyz, "20", "1 1 1", "4.8 1 1");
    let deck = argon_deck(dir.path(), "ar.xyz", "");
    let (ok, err) = run(&deck, dir.path(), &["system.min_distance=1e300"]);
    assert!(!ok && err.contains("system.min_distance"), "{err}");
    assert!(err.contains("periodic images"), "{err}");
}

#[test]
fn lattices_of_absurd_density_are_refused_or_run() {
    let root = env!("CARGO_MANIFEST_DIR");
    let deck = format!("{root}/tests/decks/good/lj_small.toml");
    let dir = tempfile::tempdir().unwrap();
    for (density, refused) in [
        ("1e300", true),
        ("5e-324", true),
        ("1e10", true),
        ("1e-30", false),
    ] {
        let set = format!("system.lattice.density={density}");
        let (ok, err) = run(Path::new(&deck), dir.path(), &[&set, "integrator.steps=2"]);
        assert_eq!(!ok, refused, "density {density}: {err}");
        if refused {
            assert!(err.contains("lj_small.toml"), "density {density}: {err}");
        }
    }
    // a lattice constant too small to make a cell names its key
    let (ok, err) = run(
        Path::new(&deck),
        dir.path(),
        &["system.lattice={ kind = \"sc\", a = 1e-5, repeat = [1, 1, 1], species = \"A\" }"],
    );
    assert!(!ok && err.contains("system.lattice.a"), "{err}");
}

#[test]
fn a_model_cutoff_of_1e300_is_refused_by_eval_and_benchmark() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("c.h5");
    let m = model.to_str().unwrap();
    let init = [
        "model",
        "init",
        "--species",
        "Cu",
        "--lmax",
        "0",
        "--channels",
        "2",
    ];
    let mut args = init.to_vec();
    args.extend([
        "--layers",
        "1",
        "--radial-hidden",
        "4",
        "--cutoff",
        "1e300",
        "-o",
        m,
    ]);
    let out = eqmd(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames = format!("{root}/inputs/data/cu-emt-train.xyz");
    for args in [
        vec!["eval", m, &frames],
        vec!["benchmark", "--model", m, "--structure", &frames],
    ] {
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            err.contains("cu-emt-train.xyz") && err.contains("periodic images"),
            "{args:?}: {err}"
        );
    }
}

/// Counts that would ask for gigabytes (a thermostat chain, rdf bins, benchmark calls) are
/// refused by name before anything is allocated.
#[test]
fn absurd_counts_are_refused_by_name() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let deck = format!("{root}/inputs/argon_nvt.toml");
    let (ok, err) = run(
        Path::new(&deck),
        dir.path(),
        &["thermostat.chain=1000000000"],
    );
    assert!(
        !ok && err.contains("thermostat.chain") && err.contains("at most"),
        "{err}"
    );
    let xyz = dir.path().join("ar.xyz");
    two_atoms(&xyz, "20", "1 1 1", "4.8 1 1");
    let model = format!("{root}/potentials/random-cu-l1.h5");
    for args in [
        vec![
            "analyze",
            "rdf",
            xyz.to_str().unwrap(),
            "--bins",
            "1000000000",
        ],
        vec![
            "analyze",
            "rdf",
            xyz.to_str().unwrap(),
            "--bins",
            "18446744073709551615",
        ],
        vec![
            "benchmark",
            "--model",
            &model,
            "--structure",
            xyz.to_str().unwrap(),
            "--repeat",
            "18446744073709551615",
        ],
    ] {
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("--bins") || err.contains("--repeat"),
            "{args:?}: {err}"
        );
    }
}

/// A named pipe given as a structure, an EAM file or a model is refused at once: opening
/// it to read would wait for a writer that never comes. (Each run is bounded by `timeout`,
/// so a regression fails instead of hanging.)
#[test]
fn a_pipe_as_an_input_file_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let made = |name: &str| {
        let p = dir.path().join(name);
        let ok = std::process::Command::new("mkfifo").arg(&p).status();
        ok.is_ok_and(|s| s.success()).then_some(p)
    };
    let (Some(xyz), Some(h5), Some(eam), Some(model)) =
        (made("s.xyz"), made("s.h5"), made("cu.eam"), made("m.h5"))
    else {
        eprintln!("skipped: mkfifo is not available");
        return;
    };
    let bounded = |args: &[&str]| {
        let out = std::process::Command::new("timeout")
            .arg("30")
            .arg(env!("CARGO_BIN_EXE_eqmd"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        err
    };
    for structure in [&xyz, &h5] {
        let deck = argon_deck(dir.path(), structure.to_str().unwrap(), "");
        let err = bounded(&["run", deck.to_str().unwrap(), "-q"]);
        assert!(
            err.contains("system.structure") && err.contains("pipe"),
            "{err}"
        );
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let deck = format!("{root}/tests/decks/good/cu_eam_small.toml");
    let set = format!("potential.files={{ Cu = \"{}\" }}", eam.display());
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let err = bounded(&["run", &deck, "-q", "--output-dir", o, "--set", &set]);
    assert!(err.contains("cu.eam") && err.contains("pipe"), "{err}");
    let frame = format!("{root}/inputs/structures/ethanol.xyz");
    let m = model.to_str().unwrap();
    let err = bounded(&["eval", m, &frame]);
    assert!(err.contains("m.h5") && err.contains("pipe"), "{err}");
}
