//! The trainable weights of a model as one flat vector (the optimiser's view) and where
//! each block of it starts (the reverse pass's view), in the order of the model's
//! [`Shape::blocks`](super::shape::Shape::blocks). The per-species scale and shift are set
//! from the data and not trained.

use super::model::Model;
use super::shape::BlockKind;
use std::ops::Range;

/// Offsets of one layer's blocks in the flat vector.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerOffsets {
    /// Linear map of each input degree l.
    pub up: Vec<usize>,
    /// The radial MLP's matrices, one after the other.
    pub radial: usize,
    /// Linear map of each path.
    pub down: Vec<usize>,
    /// Product-basis weights of each species (correlation ≥ 2).
    pub product: Vec<usize>,
    /// Linear map of each degree after the product basis (correlation ≥ 2).
    pub mix: Vec<usize>,
    /// Self-connection of each species and degree.
    pub self_connection: Vec<Vec<usize>>,
    /// Readout of the layer's scalars (with `layer_readouts`, all layers but the last).
    pub readout: Option<usize>,
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
    /// The dipole head's maps: charges, atomic dipoles, Cartesian components (those the
    /// head has).
    pub dipole: DipoleOffsets,
    /// Length of the flat vector.
    pub len: usize,
}

/// Where the dipole head's weight arrays start in the flat vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DipoleOffsets {
    pub charge: Option<usize>,
    pub atomic: Option<usize>,
    pub cartesian: Option<usize>,
}

impl ParameterLayout {
    /// The layout of `model`'s trainable weights.
    pub fn of(model: &Model) -> ParameterLayout {
        let shape = model.shape();
        let species = shape.hyper.species.len();
        let mut layout = ParameterLayout {
            embedding: 0,
            layers: (shape.layers.iter())
                .map(|_| LayerOffsets {
                    up: Vec::new(),
                    radial: 0,
                    down: Vec::new(),
                    product: Vec::new(),
                    mix: Vec::new(),
                    self_connection: vec![Vec::new(); species],
                    readout: None,
                })
                .collect(),
            readout: 0,
            dipole: DipoleOffsets::default(),
            len: 0,
        };
        for b in shape.blocks().iter().filter(|b| b.trainable()) {
            let at = layout.len;
            layout.len += b.size();
            match b.kind {
                BlockKind::Embedding => layout.embedding = at,
                BlockKind::Up { layer, .. } => layout.layers[layer].up.push(at),
                BlockKind::Radial { layer, k: 0 } => layout.layers[layer].radial = at,
                BlockKind::Radial { .. } => {}
                BlockKind::Down { layer, .. } => layout.layers[layer].down.push(at),
                BlockKind::Product { layer, .. } => layout.layers[layer].product.push(at),
                BlockKind::Mix { layer, .. } => layout.layers[layer].mix.push(at),
                BlockKind::SelfConnection { layer, species, .. } => {
                    layout.layers[layer].self_connection[species].push(at)
                }
                BlockKind::LayerReadout { layer } => layout.layers[layer].readout = Some(at),
                BlockKind::Readout => layout.readout = at,
                BlockKind::DipoleCharge => layout.dipole.charge = Some(at),
                BlockKind::DipoleAtomic => layout.dipole.atomic = Some(at),
                BlockKind::DipoleCartesian => layout.dipole.cartesian = Some(at),
                BlockKind::Scale | BlockKind::Shift => unreachable!("not trainable"),
            }
        }
        layout
    }
}

impl Model {
    /// The trainable weights as one vector, in the order of the shape's blocks.
    pub fn trainable(&self) -> Vec<f64> {
        let blocks = self.shape().blocks();
        let trainable = blocks.iter().filter(|b| b.trainable());
        trainable
            .flat_map(|b| {
                self.block(b.kind)
                    .expect("a block of the shape")
                    .iter()
                    .copied()
            })
            .collect()
    }

    /// The ranges of the flat vector of trainable weights whose blocks satisfy `keep`.
    pub fn trainable_ranges(&self, keep: impl Fn(&BlockKind) -> bool) -> Vec<Range<usize>> {
        let mut at = 0;
        let mut ranges = Vec::new();
        for b in self.shape().blocks().iter().filter(|b| b.trainable()) {
            if keep(&b.kind) {
                ranges.push(at..at + b.size());
            }
            at += b.size();
        }
        ranges
    }

    /// Sets the trainable weights from one vector (as [`Model::trainable`] gives it).
    pub fn set_trainable(&mut self, values: &[f64]) {
        let mut rest = values;
        for b in self.shape().blocks().iter().filter(|b| b.trainable()) {
            let block = self.block_mut(b.kind).expect("a block of the shape");
            let (head, tail) = rest.split_at(block.len());
            block.copy_from_slice(head);
            rest = tail;
        }
        assert!(rest.is_empty(), "parameter vector longer than the model");
    }
}
