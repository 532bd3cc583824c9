//! ASE reads eqmd's extended-XYZ trajectories with their velocities (as ASE's `momenta`,
//! in its units), and eqmd starts from the momenta of a file ASE wrote. ASE is installed
//! with pip when missing; the test says it was skipped when neither works.

mod common;

use common::eqmd;
use std::path::Path;
use std::process::Command;

const ASE_CHECK: &str = r#"
import sys
import numpy as np
import ase.io
from ase import units
traj, out = sys.argv[1], sys.argv[2]
a = ase.io.read(traj, index=-1)
v_eqmd = a.arrays["velocities"]          # eqmd's own column, Å/ps
v_ase = a.get_velocities()               # from momenta, Å per ASE time unit
assert np.abs(v_ase).max() > 0, "ASE sees no velocities"
# eqmd's time unit follows LAMMPS's metal mvv2e (1.0364269e-4), ASE's CODATA 2014: they
# differ by 2.8e-8 relative
assert np.allclose(v_ase * 1000 * units.fs, v_eqmd, rtol=1e-7, atol=0), "velocities differ"
b = ase.io.read(traj, index=-1)
del b.arrays["velocities"]
ase.io.write(out, b, format="extxyz")
print("KE", repr(float(b.get_kinetic_energy())))
"#;

fn deck(dir: &Path, structure: &str, temperature: &str, trajectory: &str) -> std::path::PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = format!(
        r#"version = 1
units = "metal"
[system]
structure = "{structure}"
{temperature}
[potential]
type = "equivariant"
model = "{root}/potentials/random-hco-l1.h5"
[integrator]
timestep = "0.25 fs"
steps = 10
[trajectory]
file = "{trajectory}"
every = 10
"#
    );
    let path = dir.join(format!("{trajectory}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn ase_reads_velocities_and_eqmd_reads_ase_momenta() {
    if !common::python_with(&["ase"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let first = deck(
        dir.path(),
        &format!("{root}/inputs/structures/ethanol.xyz"),
        "temperature = \"300 K\"\nseed = 4",
        "first.xyz",
    );
    let out = eqmd(&["run", first.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let traj = dir.path().join("first.xyz");
    let written = dir.path().join("from_ase.xyz");
    let out = Command::new("python3")
        .args(["-c", ASE_CHECK])
        .arg(&traj)
        .arg(&written)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ASE check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ke: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("KE "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(ke > 0.0);
    // a deck without a temperature starts from the momenta ASE wrote
    let second = deck(dir.path(), written.to_str().unwrap(), "", "second.xyz");
    let out = eqmd(&["run", second.to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let thermo = std::fs::read_to_string(dir.path().join("second.xyz.thermo.csv")).unwrap();
    let row0: Vec<f64> = thermo
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    // ASE writes 8 decimals
    assert!(
        (row0[3] - ke).abs() < 1e-6 * ke,
        "eqmd KE {} against ASE {ke}",
        row0[3]
    );
}
