//! Analysis of finished runs (`eqmd analyze`): spectra from the series a run wrote
//! ([`ir`]: the maths; [`files`]: from a trajectory to a CSV and a figure).

pub mod files;
pub mod ir;
