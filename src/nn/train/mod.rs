//! Training the network on reference energies, forces and stress: the training deck
//! ([`config`]), the data and its statistics ([`data`]), the loss and its exact gradient
//! ([`loss`]), the optimiser ([`optimizer`]), the metrics ([`metrics`]), the checkpoint
//! ([`state`]) and the loop ([`trainer`]); learning curves over training-set sizes
//! ([`curves`]) and their figure ([`plot`]).

pub mod config;
pub mod curves;
pub mod data;
pub mod loss;
pub mod metrics;
pub mod optimizer;
pub mod plot;
pub mod state;
pub mod trainer;
