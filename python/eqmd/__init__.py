"""eqmd from Python: an ASE calculator for eqmd's SO(3)-equivariant network and its
classical potentials (Lennard-Jones, Morse, EAM and sums, from a deck), the figures of
``eqmd eval`` and the deck runner of ``eqmd run``.

>>> import eqmd
>>> atoms.calc = eqmd.Calculator(model="potentials/rmd17-ethanol.h5")
>>> atoms.get_forces()
"""

import csv
import math
import os
import tempfile

from ._eqmd import EqmdError, Model
from ._eqmd import evaluate_errors as _evaluate_errors
from ._eqmd import run_deck as _run_deck
from .calculator import Calculator

__all__ = ["Calculator", "EqmdError", "Model", "eval", "load_model", "run"]


def load_model(path):
    """Loads an equivariant-network model file (HDF5) and returns a :class:`Model`, whose
    attributes give its ``species``, ``cutoff`` (Å), ``lmax``, ``channels``, ``layers``,
    ``parity``, ``correlation``, ``avg_neighbors``, ``dipole`` head and
    ``parameter_count``. Raises FileNotFoundError for a missing file and EqmdError for
    one that is not a model."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    return Model(path)


def _model(model):
    return model if isinstance(model, Model) else load_model(model)


def _reference(atoms):
    """The reference energy, forces and dipole stored with `atoms` (a single-point
    calculator's results, or `info` / `arrays` entries as ASE reads them)."""
    results = dict(getattr(atoms.calc, "results", None) or {})
    energy = atoms.info.get("energy", results.get("energy"))
    forces = atoms.arrays.get("forces", results.get("forces"))
    dipole = atoms.info.get("dipole", results.get("dipole"))
    if energy is None or forces is None:
        raise ValueError("every frame needs a reference energy and forces "
                         "(atoms.calc results or atoms.info['energy'] / atoms.arrays['forces'])")
    return float(energy), forces, dipole


def _write_frames(frames, path):
    """Writes `frames` with their reference data as extended XYZ, numbers in full."""
    with open(path, "w") as f:
        for atoms in frames:
            energy, forces, dipole = _reference(atoms)
            header = []
            if atoms.cell.rank == 3:
                lattice = " ".join(repr(float(x)) for x in atoms.cell.array.ravel())
                header.append(f'Lattice="{lattice}"')
            header.append("Properties=species:S:1:pos:R:3:forces:R:3")
            header.append(f"energy={energy!r}")
            if dipole is not None:
                header.append('dipole="' + " ".join(repr(float(x)) for x in dipole) + '"')
            header.append('pbc="' + " ".join("T" if p else "F" for p in atoms.pbc) + '"')
            f.write(f"{len(atoms)}\n{' '.join(header)}\n")
            for s, r, g in zip(atoms.get_chemical_symbols(), atoms.positions, forces):
                f.write(" ".join([s] + [repr(float(x)) for x in (*r, *g)]) + "\n")


def eval(model, frames):
    """The errors of `model` (a path or a :class:`Model`) on reference `frames`, as
    ``eqmd eval --json`` reports them: a dict with ``n_frames``, ``energy_mae_mev``,
    ``energy_mae_mev_per_atom``, ``energy_rmse_mev``, ``force_mae_mev_per_angstrom``,
    ``force_rmse_mev_per_angstrom`` and, for a dipole model on frames with dipoles,
    ``dipole_mae_e_angstrom`` and ``dipole_norm_error_e_angstrom``. `frames` is the path
    of an extended-XYZ file or a list of ase.Atoms carrying reference energy and forces."""
    model = _model(model)
    if isinstance(frames, (str, os.PathLike)):
        path = os.fspath(frames)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no data file at {path!r}")
        return _evaluate_errors(model, path)
    frames = list(frames)
    if not frames:
        raise ValueError("no frames to evaluate")
    with tempfile.TemporaryDirectory(prefix="eqmd-eval-") as tmp:
        path = os.path.join(tmp, "frames.xyz")
        _write_frames(frames, path)
        return _evaluate_errors(model, path)


def _toml(key, value, quote):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{key}: {value} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if quote else value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(key, v, True) for v in value) + "]"
    raise TypeError(f"{key}: cannot pass a {type(value).__name__} to a deck")


def overrides(set=None):
    """``key=value`` strings, as ``eqmd run --set`` takes them, from a dict."""
    return [f"{k}={_toml(k, v, False)}" for k, v in (set or {}).items()]


def run(deck, set=None, output_dir=None, echo=False):
    """Runs the deck at path `deck` as ``eqmd run`` does (``set``: overrides such as
    ``{"integrator.steps": 100, "integrator.timestep": "1 fs"}``; ``output_dir``: folder
    of the relative output paths, by default the deck's). Returns a dict with ``atoms``,
    ``steps``, ``seconds``, ``neighbor_builds``, ``thermo_file`` and ``thermo``, the
    last thermo row as a dict of floats (None if the run wrote none)."""
    deck = os.fspath(deck)
    if not os.path.isfile(deck):
        raise FileNotFoundError(f"no deck at {deck!r}")
    if output_dir is not None:
        output_dir = os.fspath(output_dir)
        os.makedirs(output_dir, exist_ok=True)
    summary = _run_deck(deck, overrides(set), output_dir, echo)
    summary["thermo_file"] = os.fspath(summary["thermo_file"])
    summary["thermo"] = _last_row(summary["thermo_file"])
    return summary


def _last_row(path):
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    except OSError:
        return None
    if len(rows) < 2:
        return None
    row = {}
    for k, v in zip(rows[0], rows[-1]):
        try:
            row[k] = float(v)
        except ValueError:
            row[k] = v
    return row
