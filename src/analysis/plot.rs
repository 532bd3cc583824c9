//! SVG figures of the analyses: curves on one chart ([`line_chart`]), and the thermo log of
//! a run (or any CSV of numbers, such as a training log) as one panel per column against
//! time or step ([`thermo`], `eqmd plot`).

use crate::io::guard::{check_outputs, NamedPath};
use anyhow::{anyhow, bail, Context};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// The colours of successive curves (matplotlib's tab10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One curve: its legend and its points (non-finite points are left out).
pub struct Curve<'a> {
    pub name: &'a str,
    pub x: &'a [f64],
    pub y: &'a [f64],
}

/// Axis labels and title of a chart.
pub struct Labels<'a> {
    pub title: &'a str,
    pub x: &'a str,
    pub y: &'a str,
}

/// The range of the finite values, widened a little (and made non-empty).
fn range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = match hi - lo {
        w if w > 1e-12 * lo.abs().max(hi.abs()) && w > 0.0 => 0.05 * w,
        _ => 0.5 * lo.abs().max(1e-12),
    };
    lo - pad..hi + pad
}

/// Draws `curves` on `area` with a legend when there is more than one.
pub fn draw_curves(
    area: &DrawingArea<SVGBackend, Shift>,
    labels: &Labels,
    curves: &[Curve],
) -> anyhow::Result<()> {
    let e = |e: DrawingAreaErrorKind<_>| anyhow!("{e}");
    let xs = range(curves.iter().flat_map(|c| c.x.iter().copied()));
    let ys = range(curves.iter().flat_map(|c| c.y.iter().copied()));
    // an axis wider than a float spans cannot be divided into ticks
    for (axis, r) in [(labels.x, &xs), (labels.y, &ys)] {
        if !(r.end - r.start).is_finite() {
            bail!(
                "{}: the values of {axis} span more than a number can hold",
                labels.title
            );
        }
    }
    // enough decimals to tell the labels of the axis apart
    let decimals = (2.0 - (ys.end - ys.start).log10().floor()).clamp(0.0, 10.0) as usize;
    let mut chart = ChartBuilder::on(area)
        .caption(labels.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(85)
        .build_cartesian_2d(xs, ys)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .draw()
        .map_err(e)?;
    for (k, c) in curves.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(f64, f64)> = (c.x.iter().zip(c.y))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| (*x, *y))
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(e)?
            .label(c.name)
            .legend(move |(x, y)| PathElement::new(vec![(x - 10, y), (x + 10, y)], color));
    }
    if curves.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(e)?;
    }
    Ok(())
}

/// Writes an SVG of `curves` on one chart to `path`.
pub fn line_chart(path: &Path, labels: &Labels, curves: &[Curve]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    draw_curves(&root, labels, curves)?;
    root.present()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A CSV of numbers: its header and its columns.
pub struct Table {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

/// Reads a CSV whose first line names the columns and whose other lines are numbers or
/// empty cells, read as missing values (a thermo log, a training log); errors name the file
/// and the line.
pub fn read_table(path: &Path) -> anyhow::Result<Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        bail!("{}: empty file, not a CSV with a header", path.display());
    };
    let names: Vec<String> = header.split(',').map(|s| s.trim().to_string()).collect();
    if names.iter().any(|n| n.parse::<f64>().is_ok()) {
        bail!(
            "{}:1: the first line is not a header of column names",
            path.display()
        );
    }
    let mut columns = vec![Vec::new(); names.len()];
    for (n, line) in lines {
        let values: Vec<&str> = line.split(',').map(str::trim).collect();
        if values.len() != names.len() {
            bail!(
                "{}:{}: {} values for {} columns",
                path.display(),
                n + 1,
                values.len(),
                names.len()
            );
        }
        for ((column, v), name) in columns.iter_mut().zip(values).zip(&names) {
            // an empty cell is a missing value (a training log's stress or dipole columns)
            if v.is_empty() {
                column.push(f64::NAN);
                continue;
            }
            let x = v.parse::<f64>().map_err(|_| {
                anyhow!(
                    "{}:{}: column {name}: {v:?} is not a number",
                    path.display(),
                    n + 1
                )
            })?;
            column.push(x);
        }
    }
    if columns.first().is_none_or(|c| c.is_empty()) {
        bail!("{}: no rows after the header", path.display());
    }
    Ok(Table { names, columns })
}

/// `eqmd plot`: draws the columns of the thermo CSV `csv` (all but the x axis, or those of
/// `only`) against `x` (`time` when there is one, else `step`, else the first column), one
/// panel per column, into the SVG `svg`; returns the columns drawn.
pub fn thermo(
    csv: &Path,
    svg: &Path,
    x: Option<&str>,
    only: Option<&[String]>,
) -> anyhow::Result<Vec<String>> {
    check_outputs(
        &[NamedPath::new("--output", svg)],
        &[NamedPath::new("THERMO", csv)],
        &[],
    )
    .map_err(|r| anyhow!("{}: {}", r.key, r.message))?;
    let table = read_table(csv)?;
    let find = |name: &str, what: &str| {
        table.names.iter().position(|n| n == name).ok_or_else(|| {
            anyhow!(
                "{what} {name}: no such column in {} (it has {})",
                csv.display(),
                table.names.join(", ")
            )
        })
    };
    let xi = match x {
        Some(name) => find(name, "--x")?,
        None => ["time", "step"]
            .iter()
            .find_map(|n| table.names.iter().position(|c| c == n))
            .unwrap_or(0),
    };
    let axes = ["time", "step", table.names[xi].as_str()];
    let panels: Vec<usize> = match only {
        Some(names) => names
            .iter()
            .map(|n| find(n, "--columns"))
            .collect::<anyhow::Result<_>>()?,
        None => (0..table.names.len())
            .filter(|&k| k != xi && !axes.contains(&table.names[k].as_str()))
            .filter(|&k| {
                let finite = table.columns[k].iter().any(|v| v.is_finite());
                if !finite {
                    log::warn!(
                        "{}: column {} has no finite value: not drawn",
                        csv.display(),
                        table.names[k]
                    );
                }
                finite
            })
            .collect(),
    };
    if panels.is_empty() {
        bail!(
            "{}: no column to draw against {}",
            csv.display(),
            table.names[xi]
        );
    }
    let height = (180 * panels.len()).clamp(300, 4000) as u32;
    let root = SVGBackend::new(svg, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let areas = root.split_evenly((panels.len(), 1));
    let file_name = csv
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    for (area, &k) in areas.iter().zip(&panels) {
        let labels = Labels {
            title: &format!("{} ({file_name})", table.names[k]),
            x: &table.names[xi],
            y: &table.names[k],
        };
        let curve = Curve {
            name: &table.names[k],
            x: &table.columns[xi],
            y: &table.columns[k],
        };
        draw_curves(area, &labels, &[curve])?;
    }
    root.present()
        .with_context(|| format!("cannot write {}", svg.display()))?;
    Ok(panels.iter().map(|&k| table.names[k].clone()).collect())
}
