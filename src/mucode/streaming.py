"""Run independent episodes a few at a time and append each record as it finishes.

Shared by rollouts and search: each task runs in its own thread, so while one waits on
the sandbox the others keep the engine busy. A record reaches disk (flushed) only when its
task ends, so a run killed at any point restarts from what is on disk. A record the
sandbox failed on (``infra_error``: nothing was judged) is not done: a restart runs it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from mucode.core.jsonl import append_jsonl, stream_jsonl, write_jsonl
from mucode.core.records import Problem

logger = logging.getLogger(__name__)


def set_aside_unjudged(path: Path) -> int:
    """Move the records of ``path`` the sandbox failed on (``infra_error``) to
    ``<stem>.infra_error.jsonl`` beside it, so that a resumed run runs them again; their
    number. The other records stay, in order (rewritten atomically)."""
    path = Path(path)
    if not path.exists():
        return 0
    kept: list[dict[str, Any]] = []
    unjudged: list[dict[str, Any]] = []
    for _, record in stream_jsonl(path, appended=True):
        (unjudged if record.get("infra_error") else kept).append(record)
    if unjudged:  # copied first: a kill in between leaves a second copy, never a loss
        aside = path.with_name(f"{path.stem}.infra_error.jsonl")
        append_jsonl(aside, unjudged)
        write_jsonl(path, kept)
        logger.warning("%s: %d records were not judged (the sandbox failed) and run again; "
                       "the old ones are kept in %s", path, len(unjudged), aside.name)  # fmt: skip
    return len(unjudged)


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
