#!/usr/bin/env bash
# The cost of writing trajectories: inputs/lj_melt.toml (32,000 atoms) for STEPS steps
# without trajectories and with H5MD (positions, velocities, forces) and extended XYZ
# every 100 steps, alternating runs; prints the loop times and the relative cost.
#
#   benches/trajectory_cost.sh [REPEATS] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
steps=${2:-1000}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
loop_time() {
    RUST_LOG=info ./target/release/eqmd run inputs/lj_melt.toml --quiet --output-dir "$work" \
        --set "integrator.steps=$steps" "$@" 2>&1 | sed -n 's/.* atoms in \([0-9.]*\) s:.*/\1/p'
}
plain=() ; written=()
for r in $(seq "$repeats"); do
    plain+=("$(loop_time)")
    written+=("$(loop_time --set h5md.file=melt.h5 --set h5md.every=100 \
        --set trajectory.file=melt.xyz --set trajectory.every=100)")
    echo "run $r: without trajectories ${plain[-1]} s, with H5MD + extxyz every 100 steps ${written[-1]} s"
done
minimum() { printf '%s\n' "$@" | sort -g | head -1; }
awk -v a="$(minimum "${plain[@]}")" -v b="$(minimum "${written[@]}")" 'BEGIN {
    printf "fastest runs: %.3f s without, %.3f s with trajectories: cost %+.1f %%\n", a, b, 100*(b-a)/a }'
