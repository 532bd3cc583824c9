//! An H5MD test system and its frames: values no decimal round trip would preserve, written
//! with every field, for the H5MD tests.

use eqmd::cell::Cell;
use eqmd::io::h5md::{H5mdFields, H5mdWriter};
use eqmd::state::Thermo;
use eqmd::system::System;
use eqmd::units::Units;
use glam::DVec3;
use std::path::Path;

pub const ALL: H5mdFields = H5mdFields {
    position: true,
    velocity: true,
    force: true,
    dipole: false,
};

/// Five atoms of two species in a triclinic cell, periodic along a and b only.
pub fn system(units: Units) -> System {
    let cell = Cell::new(
        DVec3::new(10.1, 0.0, 0.0),
        DVec3::new(1.3, 9.7, 0.0),
        DVec3::new(-0.4, 0.6, 12.25),
        [true, true, false],
    )
    .unwrap();
    let mut s = System::new(cell, units);
    let ar = s.add_species("Ar", 39.948);
    let kr = s.add_species("Kr", 83.798);
    for i in 0..5 {
        let r = DVec3::new(
            0.1 + i as f64 / 3.0,
            2.0 * i as f64 / 7.0,
            1.0 / (i as f64 + 3.0),
        );
        s.add_atom(if i % 2 == 0 { ar } else { kr }, r);
    }
    s
}

/// Frame `k`: positions, velocities and forces that no decimal round trip would preserve.
pub fn frame(s: &mut System, k: usize) -> Vec<DVec3> {
    let kf = k as f64;
    for (i, (r, v)) in s.positions.iter_mut().zip(&mut s.velocities).enumerate() {
        *r += DVec3::new(0.1, -0.2 / 3.0, 1e-17) * (kf + 1.0);
        *v = DVec3::new(
            (i as f64 + kf).sin(),
            -(kf / 7.0),
            f64::MIN_POSITIVE * (i as f64),
        );
    }
    (0..s.len())
        .map(|i| DVec3::new(1.0 / (i as f64 + kf + 1.0), -0.0, std::f64::consts::PI * kf))
        .collect()
}

pub fn thermo(k: usize) -> Thermo {
    let x = k as f64;
    Thermo {
        step: 10 * k as u64,
        time: 0.002 * 10.0 * x,
        pe: -1.5 - x / 3.0,
        ke: 0.25 + x,
        etotal: -1.25 - x / 3.0 + x,
        temp: 94.0 + x / 7.0,
        press: 12.0 - x,
        conserved: 0.0,
        volume: 0.0,
        dipole: None,
    }
}

/// Writes `frames` frames and returns what was written at each (system, forces, thermo).
pub fn write(path: &Path, units: Units, frames: usize) -> Vec<(System, Vec<DVec3>, Thermo)> {
    let mut s = system(units);
    let mut w = H5mdWriter::create(path, &s, ALL).unwrap();
    let mut out = Vec::new();
    for k in 0..frames {
        let f = frame(&mut s, k);
        let t = thermo(k);
        w.write(t.step, t.time, &s, &f, &t).unwrap();
        out.push((s.clone(), f, t));
    }
    out
}
