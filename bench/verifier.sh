#!/usr/bin/env bash
# The learned verifier on the CPU: roll the embedded model out on MBPP train (training data)
# and MBPP validation (held-out problems), train all-MiniLM-L6-v2 with each loss, and
# report held-out ROC-AUC, pairwise accuracy and best-of-N selection vs random and oracle.
# About 3 hours on 2 cores; every step resumes where it stopped. LIMIT=N: the first N train
# problems (default 150 of 374, 4 samples each, up to 2 turns); held out: all 90
# validation problems, 5 samples each (best-of-5 needs 5). The training settings were
# fixed before any held-out result was seen: 2 epochs (what the CPU budget allows: about
# 30 minutes for the three losses), 384 tokens (fits 87% of MBPP prompt + code pairs
# whole), attention dropout off (the default; BERT's 0.1 doubles a CPU step).
set -euo pipefail
data_dir=${MUCODE_DATA_DIR:-../shared/data}
limit=${LIMIT:-150}
export HF_HUB_OFFLINE=1
train=bench/runs/mbpp-train-s4-t2
heldout=bench/runs/mbpp-validation-s5-t1
mucode rollout -b mbpp --split train --limit "$limit" --samples 4 --turns 2 --temperature 0.8 \
    --max-tokens 768 --data-dir "$data_dir" --out "$train"
mucode rollout -b mbpp --split validation --limit 0 --samples 5 --turns 1 --temperature 0.8 \
    --max-tokens 768 --data-dir "$data_dir" --out "$heldout"
for loss in bce bt bce+bt; do
    out=bench/runs/verifier-minilm-${loss/+/-}
    mucode verifier train --rollouts "$train" --loss "$loss" --base minilm --out "$out" \
        --epochs 2 --max-length 384 --batch-size 16 --lr 5e-5 --validation-fraction 0 --seed 0
    mucode verifier eval --verifier "$out" --rollouts "$heldout" --best-of 1,2,3,4,5 --json
done
