//! `eqmd analyze rdf`: an ideal gas in a triclinic box gives g(r) = 1 within its counting
//! error, an fcc lattice (cubic and as its triclinic primitive cell) puts its shells of 12,
//! 6, 24, 12, 24 neighbours at a/√2, a, a√(3/2), a√2, a√(5/2), clusters in vacuum give the
//! density around an atom (or g with --volume), bad input fails with a message naming it,
//! and the partial and total g(r) agree with ASE's `get_rdf` and MDAnalysis's `InterRDF`.

mod common;

use eqmd::cell::Cell;
use eqmd::io::extxyz::{write_file, Frame, InfoValue};
use eqmd::io::h5md::{H5mdFields, H5mdWriter};
use eqmd::state::Thermo;
use eqmd::system::System;
use eqmd::units::Units;
use glam::{DMat3, DVec3};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::Path;

/// The columns of a CSV by name, and the header's order.
fn read_csv(path: &Path) -> (Vec<String>, HashMap<String, Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut cols: HashMap<String, Vec<f64>> = HashMap::new();
    for line in lines {
        for (name, v) in names.iter().zip(line.split(',')) {
            cols.entry(name.clone())
                .or_default()
                .push(v.parse().unwrap());
        }
    }
    (names, cols)
}

/// Runs `eqmd analyze rdf` and returns (success, stdout + stderr).
fn analyze(args: &[&str]) -> (bool, String) {
    let mut all = vec!["analyze", "rdf"];
    all.extend(args);
    let out = common::eqmd(&all);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (out.status.success(), text)
}

fn frame(cell: DMat3, symbols: &[String], positions: Vec<DVec3>, time: f64) -> Frame {
    let mut f = Frame::new(symbols.to_vec(), positions);
    f.lattice = Some(cell);
    f.pbc = [true; 3];
    f.info.insert("time".into(), InfoValue::Float(time));
    f
}

/// A skewed cell: every angle away from 90°.
fn triclinic() -> DMat3 {
    DMat3::from_cols(
        DVec3::new(20.0, 0.0, 0.0),
        DVec3::new(5.0, 19.0, 0.0),
        DVec3::new(3.0, -4.0, 18.0),
    )
}

#[test]
fn ideal_gas_in_a_triclinic_box_has_g_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gas.xyz");
    let cell = triclinic();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (n, n_kr) = (1500, 500);
    let symbols: Vec<String> = (0..n)
        .map(|i| if i < n_kr { "Kr" } else { "Ar" }.to_string())
        .collect();
    let frames: Vec<Frame> = (0..10)
        .map(|k| {
            let r = (0..n)
                .map(|_| cell * DVec3::new(rng.random(), rng.random(), rng.random()))
                .collect();
            frame(cell, &symbols, r, k as f64)
        })
        .collect();
    write_file(&path, &frames).unwrap();
    let (ok, text) = analyze(&[path.to_str().unwrap(), "--bins", "50"]);
    assert!(ok, "{text}");
    let (names, g) = read_csv(&dir.path().join("gas.rdf.csv"));
    assert_eq!(
        names,
        ["r", "g_total", "g_Kr-Kr", "g_Kr-Ar", "g_Ar-Ar"],
        "{names:?}"
    );
    let v = cell.determinant();
    let r_max = 0.5
        * Cell::from_matrix(cell, [true; 3])
            .unwrap()
            .perpendicular_widths()
            .min_element();
    let r = &g["r"];
    let dr = r_max / 50.0;
    assert!((r[49] - (r_max - 0.5 * dr)).abs() < 1e-5, "{}", r[49]);
    let pairs = [
        ("g_total", (n * (n - 1) / 2) as f64),
        ("g_Kr-Kr", (n_kr * (n_kr - 1) / 2) as f64),
        ("g_Kr-Ar", (n_kr * (n - n_kr)) as f64),
        ("g_Ar-Ar", ((n - n_kr) * (n - n_kr - 1) / 2) as f64),
    ];
    for (name, p) in pairs {
        let mut worst: f64 = 0.0;
        let (mut sum, mut weight) = (0.0, 0.0);
        for (k, &gk) in g[name].iter().enumerate() {
            let (r0, r1) = (k as f64 * dr, (k + 1) as f64 * dr);
            let expected =
                10.0 * p / v * 4.0 / 3.0 * std::f64::consts::PI * (r1.powi(3) - r0.powi(3));
            let sigma = 1.0 / expected.sqrt();
            worst = worst.max((gk - 1.0).abs() / sigma);
            sum += gk * expected;
            weight += expected;
        }
        let mean = sum / weight;
        println!(
            "{name}: mean g {mean:.5} (±{:.5}), worst bin {worst:.2} σ",
            1.0 / weight.sqrt()
        );
        assert!(worst < 5.0, "{name}: a bin {worst} σ from 1");
        assert!(
            (mean - 1.0).abs() < 4.0 / weight.sqrt(),
            "{name}: mean {mean}"
        );
    }
}

