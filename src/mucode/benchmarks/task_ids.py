"""Task-id spelling: accept the forms people type, produce the one ``Problem.task_id`` uses."""

from __future__ import annotations

import re

from mucode.benchmarks.registry import HUMANEVAL, get_info
from mucode.core.errors import ConfigError

_PREFIX = {HUMANEVAL: "HumanEval"}  # every other benchmark is of the MBPP family
_MBPP_PREFIX = "Mbpp"
_FORM = re.compile(r"(?:(?P<prefix>[A-Za-z]+)/)?(?P<number>\d+)")


def id_prefix(name: str) -> str:
    """The ``<prefix>`` of task ids ``<prefix>/<n>`` for benchmark ``name``."""
    return _PREFIX.get(get_info(name).name, _MBPP_PREFIX)


def normalize_task_id(name: str, raw: str | int) -> str:
    """Return the canonical task id, e.g. 11, "11", "Mbpp/11" -> "Mbpp/11" for MBPP.

    HumanEval takes 0, "0" and "HumanEval/0". The prefix is matched case-insensitively.
    Whether the task exists is checked by the loaders, not here.
    """
    prefix = id_prefix(name)
    expected = f"expected {prefix}/<n>, <n> or an integer"
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ConfigError(f"task id {raw!r} for {name!r} has type {type(raw).__name__}; {expected}")
    match = _FORM.fullmatch(str(raw).strip())
    if match is None:
        raise ConfigError(f"task id {raw!r} is not a valid {name!r} id; {expected}")
    given = match["prefix"]
    if given is not None and given.lower() != prefix.lower():
        raise ConfigError(f"task id {raw!r} has prefix {given!r}, not {prefix!r}; {expected}")
    return f"{prefix}/{int(match['number'])}"


def task_number(task_id: str) -> int:
    """The integer part of a canonical task id ("Mbpp/11" -> 11)."""
    return int(task_id.rsplit("/", 1)[1])
