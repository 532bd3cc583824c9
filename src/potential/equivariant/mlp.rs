//! A small dense multilayer perceptron mapping the radial basis of an edge to the
//! weights of its tensor product, with a backward pass for forces and training.
//!
//! Style of e3nn's `FullyConnectedNet`, which NequIP uses for its radial networks: no biases
//! (so a zero basis — an edge beyond the cutoff — gives exactly zero weights), SiLU between
//! layers and none after the last, weights drawn from N(0, 1) with the `1/sqrt(fan_in)`
//! factor applied in the forward pass rather than folded into the initial weights, which keeps
//! the pre-activations of order one at any width and the gradient scale independent of width.
//! Unlike e3nn, SiLU is not rescaled by its second-moment constant (≈ 1.679); weights taken
//! from an e3nn model must absorb that factor into the following layer.
//!
//! Layout: layer `l` maps `sizes[l]` inputs to `sizes[l+1]` outputs with `weights[l]`, a
//! row-major `[sizes[l] × sizes[l+1]]` matrix, so a batch `[batch × in]` times it is
//! `[batch × out]` and every inner loop runs over contiguous memory.

use super::activation::logistic as sigmoid;
use super::gemm::{dgemm, dgemm_set, View, ViewMut};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Dense network `sizes[0] → sizes[1] → … → sizes[last]`, SiLU between layers, no biases.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// Widths of the layers, input first and output last (at least two entries).
    pub sizes: Vec<usize>,
    /// `weights[l]`: row-major `[sizes[l] × sizes[l+1]]`, unscaled (the forward pass applies
    /// `1/sqrt(sizes[l])`).
    pub weights: Vec<Vec<f64>>,
}

/// What the backward pass needs from a batched forward pass; reuse it across calls to avoid
/// reallocating.
#[derive(Debug, Clone, Default)]
pub struct MlpTape {
    batch: usize,
    /// `inputs[l]`: the input of layer `l`, `[batch × sizes[l]]` (the network input for `l = 0`,
    /// the SiLU output of layer `l-1` otherwise).
    inputs: Vec<Vec<f64>>,
    /// `pre[l]`: pre-activation of hidden layer `l` (before SiLU), `[batch × sizes[l+1]]`.
    pre: Vec<Vec<f64>>,
    /// `sigmoid[l]`: `σ(pre[l])`, kept so the backward pass needs no `exp`.
    sigmoid: Vec<Vec<f64>>,
    /// Network output `[batch × sizes[last]]`.
    output: Vec<f64>,
}

impl MlpTape {
    /// An empty tape; [`Mlp::forward_batch`] sizes it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of rows of the last forward pass.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Output of the last forward pass, row-major `[batch × out]`.
    pub fn output(&self) -> &[f64] {
        &self.output
    }
}

/// `out[b × m] = scale · x[b × k] · w[k × m]` (overwrites `out`).
/// Rows per parallel block of the batched products.
const ROWS_PER_BLOCK: usize = 128;

/// `c[rows × n] = alpha · a[rows × k] · b`, where `b` is `[k × n]` row-major, or its
/// transpose stored `[n × k]` when `b_transposed`. Row blocks run in parallel; each block is
/// one matrix product ([`dgemm_set`]).
fn gemm(a: &[f64], k: usize, b: &[f64], n: usize, b_transposed: bool, alpha: f64, c: &mut [f64]) {
    assert!(a.len() % k.max(1) == 0 && b.len() == k * n);
    let rows = a.len() / k.max(1);
    assert_eq!(c.len(), rows * n);
    let strides = if b_transposed { (1, k) } else { (n, 1) };
    c.par_chunks_mut(ROWS_PER_BLOCK * n)
        .zip(a.par_chunks(ROWS_PER_BLOCK * k))
        .for_each(|(c, a)| {
            let m = c.len() / n.max(1);
            let (a, b) = (View::new(a, 0, (k, 1)), View::new(b, 0, strides));
            dgemm_set((m, k, n), alpha, a, b, ViewMut::new(c, 0, (n, 1)));
        });
}