/// fcc positions of `repeat`³ copies of the cell `basis` (columns) with its atoms at
/// fractional `sites`.
fn crystal(basis: DMat3, sites: &[DVec3], repeat: usize) -> (DMat3, Vec<DVec3>) {
    let mut r = Vec::new();
    for (i, j, k) in
        (0..repeat).flat_map(|i| (0..repeat).flat_map(move |j| (0..repeat).map(move |k| (i, j, k))))
    {
        for s in sites {
            r.push(basis * (DVec3::new(i as f64, j as f64, k as f64) + *s));
        }
    }
    (basis * repeat as f64, r)
}

/// The neighbours per atom in each bin, from g(r) of a fully periodic crystal.
fn neighbours(g: &[f64], r: &[f64], atoms: usize, volume: f64) -> Vec<f64> {
    let dr = r[1] - r[0];
    (g.iter().zip(r))
        .map(|(g, r)| {
            let (r0, r1) = (r - 0.5 * dr, r + 0.5 * dr);
            let shell = 4.0 / 3.0 * std::f64::consts::PI * (r1.powi(3) - r0.powi(3));
            g * (atoms - 1) as f64 / volume * shell
        })
        .collect()
}

#[test]
fn fcc_shells_sit_at_their_distances_in_cubic_and_primitive_cells() {
    let a = 3.615;
    let dir = tempfile::tempdir().unwrap();
    let half = 0.5;
    let cubic = crystal(
        DMat3::from_diagonal(DVec3::splat(a)),
        &[
            DVec3::ZERO,
            DVec3::new(0.0, half, half),
            DVec3::new(half, 0.0, half),
            DVec3::new(half, half, 0.0),
        ],
        5,
    );
    let primitive = crystal(
        DMat3::from_cols(
            DVec3::new(0.0, half, half) * a,
            DVec3::new(half, 0.0, half) * a,
            DVec3::new(half, half, 0.0) * a,
        ),
        &[DVec3::ZERO],
        6,
    );
    let shells = [
        (0.5f64, 12.0),
        (1.0, 6.0),
        (1.5, 24.0),
        (2.0, 12.0),
        (2.5, 24.0),
    ];
    for (name, (cell, r)) in [("cubic", cubic), ("primitive", primitive)] {
        let path = dir.path().join(format!("{name}.xyz"));
        let symbols = vec!["Cu".to_string(); r.len()];
        let atoms = r.len();
        write_file(&path, &[frame(cell, &symbols, r, 0.0)]).unwrap();
        let (ok, text) = analyze(&[path.to_str().unwrap(), "--r-max", "6.0", "--bins", "300"]);
        assert!(ok, "{text}");
        let (_, g) = read_csv(&dir.path().join(format!("{name}.rdf.csv")));
        let n = neighbours(&g["g_total"], &g["r"], atoms, cell.determinant());
        let dr = 6.0 / 300.0;
        for (k, count) in n.iter().enumerate() {
            let shell = shells
                .iter()
                .find(|(s, _)| ((a * s.sqrt()) / dr) as usize == k);
            let expected = shell.map_or(0.0, |s| s.1);
            assert!(
                (count - expected).abs() < 1e-4 * expected.max(1.0),
                "{name}: bin {k} (r = {}) holds {count} neighbours, not {expected}",
                g["r"][k]
            );
        }
        assert_eq!(g["g_total"], g["g_Cu-Cu"]);
    }
}

