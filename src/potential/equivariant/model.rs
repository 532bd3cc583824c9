//! The network's weights: an embedding of the species, interaction layers (linear,
//! Clebsch–Gordan convolution weighted by a radial MLP, linear, self-connection, gate), and
//! a per-species scaled readout of the scalars. Their shapes and order come from the
//! model's [`Shape`]; this module only holds the numbers and finds each array by its
//! [`BlockKind`].

use super::mlp::Mlp;
use super::shape::{BlockKind, Shape};
pub use super::shape::{DipoleHead, Hyper, Path};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// One interaction layer's weights (all linear maps applied with their normalisation from
/// the [`Shape`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Linear map per input degree, C × C (row = output channel).
    pub up: Vec<Vec<f64>>,
    /// Radial basis → one weight per path and channel.
    pub radial: Mlp,
    /// Linear map per path into its output block, out_channels(l3) × C (C × C into the
    /// product basis when the layer has one).
    pub down: Vec<Vec<f64>>,
    /// Product-basis weights per species, paths × C (empty at correlation 1).
    pub product: Vec<Vec<f64>>,
    /// Linear map per degree from the product basis to the outputs, out_channels(l) × C
    /// (empty at correlation 1).
    pub mix: Vec<Vec<f64>>,
    /// Species-dependent self-connection (by species, then l), out_channels(l) × C, for the
    /// degrees present in both input and output.
    pub self_connection: Vec<Vec<Vec<f64>>>,
    /// Readout of this layer's scalars, C, summed into the energy with the last layer's
    /// (empty without `layer_readouts`, and for the last layer, whose readout is the
    /// model's).
    pub readout: Vec<f64>,
}

/// The whole model: its hyper-parameters and its weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub hyper: Hyper,
    /// Species embedding, `species × C`.
    pub embedding: Vec<f64>,
    pub layers: Vec<Layer>,
    /// Readout of the last scalars, C.
    pub readout: Vec<f64>,
    /// The dipole head's maps of the last scalars to charges and of the last l = 1
    /// features to atomic dipoles, C each (empty without `dipole`).
    pub dipole_charge: Vec<f64>,
    pub dipole_atomic: Vec<f64>,
    /// The invariant dipole head's map of the summed last scalars, 3 × C (empty otherwise).
    pub dipole_cartesian: Vec<f64>,
    /// Per-species scale and shift of the atomic energies.
    pub scale: Vec<f64>,
    pub shift: Vec<f64>,
}

