//! The H5MD reader: opens a trajectory read-only without locking (a live run's file too),
//! counts the frames present in every particle dataset, and reads the last complete frame
//! (positions, velocities, box, species) for a run to restart from.

use super::torn::{complete_frames, complete_rows};
use super::{bad, hdf5_err, not_h5md, H5mdError, H5mdFrame};
use crate::system::MAX_ATOMS;
use glam::{DMat3, DVec3};
use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{File, Group, Hyperslab, SliceOrIndex};
use std::path::Path;

/// The largest species index read without a `names` attribute (each index up to it gets a
/// name, so a stray 2^31 would ask for gigabytes).
const MAX_UNNAMED_SPECIES: i32 = 65535;

/// Opens an H5MD file read-only (without locking, so a live run's file opens too).
pub(super) fn open(path: &Path) -> Result<File, H5mdError> {
    std::fs::metadata(path).map_err(|cause| H5mdError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    crate::hdf5_file::check(path, "an H5MD trajectory").map_err(|what| H5mdError::Invalid {
        path: path.to_path_buf(),
        what,
    })?;
    let file = File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .open(path)
        .map_err(|e| hdf5_err(path, e))?;
    if file.group("h5md").is_err() {
        if file.attr("format").is_ok() {
            return Err(not_h5md(path, "it is an eqmd model file"));
        }
        return Err(not_h5md(path, "no /h5md group"));
    }
    if file.group("particles/all/position").is_err() {
        return Err(not_h5md(path, "no /particles/all/position element"));
    }
    Ok(file)
}

/// Number of complete frames: those every particle dataset holds, written whole, so that
/// a file cut mid-frame, or by a kill during HDF5's flush, reports the frames before the cut.
pub fn frame_count(path: &Path) -> Result<usize, H5mdError> {
    Ok(complete_frames(&open(path)?))
}

/// The dipole series `/observables/dipole` of an H5MD file (written when the potential
/// predicts a dipole): times and vectors, frames whose value was written.
pub fn read_dipole_series(path: &Path) -> Result<(Vec<f64>, Vec<glam::DVec3>), H5mdError> {
    let file = open(path)?;
    let group = file.group("observables/dipole").map_err(|_| {
        not_h5md(
            path,
            "no /observables/dipole (the run's potential had no dipole head)",
        )
    })?;
    let read = || -> hdf5::Result<(Vec<f64>, Vec<glam::DVec3>)> {
        let (time, value) = (group.dataset("time")?, group.dataset("value")?);
        if !matches!(value.shape()[..], [_, 3]) {
            let what = format!(
                "dipole/value has shape {:?}, not [frames, 3]",
                value.shape()
            );
            return Err(bad(what));
        }
        let n = complete_rows(&time, &value);
        fits_in_memory::<f64>(&value, n.saturating_mul(3))?;
        let times: Vec<f64> = time.read_slice_1d(..n)?.to_vec();
        let rows = Hyperslab::from(vec![SliceOrIndex::from(..n), (..).into()]);
        let values = value.read_slice_2d::<f64, _>(rows)?;
        let vectors = (values.rows().into_iter())
            .map(|r| glam::DVec3::new(r[0], r[1], r[2]))
            .collect();
        Ok((times, vectors))
    };
    read().map_err(|e| hdf5_err(path, e))
}

/// The velocity series of an H5MD file: times (ps), every frame's velocities (Å/ps) and
/// each atom's species name; an error naming the file when it stores no velocities.
pub fn read_velocity_series(path: &Path) -> Result<VelocitySeries, H5mdError> {
    let file = open(path)?;
    let frames = complete_frames(&file);
    let Ok(group) = file.group("particles/all/velocity") else {
        return Err(not_h5md(
            path,
            "no /particles/all/velocity (set h5md.velocity = true)",
        ));
    };
    let read = || -> hdf5::Result<VelocitySeries> {
        // the complete frames only: a killed run's last one may not read
        let time = group.dataset("time")?;
        let n = frames.min(time.shape().first().copied().unwrap_or(0));
        let times: Vec<f64> = time.read_slice_1d(..n)?.to_vec();
        let value = group.dataset("value")?;
        let atoms = value.shape().get(1).copied().unwrap_or(0);
        fits_in_memory::<f64>(&value, n.saturating_mul(3 * atoms))?;
        let velocities = (0..n)
            .map(|k| read_rows(&group, k))
            .collect::<hdf5::Result<_>>()?;
        let last = read_frame(&file, frames.saturating_sub(1))?;
        let species = (last.species.iter())
            .map(|&s| last.species_names[s].clone())
            .collect();
        Ok(VelocitySeries {
            times: times[..n].to_vec(),
            velocities,
            species,
        })
    };
    if frames == 0 {
        return Err(not_h5md(path, "no complete frame"));
    }
    read().map_err(|e| hdf5_err(path, e))
}

/// A trajectory's velocities over time (see [`read_velocity_series`]).
#[derive(Clone, Debug, PartialEq)]
pub struct VelocitySeries {
    pub times: Vec<f64>,
    pub velocities: Vec<Vec<DVec3>>,
    pub species: Vec<String>,
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
    finite(&positions, "position", k)?;
    let velocities = read_velocities(&all, k, step, n)?;

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
            // one index per atom, checked before anything is read
            if d.size() != n {
                let what = format!("species holds {} values for {n} atoms", d.size());
                return Err(bad(what));
            }
            // indices: reading 1.7 as an integer would silently make it 1
            if !matches!(
                d.dtype()?.to_descriptor()?,
                TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_)
            ) {
                return Err(bad("species holds numbers that are not integers"));
            }
            let idx = d.read_raw::<i32>()?;
            let names = match d.attr("names") {
                Ok(a) => read_strings(&a)?,
                Err(_) => {
                    // without names the indices are the names (types, atomic numbers)
                    let m = idx.iter().copied().max().unwrap_or(0).max(0);
                    if m > MAX_UNNAMED_SPECIES {
                        let what = format!(
                            "species index {m} without a `names` attribute (at most \
                             {MAX_UNNAMED_SPECIES} without names)"
                        );
                        return Err(bad(what));
                    }
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

/// The velocities of frame `k` (at `step`, for `n` atoms), if the file has them.
fn read_velocities(all: &Group, k: usize, step: i64, n: usize) -> hdf5::Result<Option<Vec<DVec3>>> {
    let Ok(g) = all.group("velocity") else {
        return Ok(None);
    };
    let v_step: i64 = g.dataset("step")?.read_slice_1d(k..k + 1)?[0];
    if v_step != step {
        let what = format!("frame {k}: velocity is at step {v_step}, position at {step}");
        return Err(bad(what));
    }
    let v = read_rows(&g, k)?;
    if v.len() != n {
        return Err(bad("velocity and position differ in atom count"));
    }
    finite(&v, "velocity", k)?;
    Ok(Some(v))
}

/// Refuses a NaN or infinite component of `element` in frame `k`, naming the atom
/// (1-based): such an atom would silently stop interacting.
fn finite(values: &[DVec3], element: &str, k: usize) -> hdf5::Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(bad(format!(
            "frame {k}, atom {}: {element} {} is not finite",
            i + 1,
            values[i]
        ))),
        None => Ok(()),
    }
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
    if shape[1] > MAX_ATOMS {
        let what = format!(
            "{}/value declares {} atoms, more than {MAX_ATOMS}",
            g.name(),
            shape[1]
        );
        return Err(bad(what));
    }
    let a = value.read_slice_2d::<f64, _>(edge_selection(3, k))?;
    let flat: Vec<f64> = a.iter().copied().collect();
    Ok(flat.chunks_exact(3).map(DVec3::from_slice).collect())
}

/// Refuses to read `count` values of `d` when they would not fit in the memory available:
/// a file can declare billions of values it never stored (they read as fill values).
fn fits_in_memory<T>(d: &hdf5::Dataset, count: usize) -> hdf5::Result<()> {
    let bytes = count as f64 * std::mem::size_of::<T>() as f64;
    if let Some(available) = crate::neighbors::available_memory() {
        if bytes > available {
            let what = format!(
                "{} declares {count} values ({:.1} GiB), more than the memory available",
                d.name(),
                bytes / (1u64 << 30) as f64
            );
            return Err(bad(what));
        }
    }
    Ok(())
}

/// A string array attribute of any HDF5 string type (fixed or variable length).
fn read_strings(attr: &hdf5::Attribute) -> hdf5::Result<Vec<String>> {
    fn read<T: hdf5::H5Type + std::fmt::Display>(a: &hdf5::Attribute) -> hdf5::Result<Vec<String>> {
        Ok(a.read_raw::<T>()?.iter().map(T::to_string).collect())
    }
    match attr.dtype()?.to_descriptor()? {
        TypeDescriptor::VarLenUnicode => read::<VarLenUnicode>(attr),
        TypeDescriptor::VarLenAscii => read::<VarLenAscii>(attr),
        // read into 64 bytes: a longer fixed string would be cut, so it is refused
        TypeDescriptor::FixedUnicode(n) | TypeDescriptor::FixedAscii(n) if n > 64 => Err(bad(
            format!("{} holds strings of {n} bytes, more than 64", attr.name()),
        )),
        TypeDescriptor::FixedUnicode(_) => read::<FixedUnicode<64>>(attr),
        _ => read::<FixedAscii<64>>(attr),
    }
}

/// The frames of an H5MD file that `choose` picks from the number of complete frames it is
/// given (0-based indices, each below that number), in the order it lists them: positions,
/// velocities when stored, box, time and species of each, for analyses over a trajectory.
pub fn read_frames(
    path: &Path,
    choose: impl FnOnce(usize) -> Vec<usize>,
) -> Result<Vec<H5mdFrame>, H5mdError> {
    let file = open(path)?;
    let frames = complete_frames(&file);
    let picked = choose(frames);
    if let Some(&k) = picked.iter().find(|&&k| k >= frames) {
        let what = format!("frame {k} asked for, but the file has {frames} complete frames");
        return Err(H5mdError::Invalid {
            path: path.to_path_buf(),
            what,
        });
    }
    (picked.into_iter())
        .map(|k| read_frame(&file, k).map_err(|e| hdf5_err(path, e)))
        .collect()
}

/// The `unit` attribute of the positions' time (e.g. "ps"), when the file gives one.
pub fn time_unit(path: &Path) -> Option<String> {
    let file = open(path).ok()?;
    let dataset = file.dataset("particles/all/position/time").ok()?;
    string_attr(&dataset.attr("unit").ok()?)
}

/// What a file says of its units: the unit system eqmd wrote it in (`parameters/units`,
/// "metal" or "lj") and the `unit` attribute of its positions (e.g. "Angstrom", "nm").
pub fn units(path: &Path) -> Result<(Option<String>, Option<String>), H5mdError> {
    let file = open(path)?;
    let system = (file.group("parameters").ok())
        .and_then(|g| g.attr("units").ok())
        .and_then(|a| string_attr(&a));
    let position = (file.dataset("particles/all/position/value").ok())
        .and_then(|d| d.attr("unit").ok())
        .and_then(|a| string_attr(&a));
    Ok((system, position))
}

/// A string attribute, scalar or the first of an array, of any HDF5 string type.
fn string_attr(attr: &hdf5::Attribute) -> Option<String> {
    if let Ok(s) = attr.read_scalar::<VarLenAscii>() {
        return Some(s.to_string());
    }
    if let Ok(s) = attr.read_scalar::<VarLenUnicode>() {
        return Some(s.to_string());
    }
    read_strings(attr).ok()?.into_iter().next()
}
