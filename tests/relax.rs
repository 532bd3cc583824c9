//! The shipped `inputs/cu_eam_relax.toml`: fcc Cu (Cu_u3.eam) from a = 3.70 Å with every
//! atom displaced, relaxed with the cell free, must reach LAMMPS's result for the same input
//! (benches/lammps/in.eam.relax: a0 = 3.61499998 Å, −3.54000000 eV/atom) to 1e-6, with the
//! relaxed structure the last frame of its extended-XYZ file, as ASE reads it.

mod common;

use common::{eqmd, python_with};
use std::path::{Path, PathBuf};

/// LAMMPS (Debian's, fix box/relax iso 0.0 + CG) on in.eam.relax.
const LAMMPS_A0: f64 = 3.614_999_98;
const LAMMPS_E_PER_ATOM: f64 = -3.540_000_00;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

/// Runs the shipped deck into `dir`; returns (a0, E per atom, largest |stress| in eV/Å³)
/// of the last frame of its trajectory, read with eqmd's reader.
fn relax(dir: &Path) -> (f64, f64, f64) {
    let deck = root().join("inputs/cu_eam_relax.toml");
    let out = eqmd(&[
        "run",
        deck.to_str().unwrap(),
        "--quiet",
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames = eqmd::io::extxyz::read_file(&dir.join("cu_eam_relax.xyz")).unwrap();
    assert_eq!(frames.len(), 2, "the start and the relaxed structure");
    let last = frames.last().unwrap();
    let cell = last.lattice.unwrap();
    let a0 = cell.x_axis.x / 4.0;
    assert!(
        relative(cell.y_axis.y / 4.0, a0) < 1e-12 && relative(cell.z_axis.z / 4.0, a0) < 1e-12,
        "the cell stays cubic"
    );
    let energy = last.info["energy"].as_f64().unwrap();
    let stress = last.stress().expect("the relaxed frame carries its stress");
    let smax = stress
        .to_cols_array()
        .iter()
        .fold(0.0f64, |m, s| m.max(s.abs()));
    (a0, energy / last.symbols.len() as f64, smax)
}

#[test]
fn relaxed_copper_matches_lammps_and_reads_in_ase() {
    let dir = tempfile::tempdir().unwrap();
    let (a0, e, smax) = relax(dir.path());
    println!(
        "eqmd: a0 = {a0:.10} Å ({:.1e} from LAMMPS), E = {e:.10} eV/atom ({:.1e}), max |stress| {smax:.1e} eV/Å³",
        relative(a0, LAMMPS_A0),
        relative(e, LAMMPS_E_PER_ATOM)
    );
    assert!(relative(a0, LAMMPS_A0) < 1e-6, "a0 = {a0}");
    assert!(relative(e, LAMMPS_E_PER_ATOM) < 1e-6, "E = {e}");
    assert!(smax < 1e-8, "stress {smax} eV/Å³ left");
    if !python_with(&["ase"]) {
        println!("skipped the ASE check: python3 with ase is not available");
        return;
    }
    let script = format!(
        "from ase.io import read\na = read('{}', index=-1)\nprint(a.cell[0, 0] / 4, a.get_potential_energy() / len(a), abs(a.get_stress()).max(), abs(a.get_forces()).max())",
        dir.path().join("cu_eam_relax.xyz").display()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    println!(
        "ASE reads a0 = {:.10}, E = {:.10} eV/atom, max |stress| {:.1e}, max |F| {:.1e}",
        v[0], v[1], v[2], v[3]
    );
    assert!(relative(v[0], a0) < 1e-12 && relative(v[1], e) < 1e-12);
    assert!(
        v[2] < 1e-8 && v[3] < 1e-8,
        "ASE sees the relaxed stress and forces"
    );
}

/// The same comparison against LAMMPS run here, when it is installed.
#[test]
fn relaxed_copper_matches_lammps_run_here() {
    if std::process::Command::new("lmp")
        .arg("-h")
        .output()
        .is_err()
    {
        println!("skipped: LAMMPS (lmp) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = root().join("benches/lammps/in.eam.relax");
    let pot = root().join("potentials/Cu_u3.eam");
    // LAMMPS prints its RESULT line on the screen (stdout); no log file is wanted
    let out = std::process::Command::new("lmp")
        .current_dir(dir.path())
        .args([
            "-in",
            input.to_str().unwrap(),
            "-var",
            "pot",
            pot.to_str().unwrap(),
            "-log",
            "none",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .unwrap_or_else(|| panic!("no RESULT from LAMMPS:\n{text}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let (a_lmp, e_lmp): (f64, f64) = (words[2].parse().unwrap(), words[4].parse().unwrap());
    let (a0, e, _) = relax(dir.path());
    println!(
        "LAMMPS here: a0 = {a_lmp}, E = {e_lmp} eV/atom; eqmd {a0:.10}, {e:.10} ({:.1e}, {:.1e})",
        relative(a0, a_lmp),
        relative(e, e_lmp)
    );
    assert!(relative(a0, a_lmp) < 1e-6 && relative(e, e_lmp) < 1e-6);
}
