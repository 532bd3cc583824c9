//! The compiled core of the `eqmd` Python package (`eqmd._eqmd`): an `Engine` that keeps a
//! potential, its neighbour list and its buffers between single-point calculations, model
//! files as `Model` objects, the errors of `eqmd eval` and the deck runner of `eqmd run`.
//!
//! Every call into the crate runs with the GIL released and inside `guard`, so an error
//! becomes a Python exception carrying the whole anyhow chain and a panic becomes a
//! `RuntimeError` instead of crossing into the interpreter.

mod engine;

use eqmd::potential::equivariant::file as model_file;
use eqmd::potential::equivariant::model::Model as RustModel;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

pyo3::create_exception!(
    _eqmd,
    EqmdError,
    PyRuntimeError,
    "An error reported by eqmd (a model file, a deck, a structure...)."
);

/// Runs `f`, turning an error into `EqmdError` with its chain of causes and a panic into
/// `RuntimeError` with the panic's message.
pub(crate) fn guard<T>(f: impl FnOnce() -> anyhow::Result<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(EqmdError::new_err(format!("{e:#}"))),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PyRuntimeError::new_err(format!(
                "eqmd panicked (this is a bug): {message}"
            )))
        }
    }
}

/// Runs `f` with the GIL released, inside `guard`.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> anyhow::Result<T> + Send,
) -> PyResult<T> {
    py.allow_threads(|| guard(f))
}

/// An equivariant-network model file, loaded: its hyper-parameters as attributes.
#[pyclass(module = "eqmd._eqmd", frozen)]
pub struct Model {
    pub(crate) model: RustModel,
    path: PathBuf,
}

#[pymethods]
impl Model {
    /// Loads the model file at `path`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Model> {
        let p = path.clone();
        let model = detached(py, move || {
            model_file::load(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        })?;
        Ok(Model { model, path })
    }

    /// The file the model was read from.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The chemical species the model knows, in its order.
    #[getter]
    fn species(&self) -> Vec<String> {
        self.model.hyper.species.clone()
    }

    /// The cutoff radius (Å).
    #[getter]
    fn cutoff(&self) -> f64 {
        self.model.hyper.cutoff
    }

    /// Largest angular momentum of the features.
    #[getter]
    fn lmax(&self) -> usize {
        self.model.hyper.lmax
    }

    /// Channels per irrep.
    #[getter]
    fn channels(&self) -> usize {
        self.model.hyper.channels
    }

    /// Message-passing layers.
    #[getter]
    fn layers(&self) -> usize {
        self.model.hyper.layers
    }

    /// Whether features carry parity.
    #[getter]
    fn parity(&self) -> bool {
        self.model.hyper.parity
    }

    /// Body order of the products (1: NequIP-like).
    #[getter]
    fn correlation(&self) -> usize {
        self.model.hyper.correlation
    }

    /// The normalising average neighbour count.
    #[getter]
    fn avg_neighbors(&self) -> f64 {
        self.model.hyper.avg_neighbors
    }

    /// The dipole head (`"charges+dipoles"`...) or None.
    #[getter]
    fn dipole(&self) -> Option<String> {
        self.model.hyper.dipole.map(|d| d.name().to_string())
    }

    /// Number of trainable weights.
    #[getter]
    fn parameter_count(&self) -> usize {
        self.model.parameter_count()
    }

    fn __repr__(&self) -> String {
        let h = &self.model.hyper;
        format!(
            "Model('{}', species={:?}, cutoff={}, lmax={}, channels={}, layers={}, dipole={:?})",
            self.path.display(),
            h.species,
            h.cutoff,
            h.lmax,
            h.channels,
            h.layers,
            h.dipole.map(|d| d.name())
        )
    }
}

/// The errors of `model` on every frame of the extended-XYZ file `data` (frames with
/// `energy` and `forces`), as `eqmd eval --json` reports them, as a dict.
#[pyfunction]
fn evaluate_errors<'py>(
    py: Python<'py>,
    model: &Model,
    data: PathBuf,
) -> PyResult<Bound<'py, PyDict>> {
    let e = detached(py, || {
        eqmd::tools::evaluate_errors(&model.model, &data, None)
    })?;
    let d = PyDict::new(py);
    d.set_item("n_frames", e.n_frames)?;
    d.set_item("energy_mae_mev", e.energy_mae_mev)?;
    d.set_item("energy_mae_mev_per_atom", e.energy_mae_mev_per_atom)?;
    d.set_item("energy_rmse_mev", e.energy_rmse_mev)?;
    d.set_item("force_mae_mev_per_angstrom", e.force_mae_mev_per_angstrom)?;
    d.set_item("force_rmse_mev_per_angstrom", e.force_rmse_mev_per_angstrom)?;
    if let Some((mae, norm)) = e.dipole {
        d.set_item("dipole_mae_e_angstrom", mae)?;
        d.set_item("dipole_norm_error_e_angstrom", norm)?;
    }
    Ok(d)
}

/// Runs the deck at `path` as `eqmd run` does, with `key=value` overrides and an optional
/// folder for its outputs; returns the run's summary as a dict.
#[pyfunction]
#[pyo3(signature = (path, overrides, output_dir=None, echo=false))]
fn run_deck<'py>(
    py: Python<'py>,
    path: PathBuf,
    overrides: Vec<String>,
    output_dir: Option<PathBuf>,
    echo: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let options = eqmd::run::RunOptions {
        overrides,
        output_dir,
        echo,
        progress: false,
        restart: None,
    };
    let s = detached(py, || eqmd::run::run_deck(&path, &options))?;
    let d = PyDict::new(py);
    d.set_item("atoms", s.atoms)?;
    d.set_item("steps", s.steps)?;
    d.set_item("seconds", s.seconds)?;
    d.set_item("thermo_file", s.thermo_file)?;
    d.set_item("neighbor_builds", s.neighbor_builds)?;
    Ok(d)
}

/// The extension module.
#[pymodule]
fn _eqmd(m: &Bound<'_, PyModule>) -> PyResult<()> {
    if let Some(message) = eqmd::cpu::unsupported() {
        return Err(pyo3::exceptions::PyImportError::new_err(message));
    }
    eqmd::keep_freed_memory();
    m.add("EqmdError", m.py().get_type::<EqmdError>())?;
    m.add_class::<Model>()?;
    m.add_class::<engine::Engine>()?;
    m.add_function(wrap_pyfunction!(evaluate_errors, m)?)?;
    m.add_function(wrap_pyfunction!(run_deck, m)?)?;
    Ok(())
}
