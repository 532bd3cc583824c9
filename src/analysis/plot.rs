//! SVG figures of the analyses: curves on one chart ([`line_chart`]), and the thermo log of
//! a run (or any CSV of numbers, such as a training log) as one panel per column against
//! time or step ([`thermo`], `eqmd plot`).

use crate::io::guard::{check_outputs, NamedPath};
use crate::plot_axis::{label, log_range, ticks};
use anyhow::{anyhow, bail, Context};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

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
    draw_scaled(area, labels, curves, false)
}

/// [`draw_curves`] with a logarithmic vertical axis when `log_y` (the points at or below
/// zero are then left out).
pub fn draw_scaled(
    area: &DrawingArea<SVGBackend, Shift>,
    labels: &Labels,
    curves: &[Curve],
    log_y: bool,
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
    // enough decimals to tell the labels of an axis apart (none over a range of hundreds)
    let decimals = |r: &std::ops::Range<f64>| {
        (2.0 - (r.end - r.start).log10().floor()).clamp(0.0, 10.0) as usize
    };
    let x_decimals = decimals(&xs);
    let x_label = |x: &f64| format!("{x:.x_decimals$}");
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(labels.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(85);
    if log_y {
        let positive = curves.iter().flat_map(|c| c.y.iter().copied());
        let Some((lo, hi)) = log_range(positive, 1.1) else {
            bail!(
                "{}: no positive value of {} to draw on a log scale",
                labels.title,
                labels.y
            );
        };
        let ys = (lo..hi).log_scale().with_key_points(ticks(lo, hi));
        let mut chart = builder.build_cartesian_2d(xs, ys).map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(labels.x)
            .x_label_formatter(&x_label)
            .y_desc(labels.y)
            .y_label_formatter(&|y| label(*y))
            .draw()
            .map_err(e)?;
        draw_series(&mut chart, curves, |y| y > 0.0)
    } else {
        let decimals = decimals(&ys);
        let mut chart = builder.build_cartesian_2d(xs, ys).map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(labels.x)
            .x_label_formatter(&x_label)
            .y_desc(labels.y)
            .y_labels(6)
            .y_label_formatter(&|y| format!("{y:.decimals$}"))
            .draw()
            .map_err(e)?;
        draw_series(&mut chart, curves, |_| true)
    }
}

/// The finite points of `curves` whose value passes `keep`, one colour each, and the
/// legend when there is more than one curve.
fn draw_series<'a, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    curves: &[Curve],
    keep: impl Fn(f64) -> bool,
) -> anyhow::Result<()> {
    let e = |e: DrawingAreaErrorKind<_>| anyhow!("{e}");
    for (k, c) in curves.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let points: Vec<(f64, f64)> = (c.x.iter().zip(c.y))
            .filter(|(x, y)| x.is_finite() && y.is_finite() && keep(**y))
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

/// What `eqmd plot` draws: the column of the horizontal axis (`time` when there is one, else
/// `step`, else the first column), the columns of the panels (default: every other numeric
/// one) and whether their axes are logarithmic.
#[derive(Clone, Copy, Debug, Default)]
pub struct Panels<'a> {
    pub x: Option<&'a str>,
    pub only: Option<&'a [String]>,
    pub log_y: bool,
}

/// A CSV read for `eqmd plot`, with the name its curves carry in a legend.
struct Source {
    path: PathBuf,
    name: String,
    table: Table,
}

impl Source {
    /// The index of column `name`, or an error naming the file, the option and its columns.
    fn find(&self, name: &str, what: &str) -> anyhow::Result<usize> {
        let t = &self.table;
        t.names.iter().position(|n| n == name).ok_or_else(|| {
            anyhow!(
                "{what} {name}: no such column in {} (it has {})",
                self.path.display(),
                t.names.join(", ")
            )
        })
    }
}

