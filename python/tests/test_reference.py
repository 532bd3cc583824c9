"""The calculator against the `eqmd` binary: energies, forces and stress equal those of a
0-step `eqmd run` (full precision in its trajectory) to 1e-12, and `eqmd.eval` equals
`eqmd eval --json`."""

import json
import subprocess

import ase.io
import numpy as np
import pytest
from conftest import (CU_EAM, CU_MODEL, ETHANOL_DATA, ETHANOL_MODEL, assert_close, eam_deck,
                      rattled_copper, reference_run, write_structure)

import eqmd


@pytest.mark.parametrize("index", [0, 7, 19])
def test_ethanol_frames_match_eqmd_run(eqmd_bin, tmp_path, index):
    frame = ase.io.read(ETHANOL_DATA, index=index)
    atoms = write_structure(frame, tmp_path / "s.xyz")
    ref = reference_run(eqmd_bin, tmp_path, tmp_path / "s.xyz",
                        f'type = "equivariant"\nmodel = "{ETHANOL_MODEL}"')
    atoms.calc = eqmd.Calculator(model=ETHANOL_MODEL)
    e = atoms.get_potential_energy()
    assert_close(e, ref.get_potential_energy())
    err = assert_close(atoms.get_forces(), ref.get_forces())
    print(f"frame {index}: E = {e!r} eV, force relative difference {err:.1e}")
    assert abs(atoms.get_potential_energies().sum() - e) < 1e-9


def test_copper_network_matches_eqmd_run(eqmd_bin, tmp_path):
    atoms = write_structure(rattled_copper(shear=0.03), tmp_path / "s.xyz")
    ref = reference_run(eqmd_bin, tmp_path, tmp_path / "s.xyz",
                        f'type = "equivariant"\nmodel = "{CU_MODEL}"')
    atoms.calc = eqmd.Calculator(model=CU_MODEL)
    assert_close(atoms.get_potential_energy(), ref.get_potential_energy())
    assert_close(atoms.get_forces(), ref.get_forces())
    assert_close(atoms.get_stress(), ref.get_stress())


def test_copper_eam_deck_matches_eqmd_run(eqmd_bin, tmp_path):
    atoms = write_structure(rattled_copper(shear=0.03), tmp_path / "s.xyz")
    ref = reference_run(eqmd_bin, tmp_path, tmp_path / "s.xyz",
                        f'type = "eam"\nfile = "{CU_EAM}"')
    atoms.calc = eqmd.Calculator.from_deck(eam_deck(tmp_path))
    assert_close(atoms.get_potential_energy(), ref.get_potential_energy())
    assert_close(atoms.get_forces(), ref.get_forces())
    assert_close(atoms.get_stress(), ref.get_stress())


def test_eval_matches_the_binary(eqmd_bin, tmp_path):
    out = subprocess.run([str(eqmd_bin), "eval", str(ETHANOL_MODEL), str(ETHANOL_DATA),
                          "--json"], check=True, capture_output=True, text=True).stdout
    cli = json.loads(out)
    py = eqmd.eval(ETHANOL_MODEL, ETHANOL_DATA)
    for key, value in cli.items():
        assert_close(py[key], value)
    # the same figures from ase.Atoms frames with single-point results
    frames = ase.io.read(ETHANOL_DATA, index=":")
    from_atoms = eqmd.eval(eqmd.load_model(ETHANOL_MODEL), frames)
    for key, value in cli.items():
        assert_close(from_atoms[key], value)
    # and from the calculator, frame by frame (the training code's evaluator is another path)
    calc = eqmd.Calculator(model=ETHANOL_MODEL)
    de, df = [], []
    for ref in frames:
        atoms = ref.copy()
        atoms.calc = calc
        de.append(atoms.get_potential_energy() - ref.get_potential_energy())
        df.append(atoms.get_forces() - ref.get_forces())
    n = len(frames[0])
    assert_close(1e3 * np.mean(np.abs(de)) / n, cli["energy_mae_mev_per_atom"], rel=1e-9)
    assert_close(1e3 * np.mean(np.abs(np.concatenate(df))), cli["force_mae_mev_per_angstrom"],
                 rel=1e-9)
    print(f"eval: {cli}")
