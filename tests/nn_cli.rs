//! The network's command line: `eqmd model init`, `eqmd model show`, `eqmd benchmark
//! --json`, and a deck naming a model that does not know the system's species.

use std::process::{Command, Output};

fn eqmd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eqmd"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn init_show_and_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.h5");
    let m = model.to_str().unwrap();
    let out = eqmd(&[
        "model",
        "init",
        "--species",
        "H,C,O",
        "--lmax",
        "2",
        "--channels",
        "8",
        "--layers",
        "2",
        "--cutoff",
        "4.0",
        "--radial-basis",
        "6",
        "--radial-hidden",
        "16,16",
        "--seed",
        "3",
        "-o",
        m,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let show = eqmd(&["model", "show", m]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("H, C, O") && text.contains("parameters"),
        "{text}"
    );
    let structure = concat!(env!("CARGO_MANIFEST_DIR"), "/inputs/structures/ethanol.xyz");
    let bench = eqmd(&[
        "benchmark",
        "--model",
        m,
        "--structure",
        structure,
        "--repeat",
        "3",
        "--json",
    ]);
    assert!(
        bench.status.success(),
        "{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    let json = String::from_utf8_lossy(&bench.stdout);
    assert!(
        json.contains("\"median_us_per_call\"") && json.contains("\"atoms\": 9"),
        "{json}"
    );
    // a model that lacks a species of the structure
    let cu = dir.path().join("cu.h5");
    let out = eqmd(&[
        "model",
        "init",
        "--species",
        "Cu",
        "--channels",
        "4",
        "--layers",
        "1",
        "-o",
        cu.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let bench = eqmd(&[
        "benchmark",
        "--model",
        cu.to_str().unwrap(),
        "--structure",
        structure,
    ]);
    let err = String::from_utf8_lossy(&bench.stderr);
    assert_eq!(bench.status.code(), Some(1));
    assert!(err.contains("the model knows species Cu, not"), "{err}");
    // a damaged model file
    std::fs::write(&cu, b"not a model").unwrap();
    let show = eqmd(&["model", "show", cu.to_str().unwrap()]);
    assert_eq!(show.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&show.stderr).contains("cu.h5"));
}
