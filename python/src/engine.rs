//! `Engine`: one potential with its system, neighbour list, output buffers and thread pool,
//! kept between calls so that a calculator evaluating one structure after another only
//! copies positions in and forces out, and rebuilds the list when the atoms moved past
//! the skin, their number changed or the periodicity did.

use crate::{detached, Model};
use eqmd::cell::Cell;
use eqmd::deck::{self, LoadedDeck};
use eqmd::neighbors::NeighborList;
use eqmd::potential::equivariant::potential::Equivariant;
use eqmd::potential::{ForceOutput, Potential};
use eqmd::system::System;
use eqmd::units::Units;
use glam::{DMat3, DVec3};
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// A potential ready to evaluate structures given as arrays (species indices into
/// `species`, Cartesian positions in Å, ASE's cell rows and periodicity).
#[pyclass(module = "eqmd._eqmd")]
pub struct Engine {
    potential: Box<dyn Potential>,
    system: System,
    list: NeighborList,
    out: ForceOutput,
    /// The lattice translation (in cell units) that wrapping gave each atom at the last
    /// build, added to the positions given, so the list sees continuous motion.
    images: Vec<DVec3>,
    pool: rayon::ThreadPool,
    skin: f64,
    has_dipole: bool,
    /// The deck a deck engine was built from, for `deck_system`.
    deck_system: Option<System>,
}

fn thread_pool(threads: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("eqmd-{i}"));
    if let Some(n) = threads {
        anyhow::ensure!(n > 0, "threads must be positive, not {n}");
        b = b.num_threads(n);
    }
    Ok(b.build()?)
}

impl Engine {
    fn with(
        potential: Box<dyn Potential>,
        system: System,
        skin: f64,
        threads: Option<usize>,
        has_dipole: bool,
        deck_system: Option<System>,
    ) -> anyhow::Result<Engine> {
        let list = NeighborList::new(potential.list_kind(), potential.cutoff(), skin);
        Ok(Engine {
            potential,
            system,
            list,
            out: ForceOutput::new(0).with_per_atom_energy(),
            images: Vec::new(),
            pool: thread_pool(threads)?,
            skin,
            has_dipole,
            deck_system,
        })
    }

    /// Starts over with a fresh list (new atoms or periodicity).
    fn reset_list(&mut self) {
        let p = &self.potential;
        self.list = NeighborList::new(p.list_kind(), p.cutoff(), self.skin);
    }
}

/// Checks a (n, 3) array and returns its rows as vectors.
fn rows(name: &str, a: &PyReadonlyArray2<'_, f64>, n: Option<usize>) -> PyResult<Vec<DVec3>> {
    let a = a.as_array();
    let shape = a.shape();
    if shape[1] != 3 || n.is_some_and(|n| shape[0] != n) {
        return Err(PyValueError::new_err(format!(
            "{name} must have shape ({}, 3), not {shape:?}",
            n.map_or("n".to_string(), |n| n.to_string())
        )));
    }
    Ok((0..shape[0])
        .map(|i| DVec3::new(a[[i, 0]], a[[i, 1]], a[[i, 2]]))
        .collect())
}

#[pymethods]
impl Engine {
    /// An engine for the network of `model`, the atoms' species indexing `model.species`.
    #[staticmethod]
    #[pyo3(signature = (model, skin=0.5, threads=None))]
    fn from_model(model: &Model, skin: f64, threads: Option<usize>) -> PyResult<Engine> {
        crate::guard(|| {
            anyhow::ensure!(skin >= 0.0, "the skin must not be negative, not {skin}");
            let model = model.model.clone();
            let mut system = System::new(Cell::vacuum(), Units::Metal);
            for name in &model.hyper.species {
                system.add_species(name, 1.0);
            }
            let has_dipole = model.hyper.dipole.is_some();
            let net = Equivariant::new(model, &system.species_names).map_err(anyhow::Error::msg)?;
            Engine::with(Box::new(net), system, skin, threads, has_dipole, None)
        })
    }

    /// An engine for the `[potential]` section of the deck at `path` (with `key=value`
    /// overrides), built by eqmd's deck code for the deck's species, in metal units.
    #[staticmethod]
    #[pyo3(signature = (path, overrides=Vec::new(), threads=None))]
    fn from_deck(
        py: Python<'_>,
        path: PathBuf,
        overrides: Vec<String>,
        threads: Option<usize>,
    ) -> PyResult<Engine> {
        detached(py, move || {
            let deck = LoadedDeck::<deck::Deck>::load(&path, &overrides)?;
            anyhow::ensure!(
                deck.deck.units == Units::Metal,
                "{}: the deck is in {:?} units; ASE works in metal units (Å, eV), so only \
                 `units = \"metal\"` decks can make a calculator",
                path.display(),
                deck.deck.units
            );
            let full = deck::build_system(&deck)?;
            let potential = deck::build_potential(&deck, &full)?;
            let skin = deck::neighbor_skin(&deck)?;
            let mut system = System::new(Cell::vacuum(), Units::Metal);
            system.species_names.clone_from(&full.species_names);
            system.species_masses.clone_from(&full.species_masses);
            Engine::with(potential, system, skin, threads, false, Some(full))
        })
    }

    /// The species names the species indices refer to.
    #[getter]
    fn species(&self) -> Vec<String> {
        self.system.species_names.clone()
    }

    /// The species masses (amu; the deck's for a deck engine, 1 for a model's).
    #[getter]
    fn masses(&self) -> Vec<f64> {
        self.system.species_masses.clone()
    }

    /// The potential's cutoff (Å).
    #[getter]
    fn cutoff(&self) -> f64 {
        self.potential.cutoff()
    }

    /// The neighbour-list skin (Å).
    #[getter]
    fn skin(&self) -> f64 {
        self.skin
    }

