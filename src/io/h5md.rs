//! H5MD 1.1 trajectories (<https://www.nongnu.org/h5md/>), written frame by frame and
//! flushed after every frame, so a run killed with SIGKILL leaves a file readable up to the
//! last flushed frame; and read back (the last complete frame, to restart from).
//!
//! Layout (N atoms, n frames):
//!
//! ```text
//! /h5md                 version = [1, 1]; author (name), creator (name = "eqmd", version)
//! /particles/all/box    dimension = 3, boundary = "periodic" | "none" per axis
//!     edges/{step, time, value [n, 3, 3]}   rows = box vectors a, b, c (zeros in vacuum)
//! /particles/all/{position, velocity, force}/{step [n] int64, time [n], value [n, N, 3]}
//! /particles/all/species  [N] int32 species indices; attribute `names` lists the names
//! /observables/{pe, ke, etotal, temp, press}/{step, time, value [n]}
//! /parameters           attribute `units` = "metal" | "lj" (eqmd's unit system)
//! ```
//!
//! Choices where H5MD leaves room or where eqmd departs from it:
//! - `species` is Integer (allowed) rather than an HDF5 enumeration; the names are a
//!   variable-length string attribute `names` on it (index i ↦ `names[i]`).
//! - `unit` attributes (variable-length ASCII, on every `value` and `time`) use "angstrom",
//!   not the units module's "Ang"; `lj` runs carry no `unit` attribute (reduced units have no
//!   unit string), and the unit system is recorded in `/parameters/units` instead.
//! - `box/edges/step` and `time` are hard links to `position`'s, as H5MD requires; every
//!   other element has its own `step` and `time`.
//! - Per-atom `value`s are chunked one frame per chunk; `step`, `time`, observables and
//!   edges use 1024-row chunks (one frame per chunk would make millions of tiny chunks).
//! - HDF5 file locking is off, so a live trajectory can be read (h5py, `read_last_frame`)
//!   while the run writes it; eqmd never writes one file from two processes.
//!
//! Crash safety: each frame writes the observables, then every particle element (value,
//! then time, then step; position last), then flushes. A reader counts as complete only the
//! frames present in every dataset under `/particles/all`, so a run cut mid-frame loses at
//! most that frame. The file keeps HDF5's default (oldest) format, which has no "open for
//! writing" flag, so a killed run's file opens without `h5clear`.

use crate::simulation::Thermo;
use crate::system::System;
use crate::units::Units;
use glam::{DMat3, DVec3};
use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, Extent, File, Group, Hyperslab, SliceOrIndex};
use std::path::{Path, PathBuf};

/// Which per-atom fields to store.
#[derive(Clone, Copy, Debug)]
pub struct H5mdFields {
    /// Positions (needed to restart from the file).
    pub position: bool,
    /// Velocities (needed for an exact restart).
    pub velocity: bool,
    /// Forces on the atoms.
    pub force: bool,
}

/// Why an H5MD file could not be written or read; every message starts with the file name.
#[derive(Debug, thiserror::Error)]
pub enum H5mdError {
    /// The file could not be reached (missing, unreadable).
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The HDF5 library refused an operation (not an HDF5 file, disk full, ...) or the
    /// data do not fit (shapes, indices).
    #[error("{}: {source}", path.display())]
    Hdf5 { path: PathBuf, source: hdf5::Error },
    /// An HDF5 file that lacks what H5MD (or eqmd's restart) needs.
    #[error("{}: not a usable H5MD trajectory: {what}", path.display())]
    NotH5md { path: PathBuf, what: String },
    /// Data that do not fit the file (atom count, array lengths).
    #[error("{}: {what}", path.display())]
    Invalid { path: PathBuf, what: String },
}

/// The last complete frame of an H5MD file (the frame a run can restart from).
#[derive(Clone, Debug, PartialEq)]
pub struct H5mdFrame {
    /// Integration step of the frame.
    pub step: u64,
    /// Simulation time of the frame (time units of the run).
    pub time: f64,
    /// Box vectors as the columns (zero for a vacuum cell).
    pub cell: DMat3,
    /// Periodicity along a, b, c (`boundary` = "periodic").
    pub pbc: [bool; 3],
    /// Species names, indexed by `species`.
    pub species_names: Vec<String>,
    /// Species index of every atom.
    pub species: Vec<usize>,
    /// Cartesian positions.
    pub positions: Vec<DVec3>,
    /// Velocities, when the file stores them.
    pub velocities: Option<Vec<DVec3>>,
}

