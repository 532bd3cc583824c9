//! `eqmd analyze msd` and `vacf`: free particles moving in straight lines through a
//! periodic triclinic box have MSD = ⟨v²⟩ t² per species (periodic jumps unwrapped), their
//! VACF is ⟨v²⟩ raw and 1 normalised, from H5MD (with times) and extended XYZ (with a
//! `time` key, or --dt); frame selections set the lag spacing; and missing velocities or
//! times, uneven frames and bad options fail with messages naming them.

mod common;

use eqmd::analysis::trajectory::Selection;
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

fn analyze(what: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["analyze", what];
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

/// Free particles: 40 frames 0.1 apart of straight-line motion through a skewed periodic
/// box, positions wrapped into it; species, velocities and the cell.
struct Free {
    cell: DMat3,
    symbols: Vec<String>,
    velocities: Vec<DVec3>,
    frames: Vec<Vec<DVec3>>,
}

const DT: f64 = 0.1;

fn free_particles() -> Free {
    let cell = DMat3::from_cols(
        DVec3::new(12.0, 0.0, 0.0),
        DVec3::new(3.0, 11.0, 0.0),
        DVec3::new(-2.0, 2.5, 10.0),
    );
    let c = Cell::from_matrix(cell, [true; 3]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let n = 60;
    let symbols: Vec<String> = (0..n)
        .map(|i| ["Ar", "Ne"][i % 3 / 2].to_string())
        .collect();
    let start: Vec<DVec3> = (0..n)
        .map(|_| cell * DVec3::new(rng.random(), rng.random(), rng.random()))
        .collect();
    // up to 20 length units per time unit: 2 per frame, many boundary crossings in 40
    let velocities: Vec<DVec3> = (0..n)
        .map(|i| {
            let scale = if symbols[i] == "Ne" { 20.0 } else { 8.0 };
            (DVec3::new(rng.random(), rng.random(), rng.random()) - 0.5) * scale
        })
        .collect();
    let frames = (0..40)
        .map(|k| {
            (start.iter().zip(&velocities))
                .map(|(r, v)| c.wrap(*r + *v * (k as f64 * DT)))
                .collect()
        })
        .collect();
    Free {
        cell,
        symbols,
        velocities,
        frames,
    }
}

/// The frames as extended XYZ, with velocities and times if asked.
fn write_xyz(path: &Path, free: &Free, velocities: bool, times: bool) {
    let frames: Vec<Frame> = (free.frames.iter().enumerate())
        .map(|(k, r)| {
            let mut f = Frame::new(free.symbols.clone(), r.clone());
            f.lattice = Some(free.cell);
            f.pbc = [true; 3];
            if velocities {
                f.set_vector_array("velocities", &free.velocities);
            }
            if times {
                f.info
                    .insert("time".into(), InfoValue::Float(k as f64 * DT));
            }
            f
        })
        .collect();
    write_file(path, &frames).unwrap();
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

fn write_h5md(path: &Path, free: &Free) {
    let mut system = System::new(
        Cell::from_matrix(free.cell, [true; 3]).unwrap(),
        Units::Metal,
    );
    for (s, r) in free.symbols.iter().zip(&free.frames[0]) {
        let k = system.add_species(s, 1.0);
        system.add_atom(k, *r);
    }
    system.velocities = free.velocities.clone();
    let fields = H5mdFields {
        position: true,
        velocity: true,
        force: false,
        dipole: false,
    };
    let mut w = H5mdWriter::create(path, &system, fields).unwrap();
    let mut t = zero_thermo(path.parent().unwrap());
    for (k, r) in free.frames.iter().enumerate() {
        system.positions = r.clone();
        let time = k as f64 * DT;
        (t.step, t.time) = (k as u64, time);
        w.write(k as u64, time, &system, &[], &t).unwrap();
    }
}

/// ⟨v²⟩ over the atoms of `species` (all when None).
fn mean_v2(free: &Free, species: Option<&str>) -> f64 {
    let v: Vec<f64> = (free.velocities.iter().zip(&free.symbols))
        .filter(|(_, s)| species.is_none_or(|x| x == s.as_str()))
        .map(|(v, _)| v.length_squared())
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn check_ballistic(csv: &Path, free: &Free, spacing: f64, lags: usize) {
    let (names, m) = read_csv(csv);
    assert_eq!(names, ["lag_time", "msd_total", "msd_Ar", "msd_Ne"]);
    assert_eq!(m["lag_time"].len(), lags, "{:?}", m["lag_time"]);
    for (column, species) in [
        ("msd_total", None),
        ("msd_Ar", Some("Ar")),
        ("msd_Ne", Some("Ne")),
    ] {
        let v2 = mean_v2(free, species);
        for (t, msd) in m["lag_time"].iter().zip(&m[column]) {
            let expected = v2 * t * t;
            assert!(
                (msd - expected).abs() <= 1e-5 * expected.max(1e-9),
                "{column} at {t}: {msd}, not {expected}"
            );
        }
    }
    assert!((m["lag_time"][1] - spacing).abs() < 1e-9);
}

#[test]
fn ballistic_msd_through_periodic_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let free = free_particles();
    let h5 = dir.path().join("free.h5");
    write_h5md(&h5, &free);
    let (ok, text) = analyze("msd", &[h5.to_str().unwrap()]);
    assert!(ok, "{text}");
    // 40 frames: lags 0..=19 by default
    check_ballistic(&dir.path().join("free.msd.csv"), &free, DT, 20);
    assert!(dir.path().join("free.msd.svg").exists());

    let xyz = dir.path().join("free.xyz");
    write_xyz(&xyz, &free, false, true);
    let out = dir.path().join("all.csv");
    let (ok, text) = analyze(
        "msd",
        &[
            xyz.to_str().unwrap(),
            "--max-lag",
            "3.9",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    check_ballistic(&out, &free, DT, 40);
    // every second frame after 4: lags of 0.2, 36 frames left, 18 used, 9 lags
    let (ok, text) = analyze(
        "msd",
        &[
            xyz.to_str().unwrap(),
            "--frames",
            "4::2",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    check_ballistic(&out, &free, 2.0 * DT, 9);
    let (ok, text) = analyze(
        "msd",
        &[
            xyz.to_str().unwrap(),
            "--skip",
            "4",
            "--every",
            "2",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok && text.contains("18 frames"), "{text}");
    check_ballistic(&out, &free, 2.0 * DT, 9);
}

#[test]
fn times_come_from_the_file_or_dt() {
    let dir = tempfile::tempdir().unwrap();
    let free = free_particles();
    let xyz = dir.path().join("untimed.xyz");
    write_xyz(&xyz, &free, true, false);
    let (ok, text) = analyze("msd", &[xyz.to_str().unwrap()]);
    assert!(
        !ok && text.contains("--dt") && text.contains("untimed.xyz"),
        "{text}"
    );
    let (ok, text) = analyze("msd", &[xyz.to_str().unwrap(), "--dt", "0.1"]);
    assert!(ok, "{text}");
    check_ballistic(&dir.path().join("untimed.msd.csv"), &free, DT, 20);
    let (ok, text) = analyze("vacf", &[xyz.to_str().unwrap(), "--dt=-1"]);
    assert!(!ok && text.contains("--dt"), "{text}");
}

#[test]
fn vacf_of_constant_velocities_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let free = free_particles();
    let h5 = dir.path().join("free.h5");
    write_h5md(&h5, &free);
    let xyz = dir.path().join("free.xyz");
    write_xyz(&xyz, &free, true, true);
    for path in [&h5, &xyz] {
        let (ok, text) = analyze("vacf", &[path.to_str().unwrap(), "--max-lag", "2"]);
        assert!(ok, "{text}");
        let (names, c) = read_csv(&path.with_extension("vacf.csv"));
        assert_eq!(
            names,
            [
                "lag_time",
                "vacf_total",
                "vacf_norm_total",
                "vacf_Ar",
                "vacf_norm_Ar",
                "vacf_Ne",
                "vacf_norm_Ne"
            ]
        );
        assert_eq!(c["lag_time"].len(), 21);
        for (name, species) in [("total", None), ("Ar", Some("Ar")), ("Ne", Some("Ne"))] {
            let v2 = mean_v2(&free, species);
            for (raw, norm) in c[&format!("vacf_{name}")]
                .iter()
                .zip(&c[&format!("vacf_norm_{name}")])
            {
                assert!((raw - v2).abs() < 1e-5 * v2, "{name}: {raw} vs {v2}");
                assert!((norm - 1.0).abs() < 1e-6, "{name}: {norm}");
            }
        }
    }
}

/// The comment line `line` with its `time=` value made infinite.
fn time_to_inf(line: &str) -> String {
    line.split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some(("time", _)) => "time=inf".to_string(),
            _ => kv.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn missing_velocities_uneven_frames_and_bad_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let free = free_particles();
    let xyz = dir.path().join("still.xyz");
    write_xyz(&xyz, &free, false, true);
    let (ok, text) = analyze("vacf", &[xyz.to_str().unwrap()]);
    assert!(
        !ok && text.contains("no velocities") && text.contains("still.xyz"),
        "{text}"
    );
    let (ok, text) = analyze("msd", &[xyz.to_str().unwrap(), "--max-lag", "100"]);
    assert!(!ok && text.contains("--max-lag"), "{text}");
    let (ok, text) = analyze("msd", &[xyz.to_str().unwrap(), "--frames", "3:4"]);
    assert!(!ok && text.contains("at least 2 frames"), "{text}");
    // a frame missing: uneven spacing
    let text = std::fs::read_to_string(&xyz).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let per = free.symbols.len() + 2;
    let cut: Vec<&str> = [&lines[..5 * per], &lines[6 * per..]].concat();
    let gap = dir.path().join("gap.xyz");
    std::fs::write(&gap, cut.join("\n") + "\n").unwrap();
    let (ok, text) = analyze("msd", &[gap.to_str().unwrap()]);
    assert!(!ok && text.contains("not evenly spaced"), "{text}");
    // the last frame at an infinite time: refused, not a row of NaN
    let mut last = lines.clone();
    let at = (lines.len() / per - 1) * per + 1;
    let inf = time_to_inf(lines[at]);
    last[at] = &inf;
    let timeless = dir.path().join("inf.xyz");
    std::fs::write(&timeless, last.join("\n") + "\n").unwrap();
    let (ok, text) = analyze("msd", &[timeless.to_str().unwrap()]);
    assert!(!ok && text.contains("is not finite"), "{text}");
    // other atoms in a later frame
    let mut other = lines.clone();
    let swapped = other[2].replacen("Ar", "Kr", 1);
    other[per + 2] = &swapped;
    let changed = dir.path().join("changed.xyz");
    std::fs::write(&changed, other.join("\n") + "\n").unwrap();
    let (ok, text) = analyze("msd", &[changed.to_str().unwrap()]);
    assert!(!ok && text.contains("frame 1 holds other atoms"), "{text}");
}

#[test]
fn frame_selections_are_python_slices() {
    let pick = |s: &str, n| Selection::parse(s).unwrap().indices(n);
    assert_eq!(pick("2:8:3", 10), [2, 5]);
    assert_eq!(pick("-3:", 10), [7, 8, 9]);
    assert_eq!(pick("::4", 10), [0, 4, 8]);
    assert_eq!(pick(":-8", 10), [0, 1]);
    assert_eq!(pick("5", 10), [5]);
    assert_eq!(pick("-1", 10), [9]);
    assert_eq!(pick("20:", 10), Vec::<usize>::new());
    assert_eq!(Selection::skip_every(3, 3).unwrap().indices(10), [3, 6, 9]);
    assert!(Selection::parse("1:2:-1").is_err());
    assert!(Selection::parse("1:2:3:4").is_err());
    assert!(Selection::skip_every(0, 0).is_err());
}
