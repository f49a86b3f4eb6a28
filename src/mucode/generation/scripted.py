"""A generator that answers from a script: deterministic multi-turn tests without a model."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mucode.core.records import Completion, Message
from mucode.generation.base import SamplingParams

Script = Callable[[Sequence[Message], int], str | Completion]
"""``(conversation, sample_index) -> answer``; a ``str`` is a complete (``stop``) answer."""


class ScriptedGenerator:
    """Answers with ``script(conversation, sample_index)``; records every request it saw."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self.requests: list[list[Message]] = []

    @classmethod
    def by_turn(cls, answers: Sequence[str | Completion]) -> ScriptedGenerator:
        """Answer turn t (the t-th assistant message of a conversation) with ``answers[t]``."""

        def script(conversation: Sequence[Message], _sample: int) -> str | Completion:
            turn = sum(m.role == "assistant" for m in conversation)
            return answers[min(turn, len(answers) - 1)]

        return cls(script)

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        n: int,
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Completion]]:
        """``n`` scripted completions for each conversation (sampling settings unused)."""
        out = []
        for conversation in conversations:
            self.requests.append(list(conversation))
            out.append([_as_completion(self._script(conversation, i)) for i in range(n)])
        return out

    def close(self) -> None:
        """Nothing to release."""


def _as_completion(answer: str | Completion) -> Completion:
    if isinstance(answer, Completion):
        return answer
    return Completion(text=answer, finish_reason="stop", completion_tokens=len(answer.split()))
