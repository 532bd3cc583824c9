//! The embedded-atom method: E = Σᵢ Fᵢ(ρᵢ) + ½ Σᵢⱼ φᵢⱼ(rᵢⱼ) with ρᵢ = Σⱼ ρⱼ(rᵢⱼ), read from
//! LAMMPS `funcfl` and `setfl` files and interpolated as LAMMPS interpolates them.
//!
//! One call makes three passes over a half list: densities, embedding energies and their
//! derivatives, then pair forces (∂E/∂rᵢⱼ = F'ᵢ ρ'ⱼ + F'ⱼ ρ'ᵢ + φ').

pub mod file;
mod near_pairs;
mod spline;

pub use file::{EamFileError, Funcfl, Setfl};
pub use spline::{resample, GridPoint, Spline};

use super::pair::{PairBuffers, PairKernel, PairPass, PairPotential, PairTable};
use super::Scratch;
use near_pairs::{NearPairs, PairTerm};
use rayon::prelude::*;

/// Hartree·Bohr in eV·Å as LAMMPS writes it: φ(r) = 27.2 · 0.529 · Zᵢ(r) Zⱼ(r) / r.
const HARTREE_BOHR: f64 = 27.2 * 0.529;

/// An EAM potential over the species of a system.
#[derive(Clone, Debug)]
pub struct Eam {
    /// Embedding function F(ρ) of each species.
    embedding: Vec<Spline>,
    /// Density ρ(r) that an atom of each species contributes to its neighbours.
    density: Vec<Spline>,
    /// r·φ(r) for each species pair.
    pair: PairTable<usize>,
    z2r: Vec<Spline>,
    /// Largest tabulated density; F is continued linearly beyond it, as in LAMMPS.
    rho_max: f64,
    cutoff: f64,
    cut2: f64,
    /// The pairs within the cutoff, kept by the density pass for the force pass.
    near: Scratch<NearPairs>,
    buffers: PairBuffers,
}

impl Eam {
    /// From one `funcfl` file per species (LAMMPS `pair_style eam`): the tables are brought
    /// onto a common grid and cross pairs use φᵢⱼ = 27.2·0.529 ZᵢZⱼ / r.
    ///
    /// The grid is LAMMPS's: the largest spacings, and as many points as reach the largest
    /// tabulated r and ρ, counted as `(int)(max/spacing + 0.5)` — one point fewer than the
    /// file holds. Densities beyond the table's ρ_max then continue F linearly from the
    /// last spline piece, exactly as LAMMPS computes it.
    pub fn from_funcfl(files: &[Funcfl]) -> Eam {
        let drho = files.iter().map(|f| f.drho).fold(0.0, f64::max);
        let dr = files.iter().map(|f| f.dr).fold(0.0, f64::max);
        let rho_max = files
            .iter()
            .map(|f| (f.nrho - 1) as f64 * f.drho)
            .fold(0.0, f64::max);
        let r_max = files
            .iter()
            .map(|f| (f.nr - 1) as f64 * f.dr)
            .fold(0.0, f64::max);
        let nrho = ((rho_max / drho + 0.5) as usize).max(5);
        let nr = ((r_max / dr + 0.5) as usize).max(5);
        let cutoff = files.iter().map(|f| f.cutoff).fold(0.0, f64::max);
        let embedding = files
            .iter()
            .map(|f| Spline::new(&resample(&f.frho, f.drho, nrho, drho), drho))
            .collect();
        let density = files
            .iter()
            .map(|f| Spline::new(&resample(&f.rhor, f.dr, nr, dr), dr))
            .collect();
        let charges: Vec<Vec<f64>> = files
            .iter()
            .map(|f| resample(&f.zr, f.dr, nr, dr))
            .collect();
        let n = files.len();
        let mut pair = PairTable::new(n, 0);
        let mut z2r = Vec::new();
        for i in 0..n {
            for j in 0..=i {
                let values: Vec<f64> = charges[i]
                    .iter()
                    .zip(&charges[j])
                    .map(|(zi, zj)| HARTREE_BOHR * zi * zj)
                    .collect();
                pair.set(i, j, z2r.len());
                z2r.push(Spline::new(&values, dr));
            }
        }
        Eam {
            embedding,
            density,
            pair,
            z2r,
            rho_max,
            cutoff,
            cut2: cutoff * cutoff,
            near: Scratch::default(),
            buffers: PairBuffers::default(),
        }
    }

