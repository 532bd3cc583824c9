"""The calculator keeps its list and buffers between calls: after atoms change in place,
in size, in species and in cell it gives what a fresh calculator gives."""

import ase.io
import numpy as np
import pytest
from conftest import CU_MODEL, ETHANOL, ETHANOL_MODEL, assert_close, eam_deck, rattled_copper

import eqmd


def same_as_fresh(atoms, calc, make):
    atoms.calc = calc
    got = (atoms.get_potential_energy(), atoms.get_forces().copy(),
           atoms.get_stress().copy() if atoms.pbc.all() else None)
    fresh = atoms.copy()
    fresh.calc = make()
    assert_close(got[0], fresh.get_potential_energy())
    assert_close(got[1], fresh.get_forces(), rel=1e-11)
    if got[2] is not None:
        assert_close(got[2], fresh.get_stress(), rel=1e-11)


def test_molecule_positions_size_species():
    make = lambda: eqmd.Calculator(model=ETHANOL_MODEL)  # noqa: E731
    calc = make()
    atoms = ase.io.read(ETHANOL)
    same_as_fresh(atoms, calc, make)
    rng = np.random.default_rng(0)
    for _ in range(5):  # small moves (the list holds) and a large one (rebuild)
        atoms.positions += rng.normal(scale=0.02, size=atoms.positions.shape)
        same_as_fresh(atoms, calc, make)
    atoms.positions[0] += [0.8, 0.0, 0.0]
    same_as_fresh(atoms, calc, make)
    atoms.symbols[1] = "O"  # species in place
    same_as_fresh(atoms, calc, make)
    del atoms[-1]  # size
    same_as_fresh(atoms, calc, make)
    atoms += ase.io.read(ETHANOL).copy()[:3]
    atoms.positions[-3:] += [6.0, 0.0, 0.0]
    same_as_fresh(atoms, calc, make)


@pytest.mark.parametrize("kind", ["eam", "network"])
def test_crystal_positions_wrap_cell_size(tmp_path, kind):
    if kind == "eam":
        deck = eam_deck(tmp_path)
        make = lambda: eqmd.Calculator.from_deck(deck)  # noqa: E731
    else:
        make = lambda: eqmd.Calculator(model=CU_MODEL)  # noqa: E731
    calc = make()
    atoms = rattled_copper(repeat=3)
    same_as_fresh(atoms, calc, make)
    builds = calc.neighbor_builds
    atoms.positions += 0.05
    same_as_fresh(atoms, calc, make)
    assert calc.neighbor_builds == builds  # within the skin: the list was kept
    atoms.positions[:5] += atoms.cell[0] * 1.3  # out of the cell, then far
    same_as_fresh(atoms, calc, make)
    atoms.set_cell(atoms.cell.array * 1.01, scale_atoms=True)  # cell
    same_as_fresh(atoms, calc, make)
    cell = atoms.cell.array.copy()
    cell[2, 0] += 0.4
    atoms.set_cell(cell, scale_atoms=False)
    same_as_fresh(atoms, calc, make)
    del atoms[[3, 7, 11]]  # size
    same_as_fresh(atoms, calc, make)
    big = rattled_copper(repeat=4, seed=5)
    same_as_fresh(big, calc, make)
    atoms.pbc = [True, True, False]  # periodicity
    same_as_fresh(atoms, calc, make)


def test_threads_are_settable():
    atoms = ase.io.read(ETHANOL)
    calc = eqmd.Calculator(model=ETHANOL_MODEL, threads=1)
    assert calc.threads == 1
    atoms.calc = calc
    f1 = atoms.get_forces().copy()
    calc.threads = 2
    assert calc.threads == 2
    atoms.positions[0] += 1e-3
    atoms.positions[0] -= 1e-3
    calc.reset()
    assert_close(atoms.get_forces(), f1)
