//! The symmetry study's figure, in the mean norm error |Δμ| (unchanged by a rotation for an
//! equivariant head; the per-component MAE is not). Left: every predictor on the largest
//! training set, frames as given (filled) and rotated (hatched lighter), log scale. Right:
//! the learning curve of the three heads, given (solid) and rotated (dashed), with the
//! mean-vector baseline in grey. SVG through `plotters`, text laid out by the viewer.

use super::rows::{Predictor, Row};
use crate::plot_axis::{label, log_range, ticks};
use anyhow::Context;
use plotters::prelude::*;
use std::path::Path;

/// Width and height of the figure (px).
const SIZE: (u32, u32) = (1200, 480);

/// Colours of the frames as given and rotated in the bars.
const GIVEN: RGBColor = RGBColor(31, 119, 180);
const ROTATED: RGBColor = RGBColor(214, 39, 40);

/// Colours of the heads' curves, in the order of [`super::HEADS`].
const HEAD_COLORS: [RGBColor; 3] = [
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// The bars' rows: the largest training set's, baselines first, then the heads.
fn bars(rows: &[Row]) -> Vec<Row> {
    let largest = rows.iter().map(|r| r.train_frames).max().unwrap_or(0);
    let mut out: Vec<Row> = rows
        .iter()
        .filter(|r| r.train_frames == largest)
        .copied()
        .collect();
    let rank = |r: &Row| match r.predictor {
        Predictor::Zero => 0,
        Predictor::Mean => 1,
        Predictor::Head(name) => {
            2 + 2 * super::HEADS
                .iter()
                .position(|h| h.name() == name)
                .unwrap_or(3)
                + usize::from(r.augmented)
        }
    };
    out.sort_by_key(rank);
    out
}

fn fail<E: std::fmt::Debug>(what: &str) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("drawing {what}: {e:?}")
}

/// A bar's label, short enough to sit under it.
fn short_label(r: &Row) -> String {
    match (r.predictor.name(), r.augmented) {
        ("invariant", true) => "invariant+rot.".to_string(),
        ("charges+dipoles", _) => "q + atomic μ".to_string(),
        (name, _) => name.to_string(),
    }
}

/// The bar panel.
fn bar_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &[Row],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let bars = bars(rows);
    let frames = bars.first().map_or(0, |r| r.train_frames);
    let values = || {
        bars.iter()
            .flat_map(|r| [r.dipole_norm_error, r.rotated_dipole_norm_error])
    };
    let (y0, y1) = log_range(values(), 1.3).context("no positive dipole errors to plot")?;
    let y1 = y1 * (y1 / y0).powf(0.25);
    let n = bars.len();
    let names: Vec<String> = bars.iter().map(short_label).collect();
    let title = format!("Dipole error, {frames} training frames");
    let mut chart = ChartBuilder::on(area)
        .caption(&title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(
            -0.5..n as f64 - 0.5,
            (y0..y1).log_scale().with_key_points(ticks(y0, y1)),
        )
        .map_err(fail(&title))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc("mean |Δμ| (e·Å)")
        .x_labels(n)
        .x_label_formatter(&|x| match (x - x.round()).abs() < 1e-6 && *x >= 0.0 {
            true => names.get(x.round() as usize).cloned().unwrap_or_default(),
            false => String::new(),
        })
        .y_label_formatter(&|v| label(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(fail(&title))?;
    for (color, name, value) in [
        (
            GIVEN,
            "frames as given",
            (|r: &Row| r.dipole_norm_error) as fn(&Row) -> f64,
        ),
        (ROTATED, "frames rotated", |r: &Row| {
            r.rotated_dipole_norm_error
        }),
    ] {
        let offset = if color == GIVEN { -0.36 } else { 0.0 };
        chart
            .draw_series(bars.iter().enumerate().map(|(k, r)| {
                let x = k as f64 + offset;
                Rectangle::new([(x, y0), (x + 0.36, value(r).max(y0))], color.filled())
            }))
            .map_err(fail(&title))?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x - 8, y - 6), (x + 8, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(fail(&title))?;
    Ok(())
}

/// The learning-curve panel.
fn curve_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &[Row],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let title = "Dipole learning curves";
    let curve_rows = || {
        rows.iter()
            .filter(|r| !r.augmented && r.predictor != Predictor::Zero)
    };
    let values = || curve_rows().flat_map(|r| [r.dipole_norm_error, r.rotated_dipole_norm_error]);
    let ranges =
        log_range(curve_rows().map(|r| r.train_frames as f64), 1.25).zip(log_range(values(), 1.2));
    // nothing to draw before the first run ends
    let Some(((x0, x1), (y0, y1))) = ranges else {
        return Ok(());
    };
    let y1 = y1 * (y1 / y0).powf(0.4);
    let mut x_ticks: Vec<f64> = curve_rows().map(|r| r.train_frames as f64).collect();
    x_ticks.sort_by(f64::total_cmp);
    x_ticks.dedup();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(x_ticks),
            (y0..y1).log_scale().with_key_points(ticks(y0, y1)),
        )
        .map_err(fail(title))?;
    chart
        .configure_mesh()
        .x_desc("training frames")
        .y_desc("mean |Δμ| (e·Å)")
        .x_label_formatter(&|v| label(*v))
        .y_label_formatter(&|v| label(*v))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(fail(title))?;
    let mut lines: Vec<(String, RGBColor)> = super::HEADS
        .iter()
        .zip(HEAD_COLORS)
        .map(|(h, c)| (h.name().to_string(), c))
        .collect();
    lines.push(("mean".to_string(), RGBColor(120, 120, 120)));
    for (name, color) in lines {
        let mut points: Vec<&Row> = curve_rows()
            .filter(|r| r.predictor.name() == name)
            .collect();
        points.sort_by_key(|r| r.train_frames);
        let given: Vec<(f64, f64)> = (points.iter())
            .map(|r| (r.train_frames as f64, r.dipole_norm_error))
            .filter(|(_, y)| *y > 0.0)
            .collect();
        let rotated: Vec<(f64, f64)> = (points.iter())
            .map(|r| (r.train_frames as f64, r.rotated_dipole_norm_error))
            .filter(|(_, y)| *y > 0.0)
            .collect();
        chart
            .draw_series(LineSeries::new(given.clone(), color.stroke_width(2)))
            .map_err(fail(title))?
            .label(format!("{name}: given (solid), rotated (dashed)"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x - 10, y), (x + 10, y)], color.stroke_width(2))
            });
        chart
            .draw_series(given.iter().map(|&xy| Circle::new(xy, 4, color.filled())))
            .map_err(fail(title))?;
        chart
            .draw_series(DashedLineSeries::new(
                rotated.clone(),
                8,
                5,
                color.stroke_width(2),
            ))
            .map_err(fail(title))?;
        chart
            .draw_series(
                rotated
                    .iter()
                    .map(|&xy| Circle::new(xy, 4, color.stroke_width(2))),
            )
            .map_err(fail(title))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(fail(title))?;
    Ok(())
}

/// Draws the figure of `rows` into the SVG file `path`, creating its folder.
pub fn draw(rows: &[Row], path: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(!rows.is_empty(), "no symmetry-study rows to plot");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow::anyhow!("{}: {e:?}", path.display()))?;
    let (left, right) = root.split_horizontally(SIZE.0 * 11 / 20);
    bar_panel(&left, rows)?;
    curve_panel(&right, rows)?;
    root.present()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e:?}", path.display()))?;
    Ok(())
}
