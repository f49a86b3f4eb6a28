"""Rollout directories with chosen codes and oracle labels, written as `mucode rollout` does."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mucode.core.jsonl import write_jsonl
from mucode.core.records import Completion, Message, Status, Trajectory, Turn, Verdict
from mucode.rollout import TRAJECTORIES

TurnSpec = tuple[str, Status] | tuple[str, Status, Status]  # code, oracle[, public] status


def verdict(status: Status) -> Verdict:
    return Verdict(status, "" if status is Status.PASSED else "AssertionError", 0.01)


def trajectory(task_id: str, sample: int, turns: Sequence[TurnSpec], benchmark: str = "mbpp",
               prompt: str | None = None) -> Trajectory:  # fmt: skip
    """One episode whose turns have the given codes and oracle statuses; a turn's public
    status is its oracle's unless given third (a code that passes only the public tests).
    The prompt is ``Solve <task_id>.`` unless given."""
    records = tuple(
        Turn(Completion(f"```python\n{code}\n```", "stop"), code,
             verdict(public[0] if public else oracle), verdict(oracle))
        for code, oracle, *public in turns
    )  # fmt: skip
    messages = (Message("user", prompt or f"Solve {task_id}."),)
    return Trajectory(task_id, benchmark, "train", sample, messages, records)


def write_rollout(run_dir: Path, trajectories: Sequence[Trajectory]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / TRAJECTORIES, [t.to_dict() for t in trajectories])
    return run_dir


PASS, FAIL = Status.PASSED, Status.FAILED