    /// From a `setfl` file (LAMMPS `pair_style eam/alloy`); `elements[s]` is the index in
    /// the file of the element that system species `s` is.
    pub fn from_setfl(file: &Setfl, elements: &[usize]) -> Eam {
        let embedding = elements
            .iter()
            .map(|&e| Spline::new(&file.elements[e].frho, file.drho))
            .collect();
        let density = elements
            .iter()
            .map(|&e| Spline::new(&file.elements[e].rhor, file.dr))
            .collect();
        let n = elements.len();
        let mut pair = PairTable::new(n, 0);
        let mut z2r = Vec::new();
        for i in 0..n {
            for j in 0..=i {
                let (a, b) = (elements[i].max(elements[j]), elements[i].min(elements[j]));
                pair.set(i, j, z2r.len());
                z2r.push(Spline::new(&file.z2r[a * (a + 1) / 2 + b], file.dr));
            }
        }
        Eam {
            embedding,
            density,
            pair,
            z2r,
            rho_max: (file.nrho - 1) as f64 * file.drho,
            cutoff: file.cutoff,
            cut2: file.cutoff * file.cutoff,
            near: Scratch::default(),
            buffers: PairBuffers::default(),
        }
    }

    /// Embedding energy and its derivative at density `rho` for species `s`.
    fn embed(&self, s: usize, rho: f64) -> (f64, f64) {
        let (mut f, fp) = self.embedding[s].value_and_derivative(rho);
        if rho > self.rho_max {
            f += fp * (rho - self.rho_max);
        }
        (f, fp)
    }
}

/// The density pass: ρᵢ = Σⱼ ρ_{sⱼ}(rᵢⱼ).
struct EamDensity<'a> {
    eam: &'a Eam,
    species: &'a [usize],
}

impl PairTerm for EamDensity<'_> {
    #[inline(always)]
    fn term(&self, i: usize, j: usize, r2: f64) -> (f64, f64) {
        let (si, sj) = (self.species[i], self.species[j]);
        // every radial table shares one grid: locate r once
        let at = self.eam.z2r[0].locate(r2.sqrt());
        let from_j = self.eam.density[sj].value_at(at);
        let from_i = if si == sj {
            from_j
        } else {
            self.eam.density[si].value_at(at)
        };
        (from_j, from_i)
    }
}

/// The pair pass: φ(r) and the force from φ' and the embedding derivatives.
struct EamForces<'a> {
    eam: &'a Eam,
    embedding_derivative: &'a [f64],
}

impl PairKernel for EamForces<'_> {
    #[inline(always)]
    fn pair(&self, i: usize, j: usize, si: usize, sj: usize, r2: f64) -> Option<(f64, f64)> {
        let eam = self.eam;
        if r2 >= eam.cut2 {
            return None;
        }
        let r = r2.sqrt();
        // every radial table shares one grid: locate r once
        let at = eam.z2r[0].locate(r);
        let rho_i_prime = eam.density[si].derivative_at(at);
        let rho_j_prime = if si == sj {
            rho_i_prime
        } else {
            eam.density[sj].derivative_at(at)
        };
        let z2r = &eam.z2r[*eam.pair.get(si, sj)];
        let (z2, z2p) = (z2r.value_at(at), z2r.derivative_at(at));
        let recip = 1.0 / r;
        let phi = z2 * recip;
        let phi_prime = z2p * recip - phi * recip;
        let fp = self.embedding_derivative;
        let psi_prime = fp[i] * rho_j_prime + fp[j] * rho_i_prime + phi_prime;
        Some((phi, -psi_prime * recip))
    }
}

impl PairPotential for Eam {
    const NAME: &'static str = "eam";

    fn pair_cutoff(&self) -> f64 {
        self.cutoff
    }

    fn buffers(&self) -> &PairBuffers {
        &self.buffers
    }

    fn pairs(&self, mut pass: PairPass<'_>) {
        let system = pass.system();
        // the density pass also keeps the pairs within the cutoff for the force pass
        let density = EamDensity {
            eam: self,
            species: &system.species,
        };
        self.near.with(|near| {
            let rho = near.gather(pass.list(), system, self.cutoff, &density);
            let embedded: Vec<(f64, f64)> = rho
                .par_iter()
                .zip(system.species.par_iter())
                .map(|(&rho, &s)| self.embed(s, rho))
                .collect();
            let derivative: Vec<f64> = embedded.iter().map(|e| e.1).collect();
            let out = pass.output();
            out.energy += embedded.iter().map(|e| e.0).sum::<f64>();
            if let Some(ae) = &mut out.per_atom_energy {
                for (a, e) in ae.iter_mut().zip(&embedded) {
                    *a += e.0;
                }
            }
            let forces = EamForces {
                eam: self,
                embedding_derivative: &derivative,
            };
            pass.run_over(&forces, near.list());
        });
    }
}
