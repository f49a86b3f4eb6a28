"""A rollout run: problems, engine and sandbox started, trajectories appended, summary."""

from __future__ import annotations

from pathlib import Path

from mucode.commands.generation_run import GenerationRun, recorded_limits
from mucode.core.manifest import write_or_check_manifest
from mucode.core.progress import progress_bar
from mucode.generation import make_generator
from mucode.rollout import (
    TRAJECTORIES,
    RolloutConfig,
    RolloutSummary,
    StepStats,
    rollouts_left,
    run_rollouts,
    summarize_rollouts,
)
from mucode.sandbox import open_sandbox
from mucode.sandbox.limits import limits_from_options


class RolloutRun(GenerationRun):
    """Everything that defines a rollout run; stored in its manifest."""

    rollout: RolloutConfig


def run_rollout(config: RolloutRun, out: Path) -> RolloutSummary:
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
        with open_sandbox(config.workers, limits, config.ray) as sandbox:
            per_problem = recorded_limits(problems, sandbox, out)
            with progress_bar(f"rollout {config.benchmark}", stats.rates) as on_progress:
                return run_rollouts(problems, generator, sandbox, config.rollout, out,
                                    on_progress, stats, per_problem)  # fmt: skip
    finally:
        generator.close()
