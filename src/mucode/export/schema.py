"""Exported columns: their types, written once as plain nested Python values, and the
adapter record (``RunKind``) each kind of run fills in.

A type is ``"string"``, ``"int64"``, ``"float64"`` or ``"bool"``, a one-item list (a list
of that type) or a dict (a struct). ``features`` turns one into ``datasets`` features and
``type_name`` into the text the dataset cards show. The shapes mirror the records'
``to_dict`` forms, so an exported row reads back with ``from_dict``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Spec = str | list | dict

MESSAGE: Spec = {"role": "string", "content": "string"}
VERDICT: Spec = {"status": "string", "feedback": "string", "duration_s": "float64",
                 "tests_passed": "int64", "tests_total": "int64"}  # fmt: skip
COMPLETION: Spec = {"text": "string", "finish_reason": "string", "prompt_tokens": "int64",
                    "completion_tokens": "int64"}  # fmt: skip
TURN: Spec = {"completion": COMPLETION, "code": "string", "public": VERDICT, "oracle": VERDICT,
              "generate_s": "float64"}  # fmt: skip


def features(spec: Spec, datasets: Any) -> Any:
    """``spec`` as a ``datasets`` feature (``datasets`` is the imported module)."""
    if isinstance(spec, str):
        return datasets.Value(spec)
    if isinstance(spec, list):
        return [features(spec[0], datasets)]
    return {name: features(inner, datasets) for name, inner in spec.items()}


def type_name(spec: Spec) -> str:
    """``spec`` as Arrow-style text: ``list<struct<role: string, content: string>>``."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return f"list<{type_name(spec[0])}>"
    return "struct<" + ", ".join(f"{name}: {type_name(s)}" for name, s in spec.items()) + ">"


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: its name, type and meaning."""

    name: str
    spec: Spec
    doc: str


@dataclass(frozen=True, slots=True)
class RunKind:
    """An adapter: one kind of run's records file, its columns and how to read its rows."""

    name: str  # also the Parquet file's stem
    records_file: str
    made_by: str  # the command that writes such runs
    row_is: str  # what one row stands for
    columns: tuple[Column, ...]
    rows: Callable[[Path], Iterator[dict[str, Any]]]  # records file -> rows with those columns


PROBLEM_COLUMNS = (
    Column("task_id", "string", "problem id, e.g. HumanEval/0 or Mbpp/11"),
    Column("benchmark", "string", "mucode benchmark name, e.g. humaneval, mbpp"),
    Column("split", "string", "benchmark split, e.g. test, train"),
)
OUTCOME_COLUMNS = (
    Column("context_full", "bool", "ended early: the conversation outgrew the context window"),
    Column("infra_error", "bool", "ended early: the sandbox kept failing (left out of accuracies)"),
    Column("n_turns", "int64", "number of turns"),
    Column("solved", "bool", "the last turn's (kept) code passed the hidden tests"),
    Column("solved_public", "bool", "the last turn's (kept) code passed the public tests"),
)
