#!/usr/bin/env bash
# Training throughput side by side with the PyTorch anchor, interleaved in one run: frames
# per second of exact training steps (energy and force loss, batch 5, float64) on revised
# MD17 ethanol at the anchor's reference size (L = 2, 32 channels, 3 layers, ν = 1, parity,
# r_c 5 Å, 8 Bessel functions, radial MLP [64, 64]), for 1 and 2 threads, ROUNDS rounds.
#
#   benches/train_vs_torch.sh TORCH_DIR [ROUNDS]     # default 3 rounds
#
# TORCH_DIR holds the anchor's train_nequip_style.py and its venv (see the anchor's README:
# torch 2.15, e3nn 0.6). eqmd trains 100 frames for EPOCHS epochs (default 4) through
# `eqmd train`; its figure is frames × epochs over the training time the metrics CSV
# records (which also holds 5 validation frames per epoch, so eqmd's figure is a slight
# underestimate). The anchor's is its median step over 20 steps. Environment: EQMD (binary;
# default: build and use target/release/eqmd), EQMD_OLD (a second eqmd binary measured in
# the same rounds, e.g. an older build: the deck keeps to keys every build knows, the model
# section without `correlation`, whose default is 1), EPOCHS. Prints one line per
# measurement and a table of medians.
set -euo pipefail
cd "$(dirname "$0")/.."
torch_dir=${1:?usage: benches/train_vs_torch.sh TORCH_DIR [ROUNDS]}
rounds=${2:-3}
epochs=${EPOCHS:-4}
if [[ -z ${EQMD:-} ]]; then
    cargo build --release --quiet
    EQMD=./target/release/eqmd
fi
data=$(realpath inputs/data/rmd17-ethanol.xyz)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cat >"$out/ref.toml" <<EOF
version = 1
[data]
file = "$data"
train = 100
validation = 5
seed = 1
[model]
lmax = 2
channels = 32
layers = 3
cutoff = 5.0
radial_basis = 8
radial_hidden = [64, 64]
parity = true
seed = 1
[loss]
energy = 1.0
forces = 1000.0
[optimizer]
kind = "adam"
learning_rate = 0.01
batch = 5
epochs = $epochs
seed = 1
[output]
model = "$out/m.h5"
metrics = "$out/m.csv"
checkpoint = "$out/m.ckpt"
EOF

# frames per second of one eqmd training run with $1 threads and binary $2 (the outputs are
# removed rather than replaced with --force, which builds older than that flag refuse)
eqmd_fps() {
    rm -f "$out"/m.h5 "$out"/m.csv "$out"/m.ckpt*
    RAYON_NUM_THREADS=$1 "$2" train "$out/ref.toml" -q >/dev/null
    tail -1 "$out/m.csv" | awk -F, -v n=100 -v e="$epochs" '{ printf "%.1f", n * e / $3 }'
}

# frames per second of the anchor with $1 threads
torch_fps() {
    (cd "$torch_dir" && OMP_NUM_THREADS=$1 venv/bin/python train_nequip_style.py \
        --threads "$1" --batches 20 --warmup 3 --loss-steps 0 --data "$data") |
        awk -F'|' '!found && /NequIP-style e3nn train/ { gsub(/ /, "", $5); print $5; found = 1 }'
}

results="$out/results"
: >"$results"
for round in $(seq "$rounds"); do
    for t in 1 2; do
        f=$(eqmd_fps "$t" "$EQMD")
        echo "round $round, $t threads: eqmd $f frames/s"
        echo "eqmd $t $f" >>"$results"
        if [[ -n ${EQMD_OLD:-} ]]; then
            f=$(eqmd_fps "$t" "$EQMD_OLD")
            echo "round $round, $t threads: eqmd (EQMD_OLD) $f frames/s"
            echo "old $t $f" >>"$results"
        fi
        f=$(torch_fps "$t")
        echo "round $round, $t threads: PyTorch $f frames/s"
        echo "torch $t $f" >>"$results"
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "| threads | eqmd | PyTorch | ratio |${EQMD_OLD:+ eqmd (EQMD_OLD) | new/old |}"
echo "|---|---|---|---|${EQMD_OLD:+---|---|}"
for t in 1 2; do
    e=$(awk -v t="$t" '$1 == "eqmd" && $2 == t { print $3 }' "$results" | median)
    p=$(awk -v t="$t" '$1 == "torch" && $2 == t { print $3 }' "$results" | median)
    line="| $t | $e | $p | $(awk -v a="$e" -v b="$p" 'BEGIN { printf "%.1f×", a / b }') |"
    if [[ -n ${EQMD_OLD:-} ]]; then
        o=$(awk -v t="$t" '$1 == "old" && $2 == t { print $3 }' "$results" | median)
        line="$line $o | $(awk -v a="$e" -v b="$o" 'BEGIN { printf "%.2f×", a / b }') |"
    fi
    echo "$line"
done
