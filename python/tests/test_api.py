"""Errors that become Python exceptions, the model object, the dipole and `eqmd.run`."""

import ase.io
import numpy as np
import pytest
from ase.calculators.calculator import PropertyNotImplementedError
from conftest import ETHANOL, ETHANOL_MODEL, ROOT, eam_deck, rattled_copper

import eqmd


def test_missing_and_bad_model_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        eqmd.Calculator(model=tmp_path / "nope.h5")
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    with pytest.raises(eqmd.EqmdError, match="bad.h5"):
        eqmd.load_model(bad)
    with pytest.raises(ValueError, match="give a model"):
        eqmd.Calculator()


def test_unknown_species_are_named():
    atoms = ase.io.read(ETHANOL)
    atoms.symbols[0] = "Fe"
    atoms.calc = eqmd.Calculator(model=ETHANOL_MODEL)
    with pytest.raises(ValueError, match=r"Fe.*C, O, H"):
        atoms.get_forces()


def test_decks_that_cannot_serve(tmp_path):
    with pytest.raises(eqmd.EqmdError, match="metal"):
        eqmd.Calculator.from_deck(ROOT / "inputs" / "lj_melt.toml")
    with pytest.raises(FileNotFoundError):
        eqmd.Calculator.from_deck(tmp_path / "none.toml")
    deck = eam_deck(tmp_path).read_text().replace("Cu_u3.eam", "missing.eam")
    (tmp_path / "bad.toml").write_text(deck)
    with pytest.raises(eqmd.EqmdError, match="missing.eam"):
        eqmd.Calculator.from_deck(tmp_path / "bad.toml")
    calc = eqmd.Calculator.from_deck(eam_deck(tmp_path))
    atoms = rattled_copper()
    atoms.symbols[0] = "Ag"
    atoms.calc = calc
    with pytest.raises(ValueError, match="Ag"):
        atoms.get_potential_energy()


def test_stress_of_a_molecule_is_not_implemented():
    atoms = ase.io.read(ETHANOL)
    atoms.calc = eqmd.Calculator(model=ETHANOL_MODEL)
    with pytest.raises(PropertyNotImplementedError):
        atoms.get_stress()


def test_model_object():
    m = eqmd.load_model(ETHANOL_MODEL)
    assert m.species == ["C", "O", "H"]
    assert m.cutoff == 5.0 and m.parameter_count > 0 and m.dipole is None
    assert "rmd17-ethanol" in repr(m)


def test_dipole_head():
    model = ROOT / "potentials" / "gfn2-ethanol-dipole.h5"
    atoms = ase.io.read(ETHANOL)
    atoms.calc = eqmd.Calculator(model=model)
    assert "dipole" in atoms.calc.implemented_properties
    mu = atoms.get_dipole_moment()
    assert mu.shape == (3,) and np.linalg.norm(mu) > 0.05


def test_deck_atoms_carry_the_deck_masses(tmp_path):
    calc = eqmd.Calculator.from_deck(eam_deck(tmp_path))
    assert calc.masses == {"Cu": 63.55}
    atoms = calc.deck_atoms()
    assert len(atoms) == 108 and np.allclose(atoms.get_masses(), 63.55)
    assert atoms.get_potential_energy() < 0


def test_run_a_deck(tmp_path):
    summary = eqmd.run(eam_deck(tmp_path), set={"integrator.steps": 20, "system.temperature":
                                                "300 K", "thermo.every": 10},
                       output_dir=tmp_path / "out")
    assert summary["steps"] == 20 and summary["atoms"] == 108
    assert summary["thermo"] is not None and summary["thermo"]["step"] == 20
    with pytest.raises(eqmd.EqmdError, match="integrator.steps"):
        eqmd.run(eam_deck(tmp_path), set={"integrator.steps": "many"})
