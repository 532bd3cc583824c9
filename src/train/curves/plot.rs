//! The learning-curve figure: validation force MAE (left) and energy MAE per atom (right)
//! against training frames, both axes logarithmic, one line with markers per model. SVG
//! through `plotters` without a font engine: the SVG backend writes text elements and
//! the viewer lays them out, so nothing depends on fonts installed here.

use super::points::{read_csv, Point};
use crate::plot_axis::{label, log_range, ticks};
use anyhow::Context;
use plotters::prelude::*;
use std::path::Path;

/// Width and height of the figure (px).
const SIZE: (u32, u32) = (1100, 460);

/// Line colours, one per model in order (cycled).
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// A model's points, by training frames.
struct Curve {
    label: String,
    points: Vec<Point>,
}

/// Groups points by model shape, in order of first appearance, each sorted by frames.
fn curves(points: &[Point]) -> Vec<Curve> {
    let mut out: Vec<Curve> = Vec::new();
    for p in points {
        let label = format!(
            "L = {}, ν = {} ({} channels, {} weights)",
            p.lmax, p.correlation, p.channels, p.parameters
        );
        let same =
            |q: &Point| (q.lmax, q.channels, q.correlation) == (p.lmax, p.channels, p.correlation);
        match out.iter_mut().find(|c| same(&c.points[0])) {
            Some(c) => c.points.push(*p),
            None => out.push(Curve {
                label,
                points: vec![*p],
            }),
        }
    }
    for c in &mut out {
        c.points.sort_by_key(|p| p.train_frames);
    }
    out
}

/// One panel: `value` of every curve against training frames.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    curves: &[Curve],
    title: &str,
    y_desc: &str,
    value: fn(&Point) -> f64,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let all = || curves.iter().flat_map(|c| c.points.iter());
    let (x0, x1) = log_range(all().map(|p| p.train_frames as f64), 1.25)
        .context("no training-set sizes to plot")?;
    let (y0, y1) = log_range(all().map(value), 1.2).context("no positive errors to plot")?;
    // head-room for the legend above the curves, which fall to the right
    let y1 = y1 * (y1 / y0).powf(0.4);
    let x_ticks: Vec<f64> = {
        let mut t: Vec<f64> = all().map(|p| p.train_frames as f64).collect();
        t.sort_by(f64::total_cmp);
        t.dedup();
        t
    };
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow::anyhow!("drawing {title}: {e:?}");
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(x_ticks),
            (y0..y1).log_scale().with_key_points(ticks(y0, y1)),
        )
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("training frames")
        .y_desc(y_desc)
        .x_label_formatter(&|v| label(*v))
        .y_label_formatter(&|v| label(*v))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(fail)?;
    for (k, c) in curves.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let data: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|p| (p.train_frames as f64, value(p)))
            .filter(|(_, y)| y.is_finite() && *y > 0.0)
            .collect();
        chart
            .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
            .map_err(fail)?
            .label(c.label.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(-10, 0), (10, 0)], color.stroke_width(2))
                    + marker(k, color)
            });
        chart
            .draw_series(
                data.into_iter()
                    .map(|xy| EmptyElement::at(xy) + marker(k, color)),
            )
            .map_err(fail)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(fail)?;
    Ok(())
}

/// The marker of the k-th curve, centred on the origin of its element: circle, triangle,
/// square, cycled.
fn marker<DB: DrawingBackend>(k: usize, color: RGBColor) -> DynElement<'static, DB, (i32, i32)> {
    let style = color.filled();
    match k % 3 {
        0 => Circle::new((0, 0), 5, style).into_dyn(),
        1 => TriangleMarker::new((0, 0), 7, style).into_dyn(),
        _ => Rectangle::new([(-4, -4), (4, 4)], style).into_dyn(),
    }
}

/// Draws the figure of `points` into the SVG file `path`, creating its folder.
pub fn draw(points: &[Point], path: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(!points.is_empty(), "no learning-curve points to plot");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let curves = curves(points);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow::anyhow!("{}: {e:?}", path.display()))?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    panel(
        &left,
        &curves,
        "Validation force error",
        "force MAE (meV/Å)",
        |p| p.val_force_mae,
    )?;
    panel(
        &right,
        &curves,
        "Validation energy error",
        "energy MAE (meV/atom)",
        |p| p.val_energy_mae_mev_per_atom,
    )?;
    root.present()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e:?}", path.display()))?;
    Ok(())
}

/// Re-draws the figure from a CSV written by a learning-curve run.
pub fn plot_csv(csv: &Path, svg: &Path) -> anyhow::Result<()> {
    let points = read_csv(csv)?;
    draw(&points, svg).with_context(|| format!("plotting {}", csv.display()))
}
