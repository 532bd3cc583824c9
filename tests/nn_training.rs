//! Training gradients: the exact gradient of the loss (energy, force and stress terms, the
//! latter two through dual numbers over the reverse pass) against central finite
//! differences of the loss in every kind of weight.

use eqmd::io::extxyz::{self, Frame, InfoValue};
use eqmd::potential::equivariant::model::{DipoleHead, Hyper, Model};
use eqmd::potential::equivariant::network::Evaluator;
use eqmd::potential::equivariant::parameters::ParameterLayout;
use eqmd::potential::Scratch;
use eqmd::train::data::load_samples;
use eqmd::train::loss::{batch_gradient, frame_errors, frame_gradient, LossWeights, Sample};
use glam::{DMat3, DVec3};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn hyper(lmax: usize) -> Hyper {
    Hyper {
        species: vec!["H".into(), "C".into(), "O".into()],
        lmax,
        channels: 4,
        layers: 2,
        cutoff: 3.5,
        radial_basis: 6,
        radial_hidden: vec![8],
        parity: false,
        avg_neighbors: 5.0,
        correlation: 1,
        layer_readouts: false,
        dipole: None,
    }
}

fn random_vec(rng: &mut ChaCha8Rng, scale: f64) -> DVec3 {
    DVec3::new(
        rng.random::<f64>() - 0.5,
        rng.random::<f64>() - 0.5,
        rng.random::<f64>() - 0.5,
    ) * scale
}

/// A molecule-like cluster of 7 atoms (no cell) and a periodic triclinic box of 8 atoms
/// with a stress, both with random labels so every term of the loss is non-zero.
fn samples(dir: &std::path::Path) -> Vec<Sample> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let names = ["C", "C", "O", "H", "H", "H", "H", "C"];
    let mut frames = Vec::new();
    // molecule: atoms on a jittered chain
    let positions: Vec<DVec3> = (0..7)
        .map(|k| DVec3::new(1.1 * k as f64, 0.3 * (k % 2) as f64, 0.0) + random_vec(&mut rng, 0.4))
        .collect();
    let mut f = Frame::new(
        names[..7].iter().map(|s| s.to_string()).collect(),
        positions,
    );
    f.set_energy(-3.0);
    f.set_forces(
        &(0..7)
            .map(|_| random_vec(&mut rng, 2.0))
            .collect::<Vec<_>>(),
    );
    let dipole = InfoValue::FloatArray(vec![0.31, -0.22, 0.47]);
    f.info.insert("dipole".into(), dipole);
    frames.push(f);
    // crystal
    let lattice = DMat3::from_cols(
        DVec3::new(4.4, 0.0, 0.0),
        DVec3::new(0.7, 4.1, 0.0),
        DVec3::new(-0.3, 0.5, 4.6),
    );
    let positions: Vec<DVec3> = (0..8)
        .map(|k| {
            let frac = DVec3::new((k % 2) as f64, ((k / 2) % 2) as f64, (k / 4) as f64) * 0.5;
            lattice * frac + random_vec(&mut rng, 0.5)
        })
        .collect();
    let mut f = Frame::new(names.iter().map(|s| s.to_string()).collect(), positions);
    f.lattice = Some(lattice);
    f.pbc = [true; 3];
    f.set_energy(2.0);
    f.set_forces(
        &(0..8)
            .map(|_| random_vec(&mut rng, 2.0))
            .collect::<Vec<_>>(),
    );
    let a = DMat3::from_cols(
        random_vec(&mut rng, 0.1),
        random_vec(&mut rng, 0.1),
        random_vec(&mut rng, 0.1),
    );
    f.set_stress(a + a.transpose());
    frames.push(f);
    let path = dir.join("frames.xyz");
    extxyz::write_file(&path, &frames).unwrap();
    load_samples(&path, &hyper(0).species, 3.5).unwrap()
}

/// Indices to probe: a few in every block of the layout.
fn probes(layout: &ParameterLayout, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut starts = vec![layout.embedding, layout.readout];
    for l in &layout.layers {
        starts.extend(&l.up);
        starts.push(l.radial);
        starts.extend(&l.down);
        starts.extend(&l.product);
        starts.extend(&l.mix);
        starts.extend(l.self_connection.iter().flatten());
        starts.extend(l.readout);
    }
    let d = layout.dipole;
    starts.extend([d.charge, d.atomic, d.cartesian].into_iter().flatten());
    starts.sort();
    starts.dedup();
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(layout.len);
        for _ in 0..2 {
            out.push(s + rng.random_range(0..end - s));
        }
    }
    out
}

fn check(lmax: usize, weights: LossWeights, sample: &Sample, what: &str) {
    check_model(hyper(lmax), weights, sample, what)
}

