"""Calls per second of atoms.get_forces() through MACE's ASE calculator (mace-torch, CPU,
float64), on random-weight MACE models shaped as eqmd's shipped ones, for the comparison
with `python3 python/bench.py` (eqmd's calculator on the same structures):

    ethanol:      max_ell 3, 32x0e+32x1o hidden, 2 interactions, correlation 3, r_c 5 Å,
                  8 Bessel functions, radial MLP [64, 64] (potentials/rmd17-ethanol.h5)
    256 Cu (fcc): max_ell 1, 16x0e+16x1o, 2 interactions, correlation 1, r_c 4.5 Å,
                  radial MLP [32, 32] (potentials/cu-emt.h5)

Run it where mace-torch is installed (it needs its own environment; see the PyTorch anchor
of the benchmarks):
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 venv_mace/bin/python python/bench_mace.py [--threads 1 2]
(the variable lets mace-torch 0.3.16 load its own tables under torch 2.15).
"""

import argparse
import time

import numpy as np
import torch
from ase.build import bulk, molecule
from e3nn import o3
from mace import modules
from mace.calculators import MACECalculator


def model(numbers, lmax, channels, correlation, cutoff, hidden):
    """A random-weight MACE of the given shape, in float64."""
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    irreps = o3.Irreps(f"{channels}x0e+{channels}x1o")
    m = modules.MACE(
        r_max=cutoff, num_bessel=8, num_polynomial_cutoff=5, max_ell=lmax,
        interaction_cls=block, interaction_cls_first=block, num_interactions=2,
        num_elements=len(numbers), hidden_irreps=irreps, MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=np.zeros(len(numbers)), avg_num_neighbors=10.0,
        atomic_numbers=numbers, correlation=correlation, gate=torch.nn.functional.silu,
        radial_MLP=hidden,
    )
    return m.double().eval()


def per_call(atoms, repeat):
    """Median seconds of get_forces() after three warm-up calls, moving an atom by 1e-9 Å
    each time so that ASE does not return its cache."""
    sign = 1.0
    times = []
    for k in range(repeat + 3):
        sign = -sign
        atoms.positions[0, 0] += sign * 1e-9
        t = time.perf_counter()
        atoms.get_forces()
        if k >= 3:
            times.append(time.perf_counter() - t)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    ethanol = molecule("CH3CH2OH")
    copper = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((4, 4, 4))
    cases = [
        ("ethanol", ethanol, model([1, 6, 8], 3, 32, 3, 5.0, [64, 64])),
        ("256 Cu", copper, model([29], 1, 16, 1, 4.5, [32, 32])),
    ]
    print("| case | threads | MACECalculator get_forces() calls/s | ms per call |")
    print("|---|---|---|---|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name, atoms, m in cases:
            atoms = atoms.copy()
            atoms.calc = MACECalculator(models=m, device="cpu", default_dtype="float64")
            t = per_call(atoms, args.repeat)
            print(f"| {name} | {threads} | {1 / t:.1f} | {1e3 * t:.2f} |")


if __name__ == "__main__":
    main()
