//! The infrared absorption from a run's dipole series (`eqmd analyze ir`): the Fourier
//! transform of the autocorrelation of dμ/dt, windowed, as a function of wavenumber.
//!
//! With the harmonic quantum correction factor βħω / (1 − e^{−βħω}) applied to the
//! classical dipole autocorrelation, the absorption coefficient times the refractive index
//! is α(ω) n(ω) = π β / (3 c V ε₀) · ∫ ⟨μ̇(0)·μ̇(t)⟩ e^{−iωt} dt: the transform of the
//! derivative's autocorrelation with no further factor of ω. That transform is what is
//! computed here, normalised to a largest value of 1 (β, V and the constants only scale
//! it). dμ/dt comes from central differences of the series, the autocorrelation is averaged
//! over time origins up to a largest lag, and a Hann window takes it smoothly to zero there.

use glam::DVec3;

/// Speed of light in cm/ps: a frequency in 1/ps over it is a wavenumber in 1/cm.
const C_CM_PER_PS: f64 = 2.997_924_58e-2;

/// A spectrum on a uniform grid of wavenumbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Spectrum {
    /// Wavenumbers (cm⁻¹), from 0 in steps of 1 / (2 · largest lag · c).
    pub wavenumber: Vec<f64>,
    /// α(ω) n(ω), normalised to a largest value of 1.
    pub intensity: Vec<f64>,
}

/// The IR spectrum of the dipole series `dipoles` at `times` (ps, uniformly spaced), with
/// autocorrelation lags up to `max_lag` (ps; at most half the series).
pub fn ir_spectrum(times: &[f64], dipoles: &[DVec3], max_lag: f64) -> Result<Spectrum, String> {
    let dt = check_times(times, dipoles.len())?;
    check_lag(max_lag, dt)?;
    if let Some(k) = dipoles.iter().position(|m| !m.is_finite()) {
        return Err(format!("the dipole of frame {} is not finite", k + 1));
    }
    let rate: Vec<DVec3> = dipoles
        .windows(3)
        .map(|w| (w[2] - w[0]) / (2.0 * dt))
        .collect();
    Ok(spectrum_of(&[(1.0, rate)], dt, max_lag))
}

/// The vibrational density of states of a run: the transform of the mass-weighted velocity
/// autocorrelation Σ_i m_i ⟨v_i(0)·v_i(t)⟩, with the window of [`ir_spectrum`] and
/// normalised the same way. Every normal mode shows in it, IR-active or not, so each IR
/// peak of the same run sits on a peak of it. `velocities[k][i]` is atom i at `times[k]`.
pub fn vdos(
    times: &[f64],
    velocities: &[Vec<DVec3>],
    masses: &[f64],
    max_lag: f64,
) -> Result<Spectrum, String> {
    let dt = check_times(times, velocities.len())?;
    check_lag(max_lag, dt)?;
    if let Some(k) = velocities.iter().position(|v| v.len() != masses.len()) {
        return Err(format!(
            "frame {} has {} velocities for {} atoms",
            k + 1,
            velocities[k].len(),
            masses.len()
        ));
    }
    if let Some(k) = velocities
        .iter()
        .position(|v| !v.iter().all(|x| x.is_finite()))
    {
        return Err(format!("a velocity of frame {} is not finite", k + 1));
    }
    let channels: Vec<(f64, Vec<DVec3>)> = (masses.iter().enumerate())
        .map(|(i, &m)| (m, velocities.iter().map(|v| v[i]).collect()))
        .collect();
    Ok(spectrum_of(&channels, dt, max_lag))
}

/// A largest lag that spans at least two samples `dt` apart: a spectrum needs them.
fn check_lag(max_lag: f64, dt: f64) -> Result<(), String> {
    if !(max_lag.is_finite() && max_lag >= 2.0 * dt) {
        return Err(format!(
            "--max-lag {max_lag}: must be a time of at least two samples ({} ps)",
            2.0 * dt
        ));
    }
    Ok(())
}

/// The spacing of `times` (ps), checked: as many as `frames`, at least 8, evenly spaced.
fn check_times(times: &[f64], frames: usize) -> Result<f64, String> {
    if times.len() != frames {
        return Err("the times and the frames differ in length".into());
    }
    if times.len() < 8 {
        return Err(format!(
            "{} frames are too few for a spectrum (at least 8)",
            times.len()
        ));
    }
    let dt = times[1] - times[0];
    let uniform = times
        .windows(2)
        .all(|w| ((w[1] - w[0]) - dt).abs() <= 1e-6 * dt.abs());
    if !(dt > 0.0 && uniform) {
        return Err("the frames are not evenly spaced in time".into());
    }
    Ok(dt)
}

