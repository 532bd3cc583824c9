//! Lennard-Jones 12-6: e(r) = 4ε[(σ/r)¹² − (σ/r)⁶] per species pair, with an optional shift
//! to zero at the cutoff and the mixing rules LAMMPS offers for unlisted pairs.

use super::pair::{PairBuffers, PairKernel, PairPass, PairPotential, PairTable};
use serde::{Deserialize, Serialize};

/// Parameters of one species pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LjPair {
    /// Well depth ε (energy).
    pub epsilon: f64,
    /// Zero-crossing distance σ (length).
    pub sigma: f64,
    /// Cutoff distance (length).
    pub cutoff: f64,
}

/// How parameters of an unlisted pair (i, j) follow from (i, i) and (j, j).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mixing {
    /// ε = √(εᵢεⱼ), σ = √(σᵢσⱼ) (LAMMPS's default).
    #[default]
    Geometric,
    /// Lorentz–Berthelot: ε = √(εᵢεⱼ), σ = (σᵢ + σⱼ)/2.
    Arithmetic,
    /// Waldman–Hagler sixth-power rule.
    Sixthpower,
}

impl Mixing {
    /// Parameters of the unlike pair from the two like pairs.
    pub fn mix(self, a: LjPair, b: LjPair) -> LjPair {
        let eps = (a.epsilon * b.epsilon).sqrt();
        match self {
            Mixing::Geometric => LjPair {
                epsilon: eps,
                sigma: (a.sigma * b.sigma).sqrt(),
                cutoff: (a.cutoff * b.cutoff).sqrt(),
            },
            Mixing::Arithmetic => LjPair {
                epsilon: eps,
                sigma: 0.5 * (a.sigma + b.sigma),
                cutoff: 0.5 * (a.cutoff + b.cutoff),
            },
            Mixing::Sixthpower => {
                let (s3a, s3b) = (a.sigma.powi(3), b.sigma.powi(3));
                let (s6a, s6b) = (s3a * s3a, s3b * s3b);
                let cut6 = 0.5 * (a.cutoff.powi(6) + b.cutoff.powi(6));
                LjPair {
                    epsilon: 2.0 * eps * s3a * s3b / (s6a + s6b),
                    sigma: (0.5 * (s6a + s6b)).powf(1.0 / 6.0),
                    cutoff: cut6.powf(1.0 / 6.0),
                }
            }
        }
    }
}

/// Pre-multiplied coefficients of one pair, as the inner loop wants them.
#[derive(Clone, Copy, Debug, Default)]
struct Coefficients {
    e12: f64,
    e6: f64,
    f12: f64,
    f6: f64,
    cut2: f64,
    offset: f64,
}

/// The Lennard-Jones potential over every species pair of a system.
#[derive(Clone, Debug)]
pub struct LennardJones {
    pairs: PairTable<Option<LjPair>>,
    coefficients: PairTable<Coefficients>,
    cutoff: f64,
    shift: bool,
    buffers: PairBuffers,
}

/// Why a set of Lennard-Jones parameters was refused. Species are indices; the message
/// names them by index, or by name through [`LjError::message`].
#[derive(Debug, PartialEq)]
pub enum LjError {
    /// Pair (i, j) has a parameter that must be positive (ε: non-negative), and its value.
    NotPositive(usize, usize, &'static str, f64),
    /// Pair (i, j) is not given and cannot be mixed from (i, i) and (j, j).
    Missing(usize, usize),
}

impl LjError {
    /// The species pair (i, j) the error is about.
    pub fn pair(&self) -> (usize, usize) {
        match *self {
            LjError::NotPositive(i, j, ..) | LjError::Missing(i, j) => (i, j),
        }
    }

    /// The message with the pair's species called `a` and `b`.
    pub fn message(&self, a: &str, b: &str) -> String {
        match self {
            LjError::NotPositive(_, _, what, value) => {
                format!("pair {a}-{b}: {what} must be a positive number, got {value}")
            }
            LjError::Missing(..) => format!(
                "pair {a}-{b} has no parameters and cannot be mixed: give ({a}, {a}) and \
                 ({b}, {b}) or the pair itself"
            ),
        }
    }
}

impl std::fmt::Display for LjError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (i, j) = self.pair();
        f.write_str(&self.message(&i.to_string(), &j.to_string()))
    }
}

impl std::error::Error for LjError {}

