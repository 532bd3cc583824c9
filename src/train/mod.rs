//! `eqmd train` and `eqmd learning-curve`: fitting the equivariant network to reference
//! energies, forces and stress. The training deck
//! ([`config`], checked by `check`), the data and its statistics ([`data`]), the loss and its exact gradient
//! ([`loss`]), the optimiser ([`optimizer`]), the metrics ([`metrics`]), the checkpoint
//! ([`state`], written when [`saves`] says) and the loop ([`trainer`]); learning curves over training-set sizes
//! with their CSV and figure ([`curves`]); the symmetry study of dipole heads ([`study`]).

mod check;
pub mod config;
pub mod curves;
pub mod data;
pub mod loss;
pub mod metrics;
pub mod optimizer;
pub mod saves;
pub mod state;
pub mod study;
pub mod trainer;
