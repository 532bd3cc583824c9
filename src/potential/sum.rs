//! A sum of potentials is a potential: energies, forces and virials add.

use super::{ForceOutput, Potential};
use crate::neighbors::{ListKind, NeighborList};
use crate::system::System;

/// Several potentials acting together on one system, sharing one neighbour list.
pub struct Sum {
    terms: Vec<Box<dyn Potential>>,
}

impl Sum {
    /// The sum of `terms`.
    pub fn new(terms: Vec<Box<dyn Potential>>) -> Sum {
        Sum { terms }
    }

    /// The summed potentials.
    pub fn terms(&self) -> &[Box<dyn Potential>] {
        &self.terms
    }
}

impl Potential for Sum {
    fn name(&self) -> String {
        let names: Vec<String> = self.terms.iter().map(|t| t.name()).collect();
        format!("sum of [{}]", names.join(", "))
    }

    fn cutoff(&self) -> f64 {
        self.terms.iter().map(|t| t.cutoff()).fold(0.0, f64::max)
    }

    /// Full if any term needs full lists (pair terms read either kind).
    fn list_kind(&self) -> ListKind {
        if self.terms.iter().any(|t| t.list_kind() == ListKind::Full) {
            ListKind::Full
        } else {
            ListKind::Half
        }
    }

    fn compute(&self, system: &System, list: &NeighborList, out: &mut ForceOutput) {
        for t in &self.terms {
            t.compute(system, list, out);
        }
    }
}
