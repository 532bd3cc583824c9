#!/usr/bin/env bash
# Time per MD step of eqmd's Cu network (potentials/cu-emt.h5) on 4,000 fcc Cu atoms at
# 300 K: `eqmd run` on 1 thread against LAMMPS with the KIM model eqmd_cu_emt at 1 and 2
# MPI ranks (1 thread each), alternating runs so that all see the same machine load.
#
#   benches/kim_vs_eqmd.sh [REPEATS] [STEPS]
#
# Needs lmp, mpirun and the KIM model (kim/install.sh). LAMMPS gives each rank ghost atoms
# out to the influence distance (2 layers × 4.5 Å) plus its skin (here 1 Å, as eqmd's), and
# the network runs on owned and ghost atoms alike: the ratio of ghosts to owned atoms is
# what a layer-by-layer exchange of features between ranks would save (docs/kim.md).
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
steps=${2:-20}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/cu.toml" <<DECK
version = 1
units = "metal"
[system]
lattice = { kind = "fcc", a = 3.61, repeat = [10, 10, 10], species = "Cu" }
temperature = 300.0
seed = 1
[potential]
type = "equivariant"
model = "$PWD/potentials/cu-emt.h5"
[neighbors]
skin = 1.0
[integrator]
timestep = 0.002
steps = $steps
[thermo]
every = $steps
DECK
cat > "$work/in.cu" <<LMP
units metal
boundary p p p
kim init eqmd_cu_emt metal
lattice fcc 3.61
region box block 0 10 0 10 0 10
create_box 1 box
create_atoms 1 box
mass 1 63.546
kim interactions Cu
neighbor 1.0 bin
velocity all create 300.0 1 loop geom
timestep 0.002
fix nve all nve
thermo $steps
run $steps
LMP
per_step() { awk -v n="$steps" '/^Loop time/ {printf "%.1f", 1000 * $4 / n}' "$1"; }
ghosts() { awk '/^Nghost:/ {print $2}' "$1"; }
eq=() ; one=() ; two=()
for r in $(seq "$repeats"); do
    s=$(RAYON_NUM_THREADS=1 RUST_LOG=info ./target/release/eqmd run "$work/cu.toml" --quiet \
        --output-dir "$work" 2>&1 | sed -n 's/.* atoms in \([0-9.]*\) s:.*/\1/p')
    eq+=("$(awk -v s="$s" -v n="$steps" 'BEGIN {printf "%.1f", 1000 * s / n}')")
    for ranks in 1 2; do
        (cd "$work" && EQMD_NUM_THREADS=1 OMP_NUM_THREADS=1 mpirun --allow-run-as-root -np "$ranks" \
            lmp -in in.cu -screen none -nocite -log "lmp$ranks.log" >/dev/null)
    done
    one+=("$(per_step "$work/lmp1.log")") ; two+=("$(per_step "$work/lmp2.log")")
    echo "run $r: ms per step: eqmd ${eq[-1]}, LAMMPS+KIM 1 rank ${one[-1]}, 2 ranks ${two[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m_eq=$(median "${eq[@]}") ; m_one=$(median "${one[@]}") ; m_two=$(median "${two[@]}")
echo "medians, ms per step (4000 atoms): eqmd run $m_eq; LAMMPS+KIM 1 rank $m_one, 2 ranks $m_two"
echo "ghost atoms per rank: 1 rank $(ghosts "$work/lmp1.log"), 2 ranks $(ghosts "$work/lmp2.log") (owned: 4000, 2000)"
awk -v e="$m_eq" -v a="$m_one" -v b="$m_two" 'BEGIN {
    printf "LAMMPS+KIM / eqmd: 1 rank %.2f, 2 ranks %.2f; speed-up 1 → 2 ranks %.2f\n", a / e, b / e, a / b }'
