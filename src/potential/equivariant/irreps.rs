//! The layout of one atom's features as irreps: the blocks of degree l = 0..=L with their
//! channels ([`Irreps`]), and the outputs before the gate with their gate scalars
//! ([`Gated`]). The shape ([`super::shape`]) and the product basis ([`super::product`])
//! both index features through them.

use super::spherical_harmonics::{dim, total_dim};

/// Irreps l = 0..=lmax with C channels each, one atom's features: block l holds 2l + 1
/// components of C channels (channels fastest) and starts at C·l².
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Irreps {
    pub channels: usize,
    pub lmax: usize,
}

impl Irreps {
    /// Start of block l.
    pub fn offset(&self, l: usize) -> usize {
        self.channels * l * l
    }
    /// Numbers in block l.
    pub fn block_len(&self, l: usize) -> usize {
        self.channels * dim(l)
    }
    /// Numbers in all blocks: C (lmax + 1)².
    pub fn size(&self) -> usize {
        self.channels * total_dim(self.lmax)
    }
}

/// One atom's outputs before the gate: block 0 holds C scalars and then C gates for each
/// l ≥ 1; blocks l ≥ 1 hold 2l + 1 components of C channels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gated {
    pub channels: usize,
    pub lmax: usize,
}

impl Gated {
    /// Start of block l.
    pub fn offset(&self, l: usize) -> usize {
        let c = self.channels;
        if l == 0 {
            0
        } else {
            c * (1 + self.lmax) + c * (l * l - 1)
        }
    }
    /// Start of the C gates of degree l ≥ 1 inside block 0.
    pub fn gates(&self, l: usize) -> usize {
        self.channels * l
    }
    /// Numbers in all blocks.
    pub fn size(&self) -> usize {
        self.offset(self.lmax + 1)
    }
}
