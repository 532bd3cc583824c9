//! Trajectories as the structural and dynamical analyses read them: the frames a selection
//! picks from an H5MD or extended-XYZ file (told apart by the extension), each with its
//! cell, positions, velocities when the file has them and time when it says, and one list
//! of species for all of them.

use crate::cell::Cell;
use crate::io::structure::is_h5md;
use crate::io::{extxyz, h5md};
use anyhow::{anyhow, bail, Context};
use glam::{DMat3, DVec3};
use std::path::{Path, PathBuf};

/// Which frames of a file to use: Python's `start:stop:step` over the file's frames
/// (negative start and stop count from the end), or every `every`-th frame after `skip`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    start: Option<i64>,
    stop: Option<i64>,
    step: usize,
}

impl Default for Selection {
    /// Every frame.
    fn default() -> Self {
        Selection {
            start: None,
            stop: None,
            step: 1,
        }
    }
}

impl Selection {
    /// Parses `START:STOP:STEP` (each part optional, as in Python: `10:`, `::5`, `-100:`);
    /// a bare `N` is the one frame N.
    pub fn parse(text: &str) -> Result<Selection, String> {
        let bad = |why: &str| format!("--frames {text:?}: {why} (START:STOP:STEP, e.g. 10::2)");
        let parts: Vec<&str> = text.split(':').map(str::trim).collect();
        let int = |s: &str| -> Result<Option<i64>, String> {
            match s {
                "" => Ok(None),
                _ => s
                    .parse()
                    .map(Some)
                    .map_err(|_| bad(&format!("{s:?} is not an integer"))),
            }
        };
        match parts[..] {
            [one] => {
                let k = int(one)?.ok_or_else(|| bad("empty"))?;
                let stop = if k == -1 { None } else { Some(k + 1) };
                Ok(Selection {
                    start: Some(k),
                    stop,
                    step: 1,
                })
            }
            [a, b] | [a, b, ""] => Ok(Selection {
                start: int(a)?,
                stop: int(b)?,
                step: 1,
            }),
            [a, b, c] => {
                let step = int(c)?.unwrap_or(1);
                if step <= 0 {
                    return Err(bad("STEP must be a positive integer"));
                }
                Ok(Selection {
                    start: int(a)?,
                    stop: int(b)?,
                    step: step as usize,
                })
            }
            _ => Err(bad("more than three parts")),
        }
    }

    /// Frames `skip`, `skip + every`, `skip + 2 every`, ...
    pub fn skip_every(skip: usize, every: usize) -> Result<Selection, String> {
        if every == 0 {
            return Err("--every must be at least 1".into());
        }
        let start = i64::try_from(skip).map_err(|_| "--skip is too large".to_string())?;
        Ok(Selection {
            start: Some(start),
            stop: None,
            step: every,
        })
    }

    /// The indices picked from a file of `n` frames, in order.
    pub fn indices(&self, n: usize) -> Vec<usize> {
        let n = n as i64;
        let resolve = |k: i64| if k < 0 { (n + k).max(0) } else { k.min(n) };
        let start = self.start.map_or(0, resolve);
        let stop = self.stop.map_or(n, resolve);
        (start..stop)
            .step_by(self.step)
            .map(|k| k as usize)
            .collect()
    }
}

/// One frame of a trajectory.
#[derive(Clone, Debug, PartialEq)]
pub struct TrajectoryFrame {
    /// The frame's index in the file (0-based).
    pub index: usize,
    /// The time the file gives, if it gives one.
    pub time: Option<f64>,
    pub cell: Cell,
    pub positions: Vec<DVec3>,
    /// Velocities, when the file stores them (and they were asked for).
    pub velocities: Option<Vec<DVec3>>,
}

/// The selected frames of a trajectory file, with the species every frame shares.
#[derive(Clone, Debug)]
pub struct Trajectory {
    pub path: PathBuf,
    /// Species names in order of first appearance.
    pub species_names: Vec<String>,
    /// Species index of every atom.
    pub species: Vec<usize>,
    pub frames: Vec<TrajectoryFrame>,
    /// Unit of the times, when the file names one (H5MD's `unit` attribute).
    pub time_unit: Option<String>,
}

