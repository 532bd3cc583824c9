//! The network as a `Potential`: builds the graph of bonds within the cutoff from a full
//! neighbour list, runs the forward pass for the energy and the reverse pass for ∂E/∂r of
//! every bond, and turns those into forces and the virial, exactly.

use super::model::Model;
use super::network::{Evaluator, Graph};
use crate::neighbors::{ListKind, NeighborList};
use crate::potential::{ForceOutput, Potential};
use crate::system::System;

/// An equivariant network model applied to the species of one system.
pub struct Equivariant {
    model: Model,
    evaluator: Evaluator,
    /// Model species index of each system species.
    species: Vec<usize>,
}

impl Equivariant {
    /// The model for a system whose species are `names`; every name must be one the model
    /// knows.
    pub fn new(model: Model, names: &[String]) -> Result<Equivariant, String> {
        let species = names
            .iter()
            .map(|n| {
                model
                    .hyper
                    .species
                    .iter()
                    .position(|s| s == n)
                    .ok_or_else(|| {
                        format!(
                            "the model knows species {}, not `{n}`",
                            model.hyper.species.join(", ")
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Equivariant {
            evaluator: Evaluator::new(&model),
            model,
            species,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The dipole of `system` with total charge `total_charge` (the model's dipole head),
    /// or None if the model has none.
    pub fn dipole(
        &self,
        system: &System,
        list: &NeighborList,
        total_charge: f64,
    ) -> Option<super::dipole::Dipole> {
        self.model.hyper.dipole?;
        let graph = self.graph(system, list);
        let (_, tape) = self.evaluator.forward(&self.model, &graph);
        super::dipole::dipole(&self.model, tape.last(), &system.positions, total_charge)
    }

    /// The bonds within the cutoff, from a full list.
    pub fn graph(&self, system: &System, list: &NeighborList) -> Graph {
        build_graph(system, list, &self.species, self.model.hyper.cutoff)
    }
}

/// The graph of bonds shorter than `cutoff` from a full list, atoms labelled by the model
/// species `species[system species]`.
pub fn build_graph(system: &System, list: &NeighborList, species: &[usize], cutoff: f64) -> Graph {
    let cut2 = cutoff * cutoff;
    let n = system.len();
    let mut g = Graph {
        species: system.species.iter().map(|&s| species[s]).collect(),
        edge_start: Vec::with_capacity(n + 1),
        neighbor: Vec::new(),
        vector: Vec::new(),
        bond: Vec::new(),
        bond_edges: Vec::new(),
    };
    g.edge_start.push(0);
    for i in 0..n {
        for nb in list.neighbors(i) {
            let r = system.positions[nb.j] + nb.shift - system.positions[i];
            if r.length_squared() < cut2 {
                g.neighbor.push(nb.j);
                g.vector.push(r);
            }
        }
        g.edge_start.push(g.neighbor.len());
    }
    g.find_bonds();
    g
}

impl Potential for Equivariant {
    fn name(&self) -> String {
        let h = &self.model.hyper;
        format!(
            "equivariant network (L = {}, {} channels, {} layers, rc = {})",
            h.lmax,
            h.channels,
            h.layers,
            crate::potential::short_number(h.cutoff)
        )
    }

    fn cutoff(&self) -> f64 {
        self.model.hyper.cutoff
    }

    fn list_kind(&self) -> ListKind {
        ListKind::Full
    }

    fn compute(&self, system: &System, list: &NeighborList, out: &mut ForceOutput) {
        self.compute_weighted(system, list, None, out);
    }
}

impl Equivariant {
    /// Adds to `out` the energy Σ_i w_i E_i of the atoms' energies E_i, its forces on every
    /// atom and its virial, and w_i E_i as per-atom energies (`atom_weight` w, one per atom;
    /// None: the total energy, as `compute`). With w = 1 on the atoms a process owns and 0
    /// on the padding atoms around them, this is that process's share of the energy of a
    /// domain decomposition, and its forces on the padding atoms are what the owners of
    /// those atoms must add.
    pub fn compute_weighted(
        &self,
        system: &System,
        list: &NeighborList,
        atom_weight: Option<&[f64]>,
        out: &mut ForceOutput,
    ) {
        let graph = self.graph(system, list);
        let (energies, tape) = self.evaluator.forward(&self.model, &graph);
        // a neutral molecule's dipole, from the same pass: none for a periodic system,
        // whose dipole depends on where the atoms were wrapped, nor for a part of one
        // among padding atoms (`atom_weight`)
        if atom_weight.is_none() && system.cell.pbc() == [false; 3] {
            let d = super::dipole::dipole(&self.model, tape.last(), &system.positions, 0.0);
            if let Some(d) = d {
                *out.dipole.get_or_insert(glam::DVec3::ZERO) += d.vector;
            }
        }
        let grad = self
            .evaluator
            .backward_weighted(&self.model, &graph, &tape, atom_weight);
        let weight = |i: usize| atom_weight.map_or(1.0, |w| w[i]);
        out.energy += energies
            .iter()
            .enumerate()
            .map(|(i, e)| weight(i) * e)
            .sum::<f64>();
        if let Some(ae) = &mut out.per_atom_energy {
            for (i, (a, e)) in ae.iter_mut().zip(&energies).enumerate() {
                *a += weight(i) * e;
            }
        }
        for (f, g) in out.forces.iter_mut().zip(graph.forces(&grad)) {
            *f += g;
        }
        out.virial += graph.virial(&grad);
    }
}
