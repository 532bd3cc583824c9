//! The trainable weights of a model as one flat vector (the optimiser's view) and where
//! each block of it starts (the reverse pass's view). The order is fixed: the species
//! embedding; per layer the linear maps per degree, the radial MLP's matrices, the linear
//! maps per path and the self-connections (by species, then degree); the readout. The
//! per-species scale and shift are set from the data and not trained.

use super::model::Model;

/// Offsets of one layer's blocks in the flat vector.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerOffsets {
    /// Linear map of each input degree l.
    pub up: Vec<usize>,
    /// The radial MLP's matrices, one after the other.
    pub radial: usize,
    /// Linear map of each path.
    pub down: Vec<usize>,
    /// Self-connection of each species and degree.
    pub self_connection: Vec<Vec<usize>>,
}

/// Offsets of every block in the flat vector of trainable weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterLayout {
    /// Species embedding.
    pub embedding: usize,
    /// Each interaction layer's blocks.
    pub layers: Vec<LayerOffsets>,
    /// Readout of the last scalars.
    pub readout: usize,
    /// Length of the flat vector.
    pub len: usize,
}

impl ParameterLayout {
    /// The layout of `model`'s trainable weights.
    pub fn of(model: &Model) -> ParameterLayout {
        let mut at = 0;
        let mut take = |n: usize| {
            let o = at;
            at += n;
            o
        };
        let embedding = take(model.embedding.len());
        let layers = model
            .layers
            .iter()
            .map(|layer| LayerOffsets {
                up: layer.up.iter().map(|w| take(w.len())).collect(),
                radial: take(layer.radial.parameter_count()),
                down: layer.down.iter().map(|w| take(w.len())).collect(),
                self_connection: layer
                    .self_connection
                    .iter()
                    .map(|per_l| per_l.iter().map(|w| take(w.len())).collect())
                    .collect(),
            })
            .collect();
        let readout = take(model.readout.len());
        ParameterLayout {
            embedding,
            layers,
            readout,
            len: at,
        }
    }
}

impl Model {
    /// The blocks of trainable weights in the order of [`ParameterLayout`].
    fn blocks_mut(&mut self) -> Vec<&mut [f64]> {
        let mut blocks: Vec<&mut [f64]> = vec![&mut self.embedding[..]];
        for layer in &mut self.layers {
            blocks.extend(layer.up.iter_mut().map(|w| &mut w[..]));
            blocks.extend(layer.radial.weights.iter_mut().map(|w| &mut w[..]));
            blocks.extend(layer.down.iter_mut().map(|w| &mut w[..]));
            blocks.extend(
                layer
                    .self_connection
                    .iter_mut()
                    .flatten()
                    .map(|w| &mut w[..]),
            );
        }
        blocks.push(&mut self.readout[..]);
        blocks
    }

    /// The trainable weights as one vector.
    pub fn trainable(&self) -> Vec<f64> {
        let mut copy = self.clone();
        copy.blocks_mut()
            .into_iter()
            .flat_map(|b| b.to_vec())
            .collect()
    }

    /// Sets the trainable weights from one vector (as [`Model::trainable`] gives it).
    pub fn set_trainable(&mut self, values: &[f64]) {
        let mut rest = values;
        for block in self.blocks_mut() {
            let (head, tail) = rest.split_at(block.len());
            block.copy_from_slice(head);
            rest = tail;
        }
        assert!(rest.is_empty(), "parameter vector longer than the model");
    }
}
