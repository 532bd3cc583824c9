//! `eqmd train`: the loss goes down, the same seed gives the same model, a resumed run
//! ends exactly where an uninterrupted one does (also after SIGINT or SIGTERM), and bad
//! training decks are refused with the file, line and key.

mod common;

use common::train::{assert_same_outputs, csv_without_times, data, deck, load_error, run};
use common::{eqmd, eqmd_command, signal_once_written};
use eqmd::potential::equivariant::file;
use eqmd::train::state::{model_path, TrainState};
use eqmd::train::trainer::Training;
use std::path::Path;
use std::process::Stdio;

#[test]
fn training_lowers_the_loss_and_writes_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(dir.path(), "");
    let o = run(&d, &["optimizer.epochs=30"], false);
    assert_eq!(o.epochs, 30);
    let csv = std::fs::read_to_string(dir.path().join("model.csv")).unwrap();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').filter_map(|x| x.parse().ok()).collect())
        .collect();
    assert_eq!(rows.len(), 30);
    let (first, last) = (rows[0][3], rows[29][3]);
    println!(
        "train loss {first} -> {last}, validation {} -> {}",
        rows[0][6], rows[29][6]
    );
    assert!(last < 0.5 * first, "train loss {first} -> {last}");
    assert!(rows[29][6] < rows[0][6], "validation loss did not fall");
    // the saved model is the best one and evaluates to the reported errors
    let model = file::load(&o.model).unwrap();
    assert_eq!(model.hyper.species, ["C", "O", "H"]);
    assert!(
        model.hyper.avg_neighbors > 5.0,
        "{}",
        model.hyper.avg_neighbors
    );
    assert!(dir.path().join("model.ckpt").exists());
    assert!(model_path(&dir.path().join("model.ckpt")).exists());
}

#[test]
fn same_seed_same_model() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run(&deck(a.path(), ""), &[], false);
    run(&deck(b.path(), ""), &[], false);
    let ma = file::load(&a.path().join("model.h5")).unwrap();
    let mb = file::load(&b.path().join("model.h5")).unwrap();
    assert_eq!(ma, mb);
    assert_eq!(
        csv_without_times(&a.path().join("model.csv")),
        csv_without_times(&b.path().join("model.csv"))
    );
    // another seed of the frame order gives another model
    let c = tempfile::tempdir().unwrap();
    run(&deck(c.path(), ""), &["optimizer.seed=6"], false);
    assert_ne!(ma, file::load(&c.path().join("model.h5")).unwrap());
}

#[test]
fn resumed_training_ends_where_an_uninterrupted_one_does() {
    let whole = tempfile::tempdir().unwrap();
    let split = tempfile::tempdir().unwrap();
    run(&deck(whole.path(), ""), &[], false);
    let d = deck(split.path(), "");
    run(&d, &["optimizer.epochs=2"], false);
    let o = run(&d, &[], true);
    assert_eq!(o.epochs, 4);
    assert_same_outputs(whole.path(), split.path(), "resumed after 2 epochs");
    assert_eq!(
        std::fs::read(whole.path().join("model.ckpt"))
            .unwrap()
            .len(),
        std::fs::read(split.path().join("model.ckpt"))
            .unwrap()
            .len()
    );
}

/// `--resume` continues the run that made the checkpoint: a deck changed to another model
/// shape or another split of the frames is refused by name, a longer run is not.
#[test]
fn a_resume_with_another_shape_or_split_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(dir.path(), "");
    run(&d, &["optimizer.epochs=1"], false);
    let resume_error = |set: &[&str]| {
        let o: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let t = Training::load(&d, &o).unwrap();
        t.run(true, false).expect_err("must fail").to_string()
    };
    let err = resume_error(&["model.channels=8"]);
    assert!(
        err.contains("train.toml") && err.contains("channels 4 (deck: 8)"),
        "{err}"
    );
    for set in ["data.seed=4", "data.train=11", "data.validation=3"] {
        let err = resume_error(&[set]);
        assert!(
            err.contains("train.toml") && err.contains("other frames"),
            "{set}: {err}"
        );
    }
    assert_eq!(run(&d, &["optimizer.epochs=2"], true).epochs, 2);
}