fn check_model(hyper: Hyper, weights: LossWeights, sample: &Sample, what: &str) {
    let lmax = hyper.lmax;
    let mut model = Model::random(hyper, 11 + lmax as u64);
    model.scale = vec![0.7, 1.3, 0.9];
    model.shift = vec![-0.2, 0.1, 0.3];
    let ev = Evaluator::new(&model);
    let layout = ParameterLayout::of(&model);
    let theta = model.trainable();
    assert_eq!(theta.len(), layout.len);
    let mut grad = vec![0.0; layout.len];
    let e = frame_gradient(
        &ev,
        &model,
        &layout,
        sample,
        &weights,
        &mut grad,
        &Scratch::default(),
    );
    let e2 = frame_errors(&ev, &model, sample, &weights);
    assert_eq!(e.loss, e2.loss);
    assert!(e.loss > 0.0);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let h = 1e-5;
    let mut worst: f64 = 0.0;
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for k in probes(&layout, &mut rng) {
        let mut m = model.clone();
        let mut t = theta.clone();
        t[k] += h;
        m.set_trainable(&t);
        let up = frame_errors(&ev, &m, sample, &weights).loss;
        t[k] -= 2.0 * h;
        m.set_trainable(&t);
        let down = frame_errors(&ev, &m, sample, &weights).loss;
        let fd = (up - down) / (2.0 * h);
        let err = (fd - grad[k]).abs() / (grad[k].abs() + 1e-3 * scale);
        worst = worst.max(err);
        assert!(
            err < 1e-5,
            "{what}, L = {lmax}: parameter {k}: exact {} vs finite difference {fd}",
            grad[k]
        );
    }
    println!("{what}, L = {lmax}: worst relative error {worst:.2e}, largest gradient {scale:.3e}");
}

const ENERGY: LossWeights = LossWeights {
    energy: 1.0,
    forces: 0.0,
    stress: 0.0,
    dipole: 0.0,
};
const FORCES: LossWeights = LossWeights {
    energy: 0.0,
    forces: 1.0,
    stress: 0.0,
    dipole: 0.0,
};
const STRESS: LossWeights = LossWeights {
    energy: 0.0,
    forces: 0.0,
    stress: 10.0,
    dipole: 0.0,
};
const ALL: LossWeights = LossWeights {
    energy: 1.0,
    forces: 3.0,
    stress: 10.0,
    dipole: 0.0,
};
const DIPOLE: LossWeights = LossWeights {
    energy: 0.0,
    forces: 0.0,
    stress: 0.0,
    dipole: 2.0,
};

#[test]
fn energy_term_gradient_matches_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    for lmax in 0..=2 {
        check(lmax, ENERGY, &s[0], "energy, molecule");
        check(lmax, ENERGY, &s[1], "energy, crystal");
    }
}

#[test]
fn force_term_gradient_matches_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    for lmax in 0..=2 {
        check(lmax, FORCES, &s[0], "forces, molecule");
        check(lmax, FORCES, &s[1], "forces, crystal");
    }
}

#[test]
fn stress_term_gradient_matches_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    assert!(s[1].stress.is_some() && s[0].stress.is_none());
    for lmax in 0..=2 {
        check(lmax, STRESS, &s[1], "stress, crystal");
    }
}

#[test]
fn whole_loss_gradient_matches_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    check(2, ALL, &s[0], "all terms, molecule");
    check(3, ALL, &s[1], "all terms, crystal");
}

/// All loss terms of a model of shape `h` on the molecule (`s[0]`) and the crystal (`s[1]`).
fn check_molecule_and_crystal(h: Hyper, s: &[Sample], what: &str) {
    check_model(
        h.clone(),
        ALL,
        &s[0],
        &format!("all terms, molecule, {what}"),
    );
    check_model(h, ALL, &s[1], &format!("all terms, crystal, {what}"));
}

/// Every kind of weight of layers with a product basis (ν = 2, 3): the energy, force and
/// stress terms' gradients against finite differences.
#[test]
fn product_basis_loss_gradient_matches_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    for lmax in 0..=2 {
        for correlation in 2..=3 {
            let mut h = hyper(lmax);
            h.correlation = correlation;
            check_molecule_and_crystal(h, &s, &format!("ν = {correlation}"));
        }
    }
}

/// Readouts of every layer (MACE's): their own weights and every other kind, the energy,
/// force and stress terms' gradients against finite differences, with and without a
/// product basis.
#[test]
fn layer_readout_loss_gradient_matches_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    for (lmax, correlation) in [(0, 1), (2, 1), (1, 3)] {
        let mut h = hyper(lmax);
        h.correlation = correlation;
        h.layers = 3;
        h.layer_readouts = true;
        let model = Model::random(h.clone(), 1);
        let layout = ParameterLayout::of(&model);
        let readouts: Vec<Option<usize>> = layout.layers.iter().map(|l| l.readout).collect();
        assert!(readouts[0].is_some() && readouts[1].is_some() && readouts[2].is_none());
        let what = format!("ν = {correlation}, readouts of every layer");
        check_molecule_and_crystal(h, &s, &what);
    }
}

