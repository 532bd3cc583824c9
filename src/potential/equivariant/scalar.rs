//! The number type the network is written over: `f64` for energies and forces, and dual
//! numbers (num-dual's `Dual64`) for training. With a dual number the ε part carries the
//! derivative along chosen edge tangents t_e, so a reverse pass to the weights run in duals
//! yields ∂E/∂θ in its real part and ∂/∂θ (Σ_e t_e·∂E/∂r_e) — the force and stress terms of
//! the loss — in its ε part, exactly.

use super::activation::{logistic, silu_derivatives};
use super::mlp::{DualMlpTape, Mlp, MlpTape};
use num_dual::{Dual64, DualNum};

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
    /// The output of the last `radial_forward`, `[batch × out]`.
    fn radial_output(tape: &Self::RadialTape) -> &[Self];
    /// From ∂E/∂output: ∂E/∂input into `grad_input` (if given) and ∂E/∂weights added to
    /// `grad_weights` (if given; the layers' matrices concatenated). Dual numbers serve
    /// the reverse pass to the weights only, and refuse `grad_input`.
    fn radial_backward(
        mlp: &Mlp,
        tape: &Self::RadialTape,
        grad_output: &[Self],
        grad_input: Option<&mut [Self]>,
        grad_weights: Option<&mut [Self]>,
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
    fn radial_output(tape: &MlpTape) -> &[f64] {
        tape.output()
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
        let re: Vec<f64> = input.iter().map(|x| x.re).collect();
        let eps: Vec<f64> = input.iter().map(|x| x.eps).collect();
        mlp.forward_batch_dual(&re, &eps, batch, tape);
    }
    fn radial_output(tape: &DualMlpTape) -> &[Dual64] {
        tape.output()
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
            let re: Vec<f64> = grad_output.iter().map(|x| x.re).collect();
            let eps: Vec<f64> = grad_output.iter().map(|x| x.eps).collect();
            let (g_re, g_eps) = mlp.backward_weights_dual(tape, &re, &eps);
            for ((a, r), e) in flat
                .iter_mut()
                .zip(g_re.iter().flatten())
                .zip(g_eps.iter().flatten())
            {
                *a += Dual64::new(*r, *e);
            }
        }
    }
}
