#!/usr/bin/env bash
# Side-by-side timing of eqmd and LAMMPS on LAMMPS's benchmarks (32,000 atoms, 100 steps):
# `lj` (in.lj against inputs/lj_melt.toml) or `eam` (in.eam against inputs/cu_eam.toml),
# alternating runs so that both see the same machine load.
#
#   benches/compare_lammps.sh [lj|eam] [REPEATS] [extra lmp arguments, e.g. -sf opt]
#
# Needs `lmp` (Debian: apt-get install lammps). Prints each run's loop time (LAMMPS's "Loop
# time"; eqmd's time of the step loop, set-up excluded), the medians, and the ratios
# eqmd(1 thread) / LAMMPS(1 process) and eqmd(1 thread) / eqmd(2 threads), for the medians
# and for the fastest runs (the least disturbed by other load on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/.."
case=${1:-lj}
repeats=${2:-5}
shift $(( $# > 2 ? 2 : $# ))
case "$case" in
    lj) lmp_input=benches/lammps/in.lj.bench; deck=inputs/lj_melt.toml; lmp_vars=() ;;
    eam) lmp_input=benches/lammps/in.eam.bench; deck=inputs/cu_eam.toml
         lmp_vars=(-var pot "$PWD/potentials/Cu_u3.eam") ;;
    *) echo "unknown case $case (lj or eam)" >&2; exit 2 ;;
esac
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lmp_times=() ; one=() ; two=()
for r in $(seq "$repeats"); do
    OMP_NUM_THREADS=1 lmp -in "$lmp_input" "${lmp_vars[@]}" "$@" -screen none -nocite \
        -log "$work/lmp.log" >/dev/null
    lmp_times+=("$(awk '/^Loop time/ {print $4}' "$work/lmp.log")")
    for t in 1 2; do
        s=$(RAYON_NUM_THREADS=$t RUST_LOG=info ./target/release/eqmd run "$deck" --quiet \
            --output-dir "$work" 2>&1 | sed -n 's/.* atoms in \([0-9.]*\) s:.*/\1/p')
        if [ "$t" = 1 ]; then one+=("$s"); else two+=("$s"); fi
    done
    echo "run $r: lammps ${lmp_times[-1]} s, eqmd 1 thread ${one[-1]} s, eqmd 2 threads ${two[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
minimum() { printf '%s\n' "$@" | sort -g | head -1; }
report() {
    awk -v what="$1" -v l="$2" -v a="$3" -v b="$4" 'BEGIN {
        printf "%s loop time: LAMMPS %.3f s, eqmd 1 thread %.3f s, eqmd 2 threads %.3f s\n", what, l, a, b
        printf "  us/atom-step: LAMMPS %.4f, eqmd 1 thread %.4f, eqmd 2 threads %.4f\n", 1e6*l/3.2e6, 1e6*a/3.2e6, 1e6*b/3.2e6
        printf "  eqmd(1 thread) / LAMMPS = %.3f ; speed-up on 2 threads = %.2fx\n", a/l, a/b }'
}
report median "$(median "${lmp_times[@]}")" "$(median "${one[@]}")" "$(median "${two[@]}")"
report minimum "$(minimum "${lmp_times[@]}")" "$(minimum "${one[@]}")" "$(minimum "${two[@]}")"
