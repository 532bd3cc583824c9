//! The SO(3)-equivariant (NequIP-style) network potential and its mathematical parts.
//!
//! Features are sums of irreducible representations ("irreps") of SO(3): blocks of
//! `2l + 1` real numbers that rotate with the Wigner-D matrix `D_l(R)`. The parts, bottom
//! up: real spherical harmonics of bond directions ([`spherical_harmonics`]), the
//! Clebsch–Gordan coefficients that couple two irreps into a third ([`clebsch_gordan`]),
//! the radial basis of bond lengths ([`radial`]), the activations ([`activation`]) and the
//! radial MLP ([`mlp`]), the layout of an atom's features ([`irreps`]), strided matrix
//! products ([`gemm`]) and the linear maps over blocks of atoms built on them ([`dense`]),
//! the model's shape as data ([`shape`]), the product basis of MACE-style layers
//! ([`product`]), the weights ([`model`]) and their flat view for optimisers
//! ([`parameters`]), a model widened to more channels or a higher degree with its function
//! kept ([`widen`]), the forward pass ([`network`]) over a graph of atoms and bonds
//! ([`graph`]), the readouts (`readout`) and the reverse pass to positions and weights
//! (`reverse`), all written over a number type ([`scalar`]: `f64`, or dual numbers for
//! training, whose convolution runs over separate real and ε planes: `planar`), the
//! `Potential` ([`potential`]) and the model file ([`file`](mod@file)). Fitting a model is
//! an application above this module (`crate::train`).
//!
//! Every basis convention (order of `m`, signs, normalisation) is fixed once, in
//! [`spherical_harmonics`], and the Clebsch–Gordan coefficients and Wigner-D matrices are
//! computed in that same basis, so that couplings commute with rotations.

pub mod activation;
pub mod clebsch_gordan;
pub mod dense;
pub mod dipole;
pub mod file;
pub mod gemm;
pub mod graph;
pub mod irreps;
pub mod mlp;
pub mod model;
pub mod network;
pub mod parameters;
mod planar;
pub mod potential;
pub mod product;
mod product_planar;
pub mod radial;
mod readout;
mod reverse;
pub mod reverse_weights;
pub mod scalar;
pub mod shape;
pub mod spherical_harmonics;
pub mod widen;
