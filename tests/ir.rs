//! `eqmd analyze ir`: the spectrum of a Morse diatomic (CO-like; the like pairs, absent
//! from a lone pair of atoms, are given for completeness) with fixed charges, run in NVE
//! at small amplitude, peaks at its harmonic wavenumber α √(2 D₀ / μ) / (2π c).

mod common;

use common::eqmd;
use eqmd::io::h5md::{H5mdFields, H5mdWriter};
use eqmd::state::Thermo;
use eqmd::system::System;
use glam::DVec3;

#[test]
fn a_morse_diatomic_with_fixed_charges_absorbs_at_its_harmonic_wavenumber() {
    let dir = tempfile::tempdir().unwrap();
    let (d0, alpha, r0) = (11.2, 2.3, 1.128);
    let (mc, mo) = (12.011, 15.999);
    std::fs::write(
        dir.path().join("co.xyz"),
        format!(
            "2\nProperties=species:S:1:pos:R:3\nC 0 0 0\nO {} 0 0\n",
            r0 + 0.01
        ),
    )
    .unwrap();
    let deck = format!(
        "version = 1\nunits = \"metal\"\n[system]\nstructure = \"co.xyz\"\n\
         masses = {{ C = {mc}, O = {mo} }}\n[potential]\ntype = \"morse\"\ncutoff = 6.0\n\
         pairs = [{{ species = [\"C\", \"O\"], d0 = {d0}, alpha = {alpha}, r0 = {r0} }},\
         {{ species = [\"C\", \"C\"], d0 = 0.01, alpha = 1.0, r0 = 1.0 }},\
         {{ species = [\"O\", \"O\"], d0 = 0.01, alpha = 1.0, r0 = 1.0 }}]\n\
         [integrator]\ntimestep = 0.0002\nsteps = 20000\n[thermo]\nevery = 1000\n\
         [h5md]\nfile = \"co.h5\"\nevery = 1\nfields = [\"position\"]\n"
    );
    std::fs::write(dir.path().join("co.toml"), deck).unwrap();
    let out = eqmd(&["run", dir.path().join("co.toml").to_str().unwrap(), "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // the dipole of charges ±0.2 e on the two atoms, frame by frame, into an H5MD series
    let run = hdf5::File::open(dir.path().join("co.h5")).unwrap();
    let pos: Vec<f64> = run
        .dataset("particles/all/position/value")
        .unwrap()
        .read_raw()
        .unwrap();
    let times: Vec<f64> = run
        .dataset("particles/all/position/time")
        .unwrap()
        .read_raw()
        .unwrap();
    let mut s = System::new(eqmd::cell::Cell::vacuum(), eqmd::units::Units::Metal);
    let k = s.add_species("C", mc);
    s.add_atom(k, DVec3::ZERO);
    let fields = H5mdFields {
        position: true,
        velocity: false,
        force: false,
        dipole: true,
    };
    let path = dir.path().join("dipole.h5");
    let mut w = H5mdWriter::create(&path, &s, fields).unwrap();
    for (f, t) in pos.chunks_exact(6).zip(&times) {
        let (c, o) = (DVec3::from_slice(&f[..3]), DVec3::from_slice(&f[3..]));
        let thermo = Thermo {
            step: 0,
            time: *t,
            pe: 0.0,
            ke: 0.0,
            etotal: 0.0,
            temp: 0.0,
            press: 0.0,
            conserved: 0.0,
            volume: 0.0,
            dipole: Some((c - o) * 0.2),
        };
        w.write(0, *t, &s, &[DVec3::ZERO], &thermo).unwrap();
    }
    drop(w);
    let csv = dir.path().join("co.ir.csv");
    let out = eqmd(&[
        "analyze",
        "ir",
        path.to_str().unwrap(),
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("co.ir.svg").exists());
    let rows: Vec<(f64, f64)> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    let (peak, _) = rows
        .iter()
        .cloned()
        .fold((0.0, 0.0), |m, r| if r.1 > m.1 { r } else { m });
    // ω = α √(2 D₀ / μ), in rad/ps with 1 amu Å² ps⁻² = 1.0364269e-4 eV
    let mu = mc * mo / (mc + mo);
    let omega = alpha * (2.0 * d0 / (mu * 1.036_426_9e-4)).sqrt();
    let expected = omega / (2.0 * std::f64::consts::PI) / 2.997_924_58e-2;
    let bin = rows[1].0 - rows[0].0;
    println!("peak {peak:.1} cm⁻¹, harmonic {expected:.1} cm⁻¹, bin {bin:.1}");
    assert!(
        (peak - expected).abs() <= 1.5 * bin,
        "peak {peak}, expected {expected}"
    );
    // a trajectory without a dipole series is refused, and no output replaces an input
    let out = eqmd(&["analyze", "ir", dir.path().join("co.h5").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no /observables/dipole"),
        "{err}"
    );
    let out = eqmd(&[
        "analyze",
        "ir",
        path.to_str().unwrap(),
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(hdf5::File::open(&path).is_ok(), "the trajectory survived");
}

/// The shipped ethanol deck (`inputs/ethanol_ir.toml`: 25 ps at 300 K with the dipole
/// model, about four minutes of one core) as it is: every band of the IR spectrum above
/// 400 cm⁻¹ sits on a band of the vibrational density of states of the same frames, within
/// a bin of 17 cm⁻¹ (a band of the dipole is a band of the motion; the converse need not
/// hold, as a mode may move the atoms and hardly the dipole). Below 400 cm⁻¹ lie the free
/// molecule's rotation and the large-amplitude O–H and CH₃ torsions, whose dipole and
/// velocity autocorrelations differ in shape, not only in weight.
#[test]
fn ethanol_ir_bands_lie_on_bands_of_the_density_of_states() {
    let dir = tempfile::tempdir().unwrap();
    let deck = concat!(env!("CARGO_MANIFEST_DIR"), "/inputs/ethanol_ir.toml");
    let out = eqmd(&[
        "run",
        deck,
        "-q",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = dir.path().join("ethanol.ir.csv");
    let out = eqmd(&[
        "analyze",
        "ir",
        dir.path().join("ethanol_ir.h5").to_str().unwrap(),
        "--max-lag",
        "1",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("wavenumber_cm-1,intensity,vdos\n"),
        "{text:.80}"
    );
    let rows: Vec<Vec<f64>> = (text.lines().skip(1))
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    let k: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let bands = |col: usize| -> Vec<usize> {
        let y: Vec<f64> = rows.iter().map(|r| r[col]).collect();
        (1..y.len() - 1)
            .filter(|&j| y[j] > 0.05 && y[j] > y[j - 1] && y[j] >= y[j + 1])
            .collect()
    };
    let ir: Vec<usize> = (bands(1).into_iter()).filter(|&j| k[j] > 400.0).collect();
    let dos = bands(2);
    let show = |b: &[usize]| b.iter().map(|&j| k[j].round()).collect::<Vec<_>>();
    println!("IR bands {:?}\nDOS bands {:?}", show(&ir), show(&dos));
    // enough bands for the comparison to mean something: the C–H stretches near
    // 3000 cm⁻¹ and at least four between 400 and 1600 (C–C, C–O, bends)
    let count = |lo: f64, hi: f64| ir.iter().filter(|&&j| (lo..hi).contains(&k[j])).count();
    assert!(count(2800.0, 3200.0) >= 1, "{:?}", show(&ir));
    assert!(count(400.0, 1600.0) >= 4, "{:?}", show(&ir));
    for &j in &ir {
        assert!(
            dos.iter().any(|&d| d.abs_diff(j) <= 1),
            "the IR band at {} cm⁻¹ has no band of the density of states within a bin: {:?}",
            k[j],
            show(&dos)
        );
    }
}
