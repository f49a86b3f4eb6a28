"""Run independent episodes a few at a time and append each record as it finishes.

Shared by rollouts and search: each task runs in its own thread, so while one waits on
the sandbox the others keep the engine busy. A record reaches disk (flushed) only when its
task ends, so a run killed at any point restarts from what is on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from mucode.core.jsonl import append_jsonl
from mucode.core.records import Problem


def pending(runs: Iterable[tuple[Problem, int]], done: Iterable[str]) -> list[tuple[Problem, int]]:
    """The (problem, index) runs, in their order, whose key ``"task_id#index"`` is not in
    ``done`` (the keys of the records already on disk)."""
    have = set(done)
    return [(p, i) for p, i in runs if f"{p.task_id}#{i}" not in have]


def stream_to_jsonl(
    tasks: Sequence[Callable[[], dict[str, Any]]],
    path: Path,
    concurrency: int,
    on_progress: Callable[[int, int], None] | None = None,
    already_done: int = 0,
) -> None:
    """Run ``tasks`` with ``concurrency`` threads; append each returned record to ``path``.

    ``on_progress(done, total)`` counts ``already_done`` records from earlier runs. On an
    error the tasks not yet started never start, and the error propagates.
    """
    total, finished = already_done + len(tasks), already_done
    if on_progress is not None:
        on_progress(finished, total)
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        running = [pool.submit(task) for task in tasks]
        for future in as_completed(running):
            append_jsonl(path, [future.result()])
            finished += 1
            if on_progress is not None:
                on_progress(finished, total)
    finally:
        pool.shutdown(cancel_futures=True)
