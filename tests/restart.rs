//! Checkpoints and restart: 2N steps in one run equal N steps, a checkpoint, and N more
//! after `--restart`, bit for bit, for NVE and both thermostats; SIGINT and SIGTERM leave
//! flushed files and a checkpoint that restarts; a blow-up stops cleanly.

mod common;

use common::{eqmd, eqmd_command, signal_once_written};
use eqmd::io::checkpoint;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn deck(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn checkpoint_of(dir: &Path, stem: &str) -> PathBuf {
    dir.join(format!("{stem}.checkpoint"))
}

/// One run of 2n steps against n steps plus a restart for n more.
fn check_restart(rel: &str, thermostat: &[&str], n: u64) {
    let stem = Path::new(rel)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let deck = deck(rel);
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let go = |dir: &Path, steps: u64, extra: &[&str]| {
        let steps = format!("integrator.steps={steps}");
        let mut args = vec!["run", &deck, "-q", "--set", &steps, "--output-dir"];
        args.push(dir.to_str().unwrap());
        for t in thermostat {
            args.extend(["--set", t]);
        }
        args.extend(extra);
        let out = eqmd(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    go(one.path(), 2 * n, &[]);
    go(two.path(), n, &[]);
    let ckpt = checkpoint_of(two.path(), &stem);
    assert_eq!(checkpoint::read(&ckpt).unwrap().step, n);
    let ckpt = ckpt.to_string_lossy().into_owned();
    go(two.path(), 2 * n, &["--restart", &ckpt]);
    let a = checkpoint::read(&checkpoint_of(one.path(), &stem)).unwrap();
    let b = checkpoint::read(&checkpoint_of(two.path(), &stem)).unwrap();
    assert_eq!(a.step, 2 * n);
    assert_eq!(
        a.positions, b.positions,
        "{rel} {thermostat:?}: positions differ"
    );
    assert_eq!(
        a.velocities, b.velocities,
        "{rel} {thermostat:?}: velocities differ"
    );
    assert_eq!(a, b, "{rel} {thermostat:?}: states differ");
    // the restarted thermo log continues the first one: same rows as the single run
    let rows = |d: &Path| std::fs::read_to_string(d.join(format!("{stem}.thermo.csv"))).unwrap();
    assert_eq!(rows(one.path()), rows(two.path()));
}

#[test]
fn restart_is_bit_identical_for_nve() {
    check_restart("inputs/argon_nve.toml", &["thermo.every=50"], 150);
}

#[test]
fn restart_is_bit_identical_for_langevin() {
    check_restart(
        "tests/decks/good/lj_small.toml",
        &["thermo.every=10", "thermostat.type=langevin"],
        200,
    );
}

#[test]
fn restart_is_bit_identical_for_nose_hoover() {
    check_restart("inputs/argon_nvt.toml", &["thermo.every=50"], 150);
}

#[test]
fn a_checkpoint_for_another_system_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = eqmd(&[
        "run",
        &deck("tests/decks/good/lj_small.toml"),
        "-q",
        "--output-dir",
        d,
    ]);
    assert!(out.status.success());
    let ckpt = checkpoint_of(dir.path(), "lj_small");
    let out = eqmd(&[
        "run",
        &deck("inputs/argon_nve.toml"),
        "-q",
        "--output-dir",
        d,
        "--restart",
        ckpt.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains("cannot restart from") && err.contains("units"),
        "{err}"
    );
    // the same deck with other masses, another cell or another integrator
    for (sets, message) in [
        (
            &["system.masses.A=2.0"][..],
            "masses [1] differ from the deck's [2]",
        ),
        (&["system.lattice.density=0.8"][..], "cell"),
        (
            &["thermostat.type=\"nose-hoover\"", "thermostat.chain=3"][..],
            "thermostat.type = langevin in the checkpoint, nose-hoover in the deck",
        ),
        // what the dynamics depend on besides the system, named by key
        (
            &["integrator.timestep=0.004"][..],
            "integrator.timestep = 0.005 in the checkpoint, 0.004 in the deck",
        ),
        (
            &["thermostat.damping=0.25", "thermostat.seed=7"][..],
            "thermostat.damping = 0.5 in the checkpoint, 0.25 in the deck; thermostat.seed",
        ),
        (
            &["neighbors.skin=0.4"][..],
            "neighbors.skin = 0.3 in the checkpoint, 0.4 in the deck",
        ),
        // another potential, whatever changed in it
        (
            &["potential.pairs=[{species=[\"A\",\"A\"],epsilon=1.01,sigma=1.0}]"][..],
            "the deck's potential (",
        ),
        (
            &["potential.shift=false"][..],
            "at the checkpoint's positions",
        ),
        // a checkpoint already at or past the run's end
        (
            &["integrator.steps=100"][..],
            "integrator.steps`: is 100: cannot restart from",
        ),
        (&["integrator.steps=50"][..], "nothing to run"),
    ] {
        let lj = deck("tests/decks/good/lj_small.toml");
        let mut args = vec![
            "run",
            &lj,
            "-q",
            "--output-dir",
            d,
            "--restart",
            ckpt.to_str().unwrap(),
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        let out = eqmd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sets:?}: {err}");
        assert!(
            err.contains("cannot restart from") && err.contains(message),
            "{sets:?}: {err}"
        );
    }
}

/// Outputs of the interrupted and the uninterrupted runs: thermo every 10 steps, extended
/// XYZ and H5MD every 7, so that an interruption usually falls off their cadence.
const OUTPUTS: [&str; 6] = [
    "--set",
    "thermo.every=10",
    "--set",
    "trajectory={ file = \"lj_small.xyz\", every = 7 }",
    "--set",
    "h5md={ file = \"lj_small.h5\", every = 7 }",
];

/// Runs lj_small into `dir` with the outputs above and `extra` arguments.
fn run_lj_small(dir: &str, extra: &[&str]) -> std::process::Output {
    let deck = deck("tests/decks/good/lj_small.toml");
    let mut args = vec!["run", &deck, "-q", "--output-dir", dir];
    args.extend(OUTPUTS);
    args.extend(extra);
    eqmd(&args)
}

/// Sends `signal` to a long run once it has written a few thermo rows, restarts it from
/// the checkpoint it leaves, and compares every file with an uninterrupted run's, byte
/// for byte.
fn interrupt(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let child = eqmd_command()
        .args([
            "run",
            &deck("tests/decks/good/lj_small.toml"),
            "-q",
            "--set",
            "integrator.steps=100000000",
            "--output-dir",
            &d,
        ])
        .args(OUTPUTS)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let thermo = dir.path().join("lj_small.thermo.csv");
    let out = signal_once_written(child, &thermo, 5, signal);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{signal}: {err}");
    assert!(
        err.contains("interrupted at step") && err.contains("--restart"),
        "{err}"
    );
    let ckpt = checkpoint_of(dir.path(), "lj_small");
    let c = checkpoint::read(&ckpt).unwrap();
    // every thermo row is complete and the last one is not past the checkpoint
    let rows = eqmd::io::thermo::read_csv(&thermo).unwrap();
    assert!(rows.last().unwrap().step <= c.step);
    // the checkpoint restarts...
    let target = format!("integrator.steps={}", c.step + 25);
    let restart = ["--set", &target, "--restart", ckpt.to_str().unwrap()];
    let out = run_lj_small(&d, &restart);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(checkpoint::read(&ckpt).unwrap().step, c.step + 25);
    // ...and leaves the files of a run that was never interrupted
    let whole = tempfile::tempdir().unwrap();
    let out = run_lj_small(whole.path().to_str().unwrap(), &["--set", &target]);
    assert!(out.status.success());
    for file in ["lj_small.thermo.csv", "lj_small.xyz", "lj_small.h5"] {
        let a = std::fs::read(dir.path().join(file)).unwrap();
        let b = std::fs::read(whole.path().join(file)).unwrap();
        assert!(
            a == b,
            "{signal} at step {}: {file} differs from the uninterrupted run's",
            c.step
        );
    }
}

/// A restart refuses to continue an extended-XYZ trajectory written by another run (other
/// atoms), and leaves that file as it was.
#[test]
fn a_restart_refuses_a_foreign_extxyz_trajectory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run_lj_small(d, &["--set", "integrator.steps=20"]);
    assert!(out.status.success());
    let ckpt = checkpoint_of(dir.path(), "lj_small");
    // another run's trajectory (argon, 864 atoms) where this run's should be
    let other = tempfile::tempdir().unwrap();
    let out = eqmd(&[
        "run",
        &deck("inputs/argon_nve.toml"),
        "-q",
        "--set",
        "integrator.steps=0",
        "--set",
        "trajectory={ file = \"argon.xyz\", every = 1 }",
        "--output-dir",
        other.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let foreign = std::fs::read(other.path().join("argon.xyz")).unwrap();
    let ours = dir.path().join("lj_small.xyz");
    std::fs::write(&ours, &foreign).unwrap();
    let out = run_lj_small(
        d,
        &[
            "--set",
            "integrator.steps=40",
            "--restart",
            ckpt.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("trajectory.file") && err.contains("not this run's 256"),
        "{err}"
    );
    assert_eq!(std::fs::read(&ours).unwrap(), foreign);
}

/// A thermo log cut in the middle of its last row (a kill while it was written) loses that
/// row on restart: the restarted log equals an uninterrupted run's, byte for byte.
#[test]
fn a_thermo_row_cut_short_is_dropped_on_restart() {
    let whole = tempfile::tempdir().unwrap();
    let out = run_lj_small(
        whole.path().to_str().unwrap(),
        &["--set", "integrator.steps=40"],
    );
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run_lj_small(d, &["--set", "integrator.steps=20"]);
    assert!(out.status.success());
    let ckpt = checkpoint_of(dir.path(), "lj_small");
    let at_20 = std::fs::read(&ckpt).unwrap();
    let log = dir.path().join("lj_small.thermo.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    // the row of step 20 cut inside its last number: no newline, and one cut a cell short
    for cut in [text.len() - 3, text.rfind(',').unwrap()] {
        std::fs::write(&ckpt, &at_20).unwrap();
        std::fs::write(&log, &text[..cut]).unwrap();
        let args = [
            "--set",
            "integrator.steps=40",
            "--restart",
            ckpt.to_str().unwrap(),
        ];
        let out = run_lj_small(d, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            std::fs::read_to_string(whole.path().join("lj_small.thermo.csv")).unwrap(),
            "cut at {cut}"
        );
    }
}

#[test]
fn sigint_leaves_a_checkpoint_that_restarts() {
    interrupt("-INT");
}

#[test]
fn sigterm_leaves_a_checkpoint_that_restarts() {
    interrupt("-TERM");
}

#[test]
fn a_blow_up_stops_cleanly_and_keeps_the_last_good_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = eqmd(&[
        "run",
        &deck("tests/decks/failure/blow_up.toml"),
        "-q",
        "--output-dir",
        d,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("blew up")
            && err.contains("worst atom")
            && err.contains("step ")
            && err.contains("blow_up.toml"),
        "{err}"
    );
    let frames = eqmd::io::extxyz::read_file(&dir.path().join("blow_up.xyz")).unwrap();
    let last = frames.last().unwrap();
    assert!(last.positions.iter().all(|r| r.is_finite()));
    assert!(last.forces().unwrap().iter().all(|f| f.length() <= 5000.0));
    let c = checkpoint::read(&dir.path().join("blow_up.checkpoint")).unwrap();
    assert_eq!(c.positions, last.positions);
}
