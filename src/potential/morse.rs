//! Morse: e(r) = D₀[e^{−2α(r−r₀)} − 2e^{−α(r−r₀)}] per species pair, as LAMMPS's
//! `pair_style morse`, optionally shifted to zero at the cutoff.

use super::pair::{PairBuffers, PairKernel, PairPass, PairPotential, PairTable};

/// Parameters of one species pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MorsePair {
    /// Well depth D₀ (energy).
    pub d0: f64,
    /// Width parameter α (inverse length).
    pub alpha: f64,
    /// Equilibrium distance r₀ (length).
    pub r0: f64,
    /// Cutoff distance (length).
    pub cutoff: f64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Coefficients {
    d0: f64,
    alpha: f64,
    r0: f64,
    cut2: f64,
    offset: f64,
}

/// The Morse potential over every species pair of a system.
#[derive(Clone, Debug)]
pub struct Morse {
    coefficients: PairTable<Coefficients>,
    cutoff: f64,
    buffers: PairBuffers,
}

/// Why a set of Morse parameters was refused. Species are indices; the message names them
/// by index, or by name through [`MorseError::message`].
#[derive(Debug, PartialEq)]
pub enum MorseError {
    /// Pair (i, j) has a parameter that must be positive, and its value.
    NotPositive(usize, usize, &'static str, f64),
    /// Pair (i, j) is not given (Morse has no mixing rule).
    Missing(usize, usize),
}

impl MorseError {
    /// The species pair (i, j) the error is about.
    pub fn pair(&self) -> (usize, usize) {
        match *self {
            MorseError::NotPositive(i, j, ..) | MorseError::Missing(i, j) => (i, j),
        }
    }

    /// The message with the pair's species called `a` and `b`.
    pub fn message(&self, a: &str, b: &str) -> String {
        match self {
            MorseError::NotPositive(_, _, what, value) => {
                format!("pair {a}-{b}: {what} must be a positive number, got {value}")
            }
            MorseError::Missing(..) => {
                format!("pair {a}-{b} has no Morse parameters (Morse has no mixing rule)")
            }
        }
    }
}

impl std::fmt::Display for MorseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (i, j) = self.pair();
        f.write_str(&self.message(&i.to_string(), &j.to_string()))
    }
}

impl std::error::Error for MorseError {}

impl Morse {
    /// Parameters for `species` species; every pair must be listed.
    pub fn new(
        species: usize,
        pairs: &[(usize, usize, MorsePair)],
        shift: bool,
    ) -> Result<Morse, MorseError> {
        let mut table: PairTable<Option<Coefficients>> = PairTable::new(species, None);
        let mut cutoff: f64 = 0.0;
        for &(i, j, p) in pairs {
            for (name, value) in [
                ("d0", p.d0),
                ("alpha", p.alpha),
                ("r0", p.r0),
                ("cutoff", p.cutoff),
            ] {
                if !(value.is_finite() && value > 0.0) {
                    return Err(MorseError::NotPositive(i, j, name, value));
                }
            }
            let mut c = Coefficients {
                d0: p.d0,
                alpha: p.alpha,
                r0: p.r0,
                cut2: p.cutoff * p.cutoff,
                offset: 0.0,
            };
            if shift {
                c.offset = morse_energy(&c, p.cutoff);
            }
            cutoff = cutoff.max(p.cutoff);
            table.set(i, j, Some(c));
        }
        let mut coefficients = PairTable::new(species, Coefficients::default());
        for i in 0..species {
            for j in i..species {
                let c = table.get(i, j).ok_or(MorseError::Missing(i, j))?;
                coefficients.set(i, j, c);
            }
        }
        Ok(Morse {
            coefficients,
            cutoff,
            buffers: PairBuffers::default(),
        })
    }
}

fn morse_energy(c: &Coefficients, r: f64) -> f64 {
    let e1 = (-c.alpha * (r - c.r0)).exp();
    c.d0 * (e1 * e1 - 2.0 * e1)
}

impl PairKernel for Morse {
    #[inline(always)]
    fn pair(&self, _i: usize, _j: usize, si: usize, sj: usize, r2: f64) -> Option<(f64, f64)> {
        let c = self.coefficients.get(si, sj);
        if r2 >= c.cut2 {
            return None;
        }
        let r = r2.sqrt();
        let e1 = (-c.alpha * (r - c.r0)).exp();
        let e = c.d0 * (e1 * e1 - 2.0 * e1) - c.offset;
        let f = 2.0 * c.alpha * c.d0 * (e1 * e1 - e1) / r;
        Some((e, f))
    }
}

impl PairPotential for Morse {
    const NAME: &'static str = "morse";

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
