//! The number type the network is written over: `f64` for energies and forces, and dual
//! numbers (num-dual's `Dual64`) for training. With a dual number the ε part carries the
//! derivative along chosen edge tangents t_e, so a reverse pass to the weights run in duals
//! yields ∂/∂θ (Σ_e t_e·∂E/∂r_e) — the force and stress terms of the loss — in its ε part,
//! exactly. Its real part would be ∂E/∂θ, which training does not read: the weight
//! gradients leave it unformed where that saves work.

use super::activation::{logistic, silu_derivatives};
use super::gemm::{dgemm, View, ViewMut};
use super::mlp::{DualMlpTape, Mlp, MlpTape};
use num_dual::{Dual64, DualNum};
use std::borrow::Cow;

/// A scalar of the network: the arithmetic of `DualNum`, the activations with their
/// derivatives, and the radial MLP, which each type runs on matrix products of its own.
pub trait Real: DualNum<f64> + Copy + Send + Sync {
    /// What the radial MLP keeps for its reverse pass.
    type RadialTape: Default + Send + Sync;

    /// SiLU x·σ(x) and its derivative.
    fn silu(self) -> (Self, Self);
    /// The logistic σ(x) and its derivative.
    fn sigmoid(self) -> (Self, Self);
    /// The radial MLP over `batch` rows of `input`; the output stays in the tape.
    fn radial_forward(mlp: &Mlp, input: &[Self], batch: usize, tape: &mut Self::RadialTape);
    /// [`radial_forward`](Self::radial_forward) when the real pass over the real parts of
    /// `input` was run already (`real`, by the same MLP): reals take it as it is, dual
    /// numbers add the tangents only.
    fn radial_forward_after(mlp: &Mlp, real: MlpTape, input: &[Self], tape: &mut Self::RadialTape);
    /// The output of the last `radial_forward`, `[batch × out]` (dual numbers assemble it
    /// from their planes; the dual passes read the planes, [`radial_planes`](Self::radial_planes)).
    fn radial_output(tape: &Self::RadialTape) -> Cow<'_, [Self]>;
    /// That output as real and ε planes, if this is the dual type (None for reals).
    fn radial_planes(tape: &Self::RadialTape) -> Option<PlaneRef<'_>>;
    /// From ∂E/∂output: ∂E/∂input into `grad_input` (if given) and ∂E/∂weights added to
    /// `grad_weights` (if given; the layers' matrices concatenated). Dual numbers serve
    /// the reverse pass to the weights only, refuse `grad_input`, and add the ε parts
    /// alone: the real parts are ∂E/∂θ, which training never reads.
    fn radial_backward(
        mlp: &Mlp,
        tape: &Self::RadialTape,
        grad_output: &[Self],
        grad_input: Option<&mut [Self]>,
        grad_weights: Option<&mut [Self]>,
    );
    /// [`radial_backward`](Self::radial_backward) to the weights alone, from ∂E/∂output
    /// given as real and ε planes: dual numbers add the ε parts (as there), reals the
    /// gradient of the real plane.
    fn radial_weight_grad(
        mlp: &Mlp,
        tape: &Self::RadialTape,
        grad_output: PlaneRef,
        grad_weights: &mut [Self],
    );
    /// `x` as dual numbers, if this is the dual type (None for reals): the convolution's
    /// and the product basis's loops take a path of their own in dual numbers (`planar`,
    /// `product_planar`).
    fn as_duals(x: &[Self]) -> Option<&[Dual64]>;
    /// The mutable counterpart of [`as_duals`](Self::as_duals).
    fn as_duals_mut(x: &mut [Self]) -> Option<&mut [Dual64]>;
    /// Dual numbers as this type, if it is the dual type (None for reals).
    fn from_duals(x: Vec<Dual64>) -> Option<Vec<Self>>;
    /// C += α·A·B for strided matrices of this type, B real (A `[m × k]`, B `[k × n]`).
    fn gemm_real(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: View<Self>,
        b: View<f64>,
        c: ViewMut<Self>,
    );
    /// C += α·A·B into a weight gradient C: in full for reals; for dual numbers the ε part
    /// alone, the part training reads (the real part, ∂E/∂θ, is left as it is).
    fn gemm_weight_grad(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: View<Self>,
        b: View<Self>,
        c: ViewMut<Self>,
    );
}

impl Real for f64 {
    type RadialTape = MlpTape;