fn gaussian(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

impl Model {
    /// A model of `shape` with every weight zero.
    pub fn zeros(shape: &Shape) -> Model {
        let species = shape.hyper.species.len();
        let mut m = Model {
            hyper: shape.hyper.clone(),
            embedding: Vec::new(),
            layers: (shape.layers.iter())
                .map(|l| Layer {
                    up: Vec::new(),
                    radial: Mlp {
                        sizes: l.radial_sizes.clone(),
                        weights: Vec::new(),
                    },
                    down: Vec::new(),
                    product: Vec::new(),
                    mix: Vec::new(),
                    self_connection: vec![Vec::new(); species],
                    readout: Vec::new(),
                })
                .collect(),
            readout: Vec::new(),
            dipole_charge: Vec::new(),
            dipole_atomic: Vec::new(),
            dipole_cartesian: Vec::new(),
            scale: Vec::new(),
            shift: Vec::new(),
        };
        for b in shape.blocks() {
            let zero = vec![0.0; b.size()];
            match b.kind {
                BlockKind::Embedding => m.embedding = zero,
                BlockKind::Up { layer, .. } => m.layers[layer].up.push(zero),
                BlockKind::Radial { layer, .. } => m.layers[layer].radial.weights.push(zero),
                BlockKind::Down { layer, .. } => m.layers[layer].down.push(zero),
                BlockKind::Product { layer, .. } => m.layers[layer].product.push(zero),
                BlockKind::Mix { layer, .. } => m.layers[layer].mix.push(zero),
                BlockKind::SelfConnection { layer, species, .. } => {
                    m.layers[layer].self_connection[species].push(zero)
                }
                BlockKind::LayerReadout { layer } => m.layers[layer].readout = zero,
                BlockKind::Readout => m.readout = zero,
                BlockKind::DipoleCharge => m.dipole_charge = zero,
                BlockKind::DipoleAtomic => m.dipole_atomic = zero,
                BlockKind::DipoleCartesian => m.dipole_cartesian = zero,
                BlockKind::Scale => m.scale = zero,
                BlockKind::Shift => m.shift = zero,
            }
        }
        m
    }

    /// A model with random weights (N(0, 1), scaled by their normalisation when applied),
    /// seeded; scale 1 and shift 0. Panics on hyper-parameters that [`Shape::new`] refuses:
    /// a shorthand for tests; input goes through [`Model::random_of`].
    pub fn random(hyper: Hyper, seed: u64) -> Model {
        let shape = Shape::new(hyper).unwrap_or_else(|e| panic!("Model::random: {e}"));
        Model::random_of(&shape, seed)
    }

    /// [`Model::random`] of a shape already built (and so checked) from hyper-parameters.
    pub fn random_of(shape: &Shape, seed: u64) -> Model {
        let mut model = Model::zeros(shape);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for b in shape.blocks() {
            match b.kind {
                BlockKind::Radial { layer, k: 0 } => {
                    let sizes = &shape.layers[layer].radial_sizes;
                    model.layers[layer].radial = Mlp::new(sizes, rng_seed(&mut rng));
                }
                BlockKind::Radial { .. } => {}
                BlockKind::Scale => model.scale.fill(1.0),
                BlockKind::Shift => {}
                kind => {
                    *model.block_mut(kind).expect("a block of the shape") =
                        gaussian(&mut rng, b.size())
                }
            }
        }
        model
    }

    /// The model's shape. Panics if its hyper-parameters were edited into ones that
    /// [`Hyper::validate`] refuses: every model is made or loaded from valid ones.
    pub fn shape(&self) -> Shape {
        Shape::new(self.hyper.clone()).unwrap_or_else(|e| panic!("a model with invalid {e}"))
    }

    /// The weight array `kind`, if the model has it.
    pub fn block(&self, kind: BlockKind) -> Option<&Vec<f64>> {
        match kind {
            BlockKind::Embedding => Some(&self.embedding),
            BlockKind::Up { layer, l } => self.layers.get(layer)?.up.get(l),
            BlockKind::Radial { layer, k } => self.layers.get(layer)?.radial.weights.get(k),
            BlockKind::Down { layer, path } => self.layers.get(layer)?.down.get(path),
            BlockKind::Product { layer, species } => self.layers.get(layer)?.product.get(species),
            BlockKind::Mix { layer, l } => self.layers.get(layer)?.mix.get(l),
            BlockKind::SelfConnection { layer, species, l } => {
                self.layers.get(layer)?.self_connection.get(species)?.get(l)
            }
            BlockKind::LayerReadout { layer } => Some(&self.layers.get(layer)?.readout),
            BlockKind::Readout => Some(&self.readout),
            BlockKind::DipoleCharge => Some(&self.dipole_charge),
            BlockKind::DipoleAtomic => Some(&self.dipole_atomic),
            BlockKind::DipoleCartesian => Some(&self.dipole_cartesian),
            BlockKind::Scale => Some(&self.scale),
            BlockKind::Shift => Some(&self.shift),
        }
    }

    /// The weight array `kind` to change, if the model has it.
    pub fn block_mut(&mut self, kind: BlockKind) -> Option<&mut Vec<f64>> {
        match kind {
            BlockKind::Embedding => Some(&mut self.embedding),
            BlockKind::Up { layer, l } => self.layers.get_mut(layer)?.up.get_mut(l),
            BlockKind::Radial { layer, k } => self.layers.get_mut(layer)?.radial.weights.get_mut(k),
            BlockKind::Down { layer, path } => self.layers.get_mut(layer)?.down.get_mut(path),
            BlockKind::Product { layer, species } => {
                self.layers.get_mut(layer)?.product.get_mut(species)
            }
            BlockKind::Mix { layer, l } => self.layers.get_mut(layer)?.mix.get_mut(l),
            BlockKind::SelfConnection { layer, species, l } => (self.layers.get_mut(layer)?)
                .self_connection
                .get_mut(species)?
                .get_mut(l),
            BlockKind::LayerReadout { layer } => Some(&mut self.layers.get_mut(layer)?.readout),
            BlockKind::Readout => Some(&mut self.readout),
            BlockKind::DipoleCharge => Some(&mut self.dipole_charge),
            BlockKind::DipoleAtomic => Some(&mut self.dipole_atomic),
            BlockKind::DipoleCartesian => Some(&mut self.dipole_cartesian),
            BlockKind::Scale => Some(&mut self.scale),
            BlockKind::Shift => Some(&mut self.shift),
        }
    }

    /// Checks that the weights have exactly the arrays and sizes of `shape` (the radial
    /// MLPs' widths included); the message names the first array that differs.
    pub fn check_against(&self, shape: &Shape) -> Result<(), String> {
        let what = "the model does not match its hyper-parameters";
        let blocks = shape.blocks();
        let dipole = [
            &self.dipole_charge,
            &self.dipole_atomic,
            &self.dipole_cartesian,
        ]
        .iter()
        .filter(|a| !a.is_empty())
        .count();
        let arrays: usize = 4
            + dipole
            + (self.layers.iter())
                .map(|l| {
                    let sc: usize = l.self_connection.iter().map(Vec::len).sum();
                    let product = l.product.len() + l.mix.len();
                    let readout = usize::from(!l.readout.is_empty());
                    l.up.len() + l.radial.weights.len() + l.down.len() + product + sc + readout
                })
                .sum::<usize>();
        let (n, m) = (arrays, blocks.len());
        if n != m || self.layers.len() != shape.layers.len() {
            return Err(format!("{what}: {n} weight arrays, expected {m}"));
        }
        for b in &blocks {
            let (name, expected) = (&b.name, &b.shape);
            match self.block(b.kind) {
                Some(a) if a.len() == b.size() => {}
                Some(a) => {
                    let n = a.len();
                    return Err(format!(
                        "{what}: {name} holds {n} numbers, expected {expected:?}"
                    ));
                }
                None => return Err(format!("{what}: no {name}")),
            }
        }
        for (t, (l, s)) in self.layers.iter().zip(&shape.layers).enumerate() {
            if l.radial.sizes != s.radial_sizes
                || l.self_connection.len() != shape.hyper.species.len()
            {
                return Err(format!(
                    "{what}: radial sizes or self-connections of layer {t}"
                ));
            }
        }
        Ok(())
    }

    /// Number of trainable numbers (scale and shift included).
    pub fn parameter_count(&self) -> usize {
        self.shape().parameter_count()
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
            correlation: 1,
            layer_readouts: false,
            dipole: None,
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
