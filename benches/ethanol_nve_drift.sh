#!/usr/bin/env bash
# Energy drift of NVE ethanol with the trained network: runs the two-stage
# inputs/ethanol_500k.toml (Langevin NVT at 500 K, then NVE from exactly that state) on a
# copy of potentials/rmd17-ethanol.h5 taken at the start (the file may be rewritten while a
# training run improves it), and prints the NVE energy drift per ps and per atom from the
# NVE stage's rows of the thermo CSV (step,time,pe,ke,etotal,temp,press).
#
#   benches/ethanol_nve_drift.sh [NVT_PS] [NVE_PS] [OUT_DIR]     # default 20 100 out/ethanol_500k
#   benches/ethanol_nve_drift.sh 2 2                              # a quick check
#
# The drift is the slope of a least-squares line through E_total(t), divided by the
# number of atoms, with its standard error (residuals taken as independent); the
# end-to-end change, the RMS about that line and the largest deviation from the first
# value are printed too. Environment: EQMD (binary; default: build
# and use target/release/eqmd), MODEL (default potentials/rmd17-ethanol.h5),
# RAYON_NUM_THREADS (threads; one is fastest for 9 atoms).
set -euo pipefail
cd "$(dirname "$0")/.."
nvt_ps=${1:-20}
nve_ps=${2:-100}
out=${3:-out/ethanol_500k}
model=${MODEL:-potentials/rmd17-ethanol.h5}
export RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1}
if [[ -z ${EQMD:-} ]]; then
    cargo build --release --quiet
    EQMD=./target/release/eqmd
fi

dt_fs=0.5 # the decks' timestep, passed explicitly so that steps and times agree
steps() { awk -v ps="$1" -v dt="$dt_fs" 'BEGIN { x = ps * 1000 / dt; n = int(x + 0.5)
    if (n < 1 || (x - n)^2 > 1e-12) exit 1; print n }' ||
    { echo "error: $1 ps is not a whole number of $dt_fs fs steps" >&2; exit 1; }; }
nvt_steps=$(steps "$nvt_ps")
nve_steps=$(steps "$nve_ps")

mkdir -p "$out"
out=$(cd "$out" && pwd)
cp "$model" "$out/model.h5"
echo "model: $model (copied to $out/model.h5); NVT $nvt_ps ps ($nvt_steps steps), NVE $nve_ps ps ($nve_steps steps), dt $dt_fs fs, output in $out"
"$EQMD" run inputs/ethanol_500k.toml --quiet --output-dir "$out" \
    --set "potential.model=$out/model.h5" --set "integrator.timestep=$dt_fs fs" \
    --set "stage[0].steps=$nvt_steps" --set "stage[1].steps=$nve_steps"

atoms=$(head -n 1 "$out/ethanol_500k.xyz" | tr -d '[:space:]')
# NVT: mean temperature over its second half (Langevin counts 3N degrees of freedom)
awk -F, -v n="$nvt_steps" 'NR > 1 && $1 >= n / 2 && $1 <= n { t += $6; k++ }
    END { if (k) printf "NVT second half: mean T %.1f K over %d rows\n", t / k, k }' \
    "$out/ethanol_500k.thermo.csv"
awk -F, -v atoms="$atoms" -v n0="$nvt_steps" '
NR == 1 || $1 < n0 { next }
{ n++; t[n] = $2; e[n] = $5; st += $2; se += $5; temp += $6 }
END {
    if (n < 3) { print "error: fewer than 3 thermo rows" > "/dev/stderr"; exit 1 }
    mt = st / n; me = se / n
    for (i = 1; i <= n; i++) { sxx += (t[i] - mt)^2; sxy += (t[i] - mt) * (e[i] - me) }
    slope = sxy / sxx
    for (i = 1; i <= n; i++) {
        r = e[i] - (me + slope * (t[i] - mt)); rms += r * r
        d = e[i] - e[1]; if (d < 0) d = -d; if (d > dev) dev = d
    }
    se = sqrt(rms / (n - 2) / sxx) # standard error of the slope (residuals taken as independent)
    rms = sqrt(rms / n); span = t[n] - t[1]
    printf "NVE: %d atoms, %.3f ps, %d thermo rows, mean T %.1f K, E_total(0) = %.6f eV\n", atoms, span, n, temp / n, e[1]
    printf "NVE drift (least-squares slope): %+.4e ± %.1e eV/ps = %+.4e ± %.1e eV/ps/atom = %+.4f ± %.4f meV/ps/atom\n", slope, se, slope / atoms, se / atoms, 1000 * slope / atoms, 1000 * se / atoms
    printf "NVE end - start: %+.4e eV = %+.4e eV/ps/atom; RMS about the fit %.3e eV; max |E - E0| %.3e eV\n", e[n] - e[1], (e[n] - e[1]) / span / atoms, rms, dev
}' "$out/ethanol_500k.thermo.csv"
