"""Selection rules for Best-of-N: which of a turn's N candidates is kept.

Each rule ranks candidates by a key and breaks ties uniformly at random with the given
generator, so a search is repeatable from its seed. ``ov`` reads the hidden tests: it is
an upper bound for comparison, never a method.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from enum import Enum

from mucode.core.records import Turn


class Selection(str, Enum):
    """How a turn's candidate is chosen."""

    RAND = "rand"  # uniformly at random
    PT = "pt"  # most public tests passed
    LV = "lv"  # highest learned-verifier score
    PT_LV = "pt+lv"  # most public tests passed, then the highest verifier score
    OV = "ov"  # most hidden (oracle) tests passed: an upper bound only

    @property
    def needs_verifier(self) -> bool:
        """The rule reads verifier scores."""
        return self in (Selection.LV, Selection.PT_LV)

    @property
    def upper_bound(self) -> bool:
        """The rule peeks at hidden tests, so its results are a ceiling, not a method."""
        return self is Selection.OV


Key = Callable[[Turn, float], tuple]
_KEYS: dict[Selection, Key] = {
    Selection.RAND: lambda turn, score: (),
    Selection.PT: lambda turn, score: (turn.public.passed, turn.public.tests_passed),
    Selection.LV: lambda turn, score: (score,),
    Selection.PT_LV: lambda turn, score: (turn.public.passed, turn.public.tests_passed, score),
    Selection.OV: lambda turn, score: (turn.oracle.passed, turn.oracle.tests_passed),
}


def select(rule: Selection, candidates: Sequence[Turn], scores: Sequence[float] | None,
           rng: random.Random) -> int:  # fmt: skip
    """Index of the kept candidate: the best under ``rule``, ties broken by ``rng``."""
    if not candidates:
        raise ValueError("no candidates to select from")
    if rule.needs_verifier and (scores is None or len(scores) != len(candidates)):
        raise ValueError(f"selection {rule.value!r} needs one verifier score per candidate")
    key = _KEYS[rule]
    keys = [key(turn, scores[i] if scores else 0.0) for i, turn in enumerate(candidates)]
    best = max(keys)
    tied = [i for i, k in enumerate(keys) if k == best]
    return tied[rng.randrange(len(tied))]
