"""Shared fixtures: the repository's paths, the `eqmd` binary and 0-step reference runs."""

import os
import subprocess
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.build import bulk

ROOT = Path(__file__).resolve().parents[2]
ETHANOL_MODEL = ROOT / "potentials" / "rmd17-ethanol.h5"
CU_MODEL = ROOT / "potentials" / "cu-emt.h5"
CU_EAM = ROOT / "potentials" / "Cu_u3.eam"
ETHANOL_DATA = ROOT / "inputs" / "data" / "rmd17-ethanol.xyz"
ETHANOL = ROOT / "inputs" / "structures" / "ethanol.xyz"


@pytest.fixture(scope="session")
def eqmd_bin():
    """target/release/eqmd, built (on one job) if it is not there yet."""
    path = ROOT / "target" / "release" / "eqmd"
    if not path.exists():
        subprocess.run(["cargo", "build", "--release", "-j1"], cwd=ROOT, check=True)
    return path


def eam_deck(folder, structure=None, extra=""):
    """A metal-units EAM (Cu_u3) deck in `folder`, on `structure` or an fcc lattice."""
    system = (f'structure = "{structure}"' if structure else
              'lattice = { kind = "fcc", a = 3.615, repeat = [3, 3, 3], species = "Cu" }')
    text = f"""version = 1
units = "metal"
[system]
{system}
masses = {{ Cu = 63.55 }}
[potential]
type = "eam"
file = "{CU_EAM}"
[neighbors]
skin = 1.0
[integrator]
timestep = "1 fs"
steps = 0
{extra}
"""
    path = Path(folder) / "eam.toml"
    path.write_text(text)
    return path


def reference_run(eqmd_bin, folder, structure, potential):
    """Runs `eqmd run` for 0 steps on `structure` with the `[potential]` body
    `potential` and returns the trajectory's frame: the energy, forces and (periodic)
    stress eqmd wrote, every number in full precision."""
    folder = Path(folder)
    deck = folder / "ref.toml"
    deck.write_text(f"""version = 1
units = "metal"
[system]
structure = "{structure}"
[potential]
{potential}
[integrator]
timestep = "1 fs"
steps = 0
[trajectory]
file = "ref.xyz"
every = 1
""")
    subprocess.run([str(eqmd_bin), "run", str(deck)], check=True, capture_output=True)
    return ase.io.read(folder / "ref.xyz")


def rattled_copper(repeat=3, seed=1, stdev=0.05, shear=0.0):
    """fcc Cu (a = 3.61 Å) rattled, its cell optionally sheared."""
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(repeat)
    atoms.rattle(stdev=stdev, seed=seed)
    if shear:
        cell = atoms.cell.array.copy()
        cell[1, 0] += shear * cell[1, 1]
        cell[2, 1] -= 0.5 * shear * cell[2, 2]
        atoms.set_cell(cell, scale_atoms=True)
    return atoms


def write_structure(atoms, path):
    """Writes `atoms` as extended XYZ and reads them back, so that both sides of a
    comparison see the same (rounded) numbers."""
    ase.io.write(path, atoms, format="extxyz")
    return ase.io.read(path)


def assert_close(a, b, rel=1e-12):
    """|a − b| ≤ rel · max|b| elementwise (arrays) or relative (scalars)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = max(np.abs(b).max(), 1e-300)
    err = np.abs(a - b).max() / scale
    assert err <= rel, f"relative difference {err:.3e} > {rel:.0e}"
    return err


os.environ.setdefault("RUST_LOG", "warn")
