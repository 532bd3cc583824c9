//! The network's command line: `eqmd model init`, `eqmd model show`, `eqmd benchmark
//! --json`, and a deck naming a model that does not know the system's species.

mod common;

use common::{eqmd, init_dipole_model};

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

/// `eqmd eval` on a model whose energy is a constant per atom (readout zeroed): the errors
/// must equal those computed by hand from the reference frame.
#[test]
fn eval_reports_errors_against_reference_frames() {
    use eqmd::potential::equivariant::model::{Hyper, Model};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flat.h5");
    let mut model = Model::random(
        Hyper {
            species: ["H", "C", "O"].map(String::from).to_vec(),
            lmax: 1,
            channels: 4,
            layers: 1,
            cutoff: 4.0,
            radial_basis: 4,
            radial_hidden: vec![8],
            parity: false,
            avg_neighbors: 8.0,
            correlation: 1,
            layer_readouts: false,
            dipole: None,
        },
        2,
    );
    model.readout.iter_mut().for_each(|w| *w = 0.0);
    model.shift = vec![-10.0, -1000.0, -2000.0];
    eqmd::potential::equivariant::file::save(&model, &path).unwrap();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/inputs/structures/ethanol.xyz");
    let out = eqmd(&["eval", path.to_str().unwrap(), data, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8_lossy(&out.stdout).to_string();
    let value = |key: &str| -> f64 {
        let at = json
            .find(&format!("\"{key}\": "))
            .unwrap_or_else(|| panic!("{key} in {json}"));
        let rest = &json[at + key.len() + 4..];
        rest[..rest.find([',', '}']).unwrap()]
            .trim()
            .parse()
            .unwrap()
    };
    let frame = eqmd::io::extxyz::read_last_frame(std::path::Path::new(data)).unwrap();
    // ethanol: 2 C, 1 O, 6 H
    let predicted = 6.0 * -10.0 + 2.0 * -1000.0 - 2000.0;
    let de = (predicted - frame.energy().unwrap()).abs() * 1e3;
    assert_eq!(value("n_frames"), 1.0);
    assert!((value("energy_mae_mev") - de).abs() < 1e-6 * de);
    assert!((value("energy_mae_mev_per_atom") - de / 9.0).abs() < 1e-6 * de);
    let f = frame.forces().unwrap();
    let mae = 1e3
        * f.iter()
            .map(|v| v.x.abs() + v.y.abs() + v.z.abs())
            .sum::<f64>()
        / 27.0;
    let rmse = 1e3 * (f.iter().map(|v| v.length_squared()).sum::<f64>() / 27.0).sqrt();
    assert!((value("force_mae_mev_per_angstrom") - mae).abs() < 1e-9 * mae);
    assert!((value("force_rmse_mev_per_angstrom") - rmse).abs() < 1e-9 * rmse);

    // shifts that overflow the summed energy: an error naming the frame, not inf or NaN
    model.shift = vec![1e308; 3];
    let path = dir.path().join("overflow.h5");
    eqmd::potential::equivariant::file::save(&model, &path).unwrap();
    let out = eqmd(&["eval", path.to_str().unwrap(), data, "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ethanol.xyz frame 1") && err.contains("non-finite"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "no figures: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Shapes no model can have are refused by `eqmd model init` with the hyper-parameter
/// named, before anything is allocated or written, and without a panic.
#[test]
fn init_refuses_impossible_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.h5");
    let m = model.to_str().unwrap();
    for (flag, value, says) in [
        ("--radial-hidden", "0", "radial_hidden (width) is 0"),
        ("--channels", "100000", "channels is 100000"),
        ("--channels", "65536", "weights, more than"),
        ("--lmax", "4", "lmax is 4, expected at most 3"),
        ("--cutoff=-1", "", "cutoff is -1"),
    ] {
        let mut args = vec!["model", "init", "--species", "H", flag, value, "-o", m];
        args.retain(|a| !a.is_empty());
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}: {err}");
        assert!(err.contains(says), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{flag} {value}: {err}");
        assert!(!model.exists(), "{flag} {value} wrote a model");
    }
}

/// `eqmd model init` writes only where a file may go: never over a folder or a special file
/// (here a named pipe), and over an existing model only when given --force.
#[test]
fn init_never_replaces_what_it_should_not() {
    let dir = tempfile::tempdir().unwrap();
    let init = |out: &std::path::Path, force: bool| {
        let mut args = vec!["model", "init", "--species", "H", "--channels", "2"];
        args.extend(["--layers", "1", "-o", out.to_str().unwrap()]);
        if force {
            args.push("--force");
        }
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!err.contains("panicked"), "{err}");
        (out.status.success(), err)
    };
    let model = dir.path().join("m.h5");
    assert!(init(&model, false).0);
    let before = std::fs::read(&model).unwrap();
    let (ok, err) = init(&model, false);
    assert!(
        !ok && err.contains("exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&model).unwrap(),
        before,
        "the model was touched"
    );
    assert!(init(&model, true).0, "--force replaces it");

    let (ok, err) = init(dir.path(), true);
    assert!(!ok && err.contains("a folder"), "{err}");
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let (ok, err) = init(&fifo, true);
        assert!(!ok && err.contains("special file"), "{err}");
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(!kind.is_file(), "the pipe was replaced by a file");
    }
}

/// `eqmd eval MODEL --deck TRAINING.toml` reports the deck's training and validation frames
/// apart: its validation figures are those of `eqmd eval` on exactly the frames the deck's
/// seeded split holds out, and the two parts together make the whole file.
#[test]
fn eval_with_a_training_deck_reports_its_split_apart() {
    let root = env!("CARGO_MANIFEST_DIR");
    let model = format!("{root}/potentials/rmd17-ethanol.h5");
    let deck = format!("{root}/inputs/training/ethanol.toml");
    let data = format!("{root}/inputs/data/rmd17-ethanol.xyz");
    let field = |json: &str, part: &str, key: &str| -> f64 {
        let json = &json[json.find(&format!("\"{part}\"")).unwrap_or(0)..];
        let at = json.find(&format!("\"{key}\": ")).unwrap();
        let rest = &json[at + key.len() + 4..];
        rest[..rest.find([',', '}']).unwrap()]
            .trim()
            .parse()
            .unwrap()
    };
    let out = eqmd(&["eval", &model, "--deck", &deck, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let split = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(field(&split, "train", "n_frames"), 950.0);
    assert_eq!(field(&split, "validation", "n_frames"), 50.0);

    // the held-out frames, as the deck's split (1,000 frames, seed 1) chooses them
    let text = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let per_frame = 2 + 9;
    let (_, held_out) = eqmd::train::data::split(lines.len() / per_frame, 950, 50, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let val_file = dir.path().join("validation.xyz");
    let mut val_text = String::new();
    for k in held_out {
        for line in &lines[k * per_frame..(k + 1) * per_frame] {
            val_text.push_str(line);
            val_text.push('\n');
        }
    }
    std::fs::write(&val_file, val_text).unwrap();
    let out = eqmd(&["eval", &model, val_file.to_str().unwrap(), "--json"]);
    let alone = String::from_utf8_lossy(&out.stdout).to_string();
    let whole =
        String::from_utf8_lossy(&eqmd(&["eval", &model, &data, "--json"]).stdout).to_string();
    for key in ["energy_mae_mev", "force_mae_mev_per_angstrom"] {
        let v = field(&split, "validation", key);
        assert!(
            (v - field(&alone, "", key)).abs() < 1e-9 * v,
            "{key}: {split} vs {alone}"
        );
        let t = field(&split, "train", key);
        let mixed = (950.0 * t + 50.0 * v) / 1000.0;
        assert!(
            (mixed - field(&whole, "", key)).abs() < 1e-9 * mixed,
            "{key}"
        );
    }
    // a data file and a deck at once is refused
    let both = eqmd(&["eval", &model, &data, "--deck", &deck]);
    assert_eq!(both.status.code(), Some(2));
}

/// `eqmd model widen` writes the wider model (more channels, a higher L, here of a model
/// with a dipole head), which gives the energy and forces the narrow one gave (`eqmd eval`
/// on the same frames); it refuses to narrow, and to write over its input.
#[test]
fn widen_writes_a_wider_model_of_the_same_energy() {
    let dir = tempfile::tempdir().unwrap();
    let (narrow, wide) = (dir.path().join("narrow.h5"), dir.path().join("wide.h5"));
    let (n, w) = (narrow.to_str().unwrap(), wide.to_str().unwrap());
    init_dipole_model(&narrow, "charges+dipoles"); // L = 1, 4 channels
    let widen = [
        "model",
        "widen",
        n,
        "--channels",
        "6",
        "--lmax",
        "2",
        "--seed",
        "3",
    ];
    let out = eqmd(&[&widen[..], &["-o", w]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = eqmd::potential::equivariant::file::load(&wide).unwrap();
    assert_eq!((model.hyper.channels, model.hyper.lmax), (6, 2));
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/inputs/structures/ethanol.xyz");
    let eval = |m: &str| {
        let out = eqmd(&["eval", m, data, "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let numbers = |json: String| -> Vec<f64> {
        let fields = json.split([',', '}']).filter_map(|f| f.split(':').nth(1));
        fields.map(|v| v.trim().parse().unwrap()).collect()
    };
    let (a, b) = (numbers(eval(n)), numbers(eval(w)));
    assert_eq!(a.len(), 6);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{a:?} vs {b:?}");
    }
    for (args, says) in [
        (
            vec!["--channels", "3", "-o", "x.h5"],
            "can be widened, not narrowed",
        ),
        (vec!["--lmax", "0", "-o", "x.h5"], "lmax is 0"),
        (
            vec!["--lmax", "4", "-o", "x.h5"],
            "lmax is 4, expected at most 3",
        ),
        (vec!["--channels", "6", "-o", n, "--force"], "the model"),
    ] {
        let out = eqmd(&[&["model", "widen", n][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A file that cannot be read is reported with its cause once (the cause is in the
/// message, not chained after it as well).
#[test]
fn a_missing_file_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.h5");
    let m = missing.to_str().unwrap();
    for args in [vec!["model", "show", m], vec!["analyze", "rdf", m]] {
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(err.matches("No such file").count(), 1, "{args:?}: {err}");
        assert!(err.contains("missing.h5"), "{err}");
    }
}