#[test]
fn a_cluster_in_vacuum_gives_densities_or_g_with_a_volume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cluster.xyz");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let symbols: Vec<String> = (0..60).map(|i| ["C", "H"][i % 2].to_string()).collect();
    let frames: Vec<Frame> = (0..4)
        .map(|_| {
            let r = (0..60)
                .map(|_| DVec3::new(rng.random(), rng.random(), rng.random()) * 8.0)
                .collect();
            Frame::new(symbols.clone(), r)
        })
        .collect();
    write_file(&path, &frames).unwrap();
    let (ok, text) = analyze(&[path.to_str().unwrap(), "--r-max", "5", "--bins", "20"]);
    assert!(ok, "{text}");
    let (names, rho) = read_csv(&dir.path().join("cluster.rdf.csv"));
    assert_eq!(names, ["r", "rho_total", "rho_C-C", "rho_C-H", "rho_H-H"]);
    let out = dir.path().join("g.csv");
    let (ok, text) = analyze(&[
        path.to_str().unwrap(),
        "--r-max",
        "5",
        "--bins",
        "20",
        "--volume",
        "512",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(dir.path().join("g.svg").exists());
    let (names, g) = read_csv(&out);
    assert_eq!(names, ["r", "g_total", "g_C-C", "g_C-H", "g_H-H"]);
    // g = ρ V / N_B (N_B - 1 for like pairs)
    for (gk, rk) in g["g_total"].iter().zip(&rho["rho_total"]) {
        assert!(
            (gk - rk * 512.0 / 59.0).abs() < 1e-5 * gk.max(1.0),
            "{gk} {rk}"
        );
    }
    for (gk, rk) in g["g_C-H"].iter().zip(&rho["rho_C-H"]) {
        assert!(
            (gk - rk * 512.0 / 30.0).abs() < 1e-5 * gk.max(1.0),
            "{gk} {rk}"
        );
    }
    // the density of H around C integrates to the H atoms within r_max of a C atom
    let dr = 0.25;
    let around: f64 = (rho["rho_C-H"].iter().zip(&rho["r"]))
        .map(|(p, r)| {
            p * 4.0 / 3.0 * std::f64::consts::PI * ((r + dr / 2.0).powi(3) - (r - dr / 2.0).powi(3))
        })
        .sum();
    let mut direct = 0.0;
    for f in &frames {
        for i in (0..60).step_by(2) {
            for j in (1..60).step_by(2) {
                direct += f64::from(u8::from((f.positions[i] - f.positions[j]).length() < 5.0));
            }
        }
    }
    direct /= 4.0 * 30.0;
    assert!((around - direct).abs() < 1e-4 * direct, "{around} {direct}");
}

#[test]
fn bad_input_fails_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.xyz");
    let cell = DMat3::from_diagonal(DVec3::splat(10.0));
    let symbols = vec!["Cu".to_string(), "Ni".to_string()];
    let r = vec![DVec3::splat(1.0), DVec3::splat(3.0)];
    write_file(
        &path,
        &[
            frame(cell, &symbols, r.clone(), 0.0),
            frame(cell, &symbols, r, 1.0),
        ],
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--r-max", "5.5"], "--r-max 5.5 is beyond half"),
        (&["--r-max=-1"], "--r-max -1"),
        (&["--pairs", "Cu-Zn"], "no species Zn"),
        (&["--pairs", "CuNi"], "--pairs"),
        (&["--bins", "0"], "--bins"),
        (&["--frames", "5:2"], "picks no frame"),
        (&["--frames", "a:b"], "--frames"),
        (&["--frames", "::0"], "STEP"),
        (&["--every", "0"], "--every"),
        (&["--volume", "100"], "--volume"),
        (&["-o", p], "never overwrites an input"),
    ];
    for (args, message) in cases {
        let mut all = vec![p];
        all.extend(*args);
        let (ok, text) = analyze(&all);
        assert!(!ok && text.contains(message), "{args:?}: {text}");
    }
    let missing = dir.path().join("missing.xyz");
    let (ok, text) = analyze(&[missing.to_str().unwrap()]);
    assert!(!ok && text.contains("missing.xyz"), "{text}");
    let garbage = dir.path().join("garbage.h5");
    std::fs::write(&garbage, "not hdf5").unwrap();
    let (ok, text) = analyze(&[garbage.to_str().unwrap()]);
    assert!(!ok && text.contains("garbage.h5"), "{text}");
    let truncated = dir.path().join("cut.xyz");
    std::fs::write(&truncated, "3\nProperties=species:S:1:pos:R:3\nCu 0 0 0\n").unwrap();
    let (ok, text) = analyze(&[truncated.to_str().unwrap()]);
    assert!(!ok && text.contains("cut.xyz"), "{text}");
}

