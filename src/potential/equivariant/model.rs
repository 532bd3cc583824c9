//! The network's hyper-parameters and weights: an embedding of the species, interaction
//! layers (linear, Clebsch–Gordan convolution weighted by a radial MLP, linear,
//! self-connection, gate), and a per-species scaled readout of the scalars.

use super::clebsch_gordan::triangle;
use super::mlp::Mlp;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// What fixes the shape of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyper {
    /// Species the model knows, in the order of its embedding rows.
    pub species: Vec<String>,
    /// Largest irrep degree L of the features (0 = invariant, SchNet-like).
    pub lmax: usize,
    /// Channels per irrep.
    pub channels: usize,
    /// Interaction layers.
    pub layers: usize,
    /// Cutoff radius (Å).
    pub cutoff: f64,
    /// Bessel functions in the radial basis.
    pub radial_basis: usize,
    /// Hidden widths of the radial MLPs.
    pub radial_hidden: Vec<usize>,
    /// Keep only parity-conserving couplings (irreps 0e, 1o, 2e, 3o): the energy is then
    /// invariant under inversion too.
    pub parity: bool,
    /// The average number of neighbours; messages are divided by its square root.
    pub avg_neighbors: f64,
}

/// One coupling l1 ⊗ l2 → l3 of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    pub l1: usize,
    pub l2: usize,
    pub l3: usize,
}

/// One interaction layer's weights (all linear maps applied with 1/√fan-in).
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Degree of the input features (0 for the first layer).
    pub lmax_in: usize,
    /// Linear map per input degree, C × C (row = output channel).
    pub up: Vec<Vec<f64>>,
    /// The couplings of the convolution.
    pub paths: Vec<Path>,
    /// Radial basis → one weight per path and channel.
    pub radial: Mlp,
    /// Linear map per path into its output block, out_channels(l3) × C.
    pub down: Vec<Vec<f64>>,
    /// Species-dependent self-connection (by species, then l), out_channels(l) × C, for the degrees
    /// present in both input and output.
    pub self_connection: Vec<Vec<Vec<f64>>>,
}

/// The whole model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub hyper: Hyper,
    /// Species embedding, `species × C`.
    pub embedding: Vec<f64>,
    pub layers: Vec<Layer>,
    /// Readout of the last scalars, C.
    pub readout: Vec<f64>,
    /// Per-species scale and shift of the atomic energies.
    pub scale: Vec<f64>,
    pub shift: Vec<f64>,
}

impl Hyper {
    /// Channels of the output block of degree l before the gate: scalars carry one gate
    /// per channel of each l ≥ 1 block.
    pub fn out_channels(&self, l: usize) -> usize {
        if l == 0 {
            self.channels * (1 + self.lmax)
        } else {
            self.channels
        }
    }

    /// The couplings of a layer whose input has degree `lmax_in`.
    pub fn paths(&self, lmax_in: usize) -> Vec<Path> {
        let mut paths = Vec::new();
        for l1 in 0..=lmax_in {
            for l2 in 0..=self.lmax {
                for l3 in 0..=self.lmax {
                    let allowed = triangle(l1, l2, l3) && (!self.parity || (l1 + l2 + l3) % 2 == 0);
                    if allowed {
                        paths.push(Path { l1, l2, l3 });
                    }
                }
            }
        }
        paths
    }
}

fn gaussian(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

impl Model {
    /// A model with random weights (N(0, 1), scaled by 1/√fan-in when applied), seeded.
    pub fn random(hyper: Hyper, seed: u64) -> Model {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let c = hyper.channels;
        let n_species = hyper.species.len();
        let embedding = gaussian(&mut rng, n_species * c);
        let mut layers = Vec::with_capacity(hyper.layers);
        for t in 0..hyper.layers {
            let lmax_in = if t == 0 { 0 } else { hyper.lmax };
            let up = (0..=lmax_in).map(|_| gaussian(&mut rng, c * c)).collect();
            let paths = hyper.paths(lmax_in);
            let mut sizes = vec![hyper.radial_basis];
            sizes.extend(&hyper.radial_hidden);
            sizes.push(paths.len() * c);
            let radial = Mlp::new(&sizes, rng_seed(&mut rng));
            let down = paths
                .iter()
                .map(|p| gaussian(&mut rng, hyper.out_channels(p.l3) * c))
                .collect();
            let self_connection = (0..n_species)
                .map(|_| {
                    (0..=lmax_in.min(hyper.lmax))
                        .map(|l| gaussian(&mut rng, hyper.out_channels(l) * c))
                        .collect()
                })
                .collect();
            layers.push(Layer {
                lmax_in,
                up,
                paths,
                radial,
                down,
                self_connection,
            });
        }
        let readout = gaussian(&mut rng, c);
        Model {
            scale: vec![1.0; n_species],
            shift: vec![0.0; n_species],
            hyper,
            embedding,
            layers,
            readout,
        }
    }

    /// Number of trainable numbers (scale and shift included).
    pub fn parameter_count(&self) -> usize {
        let layers: usize = self
            .layers
            .iter()
            .map(|l| {
                l.up.iter().map(Vec::len).sum::<usize>()
                    + l.radial.parameter_count()
                    + l.down.iter().map(Vec::len).sum::<usize>()
                    + l.self_connection
                        .iter()
                        .flatten()
                        .map(Vec::len)
                        .sum::<usize>()
            })
            .sum();
        self.embedding.len() + layers + self.readout.len() + self.scale.len() + self.shift.len()
    }
}

fn rng_seed(rng: &mut ChaCha8Rng) -> u64 {
    use rand::RngExt;
    rng.random()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn hyper(lmax: usize, parity: bool) -> Hyper {
        Hyper {
            species: vec!["H".into(), "C".into(), "O".into()],
            lmax,
            channels: 32,
            layers: 3,
            cutoff: 5.0,
            radial_basis: 8,
            radial_hidden: vec![64, 64],
            parity,
            avg_neighbors: 8.0,
        }
    }

    #[test]
    fn paths_follow_the_triangle_and_parity() {
        let h = hyper(2, false);
        assert_eq!(h.paths(2).len(), 15);
        assert_eq!(h.paths(0).len(), 3);
        let p = hyper(2, true);
        assert!(p.paths(2).iter().all(|p| (p.l1 + p.l2 + p.l3) % 2 == 0));
        assert_eq!(p.paths(2).len(), 11);
    }

    #[test]
    fn parameter_count_of_the_reference_size() {
        let m = Model::random(hyper(2, false), 1);
        println!("parameters: {}", m.parameter_count());
        assert!(m.parameter_count() > 100_000);
    }
}
