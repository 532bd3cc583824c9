//! Trajectories written by runs: H5MD and extended XYZ side by side, continued by a
//! restart without repeated frames, readable after SIGKILL (also one killed in the middle
//! of HDF5's flush, which restarts), and usable as the starting structure of the next run.

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

/// A run killed while it wrote a frame of its extended-XYZ trajectory leaves that frame
/// cut anywhere: in its count line, its comment, an atom's line, or before its last
/// newline. A restart from the checkpoint drops the cut frame and continues the file as an
/// uninterrupted run writes it, byte for byte; a file damaged before its last frame is
/// still refused.
#[test]
fn an_extxyz_frame_cut_off_by_a_kill_is_dropped_on_restart() {
    let run = |d: &Path, steps: &str, extra: &[&str]| {
        let steps = format!("integrator.steps={steps}");
        let d = d.to_str().unwrap();
        let deck = deck();
        let mut args = vec!["run", &deck, "-q", "--output-dir", d, "--set", &steps];
        args.extend(extra);
        eqmd(&args)
    };
    let whole = tempfile::tempdir().unwrap();
    assert!(run(whole.path(), "100", &[]).status.success());
    let whole_xyz = std::fs::read(whole.path().join("lj.xyz")).unwrap();
    // byte offset of line k (0-based); every frame is 108 atoms' lines and two more
    let line = |k: usize| {
        let ends = whole_xyz.iter().enumerate().filter(|(_, &b)| b == b'\n');
        ends.map(|(i, _)| i + 1).nth(k - 1).unwrap()
    };
    let lines_per_frame = 110;
    let at70 = line(7 * lines_per_frame);
    let end70 = line(8 * lines_per_frame);
    let cuts = [
        ("in the count line", at70 + 1),
        ("in the comment", line(7 * lines_per_frame + 1) + 20),
        ("in an atom's line", line(7 * lines_per_frame + 50) + 10),
        ("after a whole atom's line", line(7 * lines_per_frame + 50)),
        ("after an atom's species", line(8 * lines_per_frame - 1) + 2),
        ("before the last newline", end70 - 1),
    ];
    for (what, cut) in cuts {
        let dir = tempfile::tempdir().unwrap();
        assert!(run(dir.path(), "60", &[]).status.success());
        let xyz = dir.path().join("lj.xyz");
        let mut bytes = std::fs::read(&xyz).unwrap();
        assert_eq!(bytes[..], whole_xyz[..at70], "the frames 0..60");
        bytes.extend_from_slice(&whole_xyz[at70..cut]);
        std::fs::write(&xyz, &bytes).unwrap();
        let ckpt = dir.path().join("lj_h5md.checkpoint");
        let out = run(dir.path(), "100", &["--restart", ckpt.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::read(&xyz).unwrap() == whole_xyz, "{what}");
    }
    // damage before the last frame is not a kill's: refused, the file kept as it was (the
    // count line of the frame at step 10 made unreadable, or larger than the lines left)
    for damage in [b'x', b'9'] {
        let dir = tempfile::tempdir().unwrap();
        assert!(run(dir.path(), "60", &[]).status.success());
        let xyz = dir.path().join("lj.xyz");
        let mut bytes = std::fs::read(&xyz).unwrap();
        bytes[line(lines_per_frame)] = damage;
        std::fs::write(&xyz, &bytes).unwrap();
        let ckpt = dir.path().join("lj_h5md.checkpoint");
        let out = run(dir.path(), "100", &["--restart", ckpt.to_str().unwrap()]);
        assert!(!out.status.success(), "{}", damage as char);
        assert!(std::fs::read(&xyz).unwrap() == bytes);
    }
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

/// The first `frames` frames of `element` in an H5MD file (all when None), flattened.
fn values(path: &Path, element: &str, frames: Option<usize>) -> Vec<f64> {
    let file = hdf5::File::open(path).unwrap();
    let d = file
        .dataset(&format!("particles/all/{element}/value"))
        .unwrap();
    let frames = frames.unwrap_or(d.shape()[0]);
    (0..frames)
        .flat_map(|k| {
            let sel = hdf5::Hyperslab::from(vec![k.into(), (..).into(), (..).into()]);
            d.read_slice_2d::<f64, _>(sel).unwrap().into_iter()
        })
        .collect()
}

/// Restarts the killed run of `tests/fixtures/killed_run` in `dir` (holding its deck,
/// checkpoint and whatever files the test put there) to step 200.
fn restart_killed_run(dir: &Path) {
    let deck = dir.join("killed.toml");
    let ckpt = dir.join("killed.checkpoint");
    let args = [
        deck.to_str().unwrap(),
        "-q",
        "--restart",
        ckpt.to_str().unwrap(),
    ];
    let out = eqmd(&[&["run"], &args[..], &["--set", "integrator.steps=200"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A run killed with SIGKILL while HDF5 flushed its trajectory (a real one, kept in
/// `tests/fixtures/killed_run`): the extent of every dataset says ten frames, but the last
/// frame's position chunk was never written and its force chunk lies past the end the
/// file records, so HDF5 refuses to read it. The reader counts the nine whole frames; a
/// restart from the run's checkpoint (step 80) keeps them byte for byte and continues
/// with the frames a restart into an empty folder writes; a run of other atoms is refused
/// with the file unchanged.
#[test]
fn a_run_killed_during_a_flush_leaves_a_trajectory_that_reads_and_restarts() {
    let fixture = common::fixture("killed_run");
    let torn = fixture.join("lj.h5");
    let file = hdf5::File::open(&torn).unwrap();
    let force = file.dataset("particles/all/force/value").unwrap();
    assert_eq!(
        force.shape()[0],
        10,
        "the fixture's last frame is the torn one"
    );
    let frame9 = vec![9.into(), (..).into(), (..).into()];
    let frame9 = hdf5::Hyperslab::from(frame9);
    assert!(force.read_slice_2d::<f64, _>(frame9).is_err());
    drop((force, file));
    assert_eq!(h5md::frame_count(&torn).unwrap(), 9);
    let last = h5md::read_last_frame(&torn).unwrap();
    assert_eq!(last.step, 80);
    assert!(last.positions.iter().all(|r| r.is_finite()));

    let dir = tempfile::tempdir().unwrap();
    let (killed, fresh) = (dir.path().join("killed"), dir.path().join("fresh"));
    for d in [&killed, &fresh] {
        std::fs::create_dir(d).unwrap();
        for name in ["killed.toml", "killed.checkpoint"] {
            std::fs::copy(fixture.join(name), d.join(name)).unwrap();
        }
    }
    for name in ["killed.thermo.csv", "lj.h5"] {
        std::fs::copy(fixture.join(name), killed.join(name)).unwrap();
    }
    let h5 = killed.join("lj.h5");
    let other = common::random_system(eqmd::cell::Cell::vacuum(), 5, 1, 1.0, 4.0, 1);
    assert!(h5md::H5mdWriter::append(&h5, &other, 80).is_err());
    assert!(std::fs::read(&h5).unwrap() == std::fs::read(&torn).unwrap());

    restart_killed_run(&killed);
    restart_killed_run(&fresh);
    assert_eq!(h5md::frame_count(&h5).unwrap(), 21);
    let steps: Vec<i64> = hdf5::File::open(&h5)
        .unwrap()
        .dataset("particles/all/position/step")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(steps, (0..=200).step_by(10).collect::<Vec<i64>>());
    for element in ["position", "velocity", "force"] {
        let kept = values(&torn, element, Some(9));
        let after = values(&fresh.join("lj.h5"), element, None);
        let whole = values(&h5, element, None);
        let cut = kept.len();
        assert!(whole[..cut] == kept[..], "{element}: frames 0..80 kept");
        assert!(whole[cut..] == after[..], "{element}: frames 90..200");
    }
}

/// A frame whose datasets were grown but whose data was never written (a run killed
/// between the two) is not counted, and reads as NaN (step −1) in other tools, not as
/// zeros.
#[test]
fn a_frame_grown_but_never_written_is_not_counted_and_reads_as_nan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = eqmd(&["run", &deck(), "-q", "--output-dir", d]);
    assert!(out.status.success());
    let h5 = dir.path().join("lj.h5");
    let n = h5md::frame_count(&h5).unwrap();
    let file = hdf5::File::open_rw(&h5).unwrap();
    for element in ["position", "velocity", "force", "box/edges"] {
        let g = file.group(&format!("particles/all/{element}")).unwrap();
        let value = g.dataset("value").unwrap();
        let mut shape = value.shape();
        shape[0] += 1;
        value.resize(shape).unwrap();
        for name in ["step", "time"] {
            g.dataset(name).unwrap().resize(n + 1).unwrap();
        }
    }
    drop(file);
    assert_eq!(h5md::frame_count(&h5).unwrap(), n);
    let last = h5md::read_last_frame(&h5).unwrap();
    assert_eq!(last.step, 10 * (n as u64 - 1));
    let positions = values(&h5, "position", None);
    let grown = &positions[positions.len() - 3..];
    assert!(grown.iter().all(|x| x.is_nan()), "{grown:?}");
    let file = hdf5::File::open(&h5).unwrap();
    let steps: Vec<i64> = (file.dataset("particles/all/position/step").unwrap())
        .read_raw()
        .unwrap();
    assert_eq!(steps[n], -1);
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
