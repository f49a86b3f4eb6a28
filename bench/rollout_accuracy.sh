#!/usr/bin/env bash
# Greedy multi-turn accuracy of the embedded model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M,
# llama.cpp on the CPU): pass@1 at turn 1 and after 3 turns, with wall time and tok/s.
# Hours on 2 cores. Each run resumes where it stopped if interrupted.
set -euo pipefail
data_dir=${MUCODE_DATA_DIR:-../shared/data}
mucode rollout -b humaneval --limit 0 --turns 3 --out bench/runs/humaneval-greedy-t3
mucode rollout -b mbpp --split test --limit 0 --turns 3 --data-dir "$data_dir" \
    --out bench/runs/mbpp-greedy-t3