    fn silu(self) -> (f64, f64) {
        let (y, d, _) = silu_derivatives(self);
        (y, d)
    }
    fn sigmoid(self) -> (f64, f64) {
        let s = logistic(self);
        (s, s * (1.0 - s))
    }
    fn radial_forward(mlp: &Mlp, input: &[f64], batch: usize, tape: &mut MlpTape) {
        mlp.forward_batch(input, batch, tape);
    }
    fn radial_forward_after(mlp: &Mlp, real: MlpTape, input: &[f64], tape: &mut MlpTape) {
        debug_assert_eq!(real.batch() * mlp.input_size(), input.len());
        *tape = real;
    }
    fn radial_output(tape: &MlpTape) -> Cow<'_, [f64]> {
        Cow::Borrowed(tape.output())
    }
    fn radial_planes(_: &MlpTape) -> Option<PlaneRef<'_>> {
        None
    }
    fn radial_backward(
        mlp: &Mlp,
        tape: &MlpTape,
        grad_output: &[f64],
        grad_input: Option<&mut [f64]>,
        grad_weights: Option<&mut [f64]>,
    ) {
        let mut scratch = Vec::new();
        let grad_input = match grad_input {
            Some(g) => g,
            None => {
                scratch.resize(tape.batch() * mlp.input_size(), 0.0);
                &mut scratch[..]
            }
        };
        match grad_weights {
            Some(flat) => {
                let mut g = mlp.zero_gradients();
                mlp.backward_batch(tape, grad_output, grad_input, Some(&mut g));
                for (a, b) in flat.iter_mut().zip(g.iter().flatten()) {
                    *a += b;
                }
            }
            None => mlp.backward_batch(tape, grad_output, grad_input, None),
        }
    }
    fn radial_weight_grad(mlp: &Mlp, tape: &MlpTape, grad: PlaneRef, grad_weights: &mut [f64]) {
        Self::radial_backward(mlp, tape, grad.re, None, Some(grad_weights));
    }
    fn as_duals(_: &[f64]) -> Option<&[Dual64]> {
        None
    }
    fn as_duals_mut(_: &mut [f64]) -> Option<&mut [Dual64]> {
        None
    }
    fn from_duals(_: Vec<Dual64>) -> Option<Vec<f64>> {
        None
    }
    fn gemm_real(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: View<f64>,
        b: View<f64>,
        c: ViewMut<f64>,
    ) {
        dgemm(m, k, n, alpha, a, b, c);
    }
    fn gemm_weight_grad(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: View<f64>,
        b: View<f64>,
        c: ViewMut<f64>,
    ) {
        dgemm(m, k, n, alpha, a, b, c);
    }
}

impl Real for Dual64 {
    type RadialTape = DualMlpTape;

    fn silu(self) -> (Dual64, Dual64) {
        let (y, d1, d2) = silu_derivatives(self.re);
        (
            Dual64::new(y, d1 * self.eps),
            Dual64::new(d1, d2 * self.eps),
        )
    }
    fn sigmoid(self) -> (Dual64, Dual64) {
        let s = logistic(self.re);
        let d1 = s * (1.0 - s);
        let d2 = d1 * (1.0 - 2.0 * s);
        (
            Dual64::new(s, d1 * self.eps),
            Dual64::new(d1, d2 * self.eps),
        )
    }
    fn radial_forward(mlp: &Mlp, input: &[Dual64], batch: usize, tape: &mut DualMlpTape) {
        let x = Planes::of(input);
        mlp.forward_batch_dual(&x.re, &x.eps, batch, tape);
    }
    fn radial_forward_after(mlp: &Mlp, real: MlpTape, input: &[Dual64], tape: &mut DualMlpTape) {
        let eps: Vec<f64> = input.iter().map(|x| x.eps).collect();
        *tape = DualMlpTape::after(real);
        mlp.forward_tangent(&eps, tape);
    }
    fn radial_output(tape: &DualMlpTape) -> Cow<'_, [Dual64]> {
        let (re, eps) = tape.output_planes();
        Cow::Owned(
            re.iter()
                .zip(eps)
                .map(|(&r, &e)| Dual64::new(r, e))
                .collect(),
        )
    }
    fn radial_planes(tape: &DualMlpTape) -> Option<PlaneRef<'_>> {
        let (re, eps) = tape.output_planes();
        Some(PlaneRef { re, eps })
    }
    fn radial_backward(
        mlp: &Mlp,
        tape: &DualMlpTape,
        grad_output: &[Dual64],
        grad_input: Option<&mut [Dual64]>,
        grad_weights: Option<&mut [Dual64]>,
    ) {
        assert!(
            grad_input.is_none(),
            "the dual radial MLP gives weight gradients only"
        );
        if let Some(flat) = grad_weights {
            let g = Planes::of(grad_output);
            Self::radial_weight_grad(mlp, tape, g.view(), flat);
        }
    }
    fn radial_weight_grad(
        mlp: &Mlp,
        tape: &DualMlpTape,
        grad: PlaneRef,
        grad_weights: &mut [Dual64],
    ) {
        let g_eps = mlp.backward_weights_tangent(tape, grad.re, grad.eps);
        for (a, e) in grad_weights.iter_mut().zip(g_eps.iter().flatten()) {
            a.eps += e;
        }
    }
    fn as_duals(x: &[Dual64]) -> Option<&[Dual64]> {
        Some(x)
    }
    fn as_duals_mut(x: &mut [Dual64]) -> Option<&mut [Dual64]> {
        Some(x)
    }
    fn from_duals(x: Vec<Dual64>) -> Option<Vec<Dual64>> {
        Some(x)
    }
    fn gemm_real(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: View<Dual64>,
        b: View<f64>,
        c: ViewMut<Dual64>,
    ) {
        let mut c = c;
        for part in [0, 1] {
            dgemm(m, k, n, alpha, plane(&a, part), b, plane_mut(&mut c, part));
        }
    }
    fn gemm_weight_grad(
        m: usize,
        k: usize,
        n: usize,
        alpha: f64,
        a: View<Dual64>,
        b: View<Dual64>,
        c: ViewMut<Dual64>,
    ) {
        // (a + εa')(b + εb') = ab + ε(ab' + a'b): the ε part only
        let (mut c, re, eps) = (c, 0, 1);
        dgemm(
            m,
            k,
            n,
            alpha,
            plane(&a, re),
            plane(&b, eps),
            plane_mut(&mut c, eps),
        );
        dgemm(
            m,
            k,
            n,
            alpha,
            plane(&a, eps),
            plane(&b, re),
            plane_mut(&mut c, eps),
        );
    }
}

