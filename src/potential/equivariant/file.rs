//! The model file of the equivariant network: an HDF5 file with the hyper-parameters as
//! root attributes and every weight array as a dataset named like the model, so h5py or
//! h5dump show what each number is. Loading rebuilds the [`Model`] and validates everything.
//!
//! Layout (S species, C channels; weights are f64, row-major, as in the structs):
//!
//! ```text
//! /                      format = "eqmd-equivariant", format_version = 4 (int32),
//!                        species [S] (strings), lmax, channels, layers, radial_basis,
//!                        correlation (int64), radial_hidden [..] (int64), parity,
//!                        layer_readouts (bool), dipole (string), cutoff, avg_neighbors (f64)
//! /embedding             [S, C]
//! /layers/<t>            attribute lmax_in (0 for the first layer, lmax after)
//! /layers/<t>/up/<l>     [C, C] for l = 0..=lmax_in
//! /layers/<t>/radial/<k> [sizes[k], sizes[k+1]], sizes = radial_basis, radial_hidden.., paths·C
//! /layers/<t>/down/<p>   [out_channels(l3), C], attributes l1, l2, l3 (Hyper::paths order);
//!                        [C, C] at correlation ≥ 2
//! /layers/<t>/product/<species name>   [paths, C], correlation ≥ 2 only; attribute paths
//!                        [paths, 6] (ν, l1, l2, l3, k, L per row)
//! /layers/<t>/mix/<l>    [out_channels(l), C], correlation ≥ 2 only
//! /layers/<t>/self_connection/<species name>/<l>   [out_channels(l), C], l = 0..=lmax_in
//! /layers/<t>/readout    [C], with layer_readouts only, every layer but the last
//! /readout [C]; with a dipole head /dipole/charge [C] and /dipole/atomic [C]
//! (dipole = "charges+dipoles"), /dipole/charge (= "charges") or /dipole/cartesian [3, C]
//! (= "invariant"), none for dipole = "none";
//! /scale [S], /shift [S]
//! ```
//!
//! These datasets, their shapes and their order are the model's [`Shape::blocks`]. Files
//! of format version 1 (before the product basis) have no `correlation` and load as
//! correlation 1; files of versions 1 and 2 have no `layer_readouts` and load without;
//! files before version 4 have no `dipole` and load without a dipole head.

use super::model::{DipoleHead, Hyper, Model, Path as Coupling};
use super::shape::{BlockKind, Shape, ShapeError};
use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, File, Location};
use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Current format version written into every model file.
pub const FORMAT_VERSION: i32 = 4;
/// The oldest format version this eqmd still reads.
pub const OLDEST_VERSION: i32 = 1;
/// The root attribute `format` of every model file.
pub const FORMAT_NAME: &str = "eqmd-equivariant";

/// Why a model file could not be written or read; every message starts with the file path.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    /// The file could not be reached (missing, unreadable).
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        /// What the system said (in the message, not chained: said once).
        cause: std::io::Error,
    },
    /// The HDF5 library refused (not an HDF5 file, a truncated one, disk full, ...).
    #[error("{}: {what}: {cause}", path.display())]
    Hdf5 {
        path: PathBuf,
        what: String,
        /// What HDF5 said (in the message, not chained: said once).
        cause: hdf5::Error,
    },
    /// A model file written in a format version this eqmd does not read.
    #[error("{}: format version {found} is not supported (this eqmd reads {OLDEST_VERSION} to {FORMAT_VERSION})", path.display())]
    Version { path: PathBuf, found: i64 },
    /// Content that does not make a valid model; names the dataset or attribute.
    #[error("{}: {what}", path.display())]
    Invalid { path: PathBuf, what: String },
}

/// A [`ModelFileError`] before the file path is attached.
enum Fault {
    Hdf5(String, hdf5::Error),
    Version(i64),
    Invalid(String),
}

impl Fault {
    fn at(self, path: &Path) -> ModelFileError {
        let path = path.to_path_buf();
        match self {
            Fault::Hdf5(what, cause) => ModelFileError::Hdf5 { path, what, cause },
            Fault::Version(found) => ModelFileError::Version { path, found },
            Fault::Invalid(what) => ModelFileError::Invalid { path, what },
        }
    }
}

/// `ensure!(cond, "fmt", args..)`: return an `Invalid` fault unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(Fault::Invalid(format!($($msg)+)));
        }
    };
}

/// Maps an HDF5 error to a fault saying "cannot {action} {what}".
fn h5<'a>(action: &'a str, what: &'a str) -> impl FnOnce(hdf5::Error) -> Fault + 'a {
    move |e| Fault::Hdf5(format!("cannot {action} {what}"), e)
}

