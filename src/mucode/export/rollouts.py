"""Export adapter for ``mucode rollout`` runs: one row per trajectory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mucode.export.schema import MESSAGE, OUTCOME_COLUMNS, PROBLEM_COLUMNS, TURN, Column, RunKind
from mucode.rollout import TRAJECTORIES, read_trajectories


def rows(path: Path) -> Iterator[dict[str, Any]]:
    """Each trajectory's record, plus its turn count and outcome."""
    for trajectory in read_trajectories(path):
        yield {**trajectory.to_dict(), "n_turns": len(trajectory.turns),
               "solved": trajectory.solved, "solved_public": trajectory.solved_public}  # fmt: skip


KIND = RunKind(
    name="rollouts",
    records_file=TRAJECTORIES,
    made_by="`mucode rollout`",
    row_is="one trajectory: a multi-turn episode on one problem",
    columns=(
        *PROBLEM_COLUMNS,
        Column("sample_index", "int64", "which trajectory of this problem (0, 1, ...)"),
        Column("messages", [MESSAGE], "the whole chat (system, the problem, each answer and "
               "its public-test feedback) in the role/content form TRL's trainers read"),
        Column("turns", [TURN], "each turn: the completion (text, finish_reason, token "
               "counts), the code taken from it, its public and oracle (public + private "
               "tests) verdicts (status, feedback, duration_s, tests_passed, tests_total) "
               "and generate_s"),
        *OUTCOME_COLUMNS,
    ),
    rows=rows,
)  # fmt: skip
