//! eqmd's network inside LAMMPS through the KIM API (`kim/install.sh`): at 1 and 2 MPI
//! ranks, on a periodic Cu frame and on a cell smaller than the influence distance, the
//! step-0 energy, every force and the pressure equal `eqmd run` on the same structure, and
//! a 200-step NVE run follows eqmd's own. Skipped, saying so, where LAMMPS, MPI or the KIM
//! API are not installed (Debian: lammps libkim-api-dev openmpi-bin cmake g++).

mod common;

use glam::DVec3;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A KIM user collection of its own, filled by `kim/install.sh` once per test run.
struct Kim {
    _dir: tempfile::TempDir,
    env: Vec<(String, PathBuf)>,
}

impl Kim {
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The installed driver and models, or None (with a message) without LAMMPS and KIM.
fn kim() -> Option<&'static Kim> {
    static KIM: OnceLock<Option<Kim>> = OnceLock::new();
    KIM.get_or_init(|| {
        let tools = ["lmp", "mpirun", "kim-api-collections-management", "cmake"];
        if let Some(t) = tools.iter().find(|t| !have(t)) {
            println!("skipped: {t} is not installed");
            return None;
        }
        // a KIM configuration of its own, whose user collection is a temporary folder: the
        // machine's own collections are neither used nor changed
        let dir = tempfile::tempdir().unwrap();
        let mut config = String::new();
        for (key, folder) in [
            ("model-drivers-dir", "drivers"),
            ("portable-models-dir", "models"),
            ("simulator-models-dir", "simulator-models"),
        ] {
            let p = dir.path().join(folder);
            std::fs::create_dir_all(&p).unwrap();
            config += &format!("{key} = {}\n", p.display());
        }
        let file = dir.path().join("config");
        std::fs::write(&file, config).unwrap();
        let env = vec![("KIM_API_CONFIGURATION_FILE".to_string(), file)];
        let kim = Kim { _dir: dir, env };
        // its own cargo target folder: this test's cargo holds the lock on target/
        let out = kim
            .command(&format!("{ROOT}/kim/install.sh"))
            .env("CARGO_TARGET_DIR", format!("{ROOT}/target/kim-test"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kim/install.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(kim)
    })
    .as_ref()
}

/// An fcc Cu crystal of n×n×n cells, atoms displaced at random, velocities at random; the
/// cell tilted by (xy, xz, yz) as a LAMMPS triclinic box.
struct Frame {
    side: f64,
    tilt: [f64; 3],
    positions: Vec<DVec3>,
    velocities: Vec<DVec3>,
}

fn copper(n: usize, seed: u64) -> Frame {
    tilted_copper(n, seed, [0.0; 3])
}

fn tilted_copper(n: usize, seed: u64, tilt: [f64; 3]) -> Frame {
    let a = 3.61;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut noise = |s: f64| DVec3::new(rng.random(), rng.random(), rng.random()) * s - s / 2.0;
    let basis = [
        [0.0, 0.0, 0.0],
        [0.0, 0.5, 0.5],
        [0.5, 0.0, 0.5],
        [0.5, 0.5, 0.0],
    ];
    let mut positions = Vec::new();
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                for b in basis {
                    let f = (DVec3::new(i as f64, j as f64, k as f64) + DVec3::from_array(b))
                        / n as f64;
                    let r = DVec3::new(
                        f.x * n as f64 * a + f.y * tilt[0] + f.z * tilt[1],
                        f.y * n as f64 * a + f.z * tilt[2],
                        f.z * n as f64 * a,
                    );
                    positions.push(r + noise(0.2));
                }
            }
        }
    }
    // about 300 K: √(kT/m) ≈ 2 Å/ps
    let velocities = positions.iter().map(|_| noise(6.0)).collect();
    Frame {
        side: n as f64 * a,
        tilt,
        positions,
        velocities,
    }
}

