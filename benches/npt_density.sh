#!/usr/bin/env bash
# Mean number density over the production part of an NPT run, from its thermo CSV's `vol`
# column, with the standard error from block averages (as LAMMPS's in.lj.npt reports it):
#   eqmd run inputs/lj_npt.toml --output-dir out/npt
#   benches/npt_density.sh out/npt/lj_npt.thermo.csv 4000 20000 10   # CSV ATOMS FROM_STEP BLOCKS
set -euo pipefail
csv=${1:?thermo CSV}
atoms=${2:-4000}
from=${3:-20000}
blocks=${4:-10}
awk -F, -v n="$atoms" -v from="$from" -v nb="$blocks" '
NR == 1 { for (i = 1; i <= NF; i++) if ($i == "vol") c = i
          if (!c) { print "error: no vol column" > "/dev/stderr"; exit 1 }; next }
$1 > from && !($1 in seen) { seen[$1] = 1; k++; rho[k] = n / $c }
END {
    per = int(k / nb); if (per < 1) { print "error: too few rows" > "/dev/stderr"; exit 1 }
    for (b = 0; b < nb; b++) { s = 0; for (i = 1; i <= per; i++) s += rho[b * per + i]; m[b] = s / per; t += m[b] }
    mean = t / nb; for (b = 0; b < nb; b++) v += (m[b] - mean)^2
    printf "density %.5f ± %.5f (%d rows after step %d, %d blocks)\n", mean, sqrt(v / (nb - 1) / nb), k, from, nb
}' "$csv"
