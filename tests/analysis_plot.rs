//! `eqmd plot`: a thermo CSV becomes an SVG with one panel per numeric column against time
//! (or another column), a `vol` column or any other included, and bad files or options
//! fail with a message naming them.

mod common;

use std::path::Path;

fn plot(args: &[&str]) -> (bool, String) {
    let mut all = vec!["plot"];
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

fn thermo(path: &Path, header: &str) {
    let columns = header.split(',').count();
    let mut text = format!("{header}\n");
    for k in 0..50 {
        let t = k as f64 * 0.01;
        let row: Vec<String> = (0..columns)
            .map(|c| match c {
                0 => (10 * k).to_string(),
                1 => format!("{t:e}"),
                c => format!("{:e}", (t * c as f64).sin() + c as f64),
            })
            .collect();
        text += &(row.join(",") + "\n");
    }
    std::fs::write(path, text).unwrap();
}

/// The panel titles of an SVG written by `eqmd plot`.
fn titles(svg: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(svg).unwrap();
    (text.split("<text").skip(1))
        .filter_map(|t| {
            let inner = t.split_once('>')?.1.split_once("</text>")?.0;
            inner
                .contains(".csv)")
                .then(|| inner.trim().split(' ').next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn every_numeric_column_gets_a_panel() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("run.thermo.csv");
    thermo(&csv, "step,time,pe,ke,etotal,temp,press");
    let (ok, text) = plot(&[csv.to_str().unwrap()]);
    assert!(ok, "{text}");
    let svg = dir.path().join("run.thermo.svg");
    assert_eq!(titles(&svg), ["pe", "ke", "etotal", "temp", "press"]);

    let npt = dir.path().join("npt.csv");
    thermo(&npt, "step,time,pe,ke,etotal,temp,press,vol,mux,muy,muz");
    let out = dir.path().join("figure.svg");
    let (ok, text) = plot(&[npt.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(ok && text.contains("vol"), "{text}");
    let t = titles(&out);
    assert_eq!(
        t,
        ["pe", "ke", "etotal", "temp", "press", "vol", "mux", "muy", "muz"]
    );

    let (ok, text) = plot(&[
        npt.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--x",
        "step",
        "--columns",
        "vol,temp",
    ]);
    assert!(ok, "{text}");
    assert_eq!(titles(&out), ["vol", "temp"]);
    assert!(std::fs::read_to_string(&out).unwrap().contains("step"));
}

#[test]
fn a_training_log_with_empty_cells_is_drawn_against_its_first_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("metrics.csv");
    let mut text =
        "epoch,learning_rate,seconds,val_force_mae,val_stress_rmse,val_dipole\n".to_string();
    for k in 1..=20 {
        // the dipole column has values in some rows only; the stress column in none
        let dipole = if k % 2 == 0 {
            format!("{}", 0.1 / k as f64)
        } else {
            String::new()
        };
        text += &format!(
            "{k},{},{},{},,{dipole}\n",
            1e-3 / k as f64,
            10.0 * k as f64,
            5.0 / k as f64
        );
    }
    std::fs::write(&csv, text).unwrap();
    let (ok, text) = plot(&[csv.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(
        text.contains("val_stress_rmse has no finite value"),
        "{text}"
    );
    let svg = dir.path().join("metrics.svg");
    let t = titles(&svg);
    assert_eq!(
        t,
        ["learning_rate", "seconds", "val_force_mae", "val_dipole"]
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("epoch"));

    let out = dir.path().join("by-time.svg");
    let (ok, text) = plot(&[
        csv.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--x",
        "seconds",
        "--columns",
        "val_force_mae",
    ]);
    assert!(ok, "{text}");
    assert_eq!(titles(&out), ["val_force_mae"]);
    // a cell that is neither empty nor a number is still an error
    std::fs::write(&csv, "epoch,loss\n1,0.5\n2, x \n").unwrap();
    let (ok, text) = plot(&[csv.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(
        !ok && text.contains("metrics.csv:3") && text.contains("\"x\""),
        "{text}"
    );
}

#[test]
fn bad_files_and_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    thermo(&csv, "step,time,pe,ke,etotal,temp,press");
    let p = csv.to_str().unwrap();
    let (ok, text) = plot(&[p, "-o", p]);
    assert!(!ok && text.contains("never overwrites an input"), "{text}");
    let (ok, text) = plot(&[p, "--columns", "vol"]);
    assert!(
        !ok && text.contains("no such column") && text.contains("t.csv"),
        "{text}"
    );
    let (ok, text) = plot(&[p, "--x", "wall"]);
    assert!(!ok && text.contains("--x wall"), "{text}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "step,time,pe\n0,0,1\n10,0.1,oops\n").unwrap();
    let (ok, text) = plot(&[bad.to_str().unwrap()]);
    assert!(
        !ok && text.contains("bad.csv:3") && text.contains("oops"),
        "{text}"
    );
    std::fs::write(&bad, "step,time,pe\n0,0\n").unwrap();
    let (ok, text) = plot(&[bad.to_str().unwrap()]);
    assert!(!ok && text.contains("bad.csv:2"), "{text}");
    // values whose span overflows: refused, not an endless search for ticks
    std::fs::write(&bad, "step,time,pe\n0,0,1e308\n1,1,-1e308\n").unwrap();
    let (ok, text) = plot(&[bad.to_str().unwrap()]);
    assert!(!ok && text.contains("span more than"), "{text}");
    std::fs::write(&bad, "").unwrap();
    let (ok, text) = plot(&[bad.to_str().unwrap()]);
    assert!(!ok && text.contains("bad.csv"), "{text}");
    let (ok, text) = plot(&[dir.path().join("none.csv").to_str().unwrap()]);
    assert!(!ok && text.contains("none.csv"), "{text}");
}

/// The legend entries of an SVG: the text elements that are not axis tick labels.
fn texts(svg: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(svg).unwrap();
    (text.split("<text").skip(1))
        .filter_map(|t| {
            let inner = t.split_once('>')?.1.split_once("</text>")?.0;
            Some(inner.trim().to_string())
        })
        .collect()
}

#[test]
fn several_training_logs_share_the_panels_one_curve_each() {
    let dir = tempfile::tempdir().unwrap();
    let log = |name: &str, scale: f64, with_energy: bool| {
        let path = dir.path().join(name);
        let mut text = String::from("epoch,seconds,val_force_mae");
        text += if with_energy { ",val_energy\n" } else { "\n" };
        for k in 1..=30 {
            // errors falling over two decades, as a training's do
            let f = scale * 100.0 / (k * k) as f64;
            text += &format!("{k},{},{f}", 12.5 * k as f64);
            text += &if with_energy {
                format!(",{}\n", f / 10.0)
            } else {
                "\n".to_string()
            };
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    let (a, b) = (log("decay.csv", 1.0, true), log("no-decay.csv", 1.2, false));
    let out = dir.path().join("ab.svg");
    let (pa, pb, po) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let (ok, text) = plot(&[pa, pb, "--x", "seconds", "--log-y", "-o", po]);
    assert!(ok, "{text}");
    // the first file's columns; the second lacks val_energy, which is drawn for the first
    assert!(text.contains("val_force_mae, val_energy"), "{text}");
    assert!(
        text.contains("no-decay.csv: no column val_energy"),
        "{text}"
    );
    let t = texts(&out);
    for want in [
        "val_force_mae",
        "val_energy",
        "decay.csv",
        "no-decay.csv",
        "seconds",
    ] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
    // log ticks are round numbers over the decades the values span (0.111 … 120)
    for tick in ["0.2", "1", "10", "100"] {
        assert!(t.iter().any(|s| s == tick), "tick {tick} not in {t:?}");
    }

    // asked for by name, a column one file lacks is an error naming that file
    let (ok, text) = plot(&[pa, pb, "--columns", "val_energy", "-o", po]);
    assert!(
        !ok && text.contains("no-decay.csv") && text.contains("--columns val_energy"),
        "{text}"
    );
    // several files and no output named: refused rather than guessed
    let (ok, text) = plot(&[pa, pb]);
    assert!(!ok && text.contains("--output"), "{text}");
    // no file may be the output
    let (ok, text) = plot(&[pa, pb, "-o", pb]);
    assert!(!ok && text.contains("never overwrites an input"), "{text}");
    // nothing positive on a log scale
    std::fs::write(&a, "epoch,loss\n1,0\n2,-1\n").unwrap();
    let (ok, text) = plot(&[pa, "--log-y", "-o", po]);
    assert!(!ok && text.contains("no positive value of loss"), "{text}");
    // a subnormal value beside a huge one: drawn, not an endless walk over the decades
    std::fs::write(&a, "epoch,loss\n1,5e-324\n2,1e300\n3,1\n").unwrap();
    let (ok, text) = plot(&[pa, "--log-y", "-o", po]);
    assert!(ok, "{text}");
}
