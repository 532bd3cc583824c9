//! Adam (and AMSGrad) with gradient-norm clipping, an exponential moving average of the
//! weights, and the learning-rate schedules.

use super::config::{OptimizerSection, ScheduleKind, ScheduleSection, ScheduleSpan};
use rayon::prelude::*;
use std::ops::Range;

/// Adam's state: first and second moments (and AMSGrad's running maximum).
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    pub amsgrad: bool,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
    pub step: u64,
    pub m: Vec<f64>,
    pub v: Vec<f64>,
    pub v_max: Vec<f64>,
}

impl Adam {
    /// Zero moments for `n` weights; β = (0.9, 0.999), ε = 1e-8.
    pub fn new(n: usize, amsgrad: bool) -> Adam {
        Adam {
            amsgrad,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            step: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
            v_max: if amsgrad { vec![0.0; n] } else { Vec::new() },
        }
    }

    /// One step of size `lr` along the bias-corrected moments of `grad`. Each weight's
    /// step is its own, so blocks of weights run on the thread pool with the same result.
    pub fn update(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.epsilon);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let step = |th: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64], v_max: &mut [f64]| {
            for k in 0..th.len() {
                m[k] = b1 * m[k] + (1.0 - b1) * g[k];
                v[k] = b2 * v[k] + (1.0 - b2) * g[k] * g[k];
                let v = match v_max.get_mut(k) {
                    Some(top) => {
                        *top = top.max(v[k]);
                        *top
                    }
                    None => v[k],
                };
                th[k] -= lr * (m[k] / c1) / ((v / c2).sqrt() + eps);
            }
        };
        let blocks = (theta.par_chunks_mut(WEIGHTS_PER_BLOCK))
            .zip(grad.par_chunks(WEIGHTS_PER_BLOCK))
            .zip(self.m.par_chunks_mut(WEIGHTS_PER_BLOCK))
            .zip(self.v.par_chunks_mut(WEIGHTS_PER_BLOCK));
        if self.amsgrad {
            (blocks.zip(self.v_max.par_chunks_mut(WEIGHTS_PER_BLOCK)))
                .for_each(|((((th, g), m), v), top)| step(th, g, m, v, top));
        } else {
            blocks.for_each(|(((th, g), m), v)| step(th, g, m, v, &mut []));
        }
    }
}

/// Weights per parallel block of the optimiser's element-wise steps.
pub const WEIGHTS_PER_BLOCK: usize = 8192;

/// Scales `grad` down to Euclidean norm `max` if it is longer (`max` ≤ 0: no clipping);
/// returns the norm before clipping.
pub fn clip_norm(grad: &mut [f64], max: f64) -> f64 {
    let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    if max > 0.0 && norm > max {
        let f = max / norm;
        grad.iter_mut().for_each(|g| *g *= f);
    }
    norm
}

/// Adds λθ to the gradient over `ranges` of the weights: L2 decay coupled to the gradient,
/// as torch's Adam applies `weight_decay`, after clipping.
pub fn weight_decay(grad: &mut [f64], theta: &[f64], ranges: &[Range<usize>], lambda: f64) {
    if lambda == 0.0 {
        return;
    }
    for r in ranges {
        for (g, x) in grad[r.clone()].iter_mut().zip(&theta[r.clone()]) {
            *g += lambda * x;
        }
    }
}

/// θ̄ ← d θ̄ + (1 − d) θ, with the decay warmed up as min(d, (1 + t)/(10 + t)) so the first
/// steps are not dominated by the initial weights.
pub fn update_average(average: &mut [f64], theta: &[f64], decay: f64, step: u64) {
    let t = step as f64;
    let d = decay.min((1.0 + t) / (10.0 + t));
    (average.par_chunks_mut(WEIGHTS_PER_BLOCK))
        .zip(theta.par_chunks(WEIGHTS_PER_BLOCK))
        .for_each(|(a, x)| {
            for (a, &x) in a.iter_mut().zip(x) {
                *a = d * *a + (1.0 - d) * x;
            }
        });
}

/// The learning-rate schedule and its state.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Constant,
    /// Multiply by `factor` after `patience` epochs without improvement, down to `min`.
    Plateau {
        factor: f64,
        patience: usize,
        min: f64,
        best: f64,
        bad_epochs: usize,
    },
    /// Half a cosine from the initial rate to `min` over `epochs`.
    Cosine {
        initial: f64,
        min: f64,
        epochs: usize,
    },
    /// Half a cosine from the initial rate to `min` over `seconds` of training time.
    CosineTime {
        initial: f64,
        min: f64,
        seconds: f64,
    },
}

/// Half a cosine from `initial` at x = 0 to `min` at x ≥ 1.
fn cosine(initial: f64, min: f64, x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    min + 0.5 * (initial - min) * (1.0 + (std::f64::consts::PI * x).cos())
}