#[test]
fn bad_training_decks_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "[loss]\nenergy = 1.0\nforce = 2.0\n",
            "loss.force",
            "unknown field",
        ),
        (
            "[schedule]\nkind = \"linear\"\n",
            "schedule.kind",
            "plateau",
        ),
        ("[loss]\nstress = -1.0\n", "loss.stress", "zero or positive"),
        (
            "checkpoint_seconds = -5.0\n",
            "output.checkpoint_seconds",
            "zero or positive",
        ),
    ];
    for (extra, key, message) in cases {
        let err = load_error(&deck(dir.path(), extra), &[]);
        assert!(err.contains("train.toml:"), "the line: {err}");
        assert!(err.contains(key) && err.contains(message), "{err}");
    }
    let d = deck(dir.path(), "");
    for (set, key, message) in [
        ("data.train=2000", "data.train", "1000 frames"),
        (
            "optimizer.learning_rate=0",
            "optimizer.learning_rate",
            "positive",
        ),
        ("optimizer.kind=\"sgd\"", "optimizer.kind", "amsgrad"),
        ("model.lmax=4", "model.lmax", "at most 3"),
        (
            "model.channels=65536",
            "model.channels",
            "weights, more than",
        ),
        ("data.validation=0", "data.validation", "positive"),
    ] {
        let err = Training::load(&d, &[set.to_string()])
            .err()
            .expect("must fail")
            .to_string();
        assert!(err.contains(key) && err.contains(message), "{set}: {err}");
    }
    let missing = Training::load(&d, &["data.file=\"nowhere.xyz\"".to_string()])
        .err()
        .expect("must fail")
        .to_string();
    assert!(missing.contains("nowhere.xyz"), "{missing}");
    // resuming without a checkpoint says so
    let err = Training::load(&d, &[])
        .unwrap()
        .run(true, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("model.ckpt"), "{err}");
}

#[test]
fn train_command_reports_validation_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(dir.path(), "");
    let out = eqmd(&[
        "train",
        d.to_str().unwrap(),
        "--quiet",
        "--set",
        "optimizer.epochs=1",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("validation") && text.contains("meV/Å"),
        "{text}"
    );
    let help = eqmd(&["train", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--resume") && help.contains("validation"),
        "{help}"
    );
}

#[test]
fn early_stopping_ends_a_run_that_stops_improving() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(dir.path(), "");
    // a learning rate far too large: the validation loss soon stops improving
    let o = run(
        &d,
        &[
            "optimizer.epochs=40",
            "optimizer.learning_rate=2.0",
            "optimizer.ema=0",
            "optimizer.early_stopping=3",
        ],
        false,
    );
    assert!(o.epochs < 40, "ran all {} epochs", o.epochs);
    assert_eq!(
        o.epochs,
        o.best_epoch + 3,
        "stopped {} epochs after the best",
        o.epochs - o.best_epoch
    );
    let rows = std::fs::read_to_string(dir.path().join("model.csv")).unwrap();
    assert_eq!(rows.lines().count(), o.epochs + 1);
}

