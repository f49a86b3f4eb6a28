"""Body of ``mucode rollout``: options -> configs -> run_rollouts -> summary table."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.table import Table

from mucode.benchmarks import load_problems
from mucode.commands import invalid_options
from mucode.errors import ConfigError
from mucode.generation import make_generator
from mucode.generation.config import (
    GeneratorConfig,
    HFConfig,
    LlamaCppConfig,
    OpenAIConfig,
    VLLMConfig,
)
from mucode.manifest import write_or_check_manifest
from mucode.progress import progress_bar
from mucode.records import Problem
from mucode.rollout import RolloutConfig, RolloutSummary, run_rollouts
from mucode.sandbox import Sandbox
from mucode.sandbox.limits import limits_from_options


class RolloutRun(BaseModel):
    """Everything that defines a rollout run; stored in its manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    benchmark: str
    split: str | None = None
    tasks: tuple[str, ...] | None = None
    limit: int | None = Field(None, ge=1)
    data_dir: Path | None = None
    generator: GeneratorConfig
    rollout: RolloutConfig
    timeout_s: float | None = None
    workers: int | None = None


def generator_config(backend: str, model: str | None, base_url: str | None,
                     engine: dict) -> GeneratorConfig:  # fmt: skip
    """The backend's config from command-line options; options it cannot use are errors."""
    if base_url is not None and backend != "openai":
        raise ConfigError(f"--base-url is for --backend openai, not {backend}")
    if backend == "llamacpp":
        return LlamaCppConfig(model=model, **engine)
    if model is None:
        raise ConfigError(f"--backend {backend} needs --model (a model name or directory)")
    if backend == "openai":
        if base_url is None:
            raise ConfigError("--backend openai needs --base-url URL")
        return OpenAIConfig(base_url=base_url, model=model)
    if backend == "hf":
        return HFConfig(model=model)
    return VLLMConfig(model=model)


def build_run(**options: object) -> RolloutRun:
    """Validate options; errors name the option."""
    try:
        return RolloutRun(**options)
    except ValidationError as e:
        raise invalid_options("rollout", e) from e


def select_problems(benchmark: str, split: str | None, data_dir: Path | None,
                    tasks: tuple[str, ...] | None, limit: int | None) -> list[Problem]:  # fmt: skip
    """The benchmark split's problems, only ``tasks`` if given, the first ``limit`` if set."""
    problems = load_problems(benchmark, split=split, data_dir=data_dir, task_ids=tasks)
    return problems[:limit] if limit is not None else problems


def run(config: RolloutRun, out: Path) -> RolloutSummary:
    """Resolve problems, check the manifest, start engine and sandbox, roll out."""
    problems = select_problems(config.benchmark, config.split, config.data_dir, config.tasks,
                               config.limit)  # fmt: skip
    write_or_check_manifest(out, config.model_dump(mode="json"))
    generator = make_generator(config.generator)
    limits = limits_from_options(timeout_s=config.timeout_s)
    try:
        with (
            Sandbox(workers=config.workers, limits=limits) as sandbox,
            progress_bar(f"rollout {config.benchmark}") as on_progress,
        ):
            return run_rollouts(problems, generator, sandbox, config.rollout, out, on_progress)
    finally:
        generator.close()


def summary_table(summary: RolloutSummary) -> Table:
    """Per-turn accuracy and throughput."""
    table = Table(title=f"rollout: {summary.trajectories} trajectories ({summary.resumed} resumed)")
    table.add_column("turn")
    table.add_column("accuracy (hidden tests)")
    for turn, accuracy in enumerate(summary.solved_by_turn, start=1):
        table.add_row(str(turn), f"{accuracy:.3f}")
    return table


def print_summary(console: Console, summary: RolloutSummary) -> None:
    """Render the summary: the table, then throughput and where the trajectories are."""
    stats = summary.stats
    console.print(summary_table(summary))
    console.print(
        f"generated {stats.tokens} tokens ({summary.tokens_per_s:.1f} tok/s over the run); ran "
        f"{stats.programs} programs in {stats.execute_s:.1f} s; wall {summary.wall_s:.1f} s",
        highlight=False,
    )
    console.print(f"trajectories: {summary.path}", highlight=False)
