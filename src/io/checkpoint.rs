//! Checkpoints: the full state of a run (a [`Snapshot`]: positions, velocities, cell,
//! species, step, time, integrator and thermostat state including the random-number
//! generator, and the positions the neighbour list was built from) in a small binary file,
//! so that `eqmd run DECK --restart FILE` continues bit for bit.
//!
//! Layout: the magic `EQMDCKPT`, a format version (u32), little-endian fields, and an
//! FNV-1a checksum of everything before it (the framing of `io::binary`). Version 2 adds,
//! after version 1's fields, the potential energy and the settings the dynamics depend on,
//! so that a restart under another deck is refused; version 3 adds the cell the neighbour
//! list was built in (a barostat changes the cell between builds) and the deck stage the run
//! was in. Older files still read, without them. Files are written to a temporary name and renamed, so a checkpoint on disk is
//! always complete.

use crate::io::binary::{write_atomically, FrameError, Reader, Writer};
use crate::state::Snapshot;
use crate::units::Units;
use glam::DMat3;
use std::path::Path;

const MAGIC: &[u8; 8] = b"EQMDCKPT";
const VERSION: u32 = 3;

/// A checkpoint that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint {file}: {message}")]
pub struct CheckpointError {
    pub file: String,
    pub message: String,
}

/// Writes the snapshot `c` to `path` atomically (temporary file, then rename).
pub fn write(c: &Snapshot, path: &Path) -> std::io::Result<()> {
    write_atomically(path, &encode(c))
}

