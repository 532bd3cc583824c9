//! Integration tests for the H5MD trajectory writer and reader (`eqmd::io::h5md`).

mod common;

use common::h5md::{frame, system, thermo, write, ALL};
use eqmd::cell::Cell;
use eqmd::io::h5md::{frame_count, read_last_frame, H5mdFields, H5mdWriter};
use eqmd::units::Units;
use glam::{DMat3, DVec3};
use hdf5::types::{FixedAscii, FixedUnicode, VarLenAscii};
use std::path::Path;
use std::process::{Command, Stdio};

fn bits(v: &[DVec3]) -> Vec<[u64; 3]> {
    v.iter().map(|r| r.to_array().map(f64::to_bits)).collect()
}

/// Frame `k` of `group/value` [n, N, 3] as vectors.
fn read_rows(file: &hdf5::File, group: &str, k: usize) -> Vec<DVec3> {
    let d = file.dataset(&format!("{group}/value")).unwrap();
    let raw = d.read_raw::<f64>().unwrap();
    let n = d.shape()[1];
    raw[k * n * 3..(k + 1) * n * 3]
        .chunks_exact(3)
        .map(DVec3::from_slice)
        .collect()
}

fn unit_of(file: &hdf5::File, dataset: &str) -> Option<String> {
    let d = file.dataset(dataset).unwrap();
    let a = d.attr("unit").ok()?;
    Some(a.read_scalar::<VarLenAscii>().unwrap().to_string())
}

#[test]
fn five_frames_read_back_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traj.h5");
    let written = write(&path, Units::Metal, 5);
    assert_eq!(frame_count(&path).unwrap(), 5);

    let last = read_last_frame(&path).unwrap();
    let (s, _, t) = &written[4];
    assert_eq!(last.step, t.step);
    assert_eq!(last.time.to_bits(), t.time.to_bits());
    assert_eq!(bits(&last.positions), bits(&s.positions));
    assert_eq!(bits(last.velocities.as_ref().unwrap()), bits(&s.velocities));
    assert_eq!(last.cell, s.cell.matrix());
    assert_eq!(last.pbc, [true, true, false]);
    assert_eq!(last.species_names, ["Ar", "Kr"]);
    assert_eq!(last.species, s.species);

    // Every frame, every field, through the HDF5 library directly.
    let file = hdf5::File::open(&path).unwrap();
    let steps = file
        .dataset("particles/all/position/step")
        .unwrap()
        .read_raw::<i64>()
        .unwrap();
    let times = file
        .dataset("particles/all/force/time")
        .unwrap()
        .read_raw::<f64>()
        .unwrap();
    for (k, (s, f, t)) in written.iter().enumerate() {
        assert_eq!(steps[k], t.step as i64);
        assert_eq!(times[k].to_bits(), t.time.to_bits());
        assert_eq!(
            bits(&read_rows(&file, "particles/all/position", k)),
            bits(&s.positions)
        );
        assert_eq!(
            bits(&read_rows(&file, "particles/all/velocity", k)),
            bits(&s.velocities)
        );
        // forces in kJ mol-1 Angstrom-1
        let c = eqmd::io::h5md::force_factor(Units::Metal);
        let scaled: Vec<DVec3> = f.iter().map(|x| *x * c).collect();
        assert_eq!(
            bits(&read_rows(&file, "particles/all/force", k)),
            bits(&scaled)
        );
    }
    let pe = file.dataset("observables/pe/value").unwrap();
    let pe = pe.read_raw::<f64>().unwrap();
    let expected: Vec<f64> = written.iter().map(|w| w.2.pe).collect();
    assert_eq!(pe, expected);
}

