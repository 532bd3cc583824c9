"""The ASE calculator: eqmd's equivariant network from a model file, or any potential of
a deck's ``[potential]`` section (Lennard-Jones, Morse, EAM, sums) through eqmd's own deck
code."""

import os

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator as _AseCalculator
from ase.calculators.calculator import PropertyNotImplementedError, all_changes
from ase.data import atomic_numbers, chemical_symbols
from ase.stress import full_3x3_to_voigt_6_stress

from ._eqmd import Engine, Model


class Calculator(_AseCalculator):
    """An ASE calculator evaluating eqmd's potentials.

    ``Calculator(model="potentials/rmd17-ethanol.h5", threads=None, skin=0.5)`` runs the
    equivariant network of a model file (a path or an :class:`eqmd.Model`);
    ``Calculator.from_deck("deck.toml")`` the potential of a deck. ``threads`` sets the
    size of the calculator's own thread pool (None: one thread per core); it can be
    changed later through the ``threads`` attribute.

    Properties: ``energy`` and ``free_energy`` (eV), ``forces`` (eV/Å), ``energies`` (eV
    per atom), ``stress`` for 3D-periodic cells (eV/Å³, Voigt order xx yy zz yz xz xy,
    ASE's sign: −W/V from the potential's virial W = Σ r_ij ⊗ f_ij) and, for a model
    with a dipole head, ``dipole`` of a molecule in vacuum (e·Å).

    The potential, its neighbour list (padded by ``skin`` Å) and its buffers are kept
    between calls, so a relaxation or a trajectory only pays for the positions it changes;
    changes of the number of atoms, of their species, of the cell or of the periodicity
    are followed.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "energies"]

    def __init__(self, model=None, threads=None, skin=0.5, *, _engine=None, **kwargs):
        super().__init__(**kwargs)
        if _engine is None:
            if model is None:
                raise ValueError("give a model file: Calculator(model='model.h5')")
            if not isinstance(model, Model):
                from . import load_model

                model = load_model(model)
            _engine = Engine.from_model(model, float(skin), threads)
            self.model = model
        else:
            self.model = None
        self._engine = _engine
        self.species = list(_engine.species)
        table = np.full(len(chemical_symbols), -1, dtype=np.int64)
        for k, name in enumerate(self.species):
            z = atomic_numbers.get(name)
            if z is not None:
                table[z] = k
        self._table = table
        if _engine.has_dipole:
            self.implemented_properties = type(self).implemented_properties + ["dipole"]

    @classmethod
    def from_deck(cls, deck, set=None, threads=None, **kwargs):
        """A calculator for the ``[potential]`` section of the deck at path `deck`, built
        by eqmd's deck code (so the deck's species names, files, cutoffs and unit
        conversions apply; ``set``: overrides as in :func:`eqmd.run`). Only decks in metal
        units (Å, eV) can serve ASE. :meth:`deck_atoms` gives the deck's own system with
        its masses."""
        from . import overrides

        deck = os.fspath(deck)
        if not os.path.isfile(deck):
            raise FileNotFoundError(f"no deck at {deck!r}")
        engine = Engine.from_deck(deck, overrides(set), threads)
        calc = cls(_engine=engine, **kwargs)
        calc.deck = deck
        return calc

    @property
    def threads(self):
        """The number of threads the calculator computes with."""
        return self._engine.threads

    @threads.setter
    def threads(self, n):
        self._engine.set_threads(n)

    @property
    def cutoff(self):
        """The potential's cutoff (Å)."""
        return self._engine.cutoff

    @property
    def masses(self):
        """The species masses (amu) of a deck calculator, as a dict."""
        return dict(zip(self.species, self._engine.masses))

    @property
    def neighbor_builds(self):
        """How many times the neighbour list has been built (since the last change of the
        number of atoms or of the periodicity)."""
        return self._engine.neighbor_builds

    def deck_atoms(self):
        """The system of a deck calculator's deck as ase.Atoms (positions, cell, pbc, the
        deck's masses and initial velocities), with this calculator attached."""
        system = self._engine.deck_system()
        if system is None:
            raise ValueError("deck_atoms() needs a calculator made by Calculator.from_deck")
        species, positions, cell, pbc, velocities, masses = system
        atoms = Atoms(
            symbols=[self.species[k] for k in species],
            positions=positions,
            cell=cell if any(pbc) else None,
            pbc=pbc,
            masses=masses,
        )
        atoms.set_velocities(velocities)
        atoms.calc = self
        return atoms

    def _species_indices(self, atoms):
        numbers = atoms.numbers
        idx = self._table[numbers]
        if (idx < 0).any():
            unknown = sorted({chemical_symbols[z] for z in numbers[idx < 0]})
            raise ValueError(
                f"species {', '.join(unknown)} unknown to the potential, "
                f"which knows {', '.join(self.species)}"
            )
        return idx

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Computes every property at once for `atoms` (ASE's calculator protocol)."""
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        periodic = bool(atoms.pbc.all())
        if "stress" in properties and not periodic:
            raise PropertyNotImplementedError("stress needs a cell periodic along all three axes")
        if "dipole" in properties and (not self._engine.has_dipole or atoms.pbc.any()):
            raise PropertyNotImplementedError(
                "dipole needs a model with a dipole head and a molecule in vacuum"
            )
        r = self._engine.compute(
            self._species_indices(atoms),
            np.ascontiguousarray(atoms.positions, dtype=np.float64),
            np.ascontiguousarray(atoms.cell.array, dtype=np.float64),
            [bool(p) for p in atoms.pbc],
        )
        results = {
            "energy": r["energy"],
            "free_energy": r["energy"],
            "forces": r["forces"],
            "energies": r["energies"],
        }
        if periodic:
            results["stress"] = full_3x3_to_voigt_6_stress(-r["virial"] / atoms.get_volume())
        if "dipole" in r:
            results["dipole"] = r["dipole"]
        self.results = results
