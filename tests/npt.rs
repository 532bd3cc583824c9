//! NPT: the MTK Nosé–Hoover barostat and C-rescale on a small LJ liquid (the state of
//! LAMMPS's in.lj.npt: T* = 1.5, P* = 2.0). The mean pressure must equal the target within
//! its statistical error, the volume fluctuations must give the compressibility that the
//! equation of state gives (the slope of ⟨V⟩ against P from runs at P ± ΔP), the two
//! barostats must agree on the density, and MTK's conserved quantity must stay bounded.

use eqmd::deck::{Deck, LoadedDeck};
use eqmd::run::prepare;
use std::path::Path;

/// A deck of 500 LJ atoms (fcc 5×5×5 at ρ* = 0.8442) under `barostat` at T* = 1.5.
fn deck(thermostat: &str, barostat: &str) -> LoadedDeck {
    let text = format!(
        r#"
version = 1
units = "lj"
[system]
lattice = {{ kind = "fcc", density = 0.8442, repeat = [5, 5, 5], species = "A" }}
temperature = 1.5
seed = 4242
[potential]
type = "lennard-jones"
cutoff = 2.5
shift = true
pairs = [{{ species = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[integrator]
timestep = 0.005
steps = 1
[thermostat]
{thermostat}
[barostat]
{barostat}
"#
    );
    LoadedDeck::from_str(&text, Path::new("npt.toml"), &[]).unwrap()
}

/// (volume, pressure, conserved) every `every` steps after `skip` steps, of `steps` in all.
fn sample(deck: &LoadedDeck, skip: u64, steps: u64, every: u64) -> Vec<(f64, f64, f64)> {
    let mut sim = prepare(deck).unwrap();
    let mut out = Vec::new();
    for _ in 0..steps {
        sim.step().unwrap();
        if sim.current_step() > skip && sim.current_step() % every == 0 {
            let t = sim.thermo();
            out.push((t.volume, t.press, t.conserved));
        }
    }
    out
}

/// Mean and its standard error from `blocks` block averages.
fn block_mean(x: &[f64], blocks: usize) -> (f64, f64) {
    let per = x.len() / blocks;
    let means: Vec<f64> = (0..blocks)
        .map(|b| x[b * per..(b + 1) * per].iter().sum::<f64>() / per as f64)
        .collect();
    let m = means.iter().sum::<f64>() / blocks as f64;
    let var = means.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (blocks - 1) as f64;
    (m, (var / blocks as f64).sqrt())
}

fn nose_hoover() -> &'static str {
    r#"type = "nose-hoover"
temperature = 1.5
damping = 0.5"#
}

fn c_rescale(p: f64) -> String {
    format!(
        r#"type = "c-rescale"
pressure = {p}
damping = 1.0
compressibility = 0.1"#
    )
}

#[test]
fn mtk_keeps_the_target_pressure_and_bounds_its_conserved_quantity() {
    let barostat = r#"type = "mtk"
pressure = 2.0
damping = 2.0"#;
    let s = sample(&deck(nose_hoover(), barostat), 4000, 24_000, 10);
    let p: Vec<f64> = s.iter().map(|x| x.1).collect();
    let (mp, ep) = block_mean(&p, 10);
    println!("MTK: mean pressure {mp:.4} ± {ep:.4} (target 2)");
    assert!((mp - 2.0).abs() < 3.0 * ep.max(0.005), "{mp} ± {ep}");
    let h: Vec<f64> = s.iter().map(|x| x.2).collect();
    let h0 = h[0];
    let dev = h.iter().map(|v| (v - h0).abs()).fold(0.0, f64::max);
    println!(
        "MTK: after equilibration the conserved quantity stays within {dev:.3e} of {h0:.3} ({:.1e} relative)",
        dev / h0.abs()
    );
    assert!(
        dev / h0.abs() < 1e-3,
        "MTK's conserved quantity wandered {dev}"
    );
}

/// The largest change of MTK's conserved quantity over `steps` steps of `dt` from the
/// lattice start (the cell expands by 20 % in the first thousand steps: the hardest part).
fn mtk_conserved_deviation(dt: f64, steps: u64) -> f64 {
    let mut d = deck(
        nose_hoover(),
        r#"type = "mtk"
pressure = 2.0
damping = 2.0"#,
    );
    d.deck.integrator.as_mut().unwrap().timestep = Some(eqmd::deck::Quantity::Number(dt));
    let mut sim = prepare(&d).unwrap();
    let h0 = sim.thermo().conserved;
    let mut dev: f64 = 0.0;
    for _ in 0..steps {
        sim.step().unwrap();
        dev = dev.max((sim.thermo().conserved - h0).abs());
    }
    dev
}

#[test]
fn mtk_conserved_quantity_error_is_second_order_in_the_timestep() {
    let coarse = mtk_conserved_deviation(0.005, 3000);
    let fine = mtk_conserved_deviation(0.0025, 6000);
    println!("MTK: largest change of the conserved quantity {coarse:.4e} at dt 0.005, {fine:.4e} at dt 0.0025 (ratio {:.2})", coarse / fine);
    assert!(
        coarse / fine > 3.2,
        "the error shrinks {} times when dt halves, not ~4",
        coarse / fine
    );
}

#[test]
fn c_rescale_volume_fluctuations_give_the_compressibility_of_the_equation_of_state() {
    let run = |p: f64| {
        let s = sample(&deck(nose_hoover(), &c_rescale(p)), 4000, 44_000, 5);
        s.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>()
    };
    let mid = run(2.0);
    let v: Vec<f64> = mid.iter().map(|x| x.0).collect();
    let p: Vec<f64> = mid.iter().map(|x| x.1).collect();
    let (mp, ep) = block_mean(&p, 10);
    println!("C-rescale: mean pressure {mp:.4} ± {ep:.4} (target 2)");
    assert!((mp - 2.0).abs() < 3.0 * ep.max(0.005), "{mp} ± {ep}");
    let (mv, ev) = block_mean(&v, 10);
    let var = v.iter().map(|x| (x - mv).powi(2)).sum::<f64>() / v.len() as f64;
    let kappa_fluct = var / (1.5 * mv);
    // fluctuation estimate's error from the spread of per-block variances
    let per = v.len() / 10;
    let block_kappa: Vec<f64> = (0..10)
        .map(|b| {
            let x = &v[b * per..(b + 1) * per];
            let m = x.iter().sum::<f64>() / per as f64;
            x.iter().map(|y| (y - m).powi(2)).sum::<f64>() / per as f64 / (1.5 * m)
        })
        .collect();
    let (_, e_fluct) = block_mean(&block_kappa, 10);
    let lo = run(1.8);
    let hi = run(2.2);
    let (vl, el) = block_mean(&lo.iter().map(|x| x.0).collect::<Vec<_>>(), 10);
    let (vh, eh) = block_mean(&hi.iter().map(|x| x.0).collect::<Vec<_>>(), 10);
    let kappa_eos = -(vh - vl) / (0.4 * mv);
    let e_eos = (el * el + eh * eh).sqrt() / (0.4 * mv);
    println!(
        "C-rescale at P = 2: ⟨V⟩ = {mv:.3} ± {ev:.3}; κ_T from fluctuations {kappa_fluct:.4} ± {e_fluct:.4}, from ⟨V⟩(P ± 0.2) {kappa_eos:.4} ± {e_eos:.4}"
    );
    let combined = (e_fluct * e_fluct + e_eos * e_eos).sqrt();
    assert!(
        (kappa_fluct - kappa_eos).abs() < 3.0 * combined,
        "compressibility from fluctuations {kappa_fluct} vs equation of state {kappa_eos} (±{combined})"
    );
}

#[test]
fn mtk_and_c_rescale_agree_on_the_density() {
    let mtk = r#"type = "mtk"
pressure = 2.0
damping = 2.0"#;
    let a = sample(&deck(nose_hoover(), mtk), 4000, 34_000, 10);
    let b = sample(&deck(nose_hoover(), &c_rescale(2.0)), 4000, 34_000, 10);
    let density = |s: &[(f64, f64, f64)]| s.iter().map(|x| 500.0 / x.0).collect::<Vec<_>>();
    let (ra, ea) = block_mean(&density(&a), 10);
    let (rb, eb) = block_mean(&density(&b), 10);
    println!("density: MTK {ra:.5} ± {ea:.5}, C-rescale {rb:.5} ± {eb:.5}");
    assert!(
        (ra - rb).abs() < 3.0 * (ea * ea + eb * eb).sqrt(),
        "{ra} vs {rb}"
    );
}

#[test]
fn aniso_mtk_keeps_each_diagonal_pressure() {
    let barostat = r#"type = "mtk"
pressure = 2.0
damping = 2.0
couple = "aniso""#;
    let d = deck(nose_hoover(), barostat);
    let mut sim = prepare(&d).unwrap();
    let mut diag = vec![Vec::new(); 3];
    for _ in 0..16_000 {
        sim.step().unwrap();
        if sim.current_step() > 4000 && sim.current_step() % 10 == 0 {
            let s = sim.system();
            let w = sim.forces().virial;
            let k = s.kinetic_tensor() * 2.0;
            let v = s.cell.volume();
            diag[0].push((k.x_axis.x + w.x_axis.x) / v);
            diag[1].push((k.y_axis.y + w.y_axis.y) / v);
            diag[2].push((k.z_axis.z + w.z_axis.z) / v);
        }
    }
    for (a, d) in diag.iter().enumerate() {
        let (m, e) = block_mean(d, 10);
        println!("aniso MTK: P_{a}{a} = {m:.4} ± {e:.4}");
        assert!((m - 2.0).abs() < 3.0 * e.max(0.01), "axis {a}: {m} ± {e}");
    }
    let cell = sim.system().cell.matrix();
    assert!(
        cell.x_axis.y == 0.0 && cell.y_axis.x == 0.0,
        "aniso keeps an orthorhombic box orthorhombic"
    );
}

#[test]
fn barostats_refuse_what_they_cannot_do() {
    let mtk_with_langevin = deck(
        r#"type = "langevin"
temperature = 1.5
damping = 0.5"#,
        r#"type = "mtk"
pressure = 2.0
damping = 2.0"#,
    );
    let e = prepare(&mtk_with_langevin).err().unwrap().to_string();
    assert!(
        e.contains("barostat.type") && e.contains("nose-hoover"),
        "{e}"
    );
    let text = r#"
version = 1
[system]
structure = "structures/ar_cluster.xyz"
[potential]
type = "lennard-jones"
cutoff = 8.5
pairs = [{ species = ["Ar", "Ar"], epsilon = 0.0104, sigma = 3.4 }]
[integrator]
timestep = 0.002
steps = 10
[thermostat]
type = "langevin"
temperature = 50.0
damping = 0.1
[barostat]
type = "c-rescale"
pressure = 1.0
damping = 1.0
compressibility = "4.5e-5 1/bar"
"#;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/cluster_npt.toml");
    let d = LoadedDeck::<Deck>::from_str(text, &path, &[]).unwrap();
    let e = prepare(&d).err().unwrap().to_string();
    assert!(e.contains("periodic along every axis"), "{e}");
    let e = LoadedDeck::<Deck>::from_str(
        &text.replace("\"4.5e-5 1/bar\"", "\"4.5e-5 bar\""),
        &path,
        &[],
    )
    .map(|d| prepare(&d).err().unwrap().to_string())
    .unwrap_or_else(|e| e.to_string());
    assert!(
        e.contains("barostat.compressibility") && e.contains("inverse pressure"),
        "{e}"
    );
}
