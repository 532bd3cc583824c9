//! Tabulated functions interpolated exactly as LAMMPS's `pair_style eam` does (its
//! `interpolate` and `array2spline`): cubic pieces whose slopes come from 5-point finite
//! differences, stored as 7 coefficients per grid point, so results agree to rounding.

/// Where an argument falls on a table's grid.
#[derive(Clone, Copy, Debug)]
pub struct GridPoint {
    cell: usize,
    fraction: f64,
}

/// A function tabulated at x = 0, Δ, 2Δ, … with LAMMPS's cubic interpolation.
#[derive(Clone, Debug)]
pub struct Spline {
    /// Per grid point: [3c₃/Δ, 2c₂/Δ, c₁/Δ, c₃, c₂, c₁, c₀] as LAMMPS orders them.
    coefficients: Vec<[f64; 7]>,
    inverse_delta: f64,
}

impl Spline {
    /// Coefficients for `values` on a grid of spacing `delta` (at least 5 points).
    pub fn new(values: &[f64], delta: f64) -> Spline {
        let n = values.len();
        assert!(n >= 5, "a spline needs at least 5 points");
        let mut s = vec![[0.0; 7]; n];
        for (c, &v) in s.iter_mut().zip(values) {
            c[6] = v;
        }
        s[0][5] = s[1][6] - s[0][6];
        s[1][5] = 0.5 * (s[2][6] - s[0][6]);
        s[n - 2][5] = 0.5 * (s[n - 1][6] - s[n - 3][6]);
        s[n - 1][5] = s[n - 1][6] - s[n - 2][6];
        for m in 2..n - 2 {
            s[m][5] = ((s[m - 2][6] - s[m + 2][6]) + 8.0 * (s[m + 1][6] - s[m - 1][6])) / 12.0;
        }
        for m in 0..n - 1 {
            s[m][4] = 3.0 * (s[m + 1][6] - s[m][6]) - 2.0 * s[m][5] - s[m + 1][5];
            s[m][3] = s[m][5] + s[m + 1][5] - 2.0 * (s[m + 1][6] - s[m][6]);
        }
        s[n - 1][4] = 0.0;
        s[n - 1][3] = 0.0;
        for c in &mut s {
            c[2] = c[5] / delta;
            c[1] = 2.0 * c[4] / delta;
            c[0] = 3.0 * c[3] / delta;
        }
        Spline {
            coefficients: s,
            inverse_delta: 1.0 / delta,
        }
    }

    /// The grid cell (0-based) and the fraction within it, clamped at the table's ends as
    /// LAMMPS clamps them (`m = min(int(x/Δ + 1), n − 1)`, `p = min(p, 1)`, 1-based there).
    /// Tables on the same grid can share one `locate`.
    #[inline(always)]
    pub fn locate(&self, x: f64) -> GridPoint {
        let p = x * self.inverse_delta + 1.0;
        let n = self.coefficients.len();
        let m = (p as usize).clamp(1, n - 1);
        GridPoint {
            cell: m - 1,
            fraction: (p - m as f64).min(1.0),
        }
    }

    /// f at a located point.
    #[inline(always)]
    pub fn value_at(&self, at: GridPoint) -> f64 {
        let c = &self.coefficients[at.cell];
        let p = at.fraction;
        ((c[3] * p + c[4]) * p + c[5]) * p + c[6]
    }

    /// f' at a located point.
    #[inline(always)]
    pub fn derivative_at(&self, at: GridPoint) -> f64 {
        let c = &self.coefficients[at.cell];
        let p = at.fraction;
        (c[0] * p + c[1]) * p + c[2]
    }

    /// f(x).
    #[inline(always)]
    pub fn value(&self, x: f64) -> f64 {
        self.value_at(self.locate(x))
    }

    /// f'(x).
    #[inline(always)]
    pub fn derivative(&self, x: f64) -> f64 {
        self.derivative_at(self.locate(x))
    }

    /// f(x) and f'(x) together.
    #[inline(always)]
    pub fn value_and_derivative(&self, x: f64) -> (f64, f64) {
        let at = self.locate(x);
        (self.value_at(at), self.derivative_at(at))
    }
}

/// Resamples `values` (spacing `from`) onto `n` points of spacing `to` with LAMMPS's
/// 4-point Lagrange formula (`file2array` for funcfl files); the identity, up to rounding,
/// when the grids agree.
pub fn resample(values: &[f64], from: f64, n: usize, to: f64) -> Vec<f64> {
    let len = values.len() as i64;
    let sixth = 1.0 / 6.0;
    (0..n)
        .map(|m| {
            let r = m as f64 * to;
            let mut p = r / from + 1.0;
            let k = (p as i64).min(len - 2).max(2);
            p -= k as f64;
            p = p.min(2.0);
            let c1 = -sixth * p * (p - 1.0) * (p - 2.0);
            let c2 = 0.5 * (p * p - 1.0) * (p - 2.0);
            let c3 = -0.5 * p * (p + 1.0) * (p - 2.0);
            let c4 = sixth * p * (p * p - 1.0);
            // LAMMPS arrays are 1-based: f[k-1], f[k], f[k+1], f[k+2]
            let f = |i: i64| values[(i - 1) as usize];
            c1 * f(k - 1) + c2 * f(k) + c3 * f(k + 1) + c4 * f(k + 2)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_a_cubic_and_its_slope_inside_the_table() {
        let f = |x: f64| 0.5 * x * x * x - x * x + 2.0 * x + 1.0;
        let values: Vec<f64> = (0..50).map(|k| f(k as f64 * 0.1)).collect();
        let s = Spline::new(&values, 0.1);
        for x in [0.73, 1.2, 2.55, 3.9] {
            assert!((s.value(x) - f(x)).abs() < 1e-10);
            let df = 1.5 * x * x - 2.0 * x + 2.0;
            assert!((s.derivative(x) - df).abs() < 1e-8);
        }
        assert_eq!(s.value(0.3), values[3]);
    }

    #[test]
    fn resampling_onto_the_same_grid_reproduces_the_table() {
        // exact up to the rounding of r/Δ, as in LAMMPS
        let values: Vec<f64> = (0..20).map(|k| (k as f64 * 0.37).sin()).collect();
        for (a, b) in resample(&values, 0.1, 20, 0.1).iter().zip(&values) {
            assert!((a - b).abs() < 1e-14, "{a} vs {b}");
        }
    }
}