/// Reads the CSVs, each named by its file name (by its path where file names repeat).
fn sources(csvs: &[PathBuf]) -> anyhow::Result<Vec<Source>> {
    let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let names: Vec<String> = csvs
        .iter()
        .map(|p| file_name(p).unwrap_or_else(|| p.display().to_string()))
        .collect();
    csvs.iter()
        .enumerate()
        .map(|(k, path)| {
            let repeated = names.iter().filter(|n| **n == names[k]).count() > 1;
            Ok(Source {
                path: path.clone(),
                name: match repeated {
                    true => path.display().to_string(),
                    false => names[k].clone(),
                },
                table: read_table(path)?,
            })
        })
        .collect()
}

/// `eqmd plot`: draws the columns of the CSVs `csvs` (thermo logs, training logs) as
/// `panels` says, one panel per column with one curve per file, into the SVG `svg`;
/// returns the columns drawn. The axis and the columns are those of the first file; a
/// column another file lacks is an error when asked for by name and else left out of that
/// file's curves.
pub fn thermo(csvs: &[PathBuf], svg: &Path, panels: &Panels) -> anyhow::Result<Vec<String>> {
    if csvs.is_empty() {
        bail!("no CSV to draw");
    }
    let inputs: Vec<NamedPath> = csvs.iter().map(|p| NamedPath::new("THERMO", p)).collect();
    check_outputs(&[NamedPath::new("--output", svg)], &inputs, &[])
        .map_err(|r| anyhow!("{}: {}", r.key, r.message))?;
    let sources = sources(csvs)?;
    let first = &sources[0];
    let x_name = match panels.x {
        Some(name) => name.to_string(),
        None => ["time", "step"]
            .iter()
            .find(|n| first.table.names.iter().any(|c| c == *n))
            .map_or_else(|| first.table.names[0].clone(), |n| n.to_string()),
    };
    let xs = (sources.iter())
        .map(|s| s.find(&x_name, "--x"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let columns = columns_of(&sources, &x_name, panels.only)?;
    let height = (180 * columns.len()).clamp(300, 4000) as u32;
    let root = SVGBackend::new(svg, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let areas = root.split_evenly((columns.len(), 1));
    for (area, column) in areas.iter().zip(&columns) {
        let mut curves = Vec::new();
        for (s, &xi) in sources.iter().zip(&xs) {
            let Some(k) = s.table.names.iter().position(|n| n == column) else {
                log::warn!("{}: no column {column}: not drawn", s.path.display());
                continue;
            };
            curves.push(Curve {
                name: &s.name,
                x: &s.table.columns[xi],
                y: &s.table.columns[k],
            });
        }
        let title = match sources.len() {
            1 => format!("{column} ({})", first.name),
            _ => column.clone(),
        };
        let labels = Labels {
            title: &title,
            x: &x_name,
            y: column,
        };
        draw_scaled(area, &labels, &curves, panels.log_y)?;
    }
    root.present()
        .with_context(|| format!("cannot write {}", svg.display()))?;
    Ok(columns)
}

/// The columns to draw: those asked for (every file must have them), or every column of
/// the first file but the axes that has a finite value in some file.
fn columns_of(
    sources: &[Source],
    x_name: &str,
    only: Option<&[String]>,
) -> anyhow::Result<Vec<String>> {
    let first = &sources[0];
    let columns: Vec<String> = match only {
        Some(names) => {
            for s in sources {
                for n in names {
                    s.find(n, "--columns")?;
                }
            }
            names.to_vec()
        }
        None => {
            let axes = ["time", "step", x_name];
            let finite = |name: &str| {
                sources.iter().any(|s| {
                    let k = s.table.names.iter().position(|n| n == name);
                    k.is_some_and(|k| s.table.columns[k].iter().any(|v| v.is_finite()))
                })
            };
            (first.table.names.iter())
                .filter(|n| !axes.contains(&n.as_str()))
                .filter(|n| {
                    let drawn = finite(n);
                    if !drawn {
                        log::warn!(
                            "{}: column {n} has no finite value: not drawn",
                            first.path.display()
                        );
                    }
                    drawn
                })
                .cloned()
                .collect()
        }
    };
    if columns.is_empty() {
        bail!(
            "{}: no column to draw against {x_name}",
            first.path.display()
        );
    }
    Ok(columns)
}
