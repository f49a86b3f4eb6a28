"""Body of ``mucode evaluate``."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from mucode.commands import invalid_options
from mucode.evaluate import (
    EvaluationConfig,
    EvaluationSummary,
    evaluate_reference,
    evaluate_samples,
)
from mucode.progress import progress_bar
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


def run_evaluate(source: str, config: EvaluationConfig, out: Path | None) -> EvaluationSummary:
    """Evaluate a samples file, or the reference solutions when ``source == 'reference'``."""
    with progress_bar(f"evaluating {config.benchmark}") as on_progress:
        if source == REFERENCE:
            name = f"{config.benchmark}-{config.split or 'default'}_results.jsonl"
            output = out or DEFAULT_REFERENCE_DIR / name
            output.parent.mkdir(parents=True, exist_ok=True)
            return evaluate_reference(config, output, on_progress=on_progress)
        return evaluate_samples(Path(source), config, output=out, on_progress=on_progress)
