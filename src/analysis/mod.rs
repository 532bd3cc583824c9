//! Analysis of finished runs (`eqmd analyze`, `eqmd plot`): spectra from the series a run
//! wrote ([`ir`]: the maths; [`files`]: from a trajectory to a CSV and a figure), the
//! radial distribution function ([`rdf`]), the mean square displacement and velocity
//! autocorrelation ([`dynamics`]) of the frames a [`trajectory`] selection picks, written
//! by [`commands`] with the arguments of [`args`], and figures ([`plot`]: curves, and the
//! thermo log one panel per column).

pub mod args;
pub mod commands;
pub mod dynamics;
pub mod files;
pub mod ir;
pub mod plot;
pub mod rdf;
pub mod trajectory;
