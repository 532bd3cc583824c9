//! The model file of the equivariant network: save then load gives the same model bit for
//! bit, and damaged or foreign files give errors naming the file and the dataset.

use eqmd::potential::equivariant::file::{load, save, ModelFileError, FORMAT_VERSION};
use eqmd::potential::equivariant::model::{DipoleHead, Hyper, Model};
use eqmd::potential::equivariant::shape::Shape;
use hdf5::types::VarLenUnicode;
use std::path::{Path, PathBuf};

fn hyper(lmax: usize, parity: bool, species: usize, hidden: Vec<usize>) -> Hyper {
    Hyper {
        species: ["H", "C", "O"][..species]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        lmax,
        channels: 3,
        layers: 2,
        cutoff: 4.5,
        radial_basis: 5,
        radial_hidden: hidden,
        parity,
        avg_neighbors: 7.25,
        correlation: 1,
        layer_readouts: false,
        dipole: None,
    }
}

/// A saved model and its path, in a fresh temporary directory.
fn saved(dir: &Path) -> (Model, PathBuf) {
    let model = Model::random(hyper(2, false, 2, vec![6]), 7);
    let path = dir.join("model.h5");
    save(&model, &path).unwrap();
    (model, path)
}

/// The error of loading `path`, checked to start with the path.
fn load_error(path: &Path) -> String {
    let err = load(path).expect_err("loading a damaged file must fail");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&path.display().to_string()),
        "message does not start with the path: {msg}"
    );
    msg
}

/// Reopens a file read-write to damage it.
fn open_rw(path: &Path) -> hdf5::File {
    hdf5::File::open_rw(path).unwrap()
}

#[test]
fn save_then_load_is_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0;
    for lmax in 0..=3 {
        for parity in [false, true] {
            for species in 1..=3 {
                for hidden in [vec![], vec![4], vec![3, 5]] {
                    seed += 1;
                    let mut h = hyper(lmax, parity, species, hidden);
                    h.layers = 1 + seed as usize % 3;
                    let model = Model::random(h, seed);
                    let path = dir.path().join(format!("m{seed}.h5"));
                    save(&model, &path).unwrap();
                    let back = load(&path).unwrap();
                    assert_eq!(back, model, "lmax {lmax}, parity {parity}, seed {seed}");
                    let bits =
                        |m: &Model| m.embedding.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&back), bits(&model));
                }
            }
        }
    }
}

#[test]
fn scale_shift_and_zero_layers_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = hyper(1, true, 3, vec![2]);
    h.layers = 0;
    // without layers the features are the embedding's scalars: a higher L is refused
    let refused = Shape::new(h.clone()).unwrap_err();
    assert_eq!(refused.key(), "lmax", "{refused}");
    h.lmax = 0;
    let mut model = Model::random(h, 3);
    model.scale = vec![0.1, -2.5, 1e-300];
    model.shift = vec![-1234.5678, 0.0, f64::MIN_POSITIVE];
    let path = dir.path().join("zero.h5");
    save(&model, &path).unwrap();
    assert_eq!(load(&path).unwrap(), model);
}

#[test]
fn layout_reads_like_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (model, path) = saved(dir.path());
    let file = hdf5::File::open(&path).unwrap();
    let format: VarLenUnicode = file.attr("format").unwrap().read_scalar().unwrap();
    assert_eq!(format.as_str(), "eqmd-equivariant");
    let version: i32 = file.attr("format_version").unwrap().read_scalar().unwrap();
    assert_eq!(version, FORMAT_VERSION);
    let shape = |name: &str| file.dataset(name).unwrap().shape();
    assert_eq!(shape("embedding"), [2, 3]);
    assert_eq!(shape("layers/1/up/2"), [3, 3]);
    assert_eq!(shape("layers/0/radial/0"), [5, 6]);
    assert_eq!(shape("layers/1/self_connection/C/0"), [9, 3]);
    let down = file.dataset("layers/1/down/4").unwrap();
    let p = model.hyper.paths(model.hyper.lmax)[4];
    let l = |n: &str| down.attr(n).unwrap().read_scalar::<i64>().unwrap() as usize;
    assert_eq!([l("l1"), l("l2"), l("l3")], [p.l1, p.l2, p.l3]);
    assert_eq!(
        shape("layers/1/down/4"),
        [model.hyper.out_channels(p.l3), 3]
    );
}

#[test]
fn parity_may_be_an_integer() {
    let dir = tempfile::tempdir().unwrap();
    let model = Model::random(hyper(1, true, 1, vec![]), 5);
    let path = dir.path().join("int_parity.h5");
    save(&model, &path).unwrap();
    {
        let file = open_rw(&path);
        file.delete_attr("parity").unwrap();
        let attr = file.new_attr::<i32>().create("parity").unwrap();
        attr.write_scalar(&1).unwrap();
    }
    assert_eq!(load(&path).unwrap(), model);
}

#[test]
fn truncated_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let msg = load_error(&path);
    assert!(msg.contains("truncated"), "{msg}");
    assert!(!msg.contains('\n') && msg.len() < 200, "one line: {msg}");
}

