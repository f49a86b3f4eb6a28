#!/usr/bin/env bash
# Issue 15's benchmark: the `cpu` preset for one iteration on the embedded Qwen2.5-Coder-0.5B,
# starting from the committed MBPP-train rollouts (labels from plain-Python verdicts), and the
# multi-turn RFT baseline (Multi-STaR) trained on the same rollouts. Both evaluate on the same
# held-out MBPP-test and HumanEval subsets (greedy multi-turn and pt+lv Best-of-N, N=5, T=3)
# with the same verifier; the base model is evaluated once, in the first run. Hours on 2
# cores; each run resumes where it stopped. Results: bench/runs/train-cpu*/metrics.json and
# stages.json (seconds per stage); compare with bench/search_check.py --paired.
set -euo pipefail
export HF_HUB_OFFLINE=1
data_dir=${MUCODE_DATA_DIR:-../shared/data}
start=(--set 'initial_rollouts=[bench/runs/relabelled/mbpp-train-s4-t2]' --data-dir "$data_dir")
mucode train --preset cpu "${start[@]}" --out bench/runs/train-cpu
mucode train --preset cpu "${start[@]}" --set relabel.method=multi-star --set evaluation.base=false \
    --out bench/runs/train-cpu-multi-star
