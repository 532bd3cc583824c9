//! H5MD input that must be refused, with the file named: a NaN position or an infinite
//! velocity, sizes a file declares beyond what can be read, and a structure in other units
//! than the deck's.

mod common;

use common::h5md::{frame, system, thermo, write, ALL};
use eqmd::io::h5md::{read_last_frame, H5mdWriter};
use eqmd::units::Units;
use std::path::Path;

/// A last frame holding a NaN position or an infinite velocity is refused with the file,
/// the frame and the atom (1-based).
#[test]
fn non_finite_positions_and_velocities_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, element, bad) in [
        ("nan.h5", "position", f64::NAN),
        ("inf.h5", "velocity", f64::INFINITY),
    ] {
        let path = dir.path().join(name);
        let mut s = system(Units::Metal);
        let mut w = H5mdWriter::create(&path, &s, ALL).unwrap();
        for k in 0..2 {
            let f = frame(&mut s, k);
            if k == 1 {
                match element {
                    "position" => s.positions[2].y = bad,
                    _ => s.velocities[2].z = bad,
                }
            }
            let t = thermo(k);
            w.write(t.step, t.time, &s, &f, &t).unwrap();
        }
        drop(w);
        let e = read_last_frame(&path).unwrap_err().to_string();
        assert!(
            e.contains(name) && e.contains(&format!("frame 1, atom 3: {element}")),
            "{e}"
        );
        assert!(e.contains("is not finite"), "{e}");
    }
}

/// Replaces the species of the H5MD file at `path` with `values`, of any number type.
fn replace_species<T: hdf5::H5Type>(path: &Path, values: &[T]) {
    let file = hdf5::File::open_rw(path).unwrap();
    let all = file.group("particles/all").unwrap();
    all.unlink("species").unwrap();
    all.new_dataset_builder()
        .with_data(values)
        .create("species")
        .unwrap();
}

/// Sizes a file declares are checked before anything is read: a species index of 2^31 − 1
/// without names, a species array of another length than the atoms, and a position array
/// declared with two billion atoms (stored as nothing) are refused, not allocated.
#[test]
fn declared_sizes_are_checked_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str| {
        let path = dir.path().join(name);
        write(&path, Units::Metal, 1);
        path
    };
    let path = write("index.h5");
    replace_species(&path, &[0, i32::MAX, 0, 1, 0]);
    let e = read_last_frame(&path).unwrap_err().to_string();
    assert!(
        e.contains("index.h5") && e.contains("without a `names`"),
        "{e}"
    );
    let path = write("float.h5");
    replace_species(&path, &[0.0f64, 1.7, 0.0, 1.0, 0.0]);
    let e = read_last_frame(&path).unwrap_err().to_string();
    assert!(e.contains("float.h5") && e.contains("not integers"), "{e}");
    let path = write("length.h5");
    replace_species(&path, &[0, 1]);
    let e = read_last_frame(&path).unwrap_err().to_string();
    assert!(
        e.contains("length.h5") && e.contains("2 values for 5 atoms"),
        "{e}"
    );

    let path = write("huge.h5");
    {
        let file = hdf5::File::open_rw(&path).unwrap();
        let pos = file.group("particles/all/position").unwrap();
        pos.unlink("value").unwrap();
        let value = pos
            .new_dataset::<f64>()
            .chunk((1, 1024, 3))
            .shape((1, 2_000_000_000, 3))
            .create("value")
            .unwrap();
        // one chunk written, so that the frame is there to be refused
        let rows = [[1.0f64; 3]; 1024];
        let sel = vec![0.into(), (0..1024).into(), (..).into()];
        value
            .write_slice::<&[[f64; 3]], f64, _, _>(&rows[..], hdf5::Hyperslab::from(sel))
            .unwrap();
    }
    let e = read_last_frame(&path).unwrap_err().to_string();
    assert!(
        e.contains("huge.h5") && e.contains("declares 2000000000 atoms"),
        "{e}"
    );

    // a dipole series of the shapes given, `rows` rows per chunk, nothing written in it
    let declare_series = |name: &str, time: Vec<usize>, value: Vec<usize>, rows: usize| {
        let path = write(name);
        let file = hdf5::File::open_rw(&path).unwrap();
        let g = file.create_group("observables/dipole").unwrap();
        for (name, shape) in [("time", time), ("value", value)] {
            let mut chunk: Vec<usize> = shape.iter().map(|_| 1).collect();
            chunk[0] = rows;
            g.new_dataset::<f64>()
                .chunk(chunk)
                .shape(shape)
                .create(name)
                .unwrap();
        }
        path
    };
    // 10^11 rows of nothing, a row per chunk: read no further than the rows written (none)
    let n = 100_000_000_000usize;
    let path = declare_series("series.h5", vec![n], vec![n, 3], 1);
    let (times, dipoles) = eqmd::io::h5md::read_dipole_series(&path).unwrap();
    assert!(times.is_empty() && dipoles.is_empty(), "{times:?}");
    // a series refused with an error naming its file and `why`
    let refused = |path: &std::path::Path, name: &str, why: &str| {
        let e = eqmd::io::h5md::read_dipole_series(path)
            .unwrap_err()
            .to_string();
        assert!(e.contains(name) && e.contains(why), "{e}");
    };
    // and one whose single frame declares 10^10 numbers, not 3
    let path = declare_series("wide_series.h5", vec![1], vec![1, 10_000_000_000], 1);
    refused(&path, "wide_series.h5", "not [frames, 3]");
    // and one of 10^12 rows of three in chunks of 1024, which hold frames as far as the
    // file says
    let n = 1_000_000_000_000usize;
    let path = declare_series("long_series.h5", vec![n], vec![n, 3], 1024);
    refused(&path, "long_series.h5", "more than the memory available");
}

/// A structure read from H5MD is in the deck's units: a file eqmd wrote in metal units is
/// refused by an LJ deck (and the reverse), and positions in another length unit (nm) by a
/// metal deck, rather than read as numbers in the wrong unit.
#[test]
fn a_structure_in_other_units_is_refused() {
    use eqmd::io::structure::check_units;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, units: Units| {
        let path = dir.path().join(name);
        write(&path, units, 1);
        path
    };
    let metal = write("metal.h5", Units::Metal);
    assert!(check_units(&metal, Units::Metal).is_ok());
    let e = check_units(&metal, Units::Lj).unwrap_err();
    assert!(
        e.contains("metal.h5") && e.contains("written in metal units"),
        "{e}"
    );
    let lj = write("lj.h5", Units::Lj);
    assert!(check_units(&lj, Units::Lj).is_ok());
    let e = check_units(&lj, Units::Metal).unwrap_err();
    assert!(e.contains("written in lj units"), "{e}");
    // another tool's file: no unit system, positions in nm
    {
        let file = hdf5::File::open_rw(&metal).unwrap();
        file.unlink("parameters").unwrap();
        let value = file.dataset("particles/all/position/value").unwrap();
        value.delete_attr("unit").unwrap();
        let nm: hdf5::types::VarLenUnicode = "nm".parse().unwrap();
        value
            .new_attr::<hdf5::types::VarLenUnicode>()
            .create("unit")
            .unwrap()
            .write_scalar(&nm)
            .unwrap();
    }
    let e = check_units(&metal, Units::Metal).unwrap_err();
    assert!(e.contains("positions in nm"), "{e}");
}