/// Files that are not model files are named for what they are, in one line: a directory,
/// a text file, an H5MD trajectory.
#[test]
fn other_kinds_of_file_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let msg = load_error(dir.path());
    assert!(msg.contains("is a directory"), "{msg}");
    let text = dir.path().join("notes.h5");
    std::fs::write(&text, "not a model\n").unwrap();
    let msg = load_error(&text);
    assert!(msg.contains("is not an HDF5 file"), "{msg}");
    let empty = dir.path().join("empty.h5");
    std::fs::write(&empty, "").unwrap();
    assert!(load_error(&empty).contains("is not an HDF5 file"));
    let traj = dir.path().join("traj.h5");
    {
        let f = hdf5::File::create(&traj).unwrap();
        f.create_group("h5md").unwrap();
        f.create_group("particles").unwrap();
    }
    let msg = load_error(&traj);
    assert!(
        msg.contains("is an H5MD trajectory, not a model file"),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn text_and_missing_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("model.h5");
    std::fs::write(&text, "species = [\"H\"]\nlmax = 2\n").unwrap();
    load_error(&text);
    let missing = dir.path().join("nowhere.h5");
    assert!(matches!(load(&missing), Err(ModelFileError::Io { .. })));
    load_error(&missing);
}

#[test]
fn another_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        file.delete_attr("format_version").unwrap();
        let attr = file.new_attr::<i32>().create("format_version").unwrap();
        attr.write_scalar(&5).unwrap();
    }
    let msg = load_error(&path);
    assert!(
        msg.contains("format version 5 is not supported (this eqmd reads 1 to 4)"),
        "{msg}"
    );
}

/// A file of format version 1 (no correlation attribute) loads as the same model at
/// correlation 1.
#[test]
fn format_version_1_files_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let (model, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        file.delete_attr("format_version").unwrap();
        file.delete_attr("correlation").unwrap();
        file.delete_attr("layer_readouts").unwrap();
        let attr = file.new_attr::<i32>().create("format_version").unwrap();
        attr.write_scalar(&1).unwrap();
    }
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.hyper.correlation, 1);
    assert_eq!(loaded, model);
}

/// Models with a product basis round-trip bit for bit, and their product datasets carry
/// the paths, checked on load.
#[test]
fn product_basis_models_round_trip_and_name_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    for correlation in 2..=3 {
        let mut h = hyper(2, true, 2, vec![6]);
        h.correlation = correlation;
        let model = Model::random(h, 9);
        let path = dir.path().join(format!("nu{correlation}.h5"));
        save(&model, &path).unwrap();
        assert_eq!(load(&path).unwrap(), model);
    }
    let path = dir.path().join("nu3.h5");
    {
        let file = open_rw(&path);
        let ds = file.dataset("/layers/0/product/H").unwrap();
        let attr = ds.attr("paths").unwrap();
        let mut codes: Vec<i64> = attr.read_raw().unwrap();
        codes.swap(0, 6);
        attr.write_raw(&codes).unwrap();
    }
    let msg = load_error(&path);
    assert!(
        msg.contains("attribute paths of /layers/0/product/H"),
        "{msg}"
    );
}

#[test]
fn another_format_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        file.delete_attr("format").unwrap();
        let attr = file.new_attr::<VarLenUnicode>().create("format").unwrap();
        let name: VarLenUnicode = "something-else".parse().unwrap();
        attr.write_scalar(&name).unwrap();
    }
    let msg = load_error(&path);
    assert!(
        msg.contains("format") && msg.contains("something-else"),
        "{msg}"
    );
}

#[test]
fn a_dataset_of_the_wrong_shape_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        file.unlink("layers/1/up/1").unwrap();
        let ds = file
            .new_dataset::<f64>()
            .shape([3, 2])
            .create("layers/1/up/1")
            .unwrap();
        ds.write_raw(&[0.5; 6]).unwrap();
    }
    let msg = load_error(&path);
    assert!(msg.contains("/layers/1/up/1"), "{msg}");
    assert!(msg.contains("[3, 2]") && msg.contains("[3, 3]"), "{msg}");
}

#[test]
fn a_missing_dataset_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    open_rw(&path).unlink("layers/0/radial/1").unwrap();
    let msg = load_error(&path);
    assert!(msg.contains("missing dataset /layers/0/radial/1"), "{msg}");
}

#[test]
fn a_nan_weight_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        let ds = file.dataset("layers/1/self_connection/H/1").unwrap();
        let mut w: Vec<f64> = ds.read_raw().unwrap();
        w[4] = f64::NAN;
        ds.write_raw(&w).unwrap();
    }
    let msg = load_error(&path);
    assert!(msg.contains("/layers/1/self_connection/H/1"), "{msg}");
    assert!(msg.contains("NaN"), "{msg}");
}

#[test]
fn a_wrong_coupling_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        let ds = file.dataset("layers/1/down/0").unwrap();
        ds.delete_attr("l3").unwrap();
        ds.new_attr::<i64>()
            .create("l3")
            .unwrap()
            .write_scalar(&2)
            .unwrap();
    }
    let msg = load_error(&path);
    assert!(msg.contains("/layers/1/down/0 couples"), "{msg}");
}