#[test]
fn layout_shapes_and_units() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traj.h5");
    write(&path, Units::Metal, 3);
    let file = hdf5::File::open(&path).unwrap();
    let shape = |d: &str| file.dataset(d).unwrap().shape();

    let version = file.group("h5md").unwrap().attr("version").unwrap();
    assert_eq!(version.read_raw::<i32>().unwrap(), [1, 1]);
    let creator = file.group("h5md/creator").unwrap();
    let name = creator.attr("name").unwrap();
    assert_eq!(
        name.read_scalar::<FixedUnicode<64>>().unwrap().as_str(),
        "eqmd"
    );
    assert!(file.group("h5md/author").unwrap().attr("name").is_ok());

    for el in ["position", "velocity", "force"] {
        let g = format!("particles/all/{el}");
        assert_eq!(shape(&format!("{g}/value")), [3, 5, 3], "{el}");
        assert_eq!(shape(&format!("{g}/step")), [3]);
        assert_eq!(shape(&format!("{g}/time")), [3]);
        let value = file.dataset(&format!("{g}/value")).unwrap();
        assert_eq!(value.chunk(), Some(vec![1, 5, 3]), "one frame per chunk");
        assert_eq!(unit_of(&file, &format!("{g}/time")).as_deref(), Some("ps"));
    }
    let u = |d: &str| unit_of(&file, d);
    assert_eq!(
        u("particles/all/position/value").as_deref(),
        Some("Angstrom")
    );
    assert_eq!(
        u("particles/all/velocity/value").as_deref(),
        Some("Angstrom ps-1")
    );
    assert_eq!(
        u("particles/all/force/value").as_deref(),
        Some("kJ mol-1 Angstrom-1")
    );
    assert_eq!(
        u("particles/all/box/edges/value").as_deref(),
        Some("Angstrom")
    );
    for (obs, unit) in [
        ("pe", "eV"),
        ("ke", "eV"),
        ("etotal", "eV"),
        ("temp", "K"),
        ("press", "bar"),
    ] {
        assert_eq!(shape(&format!("observables/{obs}/value")), [3]);
        assert_eq!(shape(&format!("observables/{obs}/step")), [3]);
        assert_eq!(
            u(&format!("observables/{obs}/value")).as_deref(),
            Some(unit)
        );
        assert_eq!(u(&format!("observables/{obs}/time")).as_deref(), Some("ps"));
    }

    let cell_box = file.group("particles/all/box").unwrap();
    let dimension = cell_box.attr("dimension").unwrap();
    assert!(dimension.is_scalar());
    assert_eq!(dimension.read_scalar::<i32>().unwrap(), 3);
    let boundary = cell_box
        .attr("boundary")
        .unwrap()
        .read_raw::<FixedAscii<8>>()
        .unwrap();
    let boundary: Vec<&str> = boundary.iter().map(|s| s.as_str()).collect();
    assert_eq!(boundary, ["periodic", "periodic", "none"]);
    assert_eq!(shape("particles/all/box/edges/value"), [3, 3, 3]);
    let edges = file
        .dataset("particles/all/box/edges/value")
        .unwrap()
        .read_raw::<f64>()
        .unwrap();
    assert_eq!(&edges[3..6], &[1.3, 9.7, 0.0], "row 1 is the box vector b");
    // H5MD: the box's step and time are hard links to position's.
    let pos_step = file.dataset("particles/all/position/step").unwrap();
    let box_step = file.dataset("particles/all/box/edges/step").unwrap();
    assert_eq!(
        pos_step.loc_info().unwrap().token,
        box_step.loc_info().unwrap().token
    );

    let species = file.dataset("particles/all/species").unwrap();
    assert_eq!(species.shape(), [5]);
    assert_eq!(species.read_raw::<i32>().unwrap(), [0, 1, 0, 1, 0]);
    assert!(species.attr("names").is_ok());

    // Reduced units carry no unit attribute at all.
    let lj = dir.path().join("lj.h5");
    write(&lj, Units::Lj, 1);
    let file = hdf5::File::open(&lj).unwrap();
    for d in [
        "particles/all/position/value",
        "particles/all/position/time",
        "observables/temp/value",
    ] {
        assert_eq!(unit_of(&file, d), None, "{d}");
    }
}

#[test]
fn frame_count_after_a_partial_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traj.h5");
    let written = write(&path, Units::Metal, 3);
    // A fourth frame cut off mid-write: some datasets grew, position/step did not.
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        for d in [
            "particles/all/force/value",
            "particles/all/force/step",
            "observables/pe/value",
        ] {
            let ds = file.dataset(d).unwrap();
            let mut shape = ds.shape();
            shape[0] = 4;
            ds.resize(shape).unwrap();
        }
        let v = file.dataset("particles/all/position/value").unwrap();
        v.resize((4, 5, 3)).unwrap();
    }
    assert_eq!(frame_count(&path).unwrap(), 3);
    let last = read_last_frame(&path).unwrap();
    assert_eq!(last.step, written[2].2.step);
    assert_eq!(bits(&last.positions), bits(&written[2].0.positions));

    // A file with no frame yet counts zero and has no last frame.
    let empty = dir.path().join("empty.h5");
    H5mdWriter::create(&empty, &system(Units::Metal), ALL).unwrap();
    assert_eq!(frame_count(&empty).unwrap(), 0);
    let e = read_last_frame(&empty).unwrap_err().to_string();
    assert!(
        e.contains("empty.h5") && e.contains("no complete frame"),
        "{e}"
    );
}

