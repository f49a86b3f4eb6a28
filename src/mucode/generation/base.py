"""The generator interface and its sampling settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from mucode.core.records import Completion, Message


class SamplingParams(BaseModel):
    """How to sample. Temperature 0 is greedy; ``seed`` makes sampling repeatable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.0, ge=0.0, description="0 = greedy.")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling mass.")
    max_tokens: int = Field(1000, ge=1, description="Longest answer, in tokens.")
    stop: tuple[str, ...] = Field((), description="Strings that end an answer.")
    seed: int = Field(0, description="Base seed; sample i of a request uses seed + i.")


class Generator(Protocol):
    """Anything that answers chat conversations."""

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        n: int,
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Completion]]:
        """``n`` completions for each conversation, in order.

        ``seeds`` gives each conversation its own base seed (sample i uses seed + i), so
        results do not depend on how requests were batched; default: ``sampling.seed``.
        """
        ...

    def close(self) -> None:
        """Release the engine (threads, memory, servers)."""
        ...


Request = tuple[Sequence[Message], int]
"""One (conversation, seed) to answer once."""


def expand_requests(
    conversations: Sequence[Sequence[Message]],
    n: int,
    sampling: SamplingParams,
    seeds: Sequence[int] | None,
) -> list[Request]:
    """One request per (conversation, sample); sample i of conversation c gets seed_c + i."""
    bases = list(seeds) if seeds is not None else [sampling.seed] * len(conversations)
    return [(conv, bases[c] + i) for c, conv in enumerate(conversations) for i in range(n)]


def regroup(answers: Sequence[Completion], n: int) -> list[list[Completion]]:
    """Answers in request order back into ``n`` per conversation."""
    return [list(answers[i : i + n]) for i in range(0, len(answers), n)]
