"""Batches of point and pair examples as one batch of sequences, with the rows that say which
sequence is which part of which example (no transformers import: the head-only path uses it
on feature rows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from mucode.verifier.data import PairExample, PointExample
from mucode.verifier.objective import ROW_KEYS


@dataclass
class VerifierCollator:
    """Encodes a batch of point and pair examples as one padded batch of sequences.

    A point is one sequence; a pair is two (chosen, rejected). The ``*_rows`` tensors say
    which sequence is which, so one forward pass scores the whole batch.
    """

    encoder: Callable[[Sequence[str], Sequence[str]], Any]  # see mucode.verifier.inputs

    def __call__(self, examples: Sequence[PointExample | PairExample]) -> dict[str, torch.Tensor]:
        """The encoder's tensors plus the ``*_rows`` (what the verifier loss takes)."""
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
