"""Fit a verifier's one-logit head on cached backbone features: a linear probe.

The examples are the normal path's (points and/or pairs, batched by the same collator) and
the loss is the same :func:`~mucode.verifier.losses.verifier_loss`; only the head trains.
While training, each feature dimension is divided by its root mean square over the run's
inputs (no labels are used), so Adam moves every weight on one scale and weight decay means
the same in every dimension; the scale is folded back into the weights, so the saved head
reads raw features. The head starts at zero; AdamW, the learning rate decaying linearly to
zero, batches shuffled by a seeded generator. With validation examples, the head of the
epoch with the lowest validation loss is kept (as ``load_best_model_at_end`` does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

import torch
from torch.utils.data import DataLoader

from mucode.verifier.collator import VerifierCollator
from mucode.verifier.losses import verifier_loss
from mucode.verifier.objective import ROW_KEYS

if TYPE_CHECKING:
    from mucode.verifier.train import VerifierTrainConfig


class FeatureRows:
    """Stands in for the text encoder of :class:`VerifierCollator`: each (prompt, code)
    sequence of a batch becomes its row of the feature matrix."""

    def __init__(self, inputs: Sequence[tuple[str, str]]) -> None:
        self.index = {pair: row for row, pair in enumerate(inputs)}

    def __call__(self, prompts: Sequence[str], codes: Sequence[str]) -> dict[str, torch.Tensor]:
        """``{"rows": (S,)}``: one feature row per sequence."""
        rows = [self.index[pair] for pair in zip(prompts, codes, strict=True)]
        return {"rows": torch.tensor(rows, dtype=torch.long)}


@dataclass(frozen=True, slots=True)
class HeadFit:
    """A fitted head on raw features, and how it was fitted."""

    weight: torch.Tensor  # (1, H)
    bias: torch.Tensor | None  # (1,); None for a head without bias (decoders' score)
    steps: int
    train_loss: float  # mean over the steps
    best_epoch: int | None  # None without validation examples


def batch_loss(head: torch.nn.Linear, features: torch.Tensor, batch: dict,
               config: VerifierTrainConfig) -> torch.Tensor:  # fmt: skip
    """The verifier loss of one collated batch, scored from its feature rows."""
    scores = head(features[batch["rows"]])[:, 0]  # (S,) one score per sequence
    return verifier_loss(scores, *(batch[key] for key in ROW_KEYS),
                         weights=(config.bce_weight, config.bt_weight),
                         score_penalty=config.score_penalty)  # fmt: skip


def fit_head(features: torch.Tensor, inputs: Sequence[tuple[str, str]], train: Sequence,
             validation: Sequence, config: VerifierTrainConfig, bias: bool) -> HeadFit:  # fmt: skip
    """Fit a one-logit head (with ``bias`` or not) on ``features`` (N, H), row i being
    ``inputs[i]``, for ``config``'s loss, epochs, batch size, learning rate and weight decay."""
    scale = features.pow(2).mean(0).sqrt().clamp_min(1e-6)  # (H,)
    scaled = features / scale
    head = torch.nn.Linear(features.shape[1], 1, bias=bias)
    for parameter in head.parameters():
        torch.nn.init.zeros_(parameter)
    collate = VerifierCollator(FeatureRows(inputs))
    shuffle = torch.Generator().manual_seed(config.seed)
    loader = DataLoader(list(train), batch_size=config.batch_size, shuffle=True,
                        collate_fn=collate, generator=shuffle)  # fmt: skip
    steps = math.ceil(config.epochs * len(loader))
    optimiser = torch.optim.AdamW(head.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)  # fmt: skip
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - step / steps)
    held_out = collate(validation) if validation else None
    losses: list[float] = []
    best: tuple[float, int | None, dict] = (math.inf, None, {})
    for epoch in range(1, math.ceil(config.epochs) + 1):
        for batch in islice(loader, steps - len(losses)):
            loss = batch_loss(head, scaled, batch, config)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
        if held_out is not None:
            with torch.no_grad():
                loss = batch_loss(head, scaled, held_out, config).item()
            if loss < best[0]:
                best = (loss, epoch, {k: v.clone() for k, v in head.state_dict().items()})
    if best[2]:
        head.load_state_dict(best[2])
    return HeadFit(head.weight.detach() / scale, None if head.bias is None else head.bias.detach(),
                   len(losses), sum(losses) / len(losses), best[1])  # fmt: skip