impl Trajectory {
    /// Reads the frames `selection` picks from `path` (H5MD by its extension, else extended
    /// XYZ), with velocities if `velocities`; every error names the file and the frame.
    pub fn load(path: &Path, selection: Selection, velocities: bool) -> anyhow::Result<Self> {
        let t = if is_h5md(path) {
            load_h5md(path, selection)?
        } else {
            load_extxyz(path, selection, velocities)?
        };
        if t.frames.is_empty() {
            bail!("{}: the frame selection picks no frame", path.display());
        }
        if t.species.is_empty() {
            bail!("{}: the frames hold no atoms", path.display());
        }
        if velocities {
            if let Some(f) = t.frames.iter().find(|f| f.velocities.is_none()) {
                bail!(
                    "{}: frame {} has no velocities (H5MD: /particles/all/velocity, written \
                     when h5md.fields includes \"velocity\"; extended XYZ: a `velocities`, \
                     `vel` or `momenta` column)",
                    path.display(),
                    f.index
                );
            }
        }
        log::info!(
            "{}: {} frames of {} atoms ({})",
            path.display(),
            t.frames.len(),
            t.species.len(),
            t.species_names.join(", ")
        );
        Ok(t)
    }

    /// Atoms of each species.
    pub fn counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.species_names.len()];
        for &s in &self.species {
            c[s] += 1;
        }
        c
    }

    /// The time of every frame: `dt` times the frame's index in the file when `dt` is
    /// given, else the file's own times, which must then be present and increasing.
    pub fn times(&self, dt: Option<f64>) -> anyhow::Result<Vec<f64>> {
        let file = self.path.display();
        if let Some(dt) = dt {
            if !(dt.is_finite() && dt > 0.0) {
                bail!("--dt {dt}: must be a positive time");
            }
            if self.frames.iter().any(|f| f.time.is_some()) {
                log::warn!("{file}: the frames' own times are replaced by --dt {dt}");
            }
            return Ok(self.frames.iter().map(|f| dt * f.index as f64).collect());
        }
        let times = (self.frames.iter())
            .map(|f| f.time)
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(|| {
                anyhow!(
                    "{file}: the frames carry no time (extended XYZ: a `time` key in the \
                     comment line); give --dt, the time between consecutive frames of the file"
                )
            })?;
        if let Some(k) = times.iter().position(|t| !t.is_finite()) {
            bail!(
                "{file}: the time of frame {} ({}) is not finite; give --dt to set the times",
                self.frames[k].index,
                times[k]
            );
        }
        if let Some(k) = (1..times.len())
            .find(|&k| times[k].partial_cmp(&times[k - 1]) != Some(std::cmp::Ordering::Greater))
        {
            bail!(
                "{file}: the time of frame {} ({}) does not follow that of frame {} ({}); \
                 give --dt to set the times",
                self.frames[k].index,
                times[k],
                self.frames[k - 1].index,
                times[k - 1]
            );
        }
        Ok(times)
    }
}

/// The spacing of evenly spaced `times`, or an error naming the file.
pub fn even_spacing(times: &[f64], path: &Path) -> anyhow::Result<f64> {
    if times.len() < 2 {
        bail!(
            "{}: a time series needs at least 2 frames, the selection has {}",
            path.display(),
            times.len()
        );
    }
    let dt = (times[times.len() - 1] - times[0]) / (times.len() - 1) as f64;
    if let Some(k) = (1..times.len()).find(|&k| {
        let step = times[k] - times[k - 1];
        (step - dt).abs() > 1e-6 * dt.abs()
    }) {
        bail!(
            "{}: the selected frames are not evenly spaced in time ({} to {} after a mean \
             spacing of {dt}); select evenly spaced frames or give --dt",
            path.display(),
            times[k - 1],
            times[k]
        );
    }
    Ok(dt)
}

fn load_h5md(path: &Path, selection: Selection) -> anyhow::Result<Trajectory> {
    let mut picked = Vec::new();
    let frames = h5md::read_frames(path, |n| {
        picked = selection.indices(n);
        picked.clone()
    })?;
    let mut out = Trajectory {
        path: path.to_path_buf(),
        species_names: Vec::new(),
        species: Vec::new(),
        frames: Vec::new(),
        time_unit: h5md::time_unit(path),
    };
    for (f, index) in frames.into_iter().zip(picked) {
        let symbols: Vec<&str> = (f.species.iter())
            .map(|&s| f.species_names[s].as_str())
            .collect();
        out.check_species(&symbols, index)?;
        let cell = cell_of(Some(f.cell), f.pbc, path, index)?;
        out.frames.push(TrajectoryFrame {
            index,
            time: Some(f.time),
            cell,
            positions: f.positions,
            velocities: f.velocities,
        });
    }
    Ok(out)
}

