//! Training the network on reference energies, forces and stress.

pub mod data;
pub mod loss;