/// The cell `m` turned so that a lies along x and b in the xy plane (the orientation
/// MDAnalysis assumes of a triclinic box), and the rotation that does it.
fn canonical(m: DMat3) -> (DMat3, DMat3) {
    let (a, b, c) = (m.col(0), m.col(1), m.col(2));
    let ax = a.length();
    let (bx, cx) = (b.dot(a) / ax, c.dot(a) / ax);
    let by = (b.length_squared() - bx * bx).sqrt();
    let cy = (c.dot(b) - cx * bx) / by;
    let cz = (c.length_squared() - cx * cx - cy * cy).sqrt();
    let turned = DMat3::from_cols(
        DVec3::new(ax, 0.0, 0.0),
        DVec3::new(bx, by, 0.0),
        DVec3::new(cx, cy, cz),
    );
    (turned, turned * m.inverse())
}

/// Three frames of a Cu/Ni alloy on a shaken fcc lattice in its triclinic primitive cell.
fn alloy_frames() -> (DMat3, Vec<String>, Vec<Vec<DVec3>>) {
    let a = 3.6;
    let (cell, sites) = crystal(
        DMat3::from_cols(
            DVec3::new(0.0, 0.5, 0.5) * a,
            DVec3::new(0.5, 0.0, 0.5) * a,
            DVec3::new(0.5, 0.5, 0.0) * a,
        ),
        &[DVec3::ZERO],
        6,
    );
    let (cell, turn) = canonical(cell);
    let sites: Vec<DVec3> = sites.iter().map(|r| turn * *r).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let symbols = (0..sites.len())
        .map(|_| {
            if rng.random::<f64>() < 0.6 {
                "Cu"
            } else {
                "Ni"
            }
            .to_string()
        })
        .collect();
    let frames = (0..3)
        .map(|_| {
            let shake = |rng: &mut ChaCha8Rng| 0.4 * (rng.random::<f64>() - 0.5);
            (sites.iter())
                .map(|r| *r + DVec3::new(shake(&mut rng), shake(&mut rng), shake(&mut rng)))
                .collect()
        })
        .collect();
    (cell, symbols, frames)
}