/// `g[k × m] += scale · xᵀ · delta` for `x` `[batch × k]` and `delta` `[batch × m]`.
fn gemm_tn(x: &[f64], k: usize, delta: &[f64], m: usize, scale: f64, g: &mut [f64]) {
    let batch = delta.len() / m.max(1);
    assert!(x.len() == batch * k && g.len() == k * m);
    let (xt, d) = (View::new(x, 0, (1, k)), View::new(delta, 0, (m, 1)));
    dgemm(k, batch, m, scale, xt, d, ViewMut::new(g, 0, (m, 1)));
}

fn matmul(x: &[f64], w: &[f64], k: usize, m: usize, scale: f64, out: &mut [f64]) {
    gemm(x, k, w, m, false, scale, out);
}

impl Mlp {
    /// A network with layer widths `sizes` (input first) and N(0, 1) weights drawn from a
    /// ChaCha8 generator seeded with `seed`, so the same seed gives the same network.
    pub fn new(sizes: &[usize], seed: u64) -> Self {
        assert!(
            sizes.len() >= 2,
            "an MLP needs at least an input and an output size"
        );
        assert!(
            sizes.iter().all(|&s| s > 0),
            "MLP layer sizes must be positive: {sizes:?}"
        );
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weights = sizes
            .windows(2)
            .map(|w| {
                (0..w[0] * w[1])
                    .map(|_| StandardNormal.sample(&mut rng))
                    .collect()
            })
            .collect();
        Mlp {
            sizes: sizes.to_vec(),
            weights,
        }
    }

    /// Number of inputs (the radial basis size).
    pub fn input_size(&self) -> usize {
        self.sizes[0]
    }

    /// Number of outputs (the tensor-product weights per edge).
    pub fn output_size(&self) -> usize {
        *self.sizes.last().expect("MLP has sizes")
    }