/// The dipole term (a head of charges and atomic dipoles on the last features): its
/// gradient in every kind of weight, the head's own included, against finite differences,
/// alone and with every other term, with and without a product basis.
#[test]
fn dipole_loss_gradient_matches_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    let label = s[0].dipole.as_ref().expect("the molecule carries a dipole");
    assert_eq!(label.vector, DVec3::new(0.31, -0.22, 0.47));
    assert!(s[1].dipole.is_none());
    for (lmax, correlation, head) in [
        (0, 1, DipoleHead::ChargesAndDipoles),
        (1, 1, DipoleHead::ChargesAndDipoles),
        (2, 3, DipoleHead::ChargesAndDipoles),
        (1, 1, DipoleHead::Charges),
        (1, 2, DipoleHead::Invariant),
    ] {
        let mut h = hyper(lmax);
        h.correlation = correlation;
        h.dipole = Some(head);
        let what = format!("ν = {correlation}, {} head", head.name());
        check_model(h.clone(), DIPOLE, &s[0], &format!("dipole term, {what}"));
        let both = LossWeights { dipole: 2.0, ..ALL };
        check_model(h, both, &s[0], &format!("all terms, {what}"));
    }
}

/// A batch goes through one pass over its frames' merged graphs: its gradient is the sum of
/// the frames' own, and each frame keeps its own errors, with every term of the loss, a
/// product basis, per-layer readouts and a dipole head, over a molecule, a crystal, a lone
/// atom and the molecule again.
#[test]
fn a_batch_gradient_is_the_sum_of_its_frames_gradients() {
    let dir = tempfile::tempdir().unwrap();
    let s = samples(dir.path());
    let mut h = hyper(2);
    h.correlation = 3;
    h.layer_readouts = true;
    h.dipole = Some(DipoleHead::ChargesAndDipoles);
    let mut model = Model::random(h, 23);
    model.scale = vec![0.7, 1.3, 0.9];
    model.shift = vec![-0.4, 0.2, 0.1];
    let (ev, layout) = (Evaluator::new(&model), ParameterLayout::of(&model));
    let w = LossWeights { dipole: 2.0, ..ALL };
    let scratch = Scratch::default();
    // a lone atom (no edge), as data sets give isolated atoms' energies
    let lone = Sample {
        graph: eqmd::potential::equivariant::network::Graph {
            species: vec![1],
            edge_start: vec![0, 0],
            ..Default::default()
        },
        energy: -1.5,
        forces: vec![DVec3::ZERO],
        stress: None,
        dipole: None,
    };
    let batch = [&s[0], &s[1], &lone, &s[0]];
    let mut merged = vec![0.0; layout.len];
    let errors = batch_gradient(&ev, &model, &layout, &batch, &w, &mut merged, &scratch);
    let mut summed = vec![0.0; layout.len];
    for (sample, e) in batch.iter().zip(&errors) {
        let alone = frame_gradient(&ev, &model, &layout, sample, &w, &mut summed, &scratch);
        assert!(
            (e.loss - alone.loss).abs() <= 1e-12 * alone.loss,
            "{e:?} {alone:?}"
        );
        assert!((e.force_sq - alone.force_sq).abs() <= 1e-12 * alone.force_sq);
        assert_eq!(e.atoms, alone.atoms);
        assert_eq!(e.stress_sq.is_some(), alone.stress_sq.is_some());
        assert_eq!(e.dipole_error.is_some(), alone.dipole_error.is_some());
    }
    let norm = summed.iter().map(|g| g * g).sum::<f64>().sqrt();
    assert!(norm > 0.0);
    for (k, (a, b)) in merged.iter().zip(&summed).enumerate() {
        assert!(
            (a - b).abs() <= 1e-11 * norm,
            "weight {k}: batch {a}, frames {b}"
        );
    }
}

/// A `dipole` that is not 3 finite numbers is refused, naming the file and the frame.
#[test]
fn a_bad_dipole_is_refused_with_file_and_frame() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, says) in [
        (InfoValue::FloatArray(vec![0.1, 0.2]), "3 finite numbers"),
        (
            InfoValue::FloatArray(vec![0.1, f64::NAN, 0.2]),
            "3 finite numbers",
        ),
        (InfoValue::Str("up".into()), "3 numbers"),
    ] {
        let mut f = Frame::new(vec!["H".into(), "H".into()], vec![DVec3::ZERO, DVec3::X]);
        f.set_energy(-1.0);
        f.set_forces(&[DVec3::ZERO, DVec3::ZERO]);
        f.info.insert("dipole".into(), bad);
        let path = dir.path().join("bad.xyz");
        extxyz::write_file(&path, &[f.clone(), f]).unwrap();
        let err = format!(
            "{:#}",
            load_samples(&path, &hyper(0).species, 3.5).unwrap_err()
        );
        assert!(
            err.contains("bad.xyz frame 1") && err.contains(says),
            "{err}"
        );
    }
}
