//! `eqmd analyze ir TRAJECTORY`: the spectrum of an H5MD trajectory's dipole series, as a
//! CSV (`wavenumber_cm-1,intensity`, and `vdos` when the trajectory has velocities) and an
//! SVG figure beside it.

use super::ir::{ir_spectrum, peaks, vdos, Spectrum};
use crate::io::guard::{check_outputs, NamedPath};
use anyhow::Context;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// What `eqmd analyze ir` wrote and found.
pub struct IrOutput {
    pub svg: PathBuf,
    /// Wavenumbers (cm⁻¹) of the IR peaks above 5 % of the largest.
    pub peaks: Vec<f64>,
    /// Those of the density of states, when the trajectory has velocities.
    pub vdos_peaks: Option<Vec<f64>>,
}

/// Writes the IR spectrum of `trajectory` to `output` (CSV) and the same name with `.svg`,
/// up to `max_wavenumber` (cm⁻¹) in the figure. When the trajectory stores velocities the
/// vibrational density of states of the same frames is a third column and a second curve,
/// so that each IR band can be seen on the mode it belongs to.
pub fn ir(
    trajectory: &Path,
    output: &Path,
    max_lag: f64,
    max_wavenumber: f64,
) -> anyhow::Result<IrOutput> {
    anyhow::ensure!(
        max_wavenumber.is_finite() && max_wavenumber > 0.0,
        "--max-wavenumber {max_wavenumber}: must be a positive wavenumber (cm⁻¹)"
    );
    let svg = output.with_extension("svg");
    let outputs = [
        NamedPath::new("--output", output),
        NamedPath::new("the figure", &svg),
    ];
    check_outputs(&outputs, &[NamedPath::new("TRAJECTORY", trajectory)], &[])
        .map_err(|r| anyhow::anyhow!("{}: {}", r.key, r.message))?;
    let (times, dipoles) = crate::io::h5md::read_dipole_series(trajectory)?;
    let where_ = |e: String| anyhow::anyhow!("{}: {e}", trajectory.display());
    let s = ir_spectrum(&times, &dipoles, max_lag).map_err(where_)?;
    let density = match crate::io::h5md::read_velocity_series(trajectory) {
        Ok(v) => match (v.species.iter())
            .map(|name| crate::units::atomic_mass(name).ok_or(name))
            .collect::<Result<Vec<f64>, _>>()
        {
            Ok(masses) => {
                // the frames that carry a dipole, those the spectrum is of
                let n = v.times.len().min(times.len());
                Some(vdos(&v.times[..n], &v.velocities[..n], &masses, max_lag).map_err(where_)?)
            }
            Err(name) => {
                log::warn!(
                    "{}: no standard mass for species {name}: no density of states",
                    trajectory.display()
                );
                None
            }
        },
        Err(_) => None,
    };
    let mut text = String::from("wavenumber_cm-1,intensity");
    text += if density.is_some() { ",vdos\n" } else { "\n" };
    for (j, (k, y)) in s.wavenumber.iter().zip(&s.intensity).enumerate() {
        text += &format!("{k:.4},{y:.6e}");
        if let Some(d) = &density {
            text += &format!(",{:.6e}", d.intensity.get(j).copied().unwrap_or(f64::NAN));
        }
        text.push('\n');
    }
    std::fs::write(output, text).with_context(|| format!("cannot write {}", output.display()))?;
    plot(&s, density.as_ref(), &svg, max_wavenumber)?;
    Ok(IrOutput {
        svg,
        peaks: peaks(&s, 0.05),
        vdos_peaks: density.as_ref().map(|d| peaks(d, 0.05)),
    })
}

fn plot(
    s: &Spectrum,
    density: Option<&Spectrum>,
    path: &Path,
    max_wavenumber: f64,
) -> anyhow::Result<()> {
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
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("α(ω) n(ω) (normalised)")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let curves = [
        (Some(s), "IR absorption", RGBColor(31, 119, 180)),
        (
            density,
            "density of states (velocities)",
            RGBColor(150, 150, 150),
        ),
    ];
    for (spectrum, name, color) in curves.into_iter().rev() {
        let Some(spectrum) = spectrum else { continue };
        let points: Vec<(f64, f64)> = (spectrum.wavenumber.iter())
            .zip(&spectrum.intensity)
            .filter(|(k, _)| **k <= max_wavenumber)
            .map(|(k, y)| (*k, *y))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x - 10, y), (x + 10, y)], color));
    }
    if density.is_some() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    root.present()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