impl Schedule {
    /// The schedule a deck's `[schedule]` section asks for, starting at the optimiser's rate.
    pub fn of(section: &ScheduleSection, opt: &OptimizerSection) -> Schedule {
        match section.kind {
            ScheduleKind::Plateau => Schedule::Plateau {
                factor: section.factor,
                patience: section.patience,
                min: section.min,
                best: f64::INFINITY,
                bad_epochs: 0,
            },
            ScheduleKind::Cosine if section.over == ScheduleSpan::Minutes => Schedule::CosineTime {
                initial: opt.learning_rate,
                min: section.min,
                seconds: 60.0 * opt.max_minutes,
            },
            ScheduleKind::Cosine => Schedule::Cosine {
                initial: opt.learning_rate,
                min: section.min,
                epochs: opt.epochs,
            },
            ScheduleKind::Constant => Schedule::Constant,
        }
    }
    /// The learning rate for the next epoch, after one with validation loss `val_loss`
    /// (`epoch` epochs and `elapsed` seconds of training done, current rate `lr`).
    pub fn next(&mut self, lr: f64, epoch: usize, elapsed: f64, val_loss: f64) -> f64 {
        match self {
            Schedule::Constant => lr,
            Schedule::Plateau {
                factor,
                patience,
                min,
                best,
                bad_epochs,
            } => {
                if val_loss < *best {
                    *best = val_loss;
                    *bad_epochs = 0;
                    lr
                } else {
                    *bad_epochs += 1;
                    if *bad_epochs > *patience {
                        *bad_epochs = 0;
                        (lr * *factor).max(*min)
                    } else {
                        lr
                    }
                }
            }
            Schedule::Cosine {
                initial,
                min,
                epochs,
            } => cosine(*initial, *min, epoch as f64 / (*epochs).max(1) as f64),
            Schedule::CosineTime {
                initial,
                min,
                seconds,
            } => cosine(*initial, *min, elapsed / seconds.max(f64::MIN_POSITIVE)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adam's and AMSGrad's steps over blocks of weights on a pool of threads are the
    /// formula's, weight by weight, to the bit, across block boundaries and a short last
    /// block.
    #[test]
    fn blocked_steps_are_the_formula_to_the_bit() {
        let n = 2 * WEIGHTS_PER_BLOCK + 123;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for amsgrad in [false, true] {
            let mut theta: Vec<f64> = (0..n).map(|k| (k as f64 * 0.37).sin()).collect();
            let mut reference = theta.clone();
            let (mut m, mut v, mut top) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let mut adam = Adam::new(n, amsgrad);
            for t in 1..=3 {
                let g: Vec<f64> = (0..n).map(|k| (k as f64 * 0.11 + t as f64).cos()).collect();
                pool.install(|| adam.update(&mut theta, &g, 1e-2));
                let (c1, c2) = (1.0 - 0.9f64.powi(t), 1.0 - 0.999f64.powi(t));
                for k in 0..n {
                    m[k] = 0.9 * m[k] + (1.0 - 0.9) * g[k];
                    v[k] = 0.999 * v[k] + (1.0 - 0.999) * g[k] * g[k];
                    top[k] = f64::max(top[k], v[k]);
                    let vk = if amsgrad { top[k] } else { v[k] };
                    reference[k] -= 1e-2 * (m[k] / c1) / ((vk / c2).sqrt() + 1e-8);
                }
            }
            assert_eq!(theta, reference, "amsgrad {amsgrad}");
            assert_eq!(adam.m, m);
        }
        let (mut average, theta) = (vec![1.0; n], vec![2.0; n]);
        pool.install(|| update_average(&mut average, &theta, 0.99, 100));
        let d = 0.99f64.min(101.0 / 110.0);
        assert!(average.iter().all(|&a| a == d * 1.0 + (1.0 - d) * 2.0));
    }

    #[test]
    fn adam_minimises_a_quadratic() {
        let mut theta = vec![3.0, -2.0];
        let mut adam = Adam::new(2, false);
        for _ in 0..2000 {
            let g: Vec<f64> = theta.iter().map(|x| 2.0 * x).collect();
            adam.update(&mut theta, &g, 0.05);
        }
        assert!(theta.iter().all(|x| x.abs() < 1e-3), "{theta:?}");
    }

    #[test]
    fn first_adam_step_has_the_learning_rate_as_length() {
        let mut theta = vec![0.0];
        let mut adam = Adam::new(1, true);
        adam.update(&mut theta, &[123.0], 0.01);
        assert!((theta[0] + 0.01).abs() < 1e-9);
    }

    #[test]
    fn clipping_keeps_direction_and_caps_norm() {
        let mut g = vec![3.0, 4.0];
        assert_eq!(clip_norm(&mut g, 1.0), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
    }

    #[test]
    fn plateau_lowers_the_rate_after_patience() {
        let mut s = Schedule::Plateau {
            factor: 0.5,
            patience: 2,
            min: 0.1,
            best: f64::INFINITY,
            bad_epochs: 0,
        };
        let mut lr = 1.0;
        for (e, loss) in [1.0, 2.0, 2.0, 2.0].iter().enumerate() {
            lr = s.next(lr, e, 0.0, *loss);
        }
        assert_eq!(lr, 0.5);
    }

    #[test]
    fn cosine_ends_at_its_minimum() {
        let mut s = Schedule::Cosine {
            initial: 1.0,
            min: 0.01,
            epochs: 10,
        };
        assert!((s.next(1.0, 10, 0.0, 0.0) - 0.01).abs() < 1e-15);
        assert!((s.next(1.0, 5, 0.0, 0.0) - 0.505).abs() < 1e-12);
    }

    #[test]
    fn cosine_over_time_follows_the_clock_not_the_epochs() {
        let mut s = Schedule::CosineTime {
            initial: 1.0,
            min: 0.01,
            seconds: 100.0,
        };
        assert!((s.next(1.0, 1, 50.0, 0.0) - 0.505).abs() < 1e-12);
        assert!((s.next(1.0, 1000, 25.0, 0.0) - s.next(1.0, 1, 25.0, 0.0)).abs() < 1e-15);
        assert!((s.next(1.0, 2, 100.0, 0.0) - 0.01).abs() < 1e-15);
        assert!((s.next(1.0, 3, 250.0, 0.0) - 0.01).abs() < 1e-15);
    }
}