impl LennardJones {
    /// One species with parameters ε, σ and cutoff, shifted to zero at the cutoff if `shift`.
    pub fn single(epsilon: f64, sigma: f64, cutoff: f64, shift: bool) -> LennardJones {
        LennardJones::new(
            1,
            &[(
                0,
                0,
                LjPair {
                    epsilon,
                    sigma,
                    cutoff,
                },
            )],
            Mixing::Geometric,
            shift,
        )
        .expect("valid single-species Lennard-Jones parameters")
    }

    /// Parameters for `species` species from explicit pairs, mixing the rest.
    pub fn new(
        species: usize,
        explicit: &[(usize, usize, LjPair)],
        mixing: Mixing,
        shift: bool,
    ) -> Result<LennardJones, LjError> {
        let mut pairs = PairTable::new(species, None);
        for &(i, j, p) in explicit {
            for (name, value) in [
                ("epsilon", p.epsilon),
                ("sigma", p.sigma),
                ("cutoff", p.cutoff),
            ] {
                let ok = value.is_finite() && (value > 0.0 || (name == "epsilon" && value == 0.0));
                if !ok {
                    return Err(LjError::NotPositive(i, j, name, value));
                }
            }
            pairs.set(i, j, Some(p));
        }
        for i in 0..species {
            for j in i + 1..species {
                if pairs.get(i, j).is_none() {
                    match (*pairs.get(i, i), *pairs.get(j, j)) {
                        (Some(a), Some(b)) => pairs.set(i, j, Some(mixing.mix(a, b))),
                        _ => return Err(LjError::Missing(i, j)),
                    }
                }
            }
            if pairs.get(i, i).is_none() {
                return Err(LjError::Missing(i, i));
            }
        }
        let mut coefficients = PairTable::new(species, Coefficients::default());
        let mut cutoff: f64 = 0.0;
        for i in 0..species {
            for j in i..species {
                let p = pairs.get(i, j).expect("every pair filled above");
                cutoff = cutoff.max(p.cutoff);
                let s6 = p.sigma.powi(6);
                let mut c = Coefficients {
                    e12: 4.0 * p.epsilon * s6 * s6,
                    e6: 4.0 * p.epsilon * s6,
                    f12: 48.0 * p.epsilon * s6 * s6,
                    f6: 24.0 * p.epsilon * s6,
                    cut2: p.cutoff * p.cutoff,
                    offset: 0.0,
                };
                if shift {
                    let r6i = 1.0 / c.cut2.powi(3);
                    c.offset = r6i * (c.e12 * r6i - c.e6);
                }
                coefficients.set(i, j, c);
            }
        }
        Ok(LennardJones {
            pairs,
            coefficients,
            cutoff,
            shift,
            buffers: PairBuffers::default(),
        })
    }

    /// Parameters of pair (i, j) after mixing.
    pub fn pair_parameters(&self, i: usize, j: usize) -> LjPair {
        self.pairs
            .get(i, j)
            .expect("every pair filled at construction")
    }

    /// Whether energies are shifted to zero at the cutoff.
    pub fn shifted(&self) -> bool {
        self.shift
    }
}

impl PairKernel for LennardJones {
    #[inline(always)]
    fn pair(&self, _i: usize, _j: usize, si: usize, sj: usize, r2: f64) -> Option<(f64, f64)> {
        let c = self.coefficients.get(si, sj);
        if r2 >= c.cut2 {
            return None;
        }
        let r2i = 1.0 / r2;
        let r6i = r2i * r2i * r2i;
        let e = r6i * (c.e12 * r6i - c.e6) - c.offset;
        let f = r6i * (c.f12 * r6i - c.f6) * r2i;
        Some((e, f))
    }

    #[inline(always)]
    fn pair_or_zero(&self, _i: usize, _j: usize, si: usize, sj: usize, r2: f64) -> (f64, f64) {
        let c = self.coefficients.get(si, sj);
        let r2i = 1.0 / r2;
        let r6i = r2i * r2i * r2i;
        let e = r6i * (c.e12 * r6i - c.e6) - c.offset;
        let f = r6i * (c.f12 * r6i - c.f6) * r2i;
        let inside = if r2 < c.cut2 { 1.0 } else { 0.0 };
        (e * inside, f * inside)
    }
}

impl PairPotential for LennardJones {
    const NAME: &'static str = "lennard-jones";

    fn pair_cutoff(&self) -> f64 {
        self.cutoff
    }

    fn buffers(&self) -> &PairBuffers {
        &self.buffers
    }

    fn pairs(&self, pass: PairPass<'_>) {
        pass.run(self);
    }
}