/// Rows per chunk for `step`, `time`, observables and box edges.
const SMALL_CHUNK: usize = 1024;
/// The observables under `/observables`, from `Thermo`.
const OBSERVABLES: [&str; 5] = ["pe", "ke", "etotal", "temp", "press"];
/// Time-dependent elements under `/particles/all` that count towards complete frames.
const PARTICLE_ELEMENTS: [&str; 4] = ["position", "velocity", "force", "box/edges"];

/// The `unit` string of a quantity, or None in reduced (lj) units.
fn unit(units: Units, quantity: &str) -> Option<&'static str> {
    match units {
        Units::Lj => None,
        Units::Metal => Some(match quantity {
            "time" => "ps",
            "position" | "edges" => "angstrom",
            "velocity" => "angstrom ps-1",
            "force" => "eV angstrom-1",
            "temp" => "K",
            "press" => "bar",
            _ => "eV",
        }),
    }
}

/// One time-dependent H5MD element; `step`/`time` are None when hard-linked to another's.
struct Element {
    step: Option<Dataset>,
    time: Option<Dataset>,
    value: Dataset,
}

/// One frame's data for an element.
enum Sample<'a> {
    Scalar(f64),
    Rows(&'a [[f64; 3]]),
}

/// Writes an H5MD trajectory one frame at a time, flushing the file after each frame.
pub struct H5mdWriter {
    path: PathBuf,
    file: File,
    n_atoms: usize,
    frames: usize,
    position: Option<Element>,
    velocity: Option<Element>,
    force: Option<Element>,
    edges: Element,
    observables: Vec<Element>,
}

impl H5mdWriter {
    /// Creates (truncates) `path` for `system`'s atoms; species names and units are taken from the system.
    pub fn create(
        path: &Path,
        system: &System,
        fields: H5mdFields,
    ) -> Result<H5mdWriter, H5mdError> {
        if system.is_empty() {
            return Err(hdf5_err(path, bad("the system has no atoms")));
        }
        let file = File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .create(path)
            .map_err(|e| hdf5_err(path, e))?;
        Self::build(path, file, system, fields).map_err(|e| hdf5_err(path, e))
    }

