//! The H5MD writer: [`H5mdWriter`] creates a trajectory with its metadata, groups and
//! resizable datasets (or reopens one to continue a restarted run), and appends one frame at
//! a time in the order that keeps a frame cut off by a crash detectable, flushing after each.

use super::read::open;
use super::torn::complete_frames;
use super::{bad, hdf5_err, unit, H5mdError, H5mdFields, OBSERVABLES, SMALL_CHUNK};
use crate::state::Thermo;
use crate::system::System;
use glam::DVec3;
use hdf5::types::{FixedAscii, FixedUnicode, VarLenAscii, VarLenUnicode};
use hdf5::{Dataset, Extent, File, Group, Hyperslab, SliceOrIndex};
use std::path::{Path, PathBuf};

/// One time-dependent H5MD element; `step`/`time` are None when hard-linked to another's.
struct Element {
    step: Option<Dataset>,
    time: Option<Dataset>,
    value: Dataset,
}

/// Checks, before anything in it is changed, that a trajectory holds `system`'s atoms and
/// counts its whole frames; then raises the end of the file its superblock records past
/// what a killed run wrote (see [`crate::hdf5_file::cover_written_bytes`]), counting the
/// frames first, as space past the written bytes reads as zeros once covered.
fn prepare_append(path: &Path, system: &System) -> Result<usize, H5mdError> {
    let (n_atoms, complete) = {
        let file = open(path)?;
        let species = file.dataset("particles/all/species");
        let n_atoms = species.map_or(0, |d| d.shape().first().copied().unwrap_or(0));
        (n_atoms, complete_frames(&file))
    };
    if n_atoms != system.len() {
        let what = format!("holds {n_atoms} atoms, the run has {}", system.len());
        return Err(H5mdError::Invalid {
            path: path.to_path_buf(),
            what,
        });
    }
    // room for a frame's chunks (positions, velocities, forces) past the written bytes
    let margin = (1 << 20) + 3 * 24 * n_atoms as u64;
    let grown =
        crate::hdf5_file::cover_written_bytes(path, margin).map_err(|cause| H5mdError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
    if grown {
        log::info!(
            "{}: the run that wrote it was cut off during a write; the end of the file it \
             records is raised past the bytes it wrote",
            path.display()
        );
    }
    Ok(complete)
}

impl Element {
    /// Shrinks the element to its first `frames` frames; HDF5 drops the chunks past them,
    /// also one a killed run left pointing past the end of the file.
    fn truncate(&self, frames: usize) -> hdf5::Result<()> {
        let mut shape = self.value.shape();
        if shape.first().is_some_and(|&n| n > frames) {
            shape[0] = frames;
            self.value.resize(shape)?;
        }
        for d in [&self.step, &self.time].into_iter().flatten() {
            if d.shape().first().is_some_and(|&n| n > frames) {
                d.resize(frames)?;
            }
        }
        Ok(())
    }
}

/// One frame's data for an element.
enum Sample<'a> {
    Scalar(f64),
    Vector([f64; 3]),
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
    dipole: Option<Element>,
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
        let dipole = fields
            .dipole
            .then(|| {
                create_element(
                    &obs,
                    "dipole",
                    &[3],
                    SMALL_CHUNK,
                    unit(units, "dipole"),
                    time_unit,
                )
            })
            .transpose()?;
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
            dipole,
        })
    }

    /// Opens an existing trajectory of `system`'s atoms to continue it (a restarted run):
    /// frames after step `upto` (written after the checkpoint) and any incomplete frame are
    /// removed, for the frames that follow. A file of other atoms is refused unchanged.
    pub fn append(path: &Path, system: &System, upto: u64) -> Result<H5mdWriter, H5mdError> {
        let complete = prepare_append(path, system)?;
        let file = File::with_options()
            .with_fapl(|p| p.file_locking(false))
            .open_rw(path)
            .map_err(|e| hdf5_err(path, e))?;
        let reopen = || -> hdf5::Result<H5mdWriter> {
            let element = |group: &str, linked: bool| -> hdf5::Result<Option<Element>> {
                let Ok(g) = file.group(group) else {
                    return Ok(None);
                };
                let own = |name: &str| (!linked).then(|| g.dataset(name)).transpose();
                Ok(Some(Element {
                    step: own("step")?,
                    time: own("time")?,
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
            let steps = file.dataset("particles/all/position/step")?;
            let steps: Vec<i64> = steps.read_slice_1d(..complete)?.to_vec();
            let frames = steps.iter().take_while(|&&s| s <= upto as i64).count();
            let writer = H5mdWriter {
                path: path.to_path_buf(),
                n_atoms: system.len(),
                frames,
                position,
                velocity: element("particles/all/velocity", false)?,
                force: element("particles/all/force", false)?,
                edges,
                observables,
                dipole: element("observables/dipole", false)?,
                file: file.clone(),
            };
            writer.truncate()?;
            Ok(writer)
        };
        reopen().map_err(|e| hdf5_err(path, e))
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

    /// Cuts every element to the frames kept, so that frames after the checkpoint and a
    /// frame a killed run left half written are gone before new ones are written.
    fn truncate(&self) -> hdf5::Result<()> {
        let elements = [&self.position, &self.velocity, &self.force, &self.dipole];
        (elements.into_iter().flatten())
            .chain([&self.edges])
            .chain(&self.observables)
            .try_for_each(|el| el.truncate(self.frames))?;
        self.file.flush()
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
        if let Some(el) = &self.dipole {
            let m = thermo.dipole.unwrap_or(DVec3::NAN);
            append(el, k, step, time, Sample::Vector(m.to_array()))?;
        }
        let rows = |v: &[DVec3]| v.iter().map(|r| r.to_array()).collect::<Vec<_>>();
        if let Some(el) = &self.force {
            let c = super::force_factor(system.units);
            let scaled: Vec<DVec3> = forces.iter().map(|f| *f * c).collect();
            append(el, k, step, time, Sample::Rows(&rows(&scaled)))?;
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
    // rows a killed run left unwritten read as step −1 and time NaN, told from frames
    let step = g
        .new_dataset::<i64>()
        .chunk(SMALL_CHUNK)
        .shape(0..)
        .fill_value(-1i64)
        .create("step")?;
    let time = g
        .new_dataset::<f64>()
        .chunk(SMALL_CHUNK)
        .shape(0..)
        .fill_value(f64::NAN)
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

/// Creates `value` [0, item...], unlimited along time, chunked by `chunk_rows` frames,
/// filled with NaN where nothing was written.
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
    // a frame a killed run left unwritten reads as NaN, not as atoms at the origin
    let value = g
        .new_dataset::<f64>()
        .chunk(chunk)
        .shape(shape)
        .fill_value(f64::NAN)
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
        Sample::Vector(v) => {
            let sel: Vec<SliceOrIndex> = vec![k.into(), (..).into()];
            el.value.write_slice(&v[..], Hyperslab::from(sel))?;
        }
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
