"""The verifier's training objectives (no heavy imports: the CLI reads this)."""

from __future__ import annotations

from enum import Enum


class LossName(str, Enum):
    """Training objective of a verifier."""

    BCE = "bce"
    BT = "bt"
    BCE_BT = "bce+bt"

    @property
    def uses_points(self) -> bool:
        """Trains on pointwise (code, label) examples."""
        return self in (LossName.BCE, LossName.BCE_BT)

    @property
    def uses_pairs(self) -> bool:
        """Trains on (correct, incorrect) pairs."""
        return self in (LossName.BT, LossName.BCE_BT)


ROW_KEYS = ("point_rows", "point_labels", "chosen_rows", "rejected_rows")
"""Batch tensors that say which encoded sequence is which example part (see the collator)."""
