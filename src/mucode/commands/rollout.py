"""Body of ``mucode rollout``: options -> config (run by ``mucode.runs.rollout``) -> table."""

from __future__ import annotations

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from mucode.commands import context_full_warning, infra_error_warning, invalid_options
from mucode.core.terminal import fitted_table
from mucode.rollout import RolloutSummary
from mucode.runs.rollout import RolloutRun


def build_run(**options: object) -> RolloutRun:
    """Validate options; errors name the option."""
    try:
        return RolloutRun(**options)
    except ValidationError as e:
        raise invalid_options("rollout", e) from e


def summary_table(summary: RolloutSummary) -> Table:
    """Per-turn accuracy and throughput."""
    title = f"rollout: {summary.trajectories} trajectories ({summary.resumed} resumed)"
    table = fitted_table(title)
    table.add_column("turn")
    table.add_column("accuracy (hidden tests)")
    for turn, accuracy in enumerate(summary.solved_by_turn, start=1):
        table.add_row(str(turn), f"{accuracy:.3f}")
    return table


def print_summary(console: Console, summary: RolloutSummary) -> None:
    """Render the summary: the table, then throughput and where the trajectories are."""
    stats = summary.stats
    console.print(summary_table(summary))
    if summary.resumed == summary.trajectories:
        console.print(f"nothing left to run: {summary.path.parent} was complete", highlight=False,
                      soft_wrap=True)  # fmt: skip
    else:
        console.print(
            f"generated {stats.tokens} tokens ({summary.tokens_per_s:.1f} tok/s over the run); "
            f"ran {stats.programs} programs in {stats.execute_s:.1f} s; "
            f"wall {summary.wall_s:.1f} s",
            highlight=False,
        )
    if summary.context_full:
        console.print(context_full_warning(summary.context_full, "episode(s)"))
    if summary.infra_error:
        console.print(infra_error_warning(summary.infra_error, "episode(s)"))
    console.print(f"trajectories: {summary.path}", highlight=False, soft_wrap=True)
