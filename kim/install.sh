#!/usr/bin/env bash
# Builds eqmd's KIM model driver and installs it, with one KIM portable model per shipped
# network (eqmd_cu_emt, eqmd_rmd17_ethanol, eqmd_rmd17_aspirin), or with the one model
# given by --model FILE --name NAME. Installing again replaces what is installed.
# Items go to the collection the KIM environment variables name
# (KIM_API_MODEL_DRIVERS_DIR, KIM_API_PORTABLE_MODELS_DIR) if set, else the user's (as
# KIM_API_CONFIGURATION_FILE, or KIM's default configuration, says); an item of the same
# name in another collection is replaced (kim-api-collections-management install --force).
# Needs: cargo, cmake, a C/C++ compiler, libkim-api-dev (Debian: apt-get install
# libkim-api-dev cmake g++). Builds under CARGO_TARGET_DIR if set, else target/.
set -euo pipefail

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    echo "usage: kim/install.sh [--model FILE.h5 --name NAME]"
}

root=$(cd "$(dirname "$0")/.." && pwd)
model="" name=""
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model=$(realpath "${2:?--model needs a file}"); shift 2 ;;
        --name) name="${2:?--name needs a name}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "kim/install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
if [ -n "$model" ] && [ -z "$name" ] || [ -z "$model" ] && [ -n "$name" ]; then
    echo "kim/install.sh: --model and --name go together" >&2
    exit 2
fi
if [ -n "$name" ] && ! [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    echo "kim/install.sh: a KIM item name is letters, digits and _ (not starting with a digit): '$name'" >&2
    exit 2
fi
if [ -n "$model" ] && [ ! -f "$model" ]; then
    echo "kim/install.sh: no model file $model" >&2
    exit 2
fi
for tool in cargo cmake kim-api-collections-management pkg-config; do
    command -v "$tool" >/dev/null || { echo "kim/install.sh: $tool not found" >&2; exit 1; }
done

collection=user
if [ -n "${KIM_API_MODEL_DRIVERS_DIR:-}" ] || [ -n "${KIM_API_PORTABLE_MODELS_DIR:-}" ]; then
    collection=environment
fi

# the driver: the Rust archive, and the system libraries rustc says it needs
cd "$root"
log=$(cargo rustc --release -p eqmd-kim --lib --crate-type staticlib \
    -- --print native-static-libs 2>&1) || { echo "$log" >&2; exit 1; }
native=$(printf '%s\n' "$log" | sed -n 's/.*native-static-libs: //p' | tail -n 1)
target="${CARGO_TARGET_DIR:-$root/target}"
stage="$target/kim"
rm -rf "$stage"
mkdir -p "$stage/eqmd_driver"
cp "$root/kim/driver/CMakeLists.txt" "$target/release/libeqmd_kim.a" "$stage/eqmd_driver/"
echo "set(EQMD_NATIVE_LIBS $(pkg-config --libs-only-L hdf5 2>/dev/null) $native)" \
    > "$stage/eqmd_driver/link.cmake"

# the models: (file, KIM name) pairs
if [ -n "$model" ]; then
    pairs=("$model" "$name")
else
    pairs=("$root/potentials/cu-emt.h5" eqmd_cu_emt
           "$root/potentials/rmd17-ethanol.h5" eqmd_rmd17_ethanol
           "$root/potentials/rmd17-aspirin.h5" eqmd_rmd17_aspirin)
fi
items=("$stage/eqmd_driver")
for ((k = 0; k < ${#pairs[@]}; k += 2)); do
    file=${pairs[k]} item=${pairs[k + 1]}
    mkdir -p "$stage/$item"
    cp "$file" "$stage/$item/model.h5"
    sed -e "s|@NAME@|$item|g" -e "s|@FILE@|$(basename "$file")|g" \
        "$root/kim/model/CMakeLists.txt.in" > "$stage/$item/CMakeLists.txt"
    items+=("$stage/$item")
done

for item in "${items[@]}"; do
    echo "installing $(basename "$item") into the $collection collection"
    # --force replaces an item already installed there
    if ! out=$(kim-api-collections-management install --force "$collection" "$item" 2>&1); then
        echo "$out" >&2
        exit 1
    fi
done