/// Reads a checkpoint, checking its magic, version and checksum.
pub fn read(path: &Path) -> Result<Snapshot, CheckpointError> {
    let error = |message: String| CheckpointError {
        file: path.display().to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read: {e}")))?;
    decode(&bytes).map_err(error)
}

/// The file's bytes: magic, version (u32), the fields, checksum.
fn encode(c: &Snapshot) -> Vec<u8> {
    let mut w = Writer::framed(MAGIC);
    w.0.extend_from_slice(&VERSION.to_le_bytes());
    w.u64(c.step);
    w.f64(c.time);
    w.u64(match c.units {
        Units::Metal => 0,
        Units::Lj => 1,
    });
    for v in c.cell.to_cols_array() {
        w.f64(v);
    }
    for p in c.pbc {
        w.u64(p as u64);
    }
    w.u64(c.species_names.len() as u64);
    for (name, mass) in c.species_names.iter().zip(&c.species_masses) {
        w.string(name);
        w.f64(*mass);
    }
    w.u64(c.species.len() as u64);
    for &s in &c.species {
        w.u64(s as u64);
    }
    w.vectors(&c.positions);
    w.vectors(&c.velocities);
    w.vectors(&c.neighbor_reference);
    w.u64(c.integrator.len() as u64);
    for &x in &c.integrator {
        w.u64(x);
    }
    w.f64(c.potential_energy);
    w.u64(c.settings.len() as u64);
    for (key, value) in &c.settings {
        w.string(key);
        w.string(value);
    }
    for v in c.neighbor_cell.to_cols_array() {
        w.f64(v);
    }
    w.u64(c.stage);
    w.seal()
}

/// The snapshot in `bytes`, or what is wrong with them.
fn decode(bytes: &[u8]) -> Result<Snapshot, String> {
    let mut r = Reader::framed(bytes, MAGIC, 20).map_err(|e| match e {
        FrameError::NotThisFormat => "not an eqmd checkpoint".to_string(),
        FrameError::Checksum => {
            "the checksum does not match: the file is damaged or truncated".to_string()
        }
    })?;
    let body = r.bytes;
    let version = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));
    if !(1..=VERSION).contains(&version) {
        return Err(format!(
            "format version {version} is not supported (this eqmd reads 1 to {VERSION})"
        ));
    }
    let step = r.u64()?;
    let time = r.f64()?;
    let units = match r.u64()? {
        0 => Units::Metal,
        1 => Units::Lj,
        u => return Err(format!("unknown unit system {u}")),
    };
    let mut cell = [0.0; 9];
    for c in &mut cell {
        *c = r.f64()?;
    }
    let mut pbc = [false; 3];
    for p in &mut pbc {
        *p = r.u64()? != 0;
    }
    let n_species = r.len(body.len())?;
    let mut species_names = Vec::with_capacity(n_species);
    let mut species_masses = Vec::with_capacity(n_species);
    for _ in 0..n_species {
        species_names.push(r.string()?);
        species_masses.push(r.f64()?);
    }
    let n = r.len(body.len() / 8)?;
    let species = (0..n)
        .map(|_| {
            let s = r.u64()? as usize;
            if s < n_species {
                Ok(s)
            } else {
                Err(format!("species index {s} out of range"))
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    let positions = r.vectors()?;
    let velocities = r.vectors()?;
    let neighbor_reference = r.vectors()?;
    if positions.len() != n || velocities.len() != n || neighbor_reference.len() != n {
        return Err("arrays of different lengths".into());
    }
    let m = r.len(body.len() / 8)?;
    let integrator = (0..m)
        .map(|_| r.u64())
        .collect::<Result<Vec<_>, String>>()?;
    let (potential_energy, settings) = if version >= 2 {
        let energy = r.f64()?;
        let k = r.len(body.len() / 16)?;
        let settings = (0..k)
            .map(|_| Ok((r.string()?, r.string()?)))
            .collect::<Result<Vec<_>, String>>()?;
        (energy, settings)
    } else {
        (f64::NAN, Vec::new())
    };
    let cell = DMat3::from_cols_array(&cell);
    let (neighbor_cell, stage) = if version >= 3 {
        let mut m = [0.0; 9];
        for c in &mut m {
            *c = r.f64()?;
        }
        (DMat3::from_cols_array(&m), r.u64()?)
    } else {
        (cell, 0)
    };
    // what the checksum cannot tell: values no run writes
    if !time.is_finite() {
        return Err(format!("time {time} is not a time a run reaches"));
    }
    if !(cell.is_finite() && neighbor_cell.is_finite()) {
        return Err("the cell is not finite".into());
    }
    let (volume, reference) = (cell.determinant().abs(), neighbor_cell.determinant().abs());
    if volume > 0.0 && !(reference > volume / 8.0 && reference < volume * 8.0) {
        return Err(format!(
            "the neighbour list's cell (volume {reference:e}) is not near the cell (volume \
             {volume:e})"
        ));
    }
    Ok(Snapshot {
        step,
        time,
        units,
        cell,
        pbc,
        species_names,
        species_masses,
        species,
        positions,
        velocities,
        neighbor_reference,
        neighbor_cell,
        stage,
        integrator,
        potential_energy,
        settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::binary::fnv1a;
    use glam::DVec3;

    fn sample() -> Snapshot {
        Snapshot {
            step: 1234,
            time: 6.17,
            units: Units::Metal,
            cell: DMat3::from_cols_array(&[4.0, 0.0, 0.0, 0.5, 4.0, 0.0, 0.1, 0.2, 5.0]),
            pbc: [true, true, false],
            species_names: vec!["Cu".into(), "Ni".into()],
            species_masses: vec![63.546, 58.6934],
            species: vec![0, 1, 1],
            positions: vec![
                DVec3::new(0.1, 0.2, 0.3),
                DVec3::ONE,
                DVec3::new(1e-300, -0.0, 3.0),
            ],
            velocities: vec![DVec3::X, DVec3::Y, DVec3::Z],
            neighbor_reference: vec![DVec3::ZERO; 3],
            neighbor_cell: DMat3::from_cols_array(&[4.1, 0.0, 0.0, 0.5, 4.0, 0.0, 0.1, 0.2, 5.0]),
            stage: 2,
            integrator: vec![1, u64::MAX, 42],
            potential_energy: -12.5,
            settings: vec![
                ("integrator.timestep".into(), "0.002".into()),
                ("thermostat.type".into(), "none".into()),
            ],
        }
    }

    #[test]
    fn round_trip_is_exact() {
        let c = sample();
        assert_eq!(decode(&encode(&c)).unwrap(), c);
    }

    #[test]
    fn damage_is_detected() {
        let bytes = encode(&sample());
        let e = decode(&bytes[..bytes.len() - 9]).unwrap_err();
        assert!(e.contains("checksum"), "{e}");
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(decode(&flipped).unwrap_err().contains("checksum"));
        assert!(decode(b"hello")
            .unwrap_err()
            .contains("not an eqmd checkpoint"));
        let mut v4 = bytes[..bytes.len() - 8].to_vec();
        v4[8] = 4;
        let sum = fnv1a(&v4);
        v4.extend_from_slice(&sum.to_le_bytes());
        assert!(decode(&v4).unwrap_err().contains("version 4"));
    }

    /// Values no run writes, behind a valid checksum (an edited file), are refused: a time
    /// that is not finite, and a neighbour list's cell far from the cell (it sizes the
    /// list's bins: 10^5 Å asked petabytes).
    #[test]
    fn edited_values_are_refused() {
        let c = Snapshot {
            time: f64::NAN,
            ..sample()
        };
        assert!(decode(&encode(&c)).unwrap_err().contains("time"));
        for scale in [1e5, 1e-3] {
            let c = Snapshot {
                neighbor_cell: sample().cell * scale,
                ..sample()
            };
            let e = decode(&encode(&c)).unwrap_err();
            assert!(e.contains("neighbour list's cell"), "{scale}: {e}");
        }
    }

    /// Version-1 files still read: versions 2 and 3 only append the energy and the
    /// settings, then the neighbour list's cell and the stage, so version 1's bytes are
    /// version 3's without them. The checksum is that of the file
    /// eqmd has always written for this state (488 bytes), which proves the reconstruction.
    #[test]
    fn version_1_files_still_read() {
        let c = Snapshot {
            units: Units::Lj,
            pbc: [true, false, true],
            ..sample()
        };
        let v2 = encode(&c);
        let mut tail = Writer(Vec::new());
        tail.f64(c.potential_energy);
        tail.u64(c.settings.len() as u64);
        for (k, v) in &c.settings {
            tail.string(k);
            tail.string(v);
        }
        for v in c.neighbor_cell.to_cols_array() {
            tail.f64(v);
        }
        tail.u64(c.stage);
        let body_end = v2.len() - 8 - tail.0.len();
        assert_eq!(&v2[body_end..v2.len() - 8], &tail.0[..]);
        let mut v1 = v2[..body_end].to_vec();
        v1[8] = 1;
        let sum = fnv1a(&v1);
        v1.extend_from_slice(&sum.to_le_bytes());
        assert_eq!(&v1[..12], b"EQMDCKPT\x01\x00\x00\x00");
        assert_eq!(v1.len(), 488);
        assert_eq!(fnv1a(&v1), 0xa2f9_670b_51f5_adcd);
        let old = decode(&v1).unwrap();
        assert!(old.potential_energy.is_nan() && old.settings.is_empty());
        assert_eq!((old.neighbor_cell, old.stage), (old.cell, 0));
        assert_eq!(
            Snapshot {
                potential_energy: c.potential_energy,
                settings: c.settings.clone(),
                neighbor_cell: c.neighbor_cell,
                stage: c.stage,
                ..old
            },
            c
        );
    }
}