/// The windowed cosine transform of Σ_c w_c ⟨x_c(0)·x_c(t)⟩ over the series `channels`
/// (weight, values every `dt` ps), lags up to `max_lag` (at most half the series),
/// normalised to a largest value of 1.
fn spectrum_of(channels: &[(f64, Vec<DVec3>)], dt: f64, max_lag: f64) -> Spectrum {
    let n = channels.first().map_or(0, |c| c.1.len());
    let lags = ((max_lag / dt).round() as usize).clamp(2, n / 2);
    let acf: Vec<f64> = (0..lags)
        .map(|k| {
            let pairs = n - k;
            let sum: f64 = (channels.iter())
                .map(|(w, x)| w * (0..pairs).map(|i| x[i].dot(x[i + k])).sum::<f64>())
                .sum();
            sum / pairs as f64
        })
        .collect();
    // Hann window over the lags, one at lag 0, zero at the largest
    let windowed: Vec<f64> = acf
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let x = std::f64::consts::FRAC_PI_2 * k as f64 / lags as f64;
            c * x.cos().powi(2)
        })
        .collect();
    // the even extension's transform on frequencies j / (2 · lags · dt)
    let span = 2.0 * lags as f64 * dt;
    let mut intensity: Vec<f64> = (0..=lags)
        .map(|j| {
            let w = 2.0 * std::f64::consts::PI * j as f64 / span;
            let tail: f64 = (1..lags)
                .map(|k| windowed[k] * (w * k as f64 * dt).cos())
                .sum();
            dt * (windowed[0] + 2.0 * tail)
        })
        .collect();
    let top = intensity.iter().cloned().fold(0.0, f64::max);
    if top > 0.0 {
        for x in &mut intensity {
            *x /= top;
        }
    }
    let wavenumber = (0..=lags).map(|j| j as f64 / span / C_CM_PER_PS).collect();
    Spectrum {
        wavenumber,
        intensity,
    }
}

/// The wavenumbers of the local maxima of `s` above `threshold` (of the largest value).
pub fn peaks(s: &Spectrum, threshold: f64) -> Vec<f64> {
    let y = &s.intensity;
    (1..y.len().saturating_sub(1))
        .filter(|&j| y[j] > threshold && y[j] > y[j - 1] && y[j] >= y[j + 1])
        .map(|j| s.wavenumber[j])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lag_shorter_than_two_samples_is_refused() {
        let times: Vec<f64> = (0..16).map(|i| i as f64 * 0.001).collect();
        let dipoles: Vec<DVec3> = (0..16).map(|i| DVec3::X * (i as f64).sin()).collect();
        for lag in [f64::NAN, 0.0, 1e-300, -1.0, f64::INFINITY, 0.0015] {
            let e = ir_spectrum(&times, &dipoles, lag).unwrap_err();
            assert!(e.contains("--max-lag"), "{lag}: {e}");
        }
        assert!(ir_spectrum(&times, &dipoles, 0.004).is_ok());
        let v = vec![vec![DVec3::X]; 16];
        assert!(vdos(&times, &v, &[1.0], f64::NAN).is_err());
    }

    /// Two oscillating charges: the peaks land at their frequencies.
    #[test]
    fn harmonic_dipoles_peak_at_their_wavenumbers() {
        let (dt, n) = (0.0005, 40_000);
        let (k1, k2) = (1650.0, 3000.0); // cm⁻¹
        let w = |k: f64| 2.0 * std::f64::consts::PI * k * C_CM_PER_PS;
        let times: Vec<f64> = (0..n).map(|i| i as f64 * dt).collect();
        let dipoles: Vec<DVec3> = times
            .iter()
            .map(|&t| DVec3::new(0.3 * (w(k1) * t).cos(), 0.1 * (w(k2) * t + 0.4).sin(), 0.0))
            .collect();
        let s = ir_spectrum(&times, &dipoles, 2.0).unwrap();
        let bin = s.wavenumber[1];
        let p = peaks(&s, 0.05);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            (p[0] - k1).abs() <= bin && (p[1] - k2).abs() <= bin,
            "{p:?}, bin {bin}"
        );
        assert!(ir_spectrum(&times[..5], &dipoles[..5], 1.0).is_err());
        let mut uneven = times.clone();
        uneven[7] += 0.1 * dt;
        assert!(ir_spectrum(&uneven, &dipoles, 1.0).is_err());
    }

    /// Two atoms vibrating at their own frequencies: the density of states peaks at both,
    /// weighted by mass.
    #[test]
    fn vibrating_atoms_peak_in_the_density_of_states() {
        let (dt, n) = (0.001, 20_000);
        let (k1, k2) = (800.0, 2900.0); // cm⁻¹
        let w = |k: f64| 2.0 * std::f64::consts::PI * k * C_CM_PER_PS;
        let times: Vec<f64> = (0..n).map(|i| i as f64 * dt).collect();
        let velocities: Vec<Vec<DVec3>> = times
            .iter()
            .map(|&t| {
                vec![
                    DVec3::new(0.0, (w(k1) * t).cos(), 0.0),
                    DVec3::new(0.0, 0.0, (w(k2) * t + 1.0).sin()),
                ]
            })
            .collect();
        let s = vdos(&times, &velocities, &[12.0, 1.0], 1.0).unwrap();
        let bin = s.wavenumber[1];
        let p = peaks(&s, 0.02);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            (p[0] - k1).abs() <= bin && (p[1] - k2).abs() <= bin,
            "{p:?}"
        );
        // the heavier atom's mode is twelve times as strong
        let at = |k: f64| s.intensity[(k / bin).round() as usize];
        assert!(
            (at(k1) / at(k2) - 12.0).abs() < 0.6,
            "{} {}",
            at(k1),
            at(k2)
        );
        assert!(vdos(&times, &velocities, &[1.0], 1.0).is_err());
    }
}
