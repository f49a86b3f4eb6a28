"""Export adapter for ``mucode search`` runs: one row per (problem, repeat) search."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mucode.export.schema import MESSAGE, OUTCOME_COLUMNS, PROBLEM_COLUMNS, TURN, Column, RunKind
from mucode.search.run import SEARCHES, read_searches

SEARCH_TURN = {"candidates": [TURN], "scores": ["float64"], "selected": "int64"}


def rows(path: Path) -> Iterator[dict[str, Any]]:
    """Each search's record, plus the turn count and outcome of its kept candidates."""
    for search in read_searches(path):
        kept = search.kept_path()
        yield {**search.to_dict(), "n_turns": len(search.turns), "solved": kept.solved,
               "solved_public": kept.solved_public}  # fmt: skip


KIND = RunKind(
    name="searches",
    records_file=SEARCHES,
    made_by="`mucode search`",
    row_is="one multi-turn Best-of-N search on one problem in one repeat",
    columns=(
        *PROBLEM_COLUMNS,
        Column("repeat", "int64", "which repeat of the search (each with its own seeds)"),
        Column("messages", [MESSAGE], "the chat along the kept candidates, in the "
               "role/content form TRL's trainers read"),
        Column("turns", [SEARCH_TURN], "each turn: its N candidates (each shaped like a "
               "rollout turn), their verifier scores (null without a verifier) and the "
               "index of the kept one (selected)"),
        *OUTCOME_COLUMNS,
    ),
    rows=rows,
)  # fmt: skip
