"""Verifier losses on scalar scores (logits): pointwise BCE, pairwise Bradley–Terry, both.

``bce`` treats sigmoid(score) as P(correct). ``bt`` models P(chosen beats rejected) as
sigmoid(score_chosen - score_rejected). ``bce+bt`` is their weighted sum. An optional
penalty on the mean squared score keeps BT scores, which are only defined up to a
shift, near zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bce_loss(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy of ``sigmoid(scores)`` against 0/1 ``labels``."""
    return F.binary_cross_entropy_with_logits(scores, labels.to(scores.dtype))


def bt_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Mean ``-log sigmoid(chosen - rejected)``."""
    return F.softplus(rejected - chosen).mean()


def verifier_loss(  # noqa: PLR0913 - the loss has this many parts
    scores: torch.Tensor,
    point_rows: torch.Tensor,
    point_labels: torch.Tensor,
    chosen_rows: torch.Tensor,
    rejected_rows: torch.Tensor,
    weights: tuple[float, float] = (1.0, 1.0),
    score_penalty: float = 0.0,
) -> torch.Tensor:
    """``w_bce * BCE + w_bt * BT + score_penalty * mean(score²)`` over one batch.

    ``scores`` holds one score per encoded sequence; the ``*_rows`` index into it. A part
    with no examples in the batch contributes zero.
    """
    w_bce, w_bt = weights
    loss = scores.new_zeros(())
    if point_rows.numel():
        loss = loss + w_bce * bce_loss(scores[point_rows], point_labels)
    if chosen_rows.numel():
        loss = loss + w_bt * bt_loss(scores[chosen_rows], scores[rejected_rows])
    if score_penalty:
        loss = loss + score_penalty * scores.pow(2).mean()
    return loss
