#!/usr/bin/env bash
# Issue 21, item 2: the verifier on the generator's own backbone (the embedded
# Qwen2.5-Coder-0.5B-Instruct, de-quantised once into a transformers copy) against the MiniLM
# rows of bench/verifier.sh, on the same data: trained on the relabelled MBPP-train rollouts,
# evaluated on the same held-out MBPP-validation rollouts (labels from plain-Python verdicts).
# One run per loss (bt first: the MiniLM winner), in this order:
#
# 1. LoRA on the top 4 of the 24 layers (--lora-layers 4), into
#    bench/runs/relabelled/verifier-qwen-top4-*: the 20 layers below are frozen, and what they
#    hand layer 20 is computed once per input into one state store shared by the three losses
#    and their evaluations (bench/runs/verifier-qwen-states, ~2.5 GB, not committed): 1,678
#    training codes and 443 held-out ones. LoRA r=16 on every linear layer of the top 4, the
#    score head trained whole, learning rate 1e-4 (LoRA's low-rank update usually wants a
#    higher rate than MiniLM's 5e-5 full fine-tuning), 2 epochs, no gradient checkpointing
#    (a 4-sequence step peaked at 4.3 GiB; a bt step's 32 sequences should need some 6 GB
#    more for the 4 layers' activations, and ~2.5 GB hold the stored states).
# 2. The probe (--head-only), into bench/runs/relabelled/verifier-qwen-probe-*: the backbone
#    frozen, only the one-logit head trained, on the hidden state at the end-of-turn token;
#    its own feature pass over the same 2,121 inputs (bench/runs/verifier-qwen-probe-features),
#    mucode's --head-only defaults (20 epochs, lr 1e-2, weight decay 0.1), batch 16.
#
# LoRA on all 24 layers is not run: at 24 s a training sequence here it would take ~40 h.
# Settings, fixed before any held-out result was seen: as bench/verifier.sh where they apply
# (batch 16, 384 tokens, no validation split, seed 0), and the dtype mucode chooses (float32
# on this AVX2-only CPU, where bf16 is ~40x slower).
#
# Cost, measured with bench/verifier_step_cost.py (README, verifier section) on these 2 cores
# beside other CPU-bound jobs (load average 3-5), one torch thread: a state or feature
# pass takes 3.9-7.1 s an input of ~330 tokens (about 2.5-4 h for the 2,121), and a training
# sequence 2.6-3.8 s with --lora-layers 4 (against 23.6-34.9 s for LoRA on all layers):
# about 0.9-1.3 h for bt (1,196 sequences over 2 epochs), 1.2-1.8 h for bce (1,678),
# 2.1-3 h for bce+bt (2,874).
# Resumable: the stores keep every finished forward pass, training checkpoints every 5
# steps, a finished run is not trained again and an evaluation already written is not
# repeated. On a machine shared with other CPU-bound work, OMP_NUM_THREADS=1 ran LoRA steps
# ~2.7x faster than torch's default 2 threads.
set -euo pipefail
export HF_HUB_OFFLINE=1
train=bench/runs/relabelled/mbpp-train-s4-t2
heldout=bench/runs/relabelled/mbpp-validation-s5-t1
states=bench/runs/verifier-qwen-states
features=bench/runs/verifier-qwen-probe-features
for loss in bt bce bce+bt; do
    out=bench/runs/relabelled/verifier-qwen-top4-${loss/+/-}
    mucode verifier train --rollouts "$train" --loss "$loss" --base embedded \
        --lora-layers 4 --no-gradient-checkpointing --features "$states" \
        --feature-batch-size 1 --out "$out" --epochs 2 --max-length 384 --batch-size 16 \
        --lr 1e-4 --lora-r 16 --validation-fraction 0 --save-steps 5 --seed 0
    report=$out/eval-relabelled-mbpp-validation-s5-t1
    if [[ ! -f $report/report.json ]]; then
        mucode verifier eval --verifier "$out" --rollouts "$heldout" --features "$states" \
            --batch-size 1 --best-of 1,2,3,4,5 --out "$report" --json
    fi
done
for loss in bt bce bce+bt; do
    out=bench/runs/relabelled/verifier-qwen-probe-${loss/+/-}
    mucode verifier train --rollouts "$train" --loss "$loss" --base embedded \
        --head-only --features "$features" --feature-batch-size 1 --out "$out" \
        --max-length 384 --batch-size 16 --validation-fraction 0 --seed 0
    report=$out/eval-relabelled-mbpp-validation-s5-t1
    if [[ ! -f $report/report.json ]]; then
        mucode verifier eval --verifier "$out" --rollouts "$heldout" \
            --features "$features" --batch-size 1 --best-of 1,2,3,4,5 --out "$report" --json
    fi
done
