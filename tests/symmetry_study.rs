//! `eqmd symmetry-study` and the rotation augmentation it relies on: a turned sample is the
//! frame turned, an augmented training resumes exactly, and the study's equivariant heads
//! have the same norm error on rotated frames while the invariant head does not.

mod common;

use common::eqmd;
use eqmd::potential::equivariant::file;
use eqmd::potential::equivariant::network::Evaluator;
use eqmd::train::data::{frame_rotation, load_rotated_samples, load_samples, rotate_sample};
use eqmd::train::loss::{frame_errors, LossWeights};
use eqmd::train::study::{read_csv, Predictor};
use eqmd::train::trainer::Training;
use std::path::{Path, PathBuf};

fn data() -> String {
    format!(
        "{}/inputs/data/gfn2-ethanol.xyz",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A small dipole training deck in `dir` (16 frames to train, 8 to validate).
fn base_deck(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        r#"version = 1
[data]
file = "{}"
train = 16
validation = 8
seed = 3
{extra}

[model]
lmax = 1
channels = 4
layers = 2
cutoff = 4.0
radial_basis = 6
radial_hidden = [8]
parity = true
seed = 2
dipole = "charges+dipoles"

[loss]
energy = 1.0
forces = 1.0
dipole = 10.0

[optimizer]
kind = "amsgrad"
learning_rate = 0.01
batch = 4
epochs = 4
ema = 0.9
seed = 5

[output]
model = "runs/model.h5"
"#,
        data()
    );
    let path = dir.join("base.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn study_deck(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "version = 1\nbase = \"base.toml\"\nframes = [8, 16]\nepochs = 3\nrotation_seed = 4\noutput = \"study\"\n{extra}"
    );
    let path = dir.join("study.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_turned_sample_is_the_turned_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = base_deck(dir.path(), "");
    let training = Training::load(&d, &[]).unwrap();
    let model = training.initial_model().unwrap();
    let path = PathBuf::from(data());
    let species = model.hyper.species.clone();
    let plain = load_samples(&path, &species, model.hyper.cutoff).unwrap();
    let turned = load_rotated_samples(&path, &species, model.hyper.cutoff, 9).unwrap();
    let ev = Evaluator::new(&model);
    let w = LossWeights {
        energy: 1.0,
        forces: 1.0,
        stress: 0.0,
        dipole: 1.0,
    };
    for k in [0, 5, 17] {
        let by_sample = rotate_sample(&plain[k], frame_rotation(9, k as u64));
        let a = frame_errors(&ev, &model, &by_sample, &w);
        let b = frame_errors(&ev, &model, &turned[k], &w);
        assert!((a.loss - b.loss).abs() <= 1e-10 * b.loss, "{a:?} vs {b:?}");
        let (da, db) = (a.dipole_error.unwrap(), b.dipole_error.unwrap());
        assert!((da - db).length() < 1e-10, "{da} vs {db}");
        assert!((a.force_sq - b.force_sq).abs() <= 1e-10 * b.force_sq);
    }
}

#[test]
fn augmented_training_is_seeded_and_resumes_exactly() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let run = |dir: &Path, extra: &str, over: &[&str], resume: bool| {
        let o: Vec<String> = over.iter().map(|s| s.to_string()).collect();
        Training::load(&base_deck(dir, extra), &o)
            .unwrap()
            .run(resume, false)
            .unwrap()
    };
    run(a.path(), "rotate = true", &[], false);
    run(b.path(), "rotate = true", &["optimizer.epochs=2"], false);
    run(b.path(), "rotate = true", &[], true);
    run(c.path(), "", &[], false);
    let load = |d: &Path| file::load(&d.join("runs/model.ckpt.h5")).unwrap();
    assert_eq!(
        load(a.path()),
        load(b.path()),
        "resumed augmented run differs"
    );
    assert_ne!(
        load(a.path()),
        load(c.path()),
        "augmentation changed nothing"
    );
}

#[test]
fn the_study_shows_which_heads_survive_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    base_deck(dir.path(), "");
    let deck = study_deck(dir.path(), "");
    let out = eqmd(&["symmetry-study", deck.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_csv(&dir.path().join("study/symmetry-study.csv")).unwrap();
    // per size: two baselines and three heads; then the augmented invariant head
    assert_eq!(rows.len(), 11, "{rows:?}");
    let last = rows.last().unwrap();
    assert!(last.augmented && last.predictor == Predictor::Head("invariant"));
    assert_eq!(last.train_frames, 16);
    let weights: Vec<usize> = rows
        .iter()
        .map(|r| r.parameters)
        .filter(|&p| p > 0)
        .collect();
    let (lo, hi) = (weights.iter().min().unwrap(), weights.iter().max().unwrap());
    assert!(*hi as f64 <= 1.05 * *lo as f64, "weights {weights:?}");
    for r in &rows {
        let (given, turned) = (r.dipole_norm_error, r.rotated_dipole_norm_error);
        match r.predictor.name() {
            // |0 − Rμ| = |μ|; charges and atomic dipoles turn with the frame
            "zero" | "charges" | "charges+dipoles" => assert!(
                (given - turned).abs() <= 1e-9 * given,
                "{}: {given} vs {turned}",
                r.label()
            ),
            // one fixed vector cannot follow the frames
            _ => assert!(
                (given - turned).abs() > 1e-6 * given,
                "{}: {given}",
                r.label()
            ),
        }
        assert!(r.dipole_mae > 0.0 && r.rotated_dipole_mae.is_finite());
    }
    let svg = dir.path().join("study/symmetry-study.svg");
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("<svg") && drawn.contains("charges+dipoles"));
    std::fs::remove_file(&svg).unwrap();
    let out = eqmd(&["symmetry-study", deck.to_str().unwrap(), "--plot-only"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(svg.exists());
}

#[test]
fn bad_study_decks_are_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    base_deck(dir.path(), "");
    for (extra, key) in [
        ("frames = [0]", "frames"),
        ("epochs = 0", "epochs"),
        ("minutes = -1.0", "minutes"),
        ("colour = 3", "colour"),
    ] {
        let text = std::fs::read_to_string(study_deck(dir.path(), "")).unwrap();
        // the extra line replaces the deck's own value of that key
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} =")))
            .collect();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, format!("{}\n{extra}\n", kept.join("\n"))).unwrap();
        let out = eqmd(&["symmetry-study", path.to_str().unwrap(), "-q"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(key), "{extra}: {err}");
    }
    // the base deck must train a dipole
    std::fs::write(
        dir.path().join("base.toml"),
        std::fs::read_to_string(dir.path().join("base.toml"))
            .unwrap()
            .replace("dipole = 10.0", "dipole = 0.0"),
    )
    .unwrap();
    let out = eqmd(&[
        "symmetry-study",
        study_deck(dir.path(), "").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("loss.dipole"),
        "{err}"
    );
}

/// The study's CSV never overwrites its inputs: an output that is (through a symbolic link)
/// the base deck is refused before any training, and the base deck is left as it was.
#[test]
fn an_output_linked_to_the_base_deck_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_deck(dir.path(), "");
    let before = std::fs::read(&base).unwrap();
    let study = dir.path().join("study");
    std::fs::create_dir_all(&study).unwrap();
    std::os::unix::fs::symlink(&base, study.join("symmetry-study.csv")).unwrap();
    let out = eqmd(&[
        "symmetry-study",
        study_deck(dir.path(), "").to_str().unwrap(),
        "-q",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("study.toml") && err.contains("never overwrites an input"),
        "{err}"
    );
    assert_eq!(std::fs::read(&base).unwrap(), before);
}
