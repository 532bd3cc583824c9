"""Calls per second of atoms.get_forces() through eqmd's ASE calculator, against
`eqmd benchmark` (the network alone, in Rust) on the same model and structure, and the
Python boundary's overhead per call that follows.

    python3 python/bench.py [--threads N] [--repeat R]

Every call moves one atom by 1e-9 Å so that ASE does not return its cached results; the
neighbour list holds, as it does in `eqmd benchmark`. EAM has no `eqmd benchmark`: its
reference is the compiled engine called directly (no ASE). "ASE−engine" is the cost of
ASE's calculator protocol and the array conversions per call, measured in one process.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ase.io
import numpy as np
from ase.build import bulk

# the installed package, not its sources beside this script
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import eqmd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def per_call(f, repeat):
    """Median seconds per call of f over `repeat` calls, after three warm-up calls."""
    for _ in range(3):
        f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def ase_forces(atoms):
    sign = [1.0]

    def call():
        sign[0] = -sign[0]
        atoms.positions[0, 0] += sign[0] * 1e-9
        atoms.get_forces()

    return call


def engine_forces(atoms, calc):
    species = calc._species_indices(atoms)
    pos, cell, pbc = atoms.positions.copy(), atoms.cell.array.copy(), list(atoms.pbc)
    return lambda: calc._engine.compute(species, pos, cell, pbc)


def binary(model, atoms, repeat, threads):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.xyz")
        ase.io.write(path, atoms, format="extxyz")
        out = subprocess.run(
            [str(ROOT / "target" / "release" / "eqmd"), "benchmark", "--model", str(model),
             "--structure", path, "--repeat", str(repeat), "--json"],
            check=True, capture_output=True, text=True,
            env={**os.environ, "RAYON_NUM_THREADS": str(threads)}).stdout
    return json.loads(out)["median_us_per_call"] * 1e-6


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=200)
    a = p.parse_args()
    copper = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(4)  # 256 atoms
    copper.rattle(0.02, seed=1)
    ethanol = ase.io.read(ROOT / "inputs" / "structures" / "ethanol.xyz")
    with tempfile.TemporaryDirectory() as tmp:
        deck = Path(tmp) / "eam.toml"
        deck.write_text(f'version = 1\nunits = "metal"\n[system]\nlattice = {{ kind = "fcc", '
                        f'a = 3.61, repeat = [1, 1, 1], species = "Cu" }}\n[potential]\n'
                        f'type = "eam"\nfile = "{ROOT / "potentials" / "Cu_u3.eam"}"\n')
        eam = eqmd.Calculator.from_deck(deck, threads=a.threads)
    cases = [
        ("ethanol, rmd17-ethanol.h5", ethanol, ROOT / "potentials" / "rmd17-ethanol.h5"),
        ("256 Cu, cu-emt.h5", copper, ROOT / "potentials" / "cu-emt.h5"),
        ("256 Cu, EAM Cu_u3", copper, None),
    ]
    print(f"{a.threads} thread(s), median of {a.repeat} calls")
    print(f"{'case':<28} {'ASE calls/s':>12} {'ASE µs':>10} {'engine µs':>10} "
          f"{'eqmd benchmark µs':>18} {'ASE−engine µs':>14} {'ASE−benchmark µs':>17}")
    for name, atoms, model in cases:
        atoms = atoms.copy()
        calc = eqmd.Calculator(model=model, threads=a.threads) if model else eam
        atoms.calc = calc
        t_ase = per_call(ase_forces(atoms), a.repeat)
        t_engine = per_call(engine_forces(atoms, calc), a.repeat)
        t_rust = binary(model, atoms, a.repeat, a.threads) if model else None
        rust = f"{1e6 * t_rust:18.1f}" if t_rust is not None else f"{'-':>18}"
        vs = f"{1e6 * (t_ase - t_rust):17.1f}" if t_rust is not None else f"{'-':>17}"
        print(f"{name:<28} {1 / t_ase:12.0f} {1e6 * t_ase:10.1f} {1e6 * t_engine:10.1f} "
              f"{rust} {1e6 * (t_ase - t_engine):14.1f} {vs}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