#[test]
fn model_init_starts_from_a_trained_model_of_the_same_shape() {
    let first = tempfile::tempdir().unwrap();
    run(&deck(first.path(), ""), &["optimizer.epochs=8"], false);
    let trained = first.path().join("model.h5");
    let trained_val = |dir: &Path| -> Vec<f64> {
        std::fs::read_to_string(dir.join("model.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(6).unwrap().parse().unwrap())
            .collect()
    };
    let best = trained_val(first.path())
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    let second = tempfile::tempdir().unwrap();
    let d = deck(second.path(), "[schedule]\nmin = 1e-12\n");
    let init = format!("model.init=\"{}\"", trained.display());
    // a rate too small to move the weights: the first epoch validates the trained model
    let o = run(
        &d,
        &[
            &init,
            "optimizer.epochs=1",
            "optimizer.learning_rate=1e-12",
            "optimizer.ema=0",
        ],
        false,
    );
    assert_eq!(o.epochs, 1);
    let val = trained_val(second.path())[0];
    assert!(
        (val - best).abs() <= 1e-6 * best,
        "validation {val}, trained {best}"
    );
    // (the first epoch from random weights validated far from it)
    assert!(trained_val(first.path())[0] > best * (1.0 + 1e-3));
    // another shape is refused by key
    let mut t = Training::load(&d, &[init.clone(), "model.channels=5".into()]).unwrap();
    t.overwrite = true;
    let err = t.run(false, false).unwrap_err().to_string();
    assert!(
        err.contains("model.init") && err.contains("channels 4 (deck: 5)"),
        "{err}"
    );
    assert!(err.contains("model.widen = true widens"), "{err}");
    let mut t = Training::load(&d, &["model.init=\"missing.h5\"".into()]).unwrap();
    t.overwrite = true;
    let err = t.run(false, false).unwrap_err();
    assert!(format!("{err:#}").contains("missing.h5"), "{err:#}");

    // widened to more channels and a higher L, it validates as the trained model did
    let third = tempfile::tempdir().unwrap();
    let d = deck(third.path(), "[schedule]\nmin = 1e-12\n");
    let widened = [
        init.as_str(),
        "model.channels=7",
        "model.lmax=2",
        "model.widen=true",
        "optimizer.epochs=1",
        "optimizer.learning_rate=1e-12",
        "optimizer.ema=0",
    ];
    run(&d, &widened, false);
    let val = trained_val(third.path())[0];
    assert!(
        (val - best).abs() <= 1e-6 * best,
        "validation {val}, trained {best}"
    );
    let wide = file::load(&third.path().join("model.h5")).unwrap();
    assert_eq!((wide.hyper.channels, wide.hyper.lmax), (7, 2));
    // never narrowed, and widen needs a file to widen
    let narrowed = [
        init.clone(),
        "model.widen=true".into(),
        "model.channels=3".into(),
    ];
    let alone = ["model.widen=true".to_string()];
    for (sets, key, says) in [
        (&narrowed[..], "model.init", "channels 4 (deck: 3)"),
        (&alone[..], "model.widen", "set model.init"),
    ] {
        let err = match Training::load(&d, sets) {
            Ok(mut t) => {
                t.overwrite = true;
                t.run(false, false).unwrap_err().to_string()
            }
            Err(e) => e.to_string(),
        };
        assert!(err.contains(key) && err.contains(says), "{err}");
    }
}

#[test]
fn cosine_over_minutes_follows_the_training_time() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 0.01; // minutes
    let d = deck(
        dir.path(),
        "[schedule]\nkind = \"cosine\"\nover = \"minutes\"\nmin = 1e-4\n",
    );
    let o = run(
        &d,
        &[
            "optimizer.epochs=1000000",
            &format!("optimizer.max_minutes={limit}"),
        ],
        false,
    );
    assert!(o.seconds >= 60.0 * limit, "stopped after {} s", o.seconds);
    let rows: Vec<(f64, f64)> = std::fs::read_to_string(dir.path().join("model.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').take(3).map(|x| x.parse().unwrap()).collect();
            (f[1], f[2])
        })
        .collect();
    assert!(rows.len() > 2, "{} epochs", rows.len());
    let (initial, min, span) = (0.01, 1e-4, 60.0 * limit);
    assert_eq!(rows[0].0, initial);
    for w in rows.windows(2) {
        let ((_, t), (lr, _)) = (w[0], w[1]);
        let x = (t / span).min(1.0);
        let want = min + 0.5 * (initial - min) * (1.0 + (std::f64::consts::PI * x).cos());
        // the CSV's seconds are rounded to 0.01 s
        assert!(
            (lr - want).abs() < 0.03 * initial,
            "at {t} s: {lr}, want {want}"
        );
    }
    assert!(
        rows.last().unwrap().0 < 0.5 * initial,
        "the clock did not drive the rate: {:?}",
        rows.last()
    );
    for (set, message) in [
        ("schedule.kind=\"plateau\"", "needs kind = \"cosine\""),
        ("optimizer.max_minutes=0", "optimizer.max_minutes"),
    ] {
        let err = Training::load(&d, &[set.to_string()])
            .err()
            .expect("must fail")
            .to_string();
        assert!(
            err.contains("schedule.over") && err.contains(message),
            "{set}: {err}"
        );
    }
}

#[test]
fn training_never_replaces_a_model_or_an_input_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let d = deck(dir.path(), "");
    run(&d, &["optimizer.epochs=1"], false);
    let model = dir.path().join("model.h5");
    let before = std::fs::read(&model).unwrap();
    let err = Training::load(&d, &["optimizer.seed=9".into()])
        .unwrap()
        .run(false, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("output.model") && err.contains("exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&model).unwrap(), before, "the model changed");
    // the command line says the same, and --force replaces it
    let out = eqmd(&[
        "train",
        d.to_str().unwrap(),
        "-q",
        "--set",
        "optimizer.epochs=1",
        "--set",
        "optimizer.seed=9",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = eqmd(&[
        "train",
        d.to_str().unwrap(),
        "-q",
        "--force",
        "--set",
        "optimizer.epochs=1",
        "--set",
        "optimizer.seed=9",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        std::fs::read(&model).unwrap(),
        before,
        "--force did not train"
    );
    // resuming its own run continues it
    run(&d, &["optimizer.epochs=2", "optimizer.seed=9"], true);
    // outputs onto inputs, onto each other, onto devices
    let data = data();
    let deck_path = d.display().to_string();
    for (set, key, message) in [
        (
            format!("output.model=\"{data}\""),
            "output.model",
            "data.file",
        ),
        (
            format!("output.metrics=\"{deck_path}\""),
            "output.metrics",
            "the deck",
        ),
        (
            "output.checkpoint=\"model.h5\"".to_string(),
            "output.checkpoint",
            "output.model",
        ),
        (
            "output.metrics=\"/dev/null\"".to_string(),
            "output.metrics",
            "special file",
        ),
    ] {
        let mut t = Training::load(&d, std::slice::from_ref(&set)).unwrap();
        t.overwrite = true;
        let err = t.run(false, false).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(message), "{set}: {err}");
    }
    assert!(std::fs::read_to_string(&data).unwrap().len() > 1000);
}

/// SIGINT and SIGTERM stop `eqmd train` between two batches with the last whole epoch
/// written, although its checkpoint was not yet due (the default: at most one per 10 s), and
/// `--resume` from it ends where a run never interrupted does.
#[test]
fn a_signal_stops_training_after_writing_the_last_epoch_and_resume_continues_exactly() {
    for signal in ["-INT", "-TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let d = deck(dir.path(), "");
        let child = eqmd_command()
            .args(["train", d.to_str().unwrap(), "-q"])
            .args(["--set", "optimizer.epochs=1000000"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let csv = dir.path().join("model.csv");
        let out = signal_once_written(child, &csv, 3, signal);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{signal}: {err}");
        assert!(
            err.contains("interrupted in epoch") && err.contains("--resume"),
            "{signal}: {err}"
        );
        // the checkpoint holds the last epoch the metrics record, and a best model exists
        let (state, _) = TrainState::load(&dir.path().join("model.ckpt")).unwrap();
        let rows = csv_without_times(&csv);
        assert_eq!(rows.len(), state.epoch + 1, "{signal}: {rows:?}");
        assert!(
            err.contains(&format!("holds epoch {}", state.epoch)),
            "{err}"
        );
        file::load(&dir.path().join("model.h5")).unwrap();
        let epochs = format!("optimizer.epochs={}", state.epoch + 2);
        assert_eq!(run(&d, &[&epochs], true).epochs, state.epoch + 2);
        let whole = tempfile::tempdir().unwrap();
        run(&deck(whole.path(), ""), &[&epochs], false);
        let what = format!("{signal} after epoch {}", state.epoch);
        assert_same_outputs(whole.path(), dir.path(), &what);
    }
}