    /// Number of trainable parameters: `Σ sizes[l]·sizes[l+1]` (no biases).
    pub fn parameter_count(&self) -> usize {
        self.sizes.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// Zeroed gradient buffers shaped like `weights`, for [`backward_batch`](Self::backward_batch).
    pub fn zero_gradients(&self) -> Vec<Vec<f64>> {
        self.weights.iter().map(|w| vec![0.0; w.len()]).collect()
    }

    /// Output for a single input vector (allocates; use the batch form in hot loops).
    pub fn forward(&self, input: &[f64]) -> Vec<f64> {
        let mut tape = MlpTape::new();
        self.forward_batch(input, 1, &mut tape).to_vec()
    }

    /// Forward pass over `batch` inputs laid out row-major `[batch × in]`; returns the outputs
    /// `[batch × out]` and keeps in `tape` the activations [`backward_batch`](Self::backward_batch)
    /// needs. Each layer is one matrix product.
    pub fn forward_batch<'t>(
        &self,
        input: &[f64],
        batch: usize,
        tape: &'t mut MlpTape,
    ) -> &'t [f64] {
        let layers = self.weights.len();
        assert_eq!(
            input.len(),
            batch * self.input_size(),
            "MLP input must be [batch × {}]",
            self.input_size()
        );
        tape.batch = batch;
        tape.inputs.resize_with(layers, Vec::new);
        tape.pre.resize_with(layers - 1, Vec::new);
        tape.sigmoid.resize_with(layers - 1, Vec::new);
        tape.inputs[0].clear();
        tape.inputs[0].extend_from_slice(input);
        for l in 0..layers {
            let (k, m) = (self.sizes[l], self.sizes[l + 1]);
            let scale = 1.0 / (k as f64).sqrt();
            if l + 1 == layers {
                tape.output.resize(batch * m, 0.0);
                matmul(
                    &tape.inputs[l],
                    &self.weights[l],
                    k,
                    m,
                    scale,
                    &mut tape.output,
                );
            } else {
                let (pre, sig) = (&mut tape.pre[l], &mut tape.sigmoid[l]);
                pre.resize(batch * m, 0.0);
                sig.resize(batch * m, 0.0);
                matmul(&tape.inputs[l], &self.weights[l], k, m, scale, pre);
                let next = &mut tape.inputs[l + 1];
                next.resize(batch * m, 0.0);
                for ((a, s), &z) in next.iter_mut().zip(sig.iter_mut()).zip(pre.iter()) {
                    *s = sigmoid(z);
                    *a = z * *s;
                }
            }
        }
        &tape.output
    }

    /// Backward pass for the forward pass recorded in `tape`: from `grad_output = ∂L/∂output`
    /// (`[batch × out]`) writes `∂L/∂input` into `grad_input` (`[batch × in]`, overwritten;
    /// forces chain it with the basis derivative) and, if given, adds `∂L/∂weights` into
    /// `grad_weights` (shaped like `weights`; accumulated, so batches can be summed).
    pub fn backward_batch(
        &self,
        tape: &MlpTape,
        grad_output: &[f64],
        grad_input: &mut [f64],
        mut grad_weights: Option<&mut [Vec<f64>]>,
    ) {
        let layers = self.weights.len();
        let batch = tape.batch;
        assert_eq!(
            tape.inputs.len(),
            layers,
            "tape does not come from this network"
        );
        assert_eq!(
            grad_output.len(),
            batch * self.output_size(),
            "grad_output must be [batch × out]"
        );
        assert_eq!(
            grad_input.len(),
            batch * self.input_size(),
            "grad_input must be [batch × in]"
        );
        if let Some(g) = grad_weights.as_deref() {
            assert!(
                g.len() == layers && g.iter().zip(&self.weights).all(|(g, w)| g.len() == w.len()),
                "grad_weights must be shaped like weights"
            );
        }
        // delta = ∂L/∂(output of layer l), [batch × sizes[l+1]]
        let mut delta = grad_output.to_vec();
        let mut below = Vec::new();
        for l in (0..layers).rev() {
            let (k, m) = (self.sizes[l], self.sizes[l + 1]);
            let scale = 1.0 / (k as f64).sqrt();
            let w = &self.weights[l];
            let x = &tape.inputs[l];
            if let Some(g) = grad_weights.as_deref_mut() {
                gemm_tn(x, k, &delta, m, scale, &mut g[l]);
            }
            // ∂L/∂x = scale · delta · Wᵀ
            let out: &mut [f64] = if l == 0 {
                &mut *grad_input
            } else {
                below.resize(batch * k, 0.0);
                &mut below
            };
            gemm(&delta, m, w, k, true, scale, out);
            if l > 0 {
                // through SiLU: SiLU'(z) = σ(z)(1 + z(1 − σ(z)))
                let (z, s) = (&tape.pre[l - 1], &tape.sigmoid[l - 1]);
                for ((g, &z), &s) in below.iter_mut().zip(z).zip(s) {
                    *g *= s * (1.0 + z * (1.0 - s));
                }
                std::mem::swap(&mut delta, &mut below);
            }
        }
    }
}

/// What the weight gradients of a dual-number pass need: the real pass's tape and the
/// tangents (ε parts) of every layer's input and pre-activation.
#[derive(Debug, Clone, Default)]
pub struct DualMlpTape {
    real: MlpTape,
    /// Tangent of the input of layer l, `[batch × sizes[l]]`.
    inputs: Vec<Vec<f64>>,
    /// Tangent of the pre-activation of hidden layer l.
    pre: Vec<Vec<f64>>,
    /// The output's tangents (its real parts are the real pass's output).
    output_eps: Vec<f64>,
}

impl DualMlpTape {
    /// A tape whose real pass is `real`, for [`Mlp::forward_tangent`].
    pub fn after(real: MlpTape) -> Self {
        DualMlpTape {
            real,
            ..Self::default()
        }
    }

    /// Output of the last dual forward pass, as its real parts and its tangents.
    pub fn output_planes(&self) -> (&[f64], &[f64]) {
        (&self.real.output, &self.output_eps)
    }
}

