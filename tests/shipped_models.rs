//! The shipped network models give the same energy, forces, virial (and dipole, with a
//! dipole head), to the last bit, as when their values were recorded
//! (`tests/fixtures/shipped_models/*.txt`): a change to the network's code that alters any
//! arithmetic shows here. `EQMD_BLESS=1 cargo test --release
//! --test shipped_models` records them anew (only for a change meant to alter the numbers).

use eqmd::io::extxyz;
use eqmd::io::structure::Atoms;
use eqmd::potential::equivariant::network::Evaluator;
use eqmd::potential::equivariant::parameters::ParameterLayout;
use eqmd::potential::equivariant::{file, potential::Equivariant};
use eqmd::potential::{evaluate, Scratch};
use eqmd::train::data::load_samples;
use eqmd::train::loss::{frame_gradient, LossWeights};
use eqmd::units::Units;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Energy, virial and forces of `model` on the first frame of `structure`, one number per
/// token in Rust's shortest round-trip form.
fn record(model: &str, structure: &str) -> String {
    let model = file::load(&repo(model)).unwrap();
    let path = repo(structure);
    let frame = extxyz::read_file(&path).unwrap().remove(0);
    let mut system = Atoms::from(&frame).to_system(Units::Metal, &path).unwrap();
    let net = Equivariant::new(model, &system.species_names).unwrap();
    let out = evaluate(&net, &mut system);
    let mut text = format!("energy {:?}\nvirial", out.energy);
    for v in out.virial.to_cols_array() {
        write!(text, " {v:?}").unwrap();
    }
    text.push('\n');
    if let Some(mu) = out.dipole {
        writeln!(text, "dipole {:?} {:?} {:?}", mu.x, mu.y, mu.z).unwrap();
    }
    for (i, f) in out.forces.iter().enumerate() {
        writeln!(text, "force {i} {:?} {:?} {:?}", f.x, f.y, f.z).unwrap();
    }
    text
}

fn check(name: &str, model: &str, structure: &str) {
    let fixture = repo(&format!("tests/fixtures/shipped_models/{name}.txt"));
    let now = record(model, structure);
    if std::env::var_os("EQMD_BLESS").is_some() {
        std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
        std::fs::write(&fixture, &now).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&fixture).unwrap();
    let (a, b): (Vec<&str>, Vec<&str>) = (recorded.lines().collect(), now.lines().collect());
    assert_eq!(a.len(), b.len(), "{name}: number of lines");
    for (was, is) in a.iter().zip(&b) {
        assert_eq!(was, is, "{name}: the numbers changed");
    }
}

#[test]
fn rmd17_ethanol_is_unchanged() {
    check(
        "rmd17-ethanol",
        "potentials/rmd17-ethanol.h5",
        "inputs/structures/ethanol.xyz",
    );
}

#[test]
fn rmd17_aspirin_is_unchanged() {
    check(
        "rmd17-aspirin",
        "potentials/rmd17-aspirin.h5",
        "inputs/data/rmd17-aspirin.xyz",
    );
}

#[test]
fn gfn2_ethanol_dipole_is_unchanged() {
    check(
        "gfn2-ethanol-dipole",
        "potentials/gfn2-ethanol-dipole.h5",
        "inputs/structures/ethanol.xyz",
    );
}

#[test]
fn cu_emt_is_unchanged() {
    check(
        "cu-emt",
        "potentials/cu-emt.h5",
        "inputs/data/cu-emt-val.xyz",
    );
}

#[test]
fn random_models_are_unchanged() {
    check(
        "random-hco-l1",
        "potentials/random-hco-l1.h5",
        "inputs/structures/ethanol.xyz",
    );
    check(
        "random-cu-l1",
        "potentials/random-cu-l1.h5",
        "inputs/data/cu-emt-val.xyz",
    );
}

/// The training gradient of the ethanol model on one frame: its loss, and every component
/// folded into one FNV-1a hash of the bits with the sum and the sum of squares beside it.
fn gradient_record() -> String {
    let model = file::load(&repo("potentials/rmd17-ethanol.h5")).unwrap();
    let h = &model.hyper;
    let data = repo("inputs/structures/ethanol.xyz");
    let sample = &load_samples(&data, &h.species, h.cutoff).unwrap()[0];
    let ev = Evaluator::new(&model);
    let layout = ParameterLayout::of(&model);
    let mut grad = vec![0.0; layout.len];
    let w = LossWeights {
        energy: 1.0,
        forces: 100.0,
        stress: 0.0,
        dipole: 0.0,
    };
    let e = frame_gradient(
        &ev,
        &model,
        &layout,
        sample,
        &w,
        &mut grad,
        &Scratch::default(),
    );
    let hash = grad.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, g| {
        (h ^ g.to_bits()).wrapping_mul(0x0100_0000_01b3)
    });
    let sum: f64 = grad.iter().sum();
    let sq: f64 = grad.iter().map(|g| g * g).sum();
    format!(
        "loss {:?}\ngradient {} {hash:016x} {sum:?} {sq:?}\n",
        e.loss,
        grad.len()
    )
}

#[test]
fn training_gradient_is_unchanged() {
    let fixture = repo("tests/fixtures/shipped_models/rmd17-ethanol-gradient.txt");
    let now = gradient_record();
    if std::env::var_os("EQMD_BLESS").is_some() {
        std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
        std::fs::write(&fixture, &now).unwrap();
        return;
    }
    assert_eq!(std::fs::read_to_string(&fixture).unwrap(), now);
}
