"""What a search writes: every turn's candidates, their scores, and which one was kept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mucode.core.records import Message, Trajectory, Turn


@dataclass(frozen=True, slots=True)
class SearchTurn:
    """One turn: N candidates (each judged on public and hidden tests), the kept one."""

    candidates: tuple[Turn, ...]
    scores: tuple[float, ...] | None  # verifier scores, when a verifier was used
    selected: int

    @property
    def kept(self) -> Turn:
        """The candidate the search continued with."""
        return self.candidates[self.selected]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"candidates": [c.to_dict() for c in self.candidates],
                "scores": list(self.scores) if self.scores is not None else None,
                "selected": self.selected}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchTurn:
        """Inverse of :meth:`to_dict`."""
        scores = data["scores"]
        return cls(tuple(Turn.from_dict(c) for c in data["candidates"]),
                   tuple(scores) if scores is not None else None, data["selected"])  # fmt: skip


@dataclass(frozen=True, slots=True)
class SearchEpisode:
    """One search on one problem in one repeat."""

    task_id: str
    benchmark: str
    split: str
    repeat: int
    messages: tuple[Message, ...]  # the conversation along the kept candidates
    turns: tuple[SearchTurn, ...]
    context_full: bool = False  # ended early: the conversation outgrew the context window
    infra_error: bool = False  # ended early: the sandbox kept failing; left out of the metrics

    @property
    def key(self) -> str:
        """Identity for resuming: one search per (task, repeat)."""
        return f"{self.task_id}#{self.repeat}"

    def kept_path(self) -> Trajectory:
        """The kept candidates as a trajectory (sample index = repeat)."""
        return Trajectory(self.task_id, self.benchmark, self.split, self.repeat, self.messages,
                          tuple(t.kept for t in self.turns), self.context_full,
                          self.infra_error)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"task_id": self.task_id, "benchmark": self.benchmark, "split": self.split,
                "repeat": self.repeat, "messages": [m.to_dict() for m in self.messages],
                "turns": [t.to_dict() for t in self.turns],
                "context_full": self.context_full, "infra_error": self.infra_error}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchEpisode:
        """Inverse of :meth:`to_dict`."""
        return cls(data["task_id"], data["benchmark"], data["split"], data["repeat"],
                   tuple(Message.from_dict(m) for m in data["messages"]),
                   tuple(SearchTurn.from_dict(t) for t in data["turns"]),
                   data.get("context_full", False), data.get("infra_error", False))  # fmt: skip
