//! L-BFGS (Nocedal, Math. Comp. 35, 773, 1980) with a backtracking line search.
//!
//! A step is accepted when it lowers the enthalpy by the Armijo condition, or, once the
//! change is below rounding (`noise_floor`), when the slope along the step has not grown
//! in size (it is downhill on a quadratic): tight tolerances stay reachable where energy
//! differences are lost in rounding. A direction that is not downhill, or a line search that
//! fails, drops the memory and starts again from steepest descent.

use super::objective::{Evaluation, Objective};
use super::{axpy, dot, noise_floor, MinimizeError, Outcome, Progress};
use std::collections::VecDeque;

/// Correction pairs kept.
const MEMORY: usize = 12;
/// Sufficient decrease of the Armijo condition.
const C1: f64 = 1e-4;
/// Trial steps of one line search before it gives up.
const MAX_TRIALS: usize = 30;

/// The last correction pairs (s, y, 1 / s·y) and the scale of the initial inverse Hessian.
struct Memory {
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    gamma: Option<f64>,
}

impl Memory {
    /// Adds the pair of a step s and the change y of the gradient, if it has positive
    /// curvature (keeping the inverse Hessian positive definite).
    fn push(&mut self, s: Vec<f64>, y: Vec<f64>) {
        let sy = dot(&s, &y);
        let yy = dot(&y, &y);
        if sy.is_nan() || sy <= 1e-12 * (dot(&s, &s) * yy).sqrt() {
            return;
        }
        self.gamma = Some(sy / yy);
        if self.pairs.len() == MEMORY {
            self.pairs.pop_front();
        }
        self.pairs.push_back((s, y, 1.0 / sy));
    }

    /// The search direction −H g by the two-loop recursion; None with no usable scale yet.
    fn direction(&self, g: &[f64]) -> Option<Vec<f64>> {
        let gamma = self.gamma?;
        let mut d: Vec<f64> = g.iter().map(|x| -x).collect();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y, rho) in self.pairs.iter().rev() {
            let a = rho * dot(s, &d);
            axpy(-a, y, &mut d);
            alphas.push(a);
        }
        d.iter_mut().for_each(|x| *x *= gamma);
        for ((s, y, rho), a) in self.pairs.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &d);
            axpy(a - b, s, &mut d);
        }
        Some(d)
    }
}

/// Runs L-BFGS from `q` until converged or out of iterations.
pub(super) fn run(
    objective: &mut Objective,
    mut q: Vec<f64>,
    progress: &mut Progress,
) -> Result<Outcome, MinimizeError> {
    let settings = *progress.settings;
    let mut current = objective.evaluate(&q, 0)?;
    let mut memory = Memory {
        pairs: VecDeque::new(),
        gamma: None,
    };
    let mut restart = false;
    let mut iteration = 0;
    loop {
        let converged = progress.report(iteration, &current, restart)?;
        if converged || iteration >= settings.max_iterations {
            return Ok(Outcome {
                q,
                evaluation: current,
                iterations: iteration,
                converged,
            });
        }
        iteration += 1;
        restart = false;
        let found = match memory.direction(&current.gradient) {
            Some(d) if dot(&d, &current.gradient) < 0.0 => {
                search(objective, &q, &current, &d, settings.max_step, iteration)?
            }
            _ => None,
        };
        let (next, trial) = match found {
            Some(found) => found,
            None => {
                restart = !memory.pairs.is_empty();
                memory.pairs.clear();
                let d = steepest(
                    objective,
                    &current.gradient,
                    memory.gamma,
                    settings.max_step,
                );
                match search(objective, &q, &current, &d, settings.max_step, iteration)? {
                    Some(found) => found,
                    None => {
                        log::warn!("L-BFGS: no step along the force lowers the enthalpy at iteration {iteration}; stopping");
                        return Ok(Outcome {
                            q,
                            evaluation: current,
                            iterations: iteration - 1,
                            converged: false,
                        });
                    }
                }
            }
        };
        let s: Vec<f64> = next.iter().zip(&q).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = trial
            .gradient
            .iter()
            .zip(&current.gradient)
            .map(|(a, b)| a - b)
            .collect();
        memory.push(s, y);
        (q, current) = (next, trial);
    }
}

/// The steepest-descent direction −γ g, or, when no curvature is known yet, −g scaled to
/// move the atom with the largest force by `max_step`.
fn steepest(objective: &Objective, g: &[f64], gamma: Option<f64>, max_step: f64) -> Vec<f64> {
    let scale = gamma.unwrap_or_else(|| {
        let longest = objective.max_move(g);
        if longest > 0.0 {
            max_step / longest
        } else {
            1.0
        }
    });
    g.iter().map(|x| -scale * x).collect()
}

/// Backtracks along `d` from `q` (evaluated as `start`) for a step that lowers the
/// enthalpy; the first trial is the full step, shortened to move no atom by more than
/// `max_step`. None when every trial fails.
fn search(
    objective: &mut Objective,
    q: &[f64],
    start: &Evaluation,
    d: &[f64],
    max_step: f64,
    iteration: usize,
) -> Result<Option<(Vec<f64>, Evaluation)>, MinimizeError> {
    let slope = dot(&start.gradient, d);
    if slope.is_nan() || slope >= 0.0 {
        return Ok(None);
    }
    let longest = objective.max_move(d);
    let mut alpha = if longest > max_step {
        max_step / longest
    } else {
        1.0
    };
    let noise = noise_floor(start.enthalpy);
    for _ in 0..MAX_TRIALS {
        let mut next = q.to_vec();
        axpy(alpha, d, &mut next);
        let trial = objective.evaluate(&next, iteration)?;
        let rise = trial.enthalpy - start.enthalpy;
        let end_slope = dot(&trial.gradient, d);
        let armijo = rise <= C1 * alpha * slope;
        let flat = rise.abs() <= noise && end_slope.abs() <= slope.abs();
        if armijo || flat {
            return Ok(Some((next, trial)));
        }
        // where the secant of the slope crosses zero, kept within [0.1, 0.5] of the trial
        let secant = if end_slope > slope {
            alpha * slope / (slope - end_slope)
        } else {
            0.5 * alpha
        };
        alpha = secant.clamp(0.1 * alpha, 0.5 * alpha);
    }
    Ok(None)
}