fn load_extxyz(path: &Path, selection: Selection, velocities: bool) -> anyhow::Result<Trajectory> {
    let mut picked = Vec::new();
    let frames = extxyz::read_frames_at(path, |n| {
        picked = selection.indices(n);
        picked.clone()
    })?;
    let mut out = Trajectory {
        path: path.to_path_buf(),
        species_names: Vec::new(),
        species: Vec::new(),
        frames: Vec::new(),
        time_unit: None,
    };
    for (f, index) in frames.into_iter().zip(picked) {
        let symbols: Vec<&str> = f.symbols.iter().map(String::as_str).collect();
        out.check_species(&symbols, index)?;
        let time = match f.info.get("time") {
            Some(v) => Some(v.as_f64().ok_or_else(|| {
                anyhow!("{}: frame {index}: `time` is not a number", path.display())
            })?),
            None => None,
        };
        let v = match velocities {
            true => extxyz_velocities(&f)
                .with_context(|| format!("{}: frame {index}", path.display()))?,
            false => None,
        };
        out.frames.push(TrajectoryFrame {
            index,
            time,
            cell: cell_of(f.lattice, f.pbc, path, index)?,
            positions: f.positions,
            velocities: v,
        });
    }
    Ok(out)
}

impl Trajectory {
    /// Takes the species of the first frame and checks every later one against them.
    fn check_species(&mut self, symbols: &[&str], index: usize) -> anyhow::Result<()> {
        if self.frames.is_empty() && self.species.is_empty() {
            for name in symbols {
                let k = match self.species_names.iter().position(|s| s == name) {
                    Some(k) => k,
                    None => {
                        self.species_names.push(name.to_string());
                        self.species_names.len() - 1
                    }
                };
                self.species.push(k);
            }
            return Ok(());
        }
        let same = symbols.len() == self.species.len()
            && (symbols.iter().zip(&self.species)).all(|(a, &k)| *a == self.species_names[k]);
        if !same {
            bail!(
                "{}: frame {index} holds other atoms ({} atoms) than the first frame read \
                 ({} atoms): the analyses need the same atoms in every frame",
                self.path.display(),
                symbols.len(),
                self.species.len()
            );
        }
        Ok(())
    }
}

/// The cell of a frame: periodic axes need a lattice; without one the frame is in vacuum.
fn cell_of(
    lattice: Option<DMat3>,
    pbc: [bool; 3],
    path: &Path,
    index: usize,
) -> anyhow::Result<Cell> {
    match lattice {
        Some(m) => {
            Cell::from_matrix(m, pbc).map_err(|e| anyhow!("{}: frame {index}: {e}", path.display()))
        }
        None if pbc.iter().any(|&p| p) => {
            bail!(
                "{}: frame {index} is periodic but has no Lattice",
                path.display()
            )
        }
        None => Ok(Cell::vacuum()),
    }
}

/// Velocities of an extended-XYZ frame: `velocities` or `vel` as written, else ASE's
/// `momenta` divided by the masses (a `masses` column, else standard atomic masses) and
/// converted from ASE's time unit to ps.
fn extxyz_velocities(f: &extxyz::Frame) -> anyhow::Result<Option<Vec<DVec3>>> {
    if let Some(v) = f
        .vector_array("velocities")
        .or_else(|| f.vector_array("vel"))
    {
        return Ok(Some(v));
    }
    let Some(p) = f.vector_array("momenta") else {
        return Ok(None);
    };
    let masses: Vec<f64> = match f.arrays.get("masses") {
        Some(extxyz::ArrayValue::Float { ncols: 1, data }) => data.clone(),
        _ => (f.symbols.iter())
            .map(|s| {
                crate::units::atomic_mass(s).ok_or_else(|| {
                    anyhow!("velocities from `momenta` need masses: {s} is not an element and there is no `masses` column")
                })
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let scale = 1.0 / crate::units::Units::Metal.ase_time();
    Ok(Some(
        p.iter()
            .zip(&masses)
            .map(|(p, m)| *p * (scale / m))
            .collect(),
    ))
}