const ASE_COMPARE: &str = r#"
import sys
import numpy as np
import ase.io
from ase.geometry.analysis import Analysis
from ase.geometry.rdf import get_rdf
xyz, csv, rmax, nbins = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
images = ase.io.read(xyz, index=":")
ours = np.genfromtxt(csv, delimiter=",", names=True)
syms = np.array(images[0].get_chemical_symbols())
worst = 0.0
# the total through Analysis.get_rdf (one array per image), the pairs through get_rdf
total = np.mean(Analysis(images).get_rdf(rmax, nbins), axis=0)
n = len(syms)
diff = np.abs(total * n / (n - 1) - ours["g_total"]).max()
print(f"ASE total max |dg| {diff:.3e}")
worst = max(worst, diff)
for a, b in [("Cu", "Cu"), ("Cu", "Ni"), ("Ni", "Ni")]:
    g = get_rdf(images, rmax, nbins, elements=(a, b), no_dists=True)
    na = (syms == a).sum()
    if a == b:
        g = g * na / (na - 1)  # ASE divides like pairs by N_A^2, eqmd by N_A (N_A - 1)
    diff = np.abs(g - ours[f"g_{a}_{b}"]).max()
    print(f"ASE {a}-{b} max |dg| {diff:.3e}")
    worst = max(worst, diff)
print(f"ASE worst {worst:.3e}")
"#;

