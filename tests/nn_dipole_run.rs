//! `eqmd run` with a network that has a dipole head: the thermo CSV gains `mux,muy,muz`
//! and the H5MD file `/observables/dipole`, both the model's dipole of each frame; a
//! restart continues them.

mod common;

use common::eqmd;
use eqmd::io::extxyz;
use eqmd::neighbors::{ListKind, NeighborList};
use eqmd::potential::equivariant::{file, potential::Equivariant};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn deck(dir: &Path, model: &Path) -> std::path::PathBuf {
    let text = format!(
        "version = 1\nunits = \"metal\"\n[system]\nstructure = \"{ROOT}/inputs/structures/ethanol.xyz\"\n\
         temperature = \"300 K\"\nseed = 3\n[potential]\ntype = \"equivariant\"\nmodel = \"{}\"\n\
         [integrator]\ntimestep = \"0.5 fs\"\nsteps = 20\n[thermo]\nevery = 5\n\
         [trajectory]\nfile = \"t.xyz\"\nevery = 5\n[h5md]\nfile = \"t.h5\"\nevery = 5\n",
        model.display()
    );
    let path = dir.join("d.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_run_writes_the_dipole_of_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.h5");
    common::init_dipole_model(&model, "charges+dipoles");
    let d = deck(dir.path(), &model);
    let out = eqmd(&["run", d.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.path().join("d.thermo.csv")).unwrap();
    assert!(
        csv.starts_with("step,time,pe,ke,etotal,temp,press,mux,muy,muz\n"),
        "{csv}"
    );
    let rows = eqmd::io::thermo::read_csv(&dir.path().join("d.thermo.csv")).unwrap();
    assert_eq!(rows.len(), 5);
    // each row's dipole is the model's on that frame of the trajectory
    let frames = extxyz::read_file(&dir.path().join("t.xyz")).unwrap();
    for (row, frame) in rows.iter().zip(&frames) {
        let mut s = common::system_from_frame(frame);
        let net = Equivariant::new(file::load(&model).unwrap(), &s.species_names).unwrap();
        let mut list = NeighborList::new(ListKind::Full, 4.0, 0.0);
        list.rebuild(&mut s);
        let mu = net.dipole(&s, &list, 0.0).unwrap().vector;
        let got = row.dipole.unwrap();
        assert!(
            (got - mu).length() < 1e-9 * mu.length().max(1e-3),
            "step {}: {got} vs {mu}",
            row.step
        );
    }
    // the H5MD file holds the same series
    let h5 = hdf5::File::open(dir.path().join("t.h5")).unwrap();
    let value: Vec<f64> = h5
        .dataset("observables/dipole/value")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(value.len(), 3 * rows.len());
    for (k, row) in rows.iter().enumerate() {
        let m = row.dipole.unwrap();
        for (a, b) in value[3 * k..3 * k + 3].iter().zip(m.to_array()) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1e-12),
                "frame {k}: {a} vs {b}"
            );
        }
    }
    let unit = h5
        .dataset("observables/dipole/value")
        .unwrap()
        .attr("unit")
        .unwrap();
    let unit: hdf5::types::VarLenAscii = unit.read_scalar().unwrap();
    assert_eq!(unit.as_str(), "e Angstrom");
    // 10 steps, a checkpoint and 10 more leave the same files as 20 steps
    let again = tempfile::tempdir().unwrap();
    let o = again.path().to_str().unwrap();
    let half = eqmd(&[
        "run",
        d.to_str().unwrap(),
        "-q",
        "--output-dir",
        o,
        "--set",
        "integrator.steps=10",
    ]);
    assert!(
        half.status.success(),
        "{}",
        String::from_utf8_lossy(&half.stderr)
    );
    let ckpt = again.path().join("d.checkpoint");
    let rest = eqmd(&[
        "run",
        d.to_str().unwrap(),
        "-q",
        "--output-dir",
        o,
        "--restart",
        ckpt.to_str().unwrap(),
    ]);
    assert!(
        rest.status.success(),
        "{}",
        String::from_utf8_lossy(&rest.stderr)
    );
    for f in ["d.thermo.csv", "t.xyz", "t.h5"] {
        let a = std::fs::read(dir.path().join(f)).unwrap();
        let b = std::fs::read(again.path().join(f)).unwrap();
        assert!(a == b, "{f} differs after a restart");
    }
}
