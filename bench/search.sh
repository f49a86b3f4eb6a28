#!/usr/bin/env bash
# Multi-turn Best-of-N on HumanEval (164) with the embedded model: N=5, T=3 for rand, pt,
# lv and pt+lv, and greedy N=1, then the report. lv and pt+lv use the BT verifier from
# bench/verifier.sh (trained on MBPP train, as in the paper). The answer cache lets the
# rules share their first-turn candidates (a paired comparison, generated once). Many
# hours on 2 cores; every run resumes where it stopped.
set -euo pipefail
export HF_HUB_OFFLINE=1
verifier=${VERIFIER:-bench/runs/verifier-minilm-bt}
cache=bench/runs/humaneval-answers.jsonl
common=(-b humaneval --limit 0 --turns 3 --max-tokens 768 --cache "$cache")
for select in rand pt lv pt+lv; do
    extra=()
    [[ $select == *lv ]] && extra=(--verifier "$verifier")
    mucode search "${common[@]}" --select "$select" -n 5 --temperature 0.7 "${extra[@]}" \
        --out "bench/runs/search-humaneval-${select/+/-}-n5"
done
mucode search "${common[@]}" --select pt -n 1 --temperature 0 --out bench/runs/search-humaneval-greedy-n1
mucode report bench/runs/search-humaneval-*/ --out bench/runs/report-humaneval