#[test]
fn agrees_with_ase_get_rdf() {
    if !common::python_with(&["ase"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cell, symbols, frames) = alloy_frames();
    let path = dir.path().join("alloy.xyz");
    let frames: Vec<Frame> = (frames.into_iter().enumerate())
        .map(|(k, r)| frame(cell, &symbols, r, k as f64))
        .collect();
    write_file(&path, &frames).unwrap();
    let (ok, text) = analyze(&[path.to_str().unwrap(), "--r-max", "5.5", "--bins", "110"]);
    assert!(ok, "{text}");
    let csv = dir.path().join("alloy.rdf.csv");
    // numpy's names=True drops the '-' of the header: give it a copy with '_'
    let text = std::fs::read_to_string(&csv).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let plain = dir.path().join("plain.csv");
    std::fs::write(&plain, format!("{}\n{rest}", head.replace('-', "_"))).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", ASE_COMPARE])
        .args([
            path.to_str().unwrap(),
            plain.to_str().unwrap(),
            "5.5",
            "110",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let worst: f64 = (stdout.lines().find_map(|l| l.strip_prefix("ASE worst ")))
        .unwrap()
        .parse()
        .unwrap();
    // the CSV keeps 7 significant digits
    assert!(worst < 2e-5, "{stdout}");
}

/// A thermo row of zeros, read back through the thermo CSV reader so that the test does
/// not depend on the row's fields.
fn zero_thermo(dir: &Path) -> Thermo {
    let header = eqmd::io::thermo::CSV_HEADER;
    let zeros = vec!["0"; header.split(',').count()].join(",");
    let path = dir.join("zero.thermo.csv");
    std::fs::write(&path, format!("{header}\n{zeros}\n")).unwrap();
    eqmd::io::thermo::read_csv(&path).unwrap().remove(0)
}

const MDA_COMPARE: &str = r#"
import sys
import numpy as np
import MDAnalysis as mda
from MDAnalysis.analysis.rdf import InterRDF
h5, csv, rmax, nbins = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
types = sys.argv[5].split(",")
u = mda.Universe.empty(len(types), trajectory=True)
u.add_TopologyAttr("types", types)
u.load_new(h5, format="H5MD")
ours = np.genfromtxt(csv, delimiter=",", names=True)
worst, moved = 0.0, 0
for a, b in [("all", "all"), ("Cu", "Cu"), ("Cu", "Ni"), ("Ni", "Ni")]:
    g1 = u.atoms if a == "all" else u.select_atoms(f"type {a}")
    g2 = u.atoms if b == "all" else u.select_atoms(f"type {b}")
    like = a == b
    r = InterRDF(g1, g2, nbins=nbins, range=(0.0, rmax), exclusion_block=(1, 1) if like else None)
    r.run()
    name = "g_total" if a == "all" else f"g_{a}_{b}"
    diff = np.abs(r.results.rdf - ours[name])
    # one pair moved across a bin edge by float32 positions changes g by one count's worth
    per_count = r.results.rdf / np.maximum(r.results.count, 1)
    counts = np.rint(diff / np.where(per_count > 0, per_count, 1.0) / (2 if like else 1))
    moved += int(counts.sum())
    worst = max(worst, diff.max())
    print(f"MDAnalysis {a}-{b} max |dg| {diff.max():.3e}, bins off by a pair {int((counts > 0).sum())}")
print(f"MDAnalysis pairs moved {moved}")
"#;

#[test]
fn agrees_with_mdanalysis_interrdf_on_h5md() {
    if !common::python_with(&["MDAnalysis", "h5py"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cell, symbols, frames) = alloy_frames();
    let path = dir.path().join("alloy.h5");
    let mut system = System::new(Cell::from_matrix(cell, [true; 3]).unwrap(), Units::Metal);
    for (s, r) in symbols.iter().zip(&frames[0]) {
        let k = system.add_species(s, 1.0);
        system.add_atom(k, *r);
    }
    let fields = H5mdFields {
        position: true,
        velocity: false,
        force: false,
        dipole: false,
    };
    let mut w = H5mdWriter::create(&path, &system, fields).unwrap();
    let mut t = zero_thermo(dir.path());
    for (k, r) in frames.iter().enumerate() {
        system.positions = r.clone();
        (t.step, t.time) = (k as u64, k as f64);
        w.write(k as u64, k as f64, &system, &[], &t).unwrap();
    }
    drop(w);
    let (ok, text) = analyze(&[path.to_str().unwrap(), "--r-max", "5.5", "--bins", "110"]);
    assert!(ok, "{text}");
    let text = std::fs::read_to_string(dir.path().join("alloy.rdf.csv")).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let plain = dir.path().join("plain.csv");
    std::fs::write(&plain, format!("{}\n{rest}", head.replace('-', "_"))).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", MDA_COMPARE])
        .args([
            path.to_str().unwrap(),
            plain.to_str().unwrap(),
            "5.5",
            "110",
        ])
        .arg(symbols.join(","))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let moved: usize = (stdout
        .lines()
        .find_map(|l| l.strip_prefix("MDAnalysis pairs moved ")))
    .unwrap()
    .parse()
    .unwrap();
    // float32 positions in MDAnalysis: at most a few of ~40,000 distances change bins
    assert!(moved <= 10, "{stdout}");
}

/// A species with one atom has no like pairs: its g is undefined, so its column is left out
/// (with a warning) rather than written as NaN, and asking for it by name is an error.
#[test]
fn a_lone_atom_of_a_species_gives_no_column_of_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lone.xyz");
    let cell = DMat3::from_diagonal(DVec3::splat(12.0));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let symbols: Vec<String> = (0..8)
        .map(|i| if i == 0 { "B" } else { "A" }.to_string())
        .collect();
    let frames: Vec<Frame> = (0..4)
        .map(|k| {
            let r = (0..8)
                .map(|_| cell * DVec3::new(rng.random(), rng.random(), rng.random()))
                .collect();
            frame(cell, &symbols, r, k as f64)
        })
        .collect();
    write_file(&path, &frames).unwrap();
    let (ok, text) = analyze(&[path.to_str().unwrap(), "--bins", "20"]);
    assert!(ok && text.contains("B-B: too few atoms"), "{text}");
    let (names, g) = read_csv(&dir.path().join("lone.rdf.csv"));
    assert_eq!(names, ["r", "g_total", "g_B-A", "g_A-A"], "{names:?}");
    assert!(g.values().flatten().all(|v| v.is_finite()));
    let (ok, text) = analyze(&[path.to_str().unwrap(), "--pairs", "B-B"]);
    assert!(!ok && text.contains("--pairs B-B: too few atoms"), "{text}");
}