    fn build(path: &Path, file: File, system: &System, fields: H5mdFields) -> hdf5::Result<Self> {
        let units = system.units;
        let n = system.len();
        let h5md = file.create_group("h5md")?;
        h5md.new_attr_builder()
            .with_data(&[1i32, 1])
            .create("version")?;
        let author = std::env::var("USER").or_else(|_| std::env::var("LOGNAME"));
        let author = author.unwrap_or_else(|_| "unknown".into());
        let author_group = h5md.create_group("author")?;
        fixed_str_attr(&author_group, "name", &author)?;
        let creator = h5md.create_group("creator")?;
        fixed_str_attr(&creator, "name", "eqmd")?;
        fixed_str_attr(&creator, "version", env!("CARGO_PKG_VERSION"))?;
        let parameters = file.create_group("parameters")?;
        vl_attr(&parameters, "units", units.name())?;

        let all = file.create_group("particles")?.create_group("all")?;
        let time_unit = unit(units, "time");
        let element = |name: &str, on: bool| -> hdf5::Result<Option<Element>> {
            let u = unit(units, name);
            on.then(|| create_element(&all, name, &[n, 3], 1, u, time_unit))
                .transpose()
        };
        let position = element("position", fields.position)?;
        let velocity = element("velocity", fields.velocity)?;
        let force = element("force", fields.force)?;

        let species = all
            .new_dataset_builder()
            .with_data(&system.species.iter().map(|&s| s as i32).collect::<Vec<_>>())
            .create("species")?;
        let names = system
            .species_names
            .iter()
            .map(|s| s.parse::<VarLenUnicode>().map_err(bad))
            .collect::<hdf5::Result<Vec<_>>>()?;
        species
            .new_attr_builder()
            .with_data(&names)
            .create("names")?;

        let cell_box = all.create_group("box")?;
        cell_box
            .new_attr::<i32>()
            .create("dimension")?
            .write_scalar(&3)?;
        let boundary = system
            .cell
            .pbc()
            .map(|p| if p { "periodic" } else { "none" });
        let boundary = boundary
            .iter()
            .map(|s| FixedAscii::<8>::from_ascii(s).map_err(bad))
            .collect::<hdf5::Result<Vec<_>>>()?;
        cell_box
            .new_attr_builder()
            .with_data(&boundary)
            .create("boundary")?;
        let edges_unit = unit(units, "edges");
        let edges = if position.is_some() {
            let g = cell_box.create_group("edges")?;
            g.link_hard("/particles/all/position/step", "step")?;
            g.link_hard("/particles/all/position/time", "time")?;
            let value = create_value(&g, &[3, 3], 128, edges_unit)?;
            Element {
                step: None,
                time: None,
                value,
            }
        } else {
            create_element(&cell_box, "edges", &[3, 3], 128, edges_unit, time_unit)?
        };

        let obs = file.create_group("observables")?;
        let observables = OBSERVABLES
            .iter()
            .map(|&name| create_element(&obs, name, &[], SMALL_CHUNK, unit(units, name), time_unit))
            .collect::<hdf5::Result<Vec<_>>>()?;
        file.flush()?;
        Ok(H5mdWriter {
            path: path.to_path_buf(),
            file,
            n_atoms: n,
            frames: 0,
            position,
            velocity,
            force,
            edges,
            observables,
        })
    }

    /// Opens an existing trajectory of `system`'s atoms to continue it (a restarted run):
    /// frames after step `upto` (written after the checkpoint) and any incomplete frame are
    /// overwritten by the frames that follow.
    pub fn append(path: &Path, system: &System, upto: u64) -> Result<H5mdWriter, H5mdError> {
        open(path)?;
        let file = File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .open_rw(path)
            .map_err(|e| hdf5_err(path, e))?;
        let complete = complete_frames(&file);
        let reopen = || -> hdf5::Result<H5mdWriter> {
            let element = |group: &str, linked: bool| -> hdf5::Result<Option<Element>> {
                let Ok(g) = file.group(group) else {
                    return Ok(None);
                };
                Ok(Some(Element {
                    step: if linked {
                        None
                    } else {
                        Some(g.dataset("step")?)
                    },
                    time: if linked {
                        None
                    } else {
                        Some(g.dataset("time")?)
                    },
                    value: g.dataset("value")?,
                }))
            };
            let position = element("particles/all/position", false)?;
            let edges = element("particles/all/box/edges", position.is_some())?
                .ok_or_else(|| bad("no box/edges element"))?;
            let observables = OBSERVABLES
                .iter()
                .map(|name| {
                    element(&format!("observables/{name}"), false)?.ok_or_else(|| bad(name))
                })
                .collect::<hdf5::Result<Vec<_>>>()?;
            let steps: Vec<i64> = file.dataset("particles/all/position/step")?.read_raw()?;
            let frames = steps
                .iter()
                .take(complete)
                .take_while(|&&s| s <= upto as i64)
                .count();
            let n_atoms = file.dataset("particles/all/species")?.shape()[0];
            Ok(H5mdWriter {
                path: path.to_path_buf(),
                n_atoms,
                frames,
                position,
                velocity: element("particles/all/velocity", false)?,
                force: element("particles/all/force", false)?,
                edges,
                observables,
                file: file.clone(),
            })
        };
        let writer = reopen().map_err(|e| hdf5_err(path, e))?;
        if writer.n_atoms != system.len() {
            return Err(H5mdError::Invalid {
                path: path.to_path_buf(),
                what: format!(
                    "holds {} atoms, the run has {}",
                    writer.n_atoms,
                    system.len()
                ),
            });
        }
        Ok(writer)
    }

