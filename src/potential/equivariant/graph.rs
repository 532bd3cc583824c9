//! The graph a network pass runs over: atoms (as model species indices) and their directed
//! edges within the cutoff, edges paired into bonds, with per-atom views of per-edge
//! arrays for loops that run in parallel over atoms.

use glam::{DMat3, DVec3};

/// Atoms (as model species indices) and their directed edges within the cutoff.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub species: Vec<usize>,
    /// Edges of atom i are `edge_start[i]..edge_start[i + 1]`.
    pub edge_start: Vec<usize>,
    pub neighbor: Vec<usize>,
    pub vector: Vec<DVec3>,
    /// The bond of each edge: i→j and j→i are one bond and share radial weights.
    pub bond: Vec<usize>,
    /// The two edges of each bond (the second is the reverse of the first).
    pub bond_edges: Vec<[usize; 2]>,
}

impl Graph {
    /// Number of atoms.
    pub fn atoms(&self) -> usize {
        self.species.len()
    }

    /// Forces from the edge gradients g_e = ∂E/∂r_e: r_e = r_j − r_i, so atom i gains g_e
    /// and atom j loses it.
    pub fn forces(&self, edge_grad: &[DVec3]) -> Vec<DVec3> {
        let mut forces = vec![DVec3::ZERO; self.atoms()];
        for i in 0..self.atoms() {
            for e in self.edges(i) {
                forces[i] += edge_grad[e];
                forces[self.neighbor[e]] -= edge_grad[e];
            }
        }
        forces
    }

    /// The virial W = −Σ_e r_e ⊗ ∂E/∂r_e (stress = −W/V).
    pub fn virial(&self, edge_grad: &[DVec3]) -> DMat3 {
        let mut w = DMat3::ZERO;
        for (r, g) in self.vector.iter().zip(edge_grad) {
            w -= DMat3::from_cols(*r * g.x, *r * g.y, *r * g.z);
        }
        w
    }

    /// The edges of atom i.
    pub fn edges(&self, i: usize) -> std::ops::Range<usize> {
        self.edge_start[i]..self.edge_start[i + 1]
    }

    /// The graphs as one, each after the one before: its atoms, edges and bonds keep their
    /// order and are renumbered past the earlier graphs'. No edge joins two of them, so a
    /// pass over the union gives every graph's own results, with matrix products over all
    /// their atoms at once (a training batch of small molecules).
    pub fn union<'a>(graphs: impl IntoIterator<Item = &'a Graph>) -> Graph {
        let mut u = Graph {
            edge_start: vec![0],
            ..Graph::default()
        };
        for g in graphs {
            let (atoms, edges, bonds) = (u.atoms(), u.vector.len(), u.bond_edges.len());
            u.species.extend_from_slice(&g.species);
            u.edge_start
                .extend(g.edge_start[1..].iter().map(|&e| e + edges));
            u.neighbor.extend(g.neighbor.iter().map(|&j| j + atoms));
            u.vector.extend_from_slice(&g.vector);
            u.bond.extend(g.bond.iter().map(|&b| b + bonds));
            u.bond_edges
                .extend(g.bond_edges.iter().map(|&[e, f]| [e + edges, f + edges]));
        }
        u
    }

    /// Pairs every edge with its reverse (j→i with the opposite vector), so that the radial
    /// network runs once per bond. An edge without a reverse (not from a full list) is a
    /// bond of its own.
    pub fn find_bonds(&mut self) {
        let e_total = self.vector.len();
        self.bond = vec![usize::MAX; e_total];
        self.bond_edges.clear();
        for i in 0..self.atoms() {
            for e in self.edges(i) {
                if self.bond[e] != usize::MAX {
                    continue;
                }
                let (j, r) = (self.neighbor[e], self.vector[e]);
                let tol = 1e-9 * (1.0 + r.length());
                let reverse = self.edges(j).find(|&f| {
                    f != e
                        && self.neighbor[f] == i
                        && self.bond[f] == usize::MAX
                        && (self.vector[f] + r).length() <= tol
                });
                let b = self.bond_edges.len();
                self.bond[e] = b;
                match reverse {
                    Some(f) => {
                        self.bond[f] = b;
                        self.bond_edges.push([e, f]);
                    }
                    None => self.bond_edges.push([e, e]),
                }
            }
        }
    }
}

/// Per-atom mutable views of a per-edge array (`a` values per edge).
pub(super) fn split_rows_by_atom<'a, T>(
    graph: &Graph,
    mut x: &'a mut [T],
    a: usize,
) -> Vec<(usize, &'a mut [T])> {
    let mut out = Vec::with_capacity(graph.atoms());
    for i in 0..graph.atoms() {
        let k = graph.edge_start[i + 1] - graph.edge_start[i];
        let (xi, xr) = std::mem::take(&mut x).split_at_mut(k * a);
        out.push((i, xi));
        x = xr;
    }
    out
}
