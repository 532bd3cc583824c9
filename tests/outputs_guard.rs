//! Outputs never destroy inputs: an output path (thermo, trajectory, H5MD, checkpoint)
//! that is the deck, its structure or model file, another output, or a device is refused
//! before step 0, naming the deck file and key, and every input is left as it was.

mod common;

use common::eqmd;
use std::path::Path;

/// A copy of `inputs/nn_ethanol.toml` with its structure and model beside it in `dir`.
fn setup(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("inputs/structures/ethanol.xyz"),
        dir.join("ethanol.xyz"),
    )
    .unwrap();
    std::fs::copy(
        root.join("potentials/random-hco-l1.h5"),
        dir.join("model.h5"),
    )
    .unwrap();
    let deck = std::fs::read_to_string(root.join("inputs/nn_ethanol.toml"))
        .unwrap()
        .replace("structures/ethanol.xyz", "ethanol.xyz")
        .replace("../potentials/random-hco-l1.h5", "model.h5")
        .replace("steps = 2000", "steps = 20");
    std::fs::write(dir.join("deck.toml"), deck).unwrap();
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn outputs_onto_inputs_other_outputs_or_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let deck = dir.path().join("deck.toml");
    let before = snapshot(dir.path());
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["trajectory.file=\"deck.toml\""],
            "trajectory.file",
            "the deck",
        ),
        (
            &["h5md.file=\"ethanol.xyz\"", "h5md.every=10"],
            "h5md.file",
            "system.structure",
        ),
        (
            &["thermo.file=\"model.h5\""],
            "thermo.file",
            "potential.model",
        ),
        (
            &["thermo.file=\"nn_ethanol.xyz\""],
            "trajectory.file",
            "the output thermo.file",
        ),
        (
            &["checkpoint.file=\"/dev/full\""],
            "checkpoint.file",
            "special file",
        ),
        (&["thermo.file=\".\""], "thermo.file", "folder"),
    ];
    for (sets, key, message) in cases {
        let mut args = vec!["run", deck.to_str().unwrap(), "-q"];
        for s in *sets {
            args.extend(["--set", s]);
        }
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sets:?}: {err}");
        assert!(
            err.contains("deck.toml") && err.contains(key) && err.contains(message),
            "{sets:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(snapshot(dir.path()), before, "{sets:?} changed a file");
    }
    let meta = std::fs::metadata("/dev/full").unwrap();
    assert!(!meta.is_file(), "/dev/full was replaced");
    // the deck as it is runs, and a restart rewrites the checkpoint it reads
    let out = eqmd(&["run", deck.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ckpt = dir.path().join("deck.checkpoint");
    let out = eqmd(&[
        "run",
        deck.to_str().unwrap(),
        "-q",
        "--restart",
        ckpt.to_str().unwrap(),
        "--set",
        "integrator.steps=40",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(eqmd::io::checkpoint::read(&ckpt).unwrap().step, 40);
}
