//! Training the network on reference energies, forces and stress: the training deck
//! ([`config`]), the data and its statistics ([`data`]), the loss and its exact gradient
//! ([`loss`]), the optimiser ([`optimizer`]), the metrics ([`metrics`]), the checkpoint
//! ([`state`]) and the loop ([`trainer`]).

pub mod config;
pub mod data;
pub mod loss;
pub mod metrics;
pub mod optimizer;
pub mod state;
pub mod trainer;
