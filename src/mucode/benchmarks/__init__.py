"""Benchmarks: MBPP (full, sanitized), an MBPP+ development snapshot and HumanEval as ``Problem``s.

Public API::

    BENCHMARKS                      name -> BenchmarkInfo(name, description, splits, ...)
    load_problems(name, split=None, data_dir=None, task_ids=None) -> list[Problem]
    get_problem(name, task_id, data_dir=None) -> Problem
    normalize_task_id(name, raw) -> str
    format_prompt(problem) -> str   # the turn-1 user message
"""

from mucode.benchmarks.loader import get_problem, load_problems
from mucode.benchmarks.prompt import format_prompt
from mucode.benchmarks.registry import BENCHMARKS, BenchmarkInfo
from mucode.benchmarks.task_ids import normalize_task_id

__all__ = [
    "BENCHMARKS",
    "BenchmarkInfo",
    "format_prompt",
    "get_problem",
    "load_problems",
    "normalize_task_id",
]