impl Mlp {
    /// Forward pass in dual numbers, inputs given as real parts `re` and tangents `eps`:
    /// the real part is the ordinary pass, the tangent z' = s·a'W, a' = SiLU'(z)·z'.
    pub fn forward_batch_dual(
        &self,
        re: &[f64],
        eps: &[f64],
        batch: usize,
        tape: &mut DualMlpTape,
    ) {
        self.forward_batch(re, batch, &mut tape.real);
        self.forward_tangent(eps, tape);
    }

    /// The tangent half of [`forward_batch_dual`](Self::forward_batch_dual), the real
    /// pass being in `tape` already (a [`DualMlpTape::after`] the real pass of training's
    /// force evaluation, over the same inputs).
    pub fn forward_tangent(&self, eps: &[f64], tape: &mut DualMlpTape) {
        let batch = tape.real.batch;
        assert_eq!(
            eps.len(),
            batch * self.input_size(),
            "tangents must be [batch × {}] as the real pass",
            self.input_size()
        );
        let layers = self.weights.len();
        tape.inputs.resize_with(layers, Vec::new);
        tape.pre.resize_with(layers - 1, Vec::new);
        tape.inputs[0].clear();
        tape.inputs[0].extend_from_slice(eps);
        let mut out_eps = Vec::new();
        for l in 0..layers {
            let (k, m) = (self.sizes[l], self.sizes[l + 1]);
            let scale = 1.0 / (k as f64).sqrt();
            let mut z = vec![0.0; batch * m];
            matmul(&tape.inputs[l], &self.weights[l], k, m, scale, &mut z);
            if l + 1 == layers {
                out_eps = z;
            } else {
                let (zr, s) = (&tape.real.pre[l], &tape.real.sigmoid[l]);
                tape.inputs[l + 1] = z
                    .iter()
                    .zip(zr)
                    .zip(s)
                    .map(|((&dz, &z), &s)| s * (1.0 + z * (1.0 - s)) * dz)
                    .collect();
                tape.pre[l] = z;
            }
        }
        tape.output_eps = out_eps;
    }

    /// The tangents (ε parts) of the weight gradients of a dual forward pass, for the dual
    /// `∂E/∂output` given as `grad_re`, `grad_eps`. Their real parts, ∂E/∂θ itself, are
    /// what [`backward_batch`](Self::backward_batch) gives; training reads only the
    /// tangents, so they are not formed.
    pub fn backward_weights_tangent(
        &self,
        tape: &DualMlpTape,
        grad_re: &[f64],
        grad_eps: &[f64],
    ) -> Vec<Vec<f64>> {
        let layers = self.weights.len();
        let batch = tape.real.batch;
        let mut g_eps = self.zero_gradients();
        let (mut delta, mut delta_eps) = (grad_re.to_vec(), grad_eps.to_vec());
        for l in (0..layers).rev() {
            let (k, m) = (self.sizes[l], self.sizes[l + 1]);
            let scale = 1.0 / (k as f64).sqrt();
            let (x, x_eps) = (&tape.real.inputs[l], &tape.inputs[l]);
            gemm_tn(x_eps, k, &delta, m, scale, &mut g_eps[l]);
            gemm_tn(x, k, &delta_eps, m, scale, &mut g_eps[l]);
            if l == 0 {
                break;
            }
            let w = &self.weights[l];
            let mut below = vec![0.0; batch * k];
            let mut below_eps = vec![0.0; batch * k];
            gemm(&delta, m, w, k, true, scale, &mut below);
            gemm(&delta_eps, m, w, k, true, scale, &mut below_eps);
            let (z, s, z_eps) = (
                &tape.real.pre[l - 1],
                &tape.real.sigmoid[l - 1],
                &tape.pre[l - 1],
            );
            for q in 0..batch * k {
                let (z, s) = (z[q], s[q]);
                let d1 = s * (1.0 + z * (1.0 - s));
                let d2 = s * (1.0 - s) * (2.0 + z * (1.0 - 2.0 * s));
                below_eps[q] = below_eps[q] * d1 + below[q] * d2 * z_eps[q];
                below[q] *= d1;
            }
            delta = below;
            delta_eps = below_eps;
        }
        g_eps
    }
}
