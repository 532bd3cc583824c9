"""Stress against finite strain derivatives, and ASE's optimiser and integrator driven by
the calculator."""

import ase.io
import numpy as np
from ase import units
from ase.md.velocitydistribution import (MaxwellBoltzmannDistribution, Stationary,
                                         ZeroRotation)
from ase.md.verlet import VelocityVerlet
from ase.optimize import BFGS
from conftest import CU_MODEL, ETHANOL, ETHANOL_MODEL, eam_deck, rattled_copper

import eqmd


def numerical_stress(atoms, calc, d=1e-5):
    """(1/V) ∂E/∂ε by central differences of strains, in ASE's Voigt order."""
    atoms = atoms.copy()
    atoms.calc = calc
    cell = atoms.cell.array.copy()
    volume = atoms.get_volume()
    full = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            e = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[i, j] += sign * d
                atoms.set_cell(cell @ strain, scale_atoms=True)
                e.append(atoms.get_potential_energy())
            full[i, j] = (e[0] - e[1]) / (2 * d * volume)
    return np.array([full[0, 0], full[1, 1], full[2, 2], 0.5 * (full[1, 2] + full[2, 1]),
                     0.5 * (full[0, 2] + full[2, 0]), 0.5 * (full[0, 1] + full[1, 0])])


def fd_stress_error(calc, atoms):
    atoms.calc = calc
    analytic = atoms.get_stress()
    numeric = numerical_stress(atoms, calc)
    err = np.abs(analytic - numeric).max()
    print(f"stress {analytic}, finite-difference error {err:.2e} eV/Å³")
    return analytic, err


def test_eam_stress_is_the_strain_derivative(tmp_path):
    calc = eqmd.Calculator.from_deck(eam_deck(tmp_path))
    stress, err = fd_stress_error(calc, rattled_copper(shear=0.04))
    assert np.abs(stress).max() > 1e-3
    assert err < 1e-7


def test_network_stress_is_the_strain_derivative():
    calc = eqmd.Calculator(model=CU_MODEL)
    stress, err = fd_stress_error(calc, rattled_copper(repeat=2, shear=0.04))
    assert np.abs(stress).max() > 1e-3
    assert err < 1e-7


def test_bfgs_relaxes_ethanol():
    atoms = ase.io.read(ETHANOL)
    atoms.calc = eqmd.Calculator(model=ETHANOL_MODEL)
    e0 = atoms.get_potential_energy()
    opt = BFGS(atoms, logfile=None)
    assert opt.run(fmax=0.01, steps=500)
    fmax = np.linalg.norm(atoms.get_forces(), axis=1).max()
    print(f"BFGS: {opt.nsteps} steps, E {e0:.6f} → {atoms.get_potential_energy():.6f} eV, "
          f"fmax {fmax:.4f} eV/Å")
    assert fmax < 0.01
    assert atoms.get_potential_energy() < e0


def test_velocity_verlet_conserves_energy():
    atoms = ase.io.read(ETHANOL)
    atoms.calc = eqmd.Calculator(model=ETHANOL_MODEL)
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(3))
    Stationary(atoms)
    ZeroRotation(atoms)
    dyn = VelocityVerlet(atoms, timestep=0.5 * units.fs, logfile=None)
    energies = []
    dyn.attach(lambda: energies.append(atoms.get_total_energy()), interval=1)
    dyn.run(200)
    energies = np.array(energies)
    # the drift: the trend of the total energy over the run (a least-squares line), apart
    # from velocity Verlet's bounded O(dt²) oscillation about it (the spread)
    steps = np.arange(len(energies))
    drift = abs(np.polyfit(steps, energies, 1)[0] * steps[-1])
    spread = energies.max() - energies.min()
    print(f"VelocityVerlet 200 × 0.5 fs: drift {drift:.2e} eV (first to last "
          f"{abs(energies[-1] - energies[0]):.2e}), spread {spread:.2e} eV, "
          f"{atoms.calc.neighbor_builds} list builds")
    assert drift < 1e-3
    assert spread < 5e-3
