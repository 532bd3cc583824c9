//! Widening a model, to more channels or to a higher degree L, with its function kept: the
//! way to give a trained model more capacity without starting again (as Net2Net grows a
//! network).
//!
//! Channel ch of every block of the narrow model (C channels) becomes channel ch of the
//! wide one (C' channels); an axis that holds several blocks of C (the scalars and gates
//! before the gate, the radial MLP's weights per coupling path) keeps each block's place,
//! index g·C + ch going to g·C' + ch, and a coupling path or product-basis path keeps its
//! weights wherever the wide shape puts it. What is new (channels, the degree L' > L, the
//! paths that reach or pass through it, its gates) is either read by an old output, and
//! then starts at zero, or written, and then starts as a fresh model's weights (drawn with
//! the seed), so the new features differ from one another and the gradient reaches the
//! zero weights that read them. Every old weight is multiplied by the ratio of its old
//! normalisation to its new one (1/√C, and the per-path 1/√(paths into l)), so the old
//! outputs, and with them energy, forces, virial and dipole, are those of the narrow model.

use super::model::Model;
use super::shape::{BlockKind, LayerShape, Shape, ShapeError};

/// Where an entry of a wide weight array comes from, along one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    /// The index along the narrow array's axis, and the factor its weight is multiplied by.
    Old(usize, f64),
    /// A new feature read into an old one: the weight starts at zero.
    NewRead,
    /// A new feature written: the weight starts as drawn.
    NewWrite,
}

/// The sources along an axis of `groups` blocks of `wide` channels, block g coming from
/// block `group(g)` of `narrow` channels (None: a new block); `reads` tells whether the
/// axis is a map's input.
fn channels(
    groups: usize,
    (narrow, wide): (usize, usize),
    group: impl Fn(usize) -> Option<usize>,
    reads: bool,
) -> Vec<Source> {
    let new = if reads {
        Source::NewRead
    } else {
        Source::NewWrite
    };
    (0..groups * wide)
        .map(|i| match group(i / wide) {
            Some(g) if i % wide < narrow => Source::Old(g * narrow + i % wide, 1.0),
            _ => new,
        })
        .collect()
}

/// An axis that is not channels: the same in both models.
fn fixed(n: usize) -> Vec<Source> {
    (0..n).map(|i| Source::Old(i, 1.0)).collect()
}

/// The wide and narrow shapes side by side.
struct Growth<'a> {
    wide: &'a Shape,
    narrow: &'a Shape,
}

impl Growth<'_> {
    fn channel_pair(&self) -> (usize, usize) {
        (self.narrow.hyper.channels, self.wide.hyper.channels)
    }

    /// Channels read or written, one block of them.
    fn plain(&self, reads: bool) -> Vec<Source> {
        channels(1, self.channel_pair(), Some, reads)
    }

    /// The rows of a map into the outputs of degree l before the gate: for l = 0 the
    /// scalars and one block of gates per degree ≥ 1 (those of new degrees are new).
    fn gated(&self, l: usize, product_input: bool) -> Vec<Source> {
        let old_lmax = self.narrow.hyper.lmax;
        let groups = if l == 0 && !product_input {
            1 + self.wide.hyper.lmax
        } else {
            1
        };
        channels(
            groups,
            self.channel_pair(),
            |g| (g <= old_lmax).then_some(g),
            false,
        )
    }

    /// The narrow layer's index of each coupling path of the wide layer `t`.
    fn paths(&self, t: usize) -> Vec<Option<usize>> {
        let old = &self.narrow.layers[t].instructions;
        (self.wide.layers[t].instructions.iter())
            .map(|i| old.iter().position(|o| o.path == i.path))
            .collect()
    }

    /// Where the block `kind` of the wide model comes from: the narrow model's block,
    /// its axes' sources and the factor of its old weights; or, for a block the narrow
    /// model has not, what a new block is.
    fn block(&self, kind: BlockKind) -> Result<(BlockKind, Vec<Vec<Source>>, f64), Source> {
        let (w, n) = (self.wide, self.narrow);
        let (old_lmax, s) = (n.hyper.lmax, w.hyper.species.len());
        let norm = n.channel_norm / w.channel_norm;
        let layer = |t: usize| -> (&LayerShape, &LayerShape) { (&w.layers[t], &n.layers[t]) };
        Ok(match kind {
            BlockKind::Embedding => (kind, vec![fixed(s), self.plain(false)], 1.0),
            BlockKind::Up { layer: t, l } => {
                if l > layer(t).1.input.lmax {
                    return Err(Source::NewWrite);
                }
                (kind, vec![self.plain(false), self.plain(true)], norm)
            }
            BlockKind::Radial { layer: t, k } => {
                let sizes = &layer(t).0.radial_sizes;
                if k + 2 < sizes.len() {
                    return Ok((kind, vec![fixed(sizes[k]), fixed(sizes[k + 1])], 1.0));
                }
                let paths = self.paths(t);
                let out = channels(paths.len(), self.channel_pair(), |p| paths[p], false);
                (kind, vec![fixed(sizes[k]), out], 1.0)
            }
            BlockKind::Down { layer: t, path } => {
                let (wl, nl) = layer(t);
                let ins = &wl.instructions[path];
                let Some(old) = self.paths(t)[path] else {
                    let new_output = ins.path.l3 > old_lmax;
                    return Err(if new_output {
                        Source::NewWrite
                    } else {
                        Source::NewRead
                    });
                };
                let rows = self.gated(ins.path.l3, wl.product.is_some());
                let factor = nl.instructions[old].path_weight / ins.path_weight;
                let old_kind = BlockKind::Down {
                    layer: t,
                    path: old,
                };
                (old_kind, vec![rows, self.plain(true)], factor)
            }
            BlockKind::Product { layer: t, .. } => {
                let (wp, np) = (layer(t).0.product.as_ref(), layer(t).1.product.as_ref());
                let (wp, np) = (wp.expect("a product layer"), np.expect("a product layer"));
                let rows = (wp.paths.iter())
                    .map(
                        |p| match np.paths.iter().position(|o| o.code() == p.code()) {
                            Some(o) => Source::Old(o, np.paths[o].path_weight / p.path_weight),
                            None if p.out > old_lmax => Source::NewWrite,
                            None => Source::NewRead,
                        },
                    )
                    .collect();
                (kind, vec![rows, self.plain(false)], 1.0)
            }
            // the maps into a new degree (and a new degree's self-connection) are new
            BlockKind::Mix { l, .. } if l > old_lmax => return Err(Source::NewWrite),
            BlockKind::SelfConnection { layer: t, l, .. }
                if l >= n.layers[t].self_connection.len() =>
            {
                return Err(Source::NewWrite)
            }
            BlockKind::Mix { l, .. } | BlockKind::SelfConnection { l, .. } => {
                (kind, vec![self.gated(l, false), self.plain(true)], norm)
            }
            // at L = 0 the atomic dipoles' weights are not read (there are no l = 1
            // features): the wide model reads its new ones from zero
            BlockKind::DipoleAtomic if old_lmax == 0 => return Err(Source::NewRead),
            BlockKind::Readout
            | BlockKind::LayerReadout { .. }
            | BlockKind::DipoleCharge
            | BlockKind::DipoleAtomic => (kind, vec![self.plain(true)], norm),
            BlockKind::DipoleCartesian => (kind, vec![fixed(3), self.plain(true)], norm),
            BlockKind::Scale | BlockKind::Shift => (kind, vec![fixed(s)], 1.0),
        })
    }
}

