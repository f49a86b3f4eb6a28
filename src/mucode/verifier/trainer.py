"""The HF ``Trainer`` pieces: the collator that encodes mixed point/pair batches
(:mod:`mucode.verifier.collator`), and a ``Trainer`` whose loss is the verifier loss.
Everything else (optimiser, schedule, checkpoints, accelerate/DeepSpeed, LoRA through PEFT)
is the stock Trainer."""

from __future__ import annotations

from typing import Any

from transformers import Trainer

from mucode.verifier.losses import verifier_loss
from mucode.verifier.objective import ROW_KEYS


class VerifierTrainer(Trainer):
    """``Trainer`` with the verifier loss (BCE, BT or both, plus a score penalty)."""

    def __init__(self, *args: Any, loss_weights: tuple[float, float], score_penalty: float,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.loss_weights = loss_weights
        self.score_penalty = score_penalty

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Score every sequence once, then combine the point and pair losses."""
        rows = {key: inputs.pop(key) for key in ROW_KEYS}
        outputs = model(**inputs)
        scores = outputs.logits[:, 0].float()
        loss = verifier_loss(scores, **rows, weights=self.loss_weights,
                             score_penalty=self.score_penalty)  # fmt: skip
        return (loss, outputs) if return_outputs else loss