    /// Appends one frame (grows every dataset along time) and flushes the file.
    pub fn write(
        &mut self,
        step: u64,
        time: f64,
        system: &System,
        forces: &[DVec3],
        thermo: &Thermo,
    ) -> Result<(), H5mdError> {
        let n = self.n_atoms;
        if system.len() != n || (self.force.is_some() && forces.len() != n) {
            let what = format!(
                "frame at step {step}: the file holds {n} atoms, got {} positions and {} forces",
                system.len(),
                forces.len()
            );
            return Err(H5mdError::Invalid {
                path: self.path.clone(),
                what,
            });
        }
        self.append_frame(step, time, system, forces, thermo)
            .map_err(|e| hdf5_err(&self.path, e))?;
        self.frames += 1;
        Ok(())
    }

    /// Writes frame `self.frames` in the order that keeps a cut-off frame detectable.
    fn append_frame(
        &self,
        step: u64,
        time: f64,
        system: &System,
        forces: &[DVec3],
        thermo: &Thermo,
    ) -> hdf5::Result<()> {
        let k = self.frames;
        let step = i64::try_from(step).map_err(bad)?;
        let values = [
            thermo.pe,
            thermo.ke,
            thermo.etotal,
            thermo.temp,
            thermo.press,
        ];
        for (el, v) in self.observables.iter().zip(values) {
            append(el, k, step, time, Sample::Scalar(v))?;
        }
        let rows = |v: &[DVec3]| v.iter().map(|r| r.to_array()).collect::<Vec<_>>();
        if let Some(el) = &self.force {
            append(el, k, step, time, Sample::Rows(&rows(forces)))?;
        }
        if let Some(el) = &self.velocity {
            append(el, k, step, time, Sample::Rows(&rows(&system.velocities)))?;
        }
        let m = system.cell.matrix();
        let edges = [0, 1, 2].map(|i| m.col(i).to_array());
        append(&self.edges, k, step, time, Sample::Rows(&edges))?;
        if let Some(el) = &self.position {
            append(el, k, step, time, Sample::Rows(&rows(&system.positions)))?;
        }
        self.file.flush()
    }
}

/// Creates `parent/name` with `step`, `time` and a `value` of `item` shape per frame.
fn create_element(
    parent: &Group,
    name: &str,
    item: &[usize],
    chunk_rows: usize,
    value_unit: Option<&str>,
    time_unit: Option<&str>,
) -> hdf5::Result<Element> {
    let g = parent.create_group(name)?;
    let step = g
        .new_dataset::<i64>()
        .chunk(SMALL_CHUNK)
        .shape(0..)
        .create("step")?;
    let time = g
        .new_dataset::<f64>()
        .chunk(SMALL_CHUNK)
        .shape(0..)
        .create("time")?;
    if let Some(u) = time_unit {
        vl_attr(&time, "unit", u)?;
    }
    let value = create_value(&g, item, chunk_rows, value_unit)?;
    Ok(Element {
        step: Some(step),
        time: Some(time),
        value,
    })
}

/// Creates `value` [0, item...], unlimited along time, chunked by `chunk_rows` frames.
fn create_value(
    g: &Group,
    item: &[usize],
    chunk_rows: usize,
    u: Option<&str>,
) -> hdf5::Result<Dataset> {
    let mut shape = vec![Extent::resizable(0)];
    shape.extend(item.iter().map(|&d| Extent::fixed(d)));
    let mut chunk = vec![chunk_rows];
    chunk.extend_from_slice(item);
    let value = g
        .new_dataset::<f64>()
        .chunk(chunk)
        .shape(shape)
        .create("value")?;
    if let Some(u) = u {
        vl_attr(&value, "unit", u)?;
    }
    Ok(value)
}