/// The frame as extended XYZ (eqmd's structure) and as a LAMMPS data file.
fn write_frame(f: &Frame, dir: &Path) {
    let [xy, xz, yz] = f.tilt;
    let mut xyz = format!(
        "{}\nLattice=\"{l:?} 0 0 {xy:?} {l:?} 0 {xz:?} {yz:?} {l:?}\" pbc=\"T T T\" \
         Properties=species:S:1:pos:R:3:velocities:R:3\n",
        f.positions.len(),
        l = f.side
    );
    let mut data = format!(
        "Cu frame\n\n{} atoms\n1 atom types\n\n0 {l:?} xlo xhi\n0 {l:?} ylo yhi\n0 {l:?} zlo zhi\n\
         {xy:?} {xz:?} {yz:?} xy xz yz\n\nMasses\n\n1 63.546\n\nAtoms # atomic\n\n",
        f.positions.len(),
        l = f.side
    );
    let mut velocities = String::from("\nVelocities\n\n");
    for (i, (r, v)) in f.positions.iter().zip(&f.velocities).enumerate() {
        xyz += &format!(
            "Cu {:?} {:?} {:?} {:?} {:?} {:?}\n",
            r.x, r.y, r.z, v.x, v.y, v.z
        );
        data += &format!("{} 1 {:?} {:?} {:?}\n", i + 1, r.x, r.y, r.z);
        velocities += &format!("{} {:?} {:?} {:?}\n", i + 1, v.x, v.y, v.z);
    }
    std::fs::write(dir.join("cu.xyz"), xyz).unwrap();
    std::fs::write(dir.join("cu.data"), data + &velocities).unwrap();
}

/// Thermo rows (step, pe, ke, etotal, press), step-0 forces and (LAMMPS) per-atom
/// energies of a run.
struct Run {
    rows: Vec<[f64; 5]>,
    forces: Vec<DVec3>,
    per_atom: Vec<f64>,
}