/// Writes `model` to `path` after checking that its weights have the shapes its
/// hyper-parameters imply and are finite, so that every saved file loads. The file is
/// written beside `path` and renamed over it, so that a reader (or a run killed while
/// saving) sees the old model or the new one, never half of one.
pub fn save(model: &Model, path: &Path) -> Result<(), ModelFileError> {
    let shape = Shape::new(model.hyper.clone())
        .map_err(hyper_fault)
        .and_then(|shape| check_model(model, &shape).map(|()| shape))
        .map_err(|f| f.at(path))?;
    // the file is written beside and renamed over the path: never over a folder, device
    // or pipe
    if let Some(kind) = crate::file_kind::not_a_file(path) {
        return Err(ModelFileError::Io {
            path: path.to_path_buf(),
            cause: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{kind}: a model is never written over a folder or special file"),
            ),
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let written = File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .create(&partial)
        .map_err(|e| h5("create", "the model file")(e).at(path))
        .and_then(|file| {
            write(&file, model, &shape)
                .and_then(|()| file.flush())
                .map_err(|e| h5("write", "the model file")(e).at(path))
        })
        .and_then(|()| {
            std::fs::rename(&partial, path).map_err(|cause| ModelFileError::Io {
                path: path.to_path_buf(),
                cause,
            })
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Reads and validates the model file at `path` (format, version, hyper-parameters, every
/// dataset's presence, shape and finiteness) and rebuilds the [`Model`].
pub fn load(path: &Path) -> Result<Model, ModelFileError> {
    std::fs::metadata(path).map_err(|cause| ModelFileError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    let refuse = |what: &str| Fault::Invalid(what.to_string()).at(path);
    crate::hdf5_file::check(path, "a model file").map_err(|m| refuse(&m))?;
    let file = File::with_options()
        .with_fapl(|p| p.file_locking(false))
        .open(path)
        .map_err(|e| {
            refuse(&format!(
                "cannot be opened: {}",
                crate::hdf5_file::brief(&e)
            ))
        })?;
    if file.attr("format").is_err() && file.group("h5md").is_ok() {
        return Err(refuse("is an H5MD trajectory, not a model file"));
    }
    read(&file).map_err(|f| f.at(path))
}

/// Checks that an array holds finite numbers.
fn check_finite(name: &str, data: &[f64]) -> Result<(), Fault> {
    if let Some(i) = data.iter().position(|x| !x.is_finite()) {
        let x = data[i];
        ensure!(false, "dataset {name}: element {i} is {x}, not finite");
    }
    Ok(())
}

/// Checks that a model's weights are shaped as its hyper-parameters imply and finite.
fn check_model(model: &Model, shape: &Shape) -> Result<(), Fault> {
    model.check_against(shape).map_err(Fault::Invalid)?;
    for b in shape.blocks() {
        check_finite(
            &b.name,
            model.block(b.kind).expect("checked against the shape"),
        )?;
    }
    Ok(())
}

/// A hyper-parameter that does not make a model, named as the file's attribute.
fn hyper_fault(e: ShapeError) -> Fault {
    Fault::Invalid(format!("attribute {e}"))
}

fn scalar_attr<T: hdf5::H5Type>(loc: &Location, name: &str, value: &T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(value)
}

fn write(file: &File, model: &Model, shape: &Shape) -> hdf5::Result<()> {
    let h = &shape.hyper;
    let text = |s: &str| s.parse::<VarLenUnicode>().map_err(|e| e.to_string());
    scalar_attr(file, "format", &text(FORMAT_NAME)?)?;
    scalar_attr(file, "format_version", &FORMAT_VERSION)?;
    let species: Result<Vec<_>, _> = h.species.iter().map(|s| text(s)).collect();
    file.new_attr_builder()
        .with_data(&species?)
        .create("species")?;
    scalar_attr(file, "lmax", &(h.lmax as i64))?;
    scalar_attr(file, "channels", &(h.channels as i64))?;
    scalar_attr(file, "layers", &(h.layers as i64))?;
    scalar_attr(file, "radial_basis", &(h.radial_basis as i64))?;
    scalar_attr(file, "correlation", &(h.correlation as i64))?;
    let hidden: Vec<i64> = h.radial_hidden.iter().map(|&w| w as i64).collect();
    file.new_attr_builder()
        .with_data(&hidden)
        .create("radial_hidden")?;
    scalar_attr(file, "parity", &h.parity)?;
    scalar_attr(file, "layer_readouts", &h.layer_readouts)?;
    let head = h.dipole.map_or("none", DipoleHead::name);
    scalar_attr(file, "dipole", &text(head)?)?;
    scalar_attr(file, "cutoff", &h.cutoff)?;
    scalar_attr(file, "avg_neighbors", &h.avg_neighbors)?;

    let layers = file.create_group("layers")?;
    for (t, layer) in shape.layers.iter().enumerate() {
        let g = layers.create_group(&t.to_string())?;
        scalar_attr(&g, "lmax_in", &(layer.input.lmax as i64))?;
        for sub in ["up", "radial", "down", "self_connection"] {
            g.create_group(sub)?;
        }
        if layer.product.is_some() {
            g.create_group("product")?;
            g.create_group("mix")?;
        }
        for name in &h.species {
            g.create_group(&format!("self_connection/{name}"))?;
        }
    }
    for b in shape.blocks() {
        let ds = file
            .new_dataset::<f64>()
            .shape(b.shape.clone())
            .create(b.name.as_str())?;
        ds.write_raw(model.block(b.kind).expect("checked against the shape"))?;
        if let Some(p) = coupling(shape, b.kind) {
            for (name, l) in [("l1", p.l1), ("l2", p.l2), ("l3", p.l3)] {
                scalar_attr(&ds, name, &(l as i64))?;
            }
        }
        if let Some(codes) = product_paths(shape, b.kind) {
            let n = codes.len() / 6;
            let attr = ds.new_attr::<i64>().shape([n, 6]).create("paths")?;
            attr.write_raw(&codes)?;
        }
    }
    Ok(())
}

/// An attribute of `loc`, and how messages name it.
fn attr(loc: &Location, name: &str) -> Result<(Attribute, String), Fault> {
    let label = match loc.name().as_str() {
        "/" => format!("attribute {name}"),
        at => format!("attribute {name} of {at}"),
    };
    let a = loc.attr(name);
    ensure!(a.is_ok(), "missing {label}");
    Ok((a.map_err(h5("read", &label))?, label))
}

/// Integers of an attribute (scalar or array), as non-negative sizes.
fn read_sizes(loc: &Location, name: &str) -> Result<Vec<usize>, Fault> {
    let (a, label) = attr(loc, name)?;
    let raw = (a.read_raw::<i64>()).map_err(h5("read", &label))?;
    let sizes: Result<Vec<usize>, _> = raw.iter().map(|&v| usize::try_from(v)).collect();
    ensure!(sizes.is_ok(), "{label} is {raw:?}, expected integers ≥ 0");
    Ok(sizes.unwrap_or_default())
}

/// One integer attribute, as a non-negative size.
fn read_size(loc: &Location, name: &str) -> Result<usize, Fault> {
    let (a, label) = attr(loc, name)?;
    let v = a.read_scalar::<i64>().map_err(h5("read", &label))?;
    ensure!(v >= 0, "{label} is {v}, expected an integer ≥ 0");
    Ok(v as usize)
}

fn read_f64(loc: &Location, name: &str) -> Result<f64, Fault> {
    let (a, label) = attr(loc, name)?;
    (a.read_scalar::<f64>()).map_err(h5("read", &label))
}

/// `parity`, stored as a bool (h5py's enum) or as the integer 0 or 1.
fn read_bool(loc: &Location, name: &str) -> Result<bool, Fault> {
    let (a, label) = attr(loc, name)?;
    match (a.read_scalar::<bool>(), a.read_scalar::<i64>()) {
        (Ok(b), _) => Ok(b),
        (_, Ok(i @ (0 | 1))) => Ok(i == 1),
        _ => Err(Fault::Invalid(format!(
            "{label} is not a bool or the integer 0 or 1"
        ))),
    }
}

/// A string array attribute of any HDF5 string type (fixed or variable length).
fn read_strings(loc: &Location, name: &str) -> Result<Vec<String>, Fault> {
    fn read<T: hdf5::H5Type + Display>(a: &Attribute) -> hdf5::Result<Vec<String>> {
        Ok(a.read_raw::<T>()?.iter().map(T::to_string).collect())
    }
    let (a, label) = attr(loc, name)?;
    match a.dtype().and_then(|t| t.to_descriptor()) {
        Ok(TypeDescriptor::VarLenUnicode) => read::<VarLenUnicode>(&a),
        Ok(TypeDescriptor::VarLenAscii) => read::<VarLenAscii>(&a),
        Ok(TypeDescriptor::FixedUnicode(_)) => read::<FixedUnicode<256>>(&a),
        Ok(TypeDescriptor::FixedAscii(_)) => read::<FixedAscii<256>>(&a),
        _ => return Err(Fault::Invalid(format!("{label} is not a string"))),
    }
    .map_err(h5("read", &label))
}

fn read(file: &File) -> Result<Model, Fault> {
    let format = read_strings(file, "format")?.join(", ");
    let (ok, e) = (format == FORMAT_NAME, FORMAT_NAME);
    ensure!(ok, "attribute format is {format:?}, expected {e:?}");
    let (a, label) = attr(file, "format_version")?;
    let version = a.read_scalar::<i64>().map_err(h5("read", &label))?;
    if !(i64::from(OLDEST_VERSION)..=i64::from(FORMAT_VERSION)).contains(&version) {
        return Err(Fault::Version(version));
    }
    let correlation = match version {
        1 => 1,
        _ => read_size(file, "correlation")?,
    };
    let layer_readouts = match version {
        1 | 2 => false,
        _ => read_bool(file, "layer_readouts")?,
    };
    let dipole = match version {
        1..=3 => None,
        _ => match read_strings(file, "dipole")?.join("").as_str() {
            "none" => None,
            name => Some(DipoleHead::parse(name).map_err(Fault::Invalid)?),
        },
    };
    let h = Hyper {
        species: read_strings(file, "species")?,
        lmax: read_size(file, "lmax")?,
        channels: read_size(file, "channels")?,
        layers: read_size(file, "layers")?,
        cutoff: read_f64(file, "cutoff")?,
        radial_basis: read_size(file, "radial_basis")?,
        radial_hidden: read_sizes(file, "radial_hidden")?,
        parity: read_bool(file, "parity")?,
        avg_neighbors: read_f64(file, "avg_neighbors")?,
        correlation,
        layer_readouts,
        dipole,
    };
    let shape = Shape::new(h).map_err(hyper_fault)?;
    for (t, layer) in shape.layers.iter().enumerate() {
        let (g, e) = (format!("/layers/{t}"), layer.input.lmax);
        let group = file.group(&g).map_err(h5("open group", &g))?;
        let found = read_size(&group, "lmax_in")?;
        let ok = found == e;
        ensure!(ok, "attribute lmax_in of {g} is {found}, expected {e}");
    }
    let mut model = Model::zeros(&shape);
    for b in shape.blocks() {
        let (name, dims) = (&b.name, &b.shape);
        let ok = file.link_exists(name);
        ensure!(ok, "missing dataset {name} (expected shape {dims:?})");
        let ds = file.dataset(name).map_err(h5("open dataset", name))?;
        let found = ds.shape();
        let ok = found == *dims;
        ensure!(ok, "dataset {name} has shape {found:?}, expected {dims:?}");
        if let Some(p) = coupling(&shape, b.kind) {
            let l = |n| read_size(&ds, n);
            let (found, expected) = ([l("l1")?, l("l2")?, l("l3")?], [p.l1, p.l2, p.l3]);
            let what = format!("dataset {name} couples (l1, l2, l3) = {found:?}");
            ensure!(found == expected, "{what}, expected {expected:?}");
        }
        if let Some(expected) = product_paths(&shape, b.kind) {
            let (a, label) = attr(&ds, "paths")?;
            let found = a.read_raw::<i64>().map_err(h5("read", &label))?;
            let ok = found == expected;
            ensure!(
                ok,
                "{label} differs from the product basis of the hyper-parameters"
            );
        }
        let data = ds.read_raw::<f64>().map_err(h5("read dataset", name))?;
        check_finite(name, &data)?;
        *model.block_mut(b.kind).expect("a block of the shape") = data;
    }
    Ok(model)
}

/// The paths of a `product` block, (ν, l1, l2, l3, k, L) per row, which its dataset
/// carries as attribute `paths`.
fn product_paths(shape: &Shape, kind: BlockKind) -> Option<Vec<i64>> {
    let BlockKind::Product { layer, .. } = kind else {
        return None;
    };
    let ps = shape.layers[layer].product.as_ref()?;
    Some(
        ps.paths
            .iter()
            .flat_map(|p| p.code().map(|v| v as i64))
            .collect(),
    )
}

/// The coupling of a `down` block, which its dataset carries as attributes l1, l2, l3.
fn coupling(shape: &Shape, kind: BlockKind) -> Option<Coupling> {
    match kind {
        BlockKind::Down { layer, path } => Some(shape.layers[layer].instructions[path].path),
        _ => None,
    }
}
