"""Body of ``mucode evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.table import Table

from mucode.commands import invalid_options
from mucode.core.errors import ConfigError
from mucode.core.progress import progress_bar
from mucode.core.terminal import fitted_table
from mucode.evaluation.evaluate import (
    EvaluationConfig,
    EvaluationSummary,
    evaluate_reference,
    evaluate_samples,
)
from mucode.sandbox.limits import limits_from_options

REFERENCE = "reference"
DEFAULT_REFERENCE_DIR = Path("runs") / "reference"


def evaluation_config(
    *, timeout_s: float | None, memory_mb: int | None, **options: object
) -> EvaluationConfig:
    """Validate command-line options into a config; bad values become a ``ConfigError``."""
    try:
        limits = limits_from_options(timeout_s=timeout_s, memory_mb=memory_mb)
        return EvaluationConfig(**options, limits=limits)
    except ValidationError as e:
        raise invalid_options("evaluate", e) from e


def one_source(samples_file: Path | None, samples: str | None) -> str:
    """The samples to judge: the argument's file or ``--samples``, never both or neither."""
    if samples_file is not None and samples is not None:
        raise ConfigError("give the samples either as an argument or with --samples, not both")
    if samples_file is not None:
        return str(samples_file)
    if samples is None:
        raise ConfigError("no samples: pass SAMPLES.jsonl, or --samples reference")
    return samples


def run_evaluate(source: str, config: EvaluationConfig, out: Path | None) -> EvaluationSummary:
    """Evaluate a samples file, or the reference solutions when ``source == 'reference'``."""
    with progress_bar(f"evaluating {config.benchmark}") as on_progress:
        if source == REFERENCE:
            suffix = config.results_format.suffix
            name = f"{config.benchmark}-{config.split or 'default'}{suffix}"
            output = out or DEFAULT_REFERENCE_DIR / name
            output.parent.mkdir(parents=True, exist_ok=True)
            return evaluate_reference(config, output, on_progress=on_progress)
        return evaluate_samples(Path(source), config, output=out, on_progress=on_progress)


def summary_title(summary: EvaluationSummary) -> str:
    """``benchmark / split``, plus how much of the split the samples cover when partial."""
    title = f"{summary.benchmark} / {summary.split}"
    if summary.partial:
        title += f" (partial: {_coverage(summary)})"
    return title


def summary_table(summary: dict[str, Any], title: str) -> Table:
    """The summary's scores and counts, one per row, the status counts on one."""
    table = fitted_table(title)
    table.add_column("metric")
    table.add_column("value", overflow="fold")
    for key, value in summary.items():
        if key not in ("benchmark", "split", "status_counts"):
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    counts = summary["status_counts"]
    table.add_row("statuses", ", ".join(f"{status}={n}" for status, n in counts.items()))
    return table


def partial_refusal(summary: EvaluationSummary) -> str:
    """Why no pass@k is printed for a partial samples file, and how to get it anyway."""
    return (
        f"samples cover {_coverage(summary)} of {summary.benchmark}/{summary.split}; pass@k "
        "over a part of a split is not comparable to published numbers: re-run with "
        f"--partial to print it (results: {summary.results_path})"
    )


def _coverage(summary: EvaluationSummary) -> str:
    sampled = summary.n_tasks_in_split - summary.n_tasks_without_samples
    return f"{sampled} of {summary.n_tasks_in_split} problems"