#[test]
fn readable_while_the_writer_is_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.h5");
    let mut s = system(Units::Metal);
    let mut w = H5mdWriter::create(&path, &s, ALL).unwrap();
    for k in 0..3 {
        let f = frame(&mut s, k);
        let t = thermo(k);
        w.write(t.step, t.time, &s, &f, &t).unwrap();
    }
    std::mem::forget(w); // a killed run never closes its file
    assert_eq!(frame_count(&path).unwrap(), 3);
    let last = read_last_frame(&path).unwrap();
    assert_eq!(last.step, 20);
    assert_eq!(bits(&last.positions), bits(&s.positions));
}

/// Set in the child process of `survives_sigkill`.
const CHILD_ENV: &str = "EQMD_H5MD_KILL_CHILD";

/// Does nothing in a normal run; in `survives_sigkill`'s child, writes 3 frames and waits to be killed.
#[test]
fn sigkill_child_helper() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut s = system(Units::Metal);
    let mut w = H5mdWriter::create(Path::new(&path), &s, ALL).unwrap();
    for k in 0..3 {
        let f = frame(&mut s, k);
        let t = thermo(k);
        w.write(t.step, t.time, &s, &f, &t).unwrap();
    }
    println!("WRITTEN");
    std::thread::sleep(std::time::Duration::from_secs(600));
}

#[test]
fn survives_sigkill() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.h5");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "sigkill_child_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let ready = stdout
        .lines()
        .any(|l| l.map(|l| l.contains("WRITTEN")).unwrap_or(false));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(ready, "the child did not write its frames");
    assert_eq!(frame_count(&path).unwrap(), 3);
    let mut s = system(Units::Metal);
    for k in 0..3 {
        frame(&mut s, k);
    }
    let last = read_last_frame(&path).unwrap();
    assert_eq!(last.step, 20);
    assert_eq!(bits(&last.positions), bits(&s.positions));
    assert_eq!(bits(last.velocities.as_ref().unwrap()), bits(&s.velocities));
}

#[test]
fn vacuum_cell_and_fields_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vacuum.h5");
    let mut s = system(Units::Metal);
    s.cell = Cell::vacuum();
    let only_positions = H5mdFields {
        position: true,
        velocity: false,
        force: false,
        dipole: false,
    };
    let mut w = H5mdWriter::create(&path, &s, only_positions).unwrap();
    let t = thermo(1);
    w.write(t.step, t.time, &s, &[], &t).unwrap();
    drop(w);
    let last = read_last_frame(&path).unwrap();
    assert_eq!(last.cell, DMat3::ZERO);
    assert_eq!(last.pbc, [false; 3]);
    assert_eq!(last.velocities, None);
    let file = hdf5::File::open(&path).unwrap();
    assert!(file.group("particles/all/velocity").is_err());
    assert!(file.group("particles/all/force").is_err());
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.h5");
    for e in [
        read_last_frame(&missing).unwrap_err().to_string(),
        frame_count(&missing).unwrap_err().to_string(),
    ] {
        assert!(e.contains("missing.h5"), "{e}");
    }

    let text = dir.path().join("notes.h5");
    std::fs::write(&text, "not HDF5 at all\n").unwrap();
    let e = read_last_frame(&text).unwrap_err().to_string();
    assert!(e.contains("notes.h5"), "{e}");

    let plain = dir.path().join("plain.h5");
    hdf5::File::create(&plain)
        .unwrap()
        .create_group("data")
        .unwrap();
    for e in [
        read_last_frame(&plain).unwrap_err().to_string(),
        frame_count(&plain).unwrap_err().to_string(),
    ] {
        assert!(
            e.contains("plain.h5") && e.contains("not a usable H5MD"),
            "{e}"
        );
    }

    let path = dir.path().join("traj.h5");
    let mut s = system(Units::Metal);
    let mut w = H5mdWriter::create(&path, &s, ALL).unwrap();
    let t = thermo(0);
    let e = w.write(0, 0.0, &s, &[], &t).unwrap_err().to_string();
    assert!(e.contains("traj.h5") && e.contains("5 atoms"), "{e}");
    s.add_atom(0, DVec3::ZERO);
    let e = w
        .write(0, 0.0, &s, &[DVec3::ZERO; 6], &t)
        .unwrap_err()
        .to_string();
    assert!(e.contains("traj.h5"), "{e}");

    let e = H5mdWriter::create(&dir.path().join("no/such/dir.h5"), &s, ALL)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("dir.h5"), "{e}");
}

const H5PY_CHECK: &str = r#"
import sys
import h5py
import numpy as np

f = h5py.File(sys.argv[1], "r")
def check(cond, what):
    if not cond:
        print("MISMATCH:", what)
        sys.exit(1)

