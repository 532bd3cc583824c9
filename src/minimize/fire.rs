//! FIRE, the fast inertial relaxation engine (Bitzek et al., PRL 97, 170201, 2006), with
//! ASE's defaults and unit masses: damped dynamics whose velocity is steered toward the
//! force, sped up while it runs downhill and stopped dead when it turns uphill.
//!
//! As ASE's `downhill_check`, a step that raises the enthalpy is undone before the restart,
//! so the enthalpy of the accepted states never rises (beyond rounding, `noise_floor`).

use super::objective::{Evaluation, Objective};
use super::{axpy, dot, noise_floor, MinimizeError, Outcome, Progress};

/// First time step (length² / energy with unit masses, as ASE).
const DT_START: f64 = 0.1;
/// Largest time step.
const DT_MAX: f64 = 1.0;
/// Downhill steps before the time step may grow.
const N_MIN: usize = 5;
/// Growth of the time step.
const F_INC: f64 = 1.1;
/// Shrinking of the time step at a restart.
const F_DEC: f64 = 0.5;
/// Starting weight of the force direction in the velocity mixing.
const ALPHA_START: f64 = 0.1;
/// Decay of that weight.
const F_ALPHA: f64 = 0.99;

/// The state of the dynamics between steps.
struct Fire {
    velocity: Vec<f64>,
    dt: f64,
    alpha: f64,
    downhill: usize,
}

impl Fire {
    /// Zeroes the velocity, resets the mixing and halves the time step.
    fn restart(&mut self) {
        self.velocity.fill(0.0);
        self.alpha = ALPHA_START;
        self.dt *= F_DEC;
        self.downhill = 0;
    }

    /// Steers the velocity toward the force −`gradient` and lets the step grow.
    fn mix(&mut self, gradient: &[f64]) {
        let speed = dot(&self.velocity, &self.velocity).sqrt();
        let force = dot(gradient, gradient).sqrt();
        if force > 0.0 {
            let a = self.alpha;
            for (v, g) in self.velocity.iter_mut().zip(gradient) {
                *v = (1.0 - a) * *v - a * speed * g / force;
            }
        }
        if self.downhill > N_MIN {
            self.dt = (self.dt * F_INC).min(DT_MAX);
            self.alpha *= F_ALPHA;
        }
        self.downhill += 1;
    }

    /// The move of one step: accelerate by the force, capped at `max_step` per atom.
    fn step(&mut self, gradient: &[f64], objective: &Objective, max_step: f64) -> Vec<f64> {
        axpy(-self.dt, gradient, &mut self.velocity);
        let mut dq: Vec<f64> = self.velocity.iter().map(|v| self.dt * v).collect();
        let longest = objective.max_move(&dq);
        if longest > max_step {
            dq.iter_mut().for_each(|d| *d *= max_step / longest);
        }
        dq
    }
}

/// Runs FIRE from `q` until converged or out of iterations.
pub(super) fn run(
    objective: &mut Objective,
    mut q: Vec<f64>,
    progress: &mut Progress,
) -> Result<Outcome, MinimizeError> {
    let settings = *progress.settings;
    let mut current = objective.evaluate(&q, 0)?;
    let mut fire = Fire {
        velocity: vec![0.0; q.len()],
        dt: DT_START,
        alpha: ALPHA_START,
        downhill: 0,
    };
    let mut previous: Option<(Vec<f64>, Evaluation)> = None;
    let mut iteration = 0;
    loop {
        let mut restart = false;
        if let Some((q_last, last)) = previous.take() {
            if current.enthalpy > last.enthalpy + noise_floor(last.enthalpy) {
                (q, current) = (q_last, last);
                restart = true;
            } else {
                restart = dot(&current.gradient, &fire.velocity) >= 0.0;
            }
        }
        let converged = progress.report(iteration, &current, restart)?;
        if converged || iteration >= settings.max_iterations {
            return Ok(Outcome {
                q,
                evaluation: current,
                iterations: iteration,
                converged,
            });
        }
        if restart {
            fire.restart();
        } else if iteration > 0 {
            fire.mix(&current.gradient);
        }
        let dq = fire.step(&current.gradient, objective, settings.max_step);
        let mut next = q.clone();
        axpy(1.0, &dq, &mut next);
        iteration += 1;
        let trial = objective.evaluate(&next, iteration)?;
        previous = Some((std::mem::replace(&mut q, next), current));
        current = trial;
    }
}