fn eqmd_run(dir: &Path, steps: u64) -> Run {
    let deck = format!(
        "version = 1\nunits = \"metal\"\n[system]\nstructure = \"cu.xyz\"\n\
         masses = {{ Cu = 63.546 }}\n[potential]\ntype = \"equivariant\"\n\
         model = \"{ROOT}/potentials/cu-emt.h5\"\n[integrator]\ntimestep = 0.002\n\
         steps = {steps}\n[thermo]\nevery = 20\n[trajectory]\nfile = \"eqmd.xyz\"\nevery = 1000\n"
    );
    std::fs::write(dir.join("cu.toml"), deck).unwrap();
    let out = common::eqmd(&["run", dir.join("cu.toml").to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = eqmd::io::thermo::read_csv(&dir.join("cu.thermo.csv"))
        .unwrap()
        .iter()
        .map(|t| [t.step as f64, t.pe, t.ke, t.etotal, t.press])
        .collect();
    let frames = eqmd::io::extxyz::read_file(&dir.join("eqmd.xyz")).unwrap();
    Run {
        rows,
        forces: frames[0].forces().unwrap(),
        per_atom: Vec::new(),
    }
}

fn lammps_run(kim: &Kim, dir: &Path, ranks: usize, newton: &str, steps: u64) -> Run {
    let input = format!(
        "units metal\nboundary p p p\nnewton {newton}\nkim init eqmd_cu_emt metal\n\
         read_data cu.data\n\
         kim interactions Cu\ntimestep 0.002\nfix nve all nve\n\
         thermo_style custom step pe ke etotal press\nthermo_modify format float %.17g\n\
         thermo 20\ncompute peratom all pe/atom\n\
         dump f all custom 1000 forces.dump id fx fy fz c_peratom\n\
         dump_modify f format float %.17g sort id\nrun {steps}\n"
    );
    std::fs::write(dir.join("in.cu"), input).unwrap();
    let out = kim
        .command("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np"])
        .arg(ranks.to_string())
        .args([
            "lmp",
            "-in",
            "in.cu",
            "-log",
            "log.lammps",
            "-screen",
            "none",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.join("log.lammps")).unwrap_or_default();
    assert!(
        out.status.success(),
        "LAMMPS at {ranks} ranks failed:\n{log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = log
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Step"))
        .skip(1)
        .take_while(|l| !l.starts_with("Loop time"))
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3], v[4]]
        })
        .collect();
    let dump = std::fs::read_to_string(dir.join("forces.dump")).unwrap();
    let atoms: Vec<Vec<f64>> = dump
        .lines()
        .skip_while(|l| !l.starts_with("ITEM: ATOMS"))
        .skip(1)
        .take_while(|l| !l.starts_with("ITEM"))
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    Run {
        rows,
        forces: atoms.iter().map(|v| DVec3::new(v[1], v[2], v[3])).collect(),
        per_atom: atoms.iter().map(|v| v[4]).collect(),
    }
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// Step 0 in LAMMPS at 1 and 2 ranks, newton on and off, equals eqmd's on n×n×n cells.
fn step_zero_matches(frame: Frame) {
    let Some(kim) = kim() else { return };
    let dir = tempfile::tempdir().unwrap();
    write_frame(&frame, dir.path());
    let ours = eqmd_run(dir.path(), 0);
    let [_, pe, _, _, press] = ours.rows[0];
    let fmax = ours.forces.iter().map(|f| f.length()).fold(0.0, f64::max);
    let atoms = frame.positions.len();
    for (ranks, newton) in [(1, "on"), (2, "on"), (2, "off")] {
        let theirs = lammps_run(kim, dir.path(), ranks, newton, 0);
        let case = format!("{atoms} atoms, {ranks} ranks, newton {newton}");
        let [_, lpe, _, _, lpress] = theirs.rows[0];
        assert!(rel(lpe, pe) < 1e-10, "{case}: pe {lpe} vs {pe}");
        assert!(
            rel(lpress, press) < 1e-10,
            "{case}: press {lpress} vs {press}"
        );
        // partialParticleEnergy: the owned atoms' energies add up to the energy
        let sum: f64 = theirs.per_atom.iter().sum();
        assert!(rel(sum, pe) < 1e-10, "{case}: Σ pe/atom {sum} vs {pe}");
        assert_eq!(theirs.forces.len(), ours.forces.len());
        for (i, (a, b)) in theirs.forces.iter().zip(&ours.forces).enumerate() {
            assert!(
                (*a - *b).length() <= 1e-10 * fmax,
                "{case}: force on atom {i}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn lammps_step_zero_equals_eqmd_on_a_periodic_copper_frame() {
    step_zero_matches(copper(3, 3));
}

/// 2×2×2 cells, tilted, are about 7 Å wide, less than the influence distance (2 layers ×
/// 4.5 Å): the ghosts include several images of each atom.
#[test]
fn lammps_step_zero_equals_eqmd_on_a_triclinic_cell_smaller_than_the_influence_distance() {
    step_zero_matches(tilted_copper(2, 2, [1.1, -0.7, 0.5]));
}

/// 200 steps of NVE at 2 fs: LAMMPS at 2 ranks follows eqmd's trajectory (the same
/// velocity Verlet from the same velocities) and conserves energy as eqmd does.
#[test]
fn lammps_nve_follows_eqmd_and_conserves_energy() {
    let Some(kim) = kim() else { return };
    let dir = tempfile::tempdir().unwrap();
    write_frame(&copper(3, 7), dir.path());
    let ours = eqmd_run(dir.path(), 200);
    let theirs = lammps_run(kim, dir.path(), 2, "on", 200);
    assert_eq!(ours.rows.len(), 11);
    assert_eq!(theirs.rows.len(), ours.rows.len());
    let drift = |rows: &[[f64; 5]]| {
        rows.iter()
            .map(|r| (r[3] - rows[0][3]).abs())
            .fold(0.0, f64::max)
    };
    for (a, b) in theirs.rows.iter().zip(&ours.rows) {
        assert_eq!(a[0], b[0]);
        assert!(
            (a[3] - b[3]).abs() < 1e-7 && (a[1] - b[1]).abs() < 1e-6,
            "step {}: LAMMPS pe {} etotal {}, eqmd pe {} etotal {}",
            a[0],
            a[1],
            a[3],
            b[1],
            b[3]
        );
    }
    let (d_lammps, d_eqmd) = (drift(&theirs.rows), drift(&ours.rows));
    let ke = ours.rows[0][2];
    assert!(d_eqmd < 1e-3 * ke, "eqmd drifts by {d_eqmd} eV (ke {ke})");
    assert!(
        (d_lammps - d_eqmd).abs() <= 0.05 * d_eqmd + 1e-9,
        "largest |E − E₀|: LAMMPS {d_lammps}, eqmd {d_eqmd}"
    );
}

/// Energy and forces from ASE's KIM calculator (through kimpy) on an extended-XYZ file.
const ASE_KIM: &str = r#"
import sys, json
import ase.io
from ase.calculators.kim.kim import KIM
atoms = ase.io.read(sys.argv[1])
atoms.calc = KIM(sys.argv[2])
print(json.dumps({"energy": atoms.get_potential_energy(), "forces": atoms.get_forces().tolist()}))
"#;

/// ASE through kimpy gives eqmd's energy and forces to 1e-10 on ethanol (a molecule in
/// vacuum, the shipped rMD17 model) and on periodic copper.
#[test]
fn ase_through_kimpy_equals_eqmd_on_ethanol_and_copper() {
    let Some(kim) = kim() else { return };
    if !common::python_with(&["ase", "kimpy"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_frame(&copper(3, 5), dir.path());
    let cu = eqmd_run(dir.path(), 0);
    let ethanol_dir = tempfile::tempdir().unwrap();
    let ethanol = ethanol_dir.path().join("ethanol.xyz");
    std::fs::copy(format!("{ROOT}/inputs/structures/ethanol.xyz"), &ethanol).unwrap();
    let deck = format!(
        "version = 1\nunits = \"metal\"\n[system]\nstructure = \"ethanol.xyz\"\n\
         [potential]\ntype = \"equivariant\"\nmodel = \"{ROOT}/potentials/rmd17-ethanol.h5\"\n\
         [integrator]\ntimestep = 0.0005\nsteps = 0\n[thermo]\nevery = 1\n\
         [trajectory]\nfile = \"eqmd.xyz\"\nevery = 1\n"
    );
    std::fs::write(ethanol_dir.path().join("e.toml"), deck).unwrap();
    let out = common::eqmd(&[
        "run",
        ethanol_dir.path().join("e.toml").to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frame = &eqmd::io::extxyz::read_file(&ethanol_dir.path().join("eqmd.xyz")).unwrap()[0];
    let pe = eqmd::io::thermo::read_csv(&ethanol_dir.path().join("e.thermo.csv")).unwrap()[0].pe;
    let cases = [
        (ethanol, "eqmd_rmd17_ethanol", pe, frame.forces().unwrap()),
        (
            dir.path().join("cu.xyz"),
            "eqmd_cu_emt",
            cu.rows[0][1],
            cu.forces,
        ),
    ];
    for (file, model, energy, forces) in cases {
        let out = kim
            .command("python3")
            .args(["-c", ASE_KIM])
            .arg(&file)
            .arg(model)
            .current_dir(dir.path()) // KIM writes its kim.log here
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{model}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = stdout.lines().last().unwrap();
        let e: f64 = json
            .split("\"energy\": ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .unwrap()
            .parse()
            .unwrap();
        let numbers: Vec<f64> = json
            .split("\"forces\": ")
            .nth(1)
            .unwrap()
            .split(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().unwrap())
            .collect();
        assert!(rel(e, energy) < 1e-10, "{model}: ASE {e}, eqmd {energy}");
        assert_eq!(numbers.len(), 3 * forces.len(), "{model}");
        let fmax = forces.iter().map(|f| f.length()).fold(0.0, f64::max);
        for (i, (f, g)) in numbers.chunks(3).zip(&forces).enumerate() {
            let d = (DVec3::new(f[0], f[1], f[2]) - *g).length();
            assert!(d <= 1e-10 * fmax, "{model}: atom {i}: ASE {f:?}, eqmd {g}");
        }
    }
}

/// LAMMPS refuses a species the model does not know, naming it.
#[test]
fn lammps_names_a_species_the_model_does_not_know() {
    let Some(kim) = kim() else { return };
    let dir = tempfile::tempdir().unwrap();
    write_frame(&copper(2, 1), dir.path());
    let input = "units metal\nboundary p p p\nkim init eqmd_cu_emt metal\nread_data cu.data\n\
                 kim interactions Ar\nrun 0\n";
    std::fs::write(dir.path().join("in.ar"), input).unwrap();
    let out = kim
        .command("lmp")
        .args(["-in", "in.ar", "-log", "log.lammps", "-screen", "none"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.path().join("log.lammps")).unwrap();
    assert!(!out.status.success(), "{log}");
    assert!(
        log.lines()
            .any(|l| l.starts_with("ERROR") && l.contains("Ar")),
        "{log}"
    );
}
