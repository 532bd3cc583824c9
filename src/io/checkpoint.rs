//! Checkpoints: the full state of a run (positions, velocities, cell, species, step, time,
//! integrator and thermostat state including the random-number generator, and the
//! positions the neighbour list was built from) in a small binary file, so that
//! `eqmd run DECK --restart FILE` continues bit for bit.
//!
//! Layout: the magic `EQMDCKPT`, a format version, little-endian fields, and an FNV-1a
//! checksum of everything before it. Files are written to a temporary name and renamed,
//! so a checkpoint on disk is always complete.

use crate::cell::Cell;
use crate::io::binary::{fnv1a, write_atomically, Reader, Writer};
use crate::simulation::Simulation;
use crate::units::Units;
use glam::{DMat3, DVec3};
use std::path::Path;

const MAGIC: &[u8; 8] = b"EQMDCKPT";
const VERSION: u32 = 1;

/// Everything needed to continue a run exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub step: u64,
    pub time: f64,
    pub units: Units,
    pub cell: DMat3,
    pub pbc: [bool; 3],
    pub species_names: Vec<String>,
    pub species_masses: Vec<f64>,
    pub species: Vec<usize>,
    pub positions: Vec<DVec3>,
    pub velocities: Vec<DVec3>,
    /// Positions at the last neighbour-list build.
    pub neighbor_reference: Vec<DVec3>,
    /// Opaque integrator state (`Integrator::state`).
    pub integrator: Vec<u64>,
}

/// A checkpoint that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint {file}: {message}")]
pub struct CheckpointError {
    pub file: String,
    pub message: String,
}

impl Checkpoint {
    /// The full state of a simulation.
    pub fn of(sim: &Simulation) -> Checkpoint {
        let s = &sim.system;
        Checkpoint {
            step: sim.step,
            time: sim.time,
            units: s.units,
            cell: s.cell.matrix(),
            pbc: s.cell.pbc(),
            species_names: s.species_names.clone(),
            species_masses: s.species_masses.clone(),
            species: s.species.clone(),
            positions: s.positions.clone(),
            velocities: s.velocities.clone(),
            neighbor_reference: sim.neighbors.reference_positions().to_vec(),
            integrator: sim.integrator.state(),
        }
    }

    /// Puts a simulation back in this state: the atoms, the integrator's state and the
    /// neighbour list exactly as they were, then the forces, so that the run goes on bit for
    /// bit (with the same number of threads).
    pub fn restore(&self, sim: &mut Simulation) -> Result<(), String> {
        let c = self;
        let s = &mut sim.system;
        if c.units != s.units {
            return Err(format!(
                "the checkpoint is in {} units, the deck in {}",
                c.units.name(),
                s.units.name()
            ));
        }
        if c.species_names != s.species_names || c.positions.len() != s.len() {
            return Err(format!(
                "the checkpoint holds {} atoms of species [{}]; the deck builds {} atoms of [{}]",
                c.positions.len(),
                c.species_names.join(", "),
                s.len(),
                s.species_names.join(", ")
            ));
        }
        s.cell = Cell::from_matrix(c.cell, c.pbc).map_err(|e| e.to_string())?;
        s.species_masses = c.species_masses.clone();
        s.species = c.species.clone();
        s.positions = c.positions.clone();
        s.velocities = c.velocities.clone();
        sim.integrator.restore(&c.integrator)?;
        sim.neighbors
            .rebuild_from_reference(&sim.system, &c.neighbor_reference);
        sim.forces.reset(sim.system.len());
        sim.potential
            .compute(&sim.system, &sim.neighbors, &mut sim.forces);
        sim.step = c.step;
        sim.time = c.time;
        Ok(())
    }

    fn encode(&self) -> Vec<u8> {
        let mut w = Writer(MAGIC.to_vec());
        w.0.extend_from_slice(&VERSION.to_le_bytes());
        w.u64(self.step);
        w.f64(self.time);
        w.u64(match self.units {
            Units::Metal => 0,
            Units::Lj => 1,
        });
        for v in self.cell.to_cols_array() {
            w.f64(v);
        }
        for p in self.pbc {
            w.u64(p as u64);
        }
        w.u64(self.species_names.len() as u64);
        for (name, mass) in self.species_names.iter().zip(&self.species_masses) {
            w.u64(name.len() as u64);
            w.0.extend_from_slice(name.as_bytes());
            w.f64(*mass);
        }
        w.u64(self.species.len() as u64);
        for &s in &self.species {
            w.u64(s as u64);
        }
        w.vectors(&self.positions);
        w.vectors(&self.velocities);
        w.vectors(&self.neighbor_reference);
        w.u64(self.integrator.len() as u64);
        for &x in &self.integrator {
            w.u64(x);
        }
        let sum = fnv1a(&w.0);
        w.u64(sum);
        w.0
    }

    fn decode(bytes: &[u8]) -> Result<Checkpoint, String> {
        if bytes.len() < 20 || &bytes[..8] != MAGIC {
            return Err("not an eqmd checkpoint".into());
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if fnv1a(body).to_le_bytes() != sum {
            return Err("the checksum does not match: the file is damaged or truncated".into());
        }
        let version = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(format!(
                "format version {version} is not supported (this eqmd reads {VERSION})"
            ));
        }
        let mut r = Reader {
            bytes: body,
            at: 12,
        };
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
            let len = r.len(body.len())?;
            let name = String::from_utf8(r.take(len)?.to_vec())
                .map_err(|_| "a species name is not UTF-8".to_string())?;
            species_names.push(name);
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
        Ok(Checkpoint {
            step,
            time,
            units,
            cell: DMat3::from_cols_array(&cell),
            pbc,
            species_names,
            species_masses,
            species,
            positions,
            velocities,
            neighbor_reference,
            integrator,
        })
    }

    /// Writes the checkpoint to `path` atomically (temporary file, then rename).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        write_atomically(path, &self.encode())
    }

    /// Reads a checkpoint, checking its magic, version and checksum.
    pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let error = |message: String| CheckpointError {
            file: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read: {e}")))?;
        Checkpoint::decode(&bytes).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
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
            integrator: vec![1, u64::MAX, 42],
        }
    }

    #[test]
    fn round_trip_is_exact() {
        let c = sample();
        assert_eq!(Checkpoint::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn damage_is_detected() {
        let bytes = sample().encode();
        let e = Checkpoint::decode(&bytes[..bytes.len() - 9]).unwrap_err();
        assert!(e.contains("checksum"), "{e}");
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(Checkpoint::decode(&flipped)
            .unwrap_err()
            .contains("checksum"));
        assert!(Checkpoint::decode(b"hello")
            .unwrap_err()
            .contains("not an eqmd checkpoint"));
        let mut v2 = bytes[..bytes.len() - 8].to_vec();
        v2[8] = 2;
        let sum = fnv1a(&v2);
        v2.extend_from_slice(&sum.to_le_bytes());
        assert!(Checkpoint::decode(&v2).unwrap_err().contains("version 2"));
    }
}