#[test]
fn bad_hyper_parameters_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        file.delete_attr("cutoff").unwrap();
        let attr = file.new_attr::<f64>().create("cutoff").unwrap();
        attr.write_scalar(&-1.0).unwrap();
    }
    let msg = load_error(&path);
    assert!(msg.contains("attribute cutoff is -1"), "{msg}");
}

#[test]
fn save_refuses_models_that_would_not_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.h5");
    let mut model = Model::random(hyper(1, false, 2, vec![]), 1);
    model.readout[0] = f64::INFINITY;
    let msg = save(&model, &path).unwrap_err().to_string();
    assert!(
        msg.starts_with(&path.display().to_string()) && msg.contains("/readout"),
        "{msg}"
    );
    let mut model = Model::random(hyper(1, false, 2, vec![]), 1);
    model.layers[1].down.pop();
    assert!(save(&model, &path).is_err());
    let mut model = Model::random(hyper(1, false, 2, vec![]), 1);
    model.hyper.species[1] = "H".into();
    let msg = save(&model, &path).unwrap_err().to_string();
    assert!(msg.contains("twice"), "{msg}");
}

/// Saving over a model replaces it whole, through a file beside it that is renamed over it:
/// nothing else is left in the folder, and a failed save leaves the old file as it was.
#[test]
fn save_replaces_a_model_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = saved(dir.path());
    let other = Model::random(hyper(1, true, 3, vec![4]), 3);
    save(&other, &path).unwrap();
    assert_eq!(load(&path).unwrap(), other);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("model.h5")]);
    let mut bad = other.clone();
    bad.readout[0] = f64::NAN;
    assert!(save(&bad, &path).is_err());
    assert_eq!(load(&path).unwrap(), other);
    assert!(save(&other, &dir.path().join("missing/model.h5")).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// A model with readouts of every layer round-trips bit for bit with its
/// `/layers/<t>/readout` datasets; a file of format version 2 (no `layer_readouts`
/// attribute) loads as a model read out at its last layer only.
#[test]
fn layer_readouts_round_trip_and_version_2_files_load_without() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = hyper(1, true, 3, vec![6]);
    h.layers = 3;
    h.layer_readouts = true;
    let model = Model::random(h, 5);
    let path = dir.path().join("readouts.h5");
    save(&model, &path).unwrap();
    assert_eq!(load(&path).unwrap(), model);
    {
        let file = open_rw(&path);
        assert_eq!(file.dataset("/layers/1/readout").unwrap().shape(), vec![3]);
        assert!(
            file.dataset("/layers/2/readout").is_err(),
            "the last layer's is /readout"
        );
    }
    let (model, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        file.delete_attr("format_version").unwrap();
        file.delete_attr("layer_readouts").unwrap();
        let attr = file.new_attr::<i32>().create("format_version").unwrap();
        attr.write_scalar(&2).unwrap();
    }
    let loaded = load(&path).unwrap();
    assert!(!loaded.hyper.layer_readouts);
    assert_eq!(loaded, model);
}

/// A model with a dipole head round-trips bit for bit with its `/dipole/charge` and
/// `/dipole/atomic` datasets; a file of format version 3 (no `dipole` attribute) loads as a
/// model without the head.
#[test]
fn a_dipole_head_round_trips_and_version_3_files_load_without() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = hyper(1, true, 3, vec![6]);
    h.dipole = Some(DipoleHead::ChargesAndDipoles);
    let model = Model::random(h, 9);
    let path = dir.path().join("dipole.h5");
    save(&model, &path).unwrap();
    assert_eq!(load(&path).unwrap(), model);
    {
        let file = open_rw(&path);
        for name in ["/dipole/charge", "/dipole/atomic"] {
            assert_eq!(file.dataset(name).unwrap().shape(), vec![3], "{name}");
        }
    }
    let (model, path) = saved(dir.path());
    {
        let file = open_rw(&path);
        file.delete_attr("format_version").unwrap();
        file.delete_attr("dipole").unwrap();
        let attr = file.new_attr::<i32>().create("format_version").unwrap();
        attr.write_scalar(&3).unwrap();
    }
    let loaded = load(&path).unwrap();
    assert!(loaded.hyper.dipole.is_none() && loaded.dipole_charge.is_empty());
    assert_eq!(loaded, model);
    // the other heads: their arrays, and the attribute naming them
    for (head, name, shape) in [
        (DipoleHead::Charges, "/dipole/charge", vec![3]),
        (DipoleHead::Invariant, "/dipole/cartesian", vec![3, 3]),
    ] {
        let mut h = hyper(1, true, 3, vec![6]);
        h.dipole = Some(head);
        let model = Model::random(h, 4);
        let path = dir.path().join(format!("{}.h5", head.name()));
        save(&model, &path).unwrap();
        assert_eq!(load(&path).unwrap(), model);
        let file = open_rw(&path);
        assert_eq!(file.dataset(name).unwrap().shape(), shape, "{name}");
        assert!(file.dataset("/dipole/atomic").is_err());
    }
}
