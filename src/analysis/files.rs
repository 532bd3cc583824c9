//! `eqmd analyze ir TRAJECTORY`: the spectrum of an H5MD trajectory's dipole series, as a
//! CSV (`wavenumber_cm-1,intensity`) and an SVG figure beside it.

use super::ir::{ir_spectrum, peaks, Spectrum};
use crate::io::guard::{check_outputs, NamedPath};
use anyhow::Context;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Writes the IR spectrum of `trajectory` to `output` (CSV) and the same name with `.svg`,
/// up to `max_wavenumber` (cm⁻¹) in the figure; returns the figure's path and the peaks.
pub fn ir(
    trajectory: &Path,
    output: &Path,
    max_lag: f64,
    max_wavenumber: f64,
) -> anyhow::Result<(PathBuf, Vec<f64>)> {
    let svg = output.with_extension("svg");
    let outputs = [
        NamedPath::new("--output", output),
        NamedPath::new("the figure", &svg),
    ];
    check_outputs(&outputs, &[NamedPath::new("TRAJECTORY", trajectory)], &[])
        .map_err(|r| anyhow::anyhow!("{}: {}", r.key, r.message))?;
    let (times, dipoles) = crate::io::h5md::read_dipole_series(trajectory)?;
    let s = ir_spectrum(&times, &dipoles, max_lag)
        .map_err(|e| anyhow::anyhow!("{}: {e}", trajectory.display()))?;
    let mut text = String::from("wavenumber_cm-1,intensity\n");
    for (k, y) in s.wavenumber.iter().zip(&s.intensity) {
        text += &format!("{k:.4},{y:.6e}\n");
    }
    std::fs::write(output, text).with_context(|| format!("cannot write {}", output.display()))?;
    plot(&s, &svg, max_wavenumber)?;
    Ok((svg, peaks(&s, 0.05)))
}

fn plot(s: &Spectrum, path: &Path, max_wavenumber: f64) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "IR absorption from the dipole autocorrelation",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..max_wavenumber, 0.0..1.05)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("wavenumber (cm⁻¹)")
        .y_desc("α(ω) n(ω) (normalised)")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let points = s
        .wavenumber
        .iter()
        .zip(&s.intensity)
        .filter(|(k, _)| **k <= max_wavenumber)
        .map(|(k, y)| (*k, *y));
    chart
        .draw_series(LineSeries::new(points, &RGBColor(31, 119, 180)))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