/// A slice of dual numbers as its real and ε planes: loops over separate real arrays run
/// at the width of plain real ones, without the shuffles interleaved pairs cost in every
/// vector operation (the radial MLP's products, `planar`, `product_planar`).
pub(super) struct Planes {
    pub(super) re: Vec<f64>,
    pub(super) eps: Vec<f64>,
}

impl Planes {
    /// The planes of `x`.
    pub(super) fn of(x: &[Dual64]) -> Planes {
        Planes {
            re: x.iter().map(|d| d.re).collect(),
            eps: x.iter().map(|d| d.eps).collect(),
        }
    }

    /// `n` zeros in both planes.
    pub(super) fn zeros(n: usize) -> Planes {
        Planes {
            re: vec![0.0; n],
            eps: vec![0.0; n],
        }
    }

    /// The dual numbers again.
    pub(super) fn into_duals(self) -> Vec<Dual64> {
        (self.re.into_iter().zip(self.eps))
            .map(|(r, e)| Dual64::new(r, e))
            .collect()
    }

    /// The dual numbers, written over `out`.
    pub(super) fn write_to(&self, out: &mut [Dual64]) {
        for ((o, &r), &e) in out.iter_mut().zip(&self.re).zip(&self.eps) {
            *o = Dual64::new(r, e);
        }
    }

    /// Elements `r` of both planes.
    pub(super) fn rows(&self, r: std::ops::Range<usize>) -> (&[f64], &[f64]) {
        (&self.re[r.clone()], &self.eps[r])
    }

    /// Both planes, borrowed.
    pub(super) fn view(&self) -> PlaneRef<'_> {
        PlaneRef {
            re: &self.re,
            eps: &self.eps,
        }
    }
}

/// Real and ε planes borrowed from wherever they lie (a [`Planes`], or the radial MLP's
/// tape, which keeps its output's tangents as a plane of their own).
#[derive(Clone, Copy, Debug)]
pub struct PlaneRef<'a> {
    pub(super) re: &'a [f64],
    pub(super) eps: &'a [f64],
}

impl<'a> PlaneRef<'a> {
    /// Elements `r` of both planes.
    pub(super) fn rows(&self, r: std::ops::Range<usize>) -> (&'a [f64], &'a [f64]) {
        (&self.re[r.clone()], &self.eps[r])
    }
}

// A dual number is two f64 side by side, real part first: the planes below rely on it.
const _: () = assert!(
    std::mem::size_of::<Dual64>() == 16
        && std::mem::align_of::<Dual64>() == 8
        && std::mem::offset_of!(Dual64, re) == 0
        && std::mem::offset_of!(Dual64, eps) == 8
);

/// The slice of dual numbers as the f64 array it is in memory.
fn as_reals(x: &[Dual64]) -> &[f64] {
    // SAFETY: Dual64 is exactly two f64 (re, eps) without padding, as asserted above, so
    // the memory of `x` is 2·len initialised f64 of the same alignment.
    unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<f64>(), 2 * x.len()) }
}

/// The mutable counterpart of [`as_reals`].
fn as_reals_mut(x: &mut [Dual64]) -> &mut [f64] {
    // SAFETY: as in `as_reals`; the borrow of `x` is handed on whole.
    unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<f64>(), 2 * x.len()) }
}

/// The real (`part` 0) or ε (1) plane of a dual matrix view, as a real view.
fn plane<'a>(v: &View<'a, Dual64>, part: usize) -> View<'a, f64> {
    View {
        data: as_reals(v.data),
        offset: 2 * v.offset + part,
        rs: 2 * v.rs,
        cs: 2 * v.cs,
    }
}

/// The mutable counterpart of [`plane`].
fn plane_mut<'b>(v: &'b mut ViewMut<'_, Dual64>, part: usize) -> ViewMut<'b, f64> {
    ViewMut {
        offset: 2 * v.offset + part,
        rs: 2 * v.rs,
        cs: 2 * v.cs,
        data: as_reals_mut(v.data),
    }
}