/// Writes frame `k` of an element: value, then time, then step (the frame counts from step).
fn append(el: &Element, k: usize, step: i64, time: f64, sample: Sample) -> hdf5::Result<()> {
    let mut shape = el.value.shape();
    shape[0] = k + 1;
    el.value.resize(shape.clone())?;
    match sample {
        Sample::Scalar(x) => el.value.write_slice(&[x][..], k..k + 1)?,
        Sample::Rows(rows) => {
            let sel: Vec<SliceOrIndex> = vec![k.into(), (..).into(), (..).into()];
            el.value
                .write_slice::<&[[f64; 3]], f64, _, _>(rows, Hyperslab::from(sel))?;
        }
    }
    if let Some(t) = &el.time {
        t.resize(k + 1)?;
        t.write_slice(&[time][..], k..k + 1)?;
    }
    if let Some(s) = &el.step {
        s.resize(k + 1)?;
        s.write_slice(&[step][..], k..k + 1)?;
    }
    Ok(())
}

/// A scalar variable-length ASCII string attribute (the H5MD `unit` form).
fn vl_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let s = VarLenAscii::from_ascii(value).map_err(bad)?;
    loc.new_attr::<VarLenAscii>().create(name)?.write_scalar(&s)
}

/// A scalar fixed-length (64-byte, UTF-8) string attribute, as H5MD's metadata asks.
fn fixed_str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let mut end = value.len().min(64);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let s: FixedUnicode<64> = value[..end].parse().map_err(bad)?;
    loc.new_attr::<FixedUnicode<64>>()
        .create(name)?
        .write_scalar(&s)
}

/// An hdf5::Error from a message (string conversions, data that do not fit).
fn bad(e: impl std::fmt::Display) -> hdf5::Error {
    hdf5::Error::from(e.to_string())
}

fn hdf5_err(path: &Path, source: hdf5::Error) -> H5mdError {
    H5mdError::Hdf5 {
        path: path.to_path_buf(),
        source,
    }
}

