//! The convolution's channel loops in dual numbers, over separate real and ε planes.
//!
//! Dual numbers lie in memory as (re, ε) pairs, and every vector operation on them first
//! shuffles the two apart. The convolution's loops (the forward pass and its reverse
//! passes to the features and to the radial weights) multiply three duals per channel for
//! every coupling entry of every edge: split once into planes per pass, they run as plain real loops. Each is the
//! same as its generic counterpart in `network`, `reverse` and `reverse_weights`, term by
//! term: for acc += (a·b)·k, re += (a_r b_r) k_r and ε += (a_r b_ε + a_ε b_r) k_r +
//! (a_r b_r) k_ε.

use super::clebsch_gordan::{ClebschGordan, Coupling};
use super::graph::{split_rows_by_atom, Graph};
use super::scalar::{PlaneRef, Planes};
use super::shape::{LayerShape, Shape};
use num_dual::Dual64;
use rayon::prelude::*;

/// acc += (a ⊙ b)·k for rows of channels, in planes (`k` one dual number).
#[inline(always)]
fn triple(
    (acc_r, acc_e): (&mut [f64], &mut [f64]),
    (a_r, a_e): (&[f64], &[f64]),
    (b_r, b_e): (&[f64], &[f64]),
    (k_r, k_e): (f64, f64),
) {
    let n = acc_r.len();
    let (acc_e, a_r, a_e, b_r, b_e) = (&mut acc_e[..n], &a_r[..n], &a_e[..n], &b_r[..n], &b_e[..n]);
    for ch in 0..n {
        let p_r = a_r[ch] * b_r[ch];
        let p_e = a_r[ch] * b_e[ch] + a_e[ch] * b_r[ch];
        acc_r[ch] += p_r * k_r;
        acc_e[ch] += p_e * k_r + p_r * k_e;
    }
}

/// The coupling of a path (its degrees follow the triangle rule).
fn coupling(cg: &ClebschGordan, l1: usize, l2: usize, l3: usize) -> &Coupling {
    cg.get(l1, l2, l3).expect("paths follow the triangle rule")
}

/// The convolution (`Evaluator::convolve`) in dual numbers.
pub(super) fn convolve(
    (shape, cg): (&Shape, &ClebschGordan),
    ls: &LayerShape,
    graph: &Graph,
    (sh, up, weights): (PlaneRef, PlaneRef, PlaneRef),
) -> Vec<Dual64> {
    let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), shape.n_sh);
    let n_w = ls.radial_outputs();
    let norm = shape.message_norm;
    let len = ls.message_len;
    let mut message = Planes::zeros(graph.atoms() * len);
    (message.re.par_chunks_mut(len))
        .zip(message.eps.par_chunks_mut(len))
        .enumerate()
        .for_each(|(i, (m_r, m_e))| {
            for e in graph.edges(i) {
                let j = graph.neighbor[e];
                let (y_r, y_e) = sh.rows(e * n_sh..(e + 1) * n_sh);
                let (w_r, w_e) = weights.rows(graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w);
                let (u_r, u_e) = up.rows(j * fin..(j + 1) * fin);
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let path = ins.path;
                    let cg = coupling(cg, path.l1, path.l2, path.l3);
                    let (o1, o2) = (ls.input.offset(path.l1), path.l2 * path.l2);
                    let w = (&w_r[p * c..(p + 1) * c], &w_e[p * c..(p + 1) * c]);
                    for &(i1, i2, i3, v) in &cg.nonzero {
                        let f = norm * v;
                        let k = (y_r[o2 + i2 as usize] * f, y_e[o2 + i2 as usize] * f);
                        let xo = o1 + i1 as usize * c;
                        let x = (&u_r[xo..xo + c], &u_e[xo..xo + c]);
                        let mo = ins.message + i3 as usize * c;
                        let acc = (&mut m_r[mo..mo + c], &mut m_e[mo..mo + c]);
                        triple(acc, w, x, k);
                    }
                }
            }
        });
    message.into_duals()
}