/// `model` with `channels` channels and degree `lmax` (each at least its own), computing
/// the same energies, forces, virial and dipoles up to rounding; the weights of what is
/// new are drawn with `seed` or start at zero (see the module's notes).
pub fn widen(model: &Model, channels: usize, lmax: usize, seed: u64) -> Result<Model, ShapeError> {
    let h = &model.hyper;
    for (field, from, to) in [("channels", h.channels, channels), ("lmax", h.lmax, lmax)] {
        if to < from {
            return Err(ShapeError {
                field,
                message: format!("is {to}: a model of {field} {from} can be widened, not narrowed"),
            });
        }
    }
    let mut hyper = h.clone();
    (hyper.channels, hyper.lmax) = (channels, lmax);
    let shape = Shape::new(hyper)?;
    let narrow = model.shape();
    let growth = Growth {
        wide: &shape,
        narrow: &narrow,
    };
    let narrow_blocks = narrow.blocks();
    let mut out = Model::random_of(&shape, seed);
    for b in shape.blocks() {
        let to = out.block_mut(b.kind).expect("a block of the shape");
        let (kind, axes, factor) = match growth.block(b.kind) {
            Ok(found) => found,
            Err(Source::NewRead) => {
                to.fill(0.0);
                continue;
            }
            Err(_) => continue, // new features written: as drawn
        };
        let from = model.block(kind).expect("a block of the model's shape");
        let sizes: Vec<usize> = axes.iter().map(Vec::len).collect();
        debug_assert_eq!(sizes, b.shape, "{}", b.name);
        // row-major strides of the narrow array
        let old_shape = &(narrow_blocks.iter())
            .find(|o| o.kind == kind)
            .expect("the narrow block")
            .shape;
        let strides: Vec<usize> = (0..old_shape.len())
            .map(|k| old_shape[k + 1..].iter().product())
            .collect();
        for (at, w) in to.iter_mut().enumerate() {
            let (mut rest, mut source, mut scale) = (at, 0, factor);
            let (mut reads_new, mut writes_new) = (false, false);
            for (k, axis) in axes.iter().enumerate().rev() {
                match axis[rest % sizes[k]] {
                    Source::Old(j, f) => (source, scale) = (source + j * strides[k], scale * f),
                    Source::NewRead => reads_new = true,
                    Source::NewWrite => writes_new = true,
                }
                rest /= sizes[k];
            }
            if !writes_new {
                *w = if reads_new { 0.0 } else { from[source] * scale };
            }
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
        assert_eq!(widen(&narrow(), 4, 2, 1).unwrap(), narrow());
    }

    #[test]
    fn narrowing_is_refused() {
        let e = widen(&narrow(), 3, 2, 1).unwrap_err();
        assert_eq!(e.key(), "channels");
    }

    /// Old weights land on their channels (scaled where normalised), the weights that read
    /// new channels into old ones are zero, and new channels get other weights per seed.
    #[test]
    fn old_channels_keep_their_weights() {
        let (n, w) = (narrow(), widen(&narrow(), 6, 2, 1).unwrap());
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
        assert_ne!(w, widen(&narrow(), 6, 2, 2).unwrap());
    }
}
