//! A small training deck on the rMD17 ethanol frames, and running it.

use eqmd::potential::equivariant::file;
use eqmd::train::trainer::{Outcome, Training};
use std::path::{Path, PathBuf};

/// The ethanol frames the training tests learn from.
pub fn data() -> String {
    format!(
        "{}/inputs/data/rmd17-ethanol.xyz",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A small training deck in `dir` (12 frames to train, 4 to validate, a tiny model).
pub fn deck(dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        r#"version = 1
[data]
file = "{}"
train = 12
validation = 4
seed = 3

[model]
lmax = 1
channels = 4
layers = 2
cutoff = 4.0
radial_basis = 6
radial_hidden = [8]
seed = 2

[optimizer]
kind = "amsgrad"
learning_rate = 0.01
batch = 4
epochs = 4
ema = 0.9
seed = 5

[output]
model = "model.h5"
{extra}"#,
        data()
    );
    let path = dir.join("train.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Trains `deck` with `--set` overrides, from scratch or resumed.
pub fn run(deck: &Path, overrides: &[&str], resume: bool) -> Outcome {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Training::load(deck, &o)
        .unwrap()
        .run(resume, false)
        .unwrap()
}

/// The rows of a metrics CSV without the seconds column, which differs from run to run.
pub fn csv_without_times(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(2); // seconds
            f.join(",")
        })
        .collect()
}

/// The error of loading `deck` with `--set` overrides, which must fail; it must name the
/// deck's file.
pub fn load_error(deck: &Path, overrides: &[String]) -> String {
    let err = Training::load(deck, overrides)
        .err()
        .expect("must fail")
        .to_string();
    assert!(err.contains("train.toml"), "{err}");
    err
}

/// Two runs of the small deck, in `a` and `b`, ended with the same model, the same
/// checkpoint model and the same metrics (but for the seconds).
pub fn assert_same_outputs(a: &Path, b: &Path, what: &str) {
    for f in ["model.h5", "model.ckpt.h5"] {
        let (ma, mb) = (
            file::load(&a.join(f)).unwrap(),
            file::load(&b.join(f)).unwrap(),
        );
        assert_eq!(ma, mb, "{f} differs: {what}");
    }
    assert_eq!(
        csv_without_times(&a.join("model.csv")),
        csv_without_times(&b.join("model.csv")),
        "metrics differ: {what}"
    );
}
