#!/usr/bin/env bash
# The HumanEval Best-of-N table of bench/search.sh, searched again with verdicts that match
# plain `python3 solution.py` (README, "Verdicts are plain Python's"). Same settings, seeds,
# verifier and answer cache as bench/search.sh: an answer whose conversation did not change
# comes from the cache, so new generations happen only where a verdict, and with it the
# feedback or the stopping turn, changed. Runs go to bench/runs/remeasured/, beside the old
# ones; every run resumes where it stopped.
set -euo pipefail
export HF_HUB_OFFLINE=1
verifier=${VERIFIER:-bench/runs/relabelled/verifier-minilm-bt}  # bench/relabel.py, then train
cache=bench/runs/humaneval-answers.jsonl
out=bench/runs/remeasured
common=(-b humaneval --limit 0 --turns 3 --max-tokens 768 --cache "$cache")
mkdir -p "$out"
for select in pt rand; do
    mucode search "${common[@]}" --select "$select" -n 5 --temperature 0.7 \
        --out "$out/search-humaneval-$select-n5"
done
mucode search "${common[@]}" --select pt -n 1 --temperature 0 --out "$out/search-humaneval-greedy-n1"
for select in pt+lv lv; do  # the verifier's weights are not committed: bench/verifier.sh
    mucode search "${common[@]}" --select "$select" -n 5 --temperature 0.7 \
        --verifier "$verifier" --out "$out/search-humaneval-${select/+/-}-n5"
done
mucode report "$out"/search-humaneval-*/ --out "$out/report-humaneval"
