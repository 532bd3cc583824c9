#!/usr/bin/env bash
# The shipped rMD17 models' training after stage one, every stage one after the other: joins
# each molecule's metrics CSVs (the anneal, stage two, then stages three on) into one, with
# the epochs and the training minutes counted from the start of stage one (whose own CSV is
# rmd17-*-stage1.csv) and the stage in a column of its own, and draws the validation errors
# of both molecules against training time.
#
#   docs/training/stages.sh [EQMD]     # EQMD: the eqmd binary (default target/release/eqmd)
#
# Writes docs/training/rmd17-{ethanol,aspirin}-stages.csv and docs/training/rmd17-stages.svg.
set -euo pipefail
cd "$(dirname "$0")"
eqmd=${1:-../../target/release/eqmd}
for molecule in ethanol aspirin; do
    files=("rmd17-$molecule-stage1.csv" "rmd17-$molecule-anneal.csv")  # stage one: counted, not written
    for k in $(seq 3 20); do
        [[ -f rmd17-$molecule-stage$k.csv ]] && files+=("rmd17-$molecule-stage$k.csv")
    done
    # columns found by name in each file's header
    awk -F, -v OFS=, '
        FNR == 1 {
            stage += 1
            epochs += last_epoch; seconds += last_seconds
            for (i = 1; i <= NF; i++) at[$i] = i
            if (NR == 1) print "epoch,minutes,stage,val_force_mae_mev_per_angstrom,val_energy_mae_mev_per_atom"
            next
        }
        stage > 1 {
            printf "%d,%.3f,%d,%s,%s\n", epochs + $at["epoch"], (seconds + $at["seconds"]) / 60, stage,
                $at["val_force_mae_mev_per_angstrom"], $at["val_energy_mae_mev_per_atom"]
        }
        {
            last_epoch = $at["epoch"]; last_seconds = $at["seconds"]
        }
    ' "${files[@]}" >"rmd17-$molecule-stages.csv"
done
"$eqmd" plot rmd17-ethanol-stages.csv rmd17-aspirin-stages.csv --x minutes \
    --columns val_force_mae_mev_per_angstrom,val_energy_mae_mev_per_atom --log-y \
    -o rmd17-stages.svg
