//! Widening a model to more channels with its function kept: the way to give a trained
//! model more capacity without starting again (as Net2Net grows a network).
//!
//! Channel ch of every block of the narrow model (C channels) becomes channel ch of the
//! wide one (C' channels); an axis that holds several blocks of C (the scalars and gates
//! before the gate, the radial MLP's weights per path) keeps each block's place, index
//! g·C + ch going to g·C' + ch. Every weight that reads a new channel into an old one is
//! zero, so the old channels, and with them the energy, are those of the narrow model; the
//! maps normalised by 1/√C are multiplied by √(C'/C) to keep their products. Every weight
//! that writes a new channel is drawn as a fresh model's is, so the new channels differ
//! from one another and the gradient reaches the zero weights that read them.

use super::model::Model;
use super::shape::{BlockKind, Shape, ShapeError};

/// What an axis of a weight array indexes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Axis {
    /// Not channels: the same size in both models.
    Fixed,
    /// Channels read: the input features of a map.
    Reads,
    /// Channels written: a map's outputs, or a per-channel weight.
    Writes,
}

/// The axes of a block and whether its map carries the channel normalisation 1/√C.
fn axes(kind: BlockKind, shape: &Shape) -> (Vec<Axis>, bool) {
    use Axis::*;
    match kind {
        BlockKind::Embedding | BlockKind::Product { .. } => (vec![Fixed, Writes], false),
        BlockKind::Radial { layer, k } => {
            let last = k + 2 == shape.layers[layer].radial_sizes.len();
            (vec![Fixed, if last { Writes } else { Fixed }], false)
        }
        BlockKind::Up { .. }
        | BlockKind::Down { .. }
        | BlockKind::Mix { .. }
        | BlockKind::SelfConnection { .. } => (vec![Writes, Reads], true),
        BlockKind::Readout
        | BlockKind::LayerReadout { .. }
        | BlockKind::DipoleCharge
        | BlockKind::DipoleAtomic => (vec![Reads], true),
        BlockKind::DipoleCartesian => (vec![Fixed, Reads], true),
        BlockKind::Scale | BlockKind::Shift => (vec![Fixed], false),
    }
}

/// `model` with `channels` channels (at least its own), computing the same energies, forces
/// and virial up to rounding; the weights of the new channels are drawn with `seed`.
pub fn widen(model: &Model, channels: usize, seed: u64) -> Result<Model, ShapeError> {
    let (c, wide) = (model.hyper.channels, channels);
    if wide < c {
        return Err(ShapeError {
            field: "channels",
            message: format!("is {wide}: a model of {c} channels can be widened, not narrowed"),
        });
    }
    let mut hyper = model.hyper.clone();
    hyper.channels = wide;
    let shape = Shape::new(hyper)?;
    let narrow = model.shape();
    let mut out = Model::random_of(&shape, seed);
    let factor = (wide as f64 / c as f64).sqrt();
    for (b, old) in shape.blocks().iter().zip(narrow.blocks()) {
        let (axes, normalised) = axes(b.kind, &shape);
        let scale = if normalised { factor } else { 1.0 };
        let from = model.block(b.kind).expect("a block of the model's shape");
        let to = out.block_mut(b.kind).expect("a block of the shape");
        // row-major strides of the narrow array
        let strides: Vec<usize> = (0..old.shape.len())
            .map(|k| old.shape[k + 1..].iter().product())
            .collect();
        for (at, w) in to.iter_mut().enumerate() {
            let mut rest = at;
            let (mut source, mut reads_new, mut writes_new) = (0, false, false);
            for (k, &axis) in axes.iter().enumerate().rev() {
                let i = rest % b.shape[k];
                rest /= b.shape[k];
                let j = match axis {
                    Axis::Fixed => Some(i),
                    _ => (i % wide < c).then_some(i / wide * c + i % wide),
                };
                match (j, axis) {
                    (Some(j), _) => source += j * strides[k],
                    (None, Axis::Reads) => reads_new = true,
                    (None, _) => writes_new = true,
                }
            }
            if writes_new {
                continue; // a new channel's weight, as drawn
            }
            *w = if reads_new { 0.0 } else { from[source] * scale };
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::potential::equivariant::shape::Hyper;

    fn narrow() -> Model {
        let hyper = Hyper {
            species: vec!["H".into(), "C".into()],
            lmax: 2,
            channels: 4,
            layers: 2,
            cutoff: 4.0,
            radial_basis: 6,
            radial_hidden: vec![8],
            parity: true,
            avg_neighbors: 4.0,
            correlation: 3,
            layer_readouts: true,
            dipole: None,
        };
        let mut m = Model::random(hyper, 3);
        m.scale = vec![0.7, 1.3];
        m.shift = vec![-1.0, 0.5];
        m
    }

    #[test]
    fn widening_to_the_same_width_is_the_identity() {
        assert_eq!(widen(&narrow(), 4, 1).unwrap(), narrow());
    }

    #[test]
    fn narrowing_is_refused() {
        let e = widen(&narrow(), 3, 1).unwrap_err();
        assert_eq!(e.key(), "channels");
    }

    /// Old weights land on their channels (scaled where normalised), the weights that read
    /// new channels into old ones are zero, and new channels get other weights per seed.
    #[test]
    fn old_channels_keep_their_weights() {
        let (n, w) = (narrow(), widen(&narrow(), 6, 1).unwrap());
        let f = (6.0f64 / 4.0).sqrt();
        let up = (&n.layers[1].up[1], &w.layers[1].up[1]);
        assert_eq!(up.1[6 + 2], up.0[4 + 2] * f); // row 1, column 2
        assert_eq!(up.1[6 + 5], 0.0); // row 1 (old) reads channel 5 (new)
        assert_eq!(
            w.readout[..4],
            n.readout.iter().map(|x| x * f).collect::<Vec<_>>()[..]
        );
        assert_eq!(w.readout[4..], [0.0, 0.0]);
        // the mix map into the scalars and gates (3 blocks of C rows): gate block 2, row 1
        let mix = (&n.layers[0].mix[0], &w.layers[0].mix[0]);
        assert_eq!(mix.1[(2 * 6 + 1) * 6 + 3], mix.0[(2 * 4 + 1) * 4 + 3] * f);
        assert_eq!(n.layers[0].product[1][5], w.layers[0].product[1][6 + 1]);
        assert_ne!(w, widen(&narrow(), 6, 2).unwrap());
    }
}