/// The reverse of the convolution to the up-projected features
/// (`Evaluator::convolve_backward_features`) in dual numbers.
pub(super) fn convolve_backward_features(
    (shape, cg): (&Shape, &ClebschGordan),
    ls: &LayerShape,
    graph: &Graph,
    (sh, radial_w, grad_message): (PlaneRef, PlaneRef, PlaneRef),
) -> Vec<Dual64> {
    let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), shape.n_sh);
    let n_w = ls.radial_outputs();
    let norm = shape.message_norm;
    let len = ls.message_len;
    let mut grad_up = Planes::zeros(graph.atoms() * fin);
    (grad_up.re.par_chunks_mut(fin))
        .zip(grad_up.eps.par_chunks_mut(fin))
        .enumerate()
        .for_each(|(j, (g_r, g_e))| {
            for e in graph.edges(j) {
                let i = graph.neighbor[e];
                let (y_r, y_e) = sh.rows(e * n_sh..(e + 1) * n_sh);
                let (w_r, w_e) = radial_w.rows(graph.bond[e] * n_w..(graph.bond[e] + 1) * n_w);
                let (gm_r, gm_e) = grad_message.rows(i * len..(i + 1) * len);
                for (p, ins) in ls.instructions.iter().enumerate() {
                    let path = ins.path;
                    let cg = coupling(cg, path.l1, path.l2, path.l3);
                    let sign = if path.l2 % 2 == 0 { 1.0 } else { -1.0 };
                    let (o1, o2) = (ls.input.offset(path.l1), path.l2 * path.l2);
                    let w = (&w_r[p * c..(p + 1) * c], &w_e[p * c..(p + 1) * c]);
                    for &(i1, i2, i3, v) in &cg.nonzero {
                        let f = sign * norm * v;
                        let k = (y_r[o2 + i2 as usize] * f, y_e[o2 + i2 as usize] * f);
                        let go = ins.message + i3 as usize * c;
                        let g = (&gm_r[go..go + c], &gm_e[go..go + c]);
                        let xo = o1 + i1 as usize * c;
                        let acc = (&mut g_r[xo..xo + c], &mut g_e[xo..xo + c]);
                        triple(acc, w, g, k);
                    }
                }
            }
        });
    grad_up.into_duals()
}

/// The reverse of the convolution to the radial weights
/// (`Evaluator::convolve_backward_weights`) in dual numbers.
pub(super) fn convolve_backward_weights(
    (shape, cg): (&Shape, &ClebschGordan),
    ls: &LayerShape,
    graph: &Graph,
    (sh, up, grad_message): (PlaneRef, PlaneRef, PlaneRef),
) -> Planes {
    let (c, fin, n_sh) = (ls.input.channels, ls.input.size(), shape.n_sh);
    let n_w = ls.radial_outputs();
    let norm = shape.message_norm;
    let len = ls.message_len;
    let mut grad_w = Planes::zeros(graph.vector.len() * n_w);
    let rows_r = split_rows_by_atom(graph, &mut grad_w.re, n_w);
    let rows_e = split_rows_by_atom(graph, &mut grad_w.eps, n_w);
    (rows_r.into_par_iter().zip(rows_e)).for_each(|((i, gw_r), (_, gw_e))| {
        let (gm_r, gm_e) = grad_message.rows(i * len..(i + 1) * len);
        for (k, e) in graph.edges(i).enumerate() {
            let j = graph.neighbor[e];
            let (y_r, y_e) = sh.rows(e * n_sh..(e + 1) * n_sh);
            let (u_r, u_e) = up.rows(j * fin..(j + 1) * fin);
            let gw_r = &mut gw_r[k * n_w..(k + 1) * n_w];
            let gw_e = &mut gw_e[k * n_w..(k + 1) * n_w];
            for (p, ins) in ls.instructions.iter().enumerate() {
                let path = ins.path;
                let cg = coupling(cg, path.l1, path.l2, path.l3);
                let (o1, o2) = (ls.input.offset(path.l1), path.l2 * path.l2);
                let (acc_r, acc_e) = (&mut gw_r[p * c..(p + 1) * c], &mut gw_e[p * c..(p + 1) * c]);
                for &(i1, i2, i3, v) in &cg.nonzero {
                    let f = norm * v;
                    let k = (y_r[o2 + i2 as usize] * f, y_e[o2 + i2 as usize] * f);
                    let xo = o1 + i1 as usize * c;
                    let x = (&u_r[xo..xo + c], &u_e[xo..xo + c]);
                    let go = ins.message + i3 as usize * c;
                    let g = (&gm_r[go..go + c], &gm_e[go..go + c]);
                    triple((&mut *acc_r, &mut *acc_e), x, g, k);
                }
            }
        }
    });
    grad_w
}
