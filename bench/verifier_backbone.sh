#!/usr/bin/env bash
# Issue 21, item 2: the verifier on the generator's own backbone (the embedded
# Qwen2.5-Coder-0.5B-Instruct, de-quantised once into a transformers copy) against the MiniLM
# rows of bench/verifier.sh, on the same data: trained on the relabelled MBPP-train rollouts,
# evaluated on the same held-out MBPP-validation rollouts (labels from plain-Python verdicts).
# Two variants, one run per loss each (bt first: the MiniLM winner):
#
# 1. The probe (--head-only), into bench/runs/relabelled/verifier-qwen-probe-*: the backbone
#    frozen, only the one-logit head trained, on the hidden state at the end-of-turn token
#    (the position the LoRA verifier's head reads). The backbone reads each distinct input
#    once, without gradients, into one feature cache shared by the three losses and their
#    evaluations (bench/runs/relabelled/verifier-qwen-probe-features): 1,678 training codes
#    and 443 held-out ones, each read once, one per forward pass (on this CPU faster than
#    batches, whose padding and attention mask cost more than batching saves). Head settings:
#    mucode's --head-only defaults (20 epochs, lr 1e-2, AdamW weight decay 0.1 on features
#    scaled per dimension), batch 16.
# 2. LoRA, into bench/runs/relabelled/verifier-qwen-*: r=16 on every linear layer with the
#    score head trained whole, at learning rate 1e-4 (MiniLM's 5e-5 was for full
#    fine-tuning; LoRA's low-rank update usually wants a higher rate), 2 epochs, gradient
#    checkpointing (the default for a causal LM: without it a batch of 32 sequences needs
#    tens of GB).
#
# Settings, fixed before any held-out result was seen: as bench/verifier.sh where they apply
# (batch 16, 384 tokens, no validation split, seed 0), and the dtype mucode chooses (float32
# on this AVX2-only CPU, where bf16 is ~40x slower).
#
# Cost on these 2 cores under load (load average 5-7): the probe's feature pass took 5.7-7.9 s
# an input of ~330 tokens, one at a time with OMP_NUM_THREADS=1 (8.1-9.5 s in batches of 5;
# 12.9 s in a batch of 5 on torch's 2 threads), so about 3.5-4.5 h for the 2,121 inputs,
# then seconds per loss. LoRA (24 s per training sequence): about 8 h for bt (38 steps of 32
# sequences), 11 h for bce (106 of 16), 19 h for bce+bt (144), plus ~25 min to score the 443
# held-out codes per verifier. Resumable: the feature cache keeps
# every finished forward pass, LoRA training checkpoints every 5 steps, a finished run is not
# trained again and an evaluation already written is not repeated. On a machine shared with
# other CPU-bound work, OMP_NUM_THREADS=1 ran LoRA steps ~2.7x faster than torch's default 2
# threads.
set -euo pipefail
export HF_HUB_OFFLINE=1
train=bench/runs/relabelled/mbpp-train-s4-t2
heldout=bench/runs/relabelled/mbpp-validation-s5-t1
features=bench/runs/relabelled/verifier-qwen-probe-features
for loss in bt bce bce+bt; do
    out=bench/runs/relabelled/verifier-qwen-probe-${loss/+/-}
    nice -n 5 mucode verifier train --rollouts "$train" --loss "$loss" --base embedded \
        --head-only --features "$features" --feature-batch-size 1 --out "$out" \
        --max-length 384 --batch-size 16 --validation-fraction 0 --seed 0
    report=$out/eval-relabelled-mbpp-validation-s5-t1
    if [[ ! -f $report/report.json ]]; then
        nice -n 5 mucode verifier eval --verifier "$out" --rollouts "$heldout" \
            --features "$features" --batch-size 1 --best-of 1,2,3,4,5 --out "$report" --json
    fi
done
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
