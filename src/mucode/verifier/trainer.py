"""The HF ``Trainer`` pieces: a collator that encodes mixed point/pair batches, and a
``Trainer`` whose loss is the verifier loss. Everything else (optimiser, schedule,
checkpoints, accelerate/DeepSpeed, LoRA through PEFT) is the stock Trainer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import Trainer

from mucode.verifier.data import PairExample, PointExample
from mucode.verifier.losses import verifier_loss
from mucode.verifier.objective import ROW_KEYS


@dataclass
class VerifierCollator:
    """Encodes a batch of point and pair examples as one padded batch of sequences.

    A point is one sequence; a pair is two (chosen, rejected). The ``*_rows`` tensors say
    which sequence is which, so one forward pass scores the whole batch.
    """

    encoder: Callable[[Sequence[str], Sequence[str]], Any]  # see mucode.verifier.inputs

    def __call__(self, examples: Sequence[PointExample | PairExample]) -> dict[str, torch.Tensor]:
        """Tensors for :class:`VerifierTrainer`."""
        prompts: list[str] = []
        codes: list[str] = []
        rows: dict[str, list] = {key: [] for key in ROW_KEYS}
        for example in examples:
            if isinstance(example, PointExample):
                rows["point_rows"].append(len(codes))
                rows["point_labels"].append(example.label)
                prompts.append(example.prompt)
                codes.append(example.code)
            else:
                rows["chosen_rows"].append(len(codes))
                rows["rejected_rows"].append(len(codes) + 1)
                prompts += [example.prompt, example.prompt]
                codes += [example.chosen, example.rejected]
        batch = dict(self.encoder(prompts, codes))
        for key, values in rows.items():
            dtype = torch.float32 if key == "point_labels" else torch.long
            batch[key] = torch.tensor(values, dtype=dtype)
        return batch


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