fn not_h5md(path: &Path, what: &str) -> H5mdError {
    H5mdError::NotH5md {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}

/// Opens an H5MD file read-only (without locking, so a live run's file opens too).
fn open(path: &Path) -> Result<File, H5mdError> {
    std::fs::metadata(path).map_err(|source| H5mdError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .open(path)
        .map_err(|e| hdf5_err(path, e))?;
    if file.group("h5md").is_err() {
        return Err(not_h5md(path, "no /h5md group"));
    }
    if file.group("particles/all/position").is_err() {
        return Err(not_h5md(path, "no /particles/all/position element"));
    }
    Ok(file)
}

/// Frames present in every time-dependent dataset under `/particles/all`.
fn complete_frames(file: &File) -> usize {
    let all = |name: &str| file.group(&format!("particles/all/{name}")).ok();
    PARTICLE_ELEMENTS
        .iter()
        .filter_map(|name| all(name))
        .flat_map(|g| {
            ["step", "time", "value"]
                .into_iter()
                .filter_map(move |d| g.dataset(d).ok())
        })
        .map(|d| d.shape().first().copied().unwrap_or(0))
        .min()
        .unwrap_or(0)
}

/// Number of complete frames (the length of /particles/all/position/step).
///
/// A frame counts only when every particle dataset holds it, so a file cut mid-frame
/// reports the frames before the cut.
pub fn frame_count(path: &Path) -> Result<usize, H5mdError> {
    Ok(complete_frames(&open(path)?))
}

/// Reads the last complete frame of an H5MD file (positions, velocities, box, species).
pub fn read_last_frame(path: &Path) -> Result<H5mdFrame, H5mdError> {
    let file = open(path)?;
    let frames = complete_frames(&file);
    if frames == 0 {
        return Err(not_h5md(path, "no complete frame"));
    }
    read_frame(&file, frames - 1).map_err(|e| hdf5_err(path, e))
}

fn read_frame(file: &File, k: usize) -> hdf5::Result<H5mdFrame> {
    let all = file.group("particles/all")?;
    let pos = all.group("position")?;
    let step: i64 = pos.dataset("step")?.read_slice_1d(k..k + 1)?[0];
    let time: f64 = match pos.dataset("time") {
        Ok(t) => t.read_slice_1d(k..k + 1)?[0],
        Err(_) => 0.0,
    };
    let positions = read_rows(&pos, k)?;
    let n = positions.len();
    let velocities = match all.group("velocity") {
        Ok(g) => {
            let v_step: i64 = g.dataset("step")?.read_slice_1d(k..k + 1)?[0];
            if v_step != step {
                let what = format!("frame {k}: velocity is at step {v_step}, position at {step}");
                return Err(bad(what));
            }
            Some(read_rows(&g, k)?)
        }
        Err(_) => None,
    };
    if velocities.as_ref().is_some_and(|v| v.len() != n) {
        return Err(bad("velocity and position differ in atom count"));
    }

    let cell_box = all.group("box")?;
    let boundary = read_strings(&cell_box.attr("boundary")?)?;
    let pbc = [0, 1, 2].map(|i| boundary.get(i).is_some_and(|b| b == "periodic"));
    let edges: Vec<f64> = match cell_box.group("edges") {
        Ok(g) => {
            let value = g.dataset("value")?;
            let sel = edge_selection(value.ndim(), k);
            match value.ndim() {
                3 => value
                    .read_slice_2d::<f64, _>(sel)?
                    .iter()
                    .copied()
                    .collect(),
                _ => value.read_slice_1d::<f64, _>(sel)?.to_vec(),
            }
        }
        Err(_) => vec![0.0; 3], // H5MD omits edges when no axis is periodic
    };
    let cell = match edges.len() {
        3 => DMat3::from_diagonal(DVec3::from_slice(&edges)),
        9 => DMat3::from_cols_slice(&edges), // rows of the file = columns of the matrix
        l => return Err(bad(format!("box edges hold {l} numbers, not 3 or 9"))),
    };

    let (species, species_names) = match all.dataset("species") {
        Ok(d) => {
            let idx = d.read_raw::<i32>()?;
            let names = match d.attr("names") {
                Ok(a) => read_strings(&a)?,
                Err(_) => {
                    let m = idx.iter().copied().max().unwrap_or(0).max(0);
                    (0..=m).map(|i| i.to_string()).collect()
                }
            };
            (idx, names)
        }
        Err(_) => (vec![0; n], vec!["X".to_string()]),
    };
    let species = species
        .iter()
        .map(|&s| usize::try_from(s).ok().filter(|&s| s < species_names.len()))
        .collect::<Option<Vec<_>>>()
        .filter(|s| s.len() == n)
        .ok_or_else(|| bad("species do not match the positions or the species names"))?;
    Ok(H5mdFrame {
        step: u64::try_from(step).map_err(bad)?,
        time,
        cell,
        pbc,
        species_names,
        species,
        positions,
        velocities,
    })
}

/// Selection of frame `k` in a `value` of rank `ndim`.
fn edge_selection(ndim: usize, k: usize) -> Hyperslab {
    let mut sel: Vec<SliceOrIndex> = vec![k.into()];
    sel.extend((1..ndim).map(|_| SliceOrIndex::from(..)));
    Hyperslab::from(sel)
}

/// Frame `k` of an element's `value` [n, N, 3] as vectors.
fn read_rows(g: &Group, k: usize) -> hdf5::Result<Vec<DVec3>> {
    let value = g.dataset("value")?;
    let shape = value.shape();
    if shape.len() != 3 || shape[2] != 3 {
        return Err(bad(format!("{}/value has shape {shape:?}", g.name())));
    }
    let a = value.read_slice_2d::<f64, _>(edge_selection(3, k))?;
    let flat: Vec<f64> = a.iter().copied().collect();
    Ok(flat.chunks_exact(3).map(DVec3::from_slice).collect())
}

/// A string array attribute of any HDF5 string type (fixed or variable length).
fn read_strings(attr: &hdf5::Attribute) -> hdf5::Result<Vec<String>> {
    fn read<T: hdf5::H5Type + std::fmt::Display>(a: &hdf5::Attribute) -> hdf5::Result<Vec<String>> {
        Ok(a.read_raw::<T>()?.iter().map(T::to_string).collect())
    }
    match attr.dtype()?.to_descriptor()? {
        TypeDescriptor::VarLenUnicode => read::<VarLenUnicode>(attr),
        TypeDescriptor::VarLenAscii => read::<VarLenAscii>(attr),
        TypeDescriptor::FixedUnicode(_) => read::<FixedUnicode<64>>(attr),
        _ => read::<FixedAscii<64>>(attr),
    }
}
