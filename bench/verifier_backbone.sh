#!/usr/bin/env bash
# Issue 21, item 2: the verifier on the generator's own backbone (the embedded
# Qwen2.5-Coder-0.5B-Instruct, de-quantised once into a transformers copy) against the MiniLM
# rows of bench/verifier.sh, on the same data: trained on the relabelled MBPP-train rollouts,
# evaluated on the same held-out MBPP-validation rollouts (labels from plain-Python verdicts).
# One run per loss (bt first: the MiniLM winner), each into bench/runs/relabelled/verifier-qwen-*.
#
# Settings, fixed before any held-out result was seen: as bench/verifier.sh where they apply
# (2 epochs, batch 16, 384 tokens, no validation split, seed 0); LoRA r=16 on every linear
# layer with the score head trained whole, at learning rate 1e-4 (MiniLM's 5e-5 was for full
# fine-tuning; LoRA's low-rank update usually wants a higher rate); the dtype mucode chooses
# (float32 on this AVX2-only CPU, where bf16 is ~40x slower) and gradient checkpointing (the
# default for a causal LM: without it a batch of 32 sequences needs tens of GB).
#
# Cost, from the README's verifier section (24 s per training sequence on these 2 cores under
# load): about 8 h for bt (38 steps of 32 sequences), 11 h for bce (106 of 16), 19 h for
# bce+bt (144), plus ~25 min to score the 443 held-out codes per verifier. Resumable:
# training checkpoints every 5 steps and a finished run is not trained again; an evaluation
# already written is not repeated. On a machine shared with other CPU-bound work,
# OMP_NUM_THREADS=1 ran steps ~2.7x faster than torch's default 2 threads.
set -euo pipefail
export HF_HUB_OFFLINE=1
train=bench/runs/relabelled/mbpp-train-s4-t2
heldout=bench/runs/relabelled/mbpp-validation-s5-t1
for loss in bt bce bce+bt; do
    out=bench/runs/relabelled/verifier-qwen-${loss/+/-}
    nice -n 5 mucode verifier train --rollouts "$train" --loss "$loss" --base embedded \
        --out "$out" --epochs 2 --max-length 384 --batch-size 16 --lr 1e-4 --lora-r 16 \
        --validation-fraction 0 --save-steps 5 --seed 0
    report=$out/eval-relabelled-mbpp-validation-s5-t1
    if [[ ! -f $report/report.json ]]; then
        nice -n 5 mucode verifier eval --verifier "$out" --rollouts "$heldout" \
            --best-of 1,2,3,4,5 --out "$report" --json
    fi
done
