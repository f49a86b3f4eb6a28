#!/usr/bin/env bash
# llama.cpp's host prompt cache (--cache-ram) on and off: the same greedy multi-turn
# rollout with each setting, one fresh process each, reporting wall time, generated tokens
# per second and peak memory (max RSS). Usage: bash bench/cache_ram.sh [MiB...]
set -euo pipefail
export HF_HUB_OFFLINE=1 COLUMNS=200
data_dir=${MUCODE_DATA_DIR:-../shared/data}
settings=${*:-8192 0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for mib in $settings; do
    /usr/bin/time -f "max RSS %M KiB" -o "$work/time-$mib" \
        mucode rollout -b mbpp --data-dir "$data_dir" --limit 12 --turns 3 --max-tokens 300 \
        --cache-ram "$mib" --out "$work/run-$mib" > "$work/log-$mib"
    echo "--cache-ram $mib: $(grep -o 'generated.*' "$work/log-$mib" | tr -s ' ') $(cat "$work/time-$mib")"
done
