"""Body of ``mucode rollout``: options -> configs -> run_rollouts -> summary table."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from mucode.commands import context_full_warning, infra_error_warning, invalid_options
from mucode.commands.generation_run import GenerationRun, recorded_limits
from mucode.generation import make_generator
from mucode.manifest import write_or_check_manifest
from mucode.progress import progress_bar
from mucode.rollout import (
    TRAJECTORIES,
    RolloutConfig,
    RolloutSummary,
    StepStats,
    rollouts_left,
    run_rollouts,
    summarize_rollouts,
)
from mucode.sandbox import Sandbox
from mucode.sandbox.limits import limits_from_options
from mucode.terminal import fitted_table


class RolloutRun(GenerationRun):
    """Everything that defines a rollout run; stored in its manifest."""

    rollout: RolloutConfig


def build_run(**options: object) -> RolloutRun:
    """Validate options; errors name the option."""
    try:
        return RolloutRun(**options)
    except ValidationError as e:
        raise invalid_options("rollout", e) from e


def run(config: RolloutRun, out: Path) -> RolloutSummary:
    """Resolve problems, check the manifest, start engine and sandbox, roll out."""
    problems = config.problems()
    left = rollouts_left(problems, config.rollout.samples, out)
    write_or_check_manifest(out, config, work_left=left > 0)
    if not left:  # finished earlier: no engine, no sandbox
        return summarize_rollouts(out / TRAJECTORIES, config.rollout.turns, StepStats(), 0.0)
    generator = make_generator(config.generator)
    limits = limits_from_options(timeout_s=config.timeout_s)
    stats = StepStats()
    try:
        with Sandbox(workers=config.workers, limits=limits) as sandbox:
            per_problem = recorded_limits(problems, sandbox, out)
            with progress_bar(f"rollout {config.benchmark}", stats.rates) as on_progress:
                return run_rollouts(problems, generator, sandbox, config.rollout, out,
                                    on_progress, stats, per_problem)  # fmt: skip
    finally:
        generator.close()


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