def text(x):
    return x.decode() if isinstance(x, bytes) else str(x)

check(list(f["h5md"].attrs["version"]) == [1, 1], "h5md version")
check(text(f["h5md/creator"].attrs["name"]) == "eqmd", "creator name")
p = f["particles/all"]
for el in ("position", "velocity", "force"):
    check(p[el + "/value"].shape == (5, 5, 3), el + " shape")
    check(p[el + "/step"].shape == (5,), el + " step shape")
    check(p[el + "/step"].dtype == np.int64, el + " step dtype")
    check(text(p[el + "/time"].attrs["unit"]) == "ps", el + " time unit")
check(text(p["position/value"].attrs["unit"]) == "Angstrom", "position unit")
check(text(p["velocity/value"].attrs["unit"]) == "Angstrom ps-1", "velocity unit")
check(text(p["force/value"].attrs["unit"]) == "kJ mol-1 Angstrom-1", "force unit")
check([text(b) for b in p["box"].attrs["boundary"]] == ["periodic", "periodic", "none"], "boundary")
check(int(p["box"].attrs["dimension"]) == 3, "dimension")
check(p["box/edges/value"].shape == (5, 3, 3), "edges shape")
check(np.array_equal(p["box/edges/value"][4][1], [1.3, 9.7, 0.0]), "edge vector b")
check(list(p["position/step"][:]) == [0, 10, 20, 30, 40], "steps")
check(p["position/time"][2] == 0.002 * 10.0 * 2.0, "time")
check(list(p["species"][:]) == [0, 1, 0, 1, 0], "species")
check([text(n) for n in p["species"].attrs["names"]] == ["Ar", "Kr"], "species names")
check(p["position/value"][0, 1, 0] == 0.1 + 1 / 3 + 0.1, "a position")
for obs, unit in (("pe", "eV"), ("temp", "K"), ("press", "bar")):
    check(f["observables/" + obs + "/value"].shape == (5,), obs + " shape")
    check(text(f["observables/" + obs + "/value"].attrs["unit"]) == unit, obs + " unit")
check(f["observables/temp/value"][3] == 94.0 + 3 / 7, "temperature value")
print("h5py OK")
"#;

#[test]
fn h5py_reads_the_file() {
    if !common::python_with(&["h5py"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traj.h5");
    write(&path, Units::Metal, 5);
    let out = Command::new("python3")
        .args(["-c", H5PY_CHECK])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "h5py check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("h5py OK"), "{stdout}");
}

const MDA_CHECK: &str = r#"
import sys
import numpy as np
from MDAnalysis.coordinates.H5MD import H5MDReader
import ase.io
h5, xyz = sys.argv[1], sys.argv[2]
r = H5MDReader(h5)
ref = ase.io.read(xyz, index=":")
assert r.n_frames == len(ref), (r.n_frames, len(ref))
for ts, a in zip(r, ref):
    assert np.allclose(ts.positions, a.positions, rtol=1e-6, atol=1e-5), "positions"
    # MDAnalysis: Angstrom/ps and kJ/(mol Angstrom); float32 in its Timestep
    assert np.allclose(ts.velocities, a.arrays["velocities"], rtol=1e-5, atol=1e-5), "velocities"
    f_ev = ts.forces / 96.48533212331002
    assert np.allclose(f_ev, a.get_forces(), rtol=1e-5, atol=1e-6), "forces"
    assert abs(ts.time - a.info["time"]) < 1e-9, "time"
print("MDAnalysis OK", r.n_frames)
"#;

#[test]
fn mdanalysis_reads_positions_velocities_and_forces_in_its_units() {
    if !common::python_with(&["MDAnalysis", "ase"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let deck = dir.path().join("d.toml");
    std::fs::write(
        &deck,
        format!(
            r#"version = 1
units = "metal"
[system]
structure = "{root}/inputs/structures/ethanol.xyz"
temperature = "300 K"
seed = 4
[potential]
type = "equivariant"
model = "{root}/potentials/random-hco-l1.h5"
[integrator]
timestep = "0.25 fs"
steps = 20
[trajectory]
file = "t.xyz"
every = 5
[h5md]
file = "t.h5"
every = 5
fields = ["position", "velocity", "force"]
"#
        ),
    )
    .unwrap();
    let out = common::eqmd(&["run", deck.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("python3")
        .args(["-c", MDA_CHECK])
        .arg(dir.path().join("t.h5"))
        .arg(dir.path().join("t.xyz"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "MDAnalysis check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("MDAnalysis OK 5"), "{stdout}");
}
