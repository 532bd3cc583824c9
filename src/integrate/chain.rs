//! A Nosé–Hoover chain (Martyna, Klein & Tuckerman 1992) coupled to one kinetic energy,
//! advanced by the Trotter half step (no Suzuki–Yoshida substeps) of Martyna, Tuckerman, Tobias &
//! Klein (1996). The particles' thermostat and the barostat's own thermostat are both one.

/// Positions and velocities of a chain of thermostats with relaxation time `damping`.
#[derive(Clone, Debug)]
pub struct Chain {
    damping: f64,
    positions: Vec<f64>,
    velocities: Vec<f64>,
}

impl Chain {
    /// A chain of `len` ≥ 1 thermostats at rest, with relaxation time `damping`.
    pub fn new(damping: f64, len: usize) -> Chain {
        let len = len.max(1);
        Chain {
            damping,
            positions: vec![0.0; len],
            velocities: vec![0.0; len],
        }
    }

    /// Number of thermostats in the chain.
    pub(super) fn len(&self) -> usize {
        self.velocities.len()
    }

    /// Thermostat masses: Q₀ = dof kT τ², Qₖ = kT τ².
    fn masses(&self, dof: f64, kt: f64) -> Vec<f64> {
        let tau2 = self.damping * self.damping;
        (0..self.velocities.len())
            .map(|k| if k == 0 { dof * kt * tau2 } else { kt * tau2 })
            .collect()
    }

    /// Force on chain element `k` given twice the kinetic energy it thermostats.
    fn force(&self, k: usize, twice_ke: f64, q: &[f64], dof: f64, kt: f64) -> f64 {
        if k == 0 {
            (twice_ke - dof * kt) / q[0]
        } else {
            (q[k - 1] * self.velocities[k - 1].powi(2) - kt) / q[k]
        }
    }

    /// Advances the chain by half of `dt` against the kinetic energy (`twice_ke` = 2 KE)
    /// of `dof` degrees of freedom at temperature `kt` (energy units); returns the factor
    /// the thermostatted velocities are to be scaled by.
    pub fn half_step(&mut self, dt: f64, twice_ke: f64, dof: f64, kt: f64) -> f64 {
        let m = self.velocities.len();
        let q = self.masses(dof, kt);
        let (dt2, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt);
        let mut twice_ke = twice_ke;
        for k in (0..m).rev() {
            self.sweep(k, dt4, dt8, twice_ke, &q, dof, kt);
        }
        let scale = (-dt2 * self.velocities[0]).exp();
        twice_ke *= scale * scale;
        for (x, v) in self.positions.iter_mut().zip(&self.velocities) {
            *x += dt2 * v;
        }
        for k in 0..m {
            self.sweep(k, dt4, dt8, twice_ke, &q, dof, kt);
        }
        scale
    }

    /// One element's quarter-step kick between two eighth-step scalings by the next.
    #[allow(clippy::too_many_arguments)]
    fn sweep(&mut self, k: usize, dt4: f64, dt8: f64, twice_ke: f64, q: &[f64], dof: f64, kt: f64) {
        let m = self.velocities.len();
        if k + 1 < m {
            self.velocities[k] *= (-dt8 * self.velocities[k + 1]).exp();
        }
        self.velocities[k] += dt4 * self.force(k, twice_ke, q, dof, kt);
        if k + 1 < m {
            self.velocities[k] *= (-dt8 * self.velocities[k + 1]).exp();
        }
    }

    /// Σ Qₖ vₖ²/2 + dof kT ξ₀ + kT Σₖ₌₁ ξₖ: the chain's share of the conserved energy.
    pub fn energy(&self, dof: f64, kt: f64) -> f64 {
        let q = self.masses(dof, kt);
        let kinetic: f64 = q
            .iter()
            .zip(&self.velocities)
            .map(|(q, v)| 0.5 * q * v * v)
            .sum();
        let potential: f64 = self
            .positions
            .iter()
            .enumerate()
            .map(|(k, x)| if k == 0 { dof * kt * x } else { kt * x })
            .sum();
        kinetic + potential
    }

    /// Positions then velocities, as words.
    pub fn state(&self) -> Vec<u64> {
        self.positions
            .iter()
            .chain(&self.velocities)
            .map(|x| x.to_bits())
            .collect()
    }

    /// Restores what `state` gave; an error names the word count expected.
    pub fn restore(&mut self, state: &[u64]) -> Result<(), String> {
        let m = self.velocities.len();
        if state.len() != 2 * m {
            return Err(format!(
                "a Nosé–Hoover chain of {m} has {} words, got {}",
                2 * m,
                state.len()
            ));
        }
        for (x, w) in self
            .positions
            .iter_mut()
            .chain(&mut self.velocities)
            .zip(state)
        {
            *x = f64::from_bits(*w);
        }
        Ok(())
    }
}
