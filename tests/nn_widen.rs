//! Widening a model to more channels or a higher degree L keeps what it computes: energy,
//! forces, virial and dipole of the wide model are the narrow one's to rounding, for every
//! kind of layer (correlation 1 to 3), per-layer readouts and each dipole head, on a
//! molecule and on a crystal.

mod common;

use common::*;
use eqmd::cell::Cell;
use eqmd::potential::equivariant::model::{DipoleHead, Hyper, Model};
use eqmd::potential::equivariant::potential::Equivariant;
use eqmd::potential::equivariant::widen::widen;
use eqmd::system::System;
use glam::DVec3;

fn trained_like(hyper: Hyper, seed: u64) -> Model {
    let mut m = Model::random(hyper, seed);
    m.scale = vec![0.7, 1.3];
    m.shift = vec![-1.0, 0.5];
    m
}

fn close(a: f64, b: f64, scale: f64, what: &str) {
    assert!((a - b).abs() <= 1e-12 * scale, "{what}: {a} vs {b}");
}

fn same_physics(narrow: &Model, wide: &Model, system: &System, what: &str) {
    let names = &system.species_names;
    let a = compute(&Equivariant::new(narrow.clone(), names).unwrap(), system);
    let b = compute(&Equivariant::new(wide.clone(), names).unwrap(), system);
    close(a.energy, b.energy, 1.0 + a.energy.abs(), what);
    let f = a
        .forces
        .iter()
        .map(|f| f.abs().max_element())
        .fold(1.0, f64::max);
    for (x, y) in a.forces.iter().zip(&b.forces) {
        for k in 0..3 {
            close(x[k], y[k], f, &format!("{what}: force"));
        }
    }
    let v = a.virial.abs().to_cols_array();
    let scale = v.iter().copied().fold(1.0, f64::max);
    for (x, y) in a
        .virial
        .to_cols_array()
        .iter()
        .zip(b.virial.to_cols_array())
    {
        close(*x, y, scale, &format!("{what}: virial"));
    }
    match (a.dipole, b.dipole) {
        (None, None) => {}
        (Some(x), Some(y)) => {
            let scale = 1.0 + x.length();
            for k in 0..3 {
                close(x[k], y[k], scale, &format!("{what}: dipole"));
            }
        }
        _ => panic!("{what}: a dipole from one model only"),
    }
}

#[test]
fn the_wide_model_computes_what_the_narrow_one_did() {
    let molecule = random_system(Cell::vacuum(), 7, 2, 0.9, 3.0, 1);
    let crystal = random_system(
        periodic(
            DVec3::new(4.5, 0.0, 0.0),
            DVec3::new(0.8, 4.2, 0.0),
            DVec3::new(-0.4, 0.6, 4.8),
        ),
        8,
        2,
        1.0,
        0.0,
        2,
    );
    use DipoleHead::*;
    let cases = [
        (0, 1, false, Some(ChargesAndDipoles)),
        (1, 1, true, Some(Charges)),
        (1, 3, false, None),
        (2, 3, true, Some(ChargesAndDipoles)),
        (3, 2, false, Some(Invariant)),
    ];
    for (k, (lmax, correlation, layer_readouts, head)) in cases.into_iter().enumerate() {
        let hyper = Hyper {
            parity: lmax % 2 == 1,
            correlation,
            layer_readouts,
            dipole: head,
            ..small_hyper(lmax)
        };
        let narrow = trained_like(hyper, 5 + k as u64);
        let higher = (lmax + 1).min(3);
        for (channels, to_lmax) in [(5, lmax), (9, lmax), (4, higher), (6, higher), (6, 3)] {
            let wide = widen(&narrow, channels, to_lmax, 17).unwrap();
            assert_eq!((wide.hyper.channels, wide.hyper.lmax), (channels, to_lmax));
            let what = format!("L = {lmax} → {to_lmax}, ν = {correlation}, {channels} channels");
            same_physics(&narrow, &wide, &molecule, &format!("{what}, molecule"));
            same_physics(&narrow, &wide, &crystal, &format!("{what}, crystal"));
        }
    }
}