    /// The potential's name.
    #[getter]
    fn name(&self) -> String {
        self.potential.name()
    }

    /// Whether the potential predicts a dipole (molecules in vacuum).
    #[getter]
    fn has_dipole(&self) -> bool {
        self.has_dipole
    }

    /// The number of threads of the engine's pool.
    #[getter]
    fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// How many times the neighbour list has been built since the last reset.
    #[getter]
    fn neighbor_builds(&self) -> usize {
        self.list.builds()
    }

    /// Replaces the thread pool by one of `threads` threads (None: one per core).
    #[pyo3(signature = (threads=None))]
    fn set_threads(&mut self, threads: Option<usize>) -> PyResult<()> {
        self.pool = crate::guard(|| thread_pool(threads))?;
        Ok(())
    }

    /// The system a deck engine's deck builds: (species indices, positions, cell rows,
    /// pbc, velocities in ASE units, masses per atom); None for a model engine.
    #[allow(clippy::type_complexity)]
    fn deck_system<'py>(
        &self,
        py: Python<'py>,
    ) -> Option<(
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray2<f64>>,
        [bool; 3],
        Bound<'py, PyArray2<f64>>,
        Bound<'py, PyArray1<f64>>,
    )> {
        let s = self.deck_system.as_ref()?;
        let flat = |v: &[DVec3], scale: f64| -> Vec<Vec<f64>> {
            v.iter().map(|r| (*r * scale).to_array().to_vec()).collect()
        };
        let m = s.cell.matrix();
        let cell: Vec<Vec<f64>> = (0..3).map(|i| m.col(i).to_array().to_vec()).collect();
        let species: Vec<i64> = s.species.iter().map(|&k| k as i64).collect();
        Some((
            PyArray1::from_vec(py, species),
            PyArray2::from_vec2(py, &flat(&s.positions, 1.0)).ok()?,
            PyArray2::from_vec2(py, &cell).ok()?,
            s.cell.pbc(),
            PyArray2::from_vec2(py, &flat(&s.velocities, s.units.ase_time())).ok()?,
            PyArray1::from_vec(py, s.masses()),
        ))
    }

    /// Evaluates the structure: `species` (n indices into `species`), `positions` (n, 3)
    /// in Å, `cell` (3, 3) with the lattice vectors as rows, `pbc` three flags. Returns a
    /// dict with `energy`, `forces` (n, 3), `virial` (3, 3, W = Σ r_ij ⊗ f_ij), `energies`
    /// (n) and, for a molecule with a dipole model, `dipole` (e·Å).
    fn compute<'py>(
        &mut self,
        py: Python<'py>,
        species: PyReadonlyArray1<'py, i64>,
        positions: PyReadonlyArray2<'py, f64>,
        cell: PyReadonlyArray2<'py, f64>,
        pbc: [bool; 3],
    ) -> PyResult<Bound<'py, PyDict>> {
        let n = species.len()?;
        let kinds = self.system.species_names.len();
        let new_species = species.as_array();
        if let Some(&bad) = new_species.iter().find(|&&k| k < 0 || k as usize >= kinds) {
            return Err(PyValueError::new_err(format!(
                "species index {bad} is out of range: the potential has {kinds} species"
            )));
        }
        let given = rows("positions", &positions, Some(n))?;
        let c = rows("cell", &cell, Some(3))?;
        let matrix = DMat3::from_cols(c[0], c[1], c[2]);
        let new_cell = if pbc.iter().any(|&p| p) {
            Cell::from_matrix(matrix, pbc).map_err(|e| PyValueError::new_err(e.to_string()))?
        } else {
            Cell::vacuum()
        };
        if n != self.system.len() || new_cell.pbc() != self.system.cell.pbc() {
            self.reset_list();
            self.images.clear();
            self.images.resize(n, DVec3::ZERO);
            self.system.positions.resize(n, DVec3::ZERO);
            self.system.velocities.resize(n, DVec3::ZERO);
        }
        self.system.species.clear();
        self.system
            .species
            .extend(new_species.iter().map(|&k| k as usize));
        self.system.cell = new_cell;
        let m = new_cell.matrix();
        for ((r, g), image) in self
            .system
            .positions
            .iter_mut()
            .zip(&given)
            .zip(&self.images)
        {
            *r = *g + m * *image;
        }
        let engine = &mut *self;
        detached(py, || {
            let Engine {
                potential,
                system,
                list,
                out,
                images,
                pool,
                ..
            } = engine;
            pool.install(|| {
                if list.update(system) && system.cell.is_periodic() {
                    for ((image, r), g) in images.iter_mut().zip(&system.positions).zip(&given) {
                        *image = system.cell.fractional(*r - *g).round();
                    }
                }
                out.reset(system.len());
                potential.compute(system, list, out);
            });
            Ok(())
        })?;
        let out = &self.out;
        let d = PyDict::new(py);
        d.set_item("energy", out.energy)?;
        let forces: Vec<f64> = out.forces.iter().flat_map(|f| f.to_array()).collect();
        d.set_item("forces", PyArray1::from_vec(py, forces).reshape([n, 3])?)?;
        let w = out.virial;
        let virial: Vec<f64> = (0..3)
            .flat_map(|i| (0..3).map(move |j| w.col(j)[i]))
            .collect();
        d.set_item("virial", PyArray1::from_vec(py, virial).reshape([3, 3])?)?;
        if let Some(e) = &out.per_atom_energy {
            d.set_item("energies", PyArray1::from_slice(py, e))?;
        }
        if let Some(mu) = out.dipole {
            d.set_item("dipole", PyArray1::from_slice(py, &mu.to_array()))?;
        }
        Ok(d)
    }
}
